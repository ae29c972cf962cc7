//! The runtime: install components into the registry and call them, each
//! call in a fresh store under its limits, every outcome counted and traced.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use mercato_sdk::{ExtensionPoint, Metadata};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Engine, Store, Trap};

use super::adapters;
use super::cache::{CacheOutcome, ComponentCache};
use super::circuit::CircuitBreaker;
use super::engine::{self, EPOCH_TICK, EngineConfig};
use super::error::{CallError, FailureKind, InstallError};
use super::gate::Gate;
use super::install::{self, DEFAULT_MAX_COMPONENT_BYTES};
use super::journal::{Journal, JournalError, JournalLine};
use super::limits::{LimitOverrides, Limits, PAYMENT_DEADLINE};
use super::network::{HostPort, NetworkAccess, NetworkStats};
use super::stats::CallStats;
use super::store::{self, HostState, LogLine, SharedCatalog};
use super::wit;

/// The deadline of the calls made at install (`describe`, the tax world's
/// probe), in milliseconds.
const INSTALL_DEADLINE_MS: u64 = 10_000;

/// `limits` for the calls made once per install (or load at start), not on
/// a request: a large component's first instantiation on a busy machine
/// may take longer than a call's deadline. Fuel and memory stay the plugin's.
fn at_install(limits: &Limits) -> Limits {
    Limits { deadline_ms: limits.deadline_ms.max(INSTALL_DEADLINE_MS), ..*limits }
}

/// How a runtime is set up.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Where compiled components are cached across restarts (`None`: memory only).
    pub cache_dir: Option<PathBuf>,
    /// Limits of every call unless a plugin has overrides.
    pub default_limits: Limits,
    /// Largest component accepted at install.
    pub max_component_bytes: u64,
    /// Engine and instance pool settings.
    pub engine: EngineConfig,
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig {
            cache_dir: None,
            default_limits: Limits::default(),
            max_component_bytes: DEFAULT_MAX_COMPONENT_BYTES,
            engine: EngineConfig::default(),
        }
    }
}

/// A pre-linked world, ready to instantiate in a fresh store.
pub(crate) enum WorldPre {
    Pricing(wit::pricing::PricingPluginPre<HostState>),
    Tax(wit::tax::TaxPluginPre<HostState>),
    /// The tax world of `mercato:plugin@0.2.0`, with its `calculate` export
    /// (called with the host's own input record, see `adapters::tax`).
    TaxV2(wit::tax_v2::TaxPluginPre<HostState>, adapters::tax::wire::Calculate),
    Shipping(wit::shipping::ShippingPluginPre<HostState>),
    Payment(wit::payment::PaymentPluginPre<HostState>),
    Recommendations(wit::recommendations::RecommendationsPluginPre<HostState>),
}

/// Runs `$body` with `$p` bound to the typed pre-instance, whatever the world.
macro_rules! with_world {
    ($pre:expr, $p:ident => $body:expr) => {
        match $pre {
            WorldPre::Pricing($p) => $body,
            WorldPre::Tax($p) => $body,
            WorldPre::TaxV2($p, _) => $body,
            WorldPre::Shipping($p) => $body,
            WorldPre::Payment($p) => $body,
            WorldPre::Recommendations($p) => $body,
        }
    };
}

/// One installed plugin version.
pub struct InstalledPlugin {
    /// `plg_` + the first 24 hex digits of the component's sha256.
    pub id: String,
    /// What the component says about itself.
    pub metadata: Metadata,
    /// Hex sha256 of the component bytes.
    pub sha256: String,
    /// Size of the component.
    pub size_bytes: u64,
    /// The `mercato:plugin` version it speaks, e.g. `"0.2.0"`.
    pub contract: &'static str,
    /// Everything the component imports.
    pub imports: Vec<String>,
    /// Whether compilation was skipped thanks to the on-disk cache.
    pub loaded_from_cache: bool,
    /// Call counts, failures, latency.
    pub stats: CallStats,
    /// Recent log lines and the last failure of each kind.
    pub journal: Journal,
    /// Requests and bytes its calls sent and received.
    pub network: Arc<NetworkStats>,
    pub(crate) pre: WorldPre,
    limits: RwLock<Limits>,
    allowed_hosts: RwLock<Arc<Vec<HostPort>>>,
    /// Disabled platform-wide by the operator: every call fails at once.
    disabled: AtomicBool,
}

