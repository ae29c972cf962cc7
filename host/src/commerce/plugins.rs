//! Plugins as the platform runs them: components installed through the
//! runtime and stored with their bytes (so every host loads them back at
//! start), operator limit overrides, and each merchant's ordered bindings
//! per extension point, cached in memory with a circuit breaker each.

pub use crate::model::plugins::{StoredPlugin, StoredPolicy};

mod bindings;
mod shadow;

use crate::runtime::journal::{JournalError, JournalLine};
use std::sync::Arc;

use anyhow::{Context, anyhow};
use mercato_sdk::ExtensionPoint;
use serde::Serialize;
use serde_json::Value;

use super::cache::{self, Stale};
use super::{Error, Page, Paged, Result};
use crate::db::{self, Db};
use crate::runtime::{
    CircuitState, HostPort, InstallError, InstalledPlugin, LimitOverrides, Limits, MAX_ALLOWED_HOSTS, Runtime,
};

pub use bindings::{
    BindError, Binding, BindingMode, BindingUpgrade, BindingView, Bindings, BindingsByPoint, MAX_BINDINGS,
    MAX_CONFIG_BYTES, NewBinding, NewBindings, OnError, PointBindings, ShadowPromotion, StoredBinding,
    list_bindings, promote_shadow, replace_bindings, trial_bindings, upgrade_binding,
};
pub use shadow::{
    Exchange, MAX_CALLS_PER_SHADOW, Sample, Shadow, ShadowDifference, ShadowFailure, ShadowReport,
    ShadowRuns, ShadowSummary, Timing, report as shadow_report,
};

/// An installed plugin as the operator sees it: what the component says
/// about itself, its limits, and how its calls are going on this host.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Plugin {
    /// `plg_` + the first 24 hex digits of the component's sha256.
    pub id: String,
    /// The name the component declares, e.g. "test-gateway".
    pub name: String,
    /// The version the component declares; with the name, its label `name@version`.
    pub version: String,
    /// pricing, tax, shipping, payment or recommendations.
    #[schema(value_type = String, example = "tax")]
    pub extension_point: ExtensionPoint,
    /// The `mercato:plugin` version the component speaks, e.g. `"0.2.0"`.
    #[schema(example = "0.2.0")]
    pub contract: String,
    /// Hex SHA-256 of the component's bytes.
    pub sha256: String,
    /// Size of the component, in bytes.
    pub size_bytes: u64,
    /// What the component says it does.
    pub description: String,
    /// JSON Schema of the configuration a binding passes to the plugin.
    #[schema(value_type = Object)]
    pub config_schema: Value,
    /// Every interface the component imports.
    pub imports: Vec<String>,
    /// The limits every call runs under (defaults with overrides applied).
    pub limits: PluginLimits,
    /// What the operator overrode (absent fields keep the default).
    #[schema(value_type = Object)]
    pub limit_overrides: LimitOverrides,
    /// The hosts its calls may reach over HTTP (`host:port`); payment plugins only.
    pub allowed_hosts: Vec<String>,
    /// Calls on this host since it started.
    pub stats: PluginStats,
    /// The plugin's circuit breakers across merchants' bindings.
    pub circuit: PluginCircuit,
    /// False once the operator disabled it platform-wide: its bindings then
    /// answer as their `on_error` says (skipped with a warning, or failing
    /// with `plugin_failed`), without running it.
    pub enabled: bool,
    /// When it was installed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// Limits of one call.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginLimits {
    /// Instructions per 200 cart lines.
    pub fuel_per_200_lines: u64,
    /// Wall-clock deadline of one call, in milliseconds.
    pub deadline_ms: u64,
    /// Linear memory the plugin may grow to, in bytes.
    pub memory_bytes: u64,
    /// Largest input a call may be given, in bytes.
    pub max_input_bytes: u64,
    /// Largest output a call may return, in bytes.
    pub max_output_bytes: u64,
}

impl From<Limits> for PluginLimits {
    fn from(l: Limits) -> PluginLimits {
        PluginLimits {
            fuel_per_200_lines: l.fuel_per_200_lines,
            deadline_ms: l.deadline_ms,
            memory_bytes: l.memory_bytes,
            max_input_bytes: l.max_input_bytes,
            max_output_bytes: l.max_output_bytes,
        }
    }
}

