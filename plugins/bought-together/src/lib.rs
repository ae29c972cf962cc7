//! "Often bought together": products that appeared in the same orders as the
//! viewed product or, when no product is viewed, as the products in the cart.
//!
//! Candidates are ranked by co-purchase count, summed over the cart products
//! so that a product bought with several of them ranks higher; ties go to the
//! smaller product id so the order never depends on the catalog's.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use mercato_sdk::recommendations::{Catalog, Context, Recommendation, Recommendations};
use mercato_sdk::{Plugin, PluginError};
use serde::Deserialize;

/// The reason shown with every recommendation.
pub const REASON: &str = "Often bought together";

/// Merchant configuration; `{}` is valid.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Pairs seen in fewer orders than this are ignored (default 2): one
    /// shared order is as likely chance as a pattern.
    #[serde(default = "default_min_count")]
    pub min_count: u32,
}

fn default_min_count() -> u32 {
    2
}

impl Default for Config {
    fn default() -> Config {
        Config { min_count: default_min_count() }
    }
}

/// The bought-together recommender.
pub struct BoughtTogether;

impl Plugin for BoughtTogether {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Bought together",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "min_count": {
      "type": "integer",
      "minimum": 0,
      "maximum": 4294967295,
      "default": 2,
      "description": "Ignore pairs of products bought together in fewer orders than this"
    }
  }
}"#;
}

impl Recommendations for BoughtTogether {
    fn recommend(
        config: &Config,
        context: &Context,
        catalog: &dyn Catalog,
    ) -> Result<Vec<Recommendation>, PluginError> {
        let seeds: Vec<&str> = match &context.product_id {
            Some(id) => vec![id.as_str()],
            None => context.cart_product_ids.iter().map(String::as_str).collect(),
        };
        let excluded: BTreeSet<&str> =
            context.product_id.iter().chain(&context.cart_product_ids).map(String::as_str).collect();
        if context.limit == 0 || seeds.is_empty() {
            return Ok(Vec::new());
        }

        // Ask for more than the limit: some candidates are dropped below.
        let fetch =
            context.limit.saturating_mul(2).saturating_add(u32::try_from(excluded.len()).unwrap_or(u32::MAX));
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for seed in &seeds {
            for pair in catalog.bought_together(seed, fetch) {
                if pair.count >= config.min_count && !excluded.contains(pair.product_id.as_str()) {
                    *counts.entry(pair.product_id).or_default() += u64::from(pair.count);
                }
            }
        }
        let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
        // Stable, and the map iterates by id: equal counts stay in id order.
        ranked.sort_by_key(|(_, count)| Reverse(*count));

        // Look products up lazily: each lookup is a host call.
        Ok(ranked
            .into_iter()
            .filter(|(id, _)| catalog.product(id).is_some_and(|p| p.available))
            .take(context.limit as usize)
            .map(|(product_id, _)| Recommendation { product_id, reason: REASON.into() })
            .collect())
    }
}

mercato_sdk::export_recommendations!(BoughtTogether);

#[cfg(test)]
mod tests {
    use mercato_sdk::recommendations::{CatalogData, Product, ProductCount};
    use mercato_sdk::{Currency, Money};

    use super::*;

    fn product(id: &str, available: bool) -> Product {
        Product {
            id: id.into(),
            title: id.to_uppercase(),
            category_ids: vec![],
            tags: vec![],
            price: Money::new(1000, Currency::USD),
            available,
        }
    }

    fn pairs(list: &[(&str, u32)]) -> Vec<ProductCount> {
        list.iter().map(|(id, count)| ProductCount { product_id: id.to_string(), count: *count }).collect()
    }

