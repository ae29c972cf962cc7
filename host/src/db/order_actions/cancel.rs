//! Cancellation, in the same two steps as a refund when money must go back
//! or a payment be called off: the claim sets `cancelled_at` (so nothing
//! ships meanwhile), counts the refund in `refunded_amount` or marks the
//! attempt voided (so a late provider callback cannot mark it paid); the
//! second transaction puts the stock back and records the outcome, or
//! restores the order exactly as it was.

use crate::db::Result;
use serde_json::json;
use sqlx::Row;

use super::refund::{give_back, insert_refund};
use super::sync_status;
use crate::db::Db;
use crate::db::checkout::{release, set_reservations};
use crate::db::inventory::move_on_hand;
use crate::db::orders::{money, record_event};

/// What a cancellation does with the money.
#[derive(Debug, Clone, Copy)]
pub enum CancelPayment<'a> {
    /// Nothing was taken and nothing is on its way.
    Nothing,
    /// Pay back what is captured and not refunded (`amount`).
    Refund {
        /// `ref_…`, also the provider's idempotency key.
        refund_id: &'a str,
        /// Minor units: everything captured and not yet refunded.
        amount: i64,
    },
    /// Call off an uncaptured payment attempt now in `from_status`.
    Void {
        /// The payment attempt to call off (`pay_…`).
        attempt_id: &'a str,
        /// Its status now, `pending` or `requires_action`; the void only applies from it.
        from_status: &'a str,
    },
}

/// A cancellation.
pub struct Cancel<'a> {
    /// The shop the order belongs to (`mer_…`).
    pub merchant_id: &'a str,
    /// The order to cancel (`ord_…`).
    pub order_id: &'a str,
    /// Why, as the merchant wrote it, if given.
    pub reason: Option<&'a str>,
    /// The order's payment status the decision was made on.
    pub payment_status: &'a str,
    /// What happens to the money.
    pub payment: CancelPayment<'a>,
    /// The order's currency.
    pub currency: &'a str,
    /// When it was claimed: its `cancelled_at`.
    pub now: i64,
}

