//! A cart as stored, its lines, and the priced pieces an order keeps
//! (adjustments, tax lines, the shipping option).

use super::catalog::{InventoryPolicy, Price};
use serde::{Deserialize, Serialize};

/// Where a cart is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    /// Being filled.
    Open,
    /// A checkout is taking payment; the cart cannot change.
    Completing,
    /// Ordered.
    Completed,
}

impl CartStatus {
    /// The snake_case name, as stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            CartStatus::Open => "open",
            CartStatus::Completing => "completing",
            CartStatus::Completed => "completed",
        }
    }

    /// The status stored as `s`; anything unknown reads as `Open`.
    pub fn from_db(s: &str) -> CartStatus {
        match s {
            "completing" => CartStatus::Completing,
            "completed" => CartStatus::Completed,
            _ => CartStatus::Open,
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Address {
    /// Who receives the parcel.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Apartment, suite or floor, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or county; may be empty where there is none.
    #[serde(default)]
    pub region: String,
    /// Postal or ZIP code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. "US".
    pub country: String,
}

/// A cart as stored.
#[derive(Debug, Clone)]
pub struct CartRecord {
    /// `cart_…`, a secret: whoever holds it can read and change the cart.
    pub id: String,
    /// ISO 4217 code, the merchant's currency when the cart was made.
    pub currency: String,
    /// The signed-in customer who owns it (`cus_…`); `None` for a guest.
    pub customer_id: Option<String>,
    /// The buyer's email address, once given.
    pub email: Option<String>,
    /// Where to ship, once given.
    pub shipping_address: Option<Address>,
    /// Where to bill, if the buyer gave one.
    pub billing_address: Option<Address>,
    /// The code of the selected shipping option.
    pub shipping_option: Option<String>,
    /// Open, being completed, or ordered.
    pub status: CartStatus,
    /// The order placed from it (`ord_…`), set when a checkout takes it.
    pub order_id: Option<String>,
    /// Bumped by every change.
    pub version: i64,
    /// The merchant's setting, read with the cart.
    pub prices_include_tax: bool,
    /// As entered, in entry order.
    pub discount_codes: Vec<String>,
    /// When it was made, in unix milliseconds.
    pub created_at: i64,
    /// When it last changed, in unix milliseconds.
    pub updated_at: i64,
}

/// A stored line and what the catalog says of its variant now.
#[derive(Debug, Clone)]
pub struct LineRecord {
    /// `cl_…`, also the order of the lines.
    pub id: String,
    /// The variant the line is for (`var_…`).
    pub variant_id: String,
    /// Units wanted.
    pub quantity: i64,
    /// `None` when the variant no longer exists.
    pub variant: Option<VariantInfo>,
}

/// A variant as a cart line needs it.
#[derive(Debug, Clone)]
pub struct VariantInfo {
    /// The variant's product (`prod_…`).
    pub product_id: String,
    /// The variant's SKU.
    pub sku: String,
    /// Product title, and the variant's when it differs.
    pub title: String,
    /// Unit price in minor units of `currency`.
    pub price: i64,
    /// ISO 4217 code the price is in.
    pub currency: String,
    /// The variant's weight, if the merchant set one.
    pub weight_grams: Option<i64>,
    /// The variant's tax category for the tax plugin, if any.
    pub tax_code: Option<String>,
    /// Whether it can be sold beyond stock.
    pub policy: InventoryPolicy,
    /// The product's tags, which pricing plugins can match on.
    pub tags: Vec<String>,
    /// The product's category ids (`cat_…`), which pricing plugins see as collections.
    pub category_ids: Vec<String>,
    /// Not deleted, and its product is active.
    pub live: bool,
    /// On hand minus reserved over every location.
    pub available: i64,
    /// Whether any location holds a level for it.
    pub tracked: bool,
}

/// A discount a pricing plugin gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AdjustmentView {
    /// `line`, `order` or `shipping`.
    pub target: String,
    /// The line it is aimed at, for a `line` target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_id: Option<String>,
    /// Text shown to the buyer, e.g. "10% off".
    pub label: String,
    /// What it took off, in the cart's currency.
    pub amount: Price,
    /// The discount code it redeems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `name@version` of the plugin that gave it.
    pub plugin: String,
}

/// A tax on a line or on shipping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TaxLineView {
    /// Where the tax is owed, e.g. `"US-CA"`, `"DE"`.
    pub jurisdiction: String,
    /// Decimal fraction, e.g. "0.0725".
    pub rate: String,
    /// Text shown to the buyer, e.g. "CA sales tax".
    pub label: String,
    /// The tax, in the cart's currency.
    pub amount: Price,
}

/// A shipping rate a plugin offers for this cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ShippingOption {
    /// What `PUT …/shipping-option` takes.
    pub code: String,
    /// Who delivers, e.g. "DHL".
    pub carrier: String,
    /// The carrier's service, e.g. "Express".
    pub service: String,
    /// The rate the buyer pays, before any shipping discount.
    pub amount: Price,
    /// Earliest delivery, in days, if the plugin said.
    pub min_days: Option<u32>,
    /// Latest delivery, in days, if the plugin said.
    pub max_days: Option<u32>,
    /// `name@version` of the plugin that offers it.
    pub plugin: String,
}

/// One plugin call that shaped a priced cart (and the order placed from
/// it): who answered, for which input, at what cost, and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TrailStep {
    /// `pricing`, `shipping` or `tax`.
    pub extension_point: String,
    /// `name@version`.
    pub plugin: String,
    /// `plg_…`.
    pub plugin_id: String,
    /// Hex SHA-256 of the plugin id, its configuration and the call's input:
    /// what the answer depends on (the memo's key).
    pub input_hash: String,
    /// Answered from the memo: no call was made.
    pub memo: bool,
    /// Instantiate, call and validation, in microseconds (0 from the memo).
    pub duration_us: u64,
    /// Instructions used (0 from the memo).
    pub fuel: u64,
    /// `ok`, or the failure kind (`out_of_fuel`, `plugin_disabled`, …).
    pub outcome: String,
    /// Pricing: the discounts it gave, as the ledger took them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<AdjustmentView>,
    /// Tax (the binding that decided): every tax it put on lines and
    /// shipping, added up by rate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<TaxLineView>,
    /// Shipping: the codes it offered (a code another plugin offered first is left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options_offered: Vec<String>,
    /// Shipping: the offered code the cart has chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option_chosen: Option<String>,
}
