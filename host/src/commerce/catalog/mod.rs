//! The catalog: products with options and priced variants, and categories.
//! A product's variants each pick one value of every product option; prices
//! are in the merchant's currency; handles and skus are unique per merchant.

mod categories;
mod products;
mod unique;
mod update;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

pub use self::categories::{create_category, get_category, list_categories};
pub use self::products::{
    create_product, delete_product, get_active_product, get_product, list_active_products, list_products,
};
pub use self::update::{add_variant, update_product};

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

/// A price as sent: integer minor units and a currency code.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    #[schema(required = true)]
    pub amount: Option<i64>,
    #[schema(required = true)]
    pub currency: Option<String>,
}

/// A new product's request, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[schema(required = true)]
    pub title: Option<String>,
    /// Defaults to the title as a slug ("-2", "-3"… appended if taken).
    pub handle: Option<String>,
    pub description: Option<String>,
    /// Default draft.
    pub status: Option<Status>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub category_ids: Vec<String>,
    #[serde(default)]
    pub options: Vec<ProductOption>,
    /// At least one.
    #[schema(required = true)]
    pub variants: Option<Vec<NewVariant>>,
}

/// A new variant, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    #[schema(required = true)]
    pub sku: Option<String>,
    /// Defaults to the option values ("M / Red"), or the product title.
    pub title: Option<String>,
    /// Every product option by name, with one of its values.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[schema(required = true)]
    pub price: Option<PriceInput>,
    pub weight_grams: Option<i64>,
    pub tax_code: Option<String>,
    /// Default deny.
    pub inventory_policy: Option<InventoryPolicy>,
}

/// Changes to a product; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub status: Option<Status>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Replaces the categories.
    pub category_ids: Option<Vec<String>>,
    /// The same option names in the same order; values may be added and
    /// reordered, and removed when no variant has them.
    pub options: Option<Vec<ProductOption>>,
    /// Changes to existing variants, by id.
    #[serde(default)]
    pub variants: Vec<VariantPatch>,
}

/// Changes to one variant; `null` clears `weight_grams` and `tax_code`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    pub id: String,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub price: Option<PriceInput>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub weight_grams: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tax_code: Option<Option<String>>,
    pub inventory_policy: Option<InventoryPolicy>,
}

/// Present-and-null as `Some(None)`, absent (via `default`) as `None`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A new category's request, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    #[schema(required = true)]
    pub name: Option<String>,
    /// Defaults to the name as a slug ("-2", "-3"… appended if taken).
    pub handle: Option<String>,
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
