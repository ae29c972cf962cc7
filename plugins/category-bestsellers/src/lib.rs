//! Best sellers in the viewed product's categories, topped up with the best
//! sellers of the whole shop when there is no viewed product or its
//! categories give too few.
//!
//! Category best sellers are merged by units sold, not category by category:
//! a product's categories come in no meaningful order, and units sold are
//! comparable across them.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use mercato_sdk::recommendations::{Catalog, Context, Recommendation, Recommendations};
use mercato_sdk::{Plugin, PluginError};
use serde::Deserialize;

/// The reason shown with a best seller of the whole shop.
pub const OVERALL_REASON: &str = "Bestseller";

/// Merchant configuration; `{}` is valid.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Fill up with the shop's overall best sellers (default true).
    #[serde(default = "yes")]
    pub fallback_to_overall: bool,
}

fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Config {
        Config { fallback_to_overall: true }
    }
}

/// The category best sellers recommender.
pub struct CategoryBestsellers;

impl Plugin for CategoryBestsellers {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Category best sellers",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "fallback_to_overall": {
      "type": "boolean",
      "default": true,
      "description": "Fill up with the shop's overall best sellers when there is no viewed product or its categories give too few"
    }
  }
}"#;
}

impl Recommendations for CategoryBestsellers {
    fn recommend(
        config: &Config,
        context: &Context,
        catalog: &dyn Catalog,
    ) -> Result<Vec<Recommendation>, PluginError> {
        let limit = context.limit as usize;
        let excluded: BTreeSet<&str> =
            context.product_id.iter().chain(&context.cart_product_ids).map(String::as_str).collect();
        // Ask for more than the limit: some candidates are dropped below.
        let fetch =
            context.limit.saturating_mul(2).saturating_add(u32::try_from(excluded.len()).unwrap_or(u32::MAX));
        let mut picked = Picked { list: Vec::new(), limit, excluded, catalog };
        if limit == 0 {
            return Ok(picked.list);
        }

        let viewed = context.product_id.as_deref().and_then(|id| catalog.product(id));
        let mut candidates = Vec::new();
        for category in viewed.iter().flat_map(|p| &p.category_ids) {
            for best in catalog.bestsellers(Some(category), fetch) {
                candidates.push((best, category));
            }
        }
        // Stable: on equal units, the category listed first wins.
        candidates.sort_by_key(|(best, _)| Reverse(best.count));
        for (best, category) in candidates {
            picked.offer(best.product_id, || format!("Bestseller in {category}"));
        }

        if config.fallback_to_overall && !picked.is_full() {
            // Products picked above come back here too, so ask for that many more.
            let fetch = fetch.saturating_add(u32::try_from(picked.list.len()).unwrap_or(u32::MAX));
            for best in catalog.bestsellers(None, fetch) {
                picked.offer(best.product_id, || OVERALL_REASON.into());
            }
        }
        Ok(picked.list)
    }
}

/// The recommendations so far and what may not be added to them.
struct Picked<'a> {
    list: Vec<Recommendation>,
    limit: usize,
    excluded: BTreeSet<&'a str>,
    catalog: &'a dyn Catalog,
}

impl Picked<'_> {
    fn is_full(&self) -> bool {
        self.list.len() >= self.limit
    }

    /// Adds the product unless the list is full, it is excluded, already
    /// there, or not for sale.
    fn offer(&mut self, product_id: String, reason: impl FnOnce() -> String) {
        if self.is_full()
            || self.excluded.contains(product_id.as_str())
            || self.list.iter().any(|r| r.product_id == product_id)
        {
            return;
        }
        // Checked last: each lookup is a host call.
        if self.catalog.product(&product_id).is_some_and(|p| p.available) {
            self.list.push(Recommendation { product_id, reason: reason() });
        }
    }
}

mercato_sdk::export_recommendations!(CategoryBestsellers);

#[cfg(test)]
mod tests {
    use mercato_sdk::recommendations::{CatalogData, Product, ProductCount};
    use mercato_sdk::{Currency, Money};

    use super::*;

    fn product(id: &str, categories: &[&str], available: bool) -> Product {
        Product {
            id: id.into(),
            title: id.to_uppercase(),
            category_ids: categories.iter().map(|c| c.to_string()).collect(),
            tags: vec![],
            price: Money::new(2500, Currency::EUR),
            available,
        }
    }