/// Claims a cancellation: the order must still be uncancelled, unshipped,
/// in `payment_status`, with exactly the refund amount left and no refund
/// under way (or of unknown outcome). With nothing to ask a provider it is also finished here.
/// False if the order changed meanwhile (nothing written).
///
/// What a concurrent action changed is checked on the order row itself
/// (a fulfillment sets `fulfillment_status`, a refund `refunded_amount`):
/// PostgreSQL re-checks a waiting update against the new version of the
/// row it updates, but not against other tables.
pub async fn claim_cancel(db: &Db, c: &Cancel<'_>) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let amount = match c.payment {
        CancelPayment::Refund { amount, .. } => amount,
        _ => 0,
    };
    let claimed = sqlx::query(
        "update sales_order set cancelled_at = $3, refunded_amount = refunded_amount + $5, updated_at = $3 \
         where merchant_id = $1 and order_id = $2 and cancelled_at is null and payment_status = $4 \
         and refunded_amount + $5 = captured_amount and fulfillment_status = 'unfulfilled' \
         and not exists (select 1 from refund r where r.merchant_id = sales_order.merchant_id \
             and r.order_id = sales_order.order_id and r.status in ('pending', 'unknown'))",
    )
    .bind(c.merchant_id)
    .bind(c.order_id)
    .bind(c.now)
    .bind(c.payment_status)
    .bind(amount)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    let data = match c.payment {
        CancelPayment::Nothing => {
            finish_cancel(&mut tx, c, None, c.now).await?;
            tx.commit().await?;
            return Ok(true);
        }
        CancelPayment::Refund { refund_id, amount } => {
            let reason = c.reason.unwrap_or("order cancelled");
            insert_refund(&mut tx, c.merchant_id, c.order_id, refund_id, amount, &json!([]), reason, c.now)
                .await?;
            json!({"reason": c.reason, "refund_id": refund_id, "amount": money(amount, c.currency)})
        }
        CancelPayment::Void { attempt_id, from_status } => {
            let voided = sqlx::query(
                "update payment_attempt set status = 'voided', updated_at = $4 \
                 where merchant_id = $1 and payment_attempt_id = $2 and status = $3",
            )
            .bind(c.merchant_id)
            .bind(attempt_id)
            .bind(from_status)
            .bind(c.now)
            .execute(&mut *tx)
            .await?;
            if voided.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            json!({"reason": c.reason, "void_attempt_id": attempt_id})
        }
    };
    sync_status(&mut tx, c.merchant_id, c.order_id).await?;
    record_event(&mut tx, c.merchant_id, c.order_id, "cancel_requested", data, c.now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Records the provider's answer to a claimed cancellation: `Ok(provider
/// reference)` finishes it, `Err(reason)` gives the order back as it was.
/// False if it was settled already.
pub async fn settle_cancel(db: &Db, c: &Cancel<'_>, answer: Result<&str, &str>, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let ours = sqlx::query(
        "update sales_order set updated_at = $5 where merchant_id = $1 and order_id = $2 \
         and cancelled_at = $3 and payment_status = $4",
    )
    .bind(c.merchant_id)
    .bind(c.order_id)
    .bind(c.now)
    .bind(c.payment_status)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if ours.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    match answer {
        Ok(reference) => finish_cancel(&mut tx, c, Some(reference), now).await?,
        Err(reason) => {
            sqlx::query(
                "update sales_order set cancelled_at = null where merchant_id = $1 and order_id = $2",
            )
            .bind(c.merchant_id)
            .bind(c.order_id)
            .execute(&mut *tx)
            .await?;
            let data = match c.payment {
                CancelPayment::Refund { refund_id, amount } => {
                    sqlx::query("update refund set status = 'failed', updated_at = $3 where merchant_id = $1 and refund_id = $2")
                        .bind(c.merchant_id)
                        .bind(refund_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    give_back(&mut tx, c.merchant_id, c.order_id, amount, &json!([]), now).await?;
                    json!({"reason": reason, "refund_id": refund_id})
                }
                CancelPayment::Void { attempt_id, from_status } => {
                    sqlx::query(
                        "update payment_attempt set status = $3, updated_at = $4 \
                         where merchant_id = $1 and payment_attempt_id = $2 and status = 'voided'",
                    )
                    .bind(c.merchant_id)
                    .bind(attempt_id)
                    .bind(from_status)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    json!({"reason": reason, "void_attempt_id": attempt_id})
                }
                CancelPayment::Nothing => json!({"reason": reason}),
            };
            sync_status(&mut tx, c.merchant_id, c.order_id).await?;
            record_event(&mut tx, c.merchant_id, c.order_id, "cancel_failed", data, now).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Puts the stock back (held stock released, sold stock returned to where
/// it was taken from), records the money and the `cancelled` event.
async fn finish_cancel(
    conn: &mut crate::db::Conn,
    c: &Cancel<'_>,
    reference: Option<&str>,
    now: i64,
) -> Result<()> {
    let number: i64 = sqlx::query("select number from sales_order where merchant_id = $1 and order_id = $2")
        .bind(c.merchant_id)
        .bind(c.order_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("number")?;
    release(conn, c.merchant_id, c.order_id, now).await?;
    let order = (c.merchant_id, c.order_id);
    let consumed = set_reservations(conn, order, "consumed", "released", now).await?;
    let reason = format!("order #{number} cancelled");
    for h in &consumed {
        let level = (h.variant_id.as_str(), h.location_id.as_str());
        move_on_hand(conn, c.merchant_id, level, h.quantity, false, &reason, now).await?;
    }
    let mut data = json!({"reason": c.reason});
    let payment_status = match c.payment {
        CancelPayment::Nothing => None,
        CancelPayment::Refund { refund_id, amount } => {
            sqlx::query(
                "update refund set status = 'succeeded', provider_reference = $3, updated_at = $4 \
                 where merchant_id = $1 and refund_id = $2",
            )
            .bind(c.merchant_id)
            .bind(refund_id)
            .bind(reference)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            data["refund_id"] = json!(refund_id);
            data["refunded"] = money(amount, c.currency);
            Some("refunded")
        }
        CancelPayment::Void { attempt_id, .. } => {
            data["voided_attempt_id"] = json!(attempt_id);
            Some("voided")
        }
    };
    sqlx::query(
        "update sales_order set payment_status = coalesce($3, payment_status) \
         where merchant_id = $1 and order_id = $2",
    )
    .bind(c.merchant_id)
    .bind(c.order_id)
    .bind(payment_status)
    .execute(&mut *conn)
    .await?;
    data["payment_status"] = json!(payment_status.unwrap_or(c.payment_status));
    data["restocked"] = json!(consumed.len());
    sync_status(conn, c.merchant_id, c.order_id).await?;
    record_event(conn, c.merchant_id, c.order_id, "cancelled", data, now).await
}
