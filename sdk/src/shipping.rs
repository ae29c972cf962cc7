//! Shipping rates. A failing shipping plugin's rates are skipped.

use serde::{Deserialize, Serialize};

use crate::Plugin;
use crate::money::{Currency, Money};
use crate::types::{Address, PluginError};

/// A shipping-rate plugin.
pub trait Shipping: Plugin {
    /// Offers rate options for a cart.
    fn rates(config: &Self::Config, input: &ShippingInput) -> Result<ShippingOutput, PluginError>;
}

/// One item to ship.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ShipItem {
    /// Cart line id.
    pub line_id: String,
    /// Stock keeping unit.
    pub sku: String,
    /// Units.
    pub quantity: u32,
    /// Weight of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<u32>,
    /// Length of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_mm: Option<u32>,
    /// Width of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_mm: Option<u32>,
    /// Height of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_mm: Option<u32>,
}

/// What a shipping plugin is given.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ShippingInput {
    /// Cart currency.
    pub currency: Currency,
    /// Where the parcel goes.
    pub destination: Address,
    /// What is in it.
    pub items: Vec<ShipItem>,
    /// Lines total after discounts.
    pub subtotal: Money,
}

impl ShippingInput {
    /// Total weight in grams (items without a weight count as 0).
    pub fn total_weight_grams(&self) -> u64 {
        self.items.iter().map(|i| u64::from(i.weight_grams.unwrap_or(0)) * u64::from(i.quantity)).sum()
    }
}

/// One way to ship.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RateOption {
    /// Unique within one plugin's answer.
    pub code: String,
    /// e.g. `"DHL"`.
    pub carrier: String,
    /// e.g. `"Express"`.
    pub service: String,
    /// Price, in the cart currency.
    pub amount: Money,
    /// Earliest delivery, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days: Option<u32>,
    /// Latest delivery, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days: Option<u32>,
}

/// What a shipping plugin answers.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct ShippingOutput {
    /// Rate options; empty when the plugin cannot ship there.
    #[serde(default)]
    pub options: Vec<RateOption>,
}
