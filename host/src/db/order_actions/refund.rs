//! Refunds: two transactions around the provider call. The first claims a
//! `pending` refund whose amount already counts in `refunded_amount` (and
//! its units in the lines' `refunded_quantity`), so concurrent requests see
//! it and nothing is paid back twice; the second records what the provider
//! said, or gives the claim back exactly. A call that ended without an
//! answer (the provider may have paid it back) leaves the refund `unknown`,
//! still claimed; the reconciler asks again with the same key about those,
//! and about refunds left `pending` by a host that stopped mid-way.

use crate::db::Result;
use serde_json::{Value, json};
use sqlx::Row;

use super::{LineQty, Written, lines_json, sync_status};
use crate::db::Db;
use crate::db::orders::{money, record_event, to_json};

/// A line of a refund by lines.
#[derive(Debug, Clone)]
pub struct RefundLine {
    /// The line and units refunded.
    pub line: LineQty,
    /// The line's `refunded_quantity` when the amount was worked out: the
    /// claim fails if it moved meanwhile.
    pub refunded_before: i64,
}

/// A refund to claim.
pub struct RefundClaim<'a> {
    /// The shop the order belongs to (`mer_…`).
    pub merchant_id: &'a str,
    /// The order to refund (`ord_…`).
    pub order_id: &'a str,
    /// `ref_…`, also the provider's idempotency key.
    pub refund_id: &'a str,
    /// What to pay back, in minor units; at most what is captured and not yet refunded.
    pub amount: i64,
    /// The order's currency.
    pub currency: &'a str,
    /// Lines refunded by units; empty for a refund by amount.
    pub lines: &'a [RefundLine],
    /// Why, as the merchant wrote it.
    pub reason: &'a str,
    /// When it is claimed, in unix milliseconds.
    pub now: i64,
}

/// Claims a refund: see the module documentation.
pub async fn claim_refund(db: &Db, r: &RefundClaim<'_>) -> Result<Written> {
    let mut tx = db.begin_write().await?;
    let claimed = sqlx::query(
        "update sales_order set refunded_amount = refunded_amount + $3, updated_at = $4 \
         where merchant_id = $1 and order_id = $2 and cancelled_at is null \
         and payment_status in ('paid', 'partially_refunded') and refunded_amount + $3 <= captured_amount",
    )
    .bind(r.merchant_id)
    .bind(r.order_id)
    .bind(r.amount)
    .bind(r.now)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        let row = sqlx::query(
            "select cancelled_at, payment_status from sales_order where merchant_id = $1 and order_id = $2",
        )
        .bind(r.merchant_id)
        .bind(r.order_id)
        .fetch_one(&mut *tx)
        .await?;
        let cancelled: Option<i64> = row.try_get("cancelled_at")?;
        let payment: String = row.try_get("payment_status")?;
        tx.rollback().await?;
        let refundable = cancelled.is_none() && matches!(payment.as_str(), "paid" | "partially_refunded");
        return Ok(if refundable { Written::ExceedsCaptured } else { Written::WrongState });
    }
    let mut short = Vec::new();
    for (i, l) in r.lines.iter().enumerate() {
        let done = sqlx::query(
            "update order_line set refunded_quantity = refunded_quantity + $4, updated_at = $6 \
             where merchant_id = $1 and order_id = $2 and order_line_id = $3 \
             and refunded_quantity = $5 and refunded_quantity + $4 <= quantity",
        )
        .bind(r.merchant_id)
        .bind(r.order_id)
        .bind(&l.line.line_id)
        .bind(l.line.quantity)
        .bind(l.refunded_before)
        .bind(r.now)
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
    let lines: Vec<LineQty> = r.lines.iter().map(|l| l.line.clone()).collect();
    let lines = lines_json(&lines);
    insert_refund(&mut tx, r.merchant_id, r.order_id, r.refund_id, r.amount, &lines, r.reason, r.now).await?;
    let data = json!({"refund_id": r.refund_id, "amount": money(r.amount, r.currency), "lines": lines,
        "reason": r.reason});
    record_event(&mut tx, r.merchant_id, r.order_id, "refund_pending", data, r.now).await?;
    tx.commit().await?;
    Ok(Written::Done)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_refund(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    order_id: &str,
    refund_id: &str,
    amount: i64,
    lines: &Value,
    reason: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "insert into refund (refund_id, merchant_id, order_id, amount, lines, reason, status, created_at, \
         updated_at) values ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
    )
    .bind(refund_id)
    .bind(merchant_id)
    .bind(order_id)
    .bind(amount)
    .bind(to_json(lines))
    .bind(reason)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the provider's answer to a claimed refund: `Ok(provider
/// reference)` marks it succeeded and the order (partially) refunded,
/// `Err(reason)` gives the amount and line quantities back. The event
/// names the amount in the order's `currency`. False if the refund was
/// settled already.
pub async fn settle_refund(
    db: &Db,
    (merchant_id, currency): (&str, &str),
    refund_id: &str,
    answer: Result<&str, &str>,
    now: i64,
) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "update refund set status = $3, provider_reference = $4, updated_at = $5 \
         where merchant_id = $1 and refund_id = $2 and status in ('pending', 'unknown') \
         returning order_id, amount, lines",
    )
    .bind(merchant_id)
    .bind(refund_id)
    .bind(if answer.is_ok() { "succeeded" } else { "failed" })
    .bind(answer.ok())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    let order_id: String = row.try_get("order_id")?;
    let amount: i64 = row.try_get("amount")?;
    let lines: Value = crate::db::orders::json(&row, "lines")?;
    let paid_back = money(amount, currency);
    let (kind, data) = match answer {
        Ok(reference) => {
            let status = refunded_status(&mut tx, merchant_id, &order_id).await?;
            sqlx::query(
                "update sales_order set payment_status = $3 where merchant_id = $1 and order_id = $2",
            )
            .bind(merchant_id)
            .bind(&order_id)
            .bind(status)
            .execute(&mut *tx)
            .await?;
            let data = json!({"refund_id": refund_id, "amount": paid_back, "lines": lines,
                "provider_reference": reference, "payment_status": status});
            ("refunded", data)
        }
        Err(reason) => {
            give_back(&mut tx, merchant_id, &order_id, amount, &lines, now).await?;
            ("refund_failed", json!({"refund_id": refund_id, "amount": paid_back, "reason": reason}))
        }
    };
    sync_status(&mut tx, merchant_id, &order_id).await?;
    record_event(&mut tx, merchant_id, &order_id, kind, data, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Records that the provider could not be asked about a claimed refund:
/// it stays claimed, as `unknown`, until the reconciler hears back (the
/// event names the amount in the order's `currency`). False if it was
/// settled already.
pub async fn mark_refund_unknown(
    db: &Db,
    (merchant_id, currency): (&str, &str),
    refund_id: &str,
    error: &str,
    now: i64,
) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "update refund set status = 'unknown', updated_at = $3 \
         where merchant_id = $1 and refund_id = $2 and status = 'pending' returning order_id, amount",
    )
    .bind(merchant_id)
    .bind(refund_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    let order_id: String = row.try_get("order_id")?;
    let amount = money(row.try_get("amount")?, currency);
    let data = json!({"refund_id": refund_id, "amount": amount, "error": error});
    record_event(&mut tx, merchant_id, &order_id, "refund_unknown", data, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// A refund not settled (its outcome unknown, or its host stopped before
/// hearing from the provider), as the reconciler needs it.
#[derive(Debug, Clone)]
pub struct UnsettledRefund {
    /// The shop the order belongs to (`mer_…`).
    pub merchant_id: String,
    /// The refunded order (`ord_…`).
    pub order_id: String,
    /// `ref_…`, the idempotency key to ask the provider again with.
    pub refund_id: String,
    /// What is being paid back, in minor units.
    pub amount: i64,
    /// Why, as sent to the provider ("order cancelled" for a cancellation without one).
    pub reason: String,
    /// When the refund last changed, in unix milliseconds; a claim checks it has not moved.
    pub updated_at: i64,
    /// Set when the refund is the one of the order's cancellation (a
    /// refund cannot start on a cancelled order, nor a cancellation while
    /// a refund is unsettled): the cancellation's claim time.
    pub cancelled_at: Option<i64>,
    /// The order's payment status, which a claim leaves as it was.
    pub payment_status: String,
}

/// Refunds left `unknown` or `pending` since before `before`, oldest first
/// (a refund in flight is younger than that).
pub async fn unsettled_refunds(db: &Db, before: i64, limit: u32) -> Result<Vec<UnsettledRefund>> {
    let rows = sqlx::query(
        "select r.merchant_id, r.order_id, r.refund_id, r.amount, r.reason, r.updated_at, o.cancelled_at, \
         o.payment_status from refund r join sales_order o on o.merchant_id = r.merchant_id \
         and o.order_id = r.order_id where r.status in ('pending', 'unknown') and r.updated_at < $1 \
         order by r.updated_at limit $2",
    )
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(db.reads())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UnsettledRefund {
                merchant_id: r.try_get("merchant_id")?,
                order_id: r.try_get("order_id")?,
                refund_id: r.try_get("refund_id")?,
                amount: r.try_get("amount")?,
                reason: r.try_get("reason")?,
                updated_at: r.try_get("updated_at")?,
                cancelled_at: r.try_get("cancelled_at")?,
                payment_status: r.try_get("payment_status")?,
            })
        })
        .collect()
}

