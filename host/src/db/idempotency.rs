//! Stored responses for `Idempotency-Key`.

use sqlx::Row;

use super::{Db, now_ms};

/// What a key's row says about a new request.
pub enum Claim {
    /// First use: go ahead, then complete or release it.
    New,
    /// Same key, other request.
    Mismatch,
    /// Same request, still running.
    InFlight,
    /// Same request, finished: replay this.
    Done { status: u16, body: Vec<u8>, content_type: Option<String> },
}

/// Claims `key` for a request with `fingerprint`, or says why not.
pub async fn claim(
    db: &Db,
    scope: &str,
    key: &str,
    fingerprint: &str,
    ttl_ms: i64,
) -> Result<Claim, sqlx::Error> {
    let now = now_ms();
    let insert = || {
        sqlx::query(
            "insert into idempotency_key (scope, idempotency_key, request_hash, created_at, updated_at) \
             values ($1, $2, $3, $4, $4) on conflict (scope, idempotency_key) do nothing",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
    };
    let turn = db.write_turn().await;
    if insert().execute(db.pool()).await?.rows_affected() == 1 {
        return Ok(Claim::New);
    }
    // An expired key is free again.
    let expired = sqlx::query(
        "delete from idempotency_key where scope = $1 and idempotency_key = $2 and created_at < $3",
    )
    .bind(scope)
    .bind(key)
    .bind(now - ttl_ms)
    .execute(db.pool())
    .await?;
    if expired.rows_affected() == 1 && insert().execute(db.pool()).await?.rows_affected() == 1 {
        return Ok(Claim::New);
    }
    drop(turn);
    let row = sqlx::query(
        "select request_hash, status_code, response_body, response_content_type from idempotency_key \
         where scope = $1 and idempotency_key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(Claim::InFlight) };
    let hash: String = row.try_get("request_hash")?;
    if hash != fingerprint {
        return Ok(Claim::Mismatch);
    }
    let status: Option<i32> = row.try_get("status_code")?;
    match status {
        None => Ok(Claim::InFlight),
        Some(status) => Ok(Claim::Done {
            status: status as u16,
            body: row.try_get::<Option<Vec<u8>>, _>("response_body")?.unwrap_or_default(),
            content_type: row.try_get("response_content_type")?,
        }),
    }
}

/// Stores the response of a claimed key.
pub async fn complete(
    db: &Db,
    scope: &str,
    key: &str,
    status: u16,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<(), sqlx::Error> {
    let _turn = db.write_turn().await;
    sqlx::query(
        "update idempotency_key set status_code = $1, response_body = $2, response_content_type = $3, \
         updated_at = $4 where scope = $5 and idempotency_key = $6",
    )
    .bind(i32::from(status))
    .bind(body.to_vec())
    .bind(content_type)
    .bind(now_ms())
    .bind(scope)
    .bind(key)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Frees a claimed key whose request did not complete.
pub async fn release(db: &Db, scope: &str, key: &str) -> Result<(), sqlx::Error> {
    let _turn = db.write_turn().await;
    sqlx::query(
        "delete from idempotency_key where scope = $1 and idempotency_key = $2 and status_code is null",
    )
    .bind(scope)
    .bind(key)
    .execute(db.pool())
    .await?;
    Ok(())
}