impl InstalledPlugin {
    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.metadata.name, self.metadata.version)
    }

    /// The extension point it implements.
    pub fn extension_point(&self) -> ExtensionPoint {
        self.metadata.extension_point
    }

    /// The limits its calls run under.
    pub fn limits(&self) -> Limits {
        *self.limits.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The hosts its calls may reach, `host:port` each (payment plugins only).
    pub fn allowed_hosts(&self) -> Arc<Vec<HostPort>> {
        self.allowed_hosts.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the operator disabled it: its calls fail with
    /// [`FailureKind::Disabled`] without running.
    pub fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::Relaxed)
    }
}

/// Who is being called, with what configuration, for whom.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The plugin version.
    pub plugin: &'a InstalledPlugin,
    /// The merchant's configuration for this binding, as JSON.
    pub config: &'a str,
    /// The merchant, for traces.
    pub merchant: &'a str,
    /// The binding's breaker, if the caller keeps one.
    pub breaker: Option<&'a CircuitBreaker>,
    /// A background call (a shadow run): it runs only on an idle core, and
    /// fails at once with [`FailureKind::Busy`] when every core is taken,
    /// so it never makes a request's call wait.
    pub background: bool,
}

impl<'a> Call<'a> {
    /// A call with no merchant or breaker (CLI, tests, install).
    pub fn new(plugin: &'a InstalledPlugin, config: &'a str) -> Call<'a> {
        Call { plugin, config, merchant: "-", breaker: None, background: false }
    }
}

/// A successful call.
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    /// The validated output.
    pub output: T,
    /// Instructions used.
    pub fuel_used: u64,
    /// Largest linear memory size reached.
    pub memory_peak_bytes: u64,
    /// Instantiate + call + validation.
    pub duration: Duration,
    /// What the plugin logged.
    pub logs: Vec<LogLine>,
}

/// What an invocation needs besides the store: sizes for the limits.
pub(crate) struct Sizing {
    pub lines: usize,
    pub input_bytes: u64,
}

/// The plugin runtime. Cheap to share behind an `Arc`.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    cache: ComponentCache,
    config: RuntimeConfig,
    plugins: RwLock<HashMap<String, Arc<InstalledPlugin>>>,
    gate: Gate,
}

impl Runtime {
    /// A runtime with its own engine and an empty registry.
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Runtime> {
        let engine = engine::build(&config.engine)?;
        let linker = store::linker(&engine)?;
        let cache = ComponentCache::new(&engine, config.cache_dir.clone());
        Ok(Runtime {
            engine,
            linker,
            cache,
            config,
            plugins: RwLock::new(HashMap::new()),
            gate: Gate::per_core(),
        })
    }

    /// The largest component [`Runtime::install`] accepts, in bytes.
    pub fn max_component_bytes(&self) -> u64 {
        self.config.max_component_bytes
    }

    /// The engine, for benchmarks and tools.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Checks, compiles (or loads from cache), describes and registers a
    /// component. Installing the same bytes twice returns the same plugin.
    pub fn install(&self, bytes: &[u8]) -> Result<Arc<InstalledPlugin>, InstallError> {
        self.install_with(bytes, &LimitOverrides::default())
    }

