//! Stored responses for `Idempotency-Key`, and the lease that marks a key
//! whose request is still running.

use crate::db::Result;
use sqlx::Row;

use super::{Db, now_ms};

/// What a key's row says about a new request.
pub enum Claim {
    /// First use: go ahead, renew the lease while running, then complete
    /// or release it.
    New,
    /// The same request was claimed before by a request that died (its
    /// lease ran out): this one now owns the key and must find out what the
    /// dead one did before doing it again.
    TakenOver,
    /// Same key, other request.
    Mismatch,
    /// Same request, still running (its lease is alive).
    InFlight,
    /// Same request, finished: replay this.
    Done {
        /// The stored response's HTTP status.
        status: u16,
        /// The stored response's body.
        body: Vec<u8>,
        /// The stored response's `Content-Type`, if it had one.
        content_type: Option<String>,
    },
}

/// Claims `key` in `scope` for a request with `fingerprint`, leased for
/// `lease_ms`, or says why not.
pub async fn claim(
    db: &Db,
    (scope, key): (&str, &str),
    fingerprint: &str,
    ttl_ms: i64,
    lease_ms: i64,
) -> Result<Claim> {
    let now = now_ms();
    let insert = || {
        sqlx::query(
            "insert into idempotency_key (scope, idempotency_key, request_hash, lease_until, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $5) on conflict (scope, idempotency_key) do nothing",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(now + lease_ms)
        .bind(now)
    };
    let mut turn = db.write_turn().await?;
    let claimed = 'claim: {
        if insert().execute(&mut *turn).await?.rows_affected() == 1 {
            break 'claim Some(Claim::New);
        }
        // An expired key is free again.
        let expired = sqlx::query(
            "delete from idempotency_key where scope = $1 and idempotency_key = $2 and created_at < $3",
        )
        .bind(scope)
        .bind(key)
        .bind(now - ttl_ms)
        .execute(&mut *turn)
        .await?;
        if expired.rows_affected() == 1 && insert().execute(&mut *turn).await?.rows_affected() == 1 {
            break 'claim Some(Claim::New);
        }
        // A claim whose lease ran out belonged to a request that died: the
        // same request takes it over (one of several retries wins).
        let taken = sqlx::query(
            "update idempotency_key set lease_until = $4, updated_at = $5 \
             where scope = $1 and idempotency_key = $2 and request_hash = $3 and status_code is null \
             and lease_until < $5",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(now + lease_ms)
        .bind(now)
        .execute(&mut *turn)
        .await?;
        (taken.rows_affected() == 1).then_some(Claim::TakenOver)
    };
    turn.done().await;
    if let Some(claim) = claimed {
        return Ok(claim);
    }
    let row = sqlx::query(
        "select request_hash, status_code, response_body, response_content_type from idempotency_key \
         where scope = $1 and idempotency_key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(db.reads())
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

/// Extends the lease of a claimed key whose request is still running.
pub async fn renew(db: &Db, (scope, key): (&str, &str), lease_ms: i64) -> Result<()> {
    let now = now_ms();
    db.write(
        sqlx::query(
            "update idempotency_key set lease_until = $3, updated_at = $4 \
             where scope = $1 and idempotency_key = $2 and status_code is null",
        )
        .bind(scope)
        .bind(key)
        .bind(now + lease_ms)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Stores the response of a claimed key.
pub async fn complete(
    db: &Db,
    (scope, key): (&str, &str),
    status: u16,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<()> {
    db.write(
        sqlx::query(
            "update idempotency_key set status_code = $1, response_body = $2, response_content_type = $3, \
             lease_until = null, updated_at = $4 where scope = $5 and idempotency_key = $6",
        )
        .bind(i32::from(status))
        .bind(body.to_vec())
        .bind(content_type)
        .bind(now_ms())
        .bind(scope)
        .bind(key),
    )
    .await?;
    Ok(())
}

/// Frees a claimed key whose request did not complete.
pub async fn release(db: &Db, (scope, key): (&str, &str)) -> Result<()> {
    db.write(
        sqlx::query(
            "delete from idempotency_key where scope = $1 and idempotency_key = $2 and status_code is null",
        )
        .bind(scope)
        .bind(key),
    )
    .await?;
    Ok(())
}

/// The keys [`purge`] forgets: first used before `$1`, their requests
/// over (answered, or their lease run out by `$2`).
macro_rules! due {
    () => {
        "created_at < $1 and (lease_until is null or lease_until < $2)"
    };
}

/// Forgets up to `limit` keys first used before `before` whose requests
/// are over (answered, or their lease run out by `now`), oldest first;
/// how many.
pub async fn purge(db: &Db, before: i64, now: i64, limit: u32) -> Result<u64> {
    // A plain read first, of what the delete would take: most passes find
    // nothing, and need not wait for (or hold) the write turn to learn it.
    let due: Option<String> =
        sqlx::query_scalar(concat!("select idempotency_key from idempotency_key where ", due!(), " limit 1"))
            .bind(before)
            .bind(now)
            .fetch_optional(db.reads())
            .await?;
    if due.is_none() {
        return Ok(0);
    }
    let done = db.write(sqlx::query(PURGE).bind(before).bind(now).bind(i64::from(limit))).await?;
    Ok(done.rows_affected())
}

/// [`purge`]'s statement: `$1` before, `$2` now, `$3` limit.
pub(super) const PURGE: &str = concat!(
    "delete from idempotency_key where (scope, idempotency_key) in \
     (select scope, idempotency_key from idempotency_key where ",
    due!(),
    " order by created_at limit $3)"
);

/// The deployment's secret called `name`: made by the first host that asks
/// (`make` gives a fresh value), the same for every host afterwards.
pub async fn host_secret(db: &Db, name: &str, make: impl FnOnce() -> String) -> Result<String> {
    {
        db.write(sqlx::query(
            "insert into host_secret (name, value, created_at) values ($1, $2, $3) on conflict (name) do nothing",
        )
        .bind(name)
        .bind(make())
        .bind(now_ms())
        )
        .await?;
    }
    sqlx::query("select value from host_secret where name = $1")
        .bind(name)
        .fetch_one(db.reads())
        .await?
        .try_get("value")
        .map_err(Into::into)
}
