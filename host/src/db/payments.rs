//! Payment attempts as the reconciler, the reservation expiry and provider
//! callbacks find them.

use crate::db::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::Db;

/// An attempt with what it takes to ask the provider again.
#[derive(Debug, Clone)]
pub struct AttemptRef {
    /// The shop the order belongs to (`mer_…`).
    pub merchant_id: String,
    /// `pay_…`, also the idempotency key the provider is asked with.
    pub attempt_id: String,
    /// The order it pays for (`ord_…`).
    pub order_id: String,
    /// The cart the order was placed from.
    pub cart_id: String,
    /// The payment plugin that takes it (`plg_…`), or `stripe`.
    pub plugin_id: String,
    /// `started`, `succeeded`, `requires_action`, `pending`, `authorized`, `failed`, `unknown` or
    /// `voided`.
    pub status: String,
    /// What is asked for, in minor units: the order's total.
    pub amount: i64,
    /// ISO 4217 code of `amount`.
    pub currency: String,
    /// The payment method token the buyer sent, if any.
    pub token: Option<String>,
    /// The buyer's email address, from the order.
    pub email: String,
    /// The order's number: the reference buyers and providers see.
    pub number: i64,
    /// The provider's id for the payment, once it has answered.
    pub provider_reference: Option<String>,
    /// When the attempt last changed, in unix milliseconds; a claim checks it has not moved.
    pub updated_at: i64,
}

const COLUMNS: &str = "a.merchant_id, a.payment_attempt_id, a.order_id, a.plugin_id, a.status, a.amount, \
     a.currency, a.token, o.email, o.number, o.cart_id, a.provider_reference, a.updated_at \
     from payment_attempt a join sales_order o on o.merchant_id = a.merchant_id and o.order_id = a.order_id";

fn attempt_ref(r: &AnyRow) -> Result<AttemptRef> {
    Ok(AttemptRef {
        merchant_id: r.try_get("merchant_id")?,
        attempt_id: r.try_get("payment_attempt_id")?,
        order_id: r.try_get("order_id")?,
        cart_id: r.try_get("cart_id")?,
        plugin_id: r.try_get("plugin_id")?,
        status: r.try_get("status")?,
        amount: r.try_get("amount")?,
        currency: r.try_get("currency")?,
        token: r.try_get("token")?,
        email: r.try_get("email")?,
        number: r.try_get("number")?,
        provider_reference: r.try_get("provider_reference")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Attempts whose outcome is not known (the host stopped between the
/// order and the provider's answer, or the provider could not be asked),
/// and attempts still pending with `asked_when_pending` (a provider that
/// can be asked about them, whose callback may have been lost), untouched
/// since `before`, oldest first.
pub async fn unsettled(
    db: &Db,
    before: i64,
    limit: u32,
    asked_when_pending: &str,
) -> Result<Vec<AttemptRef>> {
    let rows = sqlx::query(&unsettled_sql())
        .bind(before)
        .bind(i64::from(limit))
        .bind(asked_when_pending)
        .fetch_all(db.reads())
        .await?;
    rows.iter().map(attempt_ref).collect()
}

/// [`unsettled`]'s statement: `$1` before, `$2` limit, `$3` the provider
/// asked about pending attempts.
pub(super) fn unsettled_sql() -> String {
    format!(
        "select {COLUMNS} where (a.status in ('started', 'unknown') \
             or (a.status = 'pending' and a.plugin_id = $3)) and a.updated_at < $1 \
         order by a.updated_at limit $2"
    )
}

/// Claims an attempt for this host: only one of several hosts sharing the
/// database wins a given `(attempt, updated_at)`.
pub async fn claim(db: &Db, a: &AttemptRef, now: i64) -> Result<bool> {
    let row = (a.merchant_id.as_str(), a.attempt_id.as_str());
    super::claim_row(db, ("payment_attempt", "payment_attempt_id"), row, "true", a.updated_at, now).await
}

/// The latest attempt of each order holding stock past its expiry.
///
/// Found from the expired holds (an index range), never by walking every
/// attempt: that walk grew with every order ever placed, and ran every few
/// seconds beside the checkouts.
pub async fn expired_holds(db: &Db, now: i64, limit: u32) -> Result<Vec<AttemptRef>> {
    let rows =
        sqlx::query(&expired_holds_sql()).bind(now).bind(i64::from(limit)).fetch_all(db.reads()).await?;
    rows.iter().map(attempt_ref).collect()
}

/// [`expired_holds`]'s statement: `$1` now, `$2` limit.
pub(super) fn expired_holds_sql() -> String {
    format!(
        "select {COLUMNS} where (a.merchant_id, a.order_id) in (select r.merchant_id, r.order_id \
             from reservation r where r.status = 'active' and r.expires_at < $1) \
         and a.payment_attempt_id = (select x.payment_attempt_id from payment_attempt x \
             where x.merchant_id = a.merchant_id and x.order_id = a.order_id \
             order by x.created_at desc, x.payment_attempt_id desc limit 1) \
         order by a.updated_at limit $2"
    )
}

/// The attempt a provider's reference names, for this merchant.
pub async fn by_reference(
    db: &Db,
    merchant_id: &str,
    plugin_id: &str,
    reference: &str,
) -> Result<Option<AttemptRef>> {
    let sql = format!(
        "select {COLUMNS} where a.merchant_id = $1 and a.plugin_id = $2 and a.provider_reference = $3 \
         order by a.created_at desc limit 1"
    );
    let row = sqlx::query(&sql)
        .bind(merchant_id)
        .bind(plugin_id)
        .bind(reference)
        .fetch_optional(db.reads())
        .await?;
    row.as_ref().map(attempt_ref).transpose()
}

/// One attempt of this merchant's.
pub async fn by_id(db: &Db, merchant_id: &str, attempt_id: &str) -> Result<Option<AttemptRef>> {
    let sql = format!("select {COLUMNS} where a.merchant_id = $1 and a.payment_attempt_id = $2");
    let row = sqlx::query(&sql).bind(merchant_id).bind(attempt_id).fetch_optional(db.reads()).await?;
    row.as_ref().map(attempt_ref).transpose()
}
