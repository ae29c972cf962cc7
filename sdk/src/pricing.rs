//! Pricing: discounts, promotions and price lists.
//!
//! A pricing plugin proposes [`Adjustment`]s; the host computes their amounts
//! with a [`Ledger`] (half-even at the line level), rejects impossible ones and
//! applies the rest. Plugins bound in order each see what earlier ones applied
//! in [`PricingInput::previous`].

use serde::{Deserialize, Serialize};

use crate::Plugin;
use crate::money::{Currency, Money};
use crate::types::{CartLine, Customer, PluginError};

/// A pricing plugin.
pub trait Pricing: Plugin {
    /// Proposes adjustments for a cart.
    fn run(config: &Self::Config, input: &PricingInput) -> Result<PricingOutput, PluginError>;
}

/// What an adjustment applies to.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// One cart line, by id.
    Line(String),
    /// The whole order, spread over the lines in proportion to their totals.
    Order,
    /// The shipping amount.
    Shipping,
}

/// How an adjustment changes its target.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentKind {
    /// A percentage off, in parts per million (100 000 = 10 %).
    Percent(u32),
    /// A fixed amount off, in minor units of the cart currency.
    FixedAmount(i64),
    /// A new unit price, in minor units (line targets only).
    FixedUnitPrice(i64),
}

/// One proposed change to a price.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Adjustment {
    /// What it applies to.
    pub target: Target,
    /// How much.
    pub kind: AdjustmentKind,
    /// Shown to the buyer.
    pub label: String,
    /// The discount code this redeems, if any; must be one the buyer entered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Adjustment {
    /// A percentage off one line (`percent` as parts per million).
    pub fn line_percent(line_id: &str, ppm: u32, label: impl Into<String>) -> Adjustment {
        Adjustment {
            target: Target::Line(line_id.to_owned()),
            kind: AdjustmentKind::Percent(ppm),
            label: label.into(),
            code: None,
        }
    }

    /// A fixed amount off one line, in minor units.
    pub fn line_amount(line_id: &str, amount: i64, label: impl Into<String>) -> Adjustment {
        Adjustment {
            target: Target::Line(line_id.to_owned()),
            kind: AdjustmentKind::FixedAmount(amount),
            label: label.into(),
            code: None,
        }
    }

    /// The same adjustment, redeeming `code`.
    pub fn with_code(mut self, code: impl Into<String>) -> Adjustment {
        self.code = Some(code.into());
        self
    }
}

/// An adjustment an earlier plugin made, with the amount the host computed.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct AppliedAdjustment {
    /// The adjustment as proposed.
    pub adjustment: Adjustment,
    /// The discount it gave (positive).
    pub amount: Money,
}

/// What a pricing plugin is given.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PricingInput {
    /// The cart currency.
    pub currency: Currency,
    /// The cart lines.
    pub lines: Vec<CartLine>,
    /// The buyer, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Codes the buyer entered that the host found valid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discount_codes: Vec<String>,
    /// The selected shipping rate, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Money>,
    /// What earlier pricing plugins applied, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous: Vec<AppliedAdjustment>,
}

impl PricingInput {
    /// A cart of `lines` with no customer, codes, shipping or earlier adjustments.
    pub fn new(currency: Currency, lines: Vec<CartLine>) -> PricingInput {
        PricingInput {
            currency,
            lines,
            customer: None,
            discount_codes: Vec::new(),
            shipping: None,
            previous: Vec::new(),
        }
    }

    /// Lines total before any adjustment.
    pub fn subtotal(&self) -> Money {
        Money::new(self.lines.iter().map(|l| l.subtotal().amount).sum(), self.currency)
    }

    /// Whether the buyer entered `code` (case-insensitive).
    pub fn has_code(&self, code: &str) -> Option<&str> {
        self.discount_codes.iter().find(|c| c.eq_ignore_ascii_case(code)).map(String::as_str)
    }
}

/// What a pricing plugin answers.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct PricingOutput {
    /// Proposed adjustments, applied in order.
    #[serde(default)]
    pub adjustments: Vec<Adjustment>,
}

/// Computes what adjustments are worth and keeps the remaining totals.
///
/// Percentages apply to what is left of their target after earlier
/// adjustments; order-level amounts are spread over the lines in proportion
/// to what is left of each, so line totals always re-add to the order total.
#[derive(Clone, Debug)]
pub struct Ledger {
    currency: Currency,
    line_ids: Vec<String>,
    /// Line id -> position, for large carts.
    index: std::collections::BTreeMap<String, usize>,
    quantities: Vec<u32>,
    remaining: Vec<i64>,
    shipping_remaining: Option<i64>,
    applied: Vec<AppliedAdjustment>,
    line_discounts: Vec<i64>,
    shipping_discount: i64,
}

