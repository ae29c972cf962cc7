//! Tax calculation. A failing tax plugin blocks checkout.
//!
//! A plugin reads the lines where they are (a [`TaxInput`] borrows its
//! text) and answers with a table: each distinct tax — jurisdiction, rate,
//! label — is declared once with [`TaxOutput::rate`], and every tax on a
//! line or on shipping refers to it by index. That is also how the answer
//! crosses into the host, so a tax shared by every line costs its strings
//! once, not once per line.
//!
//! ```
//! use mercato_sdk::tax::{TaxInput, TaxOutput};
//! use mercato_sdk::{PluginError, Rate};
//!
//! fn sales_tax(input: &TaxInput<'_>, rate: Rate) -> Result<TaxOutput, PluginError> {
//!     let mut out = TaxOutput::default();
//!     let tax = out.rate("US-CA", rate, "CA sales tax");
//!     for (i, line) in input.lines.iter().enumerate() {
//!         if line.tax_code.as_deref() != Some("groceries") {
//!             out.tax_line(input, i, tax, line.amount)?;
//!         }
//!     }
//!     out.tax_shipping(input, tax, input.shipping_amount)?;
//!     Ok(out)
//! }
//! ```

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::Plugin;
use crate::money::{Currency, Money, Rate};
use crate::types::{Address, Customer, PluginError};

/// A tax plugin.
pub trait Tax: Plugin {
    /// Computes the taxes of a cart.
    fn calculate(config: &Self::Config, input: &TaxInput<'_>) -> Result<TaxOutput, PluginError>;
}

/// A cart line after discounts. Its text is borrowed from the call's input
/// where it can be (inside the sandbox, always), so reading a line copies
/// nothing.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TaxableLine<'a> {
    /// Cart line id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Product id.
    #[serde(borrow)]
    pub product_id: Cow<'a, str>,
    /// Stock keeping unit.
    #[serde(borrow)]
    pub sku: Cow<'a, str>,
    /// Units.
    pub quantity: u32,
    /// Line total after discounts, in minor units of the cart currency.
    pub amount: i64,
    /// Tax code of the variant, e.g. `"books"`.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Cow<'a, str>>,
}

/// What a tax plugin is given.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TaxInput<'a> {
    /// Cart currency.
    pub currency: Currency,
    /// Lines after discounts; a tax names a line by its position here.
    #[serde(borrow)]
    pub lines: Vec<TaxableLine<'a>>,
    /// Shipping after shipping discounts, in minor units.
    #[serde(default)]
    pub shipping_amount: i64,
    /// Where the goods leave from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_from: Option<Address>,
    /// Where the goods go.
    pub ship_to: Address,
    /// The buyer, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Line amounts already include tax.
    #[serde(default)]
    pub prices_include_tax: bool,
}

impl TaxInput<'_> {
    /// The same input owning its text, e.g. to keep it past the call.
    pub fn into_owned(self) -> TaxInput<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        TaxInput {
            currency: self.currency,
            lines: self
                .lines
                .into_iter()
                .map(|l| TaxableLine {
                    id: own(l.id),
                    product_id: own(l.product_id),
                    sku: own(l.sku),
                    quantity: l.quantity,
                    amount: l.amount,
                    tax_code: l.tax_code.map(own),
                })
                .collect(),
            shipping_amount: self.shipping_amount,
            ship_from: self.ship_from,
            ship_to: self.ship_to,
            customer: self.customer,
            prices_include_tax: self.prices_include_tax,
        }
    }

    /// `amount` minor units in the cart currency.
    pub fn money(&self, amount: i64) -> Money {
        Money::new(amount, self.currency)
    }

    /// The tax at `rate` on `base` minor units (inclusive or exclusive
    /// pricing as the input says), rounded half-even. A negative base is
    /// taxed as zero: tax is never negative.
    #[inline]
    pub fn tax_at(&self, rate: Rate, base: i64) -> Result<i64, PluginError> {
        let base = self.money(base.max(0));
        let tax = if self.prices_include_tax { rate.included_in(base) } else { rate.of(base) };
        tax.map(|m| m.amount).map_err(arithmetic)
    }
}

