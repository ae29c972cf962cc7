//! Webhook endpoints, their deliveries (fanned out from the outbox) and
//! every attempt to send one.
//!
//! Several hosts may run the delivery worker over one database. Fanning
//! out is idempotent (one delivery per endpoint and event, by a unique
//! constraint). A delivery is sent by whoever claims it: a conditional
//! update that sets its lease, taken on PostgreSQL from rows locked with
//! `for update skip locked` so hosts do not even wait for one another;
//! while the lease runs, nobody else sends it.

use sqlx::Row;

use super::{Arg, Backend, Db, Result, Sql};
use crate::model::ids::new_id;
use crate::model::webhooks::{Delivery, DeliveryAttempt, StoredEndpoint, WebhookEndpoint};

fn endpoint(row: &sqlx::any::AnyRow) -> Result<StoredEndpoint> {
    Ok(StoredEndpoint {
        endpoint: WebhookEndpoint {
            id: row.try_get("webhook_endpoint_id")?,
            url: row.try_get("url")?,
            event_types: super::json(row, "event_types")?,
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
        merchant_id: row.try_get("merchant_id")?,
        secret_sealed: row.try_get("secret_sealed")?,
    })
}

/// Stores a new endpoint.
pub async fn insert_endpoint(db: &Db, e: &StoredEndpoint) -> Result<()> {
    let w = &e.endpoint;
    db.write(sqlx::query(
        "insert into webhook_endpoint (webhook_endpoint_id, merchant_id, url, event_types, enabled, description, \
         secret_sealed, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&w.id)
    .bind(&e.merchant_id)
    .bind(&w.url)
    .bind(super::to_json(&w.event_types))
    .bind(i64::from(w.enabled))
    .bind(&w.description)
    .bind(&e.secret_sealed)
    .bind(w.created_at)
    )
    .await?;
    Ok(())
}

/// Writes an endpoint's settings (not its secret); false if it is gone.
pub async fn update_endpoint(db: &Db, merchant_id: &str, w: &WebhookEndpoint) -> Result<bool> {
    let done = db.write(sqlx::query(
        "update webhook_endpoint set url = $3, event_types = $4, enabled = $5, description = $6, updated_at = $7 \
         where merchant_id = $1 and webhook_endpoint_id = $2",
    )
    .bind(merchant_id)
    .bind(&w.id)
    .bind(&w.url)
    .bind(super::to_json(&w.event_types))
    .bind(i64::from(w.enabled))
    .bind(&w.description)
    .bind(w.updated_at)
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The merchant's endpoint `id`.
pub async fn get_endpoint(db: &Db, merchant_id: &str, id: &str) -> Result<Option<StoredEndpoint>> {
    let row =
        sqlx::query("select * from webhook_endpoint where merchant_id = $1 and webhook_endpoint_id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(db.reads())
            .await?;
    row.as_ref().map(endpoint).transpose()
}

/// A page of the merchant's endpoints.
pub async fn list_endpoints(
    db: &Db,
    merchant_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<StoredEndpoint>> {
    super::merchant_page(
        db,
        "select * from webhook_endpoint",
        "webhook_endpoint_id",
        merchant_id,
        after,
        limit,
        endpoint,
    )
    .await
}

/// Removes an endpoint with its deliveries and their log; false if there was none.
pub async fn delete_endpoint(db: &Db, merchant_id: &str, id: &str) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "delete from webhook_attempt where webhook_delivery_id in (select webhook_delivery_id \
         from webhook_delivery where merchant_id = $1 and webhook_endpoint_id = $2)",
    )
    .bind(merchant_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from webhook_delivery where merchant_id = $1 and webhook_endpoint_id = $2")
        .bind(merchant_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done =
        sqlx::query("delete from webhook_endpoint where merchant_id = $1 and webhook_endpoint_id = $2")
            .bind(merchant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// The enabled endpoints of `merchants`: (merchant, endpoint, event types).
pub(crate) async fn enabled_endpoints(
    conn: &mut crate::db::Conn,
    merchants: &[String],
) -> Result<Vec<(String, String, Vec<String>)>> {
    let mut sql = Sql::default();
    sql.push(
        "select webhook_endpoint_id, merchant_id, event_types from webhook_endpoint \
         where enabled = 1 and merchant_id in (",
    )
    .list(merchants)
    .push(")");
    sql.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((r.try_get("merchant_id")?, r.try_get("webhook_endpoint_id")?, super::json(r, "event_types")?))
        })
        .collect()
}

/// A delivery to queue.
pub(crate) struct NewDelivery {
    pub merchant_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub resource_id: String,
    /// Retries end after this time.
    pub give_up_at: i64,
}

/// Queues deliveries, due now, on the caller's transaction; one already
/// queued for its endpoint and event is skipped.
pub(crate) async fn queue(conn: &mut crate::db::Conn, rows: &[NewDelivery], now: i64) -> Result<()> {
    for chunk in rows.chunks(super::ROWS_PER_INSERT) {
        let mut sql = Sql::default();
        sql.push(
            "insert into webhook_delivery (webhook_delivery_id, merchant_id, webhook_endpoint_id, event_id, \
             event_type, resource_id, give_up_at, next_attempt_at, status, created_at, updated_at) values ",
        );
        for (i, d) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for arg in [
                Arg::Text(new_id("whd")),
                Arg::Text(d.merchant_id.clone()),
                Arg::Text(d.endpoint_id.clone()),
                Arg::Text(d.event_id.clone()),
                Arg::Text(d.event_type.clone()),
                Arg::Text(d.resource_id.clone()),
                Arg::Int(d.give_up_at),
                Arg::Int(now),
            ] {
                sql.bind(arg).push(", ");
            }
            sql.push("'pending', ").bind(Arg::Int(now)).push(", ").bind(Arg::Int(now)).push(")");
        }
        sql.push(" on conflict (webhook_endpoint_id, event_id) do nothing");
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A delivery claimed for sending, with what it takes to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The delivery (`whd_…`).
    pub delivery_id: String,
    /// Whose event it is.
    pub merchant_id: String,
    /// Where it goes (`whe_…`).
    pub endpoint_id: String,
    /// The endpoint's URL.
    pub url: String,
    /// The endpoint's signing secret, sealed.
    pub secret_sealed: String,
    /// The event (`obx_…`) or ping (`png_…`).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// What the event is about.
    pub resource_id: String,
    /// The event as the outbox has it (`None` for a ping).
    pub payload: Option<serde_json::Value>,
    /// When the event happened.
    pub event_created_at: i64,
    /// This attempt's number (1 for the first).
    pub attempt: i64,
    /// Retries end after this time.
    pub give_up_at: i64,
}

/// Claims up to `limit` deliveries due at `now` to enabled endpoints, for
/// `lease_ms`: the first pending delivery of each resource at each
/// endpoint only, so a resource's events arrive in order.
pub async fn claim_due(db: &Db, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<Claimed>> {
    let lock = if db.backend() == Backend::Postgres { " for update of d skip locked" } else { "" };
    let pick = format!(
        "select d.webhook_delivery_id from webhook_delivery d \
         join webhook_endpoint w on w.webhook_endpoint_id = d.webhook_endpoint_id and w.enabled = 1 \
         where d.status = 'pending' and d.next_attempt_at <= $1 and d.lease_until <= $1 \
         and not exists (select 1 from webhook_delivery e where e.webhook_endpoint_id = d.webhook_endpoint_id \
           and e.resource_id = d.resource_id and e.event_id < d.event_id and e.status = 'pending') \
         order by d.next_attempt_at, d.event_id limit $2{lock}"
    );
    let lease_until = now + lease_ms;
    let due: Option<String> = sqlx::query_scalar(
        "select webhook_delivery_id from webhook_delivery where status = 'pending' and next_attempt_at <= $1 limit 1",
    )
    .bind(now)
    .fetch_optional(db.reads())
    .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let claimed = {
        let mut tx = db.begin_write_relaxed().await?;
        let ids: Vec<String> =
            sqlx::query_scalar(&pick).bind(now).bind(i64::from(limit)).fetch_all(&mut *tx).await?;
        if ids.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        let mut sql = Sql::default();
        sql.push("update webhook_delivery set lease_until = ")
            .bind(Arg::Int(lease_until))
            .push(", attempts = attempts + 1 where status = 'pending' and lease_until <= ")
            .bind(Arg::Int(now))
            .push(" and webhook_delivery_id in (")
            .list(&ids)
            .push(") returning webhook_delivery_id");
        let rows = sql.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<std::result::Result<Vec<_>, _>>()?
    };
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.push(
        "select d.*, w.url, w.secret_sealed, o.payload, o.created_at as event_created_at from webhook_delivery d \
         join webhook_endpoint w on w.webhook_endpoint_id = d.webhook_endpoint_id \
         left join outbox o on o.outbox_id = d.event_id where d.webhook_delivery_id in (",
    )
    .list(&claimed)
    .push(") order by d.event_id");
    let rows = sql.fetch_all(db.reads()).await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                delivery_id: r.try_get("webhook_delivery_id")?,
                merchant_id: r.try_get("merchant_id")?,
                endpoint_id: r.try_get("webhook_endpoint_id")?,
                url: r.try_get("url")?,
                secret_sealed: r.try_get("secret_sealed")?,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                resource_id: r.try_get("resource_id")?,
                payload: r
                    .try_get::<Option<String>, _>("payload")?
                    .map(|_| super::json(r, "payload"))
                    .transpose()?,
                event_created_at: r
                    .try_get::<Option<i64>, _>("event_created_at")?
                    .unwrap_or(r.try_get("created_at")?),
                attempt: r.try_get("attempts")?,
                give_up_at: r.try_get("give_up_at")?,
            })
        })
        .collect()
}

/// What one attempt to send a delivery came to.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The endpoint's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// How long the attempt took.
    pub latency_ms: i64,
    /// The answer's first bytes.
    pub response_snippet: Option<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// `succeeded`, `failed`, or `pending` to try again at `next_attempt_at`.
    pub status: &'static str,
    /// When a pending delivery is tried again.
    pub next_attempt_at: i64,
}

/// Writes attempt number `attempt` of a delivery to its log.
async fn insert_attempt(
    conn: &mut crate::db::Conn,
    delivery_id: &str,
    attempt: i64,
    r: &AttemptResult,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "insert into webhook_attempt (webhook_attempt_id, webhook_delivery_id, attempt, status_code, latency_ms, \
         response_snippet, error, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id("wha"))
    .bind(delivery_id)
    .bind(attempt)
    .bind(r.status_code)
    .bind(r.latency_ms)
    .bind(&r.response_snippet)
    .bind(&r.error)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Logs attempts of claimed deliveries and moves each on (done, or to be
/// tried again), giving up their leases, in one transaction: one insert
/// for the log, one update per outcome shared by many (a pass's 2xx
/// answers), so a busy pass costs a few statements, not two per delivery.
pub async fn record_attempts(db: &Db, attempts: &[(Claimed, AttemptResult)], now: i64) -> Result<()> {
    if attempts.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin_write_relaxed().await?;
    for chunk in attempts.chunks(super::ROWS_PER_INSERT) {
        let mut sql = Sql::default();
        sql.push(
            "insert into webhook_attempt (webhook_attempt_id, webhook_delivery_id, attempt, status_code, latency_ms, \
             response_snippet, error, created_at) values ",
        );
        for (i, (c, r)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(Arg::Text(new_id("wha"))).push(", ");
            sql.bind(Arg::Text(c.delivery_id.clone())).push(", ");
            sql.bind(Arg::Int(c.attempt)).push(", ");
            match r.status_code {
                Some(code) => sql.bind(Arg::Int(code)),
                None => sql.push("null"),
            };
            sql.push(", ").bind(Arg::Int(r.latency_ms)).push(", ");
            for text in [&r.response_snippet, &r.error] {
                match text {
                    Some(t) => sql.bind(Arg::Text(t.clone())),
                    None => sql.push("null"),
                };
                sql.push(", ");
            }
            sql.bind(Arg::Int(now)).push(")");
        }
        sql.execute(&mut *tx).await?;
    }
    // Deliveries that end the same way share one update.
    // (status, next attempt, HTTP status, error) -> deliveries.
    type Outcome<'a> = (&'a str, i64, Option<i64>, Option<&'a str>);
    let mut groups: std::collections::BTreeMap<Outcome<'_>, Vec<String>> = Default::default();
    for (c, r) in attempts {
        let key = (r.status, r.next_attempt_at, r.status_code, r.error.as_deref());
        groups.entry(key).or_default().push(c.delivery_id.clone());
    }
    for ((status, next, code, error), ids) in groups {
        for chunk in ids.chunks(super::ROWS_PER_INSERT) {
            let mut sql = Sql::default();
            sql.push("update webhook_delivery set status = ").bind(Arg::Text(status.to_owned()));
            sql.push(", next_attempt_at = ").bind(Arg::Int(next));
            match code {
                Some(code) => sql.push(", last_status_code = ").bind(Arg::Int(code)),
                None => sql.push(", last_status_code = null"),
            };
            match error {
                Some(e) => sql.push(", last_error = ").bind(Arg::Text(e.to_owned())),
                None => sql.push(", last_error = null"),
            };
            sql.push(", lease_until = 0, updated_at = ").bind(Arg::Int(now));
            sql.push(" where webhook_delivery_id in (").list(chunk).push(")");
            sql.execute(&mut *tx).await?;
        }
    }
    tx.commit().await
}

/// Records a ping sent at once (never retried) with its only attempt.
pub async fn insert_ping(
    db: &Db,
    merchant_id: &str,
    endpoint_id: &str,
    ping_id: &str,
    r: &AttemptResult,
    now: i64,
) -> Result<String> {
    let delivery_id = new_id("whd");
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "insert into webhook_delivery (webhook_delivery_id, merchant_id, webhook_endpoint_id, event_id, event_type, \
         resource_id, status, attempts, next_attempt_at, give_up_at, last_status_code, last_error, created_at, \
         updated_at) values ($1, $2, $3, $4, 'webhook.ping', $3, $5, 1, $6, $6, $7, $8, $6, $6)",
    )
    .bind(&delivery_id)
    .bind(merchant_id)
    .bind(endpoint_id)
    .bind(ping_id)
    .bind(r.status)
    .bind(now)
    .bind(r.status_code)
    .bind(&r.error)
    .execute(&mut *tx)
    .await?;
    insert_attempt(&mut tx, &delivery_id, 1, r, now).await?;
    tx.commit().await?;
    Ok(delivery_id)
}

fn delivery(row: &sqlx::any::AnyRow) -> Result<Delivery> {
    let status: String = row.try_get("status")?;
    let next: i64 = row.try_get("next_attempt_at")?;
    Ok(Delivery {
        id: row.try_get("webhook_delivery_id")?,
        endpoint_id: row.try_get("webhook_endpoint_id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        resource_id: row.try_get("resource_id")?,
        next_attempt_at: (status == "pending").then_some(next),
        status,
        attempts: row.try_get("attempts")?,
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        log: None,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A page of an endpoint's deliveries, oldest first, of one status if asked.
pub async fn list_deliveries(
    db: &Db,
    merchant_id: &str,
    endpoint_id: &str,
    status: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Delivery>> {
    let mut sql = Sql::default();
    sql.push("select * from webhook_delivery where merchant_id = ")
        .bind(Arg::Text(merchant_id.into()))
        .push(" and webhook_endpoint_id = ")
        .bind(Arg::Text(endpoint_id.into()))
        .push(" and webhook_delivery_id > ")
        .bind(Arg::Text(after.unwrap_or("").into()));
    if let Some(status) = status {
        sql.push(" and status = ").bind(Arg::Text(status.into()));
    }
    sql.push(" order by webhook_delivery_id limit ").bind(Arg::Int(i64::from(limit)));
    sql.fetch_all(db.reads()).await?.iter().map(delivery).collect()
}

/// One delivery with its attempts.
pub async fn get_delivery(
    db: &Db,
    merchant_id: &str,
    endpoint_id: &str,
    id: &str,
) -> Result<Option<Delivery>> {
    let row = sqlx::query(
        "select * from webhook_delivery where merchant_id = $1 and webhook_endpoint_id = $2 \
         and webhook_delivery_id = $3",
    )
    .bind(merchant_id)
    .bind(endpoint_id)
    .bind(id)
    .fetch_optional(db.reads())
    .await?;
    let Some(mut d) = row.as_ref().map(delivery).transpose()? else { return Ok(None) };
    let rows = sqlx::query("select * from webhook_attempt where webhook_delivery_id = $1 order by attempt")
        .bind(id)
        .fetch_all(db.reads())
        .await?;
    let log = rows
        .iter()
        .map(|r| {
            Ok(DeliveryAttempt {
                attempt: r.try_get("attempt")?,
                status_code: r.try_get("status_code")?,
                latency_ms: r.try_get("latency_ms")?,
                response_snippet: r.try_get("response_snippet")?,
                error: r.try_get("error")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    d.log = Some(log);
    Ok(Some(d))
}

/// Queues a delivery to be sent again now, with a fresh retry window
/// (72 hours, `give_up_at`); false if it is not the merchant's or is
/// pending already.
pub async fn redeliver(
    db: &Db,
    merchant_id: &str,
    endpoint_id: &str,
    id: &str,
    now: i64,
    give_up_at: i64,
) -> Result<bool> {
    let done = db.write(sqlx::query(
        "update webhook_delivery set status = 'pending', next_attempt_at = $4, give_up_at = $5, updated_at = $4 \
         where merchant_id = $1 and webhook_endpoint_id = $2 and webhook_delivery_id = $3 \
         and status <> 'pending' and event_type <> 'webhook.ping'",
    )
    .bind(merchant_id)
    .bind(endpoint_id)
    .bind(id)
    .bind(now)
    .bind(give_up_at)
    )
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What waits to be sent: events not yet fanned out with the oldest's
/// time, and pending deliveries with the oldest's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backlog {
    /// Events not yet fanned out.
    pub outbox: i64,
    /// When the oldest of them happened.
    pub outbox_oldest: Option<i64>,
    /// Deliveries pending (to send, or to send again).
    pub deliveries: i64,
    /// When the oldest of them was queued.
    pub deliveries_oldest: Option<i64>,
}

/// The backlog across every merchant.
pub async fn backlog(db: &Db) -> Result<Backlog> {
    let o =
        sqlx::query("select count(*) as n, min(created_at) as oldest from outbox where delivered_at is null")
            .fetch_one(db.reads())
            .await?;
    let d = sqlx::query(
        "select count(*) as n, min(created_at) as oldest from webhook_delivery where status = 'pending'",
    )
    .fetch_one(db.reads())
    .await?;
    Ok(Backlog {
        outbox: o.try_get("n")?,
        outbox_oldest: o.try_get("oldest")?,
        deliveries: d.try_get("n")?,
        deliveries_oldest: d.try_get("oldest")?,
    })
}