    /// p1..p9 available, `gone` unavailable; `ghost` appears only in sales data.
    fn catalog() -> CatalogData {
        let mut products: Vec<Product> = (1..=9).map(|i| product(&format!("p{i}"), true)).collect();
        products.push(product("gone", false));
        let mut bought_together = BTreeMap::new();
        bought_together.insert(
            "p1".into(),
            pairs(&[("p2", 9), ("gone", 8), ("ghost", 7), ("p3", 5), ("p4", 5), ("p5", 1)]),
        );
        bought_together.insert("p6".into(), pairs(&[("p3", 4), ("p7", 6), ("p1", 3)]));
        bought_together.insert("p7".into(), pairs(&[("p8", 3), ("p6", 6)]));
        CatalogData { products, bought_together, bestsellers: vec![] }
    }

    fn viewing(id: &str, cart: &[&str], limit: u32) -> Context {
        Context {
            product_id: Some(id.into()),
            cart_product_ids: cart.iter().map(|s| s.to_string()).collect(),
            customer: None,
            limit,
        }
    }

    fn ids(config: &Config, context: &Context) -> Vec<String> {
        BoughtTogether::recommend(config, context, &catalog())
            .unwrap()
            .into_iter()
            .map(|r| {
                assert_eq!(r.reason, REASON);
                r.product_id
            })
            .collect()
    }

    #[test]
    fn ranks_by_count_and_drops_unavailable_and_unknown_products() {
        assert_eq!(ids(&Config::default(), &viewing("p1", &[], 10)), ["p2", "p3", "p4"]);
    }

    #[test]
    fn min_count_ignores_rare_pairs() {
        let config = Config { min_count: 1 };
        assert_eq!(ids(&config, &viewing("p1", &[], 10)), ["p2", "p3", "p4", "p5"]);
        let config = Config { min_count: 6 };
        assert_eq!(ids(&config, &viewing("p1", &[], 10)), ["p2"]);
    }

    #[test]
    fn excludes_products_already_in_the_cart() {
        assert_eq!(ids(&Config::default(), &viewing("p1", &["p2", "p4"], 10)), ["p3"]);
    }

    #[test]
    fn stops_at_the_limit() {
        assert_eq!(ids(&Config::default(), &viewing("p1", &[], 2)), ["p2", "p3"]);
        assert!(ids(&Config::default(), &viewing("p1", &[], 0)).is_empty());
    }

    #[test]
    fn without_a_viewed_product_sums_over_the_cart_and_dedupes() {
        let context =
            Context { cart_product_ids: vec!["p6".into(), "p7".into()], limit: 10, ..Context::default() };
        // p3: 4 with p6; p1: 3 with p6; p8: 3 with p7; p6 and p7 are in the cart.
        assert_eq!(ids(&Config::default(), &context), ["p3", "p1", "p8"]);
    }

    #[test]
    fn sums_counts_of_a_product_bought_with_several_cart_products() {
        let mut catalog = catalog();
        catalog.bought_together.insert("p8".into(), pairs(&[("p1", 4)]));
        let context =
            Context { cart_product_ids: vec!["p6".into(), "p8".into()], limit: 10, ..Context::default() };
        let list = BoughtTogether::recommend(&Config::default(), &context, &catalog).unwrap();
        let ids: Vec<&str> = list.iter().map(|r| r.product_id.as_str()).collect();
        // p1: 3 + 4 = 7 beats p7 (6) and p3 (4).
        assert_eq!(ids, ["p1", "p7", "p3"]);
    }

    #[test]
    fn nothing_to_go_on_means_no_recommendations() {
        let context = Context { limit: 10, ..Context::default() };
        assert!(ids(&Config::default(), &context).is_empty());
        assert!(ids(&Config::default(), &viewing("p9", &[], 10)).is_empty());
    }

    #[test]
    fn config_defaults_and_rejects_nonsense() {
        let config: Config = mercato_sdk::parse_config("{}").unwrap();
        assert_eq!(config.min_count, 2);
        for bad in [r#"{"min_count":-1}"#, r#"{"min_count":"2"}"#, r#"{"mincount":2}"#] {
            let error = mercato_sdk::parse_config::<Config>(bad).unwrap_err();
            assert_eq!(error.code, "invalid_config", "{bad}");
        }
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::recommendations::<BoughtTogether>,
        );
    }
}
