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
    /// The snake_case name, as stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Active => "active",
            Status::Archived => "archived",
        }
    }

    /// The status stored as `s`; anything unknown reads as `Draft`.
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
    /// The snake_case name, as stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryPolicy::Deny => "deny",
            InventoryPolicy::AllowBackorder => "allow_backorder",
        }
    }

    /// The policy stored as `s`; anything unknown reads as `Deny`.
    pub fn from_db(s: &str) -> InventoryPolicy {
        if s == "allow_backorder" { InventoryPolicy::AllowBackorder } else { InventoryPolicy::Deny }
    }
}

/// An amount in integer minor units of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Price {
    /// Integer minor units (cents for USD).
    pub amount: i64,
    /// ISO 4217 code, e.g. "USD".
    pub currency: String,
}

impl Price {
    /// `amount` minor units of `currency`.
    pub fn new(amount: i64, currency: mercato_sdk::Currency) -> Price {
        Price { amount, currency: currency.code().to_owned() }
    }
}

/// A product option and the values its variants choose from, e.g. size: S, M, L.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductOption {
    /// Name shown to the buyer, unique within the product.
    pub name: String,
    /// The values variants may pick, in display order.
    pub values: Vec<String>,
}

/// A sellable variant of a product.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Variant {
    /// `var_…`.
    pub id: String,
    /// Stock keeping unit, unique per merchant.
    pub sku: String,
    /// Defaults to the option values ("M / Red"), or the product title.
    pub title: String,
    /// Option name -> the value this variant has.
    pub options: BTreeMap<String, String>,
    /// In the merchant's currency.
    pub price: Price,
    /// Shipping weight, which shipping plugins see.
    pub weight_grams: Option<i64>,
    /// Tax category passed to the tax plugin.
    pub tax_code: Option<String>,
    /// Whether it may be sold beyond its stock.
    pub inventory_policy: InventoryPolicy,
    /// Whether it can be bought now, without saying how many are left.
    pub stock_status: StockStatus,
}

/// Available units at or below which a variant is `low`.
pub const LOW_STOCK: i64 = 5;

/// What a shopper may know of a variant's stock: no quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockStatus {
    /// More than [`LOW_STOCK`] units available.
    InStock,
    /// 1 to [`LOW_STOCK`] units available.
    Low,
    /// None available, and it is not sold beyond its stock.
    OutOfStock,
    /// None available, but it may be ordered (sold beyond its stock).
    Backorder,
}

impl StockStatus {
    /// The status of `available` units (`None`: stocked nowhere) under `policy`.
    pub fn of(available: Option<i64>, policy: InventoryPolicy) -> StockStatus {
        match available.unwrap_or(0) {
            n if n > LOW_STOCK => StockStatus::InStock,
            n if n > 0 => StockStatus::Low,
            _ if policy == InventoryPolicy::AllowBackorder => StockStatus::Backorder,
            _ => StockStatus::OutOfStock,
        }
    }
}

/// A product with its variants.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Product {
    /// `prod_…`.
    pub id: String,
    /// Name shown to buyers.
    pub title: String,
    /// URL slug, unique per merchant.
    pub handle: String,
    /// Free text describing the product.
    pub description: String,
    /// Whether it is on sale.
    pub status: Status,
    /// Free labels, e.g. for pricing plugins to match on.
    pub tags: Vec<String>,
    /// Sorted, oldest category first.
    pub category_ids: Vec<String>,
    /// Options its variants choose from, in display order.
    pub options: Vec<ProductOption>,
    /// At least one.
    pub variants: Vec<Variant>,
    /// Pictures, in display order; the first is the product's main picture.
    pub images: Vec<ProductImage>,
    /// When it was created, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// A picture of a product, or of one of its variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductImage {
    /// Where the picture is: an absolute `https` (or `http`) URL.
    pub url: String,
    /// Text that describes the picture to those who cannot see it; may be empty.
    pub alt: String,
    /// The variant it shows (`var_…`), when it shows one rather than the product.
    pub variant_id: Option<String>,
}

/// A category products can be filed under.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Category {
    /// `cat_…`.
    pub id: String,
    /// Name shown to buyers.
    pub name: String,
    /// URL slug, unique per merchant.
    pub handle: String,
    /// When it was created, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// Which products a listing shows. Deleted products never show.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Full text over title, description, skus and tags; a trailing `*`
    /// on the last word matches prefixes.
    pub q: Option<String>,
    /// Only products in this status.
    pub status: Option<Status>,
    /// A category id or handle.
    pub category: Option<String>,
    /// Products whose lowest variant price is at least this.
    pub min_price: Option<i64>,
    /// Products with a variant at this price or less.
    pub max_price: Option<i64>,
    /// The order of the listing.
    pub sort: ProductSort,
}

/// How a product listing is ordered; every order ends with the product id,
/// so pages never skip or repeat a product that did not change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductSort {
    /// Oldest first: the order without `sort` and without `q`.
    #[default]
    Oldest,
    /// Best match to `q` first (the default with `q`); oldest first without `q`.
    Relevance,
    /// Lowest "from" price (the cheapest live variant) first.
    PriceAsc,
    /// Highest "from" price first.
    PriceDesc,
    /// Newest first.
    Newest,
}

/// Where a product listing page starts, decoded from its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductCursor {
    /// The first page.
    Start,
    /// After this product, in id order ([`ProductSort::Oldest`]).
    After(String),
    /// After this sort key (price or creation time) and product id.
    Keyed(i64, String),
    /// After this many results ([`ProductSort::Relevance`] with `q`).
    Offset(u64),
}

/// Counts of the products a listing matches (all its pages), to narrow it down.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProductFacets {
    /// Matching products per category, most first.
    pub categories: Vec<CategoryFacet>,
    /// Matching products per band of "from" price, cheapest band first; empty bands are left out.
    pub price_bands: Vec<PriceBand>,
    /// Matching products per option value (a product counts once per value its
    /// live variants have), by option name, most first.
    pub options: Vec<OptionFacet>,
}

/// How many matching products are in a category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CategoryFacet {
    /// `cat_…`; what `category` takes.
    pub id: String,
    /// The category's handle, which `category` also takes.
    pub handle: String,
    /// The category's name.
    pub name: String,
    /// Matching products in it.
    pub count: i64,
}

/// How many matching products have a "from" price in `[min, max)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PriceBand {
    /// Lowest price in the band; as `min_price` it selects the band with `max_price` = `max` − 1.
    pub min: Price,
    /// First price above the band; `None` for the top band.
    pub max: Option<Price>,
    /// Matching products in the band.
    pub count: i64,
}

/// How many matching products offer an option value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OptionFacet {
    /// The option, e.g. "Size".
    pub name: String,
    /// The value, e.g. "M".
    pub value: String,
    /// Matching products with a live variant of this value.
    pub count: i64,
}