/// Takes an unsettled refund for one reconciler run: false if another host
/// took it (or it was settled) since it was listed.
pub async fn claim_unsettled_refund(db: &Db, r: &UnsettledRefund, now: i64) -> Result<bool> {
    let row = (r.merchant_id.as_str(), r.refund_id.as_str());
    let unsettled = "status in ('pending', 'unknown')";
    crate::db::claim_row(db, ("refund", "refund_id"), row, unsettled, r.updated_at, now).await
}

/// `refunded` once the refunds that went through cover what was captured.
async fn refunded_status(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    order_id: &str,
) -> Result<&'static str> {
    let row = sqlx::query(
        "select (select cast(coalesce(sum(amount), 0) as bigint) from refund \
             where merchant_id = $1 and order_id = $2 and status = 'succeeded') as refunded, captured_amount \
         from sales_order where merchant_id = $1 and order_id = $2",
    )
    .bind(merchant_id)
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await?;
    let (refunded, captured): (i64, i64) = (row.try_get("refunded")?, row.try_get("captured_amount")?);
    Ok(if refunded >= captured { "refunded" } else { "partially_refunded" })
}

/// Undoes a refund claim.
pub(super) async fn give_back(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    order_id: &str,
    amount: i64,
    lines: &Value,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "update sales_order set refunded_amount = refunded_amount - $3, updated_at = $4 \
         where merchant_id = $1 and order_id = $2",
    )
    .bind(merchant_id)
    .bind(order_id)
    .bind(amount)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for l in lines.as_array().into_iter().flatten() {
        sqlx::query(
            "update order_line set refunded_quantity = refunded_quantity - $4, updated_at = $5 \
             where merchant_id = $1 and order_id = $2 and order_line_id = $3",
        )
        .bind(merchant_id)
        .bind(order_id)
        .bind(l["line_id"].as_str().unwrap_or_default())
        .bind(l["quantity"].as_i64().unwrap_or_default())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
