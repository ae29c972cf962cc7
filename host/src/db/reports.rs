//! The queries behind reports: sums over indexed ranges, grouped by
//! quarter-hour (every time zone's days start on one), never every order.

use sqlx::Row;

use super::{Db, Result};

/// A quarter-hour, in milliseconds: reports' smallest slot.
pub const SLOT_MS: i64 = 900_000;

/// One quarter-hour's confirmed orders in one currency.
#[derive(Debug, Clone)]
pub struct SlotSales {
    /// `created_at / SLOT_MS`.
    pub slot: i64,
    /// ISO 4217.
    pub currency: String,
    /// Orders.
    pub orders: i64,
    /// Units.
    pub units: i64,
    /// Σ subtotal.
    pub gross: i64,
    /// Σ discount_total.
    pub discounts: i64,
    /// Σ shipping_total.
    pub shipping: i64,
    /// Σ tax_total.
    pub tax: i64,
    /// Σ total.
    pub total: i64,
}

/// Orders placed in `[from, to)` and confirmed (numbered), but not those
/// cancelled before any money was taken, by quarter-hour and currency.
pub async fn sales(db: &Db, merchant_id: &str, from: i64, to: i64) -> Result<Vec<SlotSales>> {
    let rows = sqlx::query(
        "select created_at / 900000 as slot, currency, count(*) as orders, \
         cast(sum(item_count) as bigint) as units, cast(sum(subtotal) as bigint) as gross, \
         cast(sum(discount_total) as bigint) as discounts, cast(sum(shipping_total) as bigint) as shipping, \
         cast(sum(tax_total) as bigint) as tax, cast(sum(total) as bigint) as total \
         from sales_order where merchant_id = $1 and created_at >= $2 and created_at < $3 and number > 0 \
         and not (cancelled_at is not null and captured_amount = 0) \
         group by created_at / 900000, currency",
    )
    .bind(merchant_id)
    .bind(from)
    .bind(to)
    .fetch_all(db.reads())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SlotSales {
                slot: r.try_get("slot")?,
                currency: r.try_get("currency")?,
                orders: r.try_get("orders")?,
                units: r.try_get("units")?,
                gross: r.try_get("gross")?,
                discounts: r.try_get("discounts")?,
                shipping: r.try_get("shipping")?,
                tax: r.try_get("tax")?,
                total: r.try_get("total")?,
            })
        })
        .collect()
}

/// Refunds paid in `[from, to)`: (quarter-hour, currency, amount).
pub async fn refunds(db: &Db, merchant_id: &str, from: i64, to: i64) -> Result<Vec<(i64, String, i64)>> {
    let rows = sqlx::query(
        "select r.created_at / 900000 as slot, o.currency, cast(sum(r.amount) as bigint) as amount \
         from refund r join sales_order o on o.order_id = r.order_id \
         where r.merchant_id = $1 and r.created_at >= $2 and r.created_at < $3 and r.status = 'succeeded' \
         group by r.created_at / 900000, o.currency",
    )
    .bind(merchant_id)
    .bind(from)
    .bind(to)
    .fetch_all(db.reads())
    .await?;
    rows.iter().map(|r| Ok((r.try_get("slot")?, r.try_get("currency")?, r.try_get("amount")?))).collect()
}

/// A product's or a variant's sales in a range.
#[derive(Debug, Clone)]
pub struct ItemSales {
    /// `prod_…`.
    pub product_id: String,
    /// `var_…`, for a variant.
    pub variant_id: Option<String>,
    /// Its SKU, for a variant.
    pub sku: Option<String>,
    /// Its line title (a product's: the first of its lines' titles).
    pub title: String,
    /// ISO 4217.
    pub currency: String,
    /// Units.
    pub units: i64,
    /// Σ line totals.
    pub revenue: i64,
    /// Orders with it.
    pub orders: i64,
}

/// The `limit` best sellers in orders of `[from, to)` counted as in
/// [`sales`], by units then revenue: variants, or whole products.
pub async fn best_sellers(
    db: &Db,
    merchant_id: &str,
    (from, to): (i64, i64),
    per_variant: bool,
    limit: u32,
) -> Result<Vec<ItemSales>> {
    let (item, group) = if per_variant {
        ("l.variant_id, min(l.sku) as sku", "l.product_id, l.variant_id")
    } else {
        ("null as variant_id, null as sku", "l.product_id")
    };
    let sql = format!(
        "select l.product_id, {item}, min(l.title) as title, o.currency, \
         cast(sum(l.quantity) as bigint) as units, cast(sum(l.total) as bigint) as revenue, \
         count(distinct o.order_id) as orders \
         from sales_order o join order_line l on l.merchant_id = o.merchant_id and l.order_id = o.order_id \
         where o.merchant_id = $1 and o.created_at >= $2 and o.created_at < $3 and o.number > 0 \
         and not (o.cancelled_at is not null and o.captured_amount = 0) \
         group by {group}, o.currency order by units desc, revenue desc, title limit $4"
    );
    let rows = sqlx::query(&sql)
        .bind(merchant_id)
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(db.reads())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ItemSales {
                product_id: r.try_get("product_id")?,
                variant_id: r.try_get("variant_id")?,
                sku: r.try_get("sku")?,
                title: r.try_get("title")?,
                currency: r.try_get("currency")?,
                units: r.try_get("units")?,
                revenue: r.try_get("revenue")?,
                orders: r.try_get("orders")?,
            })
        })
        .collect()
}

/// Carts created in `[from, to)` and how far they went: (created, with an
/// e-mail, checkout attempted, confirmed, abandoned, recovered).
pub async fn funnel(db: &Db, merchant_id: &str, from: i64, to: i64) -> Result<[i64; 6]> {
    let r = sqlx::query(
        "select count(*) as created, count(c.email) as with_email, \
         count(case when exists (select 1 from sales_order o where o.merchant_id = c.merchant_id \
           and o.cart_id = c.cart_id) then 1 end) as attempted, \
         count(case when exists (select 1 from sales_order o where o.merchant_id = c.merchant_id \
           and o.cart_id = c.cart_id and o.number > 0) then 1 end) as paid, \
         count(c.abandoned_at) as abandoned, count(c.recovered_at) as recovered \
         from cart c where c.merchant_id = $1 and c.created_at >= $2 and c.created_at < $3",
    )
    .bind(merchant_id)
    .bind(from)
    .bind(to)
    .fetch_one(db.reads())
    .await?;
    Ok([
        r.try_get("created")?,
        r.try_get("with_email")?,
        r.try_get("attempted")?,
        r.try_get("paid")?,
        r.try_get("abandoned")?,
        r.try_get("recovered")?,
    ])
}
