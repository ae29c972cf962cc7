//! The outbox: every event, written in the transaction of its change, and
//! read as the merchant's event feed.

use sqlx::{AnyConnection, Row};

use super::{Db, Result};
use crate::model::events::Event;
use crate::model::ids::new_id;

/// Writes an event of type `kind` (`resource.what`) about `resource_id` to
/// the outbox, on the caller's transaction; its id.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    merchant_id: &str,
    kind: &str,
    resource_id: &str,
    payload: &serde_json::Value,
    now: i64,
) -> Result<String> {
    let id = new_id("obx");
    debug_assert!(crate::model::events::is_type(kind), "{kind} is not in model::events::TYPES");
    sqlx::query(
        "insert into outbox (outbox_id, merchant_id, topic, aggregate_id, payload, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(merchant_id)
    .bind(kind)
    .bind(resource_id)
    .bind(super::to_json(payload))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(id)
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
    let rows = query.fetch_all(db.pool()).await?;
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
