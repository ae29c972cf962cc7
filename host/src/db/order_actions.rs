//! What happens to an order after checkout: fulfillments and returns here,
//! refunds and cancellations (which move money) in [`refund`] and [`cancel`].
//!
//! Every transaction starts by updating the order row on a condition that
//! says the action is still allowed, so actions on one order are
//! serialised (a row lock on PostgreSQL, the write lock on SQLite) and each
//! re-checks the state it depends on. Line quantities move by conditional
//! updates (`fulfilled_quantity + q <= quantity`), so concurrent requests
//! can never over-fulfil, over-return or over-refund. Each change is
//! recorded with [`record_event`] in its transaction.

mod cancel;
mod refund;

pub use cancel::{Cancel, CancelPayment, claim_cancel, settle_cancel};
pub use refund::{
    RefundClaim, RefundLine, UnsettledRefund, claim_refund, claim_unsettled_refund, mark_refund_unknown,
    settle_refund, unsettled_refunds,
};

use crate::db::Result;
use serde_json::json;
use sqlx::Row;

use super::Db;
use super::orders::{record_event, to_json};
use crate::model::orders::OrderStatus;

/// A quantity of one order line.
#[derive(Debug, Clone)]
pub struct LineQty {
    /// The order line (`ol_…`).
    pub line_id: String,
    /// Units of it, 1 or more.
    pub quantity: i64,
}

/// What a write did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// Written, with its event.
    Done,
    /// The order is not (any more) in a state that allows this: nothing written.
    WrongState,
    /// These lines (indexes in the request) have less left than asked, or
    /// changed meanwhile: nothing written.
    Short(Vec<usize>),
    /// The refund would exceed what is captured and not yet refunded.
    ExceedsCaptured,
    /// Nowhere to put returned stock: the merchant has no location.
    NoLocation,
}

/// An order that may be shipped: not cancelled, and paid, or its payment
/// authorized (to capture) or reported pending (bank transfer, invoice).
const FULFILLABLE: &str = "cancelled_at is null and (payment_status in ('paid', 'partially_refunded') \
     or (payment_status in ('pending', 'authorized') and exists (select 1 from payment_attempt a \
         where a.merchant_id = sales_order.merchant_id and a.order_id = sales_order.order_id \
         and a.status = sales_order.payment_status)))";

/// Writes to the order row when `condition` holds (taking its lock); the
/// order's number if it did.
async fn lock(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    order_id: &str,
    condition: &str,
    now: i64,
) -> Result<Option<i64>> {
    let sql = format!(
        "update sales_order set updated_at = $3 where merchant_id = $1 and order_id = $2 and {condition} \
         returning number"
    );
    let row = sqlx::query(&sql).bind(merchant_id).bind(order_id).bind(now).fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| r.try_get("number")).transpose()?)
}