    /// [`Self::install`] with limit overrides for this plugin.
    pub fn install_with(
        &self,
        bytes: &[u8],
        overrides: &LimitOverrides,
    ) -> Result<Arc<InstalledPlugin>, InstallError> {
        install::check_bytes(bytes, self.config.max_component_bytes)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let id = format!("plg_{}", &sha256[..24]);
        if let Some(existing) = self.get(&id) {
            return Ok(existing);
        }
        let (component, cached) = self
            .cache
            .load_or_compile(&self.engine, &sha256, bytes)
            .map_err(|e| InstallError::Invalid(format!("{e:#}")))?;
        let (point, contract) = install::classify(&self.engine, &component)?;
        let limits = self.defaults_for(point).with(overrides).map_err(InstallError::Invalid)?;
        let pre = self.pre(point, contract, &component, &limits)?;
        let metadata = self.describe(&pre, &limits)?;
        if metadata.extension_point != point {
            return Err(InstallError::InvalidMetadata(format!(
                "metadata says {} but the component exports the {point} world",
                metadata.extension_point
            )));
        }
        let plugin = Arc::new(InstalledPlugin {
            id: id.clone(),
            contract,
            imports: install::imports(&self.engine, &component),
            loaded_from_cache: cached == CacheOutcome::Hit,
            metadata,
            sha256,
            size_bytes: bytes.len() as u64,
            stats: CallStats::default(),
            journal: Journal::default(),
            pre,
            limits: RwLock::new(limits),
            allowed_hosts: RwLock::new(Arc::new(Vec::new())),
            disabled: AtomicBool::new(false),
            network: Arc::default(),
        });
        let mut plugins = self.plugins.write().unwrap_or_else(|p| p.into_inner());
        if let Some(other) = plugins.values().find(|p| {
            p.metadata.name == plugin.metadata.name && p.metadata.version == plugin.metadata.version
        }) {
            return Err(InstallError::VersionExists {
                name: plugin.metadata.name.clone(),
                version: plugin.metadata.version.clone(),
                existing: other.sha256.clone(),
            });
        }
        plugins.insert(id, plugin.clone());
        tracing::info!(
            plugin = %plugin.label(), id = %plugin.id, point = %point, contract, size = plugin.size_bytes,
            from_cache = plugin.loaded_from_cache, "plugin installed"
        );
        Ok(plugin)
    }

    fn pre(
        &self,
        point: ExtensionPoint,
        contract: &str,
        component: &Component,
        limits: &Limits,
    ) -> Result<WorldPre, InstallError> {
        let pre: InstancePre<HostState> =
            self.linker.instantiate_pre(component).map_err(|e| InstallError::Invalid(format!("{e:#}")))?;
        let typed = |e: wasmtime::Error| InstallError::UnknownWorld(format!("{e:#}"));
        Ok(match point {
            ExtensionPoint::Pricing => {
                WorldPre::Pricing(wit::pricing::PricingPluginPre::new(pre).map_err(typed)?)
            }
            ExtensionPoint::Tax if contract == install::V0_2 => {
                let pre = wit::tax_v2::TaxPluginPre::new(pre).map_err(typed)?;
                let mut store = self.store(&at_install(limits), 1, None, None);
                let calculate =
                    adapters::tax::wire::Calculate::check(component, &pre, &mut store).map_err(typed)?;
                WorldPre::TaxV2(pre, calculate)
            }
            ExtensionPoint::Tax => WorldPre::Tax(wit::tax::TaxPluginPre::new(pre).map_err(typed)?),
            ExtensionPoint::Shipping => {
                WorldPre::Shipping(wit::shipping::ShippingPluginPre::new(pre).map_err(typed)?)
            }
            ExtensionPoint::Payment => {
                WorldPre::Payment(wit::payment::PaymentPluginPre::new(pre).map_err(typed)?)
            }
            ExtensionPoint::Recommendations => WorldPre::Recommendations(
                wit::recommendations::RecommendationsPluginPre::new(pre).map_err(typed)?,
            ),
        })
    }

