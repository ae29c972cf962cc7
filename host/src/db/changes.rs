//! Notices between hosts sharing one PostgreSQL database: a host that
//! changes something other hosts cache says so (`pg_notify`), and every
//! host listens (`LISTEN`) and forgets what the notice names. The channel
//! is the database's schema's own, so hosts over other schemas of the same
//! database hear nothing of it. A notice is sent after its change commits;
//! one lost (a host killed between the two, a listener reconnecting) is
//! made good by the caches' periodic reload. On SQLite there is one host:
//! nothing is sent, and nobody listens.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;

use super::{Backend, Db, Result};

/// What a listener hears.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard<'a> {
    /// A notice another host sent, as it sent it.
    Notice(&'a str),
    /// The listening connection was lost and made again: notices sent
    /// meanwhile are gone, so everything cached may be stale.
    Missed,
}

/// The channel of the schema behind `db` (PostgreSQL identifiers hold 63 bytes).
pub(super) async fn channel_of(pool: &sqlx::AnyPool) -> Result<Arc<str>> {
    let (schema,): (String,) = sqlx::query_as("select current_schema()::text").fetch_one(pool).await?;
    let mut channel = format!("mercato_{schema}");
    channel.truncate(63);
    Ok(channel.into())
}

/// Sends `notice` to every other host over this database (after the change
/// it announces has committed). Nothing on SQLite.
pub async fn announce(db: &Db, notice: &str) -> Result<()> {
    let Some(channel) = &db.channel else { return Ok(()) };
    sqlx::query("select pg_notify($1, $2)").bind(&**channel).bind(notice).execute(db.pool()).await?;
    Ok(())
}

/// Listens, on a connection of its own, for the notices other hosts send,
/// calling `on` with each (and with [`Heard::Missed`] when the connection
/// had to be made again). `None` on SQLite.
pub fn listen(db: &Db, on: impl Fn(Heard<'_>) + Send + 'static) -> Option<tokio::task::JoinHandle<()>> {
    if db.backend != Backend::Postgres {
        return None;
    }
    let (url, channel) = (db.url.clone(), db.channel.clone()?);
    Some(tokio::spawn(async move {
        let mut listening: Option<PgListener> = None;
        loop {
            let Some(listener) = listening.as_mut() else {
                match subscribe(&url, &channel).await {
                    Ok(l) => {
                        listening = Some(l);
                        // Whatever was sent before this connection listened is unknown.
                        on(Heard::Missed);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for other hosts' changes; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                continue;
            };
            match listener.try_recv().await {
                Ok(Some(n)) => on(Heard::Notice(n.payload())),
                Ok(None) => {
                    tracing::warn!("the connection listening for other hosts' changes was lost");
                    listening = None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening for other hosts' changes failed");
                    listening = None;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }))
}

async fn subscribe(url: &str, channel: &str) -> Result<PgListener> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(channel).await?;
    Ok(listener)
}
