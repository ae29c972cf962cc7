//! `mercato serve` and `mercato migrate`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::config::{self, Secret};
use crate::db::{self, Db};
use crate::http::{self, AppState};
use crate::runtime::{Runtime, RuntimeConfig};

pub(super) fn tokio() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("failed to start tokio")
}

pub fn migrate(url: &str) -> anyhow::Result<ExitCode> {
    tokio()?.block_on(async {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        tracing::info!(database = %db::redact(url), "migrations applied");
        Ok(ExitCode::SUCCESS)
    })
}

pub fn run(
    listen: SocketAddr,
    url: &str,
    data_dir: &Path,
    operator_key: Option<Secret>,
    secret_key: Option<Secret>,
    tuning: &super::Tuning,
) -> anyhow::Result<ExitCode> {
    let (hash, generated) = config::operator_key(operator_key.as_ref(), data_dir)?;
    if let Some(key) = generated {
        println!(
            "Generated the operator key (shown once; only its hash is kept in {}):\n  {}",
            data_dir.display(),
            key.expose()
        );
    }
    let (sealing_key, generated) = config::secret_key(secret_key.as_ref(), data_dir)?;
    if let Some(key) = generated {
        println!(
            "Generated the secret key that seals merchants' provider secrets (shown once; kept in {}).\n  \
             Give every other host over this database the same key: MERCATO_SECRET_KEY={}",
            data_dir.join("secret-key").display(),
            key.expose()
        );
    }
    tokio()?.block_on(async {
        let (db, runtime) = open(url, data_dir).await?;
        let shop = crate::commerce::Shop::new(db, runtime)
            .with_secret_key(&sealing_key)
            .with_stripe(&tuning.stripe_api_base, &tuning.stripe_js_url)
            .with_webhooks(tuning.webhooks())
            .with_mailer(tuning.mailer()?);
        let shop = match tuning.checkouts_at_once {
            Some(slots) => shop.with_checkouts_at_once(slots.into()),
            None => shop,
        };
        let state = AppState::with_operator_key_hash(shop, hash)
            .with_idempotency_lease(std::time::Duration::from_millis(tuning.idempotency_lease_ms))
            .with_limits(tuning.limits());
        crate::commerce::cache::set_reload_after(std::time::Duration::from_millis(tuning.cache_reload_ms));
        let listener = bind(listen).await?;
        let bound = listener.local_addr()?;
        tracing::info!(listen = %bound, database = %db::redact(url), "mercato is serving");
        // One line on stdout that tools (and tests) can wait for.
        println!("listening on http://{bound}");
        crate::commerce::notices::listen(&state.shop);
        crate::commerce::jobs::spawn(state.shop.clone(), crate::commerce::jobs::EVERY);
        crate::commerce::events::spawn(state.shop.clone());
        state.shop.db.spawn_checkpointer(crate::db::CHECKPOINT_EVERY);
        http::serve(listener, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Connects to the database, applies migrations and loads every installed
/// plugin into a runtime that caches compiled components in `data_dir`.
pub(super) async fn open(url: &str, data_dir: &Path) -> anyhow::Result<(Db, Arc<Runtime>)> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        cache_dir: Some(data_dir.join("component-cache")),
        max_component_bytes: crate::config::max_component_bytes()?,
        ..Default::default()
    })?);
    crate::commerce::plugins::load_installed(&db, &runtime)
        .await
        .map_err(|e| anyhow::anyhow!("failed to load installed plugins: {e}"))?;
    Ok((db, runtime))
}

/// Binds the HTTP listener.
pub(super) async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))
}
