//! Tax calculation. A failing tax plugin blocks checkout.

use serde::{Deserialize, Serialize};

use crate::Plugin;
use crate::money::{Currency, Money, Rate};
use crate::types::{Address, Customer, PluginError};

/// A tax plugin.
pub trait Tax: Plugin {
    /// Computes the tax lines of a cart.
    fn calculate(config: &Self::Config, input: &TaxInput) -> Result<TaxOutput, PluginError>;
}

/// A cart line after discounts.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TaxableLine {
    /// Cart line id.
    pub id: String,
    /// Product id.
    pub product_id: String,
    /// Stock keeping unit.
    pub sku: String,
    /// Units.
    pub quantity: u32,
    /// Line total after discounts, in minor units of the cart currency.
    pub amount: i64,
    /// Tax code of the variant, e.g. `"books"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<String>,
}

/// What a tax plugin is given.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TaxInput {
    /// Cart currency.
    pub currency: Currency,
    /// Lines after discounts.
    pub lines: Vec<TaxableLine>,
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

impl TaxInput {
    /// `amount` minor units in the cart currency.
    pub fn money(&self, amount: i64) -> Money {
        Money::new(amount, self.currency)
    }
}

/// One tax on one line or on shipping.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TaxLine {
    /// e.g. `"US-CA"`, `"DE"`.
    pub jurisdiction: String,
    /// Between 0 and 1.
    pub rate: Rate,
    /// Minor units, never negative.
    pub amount: i64,
    /// Shown to the buyer.
    pub label: String,
}

impl TaxLine {
    /// The tax at `rate` on `base` minor units (inclusive or exclusive
    /// pricing as the input says), rounded half-even. A negative base is
    /// taxed as zero: tax is never negative.
    pub fn compute(
        input: &TaxInput,
        base: i64,
        jurisdiction: impl Into<String>,
        rate: Rate,
        label: impl Into<String>,
    ) -> Result<TaxLine, PluginError> {
        let base = input.money(base.max(0));
        let tax = if input.prices_include_tax { rate.included_in(base) } else { rate.of(base) };
        let tax = tax.map_err(|e| PluginError::new("arithmetic", e.to_string()))?;
        Ok(TaxLine { jurisdiction: jurisdiction.into(), rate, amount: tax.amount, label: label.into() })
    }
}

/// The taxes of one line.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LineTax {
    /// Cart line id.
    pub line_id: String,
    /// Its taxes; empty when none applies.
    #[serde(default)]
    pub taxes: Vec<TaxLine>,
}

/// What a tax plugin answers.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct TaxOutput {
    /// Per line.
    #[serde(default)]
    pub lines: Vec<LineTax>,
    /// On shipping.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipping: Vec<TaxLine>,
}

impl TaxOutput {
    /// One [`LineTax`] per input line, in input order, with the taxes `f` gives it.
    pub fn each_line(
        input: &TaxInput,
        mut f: impl FnMut(&TaxableLine) -> Result<Vec<TaxLine>, PluginError>,
    ) -> Result<Vec<LineTax>, PluginError> {
        input.lines.iter().map(|l| Ok(LineTax { line_id: l.id.clone(), taxes: f(l)? })).collect()
    }

    /// Total tax, lines and shipping, in minor units.
    pub fn total(&self) -> i64 {
        let lines: i64 = self.lines.iter().flat_map(|l| &l.taxes).map(|t| t.amount).sum();
        lines + self.shipping.iter().map(|t| t.amount).sum::<i64>()
    }
}