    fn describe(&self, pre: &WorldPre, limits: &Limits) -> Result<Metadata, InstallError> {
        let mut store = self.store(&at_install(limits), 1, None, None);
        let invalid = |e: wasmtime::Error| InstallError::InvalidMetadata(format!("describe failed: {e:#}"));
        let m = with_world!(pre, p => p
            .instantiate(&mut store)
            .and_then(|i| i.mercato_plugin_plugin().call_describe(&mut store)))
        .map_err(invalid)?;
        let point = match m.extension_point {
            wit::ExtensionPoint::Pricing => ExtensionPoint::Pricing,
            wit::ExtensionPoint::Tax => ExtensionPoint::Tax,
            wit::ExtensionPoint::Shipping => ExtensionPoint::Shipping,
            wit::ExtensionPoint::Payment => ExtensionPoint::Payment,
            wit::ExtensionPoint::Recommendations => ExtensionPoint::Recommendations,
        };
        let valid_name = !m.name.is_empty()
            && m.name.len() <= 64
            && m.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !valid_name {
            return Err(InstallError::InvalidMetadata(format!(
                "name {:?} must be 1-64 lowercase letters, digits, '-' or '_'",
                m.name
            )));
        }
        let parts: Vec<&str> = m.version.split(['.', '-', '+']).collect();
        if parts.len() < 3 || parts[..3].iter().any(|p| p.parse::<u64>().is_err()) {
            return Err(InstallError::InvalidMetadata(format!("version {:?} is not semver", m.version)));
        }
        let Ok(schema) = serde_json::from_str::<serde_json::Value>(&m.config_schema) else {
            return Err(InstallError::InvalidMetadata("config_schema is not JSON".into()));
        };
        // Checked here, not at each bind: a console builds forms from it,
        // and bindings are checked against it. No remote `$ref` is fetched.
        if let Err(e) = jsonschema::validator_for(&schema) {
            return Err(InstallError::InvalidMetadata(format!(
                "config_schema is not a valid JSON Schema: {e}"
            )));
        }
        Ok(Metadata {
            name: m.name,
            version: m.version,
            extension_point: point,
            description: m.description,
            config_schema: m.config_schema,
        })
    }