/// Stores the overall status derived from the sub-statuses.
async fn sync_status(conn: &mut crate::db::Conn, merchant_id: &str, order_id: &str) -> Result<()> {
    let row = sqlx::query(
        "select cancelled_at, payment_status, fulfillment_status from sales_order \
         where merchant_id = $1 and order_id = $2",
    )
    .bind(merchant_id)
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await?;
    let cancelled: Option<i64> = row.try_get("cancelled_at")?;
    let payment: String = row.try_get("payment_status")?;
    let fulfillment: String = row.try_get("fulfillment_status")?;
    let status = OrderStatus::derive(cancelled.is_some(), &payment, &fulfillment);
    sqlx::query("update sales_order set status = $3 where merchant_id = $1 and order_id = $2")
        .bind(merchant_id)
        .bind(order_id)
        .bind(status.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn lines_json(lines: &[LineQty]) -> serde_json::Value {
    json!(lines.iter().map(|l| json!({"line_id": l.line_id, "quantity": l.quantity})).collect::<Vec<_>>())
}

/// A new fulfillment.
pub struct NewFulfillment<'a> {
    /// The shop the order belongs to (`mer_…`).
    pub merchant_id: &'a str,
    /// The order to ship (`ord_…`).
    pub order_id: &'a str,
    /// `ful_…`, made by the caller.
    pub fulfillment_id: &'a str,
    /// The units shipped, each within what is left to ship.
    pub lines: &'a [LineQty],
    /// Who carries the parcel, if given.
    pub carrier: Option<&'a str>,
    /// The carrier's tracking number, if given.
    pub tracking_number: Option<&'a str>,
    /// When it shipped, in unix milliseconds.
    pub now: i64,
}

/// Ships lines of an order: see the module documentation.
pub async fn fulfill(db: &Db, f: &NewFulfillment<'_>) -> Result<Written> {
    let mut tx = db.begin_write().await?;
    if lock(&mut tx, f.merchant_id, f.order_id, FULFILLABLE, f.now).await?.is_none() {
        tx.rollback().await?;
        return Ok(Written::WrongState);
    }
    let mut short = Vec::new();
    for (i, l) in f.lines.iter().enumerate() {
        let done = sqlx::query(
            "update order_line set fulfilled_quantity = fulfilled_quantity + $4, updated_at = $5 \
             where merchant_id = $1 and order_id = $2 and order_line_id = $3 \
             and fulfilled_quantity + $4 <= quantity",
        )
        .bind(f.merchant_id)
        .bind(f.order_id)
        .bind(&l.line_id)
        .bind(l.quantity)
        .bind(f.now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            short.push(i);
        }
    }
    if !short.is_empty() {
        tx.rollback().await?;
        return Ok(Written::Short(short));
    }
    let totals = sqlx::query(
        "select cast(sum(quantity) as bigint) as quantity, cast(sum(fulfilled_quantity) as bigint) as fulfilled \
         from order_line where merchant_id = $1 and order_id = $2",
    )
    .bind(f.merchant_id)
    .bind(f.order_id)
    .fetch_one(&mut *tx)
    .await?;
    let (quantity, fulfilled): (i64, i64) = (totals.try_get("quantity")?, totals.try_get("fulfilled")?);
    let status = if fulfilled >= quantity { "fulfilled" } else { "partially_fulfilled" };
    sqlx::query("update sales_order set fulfillment_status = $3 where merchant_id = $1 and order_id = $2")
        .bind(f.merchant_id)
        .bind(f.order_id)
        .bind(status)
        .execute(&mut *tx)
        .await?;
    let lines = lines_json(f.lines);
    sqlx::query(
        "insert into fulfillment (fulfillment_id, merchant_id, order_id, lines, carrier, tracking_number, \
         created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(f.fulfillment_id)
    .bind(f.merchant_id)
    .bind(f.order_id)
    .bind(to_json(&lines))
    .bind(f.carrier)
    .bind(f.tracking_number)
    .bind(f.now)
    .execute(&mut *tx)
    .await?;
    sync_status(&mut tx, f.merchant_id, f.order_id).await?;
    let data = json!({"fulfillment_id": f.fulfillment_id, "lines": lines, "carrier": f.carrier,
        "tracking_number": f.tracking_number, "fulfillment_status": status});
    record_event(&mut tx, f.merchant_id, f.order_id, "fulfilled", data, f.now).await?;
    tx.commit().await?;
    Ok(Written::Done)
}

/// Goods coming back.
pub struct NewReturn<'a> {
    /// The shop the order belongs to (`mer_…`).
    pub merchant_id: &'a str,
    /// The order the goods came from (`ord_…`).
    pub order_id: &'a str,
    /// `ret_…`, made by the caller.
    pub return_id: &'a str,
    /// The units returned, each within what was shipped and not yet returned.
    pub lines: &'a [LineQty],
    /// Why they came back, as the merchant wrote it.
    pub reason: &'a str,
    /// Whether to put the units back in stock.
    pub restock: bool,
    /// Where to put the stock back; by default where it was reserved from,
    /// else the merchant's first location.
    pub location_id: Option<&'a str>,
    /// When they came back, in unix milliseconds.
    pub now: i64,
}

/// Records a return of shipped goods, restocking them if asked.
pub async fn record_return(db: &Db, r: &NewReturn<'_>) -> Result<Written> {
    let mut tx = db.begin_write().await?;
    let Some(number) = lock(&mut tx, r.merchant_id, r.order_id, "cancelled_at is null", r.now).await? else {
        tx.rollback().await?;
        return Ok(Written::WrongState);
    };
    let mut short = Vec::new();
    let mut variants = Vec::new();
    for (i, l) in r.lines.iter().enumerate() {
        let row = sqlx::query(
            "update order_line set returned_quantity = returned_quantity + $4, updated_at = $5 \
             where merchant_id = $1 and order_id = $2 and order_line_id = $3 \
             and returned_quantity + $4 <= fulfilled_quantity returning variant_id",
        )
        .bind(r.merchant_id)
        .bind(r.order_id)
        .bind(&l.line_id)
        .bind(l.quantity)
        .bind(r.now)
        .fetch_optional(&mut *tx)
        .await?;
        match row {
            Some(row) => variants.push(row.try_get::<String, _>("variant_id")?),
            None => short.push(i),
        }
    }
    if !short.is_empty() {
        tx.rollback().await?;
        return Ok(Written::Short(short));
    }
    let mut lines = Vec::new();
    for (l, variant_id) in r.lines.iter().zip(&variants) {
        let mut entry = json!({"line_id": l.line_id, "quantity": l.quantity});
        if r.restock {
            let Some(location_id) = restock_location(&mut tx, r, &l.line_id).await? else {
                tx.rollback().await?;
                return Ok(Written::NoLocation);
            };
            let reason = format!("order #{number} returned");
            let level = (variant_id.as_str(), location_id.as_str());
            super::inventory::move_on_hand(&mut tx, r.merchant_id, level, l.quantity, false, &reason, r.now)
                .await?;
            entry["location_id"] = json!(location_id);
        }
        lines.push(entry);
    }
    sqlx::query(
        "insert into order_return (order_return_id, merchant_id, order_id, lines, reason, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(r.return_id)
    .bind(r.merchant_id)
    .bind(r.order_id)
    .bind(to_json(&lines))
    .bind(r.reason)
    .bind(r.now)
    .execute(&mut *tx)
    .await?;
    let data = json!({"return_id": r.return_id, "lines": lines, "reason": r.reason, "restock": r.restock});
    record_event(&mut tx, r.merchant_id, r.order_id, "returned", data, r.now).await?;
    tx.commit().await?;
    Ok(Written::Done)
}

async fn restock_location(
    conn: &mut crate::db::Conn,
    r: &NewReturn<'_>,
    line_id: &str,
) -> Result<Option<String>> {
    if let Some(l) = r.location_id {
        return Ok(Some(l.to_owned()));
    }
    let reserved = sqlx::query(
        "select location_id from reservation where merchant_id = $1 and order_id = $2 and order_line_id = $3 \
         order by created_at, reservation_id limit 1",
    )
    .bind(r.merchant_id)
    .bind(r.order_id)
    .bind(line_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = reserved {
        return Ok(Some(row.try_get("location_id")?));
    }
    let first = sqlx::query(
        "select location_id from location where merchant_id = $1 order by created_at, location_id limit 1",
    )
    .bind(r.merchant_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(first.map(|row| row.try_get("location_id")).transpose()?)
}
