//! What a store holds for one call: a WASI context that grants nothing, the
//! memory limiter, bounded logs and, for recommenders, the merchant's catalog.

use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use mercato_sdk::recommendations::Catalog;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::network::{NetworkAccess, NetworkHooks};

use super::wit::tax_v2::mercato::plugin::log as log_v2;
use super::wit::{self, pricing::mercato::plugin::log, recommendations::mercato::plugin::catalog};

/// Messages kept per call, and their size.
pub const MAX_LOG_LINES: usize = 32;
/// Bytes kept of one message.
pub const MAX_LOG_BYTES: usize = 1024;

/// A log line a plugin wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// debug, info, warn or error.
    pub level: &'static str,
    /// At most [`MAX_LOG_BYTES`].
    pub message: String,
}

/// Catalog data a recommender may read, already scoped to one merchant.
pub type SharedCatalog = Arc<dyn Catalog + Send + Sync>;

/// Per-call store data.
pub struct HostState {
    /// Built on a plugin's first WASI call: most calls make none, and
    /// building a context is a measurable part of a small call.
    wasi: Option<WasiCtx>,
    /// What the plugin printed to stdout and stderr (a panic's message goes
    /// to stderr), kept up to [`MAX_PRINTED_BYTES`].
    pub(super) printed: Printed,
    http: WasiHttpCtx,
    table: ResourceTable,
    pub(super) hooks: NetworkHooks,
    pub(super) limiter: MemoryLimiter,
    pub(super) logs: Vec<LogLine>,
    pub(super) dropped_logs: usize,
    catalog: Option<SharedCatalog>,
}

impl HostState {
    /// Fresh state with a memory cap, for recommenders a catalog, and for
    /// payment plugins the hosts they may reach.
    pub fn new(
        memory_bytes: u64,
        catalog: Option<SharedCatalog>,
        network: Option<NetworkAccess>,
    ) -> HostState {
        HostState {
            wasi: None,
            printed: Printed::default(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: NetworkHooks::new(network),
            limiter: MemoryLimiter { cap: memory_bytes, peak: 0, exceeded: false },
            logs: Vec::new(),
            dropped_logs: 0,
            catalog,
        }
    }
}

/// No preopens, env, args, stdio or sockets; clocks stand still at zero and
/// randomness is a fixed sequence, so every call is a pure function of its
/// input (the Rust standard library imports clocks and random even unused).
fn sandbox_wasi(printed: &Printed) -> WasiCtx {
    let mut b = WasiCtx::builder();
    b.stdout(printed.clone()).stderr(printed.clone());
    b.wall_clock(StoppedClock)
        .monotonic_clock(StoppedClock)
        .secure_random(StdRng::seed_from_u64(0))
        .insecure_random(StdRng::seed_from_u64(0))
        .insecure_random_seed(0);
    b.build()
}

struct StoppedClock;

impl HostWallClock for StoppedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for StoppedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Bytes kept of what one call printed.
pub const MAX_PRINTED_BYTES: usize = 8 << 10;

/// A plugin's stdout and stderr: kept up to [`MAX_PRINTED_BYTES`], the rest
/// dropped. Writes never fail, so a chatty plugin is not turned into a
/// failing one (Rust's `println!` panics when stdout refuses a write).
#[derive(Clone, Default)]
pub struct Printed(Arc<std::sync::Mutex<Vec<u8>>>);

impl Printed {
    fn keep(&self, bytes: &[u8]) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let room = MAX_PRINTED_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// The lines printed, without empty ones.
    pub fn lines(&self) -> Vec<String> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if kept.is_empty() {
            return Vec::new();
        }
        String::from_utf8_lossy(&kept).lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect()
    }
}

impl wasmtime_wasi::cli::IsTerminal for Printed {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for Printed {
    fn p2_stream(&self) -> Box<dyn wasmtime_wasi::p2::OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl wasmtime_wasi::p2::Pollable for Printed {
    async fn ready(&mut self) {}
}

impl wasmtime_wasi::p2::OutputStream for Printed {
    fn write(&mut self, bytes: bytes::Bytes) -> wasmtime_wasi::p2::StreamResult<()> {
        self.keep(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> wasmtime_wasi::p2::StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> wasmtime_wasi::p2::StreamResult<usize> {
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for Printed {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.keep(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Caps linear memory and remembers the peak and whether the cap was hit.
pub struct MemoryLimiter {
    cap: u64,
    pub(super) peak: u64,
    pub(super) exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.cap {
            self.exceeded = true;
            // A trap, not a failed grow: a guest allocator that sees a failed
            // grow may loop or abort in ways that hide the cause.
            wasmtime::bail!("memory limit of {} bytes reached", self.cap);
        }
        self.peak = self.peak.max(desired as u64);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let printed = &self.printed;
        WasiCtxView { ctx: self.wasi.get_or_insert_with(|| sandbox_wasi(printed)), table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

impl HostState {
    fn push_log(&mut self, level: &'static str, mut message: String) {
        if self.logs.len() >= MAX_LOG_LINES {
            self.dropped_logs += 1;
            return;
        }
        if message.len() > MAX_LOG_BYTES {
            let mut end = MAX_LOG_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        self.logs.push(LogLine { level, message });
    }
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        self.push_log(level, message);
    }
}

impl log_v2::Host for HostState {
    fn log(&mut self, level: log_v2::Level, message: String) {
        let level = match level {
            log_v2::Level::Debug => "debug",
            log_v2::Level::Info => "info",
            log_v2::Level::Warn => "warn",
            log_v2::Level::Error => "error",
        };
        self.push_log(level, message);
    }
}

fn product_out(p: mercato_sdk::recommendations::Product) -> catalog::Product {
    catalog::Product {
        id: p.id,
        title: p.title,
        category_ids: p.category_ids,
        tags: p.tags,
        price: wit::Money { amount: p.price.amount, currency: p.price.currency.code().to_owned() },
        available: p.available,
    }
}

fn counts_out(list: Vec<mercato_sdk::recommendations::ProductCount>) -> Vec<catalog::ProductCount> {
    list.into_iter().map(|c| catalog::ProductCount { product_id: c.product_id, count: c.count }).collect()
}

/// Limits the host applies to catalog answers, whatever the guest asks.
const MAX_CATALOG_LIMIT: u32 = 100;

impl catalog::Host for HostState {
    fn get_product(&mut self, id: String) -> Option<catalog::Product> {
        self.catalog.as_ref()?.product(&id).map(product_out)
    }

    fn bought_together(&mut self, product_id: String, limit: u32) -> Vec<catalog::ProductCount> {
        let Some(c) = self.catalog.as_ref() else { return Vec::new() };
        counts_out(c.bought_together(&product_id, limit.min(MAX_CATALOG_LIMIT)))
    }

    fn bestsellers(&mut self, category_id: Option<String>, limit: u32) -> Vec<catalog::ProductCount> {
        let Some(c) = self.catalog.as_ref() else { return Vec::new() };
        counts_out(c.bestsellers(category_id.as_deref(), limit.min(MAX_CATALOG_LIMIT)))
    }
}

impl wit::pricing::mercato::plugin::types::Host for HostState {}

/// One linker for every world; the install check decides which imports each
/// world may use.
pub fn linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
    log::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    catalog::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    wit::pricing::mercato::plugin::types::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    // 0.2.0 reuses 0.1.0's `types` (records only, nothing to link but the name).
    linker.instance(&format!("mercato:plugin/types@{}", super::install::V0_2))?;
    log_v2::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    Ok(linker)
}