/// Call counts and latency percentiles (microseconds).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginStats {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed, of any kind.
    pub failures: u64,
    /// Median call duration.
    pub p50_us: f64,
    /// 95th percentile of call duration.
    pub p95_us: f64,
    /// 99th percentile of call duration.
    pub p99_us: f64,
    /// Mean fuel (instructions) per call.
    pub mean_fuel: u64,
    /// Outgoing HTTP requests sent (payment plugins).
    pub http_requests: u64,
    /// Outgoing HTTP requests refused by the host before anything was sent.
    pub http_refused: u64,
    /// Request body bytes sent.
    pub http_bytes_sent: u64,
    /// Response body bytes received.
    pub http_bytes_received: u64,
}

/// `PUT /plugins/{id}/network`: the hosts a payment plugin may reach.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkRequest {
    /// `host:port` each, exact (`psp.example:443`, `[2001:db8::1]:8443`); an
    /// IP address listed here may be private or loopback. `[]` allows none.
    #[schema(required = true)]
    pub allowed_hosts: Option<Vec<String>>,
}

/// The worst breaker state among the plugin's bindings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginCircuit {
    /// `open` if any binding's breaker is open, `half_open` if any is
    /// half-open, else `closed`.
    #[schema(value_type = String, example = "closed")]
    pub state: CircuitState,
    /// Bindings whose breaker is open or half-open.
    pub open_bindings: usize,
}

impl Default for PluginCircuit {
    fn default() -> PluginCircuit {
        PluginCircuit { state: CircuitState::Closed, open_bindings: 0 }
    }
}

fn view(p: &InstalledPlugin, row: &StoredPlugin, circuit: PluginCircuit) -> Plugin {
    let s = p.stats.snapshot();
    let n = p.network.snapshot();
    Plugin {
        id: p.id.clone(),
        name: p.metadata.name.clone(),
        version: p.metadata.version.clone(),
        extension_point: p.extension_point(),
        contract: p.contract.to_owned(),
        sha256: p.sha256.clone(),
        size_bytes: p.size_bytes,
        description: p.metadata.description.clone(),
        config_schema: serde_json::from_str(&p.metadata.config_schema).unwrap_or(Value::Null),
        imports: p.imports.clone(),
        limits: p.limits().into(),
        limit_overrides: overrides(row),
        allowed_hosts: p.allowed_hosts().iter().map(ToString::to_string).collect(),
        stats: PluginStats {
            calls: s.calls,
            failures: s.failures,
            p50_us: s.p50_us,
            p95_us: s.p95_us,
            p99_us: s.p99_us,
            mean_fuel: s.mean_fuel,
            http_requests: n.requests,
            http_refused: n.refused,
            http_bytes_sent: n.bytes_sent,
            http_bytes_received: n.bytes_received,
        },
        circuit,
        enabled: row.policy.disabled_at.is_none(),
        created_at: row.created_at,
    }
}

fn overrides(row: &StoredPlugin) -> LimitOverrides {
    stored_overrides(&row.id, row.policy.limits.as_deref())
}

/// Applies what the operator stored for a plugin (maybe on another host)
/// to this host's runtime: its limits, the hosts it may reach, and whether
/// it is disabled.
fn apply_policy(runtime: &Runtime, id: &str, policy: &StoredPolicy) {
    let overrides = stored_overrides(id, policy.limits.as_deref());
    if let Err(e) = runtime.set_limits(id, &overrides) {
        tracing::warn!(plugin = %id, error = %e, "stored limit overrides are invalid; keeping the current limits");
    }
    let hosts: Vec<String> = serde_json::from_str(&policy.allowed_hosts).unwrap_or_else(|e| {
        tracing::warn!(plugin = %id, error = %e, "stored allowed hosts are unreadable; allowing none");
        Vec::new()
    });
    let hosts = hosts.iter().filter_map(|h| HostPort::parse(h).ok()).collect();
    let _ = runtime.set_allowed_hosts(id, hosts);
    let _ = runtime.set_disabled(id, policy.disabled_at.is_some());
}