/// One distinct tax of an answer, declared once however many lines it
/// applies to.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TaxRate {
    /// e.g. `"US-CA"`, `"DE"`.
    pub jurisdiction: String,
    /// Between 0 and 1.
    pub rate: Rate,
    /// Shown to the buyer, e.g. `"CA sales tax"`.
    pub label: String,
}

/// A tax on one line.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LineTax {
    /// Position of the line in [`TaxInput::lines`].
    pub line: u32,
    /// Index into [`TaxOutput::rates`].
    pub rate: u32,
    /// Minor units, never negative.
    pub amount: i64,
}

/// A tax on shipping.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ShippingTax {
    /// Index into [`TaxOutput::rates`].
    pub rate: u32,
    /// Minor units, never negative.
    pub amount: i64,
}

/// What a tax plugin answers: the distinct taxes, then which lines and
/// whether shipping bear them. A line not listed is not taxed.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct TaxOutput {
    /// The distinct taxes the answer refers to.
    #[serde(default)]
    pub rates: Vec<TaxRate>,
    /// In line order; at most one tax per rate on a line (state, county and
    /// city taxes are three rates).
    #[serde(default)]
    pub lines: Vec<LineTax>,
    /// On shipping, at most one per rate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipping: Vec<ShippingTax>,
}

impl TaxOutput {
    /// The index of the tax `(jurisdiction, rate, label)`, declared here
    /// the first time it is asked for.
    pub fn rate(&mut self, jurisdiction: &str, rate: Rate, label: &str) -> u32 {
        let known = self
            .rates
            .iter()
            .position(|r| r.jurisdiction == jurisdiction && r.label == label && r.rate == rate);
        let index = known.unwrap_or_else(|| {
            self.rates.push(TaxRate { jurisdiction: jurisdiction.into(), rate, label: label.into() });
            self.rates.len() - 1
        });
        index as u32
    }

    /// Taxes line `line` of `input` at the declared `rate` on `base` minor
    /// units (see [`TaxInput::tax_at`]); returns the tax.
    pub fn tax_line(
        &mut self,
        input: &TaxInput<'_>,
        line: usize,
        rate: u32,
        base: i64,
    ) -> Result<i64, PluginError> {
        let amount = input.tax_at(self.rate_at(rate)?, base)?;
        let line = u32::try_from(line)
            .map_err(|_| PluginError::new("invalid_output", "line position out of range"))?;
        self.lines.push(LineTax { line, rate, amount });
        Ok(amount)
    }

    /// Taxes every line of `input` at the declared `rate` on its amount.
    pub fn tax_every_line(&mut self, input: &TaxInput<'_>, rate: u32) -> Result<(), PluginError> {
        self.lines.reserve(input.lines.len());
        for (i, line) in input.lines.iter().enumerate() {
            self.tax_line(input, i, rate, line.amount)?;
        }
        Ok(())
    }

    /// Taxes shipping at the declared `rate` on `base` minor units; returns
    /// the tax.
    pub fn tax_shipping(&mut self, input: &TaxInput<'_>, rate: u32, base: i64) -> Result<i64, PluginError> {
        let amount = input.tax_at(self.rate_at(rate)?, base)?;
        self.shipping.push(ShippingTax { rate, amount });
        Ok(amount)
    }

    /// The taxes on line `line`, with their rates.
    pub fn line_taxes(&self, line: usize) -> impl Iterator<Item = (&TaxRate, i64)> {
        let mine = self.lines.iter().filter(move |t| t.line as usize == line);
        mine.filter_map(|t| Some((self.rates.get(t.rate as usize)?, t.amount)))
    }

    /// The taxes on shipping, with their rates.
    pub fn shipping_taxes(&self) -> impl Iterator<Item = (&TaxRate, i64)> {
        self.shipping.iter().filter_map(|t| Some((self.rates.get(t.rate as usize)?, t.amount)))
    }

