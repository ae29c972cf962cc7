//! `mercato serve` and `mercato migrate`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::config::{self, Secret};
use crate::db::{self, Db};
use crate::http::{self, AppState};
use crate::plugins::{Runtime, RuntimeConfig};

fn tokio() -> anyhow::Result<tokio::runtime::Runtime> {
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
) -> anyhow::Result<ExitCode> {
    let (hash, generated) = config::operator_key(operator_key.as_ref(), data_dir)?;
    if let Some(key) = generated {
        println!(
            "Generated the operator key (shown once; only its hash is kept in {}):\n  {}",
            data_dir.display(),
            key.expose()
        );
    }
    tokio()?.block_on(async {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        let runtime = Arc::new(Runtime::new(RuntimeConfig {
            cache_dir: Some(data_dir.join("component-cache")),
            ..Default::default()
        })?);
        let loaded = crate::commerce::plugins::load_installed(&db, &runtime)
            .await
            .map_err(|e| anyhow::anyhow!("failed to load installed plugins: {e}"))?;
        tracing::info!(plugins = loaded, "installed plugins loaded");
        let state = AppState::with_operator_key_hash(db.clone(), runtime.clone(), hash);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let bound = listener.local_addr()?;
        tracing::info!(listen = %bound, database = %db::redact(url), "mercato is serving");
        // One line on stdout that tools (and tests) can wait for.
        println!("listening on http://{bound}");
        http::serve(listener, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}
