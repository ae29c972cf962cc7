//! Product recommendations. A failing recommender yields an empty list.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Plugin;
use crate::money::Money;
use crate::types::{Customer, PluginError};

/// A recommender.
pub trait Recommendations: Plugin {
    /// Ranks products for a context, best first. `catalog` is the merchant's
    /// read-only catalog and sales data.
    fn recommend(
        config: &Self::Config,
        context: &Context,
        catalog: &dyn Catalog,
    ) -> Result<Vec<Recommendation>, PluginError>;
}

/// Read-only, merchant-scoped catalog data (a host import).
pub trait Catalog {
    /// One product.
    fn product(&self, id: &str) -> Option<Product>;
    /// Products most often bought with `product_id`, most first.
    fn bought_together(&self, product_id: &str, limit: u32) -> Vec<ProductCount>;
    /// Best sellers by units, optionally in one category, most first.
    fn bestsellers(&self, category_id: Option<&str>, limit: u32) -> Vec<ProductCount>;
}

/// A product as recommenders see it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Product {
    /// Product id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Categories it is in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_ids: Vec<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Lowest variant price.
    pub price: Money,
    /// Active and in stock.
    #[serde(default = "yes")]
    pub available: bool,
}

fn yes() -> bool {
    true
}

/// A product with a count (co-purchases or units sold).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ProductCount {
    /// Product id.
    pub product_id: String,
    /// How many.
    pub count: u32,
}

/// What a recommender is asked.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Context {
    /// The product being viewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Products already in the cart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cart_product_ids: Vec<String>,
    /// The buyer, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// At most this many.
    pub limit: u32,
}

/// One recommended product.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Recommendation {
    /// Product id.
    pub product_id: String,
    /// Shown to the buyer.
    pub reason: String,
}

/// Catalog data held in memory: what fixtures and `mercato plugin run` give a
/// recommender, and what the host snapshots per merchant.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct CatalogData {
    /// Products by id.
    #[serde(default)]
    pub products: Vec<Product>,
    /// Product id -> products bought with it, most first.
    #[serde(default)]
    pub bought_together: BTreeMap<String, Vec<ProductCount>>,
    /// Best sellers over the whole catalog, most first.
    #[serde(default)]
    pub bestsellers: Vec<ProductCount>,
}

impl Catalog for CatalogData {
    fn product(&self, id: &str) -> Option<Product> {
        self.products.iter().find(|p| p.id == id).cloned()
    }

    fn bought_together(&self, product_id: &str, limit: u32) -> Vec<ProductCount> {
        let all = self.bought_together.get(product_id).map(Vec::as_slice).unwrap_or_default();
        all.iter().take(limit as usize).cloned().collect()
    }

    fn bestsellers(&self, category_id: Option<&str>, limit: u32) -> Vec<ProductCount> {
        self.bestsellers
            .iter()
            .filter(|c| match category_id {
                None => true,
                Some(cat) => self
                    .products
                    .iter()
                    .any(|p| p.id == c.product_id && p.category_ids.iter().any(|x| x == cat)),
            })
            .take(limit as usize)
            .cloned()
            .collect()
    }
}

/// A recommendations call as fixtures and `mercato plugin run` spell it.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct RecommendationsInput {
    /// What is asked.
    pub context: Context,
    /// The catalog the plugin may read.
    #[serde(default)]
    pub catalog: CatalogData,
}
