//! Merchants' connections to natively spoken payment providers.

use sqlx::Row;

use super::Db;
use crate::db::Result;
use crate::model::providers::StoredConnection;

fn connection(row: &sqlx::any::AnyRow) -> Result<StoredConnection> {
    Ok(StoredConnection {
        merchant_id: row.try_get("merchant_id")?,
        provider: row.try_get("provider")?,
        publishable_key: row.try_get("publishable_key")?,
        secret_key_sealed: row.try_get("secret_key_sealed")?,
        secret_key_last4: row.try_get("secret_key_last4")?,
        webhook_secret_sealed: row.try_get("webhook_secret_sealed")?,
        webhook_secret_last4: row.try_get("webhook_secret_last4")?,
        capture: row.try_get("capture")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Writes a connection, replacing the merchant's earlier one to the same
/// provider (keeping when it was first made); the row as stored.
pub async fn upsert(db: &Db, c: &StoredConnection) -> Result<StoredConnection> {
    let mut turn = db.write_turn().await?;
    let row = sqlx::query(
        "insert into payment_provider (merchant_id, provider, publishable_key, secret_key_sealed, \
         secret_key_last4, webhook_secret_sealed, webhook_secret_last4, capture, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         on conflict (merchant_id, provider) do update set publishable_key = excluded.publishable_key, \
         secret_key_sealed = excluded.secret_key_sealed, secret_key_last4 = excluded.secret_key_last4, \
         webhook_secret_sealed = excluded.webhook_secret_sealed, \
         webhook_secret_last4 = excluded.webhook_secret_last4, capture = excluded.capture, \
         updated_at = excluded.updated_at \
         returning *",
    )
    .bind(&c.merchant_id)
    .bind(&c.provider)
    .bind(&c.publishable_key)
    .bind(&c.secret_key_sealed)
    .bind(&c.secret_key_last4)
    .bind(&c.webhook_secret_sealed)
    .bind(&c.webhook_secret_last4)
    .bind(&c.capture)
    .bind(c.updated_at)
    .fetch_one(&mut *turn)
    .await?;
    connection(&row)
}

/// The merchant's connection to `provider`, if any.
pub async fn get(db: &Db, merchant_id: &str, provider: &str) -> Result<Option<StoredConnection>> {
    let row = sqlx::query("select * from payment_provider where merchant_id = $1 and provider = $2")
        .bind(merchant_id)
        .bind(provider)
        .fetch_optional(db.reads())
        .await?;
    row.as_ref().map(connection).transpose()
}

/// Removes the merchant's connection to `provider`; false if there was none.
pub async fn delete(db: &Db, merchant_id: &str, provider: &str) -> Result<bool> {
    let done = db
        .write(
            sqlx::query("delete from payment_provider where merchant_id = $1 and provider = $2")
                .bind(merchant_id)
                .bind(provider),
        )
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records a provider's event as processed; false when it was already
/// (a repeated delivery: acknowledged, nothing done again).
pub async fn claim_event(
    db: &Db,
    (merchant_id, provider): (&str, &str),
    (event_id, kind): (&str, &str),
    order_id: Option<&str>,
    now: i64,
) -> Result<bool> {
    let done = db
        .write(
            sqlx::query(
                "insert into provider_event (merchant_id, provider, event_id, type, order_id, received_at) \
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
            )
            .bind(merchant_id)
            .bind(provider)
            .bind(event_id)
            .bind(kind)
            .bind(order_id)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets an event whose processing failed, so its next delivery is
/// processed.
pub async fn forget_event(db: &Db, (merchant_id, provider): (&str, &str), event_id: &str) -> Result<()> {
    db.write(
        sqlx::query("delete from provider_event where merchant_id = $1 and provider = $2 and event_id = $3")
            .bind(merchant_id)
            .bind(provider)
            .bind(event_id),
    )
    .await?;
    Ok(())
}
