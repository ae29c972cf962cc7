//! The outbox, read as the merchant's event feed.

use sqlx::Row;

use super::{Db, Result};
use crate::model::events::Event;

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