/// A plugin's stored limit overrides (JSON, `None` for the defaults).
fn stored_overrides(id: &str, json: Option<&str>) -> LimitOverrides {
    let Some(json) = json else { return LimitOverrides::default() };
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(plugin = %id, error = %e, "stored limit overrides are unreadable; using the defaults");
        LimitOverrides::default()
    })
}

fn install_error(e: InstallError) -> Error {
    match e {
        InstallError::VersionExists { .. } => Error::Conflict { code: e.code(), message: e.to_string() },
        _ => Error::Unprocessable { code: e.code(), message: e.to_string() },
    }
}

/// Compiles, checks and registers a component on a blocking thread.
async fn install_blocking<B>(
    runtime: &Arc<Runtime>,
    bytes: B,
    overrides: LimitOverrides,
) -> Result<(Arc<InstalledPlugin>, B)>
where
    B: AsRef<[u8]> + Send + 'static,
{
    let rt = runtime.clone();
    let (installed, bytes) =
        tokio::task::spawn_blocking(move || (rt.install_with(bytes.as_ref(), &overrides), bytes))
            .await
            .context("plugin install task failed")?;
    Ok((installed.map_err(install_error)?, bytes))
}

/// Installs a component and stores it. `true` when it is new; the same bytes
/// again give the same plugin and `false`.
pub async fn install<B>(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    bytes: B,
) -> Result<(Plugin, bool)>
where
    B: AsRef<[u8]> + Send + 'static,
{
    let (p, bytes) = install_blocking(runtime, bytes, LimitOverrides::default()).await?;
    if let Some(row) = db::plugins::get(db, &p.id).await? {
        return Ok((view(&p, &row, bindings.circuit_of(&p.id)), false));
    }
    let row = StoredPlugin {
        id: p.id.clone(),
        name: p.metadata.name.clone(),
        version: p.metadata.version.clone(),
        extension_point: p.extension_point().as_str().to_owned(),
        sha256: p.sha256.clone(),
        size_bytes: p.size_bytes as i64,
        description: p.metadata.description.clone(),
        config_schema: p.metadata.config_schema.clone(),
        policy: StoredPolicy::default(),
        created_at: db::now_ms(),
    };
    match db::plugins::insert(db, &row, bytes.as_ref()).await {
        Ok(()) => Ok((view(&p, &row, bindings.circuit_of(&p.id)), true)),
        Err(e) => match db::unique_violation(&e) {
            // Another host stored other bytes under this name and version.
            Some(c) if c.contains("version") => Err(Error::Conflict {
                code: "version_exists",
                message: format!(
                    "{} is already installed with different content; bump the version",
                    p.label()
                ),
            }),
            // The same bytes, installed at the same moment by another request.
            Some(_) => {
                let row = db::plugins::get(db, &p.id).await?.ok_or(Error::NotFound("plugin"))?;
                Ok((view(&p, &row, bindings.circuit_of(&p.id)), false))
            }
            None => Err(e.into()),
        },
    }
}

/// The runtime's copy of a stored plugin, loading it from the database if
/// this host does not have it yet (installed by another host). `None` if
/// no such plugin is stored.
pub async fn ensure_loaded(
    db: &Db,
    runtime: &Arc<Runtime>,
    id: &str,
) -> Result<Option<Arc<InstalledPlugin>>> {
    if let Some(p) = runtime.get(id) {
        return Ok(Some(p));
    }
    let Some((component, policy)) = db::plugins::component(db, id).await? else { return Ok(None) };
    let overrides = stored_overrides(id, policy.limits.as_deref());
    let (p, _) = install_blocking(runtime, component, overrides)
        .await
        .map_err(|e| anyhow!("stored plugin {id} does not load: {e}"))?;
    apply_policy(runtime, id, &policy);
    Ok(Some(p))
}

/// What another host changed of plugin `id`, applied here: its stored
/// policy, or its removal when it is no longer stored (uninstalled). A
/// plugin this host has not loaded is left to load when first bound.
pub(crate) async fn refresh(db: &Db, runtime: &Arc<Runtime>, id: &str) -> Result<()> {
    if runtime.get(id).is_none() {
        return Ok(());
    }
    match db::plugins::get(db, id).await? {
        Some(row) => apply_policy(runtime, id, &row.policy),
        None => {
            runtime.remove(id);
        }
    }
    Ok(())
}

