//! What recommenders may read, per merchant: co-purchases and units sold
//! from real orders, and products with whether they can be bought now.
//!
//! An order counts once it is placed and not given up on: not cancelled and
//! paid, pending payment or only partly refunded. Lists name only live,
//! active products, so a bounded list is not filled up with products no
//! one can buy.

use crate::db::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::Db;

/// Orders whose lines count as sales (`o` is the `sales_order`).
const SOLD: &str = "o.cancelled_at is null and o.payment_status in ('paid', 'pending', 'partially_refunded')";

/// A product as recommenders see it, before it is priced in a currency.
#[derive(Debug, Clone)]
pub struct CatalogProduct {
    /// `prod_…`.
    pub id: String,
    /// Name shown to buyers.
    pub title: String,
    /// Its categories (`cat_…`).
    pub category_ids: Vec<String>,
    /// Its free labels.
    pub tags: Vec<String>,
    /// The lowest live variant price (0 without variants).
    pub min_price: i64,
    /// Active, not deleted, and some live variant is in stock or backorderable.
    pub available: bool,
}

/// `$first, $first+1, …` for `n` values.
fn counts(rows: &[AnyRow]) -> Result<Vec<(String, i64)>> {
    rows.iter().map(|r| Ok((r.try_get("product_id")?, r.try_get("n")?))).collect()
}

/// Products sold in the same orders as `product_id`, with the number of
/// such orders, most first (ties by id).
pub async fn bought_together(
    db: &Db,
    merchant_id: &str,
    product_id: &str,
    limit: u32,
) -> Result<Vec<(String, i64)>> {
    let sql = format!(
        "select b.product_id, cast(count(distinct b.order_id) as bigint) as n \
         from order_line a \
         join sales_order o on o.merchant_id = a.merchant_id and o.order_id = a.order_id \
         join order_line b on b.merchant_id = a.merchant_id and b.order_id = a.order_id \
             and b.product_id <> a.product_id \
         join product p on p.merchant_id = b.merchant_id and p.product_id = b.product_id \
         where a.merchant_id = $1 and a.product_id = $2 and {SOLD} \
             and p.deleted_at is null and p.status = 'active' \
         group by b.product_id order by n desc, b.product_id limit $3"
    );
    let rows = sqlx::query(&sql)
        .bind(merchant_id)
        .bind(product_id)
        .bind(i64::from(limit))
        .fetch_all(db.reads())
        .await?;
    counts(&rows)
}

/// Products by units sold, optionally only those in `category_id`, most
/// first (ties by id).
pub async fn bestsellers(
    db: &Db,
    merchant_id: &str,
    category_id: Option<&str>,
    limit: u32,
) -> Result<Vec<(String, i64)>> {
    let in_category = if category_id.is_some() {
        "and exists (select 1 from product_category pc where pc.merchant_id = l.merchant_id \
         and pc.product_id = l.product_id and pc.category_id = $3)"
    } else {
        ""
    };
    let sql = format!(
        "select l.product_id, cast(sum(l.quantity) as bigint) as n \
         from order_line l \
         join sales_order o on o.merchant_id = l.merchant_id and o.order_id = l.order_id \
         join product p on p.merchant_id = l.merchant_id and p.product_id = l.product_id \
         where l.merchant_id = $1 and {SOLD} and p.deleted_at is null and p.status = 'active' {in_category} \
         group by l.product_id order by n desc, l.product_id limit $2"
    );
    let mut q = sqlx::query(&sql).bind(merchant_id).bind(i64::from(limit));
    if let Some(c) = category_id {
        q = q.bind(c);
    }
    counts(&q.fetch_all(db.reads()).await?)
}

/// The merchant's products among `ids` (unknown ids are left out), in no
/// particular order.
pub async fn products(db: &Db, merchant_id: &str, ids: &[String]) -> Result<Vec<CatalogProduct>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select p.product_id, p.title, p.tags, cast(coalesce(p.min_price, 0) as bigint) as min_price, \
         cast(case when p.deleted_at is null and p.status = 'active' and exists ( \
             select 1 from variant v where v.merchant_id = p.merchant_id and v.product_id = p.product_id \
             and v.deleted_at is null and (v.inventory_policy = 'allow_backorder' or ( \
                 select cast(coalesce(sum(i.on_hand - i.reserved), 0) as bigint) from inventory_level i \
                 where i.merchant_id = v.merchant_id and i.variant_id = v.variant_id) > 0)) \
         then 1 else 0 end as bigint) as available, \
         (select {} from product_category pc \
          where pc.merchant_id = p.merchant_id and pc.product_id = p.product_id) as category_ids \
         from product p where p.merchant_id = $1 and p.product_id in {}",
        db.list_agg("pc.category_id", "pc.category_id"),
        super::row_values(1, "", ids.len(), 2)
    );
    let rows = ids
        .iter()
        .fold(sqlx::query(&sql).bind(merchant_id), |q, id| q.bind(id))
        .fetch_all(db.reads())
        .await?;
    rows.iter()
        .map(|r| {
            let available: i64 = r.try_get("available")?;
            Ok(CatalogProduct {
                category_ids: super::split_list(r.try_get("category_ids")?),
                id: r.try_get("product_id")?,
                title: r.try_get("title")?,
                tags: super::json(r, "tags")?,
                min_price: r.try_get("min_price")?,
                available: available != 0,
            })
        })
        .collect()
}

/// The products in the merchant's cart `cart_id`, in the order they were
/// first added; `None` if the merchant has no such cart.
pub async fn cart_product_ids(db: &Db, merchant_id: &str, cart_id: &str) -> Result<Option<Vec<String>>> {
    let exists = sqlx::query("select cart_id from cart where merchant_id = $1 and cart_id = $2")
        .bind(merchant_id)
        .bind(cart_id)
        .fetch_optional(db.reads())
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query(
        "select v.product_id from cart_line l \
         join variant v on v.merchant_id = l.merchant_id and v.variant_id = l.variant_id \
         where l.merchant_id = $1 and l.cart_id = $2 order by l.cart_line_id",
    )
    .bind(merchant_id)
    .bind(cart_id)
    .fetch_all(db.reads())
    .await?;
    let mut ids: Vec<String> = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("product_id")?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(Some(ids))
}
