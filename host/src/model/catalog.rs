//! Products, variants, options, categories and prices, as stored and shown.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether a product is sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared: admin only.
    Draft,
    /// On sale in the storefront.
    Active,
    /// No longer sold: admin only.
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Active => "active",
            Status::Archived => "archived",
        }
    }

    pub fn from_db(s: &str) -> Status {
        match s {
            "active" => Status::Active,
            "archived" => Status::Archived,
            _ => Status::Draft,
        }
    }
}

/// Whether a variant can be sold beyond its stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InventoryPolicy {
    /// Out of stock means not for sale.
    #[default]
    Deny,
    /// Sold below zero, shipped later.
    AllowBackorder,
}

impl InventoryPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryPolicy::Deny => "deny",
            InventoryPolicy::AllowBackorder => "allow_backorder",
        }
    }

    pub fn from_db(s: &str) -> InventoryPolicy {
        if s == "allow_backorder" { InventoryPolicy::AllowBackorder } else { InventoryPolicy::Deny }
    }
}

/// An amount in integer minor units of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Price {
    pub amount: i64,
    pub currency: String,
}

/// A product option and the values its variants choose from, e.g. size: S, M, L.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

/// A sellable variant of a product.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Variant {
    pub id: String,
    pub sku: String,
    pub title: String,
    /// Option name -> the value this variant has.
    pub options: BTreeMap<String, String>,
    pub price: Price,
    pub weight_grams: Option<i64>,
    pub tax_code: Option<String>,
    pub inventory_policy: InventoryPolicy,
}

/// A product with its variants.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub handle: String,
    pub description: String,
    pub status: Status,
    pub tags: Vec<String>,
    /// Sorted, oldest category first.
    pub category_ids: Vec<String>,
    pub options: Vec<ProductOption>,
    pub variants: Vec<Variant>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A category products can be filed under.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub handle: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which products a listing shows. Deleted products never show.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Full text over title, description, skus and tags; a trailing `*`
    /// on the last word matches prefixes.
    pub q: Option<String>,
    pub status: Option<Status>,
    /// A category id or handle.
    pub category: Option<String>,
    /// Products whose lowest variant price is at least this.
    pub min_price: Option<i64>,
    /// Products with a variant at this price or less.
    pub max_price: Option<i64>,
}
