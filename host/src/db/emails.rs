//! E-mail: shops' templates, the messages queued from events (one per
//! dedupe key), claimed with a lease to send, and password-reset tokens.

use sqlx::Row;

use super::{Arg, Backend, Db, Result, Sql};
use crate::model::emails::EmailMessage;
use crate::model::ids::new_id;

/// A shop's own template of `kind`: (subject, text, html).
pub async fn template(db: &Db, merchant_id: &str, kind: &str) -> Result<Option<(String, String, String)>> {
    let row = sqlx::query(
        "select subject, text_body, html_body from email_template where merchant_id = $1 and kind = $2",
    )
    .bind(merchant_id)
    .bind(kind)
    .fetch_optional(db.reads())
    .await?;
    row.map(|r| Ok((r.try_get("subject")?, r.try_get("text_body")?, r.try_get("html_body")?))).transpose()
}

/// Stores a shop's template of `kind`, replacing its earlier one.
pub async fn put_template(
    db: &Db,
    merchant_id: &str,
    kind: &str,
    (subject, text, html): (&str, &str, &str),
) -> Result<()> {
    db.write(sqlx::query(
        "insert into email_template (merchant_id, kind, subject, text_body, html_body, updated_at) \
         values ($1, $2, $3, $4, $5, $6) on conflict (merchant_id, kind) do update set subject = excluded.subject, \
         text_body = excluded.text_body, html_body = excluded.html_body, updated_at = excluded.updated_at",
    )
    .bind(merchant_id)
    .bind(kind)
    .bind(subject)
    .bind(text)
    .bind(html)
    .bind(super::now_ms())
    )
    .await?;
    Ok(())
}