    /// Total tax, lines and shipping, in minor units.
    pub fn total(&self) -> i64 {
        let lines: i64 = self.lines.iter().map(|t| t.amount).sum();
        lines + self.shipping.iter().map(|t| t.amount).sum::<i64>()
    }

    /// Puts the line taxes in line order (stable), as the host expects them.
    pub fn sort_lines(&mut self) {
        if !self.lines.is_sorted_by_key(|t| t.line) {
            self.lines.sort_by_key(|t| t.line);
        }
    }

    #[inline]
    fn rate_at(&self, rate: u32) -> Result<Rate, PluginError> {
        match self.rates.get(rate as usize) {
            Some(r) => Ok(r.rate),
            None => Err(no_rate(rate)),
        }
    }
}

#[cold]
fn no_rate(rate: u32) -> PluginError {
    PluginError::new("invalid_output", format!("no declared rate {rate}"))
}

#[cold]
fn arithmetic(e: crate::MoneyError) -> PluginError {
    PluginError::new("arithmetic", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cart(amounts: &[i64], prices_include_tax: bool) -> TaxInput<'static> {
        let line = |(i, amount): (usize, &i64)| TaxableLine {
            id: format!("l{i}").into(),
            product_id: "p".into(),
            sku: "s".into(),
            quantity: 1,
            amount: *amount,
            tax_code: None,
        };
        TaxInput {
            currency: Currency::USD,
            lines: amounts.iter().enumerate().map(line).collect(),
            shipping_amount: 500,
            ship_from: None,
            ship_to: Address::default(),
            customer: None,
            prices_include_tax,
        }
    }

    #[test]
    fn a_rate_is_declared_once_and_lines_refer_to_it() {
        let input = cart(&[1000, 2000, -50], false);
        let rate = Rate::parse("0.0725").unwrap();
        let mut out = TaxOutput::default();
        let tax = out.rate("US-CA", rate, "CA sales tax");
        assert_eq!(out.rate("US-CA", Rate::parse("0.07250").unwrap(), "CA sales tax"), tax, "same tax");
        assert_eq!(out.rate("US-CA", rate, "other label"), 1, "another label is another tax");
        out.tax_every_line(&input, tax).unwrap();
        assert_eq!(out.tax_shipping(&input, tax, input.shipping_amount).unwrap(), 36); // 36.25
        let amounts: Vec<i64> = out.lines.iter().map(|t| t.amount).collect();
        assert_eq!(amounts, [72, 145, 0], "half-even; a negative base is taxed as zero");
        assert_eq!(
            out.line_taxes(1).map(|(r, a)| (r.label.as_str(), a)).collect::<Vec<_>>(),
            [("CA sales tax", 145)]
        );
        assert_eq!(out.shipping_taxes().count(), 1);
        assert_eq!(out.total(), 72 + 145 + 36);
    }

    #[test]
    fn inclusive_prices_extract_the_tax_and_lines_are_put_in_order() {
        let input = cart(&[119, 238], true);
        let mut out = TaxOutput::default();
        let vat = out.rate("DE", Rate::parse("0.19").unwrap(), "DE VAT");
        out.tax_line(&input, 1, vat, 238).unwrap();
        out.tax_line(&input, 0, vat, 119).unwrap();
        out.sort_lines();
        assert_eq!(
            out.lines,
            [LineTax { line: 0, rate: 0, amount: 19 }, LineTax { line: 1, rate: 0, amount: 38 }]
        );
    }

    #[test]
    fn an_undeclared_rate_is_an_error() {
        let input = cart(&[100], false);
        let mut out = TaxOutput::default();
        let err = out.tax_line(&input, 0, 3, 100).unwrap_err();
        assert_eq!(err.code, "invalid_output");
        assert!(out.tax_every_line(&input, 0).is_err() && out.lines.is_empty());
    }
}