/// Loads every stored plugin into the runtime, with its limit overrides;
/// called at start. A plugin that no longer loads (the host's install
/// check changed) is logged and skipped, so the others still serve.
pub async fn load_installed(db: &Db, runtime: &Arc<Runtime>) -> Result<usize> {
    let mut loaded = 0;
    for id in db::plugins::ids(db).await? {
        match ensure_loaded(db, runtime, &id).await {
            Ok(Some(_)) => loaded += 1,
            Ok(None) => {}
            Err(e) => tracing::error!(plugin = %id, error = %e, "stored plugin was not loaded"),
        }
    }
    tracing::info!(plugins = loaded, "installed plugins loaded");
    Ok(loaded)
}

/// Writes `plugin.circuit_opened` for each merchant's binding whose
/// breaker opened on this host since the last call (each opening once);
/// how many were written.
pub async fn record_opened_circuits(db: &Db, bindings: &Bindings) -> Result<usize> {
    let opened = bindings.take_opened();
    for (merchant_id, point, plugin, failures, last_failure) in &opened {
        let payload = serde_json::json!({
            "plugin_id": plugin.id, "plugin": plugin.metadata.name, "version": plugin.metadata.version,
            "extension_point": point.as_str(), "consecutive_failures": failures, "last_failure": last_failure,
        });
        db::events::add(db, merchant_id, "plugin.circuit_opened", &plugin.id, &payload).await?;
    }
    Ok(opened.len())
}

/// An extension point named in a URL or a query.
pub fn extension_point(s: &str) -> Result<ExtensionPoint> {
    ExtensionPoint::parse(s).ok_or(Error::NotFound("extension point"))
}

/// Installed plugins in id order, optionally of one extension point.
pub async fn list(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    point: Option<ExtensionPoint>,
    page: &Page,
) -> Result<Paged<Plugin>> {
    let rows =
        db::plugins::list(db, point.map(|p| p.as_str()), page.after.as_deref(), page.limit + 1).await?;
    let mut circuits = bindings.circuits();
    let mut plugins = Vec::with_capacity(rows.len());
    for row in rows {
        let p = ensure_loaded(db, runtime, &row.id).await?.ok_or(Error::NotFound("plugin"))?;
        let circuit = circuits.remove(&row.id).unwrap_or_default();
        plugins.push(view(&p, &row, circuit));
    }
    Ok(Paged::from_rows(plugins, page.limit, |p| &p.id))
}

/// An installed plugin as a merchant sees it, to choose and configure:
/// what it is, not how it runs on the host.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginSummary {
    /// `plg_…`.
    pub id: String,
    /// The name the component declares.
    pub name: String,
    /// The version the component declares.
    pub version: String,
    /// pricing, tax, shipping, payment or recommendations.
    #[schema(value_type = String, example = "tax")]
    pub extension_point: ExtensionPoint,
    /// What the component says it does.
    pub description: String,
    /// JSON Schema of the configuration a binding passes to the plugin.
    #[schema(value_type = Object)]
    pub config_schema: Value,
    /// When it was installed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

impl From<Plugin> for PluginSummary {
    fn from(p: Plugin) -> PluginSummary {
        PluginSummary {
            id: p.id,
            name: p.name,
            version: p.version,
            extension_point: p.extension_point,
            description: p.description,
            config_schema: p.config_schema,
            created_at: p.created_at,
        }
    }
}

/// Installed plugins a merchant can bind, in id order, optionally of one
/// extension point.
pub async fn available(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    point: Option<ExtensionPoint>,
    page: &Page,
) -> Result<Paged<PluginSummary>> {
    let all = list(db, runtime, bindings, point, page).await?;
    let data = all.data.into_iter().map(PluginSummary::from).collect();
    Ok(Paged { data, next_cursor: all.next_cursor, has_more: all.has_more })
}

