//! A priced cart as the storefront sees it.

pub use crate::model::cart::{AdjustmentView, ShippingOption, TaxLineView, TrailStep};

use serde::Serialize;

use super::{Address, CartStatus};
use crate::commerce::catalog::Price;

/// A cart with its prices, discounts, shipping and tax. Totals re-add
/// exactly: `total = subtotal - discount_total + shipping_total + tax_total`
/// (tax not added again when prices include it), and the line totals add
/// up to `subtotal` minus the line discounts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cart {
    /// Unguessable: whoever holds it can read and change the cart.
    pub id: String,
    /// Open, being completed, or ordered.
    pub status: CartStatus,
    /// ISO 4217 code of every amount, the merchant's currency.
    pub currency: String,
    /// Lines still for sale, in the order they were added.
    pub lines: Vec<CartLine>,
    /// Sum of unit price × quantity.
    pub subtotal: Price,
    /// Line, order and shipping discounts.
    pub discount_total: Price,
    /// The selected shipping option's amount (before shipping discounts).
    pub shipping_total: Price,
    /// Tax on the discounted lines and shipping, from the tax plugin.
    pub tax_total: Price,
    /// What the buyer pays: subtotal − discounts + shipping + tax (tax not
    /// added again when prices include it).
    pub total: Price,
    /// Whether line prices already include tax (then `tax_total` is part of them).
    pub prices_include_tax: bool,
    /// Order-level and shipping adjustments (line adjustments sit on their lines).
    pub adjustments: Vec<AdjustmentView>,
    /// Taxes on shipping.
    pub shipping_tax_lines: Vec<TaxLineView>,
    /// Codes entered, as entered.
    pub discount_codes: Vec<String>,
    /// The selected option, while it is still offered; `None` until one is chosen.
    pub shipping_option: Option<ShippingOption>,
    /// The buyer's email address, once given.
    pub email: Option<String>,
    /// The signed-in customer who owns it (`cus_…`); `None` for a guest.
    pub customer_id: Option<String>,
    /// Where to ship, once given; shipping rates and tax wait for it.
    pub shipping_address: Option<Address>,
    /// Where to bill, if the buyer gave one.
    pub billing_address: Option<Address>,
    /// Things the buyer should know: short stock, lines dropped, codes not
    /// applied, a plugin that failed.
    pub warnings: Vec<Warning>,
    /// Asked for with `?explain=1`: every plugin call that shaped these
    /// totals (see [`TrailStep`]); its discounts, taxes and chosen shipping
    /// add up to the totals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<TrailStep>>,
    /// The order, once the cart is completed.
    pub order_id: Option<String>,
    /// When it was made, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// One priced line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CartLine {
    /// `cl_…`.
    pub id: String,
    /// The variant in the line (`var_…`).
    pub variant_id: String,
    /// The variant's product (`prod_…`).
    pub product_id: String,
    /// The variant's SKU.
    pub sku: String,
    /// Product title, and the variant's when it differs.
    pub title: String,
    /// Units wanted, 1 to 10,000.
    pub quantity: i64,
    /// The variant's current price.
    pub unit_price: Price,
    /// Unit price × quantity.
    pub subtotal: Price,
    /// Adjustments aimed at this line.
    pub adjustments: Vec<AdjustmentView>,
    /// Everything taken off this line, its share of order discounts included.
    pub discount_total: Price,
    /// The taxes that make up `tax_total`.
    pub tax_lines: Vec<TaxLineView>,
    /// Tax on the line after discounts.
    pub tax_total: Price,
    /// Subtotal minus discounts (tax not included unless prices include it).
    pub total: Price,
}

/// The shipping options of a cart.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShippingOptions {
    /// Every rate the bound shipping plugins offer for the cart, first offer of a code kept.
    pub options: Vec<ShippingOption>,
    /// Why there may be none: `no_shipping_options` or `plugin_failed`.
    pub warnings: Vec<Warning>,
}

/// Something the buyer (or storefront) should know about the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Warning {
    /// Stable: `insufficient_stock`, `line_removed`, `discount_code_invalid`,
    /// `discount_code_not_applied`, `shipping_option_unavailable`,
    /// `plugin_failed` (the cart cannot be completed), `plugin_skipped`
    /// (left out of the totals by its `on_error: "skip"`),
    /// `no_shipping_options`.
    pub code: String,
    /// A readable explanation.
    pub message: String,
    /// The line it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_id: Option<String>,
    /// For `plugin_failed` and `plugin_skipped`: the plugin (`name@version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// For `plugin_failed` and `plugin_skipped`: the call, e.g. `tax.calculate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// For `plugin_failed` and `plugin_skipped`: why, stable (`trap`,
    /// `out_of_fuel`, `deadline_exceeded`, `invalid_output`, `plugin_error`,
    /// `circuit_open`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Warning {
    /// A warning about the whole cart.
    pub fn new(code: &str, message: impl Into<String>) -> Warning {
        Warning {
            code: code.to_owned(),
            message: message.into(),
            line_id: None,
            plugin: None,
            call: None,
            reason: None,
        }
    }

    /// A warning about one line.
    pub fn line(code: &str, line_id: &str, message: impl Into<String>) -> Warning {
        Warning { line_id: Some(line_id.to_owned()), ..Warning::new(code, message) }
    }

    /// Names the plugin, the call and the reason of a plugin's failure.
    pub fn from_plugin(self, plugin: String, call: String, reason: &str) -> Warning {
        Warning { plugin: Some(plugin), call: Some(call), reason: Some(reason.to_owned()), ..self }
    }
}