impl Ledger {
    /// A ledger for `lines` (at their unit prices) and an optional shipping amount.
    pub fn new(currency: Currency, lines: &[CartLine], shipping: Option<Money>) -> Ledger {
        Ledger {
            currency,
            line_ids: lines.iter().map(|l| l.id.clone()).collect(),
            index: if lines.len() > 32 {
                lines.iter().enumerate().map(|(i, l)| (l.id.clone(), i)).collect()
            } else {
                Default::default()
            },
            quantities: lines.iter().map(|l| l.quantity).collect(),
            remaining: lines.iter().map(|l| l.subtotal().amount).collect(),
            shipping_remaining: shipping.map(|s| s.amount),
            applied: Vec::new(),
            line_discounts: vec![0; lines.len()],
            shipping_discount: 0,
        }
    }

    /// A ledger of the input's lines and shipping with what earlier plugins
    /// applied (`input.previous`) already replayed.
    pub fn from_input(input: &PricingInput) -> Ledger {
        let mut ledger = Ledger::new(input.currency, &input.lines, input.shipping);
        for prev in &input.previous {
            // Earlier answers were checked when they were made; one that no
            // longer applies (a line since removed) is skipped.
            let _ = ledger.apply(&prev.adjustment, &input.discount_codes);
        }
        ledger
    }

    /// Applies one adjustment, or says why it is impossible (and changes nothing).
    /// `codes` are the discount codes the buyer entered.
    pub fn apply(&mut self, adjustment: &Adjustment, codes: &[String]) -> Result<Money, String> {
        if let Some(code) = &adjustment.code
            && !codes.iter().any(|c| c.eq_ignore_ascii_case(code))
        {
            return Err(format!("redeems code {code:?} that the buyer did not enter"));
        }
        if adjustment.label.trim().is_empty() || adjustment.label.len() > 200 {
            return Err("label must be 1 to 200 characters".into());
        }
        let amount = match &adjustment.target {
            Target::Line(id) => {
                let i = if self.index.is_empty() {
                    self.line_ids.iter().position(|l| l == id)
                } else {
                    self.index.get(id).copied()
                }
                .ok_or_else(|| format!("unknown line id {id:?}"))?;
                let left = self.remaining[i];
                let off = match adjustment.kind {
                    AdjustmentKind::FixedUnitPrice(price) => {
                        if price < 0 {
                            return Err(format!("negative unit price {price}"));
                        }
                        let new_total = price
                            .checked_mul(i64::from(self.quantities[i]))
                            .ok_or("unit price out of range")?;
                        if new_total > left {
                            return Err(format!(
                                "fixed unit price {price} raises line {id:?} above its current total {left}"
                            ));
                        }
                        left - new_total
                    }
                    kind => self.off(kind, left, &format!("line {id:?}"))?,
                };
                self.remaining[i] -= off;
                self.line_discounts[i] += off;
                off
            }
            Target::Order => {
                let left: i64 = self.remaining.iter().sum();
                if let AdjustmentKind::FixedUnitPrice(_) = adjustment.kind {
                    return Err("fixed unit price applies to lines only".into());
                }
                let off = self.off(adjustment.kind, left, "the order")?;
                let parts =
                    Money::new(off, self.currency).allocate(&self.remaining).map_err(|e| e.to_string())?;
                for (i, part) in parts.iter().enumerate() {
                    self.remaining[i] -= part.amount;
                    self.line_discounts[i] += part.amount;
                }
                off
            }
            Target::Shipping => {
                if let AdjustmentKind::FixedUnitPrice(_) = adjustment.kind {
                    return Err("fixed unit price applies to lines only".into());
                }
                let left = self.shipping_remaining.unwrap_or(0);
                let off = self.off(adjustment.kind, left, "shipping")?;
                if let Some(s) = self.shipping_remaining.as_mut() {
                    *s -= off;
                }
                self.shipping_discount += off;
                off
            }
        };
        let amount = Money::new(amount, self.currency);
        self.applied.push(AppliedAdjustment { adjustment: adjustment.clone(), amount });
        Ok(amount)
    }