/// One installed plugin.
pub async fn get(db: &Db, runtime: &Arc<Runtime>, bindings: &Bindings, id: &str) -> Result<Plugin> {
    let row = db::plugins::get(db, id).await?.ok_or(Error::NotFound("plugin"))?;
    let p = ensure_loaded(db, runtime, id).await?.ok_or(Error::NotFound("plugin"))?;
    Ok(view(&p, &row, bindings.circuit_of(id)))
}

/// A plugin's calls over the last hour on this host, window by window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginHistory {
    /// `plg_…`.
    pub plugin_id: String,
    /// The length of a window, at least (a window closes at the host's
    /// first periodic pass after it).
    pub window_seconds: u64,
    /// Closed windows, oldest first; at most an hour's.
    pub windows: Vec<crate::runtime::Window>,
}

/// `PATCH /v1/platform/plugins/{id}`: the operator's switch.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginChange {
    /// False disables the plugin platform-wide (every merchant's bindings
    /// of it answer as their `on_error` says); true enables it again.
    #[schema(required = true)]
    pub enabled: Option<bool>,
}

/// Disables or enables a plugin platform-wide, at once on this host and
/// within the bindings' refresh on the others.
pub async fn change(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    id: &str,
    req: PluginChange,
) -> Result<Plugin> {
    let enabled = req.enabled.ok_or_else(|| Error::field("enabled", "is required: true or false"))?;
    ensure_loaded(db, runtime, id).await?.ok_or(Error::NotFound("plugin"))?;
    let at = (!enabled).then(db::now_ms);
    if !db::plugins::set_disabled(db, id, at).await? {
        return Err(Error::NotFound("plugin"));
    }
    runtime.set_disabled(id, !enabled).map_err(|e| anyhow!(e))?;
    cache::announce(db, Stale::Plugin(id.to_owned())).await;
    tracing::info!(plugin = %id, enabled, "plugin switched by the operator");
    get(db, runtime, bindings, id).await
}

/// Uninstalls a plugin nothing binds: refused (409) while any merchant
/// binds it, naming the bindings, and for a payment plugin that took
/// payments (its orders may still be captured or refunded through it;
/// disable it instead).
pub async fn uninstall(db: &Db, runtime: &Arc<Runtime>, id: &str) -> Result<()> {
    let stored = db::plugins::get(db, id).await?.ok_or(Error::NotFound("plugin"))?;
    let label = format!("{}@{}", stored.name, stored.version);
    let bound_by = db::plugins::binders(db, id).await?;
    if !bound_by.is_empty() {
        let list: Vec<String> = bound_by.iter().map(|(m, point)| format!("{m} ({point})")).collect();
        let message = format!(
            "{label} is bound by {} binding(s): {}; those merchants must unbind it first",
            list.len(),
            list.join(", ")
        );
        return Err(Error::Conflict { code: "plugin_bound", message });
    }
    if stored.extension_point == ExtensionPoint::Payment.as_str()
        && db::plugins::took_payments(db, id).await?
    {
        let message = format!(
            "{label} took payments that may still be captured, voided or refunded through it; disable it instead"
        );
        return Err(Error::Conflict { code: "plugin_has_payments", message });
    }
    if !db::plugins::delete_unbound(db, id).await? {
        let message = format!("{label} was bound while it was being uninstalled; it stays installed");
        return Err(Error::Conflict { code: "plugin_bound", message });
    }
    runtime.remove(id);
    cache::announce(db, Stale::Plugin(id.to_owned())).await;
    tracing::info!(plugin = %label, id = %id, "plugin uninstalled");
    Ok(())
}

/// A plugin's call history on this host (kept in memory, per host).
pub async fn history(db: &Db, runtime: &Arc<Runtime>, id: &str) -> Result<PluginHistory> {
    let p = ensure_loaded(db, runtime, id).await?.ok_or(Error::NotFound("plugin"))?;
    Ok(PluginHistory {
        plugin_id: p.id.clone(),
        window_seconds: (crate::runtime::WINDOW_MS / 1000) as u64,
        windows: p.stats.history(),
    })
}

/// Closes the history windows that are due, for every plugin loaded on this host.
pub fn sample_history(runtime: &Runtime, now_ms: i64) {
    for p in runtime.list() {
        p.stats.sample(now_ms);
    }
}

