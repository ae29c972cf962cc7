//! The outbox: every event, written in the transaction of its change, and
//! read as the merchant's event feed.

use sqlx::Row;

use super::emails::Queued;
use super::webhooks::NewDelivery;
use super::{Arg, Backend, Db, Result, Sql};
use crate::model::events::Event;
use crate::model::ids::new_id;

/// Writes an event of type `kind` (`resource.what`) about `resource_id` to
/// the outbox, on the caller's transaction; its id.
pub(crate) async fn record(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    kind: &str,
    resource_id: &str,
    payload: &serde_json::Value,
    now: i64,
) -> Result<String> {
    let (id, insert) = record_sql(merchant_id, kind, resource_id, payload, now);
    insert.execute(conn).await?;
    Ok(id)
}

/// [`record`] as a statement for the caller's [`Batch`](super::Batch), and
/// the event's id.
pub(crate) fn record_sql(
    merchant_id: &str,
    kind: &str,
    resource_id: &str,
    payload: &serde_json::Value,
    now: i64,
) -> (String, Sql) {
    let id = new_id("obx");
    debug_assert!(crate::model::events::is_type(kind), "{kind} is not in model::events::TYPES");
    let insert = Sql::with(
        "insert into outbox (outbox_id, merchant_id, topic, aggregate_id, payload, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $6)",
        [
            (&id).into(),
            merchant_id.into(),
            kind.into(),
            resource_id.into(),
            super::to_json(payload).into(),
            now.into(),
        ],
    );
    (id, insert)
}

/// Writes an event that goes with no other change (one the host noticed
/// in memory, such as a plugin's circuit opening), in its own transaction.
pub async fn add(
    db: &Db,
    merchant_id: &str,
    kind: &str,
    resource_id: &str,
    payload: &serde_json::Value,
) -> Result<()> {
    let mut tx = db.begin_write().await?;
    record(&mut tx, merchant_id, kind, resource_id, payload, super::now_ms()).await?;
    tx.commit().await
}

/// The merchant's events after `after` (an id), oldest first, of type
/// `kind` when given.
pub async fn list(
    db: &Db,
    merchant_id: &str,
    kind: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Event>> {
    let mut sql = "select outbox_id, topic, aggregate_id, payload, created_at from outbox \
         where merchant_id = $1 and outbox_id > $2"
        .to_owned();
    if kind.is_some() {
        sql.push_str(" and topic = $4");
    }
    sql.push_str(" order by outbox_id limit $3");
    let mut query = sqlx::query(&sql).bind(merchant_id).bind(after.unwrap_or("")).bind(i64::from(limit));
    if let Some(kind) = kind {
        query = query.bind(kind);
    }
    let rows = query.fetch_all(db.reads()).await?;
    rows.iter()
        .map(|r| {
            Ok(Event::new(
                r.try_get("outbox_id")?,
                r.try_get("topic")?,
                r.try_get("aggregate_id")?,
                super::json(r, "payload")?,
                r.try_get("created_at")?,
            ))
        })
        .collect()
}

/// What one fan-out did.
#[derive(Debug, Clone, Copy, Default)]
pub struct FannedOut {
    /// Events fanned out.
    pub events: usize,
    /// E-mails they queued (or recorded as not sent).
    pub mails: usize,
}

/// Turns up to `limit` events of the outbox not yet fanned out into one
/// webhook delivery per enabled endpoint that wants its type and the
/// e-mail the event sends (see [`crate::model::emails::for_event`]; with
/// `mail_off`, recorded as not sent for that reason), and marks them
/// fanned out, all in one transaction.
pub async fn fan_out(
    db: &Db,
    now: i64,
    limit: u32,
    give_up_after_ms: i64,
    mail_off: Option<&str>,
) -> Result<FannedOut> {
    // A plain read first: most passes find nothing, and need not wait for
    // (or hold) the write lock to learn it.
    let waiting: Option<String> =
        sqlx::query_scalar("select outbox_id from outbox where delivered_at is null limit 1")
            .fetch_optional(db.reads())
            .await?;
    if waiting.is_none() {
        return Ok(FannedOut::default());
    }
    let mut tx = db.begin_write_relaxed().await?;
    let lock = if db.backend() == Backend::Postgres { " for update skip locked" } else { "" };
    let events = sqlx::query(&format!(
        "select outbox_id, merchant_id, topic, aggregate_id, created_at from outbox \
         where delivered_at is null order by outbox_id limit $1{lock}"
    ))
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    if events.is_empty() {
        tx.rollback().await?;
        return Ok(FannedOut::default());
    }
    let mut merchants: Vec<String> =
        events.iter().map(|r| r.try_get("merchant_id")).collect::<std::result::Result<_, _>>()?;
    merchants.sort();
    merchants.dedup();
    let endpoints = super::webhooks::enabled_endpoints(&mut tx, &merchants).await?;
    let (mut deliveries, mut mails, mut ids) = (Vec::new(), Vec::new(), Vec::with_capacity(events.len()));
    for e in &events {
        let (event_id, merchant, topic): (String, String, String) =
            (e.try_get("outbox_id")?, e.try_get("merchant_id")?, e.try_get("topic")?);
        let (resource, created): (String, i64) = (e.try_get("aggregate_id")?, e.try_get("created_at")?);
        for (m, endpoint_id, types) in &endpoints {
            if *m == merchant && types.iter().any(|t| t == "*" || *t == topic) {
                deliveries.push(NewDelivery {
                    merchant_id: merchant.clone(),
                    endpoint_id: endpoint_id.clone(),
                    event_id: event_id.clone(),
                    event_type: topic.clone(),
                    resource_id: resource.clone(),
                    give_up_at: created + give_up_after_ms,
                });
            }
        }
        if let Some((kind, dedupe_key)) = crate::model::emails::for_event(&topic, &event_id, &resource) {
            let event_id = event_id.clone();
            mails.push(Queued {
                merchant_id: merchant.clone(),
                event_id,
                kind,
                dedupe_key,
                secret_sealed: None,
            });
        }
        ids.push(event_id);
    }
    super::webhooks::queue(&mut tx, &deliveries, now).await?;
    super::emails::queue(&mut tx, &mails, mail_off, now).await?;
    for chunk in ids.chunks(super::ROWS_PER_INSERT) {
        let mut sql = Sql::default();
        sql.push("update outbox set delivered_at = ")
            .bind(Arg::Int(now))
            .push(", updated_at = ")
            .bind(Arg::Int(now));
        sql.push(" where delivered_at is null and outbox_id in (").list(chunk).push(")");
        sql.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(FannedOut { events: events.len(), mails: mails.len() })
}
