//! Product recommendations: every recommender the merchant bound is asked
//! in binding order, with a read-only snapshot of the merchant's own
//! catalog and sales taken for the request. Their answers are merged,
//! deduplicated and cut to the limit; the host drops the viewed product and
//! anything that cannot be bought now, whatever a plugin said. A failing
//! recommender is skipped: recommendations never fail a page.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use mercato_sdk::recommendations::{CatalogData, Context, Product as CatalogEntry, ProductCount};
use mercato_sdk::{Currency, ExtensionPoint, Money};
use serde::Serialize;

use crate::commerce::catalog::{self, Product};
use crate::commerce::plugins::Binding;
use crate::commerce::{Error, Result, Shop, merchants, parse};
use crate::db::{self, Db};
use crate::runtime::{Call, Runtime, SharedCatalog};

/// Recommendations given when the client does not say.
pub const DEFAULT_LIMIT: u32 = 8;
/// Most recommendations one request may ask for.
pub const MAX_LIMIT: u32 = 50;
/// Longest co-purchase or best seller list in a snapshot.
const SNAPSHOT_LIST: u32 = 100;

/// One recommended product.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recommended {
    /// The product as the storefront shows it.
    pub product: Product,
    /// Why, for the buyer, e.g. "Often bought together".
    pub reason: String,
    /// The recommender, as `name@version`.
    pub plugin: String,
}

/// Parses the `limit` query parameter: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
pub fn parse_limit(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(Error::field("limit", format!("must be between 1 and {MAX_LIMIT}"))),
    }
}

/// Recommendations shown with the active product `id_or_handle`, at most
/// `limit`; with `cart_id`, the recommenders also see that cart's products.
pub async fn for_product(
    shop: &Shop,
    merchant_id: &str,
    id_or_handle: &str,
    cart_id: Option<&str>,
    limit: u32,
) -> Result<Vec<Recommended>> {
    let viewed = catalog::get_active_product(&shop.db, merchant_id, id_or_handle).await?;
    let cart_product_ids = match cart_id {
        None => Vec::new(),
        Some(c) => db::recommendations::cart_product_ids(&shop.db, merchant_id, c)
            .await?
            .ok_or(Error::NotFound("cart"))?,
    };
    let bindings = shop
        .bindings
        .bindings_for(&shop.db, &shop.runtime, merchant_id, ExtensionPoint::Recommendations)
        .await?;
    if bindings.is_empty() {
        return Ok(Vec::new());
    }
    let context = Context { product_id: Some(viewed.id.clone()), cart_product_ids, customer: None, limit };
    let catalog = snapshot(&shop.db, merchant_id, &viewed, &context.cart_product_ids).await?;

    let asked =
        ask_all(shop.runtime.clone(), bindings, merchant_id.to_owned(), context, Arc::new(catalog)).await;
    // Binding order first, then each recommender's own order.
    let mut seen = HashSet::from([viewed.id.clone()]);
    let picked: Vec<(String, String, String)> =
        asked.into_iter().filter(|(id, _, _)| seen.insert(id.clone())).collect();
    let ids: Vec<String> = picked.iter().map(|(id, _, _)| id.clone()).collect();
    // Read again: a plugin may name products outside the snapshot.
    let buyable: HashSet<String> = db::recommendations::products(&shop.db, merchant_id, &ids)
        .await?
        .into_iter()
        .filter(|p| p.available)
        .map(|p| p.id)
        .collect();
    let mut out = Vec::with_capacity(limit as usize);
    for (id, reason, plugin) in picked.into_iter().filter(|(id, _, _)| buyable.contains(id)) {
        if out.len() >= limit as usize {
            break;
        }
        match catalog::get_active_product(&shop.db, merchant_id, &id).await {
            Ok(product) => out.push(Recommended { product, reason, plugin }),
            // Archived or deleted since it was checked.
            Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Calls every binding on the blocking pool; returns (product id, reason,
/// plugin label) in binding order. A failure is logged and skipped.
async fn ask_all(
    runtime: Arc<Runtime>,
    bindings: Arc<Vec<Binding>>,
    merchant_id: String,
    context: Context,
    catalog: SharedCatalog,
) -> Vec<(String, String, String)> {
    let merchant = merchant_id.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        for b in bindings.iter() {
            let call = Call {
                plugin: &b.plugin,
                config: &b.config,
                merchant: &merchant,
                breaker: Some(&b.breaker),
                background: false,
            };
            match runtime.recommendations(call, &context, catalog.clone()) {
                Ok(outcome) => {
                    all.extend(outcome.output.into_iter().map(|r| (r.product_id, r.reason, b.plugin.label())))
                }
                Err(e) => tracing::warn!(
                    merchant = %merchant, plugin = %b.plugin.label(), error = %e, "recommender skipped"
                ),
            }
        }
        all
    })
    .await;
    joined.unwrap_or_else(|e| {
        tracing::warn!(merchant = %merchant_id, error = %e, "recommenders did not finish");
        Vec::new()
    })
}

/// The merchant's catalog data recommenders may read for this request: the
/// viewed and cart products, what was bought with the viewed product, the
/// best sellers overall and in the viewed product's categories, and every
/// product those lists name.
async fn snapshot(db: &Db, merchant_id: &str, viewed: &Product, cart: &[String]) -> Result<CatalogData> {
    let currency = parse::currency(&merchants::get(db, merchant_id).await?.default_currency)
        .map_err(anyhow::Error::msg)?;
    let together = db::recommendations::bought_together(db, merchant_id, &viewed.id, SNAPSHOT_LIST).await?;
    // One list serves every category: it holds the overall top and each
    // category's top, so filtering it by category gives that category's top.
    let mut sold: BTreeMap<String, i64> =
        db::recommendations::bestsellers(db, merchant_id, None, SNAPSHOT_LIST).await?.into_iter().collect();
    for category in &viewed.category_ids {
        sold.extend(db::recommendations::bestsellers(db, merchant_id, Some(category), SNAPSHOT_LIST).await?);
    }
    let mut bestsellers: Vec<ProductCount> = sold.into_iter().map(count).collect();
    // Stable over the id-ordered map: equal counts stay in id order, as in the queries.
    bestsellers.sort_by_key(|c| std::cmp::Reverse(c.count));

    let mut ids: Vec<String> = vec![viewed.id.clone()];
    ids.extend(cart.iter().cloned());
    ids.extend(together.iter().map(|(id, _)| id.clone()));
    ids.extend(bestsellers.iter().map(|c| c.product_id.clone()));
    ids.sort();
    ids.dedup();
    let products = db::recommendations::products(db, merchant_id, &ids)
        .await?
        .into_iter()
        .map(|p| entry(p, currency))
        .collect();
    let bought_together =
        BTreeMap::from([(viewed.id.clone(), together.into_iter().map(count).collect::<Vec<_>>())]);
    Ok(CatalogData { products, bought_together, bestsellers })
}

fn count((product_id, n): (String, i64)) -> ProductCount {
    ProductCount { product_id, count: u32::try_from(n.max(0)).unwrap_or(u32::MAX) }
}

fn entry(p: db::recommendations::CatalogProduct, currency: Currency) -> CatalogEntry {
    CatalogEntry {
        id: p.id,
        title: p.title,
        category_ids: p.category_ids,
        tags: p.tags,
        price: Money::new(p.min_price, currency),
        available: p.available,
    }
}