    /// An installed plugin by id.
    pub fn get(&self, id: &str) -> Option<Arc<InstalledPlugin>> {
        self.plugins.read().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    /// Every installed plugin, by name then version.
    pub fn list(&self) -> Vec<Arc<InstalledPlugin>> {
        let mut all: Vec<_> =
            self.plugins.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        all.sort_by(|a, b| {
            (&a.metadata.name, &a.metadata.version).cmp(&(&b.metadata.name, &b.metadata.version))
        });
        all
    }

    /// Instantiates the plugin in a fresh store and drops it, calling
    /// nothing: the fixed cost of every call (benchmarks, health checks).
    pub fn instantiate(&self, plugin: &InstalledPlugin) -> wasmtime::Result<()> {
        let mut store = self.store(&plugin.limits(), 1, None, None);
        with_world!(&plugin.pre, p => p.instantiate(&mut store).map(drop))
    }

    /// The limits of a plugin of `point` without overrides: the configured
    /// defaults, with a payment call's deadline long enough for its
    /// provider's round trips (its CPU is still bounded by fuel).
    fn defaults_for(&self, point: ExtensionPoint) -> Limits {
        let mut limits = self.config.default_limits;
        if point == ExtensionPoint::Payment {
            limits.deadline_ms = limits.deadline_ms.max(PAYMENT_DEADLINE.as_millis() as u64);
        }
        limits
    }

    /// Replaces the hosts a plugin may reach (only payment plugins make
    /// requests); calls after this use them.
    pub fn set_allowed_hosts(&self, id: &str, hosts: Vec<HostPort>) -> Result<(), String> {
        let plugin = self.get(id).ok_or_else(|| format!("no plugin {id}"))?;
        *plugin.allowed_hosts.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(hosts);
        Ok(())
    }

    /// Disables or enables a plugin; calls after this see it.
    pub fn set_disabled(&self, id: &str, disabled: bool) -> Result<(), String> {
        let plugin = self.get(id).ok_or_else(|| format!("no plugin {id}"))?;
        plugin.disabled.store(disabled, Ordering::Relaxed);
        Ok(())
    }

    /// Forgets an uninstalled plugin on this host (calls in flight finish).
    pub fn remove(&self, id: &str) -> Option<Arc<InstalledPlugin>> {
        self.plugins.write().unwrap_or_else(|p| p.into_inner()).remove(id)
    }

    /// Replaces a plugin's limit overrides; calls after this use them.
    pub fn set_limits(&self, id: &str, overrides: &LimitOverrides) -> Result<Limits, String> {
        let plugin = self.get(id).ok_or_else(|| format!("no plugin {id}"))?;
        let limits = self.defaults_for(plugin.extension_point()).with(overrides)?;
        *plugin.limits.write().unwrap_or_else(|p| p.into_inner()) = limits;
        Ok(limits)
    }

    fn store(
        &self,
        limits: &Limits,
        lines: usize,
        catalog: Option<SharedCatalog>,
        network: Option<NetworkAccess>,
    ) -> Store<HostState> {
        let mut store = Store::new(&self.engine, HostState::new(limits.memory_bytes, catalog, network));
        store.limiter(|s| &mut s.limiter);
        // Fuel is enabled on the engine, so setting it cannot fail.
        let _ = store.set_fuel(limits.fuel_for(lines));
        let ticks = limits.deadline().as_micros().div_ceil(EPOCH_TICK.as_micros()) as u64;
        store.set_epoch_deadline(ticks.max(1));
        store
    }

    /// Runs one call: breaker, input cap, fresh store, the call itself, then
    /// `finish` to convert and validate the raw output. Every outcome is
    /// counted, traced and reported to the breaker.
    pub(crate) fn invoke<R, T>(
        &self,
        call: Call<'_>,
        name: &'static str,
        sizing: Sizing,
        catalog: Option<SharedCatalog>,
        run: impl FnOnce(
            &WorldPre,
            &mut Store<HostState>,
        ) -> Option<wasmtime::Result<Result<R, wit::PluginError>>>,
        finish: impl FnOnce(R, &Limits) -> Result<T, FailureKind>,
    ) -> Result<Outcome<T>, CallError> {
        let plugin = call.plugin;
        let limits = plugin.limits();
        let fail = |kind: FailureKind| CallError {
            plugin: plugin.label(),
            plugin_id: plugin.id.clone(),
            point: plugin.extension_point(),
            call: name,
            kind,
        };
        // Not run, not counted, and no failure for the breaker: the operator's choice.
        if plugin.is_disabled() {
            return Err(fail(FailureKind::Disabled));
        }
        // A payment call mostly waits on its provider, not on a core. A
        // background call takes a core only if one is idle, before its
        // breaker is asked (a call not run must not hold a probe).
        let payment = plugin.extension_point() == ExtensionPoint::Payment;
        let idle = match call.background && !payment {
            true => Some(self.gate.try_enter().ok_or_else(|| fail(FailureKind::Busy))?),
            false => None,
        };
        if let Some(b) = call.breaker
            && let Err(refused) = b.try_acquire()
        {
            return Err(fail(FailureKind::CircuitOpen {
                failures: refused.failures,
                last_failure: refused.last_failure,
                retry_in_ms: u64::try_from(refused.retry_in.as_millis()).unwrap_or(u64::MAX),
            }));
        }
        let pass = if payment || idle.is_some() { idle } else { Some(self.gate.enter()) };
        let start = Instant::now();
        let network =
            payment.then(|| NetworkAccess { allowed: plugin.allowed_hosts(), stats: plugin.network.clone() });
        let mut store = self.store(&limits, sizing.lines, catalog, network);
        let fuel_given = store.get_fuel().unwrap_or(0);
        let result = if sizing.input_bytes > limits.max_input_bytes {
            Err(FailureKind::InputTooLarge { size: sizing.input_bytes, limit: limits.max_input_bytes })
        } else {
            match run(&plugin.pre, &mut store) {
                None => Err(FailureKind::Host(format!("{} is not a {} plugin", plugin.label(), name))),
                Some(Err(e)) => Err(classify_trap(&e, &store, &limits, fuel_given)),
                Some(Ok(Err(e))) => Err(FailureKind::Reported { code: e.code, message: e.message }),
                Some(Ok(Ok(raw))) => finish(raw, &limits),
            }
        };
        let duration = start.elapsed();
        drop(pass);
        let fuel_used = fuel_given.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();
        // A plugin that reported failing after the host refused one of its
        // requests failed because of the refusal: say so, naming the host.
        let result = match (result, state.hooks.refused()) {
            (Err(FailureKind::Reported { .. }), Some(destination)) => {
                Err(FailureKind::NetworkRefused { destination })
            }
            (result, _) => result,
        };
        plugin.stats.record(duration, fuel_used, result.is_err());
        if let Some(b) = call.breaker {
            b.record_call(duration, fuel_used, result.as_ref().err().map(ToString::to_string));
        }
        match &result {
            Ok(_) => tracing::debug!(
                plugin = %plugin.label(), merchant = call.merchant, call = name,
                duration_us = duration.as_micros() as u64, fuel = fuel_used, outcome = "ok", "plugin call"
            ),
            Err(kind) => tracing::warn!(
                plugin = %plugin.label(), merchant = call.merchant, call = name,
                duration_us = duration.as_micros() as u64, fuel = fuel_used, outcome = kind.code(),
                error = %kind, "plugin call failed"
            ),
        }
        // Most calls log, print and fail nothing: they touch no journal.
        let printed = state.printed.lines();
        if !state.logs.is_empty() || !printed.is_empty() || result.is_err() {
            let now = super::journal::now_ms();
            let line = |level: &str, message: &str| JournalLine {
                at: now,
                merchant_id: call.merchant.to_owned(),
                call: name.to_owned(),
                level: level.to_owned(),
                message: message.to_owned(),
            };
            plugin.journal.lines(
                state
                    .logs
                    .iter()
                    .map(|l| line(l.level, &l.message))
                    .chain(printed.iter().map(|p| line("printed", p))),
            );
            if let Err(kind) = &result {
                plugin.journal.error(JournalError {
                    at: now,
                    merchant_id: call.merchant.to_owned(),
                    call: name.to_owned(),
                    kind: kind.code().to_owned(),
                    message: kind.to_string(),
                    count: 0,
                });
            }
        }
        let output = result.map_err(fail)?;
        Ok(Outcome { output, fuel_used, memory_peak_bytes: state.limiter.peak, duration, logs: state.logs })
    }
}

fn classify_trap(e: &wasmtime::Error, store: &Store<HostState>, limits: &Limits, fuel: u64) -> FailureKind {
    if store.data().limiter.exceeded {
        return FailureKind::Memory { limit_bytes: limits.memory_bytes };
    }
    let trap = match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => return FailureKind::OutOfFuel { limit: fuel },
        Some(Trap::Interrupt) => return FailureKind::Deadline { limit_ms: limits.deadline_ms },
        Some(Trap::StackOverflow) => return FailureKind::StackOverflow,
        Some(trap) => trap.to_string(),
        None => format!("{e:#}"),
    };
    // A Rust guest prints its panic to stderr before it aborts: the
    // message says more than `unreachable`.
    match panic_message(&store.data().printed.lines()) {
        Some(panic) => FailureKind::Trap(format!("{panic} ({trap})")),
        None => FailureKind::Trap(trap),
    }
}

/// `panicked at src/lib.rs:44:22: the message` from what a guest printed.
fn panic_message(printed: &[String]) -> Option<String> {
    let at = printed.iter().rposition(|l| l.contains(" panicked at "))?;
    let head = &printed[at][printed[at].find("panicked at ")?..];
    let message: Vec<&str> =
        printed[at + 1..].iter().map(|l| l.trim()).take_while(|l| !l.starts_with("note:")).take(4).collect();
    Some(if message.is_empty() { head.to_owned() } else { format!("{head} {}", message.join(" ")) })
}