/// What this host remembers of a plugin's calls: its recent log lines
/// (logged and printed) and its last failure of each kind, all merchants'
/// or one merchant's. Kept in memory: each host has its own, and a restart
/// forgets them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PluginLogs {
    /// `plg_…`.
    pub plugin_id: String,
    /// Oldest first, at most the last 200.
    pub lines: Vec<JournalLine>,
    /// The last failure of each kind.
    pub errors: Vec<JournalError>,
}

/// A plugin's journal on this host.
pub async fn logs(
    db: &Db,
    runtime: &Arc<Runtime>,
    id: &str,
    merchant_id: Option<&str>,
) -> Result<PluginLogs> {
    let p = ensure_loaded(db, runtime, id).await?.ok_or(Error::NotFound("plugin"))?;
    let (lines, errors) = p.journal.view(merchant_id);
    Ok(PluginLogs { plugin_id: p.id.clone(), lines, errors })
}

/// Replaces a plugin's limit overrides (`{}` restores every default); calls
/// after this run under them, and they survive restarts.
pub async fn set_limits(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    id: &str,
    new: LimitOverrides,
) -> Result<Plugin> {
    let mut row = db::plugins::get(db, id).await?.ok_or(Error::NotFound("plugin"))?;
    let p = ensure_loaded(db, runtime, id).await?.ok_or(Error::NotFound("plugin"))?;
    let old = overrides(&row);
    runtime
        .set_limits(id, &new)
        .map_err(|message| Error::Unprocessable { code: "invalid_limits", message })?;
    let json = (new != LimitOverrides::default())
        .then(|| serde_json::to_string(&new))
        .transpose()
        .context("failed to encode limit overrides")?;
    if let Err(e) = db::plugins::set_limits(db, id, json.as_deref()).await {
        // Keep the runtime in step with what is stored.
        let _ = runtime.set_limits(id, &old);
        return Err(e.into());
    }
    cache::announce(db, Stale::Plugin(id.to_owned())).await;
    row.policy.limits = json;
    Ok(view(&p, &row, bindings.circuit_of(id)))
}

/// Replaces the hosts a payment plugin may reach over HTTP: exact
/// `host:port` each, at most [`MAX_ALLOWED_HOSTS`]. Calls after this (on
/// every host, once it reloads the merchant's bindings) use them.
pub async fn set_allowed_hosts(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    id: &str,
    req: NetworkRequest,
) -> Result<Plugin> {
    let mut row = db::plugins::get(db, id).await?.ok_or(Error::NotFound("plugin"))?;
    let p = ensure_loaded(db, runtime, id).await?.ok_or(Error::NotFound("plugin"))?;
    let mut check = super::Check::default();
    let raw = check.field("allowed_hosts", req.allowed_hosts.ok_or_else(|| "is required".to_owned()));
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_ALLOWED_HOSTS {
        check.field::<()>("allowed_hosts", Err(format!("must have at most {MAX_ALLOWED_HOSTS} hosts")));
    }
    let mut hosts: Vec<HostPort> = Vec::new();
    for (i, h) in raw.iter().enumerate() {
        if let Some(h) = check.field(format!("allowed_hosts[{i}]"), HostPort::parse(h))
            && !hosts.contains(&h)
        {
            hosts.push(h);
        }
    }
    check.finish()?;
    if !hosts.is_empty() && p.extension_point() != ExtensionPoint::Payment {
        return Err(Error::Unprocessable {
            code: "network_not_supported",
            message: format!(
                "{} is a {} plugin; only payment plugins may reach the network",
                p.label(),
                p.extension_point()
            ),
        });
    }
    let names: Vec<String> = hosts.iter().map(ToString::to_string).collect();
    let json = serde_json::to_string(&names).context("failed to encode allowed hosts")?;
    db::plugins::set_allowed_hosts(db, id, &json).await?;
    runtime.set_allowed_hosts(id, hosts).map_err(|e| anyhow!(e))?;
    cache::announce(db, Stale::Plugin(id.to_owned())).await;
    row.policy.allowed_hosts = json;
    Ok(view(&p, &row, bindings.circuit_of(id)))
}