/// Removes a shop's template (Mercato's is used again); false if there was none.
pub async fn delete_template(db: &Db, merchant_id: &str, kind: &str) -> Result<bool> {
    let done = db
        .write(
            sqlx::query("delete from email_template where merchant_id = $1 and kind = $2")
                .bind(merchant_id)
                .bind(kind),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A message to queue.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub merchant_id: String,
    /// The event that sends it.
    pub event_id: String,
    pub kind: &'static str,
    /// One message per key and merchant (one confirmation per order).
    pub dedupe_key: String,
    /// A token only the recipient may see, sealed.
    pub secret_sealed: Option<String>,
}

/// Queues messages in one statement on the caller's transaction; those
/// whose dedupe key is queued already are skipped. With `not_sent`, they
/// are recorded as not sent for that reason instead (no SMTP server).
pub(crate) async fn queue(
    conn: &mut crate::db::Conn,
    rows: &[Queued],
    not_sent: Option<&str>,
    now: i64,
) -> Result<()> {
    let text = |v: &Option<String>| v.clone().map_or(Arg::Null, Arg::Text);
    for chunk in rows.chunks(super::ROWS_PER_INSERT) {
        let mut sql = Sql::default();
        sql.push(
            "insert into email_message (email_message_id, merchant_id, event_id, kind, dedupe_key, secret_sealed, \
             status, last_error, next_attempt_at, created_at, updated_at) values ",
        );
        for (i, q) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for arg in [
                Arg::Text(new_id("eml")),
                Arg::Text(q.merchant_id.clone()),
                Arg::Text(q.event_id.clone()),
                Arg::Text(q.kind.to_owned()),
                Arg::Text(q.dedupe_key.clone()),
                text(&q.secret_sealed),
                Arg::Text(if not_sent.is_some() { "not_sent" } else { "pending" }.to_owned()),
                text(&not_sent.map(str::to_owned)),
                Arg::Int(now),
                Arg::Int(now),
            ] {
                sql.bind(arg).push(", ");
            }
            sql.bind(Arg::Int(now)).push(")");
        }
        sql.push(" on conflict (merchant_id, dedupe_key) do nothing");
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A message claimed for sending.
#[derive(Debug, Clone)]
pub struct Due {
    /// `eml_…`.
    pub id: String,
    /// Whose it is.
    pub merchant_id: String,
    /// The event that sent it.
    pub event_id: String,
    /// Its kind.
    pub kind: String,
    /// This attempt's number.
    pub attempt: i64,
    /// A sealed token for the recipient, if any.
    pub secret_sealed: Option<String>,
    /// What the event is about.
    pub resource_id: Option<String>,
    /// The event's payload.
    pub payload: Option<serde_json::Value>,
    /// When it was queued.
    pub created_at: i64,
}

/// Claims up to `limit` messages due at `now` for `lease_ms`.
pub async fn claim_due(db: &Db, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<Due>> {
    let due: Option<String> = sqlx::query_scalar(
        "select email_message_id from email_message where status = 'pending' and next_attempt_at <= $1 limit 1",
    )
    .bind(now)
    .fetch_optional(db.reads())
    .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let lock = if db.backend() == Backend::Postgres { " for update skip locked" } else { "" };
    let mut tx = db.begin_write_relaxed().await?;
    let ids: Vec<String> = sqlx::query_scalar(&format!(
        "select email_message_id from email_message where status = 'pending' and next_attempt_at <= $1 \
         and lease_until <= $1 order by next_attempt_at limit $2{lock}"
    ))
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    if ids.is_empty() {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.push("update email_message set lease_until = ")
        .bind(Arg::Int(now + lease_ms))
        .push(", attempts = attempts + 1 where status = 'pending' and lease_until <= ")
        .bind(Arg::Int(now))
        .push(" and email_message_id in (")
        .list(&ids)
        .push(") returning email_message_id");
    let claimed: Vec<String> =
        sql.fetch_all(&mut *tx).await?.iter().map(|r| r.try_get(0)).collect::<std::result::Result<_, _>>()?;
    tx.commit().await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.push(
        "select m.*, o.aggregate_id, o.payload from email_message m left join outbox o on o.outbox_id = m.event_id \
         where m.email_message_id in (",
    )
    .list(&claimed)
    .push(")");
    sql.fetch_all(db.reads())
        .await?
        .iter()
        .map(|r| {
            Ok(Due {
                id: r.try_get("email_message_id")?,
                merchant_id: r.try_get("merchant_id")?,
                event_id: r.try_get("event_id")?,
                kind: r.try_get("kind")?,
                attempt: r.try_get("attempts")?,
                secret_sealed: r.try_get("secret_sealed")?,
                resource_id: r.try_get("aggregate_id")?,
                payload: r
                    .try_get::<Option<String>, _>("payload")?
                    .map(|_| super::json(r, "payload"))
                    .transpose()?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    /// `sent`, `failed`, `not_sent`, or `pending` (again at `next_attempt_at`).
    pub status: &'a str,
    /// Who it went to, if known.
    pub recipient: Option<&'a str>,
    /// Its subject, if rendered.
    pub subject: Option<&'a str>,
    /// Why it was not sent.
    pub error: Option<&'a str>,
    /// When to try again.
    pub next_attempt_at: i64,
}

/// Settles an attempt, giving up its lease.
pub async fn finish(db: &Db, id: &str, o: &Outcome<'_>, now: i64) -> Result<()> {
    db.write(sqlx::query(
        "update email_message set status = $2, recipient = coalesce($3, recipient), subject = coalesce($4, subject), \
         last_error = $5, next_attempt_at = $6, lease_until = 0, \
         sent_at = case when $2 = 'sent' then $7 else sent_at end, updated_at = $7 where email_message_id = $1",
    )
    .bind(id)
    .bind(o.status)
    .bind(o.recipient)
    .bind(o.subject)
    .bind(o.error)
    .bind(o.next_attempt_at)
    .bind(now)
    )
    .await?;
    Ok(())
}

fn message(r: &sqlx::any::AnyRow) -> Result<EmailMessage> {
    Ok(EmailMessage {
        id: r.try_get("email_message_id")?,
        event_id: r.try_get("event_id")?,
        kind: r.try_get("kind")?,
        recipient: r.try_get("recipient")?,
        subject: r.try_get("subject")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        sent_at: r.try_get("sent_at")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A page of the shop's messages, oldest first.
pub async fn list(db: &Db, merchant_id: &str, after: Option<&str>, limit: u32) -> Result<Vec<EmailMessage>> {
    super::merchant_page(
        db,
        "select * from email_message",
        "email_message_id",
        merchant_id,
        after,
        limit,
        message,
    )
    .await
}

/// Messages not sent yet, across every shop (for metrics).
pub async fn pending(db: &Db) -> Result<i64> {
    Ok(sqlx::query_scalar("select count(*) from email_message where status = 'pending'")
        .fetch_one(db.reads())
        .await?)
}
