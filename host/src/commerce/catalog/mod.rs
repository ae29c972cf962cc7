//! The catalog: products with options and priced variants, and categories.
//! A product's variants each pick one value of every product option; prices
//! are in the merchant's currency; handles and skus are unique per merchant.

pub use crate::model::catalog::{
    Category, CategoryFacet, InventoryPolicy, LOW_STOCK, OptionFacet, Price, PriceBand, Product,
    ProductFacets, ProductFilter, ProductImage, ProductOption, ProductSort, Status, StockStatus, Variant,
};

mod categories;
mod products;
mod unique;
mod update;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

pub use self::categories::{create_category, get_category, list_categories};
pub use self::products::{
    ProductList, create_product, delete_product, get_active_product, get_product, list_active_products,
    list_products,
};
pub use self::update::{add_variant, update_product};
pub(crate) use self::validate::same_currency;

/// A price as sent: integer minor units and a currency code.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    /// Integer minor units, 0 or more.
    #[schema(required = true)]
    pub amount: Option<i64>,
    /// ISO 4217 code; must be the merchant's currency.
    #[schema(required = true)]
    pub currency: Option<String>,
}

/// A new product's request, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// Name shown to buyers, 1 to 255 characters.
    #[schema(required = true)]
    pub title: Option<String>,
    /// Defaults to the title as a slug ("-2", "-3"… appended if taken).
    pub handle: Option<String>,
    /// Free text, at most 20,000 characters.
    pub description: Option<String>,
    /// Default draft.
    pub status: Option<Status>,
    /// Free labels, at most 100, duplicates dropped.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Categories to file it under (`cat_…`), each one of this merchant's.
    #[serde(default)]
    pub category_ids: Vec<String>,
    /// At most 3, each with its values.
    #[serde(default)]
    pub options: Vec<ProductOption>,
    /// At least one.
    #[schema(required = true)]
    pub variants: Option<Vec<NewVariant>>,
    /// Pictures in display order, at most 50.
    #[serde(default)]
    pub images: Vec<ImageInput>,
}

/// A picture as sent; it may show one variant, named by `variant_id` or,
/// while the product is being created, by `sku`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageInput {
    /// An absolute `https` or `http` URL, at most 2,048 characters.
    #[schema(required = true)]
    pub url: Option<String>,
    /// Describes the picture, at most 500 characters; default empty.
    pub alt: Option<String>,
    /// The variant it shows (`var_…`), one of the product's.
    pub variant_id: Option<String>,
    /// The variant it shows, by SKU (instead of `variant_id`).
    pub sku: Option<String>,
}

/// A new variant, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    /// Stock keeping unit, unique per merchant.
    #[schema(required = true)]
    pub sku: Option<String>,
    /// Defaults to the option values ("M / Red"), or the product title.
    pub title: Option<String>,
    /// Every product option by name, with one of its values.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// In the merchant's currency.
    #[schema(required = true)]
    pub price: Option<PriceInput>,
    /// Shipping weight, 0 to 100,000,000 grams.
    pub weight_grams: Option<i64>,
    /// Tax category passed to the tax plugin, at most 64 characters.
    pub tax_code: Option<String>,
    /// Default deny.
    pub inventory_policy: Option<InventoryPolicy>,
}

/// Changes to a product; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    /// New name shown to buyers.
    pub title: Option<String>,
    /// New URL slug, unique per merchant.
    pub handle: Option<String>,
    /// New free text.
    pub description: Option<String>,
    /// Moves it between draft, active and archived.
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
    /// Replaces the pictures.
    pub images: Option<Vec<ImageInput>>,
}

/// Changes to one variant; `null` clears `weight_grams` and `tax_code`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    /// The variant to change (`var_…`).
    pub id: String,
    /// New stock keeping unit, unique per merchant.
    pub sku: Option<String>,
    /// New name of the variant.
    pub title: Option<String>,
    /// New price, in the merchant's currency.
    pub price: Option<PriceInput>,
    /// New shipping weight in grams; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub weight_grams: Option<Option<i64>>,
    /// New tax category; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tax_code: Option<Option<String>>,
    /// Whether it may now be sold beyond its stock.
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
    /// Name shown to buyers, 1 to 200 characters.
    #[schema(required = true)]
    pub name: Option<String>,
    /// Defaults to the name as a slug ("-2", "-3"… appended if taken).
    pub handle: Option<String>,
}