    /// Applies a plugin's whole answer, or none of it.
    pub fn apply_all(&mut self, adjustments: &[Adjustment], codes: &[String]) -> Result<(), String> {
        let mut next = self.clone();
        for (i, a) in adjustments.iter().enumerate() {
            next.apply(a, codes).map_err(|e| format!("adjustment {i}: {e}"))?;
        }
        *self = next;
        Ok(())
    }

    fn off(&self, kind: AdjustmentKind, left: i64, what: &str) -> Result<i64, String> {
        match kind {
            AdjustmentKind::Percent(ppm) if ppm > 1_000_000 => {
                Err(format!("percent {ppm} ppm is above 100 %"))
            }
            AdjustmentKind::Percent(ppm) => {
                Money::new(left, self.currency).mul_ppm(ppm).map(|m| m.amount).map_err(|e| e.to_string())
            }
            AdjustmentKind::FixedAmount(a) if a < 0 => Err(format!("negative amount {a}")),
            AdjustmentKind::FixedAmount(a) if a > left => {
                Err(format!("discount {a} is larger than {what} ({left})"))
            }
            AdjustmentKind::FixedAmount(a) => Ok(a),
            AdjustmentKind::FixedUnitPrice(_) => Err("fixed unit price applies to lines only".into()),
        }
    }

    /// Adjustments applied so far, in order.
    pub fn applied(&self) -> &[AppliedAdjustment] {
        &self.applied
    }

    /// Discount given to each line so far (same order as the lines).
    pub fn line_discounts(&self) -> &[i64] {
        &self.line_discounts
    }

    /// What is left of each line's total (same order as the lines).
    pub fn line_totals(&self) -> &[i64] {
        &self.remaining
    }

    /// What is left of the shipping amount, if there is one.
    pub fn shipping_total(&self) -> Option<i64> {
        self.shipping_remaining
    }

    /// Discount given on shipping so far.
    pub fn shipping_discount(&self) -> i64 {
        self.shipping_discount
    }

    /// Total discount so far, lines and shipping.
    pub fn discount_total(&self) -> Money {
        Money::new(self.line_discounts.iter().sum::<i64>() + self.shipping_discount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, qty: u32, price: i64) -> CartLine {
        CartLine {
            id: id.into(),
            product_id: format!("p-{id}"),
            variant_id: format!("v-{id}"),
            sku: id.to_uppercase(),
            quantity: qty,
            unit_price: Money::new(price, Currency::USD),
            tags: vec![],
            collections: vec![],
            tax_code: None,
            weight_grams: None,
        }
    }

    #[test]
    fn order_discounts_spread_and_re_add() {
        let lines = [line("a", 1, 1000), line("b", 2, 333)];
        let mut ledger = Ledger::new(Currency::USD, &lines, Some(Money::new(500, Currency::USD)));
        let order = Adjustment {
            target: Target::Order,
            kind: AdjustmentKind::FixedAmount(100),
            label: "1 off".into(),
            code: None,
        };
        ledger.apply(&order, &[]).unwrap();
        assert_eq!(ledger.line_discounts().iter().sum::<i64>(), 100);
        assert_eq!(ledger.line_totals().iter().sum::<i64>(), 1666 - 100);
        let ship = Adjustment { target: Target::Shipping, kind: AdjustmentKind::Percent(1_000_000), ..order };
        assert_eq!(ledger.apply(&ship, &[]).unwrap().amount, 500);
        assert_eq!(ledger.discount_total().amount, 600);
    }

    #[test]
    fn impossible_adjustments_are_refused_whole() {
        let lines = [line("a", 2, 500)];
        let mut ledger = Ledger::new(Currency::USD, &lines, None);
        let too_much = Adjustment::line_amount("a", 1001, "x");
        let fine = Adjustment::line_amount("a", 10, "x");
        assert!(ledger.apply_all(&[fine.clone(), too_much], &[]).is_err());
        assert!(ledger.applied().is_empty(), "nothing applied after a refusal");
        assert!(ledger.apply(&Adjustment::line_amount("zz", 1, "x"), &[]).is_err());
        assert!(ledger.apply(&fine.clone().with_code("SAVE"), &[]).is_err());
        assert!(ledger.apply(&fine.with_code("save"), &["SAVE".into()]).is_ok());
        let raise = Adjustment {
            target: Target::Line("a".into()),
            kind: AdjustmentKind::FixedUnitPrice(600),
            label: "x".into(),
            code: None,
        };
        assert!(ledger.apply(&raise, &[]).is_err());
    }
}