    /// `shoe1` is in shoes and sale; `shoe3` is sold out; `ghost` has sales
    /// but is no longer in the catalog.
    fn catalog() -> CatalogData {
        let products = vec![
            product("shoe1", &["shoes", "sale"], true),
            product("shoe2", &["shoes"], true),
            product("shoe3", &["shoes"], false),
            product("boot1", &["shoes", "boots"], true),
            product("sale1", &["sale"], true),
            product("sock1", &["socks"], true),
            product("hat1", &["hats"], true),
            product("plain", &[], true),
        ];
        let sold = [
            ("hat1", 50),
            ("shoe3", 40),
            ("shoe2", 30),
            ("sale1", 25),
            ("sock1", 20),
            ("boot1", 10),
            ("shoe1", 5),
            ("ghost", 3),
        ];
        CatalogData {
            products,
            bought_together: Default::default(),
            bestsellers: sold
                .iter()
                .map(|(id, count)| ProductCount { product_id: id.to_string(), count: *count })
                .collect(),
        }
    }

    fn context(viewed: Option<&str>, cart: &[&str], limit: u32) -> Context {
        Context {
            product_id: viewed.map(str::to_owned),
            cart_product_ids: cart.iter().map(|s| s.to_string()).collect(),
            customer: None,
            limit,
        }
    }

    fn recommend(config: &Config, context: &Context) -> Vec<(String, String)> {
        CategoryBestsellers::recommend(config, context, &catalog())
            .unwrap()
            .into_iter()
            .map(|r| (r.product_id, r.reason))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    const NO_FALLBACK: Config = Config { fallback_to_overall: false };

    #[test]
    fn ranks_category_bestsellers_by_units_across_categories() {
        let got = recommend(&NO_FALLBACK, &context(Some("shoe1"), &[], 10));
        let want = [
            ("shoe2", "Bestseller in shoes"),
            ("sale1", "Bestseller in sale"),
            ("boot1", "Bestseller in shoes"),
        ];
        assert_eq!(got, pairs(&want));
    }

    #[test]
    fn tops_up_with_overall_bestsellers_without_duplicates() {
        let got = recommend(&Config::default(), &context(Some("shoe1"), &[], 10));
        let want = [
            ("shoe2", "Bestseller in shoes"),
            ("sale1", "Bestseller in sale"),
            ("boot1", "Bestseller in shoes"),
            ("hat1", "Bestseller"),
            ("sock1", "Bestseller"),
        ];
        assert_eq!(got, pairs(&want));
    }

    #[test]
    fn stops_at_the_limit_before_falling_back() {
        let got = recommend(&Config::default(), &context(Some("shoe1"), &[], 2));
        assert_eq!(got, pairs(&[("shoe2", "Bestseller in shoes"), ("sale1", "Bestseller in sale")]));
        assert!(recommend(&Config::default(), &context(Some("shoe1"), &[], 0)).is_empty());
    }

    #[test]
    fn excludes_the_cart_and_sold_out_or_unknown_products() {
        let got = recommend(&Config::default(), &context(Some("shoe1"), &["shoe2", "hat1"], 10));
        let want =
            [("sale1", "Bestseller in sale"), ("boot1", "Bestseller in shoes"), ("sock1", "Bestseller")];
        assert_eq!(got, pairs(&want));
    }

    #[test]
    fn without_a_product_falls_back_to_overall_bestsellers() {
        let want = pairs(&[("hat1", "Bestseller"), ("shoe2", "Bestseller"), ("sale1", "Bestseller")]);
        assert_eq!(recommend(&Config::default(), &context(None, &[], 3)), want);
        // An unknown product or one without categories is no better.
        assert_eq!(recommend(&Config::default(), &context(Some("nope"), &[], 3)), want);
        assert_eq!(recommend(&Config::default(), &context(Some("plain"), &[], 3)), want);
    }

    #[test]
    fn without_fallback_no_product_means_no_recommendations() {
        assert!(recommend(&NO_FALLBACK, &context(None, &["shoe2"], 5)).is_empty());
        assert!(recommend(&NO_FALLBACK, &context(Some("plain"), &[], 5)).is_empty());
    }

    #[test]
    fn config_defaults_and_rejects_nonsense() {
        let config: Config = mercato_sdk::parse_config("{}").unwrap();
        assert!(config.fallback_to_overall);
        for bad in [r#"{"fallback_to_overall":"yes"}"#, r#"{"fallback":true}"#] {
            let error = mercato_sdk::parse_config::<Config>(bad).unwrap_err();
            assert_eq!(error.code, "invalid_config", "{bad}");
        }
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::recommendations::<CategoryBestsellers>,
        );
    }
}
