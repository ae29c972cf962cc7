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
    pub fn as_str(self) -> &'static str {
        match self {
            CartStatus::Open => "open",
            CartStatus::Completing => "completing",
            CartStatus::Completed => "completed",
        }
    }

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
    pub name: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    /// State, province or county; may be empty where there is none.
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. "US".
    pub country: String,
}

/// A cart as stored.
#[derive(Debug, Clone)]
pub struct CartRecord {
    pub id: String,
    pub currency: String,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    /// The code of the selected shipping option.
    pub shipping_option: Option<String>,
    pub status: CartStatus,
    pub order_id: Option<String>,
    /// Bumped by every change.
    pub version: i64,
    /// The merchant's setting, read with the cart.
    pub prices_include_tax: bool,
    /// As entered, in entry order.
    pub discount_codes: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A stored line and what the catalog says of its variant now.
#[derive(Debug, Clone)]
pub struct LineRecord {
    pub id: String,
    pub variant_id: String,
    pub quantity: i64,
    /// `None` when the variant no longer exists.
    pub variant: Option<VariantInfo>,
}

/// A variant as a cart line needs it.
#[derive(Debug, Clone)]
pub struct VariantInfo {
    pub product_id: String,
    pub sku: String,
    /// Product title, and the variant's when it differs.
    pub title: String,
    /// Unit price in minor units of `currency`.
    pub price: i64,
    pub currency: String,
    pub weight_grams: Option<i64>,
    pub tax_code: Option<String>,
    pub policy: InventoryPolicy,
    pub tags: Vec<String>,
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
    pub label: String,
    /// What it took off, in minor units.
    pub amount: i64,
    /// The discount code it redeems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `name@version` of the plugin that gave it.
    pub plugin: String,
}

/// A tax on a line or on shipping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TaxLineView {
    pub jurisdiction: String,
    /// Decimal fraction, e.g. "0.0725".
    pub rate: String,
    pub label: String,
    pub amount: i64,
}

/// A shipping rate a plugin offers for this cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ShippingOption {
    /// What `PUT …/shipping-option` takes.
    pub code: String,
    pub carrier: String,
    pub service: String,
    pub amount: Price,
    pub min_days: Option<u32>,
    pub max_days: Option<u32>,
    /// `name@version` of the plugin that offers it.
    pub plugin: String,
}
