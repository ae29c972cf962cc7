//! Each merchant's ordered plugin bindings per extension point: stored in
//! one transaction per change, cached in memory with a circuit breaker per
//! binding, and handed to the checkout ready to call.

pub use crate::model::plugins::{OnError, ShadowOf, StoredBinding};

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use anyhow::anyhow;
use mercato_sdk::ExtensionPoint;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::shadow::Shadow;
use super::{PluginCircuit, ensure_loaded};
use crate::commerce::cache::{self, Stale, reload_after};
use crate::commerce::{Check, Error, FieldErrors, Result};
use crate::db::{self, Db};
use crate::runtime::{CircuitBreaker, CircuitState, InstalledPlugin, Runtime};

/// Most plugins bound to one extension point of one merchant.
pub const MAX_BINDINGS: usize = 10;
/// Largest configuration of one binding, as JSON.
pub const MAX_CONFIG_BYTES: usize = 64 << 10;

/// One merchant binding, ready to call.
pub struct Binding {
    /// The installed plugin the binding calls.
    pub plugin: Arc<InstalledPlugin>,
    /// The merchant's configuration, as the JSON the plugin is given.
    pub config: String,
    /// Whether a failure fails the operation or skips this plugin.
    pub on_error: OnError,
    /// Counts this binding's failures; pass it in every `Call`.
    pub breaker: Arc<CircuitBreaker>,
    /// A candidate bound in shadow mode beside this binding, if any.
    pub shadow: Option<Arc<Shadow>>,
}

/// A merchant's bindings of one point, as loaded: trusted until another
/// host's notice makes them stale, or for [`reload_after`] at most (then
/// read again, with the policies of the plugins bound: limits, allowed
/// hosts, enabled).
struct Cached {
    list: Arc<Vec<Binding>>,
    loaded_at: Instant,
    /// When a notice said they changed (read again on next use).
    stale_since: Option<Instant>,
}

/// Every merchant's bindings, loaded lazily from the database and replaced
/// when a merchant changes them. A cheap-to-clone handle.
#[derive(Clone, Default)]
pub struct Bindings {
    cache: Arc<RwLock<HashMap<(String, ExtensionPoint), Cached>>>,
}

impl Bindings {
    /// The merchant's bindings of `point`, in call order.
    pub async fn bindings_for(
        &self,
        db: &Db,
        runtime: &Arc<Runtime>,
        merchant_id: &str,
        point: ExtensionPoint,
    ) -> Result<Arc<Vec<Binding>>> {
        let key = (merchant_id.to_owned(), point);
        if let Some(c) = self.cache.read().unwrap_or_else(|p| p.into_inner()).get(&key)
            && c.stale_since.is_none()
            && c.loaded_at.elapsed() < reload_after()
        {
            return Ok(c.list.clone());
        }
        let started = Instant::now();
        let mut rows = Vec::new();
        let mut plugins = Vec::new();
        for (row, policy) in db::plugins::bindings(db, merchant_id, point.as_str()).await? {
            let p = ensure_loaded(db, runtime, &row.plugin_id).await?;
            let p = p.ok_or_else(|| anyhow!("bound plugin {} is not stored", row.plugin_id))?;
            // Limits and allowed hosts another host set reach this one with its bindings.
            super::apply_policy(runtime, &p.id, &policy);
            plugins.push(p);
            rows.push(row);
        }
        Ok(self.replace(key, rows, plugins, Some(started)))
    }

    /// Caches a new list. A binding with the same plugin and configuration
    /// as before keeps its breaker, so saving an unchanged list (or a
    /// refresh) does not hide failures; a changed one starts closed. A
    /// refresh read at `read_at` yields to a list cached since then.
    fn replace(
        &self,
        key: (String, ExtensionPoint),
        rows: Vec<StoredBinding>,
        plugins: Vec<Arc<InstalledPlugin>>,
        read_at: Option<Instant>,
    ) -> Arc<Vec<Binding>> {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        if let (Some(read_at), Some(c)) = (read_at, cache.get(&key))
            && c.loaded_at > read_at
        {
            return c.list.clone();
        }
        // A notice that came while this was read may be about a change it missed.
        let stale_since =
            read_at.and_then(|at| cache.get(&key).and_then(|c| c.stale_since).filter(|since| *since > at));
        let mut old: Vec<(String, String, Arc<CircuitBreaker>)> = cache
            .get(&key)
            .map(|c| {
                let shadows = c.list.iter().filter_map(|b| b.shadow.as_deref());
                let shadows = shadows.map(|s| (s.plugin.id.clone(), s.config.clone(), s.breaker.clone()));
                let live = c.list.iter().map(|b| (b.plugin.id.clone(), b.config.clone(), b.breaker.clone()));
                live.chain(shadows).collect()
            })
            .unwrap_or_default();
        let mut breaker = |plugin: &str, config: &str| {
            old.iter()
                .position(|(id, c, _)| id == plugin && c == config)
                .map(|i| old.swap_remove(i).2)
                .unwrap_or_default()
        };
        let mut list: Vec<Binding> = Vec::with_capacity(rows.len());
        let mut shadows = Vec::new();
        for (row, plugin) in rows.into_iter().zip(plugins) {
            let breaker = breaker(&plugin.id, &row.config);
            match row.shadow {
                None => list.push(Binding {
                    plugin,
                    config: row.config,
                    on_error: row.on_error,
                    breaker,
                    shadow: None,
                }),
                Some(of) => shadows.push((
                    of.live_plugin_id,
                    Shadow {
                        config_sha256: crate::commerce::ids::hash_secret(&row.config),
                        plugin,
                        config: row.config,
                        sample_ppm: of.sample_ppm,
                        breaker,
                    },
                )),
            }
        }
        for (live_plugin_id, shadow) in shadows {
            // Checked when saved: each shadow runs beside one live binding.
            if let Some(live) = list.iter_mut().find(|b| b.plugin.id == live_plugin_id && b.shadow.is_none())
            {
                live.shadow = Some(Arc::new(shadow));
            }
        }
        let list = Arc::new(list);
        cache.insert(key, Cached { list: list.clone(), loaded_at: Instant::now(), stale_since });
        list
    }

    /// Marks a merchant's bindings of one point (every cached list: `None`)
    /// to be read again on next use; their breakers carry over.
    pub fn forget(&self, which: Option<(&str, ExtensionPoint)>) {
        let now = Instant::now();
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        for ((merchant, point), c) in cache.iter_mut() {
            if which.is_none_or(|(m, p)| m == merchant && p == *point) {
                c.stale_since = Some(now);
            }
        }
    }

    /// The worst breaker state of a plugin's bindings on this host.
    pub fn circuit_of(&self, plugin_id: &str) -> PluginCircuit {
        self.circuits().remove(plugin_id).unwrap_or_default()
    }

    /// Bindings whose breaker opened since last asked (each opening once):
    /// (merchant, point, plugin, consecutive failures, last failure).
    pub fn take_opened(&self) -> Vec<(String, ExtensionPoint, Arc<InstalledPlugin>, u32, String)> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let mut opened = Vec::new();
        for ((merchant, point), c) in cache.iter() {
            for b in c.list.iter() {
                if let Some((failures, last)) = b.breaker.take_opened() {
                    opened.push((merchant.clone(), *point, b.plugin.clone(), failures, last));
                }
            }
        }
        opened
    }

    /// The worst breaker state of every bound plugin on this host, by id.
    pub fn circuits(&self) -> HashMap<String, PluginCircuit> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let mut all: HashMap<String, PluginCircuit> = HashMap::new();
        for b in cache.values().flat_map(|c| c.list.iter()) {
            let state = b.breaker.state();
            if state == CircuitState::Closed {
                continue;
            }
            let c = all.entry(b.plugin.id.clone()).or_default();
            c.open_bindings += 1;
            if state == CircuitState::Open || c.state == CircuitState::Closed {
                c.state = state;
            }
        }
        all
    }
}

/// A merchant's new bindings of one extension point, in call order.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBindings {
    /// The plugins to bind, at most 10, in the order they are called.
    pub bindings: Vec<NewBinding>,
}

/// One plugin to bind.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBinding {
    /// An installed plugin of this extension point (`plg_…`).
    pub plugin_id: String,
    /// A JSON object the plugin receives on every call; default `{}`.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub config: Value,
    /// Default `fail`.
    #[serde(default)]
    pub on_error: OnError,
    /// `live` (default) or `shadow`: a shadow binding is never part of the
    /// answer; it runs beside a live binding on a sample of its calls, and
    /// `GET /v1/admin/plugin-bindings/{point}/shadow-report` compares them.
    /// Pricing, tax and shipping only.
    #[serde(default)]
    pub mode: BindingMode,
    /// For a shadow binding: the live binding's plugin (`plg_…`) it runs
    /// beside. Default: the live binding of a plugin of the same name, or
    /// the only live binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadows: Option<String>,
    /// For a shadow binding: the share of the live binding's calls it runs
    /// on, more than 0 and at most 1; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
}

/// Whether a binding answers or only runs in the shadow of another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BindingMode {
    /// Called in order; its answers count.
    #[default]
    Live,
    /// Runs beside a live binding off the request path; its answers are
    /// only compared.
    Shadow,
}

impl NewBinding {
    /// A live binding.
    pub fn live(plugin_id: String, config: Value, on_error: OnError) -> NewBinding {
        NewBinding { plugin_id, config, on_error, mode: BindingMode::Live, shadows: None, sample_rate: None }
    }
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// A binding as the merchant sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BindingView {
    /// `plg_…`.
    pub plugin_id: String,
    /// The plugin's declared name.
    pub plugin_name: String,
    /// The plugin's declared version.
    pub plugin_version: String,
    /// The merchant's configuration, as the plugin receives it.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Whether a failure fails the operation or skips this plugin.
    pub on_error: OnError,
    /// closed, open or half_open.
    #[schema(value_type = String, example = "closed")]
    pub circuit_state: CircuitState,
    /// `live`, or `shadow` (listed right after the binding it shadows).
    pub mode: BindingMode,
    /// For a shadow binding: the live plugin it runs beside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadows: Option<String>,
    /// For a shadow binding: the share of calls it runs on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
}

/// The views of a list of live bindings, each followed by its shadow.
pub fn views(list: &[Binding]) -> Vec<BindingView> {
    let mut out = Vec::with_capacity(list.len());
    for b in list {
        out.push(BindingView {
            plugin_id: b.plugin.id.clone(),
            plugin_name: b.plugin.metadata.name.clone(),
            plugin_version: b.plugin.metadata.version.clone(),
            config: serde_json::from_str(&b.config).unwrap_or(Value::Null),
            on_error: b.on_error,
            circuit_state: b.breaker.state(),
            mode: BindingMode::Live,
            shadows: None,
            sample_rate: None,
        });
        if let Some(s) = &b.shadow {
            out.push(BindingView {
                plugin_id: s.plugin.id.clone(),
                plugin_name: s.plugin.metadata.name.clone(),
                plugin_version: s.plugin.metadata.version.clone(),
                config: serde_json::from_str(&s.config).unwrap_or(Value::Null),
                on_error: b.on_error,
                circuit_state: s.breaker.state(),
                mode: BindingMode::Shadow,
                shadows: Some(b.plugin.id.clone()),
                sample_rate: Some(f64::from(s.sample_ppm) / 1_000_000.0),
            });
        }
    }
    out
}

/// A list of live bindings (with their shadows) as the request that makes it.
fn requested(list: &[Binding]) -> Vec<NewBinding> {
    let config = |c: &str| serde_json::from_str(c).unwrap_or_else(|_| empty_object());
    let mut out = Vec::with_capacity(list.len());
    for b in list {
        out.push(NewBinding::live(b.plugin.id.clone(), config(&b.config), b.on_error));
        if let Some(s) = &b.shadow {
            out.push(NewBinding {
                mode: BindingMode::Shadow,
                shadows: Some(b.plugin.id.clone()),
                sample_rate: Some(f64::from(s.sample_ppm) / 1_000_000.0),
                ..NewBinding::live(s.plugin.id.clone(), config(&s.config), b.on_error)
            });
        }
    }
    out
}

/// A merchant's bindings of every extension point.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct BindingsByPoint {
    /// Pricing (discount) plugins, in call order.
    pub pricing: Vec<BindingView>,
    /// Tax plugins, in call order; the first that answers decides.
    pub tax: Vec<BindingView>,
    /// Shipping rate plugins, in call order.
    pub shipping: Vec<BindingView>,
    /// Payment providers; the buyer picks one by name at checkout.
    pub payment: Vec<BindingView>,
    /// Recommenders, in call order.
    pub recommendations: Vec<BindingView>,
}

/// The bindings of one extension point.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PointBindings {
    /// The extension point bound.
    #[schema(value_type = String, example = "tax")]
    pub extension_point: ExtensionPoint,
    /// Its bindings, in call order.
    pub bindings: Vec<BindingView>,
}

/// Why bindings were refused: a stable code and the fields at fault.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// A plugin or its configuration was refused; nothing changed.
    #[error("{code}: {errors:?}")]
    Rejected {
        /// The first problem found: `unknown_plugin`, `wrong_extension_point` or `invalid_config`.
        code: &'static str,
        /// Message by field, e.g. `bindings[0].plugin_id`.
        errors: FieldErrors,
    },
    /// A database or other failure.
    #[error(transparent)]
    Core(#[from] Error),
}

impl From<crate::db::Error> for BindError {
    fn from(e: crate::db::Error) -> BindError {
        BindError::Core(e.into())
    }
}

/// A merchant's bindings of every extension point.
pub async fn list_bindings(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    merchant_id: &str,
) -> Result<BindingsByPoint> {
    let mut all = BindingsByPoint::default();
    for point in ExtensionPoint::ALL {
        let views = views(&bindings.bindings_for(db, runtime, merchant_id, point).await?);
        match point {
            ExtensionPoint::Pricing => all.pricing = views,
            ExtensionPoint::Tax => all.tax = views,
            ExtensionPoint::Shipping => all.shipping = views,
            ExtensionPoint::Payment => all.payment = views,
            ExtensionPoint::Recommendations => all.recommendations = views,
        }
    }
    Ok(all)
}

/// Checks new bindings of `point` (count, configuration size, plugins
/// installed and of this point, configurations against their schemas) and
/// loads their plugins.
async fn checked(
    db: &Db,
    runtime: &Arc<Runtime>,
    point: ExtensionPoint,
    req: &NewBindings,
) -> Result<(Vec<StoredBinding>, Vec<Arc<InstalledPlugin>>), BindError> {
    let mut check = Check::default();
    if req.bindings.len() > MAX_BINDINGS {
        check.field(
            "bindings",
            Err::<(), _>(format!("at most {MAX_BINDINGS} plugins can be bound to one extension point")),
        );
    }
    let mut rows = Vec::with_capacity(req.bindings.len());
    for (i, b) in req.bindings.iter().enumerate() {
        let config = match &b.config {
            Value::Object(_) => Ok(b.config.to_string()),
            _ => Err("must be a JSON object".to_owned()),
        }
        .and_then(|c| {
            if c.len() <= MAX_CONFIG_BYTES {
                Ok(c)
            } else {
                Err(format!("must be at most {MAX_CONFIG_BYTES} bytes"))
            }
        });
        let shadow = match (b.mode, b.sample_rate) {
            (BindingMode::Live, None) if b.shadows.is_none() => Ok(None),
            (BindingMode::Live, _) => {
                Err("shadows and sample_rate are set only on shadow bindings (mode \"shadow\")".to_owned())
            }
            (BindingMode::Shadow, rate) => match rate.unwrap_or(1.0) {
                r if r.is_finite() && r > 0.0 && r <= 1.0 => {
                    Ok(Some((r * 1_000_000.0).round().max(1.0) as u32))
                }
                _ => Err("sample_rate must be more than 0 and at most 1".to_owned()),
            },
        };
        let field = if b.mode == BindingMode::Live { "mode" } else { "sample_rate" };
        let shadow = check.field(format!("bindings[{i}].{field}"), shadow);
        if let (Some(config), Some(sample_ppm)) =
            (check.field(format!("bindings[{i}].config"), config), shadow)
        {
            // Which live binding a shadow runs beside is settled below.
            let shadow = sample_ppm.map(|sample_ppm| ShadowOf { live_plugin_id: String::new(), sample_ppm });
            rows.push(StoredBinding { plugin_id: b.plugin_id.clone(), config, on_error: b.on_error, shadow });
        }
    }
    check.finish()?;
    let shadowing = [ExtensionPoint::Pricing, ExtensionPoint::Tax, ExtensionPoint::Shipping].contains(&point);
    if let Some(i) = req.bindings.iter().position(|b| b.mode == BindingMode::Shadow)
        && !shadowing
    {
        let message = format!(
            "{point} bindings cannot run in shadow mode: only pricing, tax and shipping calls are compared"
        );
        return Err(BindError::Rejected {
            code: "shadow_unavailable",
            errors: FieldErrors::from([(format!("bindings[{i}].mode"), message)]),
        });
    }

    let (mut code, mut errors, mut plugins) = (None, FieldErrors::new(), Vec::with_capacity(rows.len()));
    for (i, row) in rows.iter().enumerate() {
        let field = format!("bindings[{i}].plugin_id");
        let stored = db::plugins::get(db, &row.plugin_id).await?;
        let problem = match &stored {
            None => Some(("unknown_plugin", format!("no plugin {:?} is installed", row.plugin_id))),
            Some(s) if s.extension_point != point.as_str() => Some((
                "wrong_extension_point",
                format!("{}@{} is a {} plugin, not a {point} plugin", s.name, s.version, s.extension_point),
            )),
            Some(_) => None,
        };
        if let Some((c, message)) = problem {
            code.get_or_insert(c);
            errors.insert(field, message);
            continue;
        }
        let plugin = ensure_loaded(db, runtime, &row.plugin_id).await?.ok_or(Error::NotFound("plugin"))?;
        let config = &req.bindings[i].config;
        for (path, message) in schema_errors(&plugin.metadata.config_schema, config, &plugin.label()) {
            code.get_or_insert("invalid_config");
            errors.entry(format!("bindings[{i}].config{path}")).or_insert(message);
        }
        plugins.push(plugin);
    }
    if let Some(code) = code {
        return Err(BindError::Rejected { code, errors });
    }
    settle_shadows(req, &mut rows, &plugins)?;
    Ok((rows, plugins))
}

/// Names the live binding each shadow binding runs beside: the one it
/// names, else the live binding of a plugin of the same name, else the only
/// live binding. At most one shadow per live binding.
fn settle_shadows(
    req: &NewBindings,
    rows: &mut [StoredBinding],
    plugins: &[Arc<InstalledPlugin>],
) -> Result<(), BindError> {
    let live: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].shadow.is_none()).collect();
    let mut taken: Vec<usize> = Vec::new();
    for i in 0..rows.len() {
        if rows[i].shadow.is_none() {
            continue;
        }
        let named = req.bindings[i].shadows.as_deref();
        let same_name = |j: &&usize| plugins[**j].metadata.name == plugins[i].metadata.name;
        let target = match named {
            Some(id) => live.iter().find(|&&j| rows[j].plugin_id == id),
            None => live.iter().find(same_name).or(if live.len() == 1 { live.first() } else { None }),
        };
        let problem = match (target, named) {
            (Some(j), _) if taken.contains(j) => Some((
                "duplicate_shadow",
                format!("{} already has a shadow binding: one candidate at a time", plugins[*j].label()),
            )),
            (Some(_), _) => None,
            (None, Some(id)) => Some((
                "no_live_binding",
                format!("no live binding of plugin {id:?} in this list for the shadow to run beside"),
            )),
            (None, None) if live.is_empty() => Some((
                "no_live_binding",
                "a shadow binding runs beside a live binding of the same extension point, and there is none"
                    .to_owned(),
            )),
            (None, None) => Some((
                "shadows_required",
                "several plugins are bound live: name the one this shadows in `shadows`".to_owned(),
            )),
        };
        if let Some((code, message)) = problem {
            let field = if named.is_some() || code == "shadows_required" { "shadows" } else { "mode" };
            return Err(BindError::Rejected {
                code,
                errors: FieldErrors::from([(format!("bindings[{i}].{field}"), message)]),
            });
        }
        let j = *target.expect("a problem otherwise");
        taken.push(j);
        let live_plugin_id = rows[j].plugin_id.clone();
        if let Some(of) = rows[i].shadow.as_mut() {
            of.live_plugin_id = live_plugin_id;
        }
    }
    Ok(())
}

/// Bindings of `point` as `req` would make them, checked like a
/// replacement but saved nowhere and cached nowhere (fresh breakers): what
/// a preview prices a cart with.
pub async fn trial_bindings(
    db: &Db,
    runtime: &Arc<Runtime>,
    point: ExtensionPoint,
    req: &NewBindings,
) -> Result<Arc<Vec<Binding>>, BindError> {
    let (rows, plugins) = checked(db, runtime, point, req).await?;
    let live = rows.into_iter().zip(plugins).filter(|(row, _)| row.shadow.is_none());
    let list = live.map(|(row, plugin)| Binding {
        plugin,
        config: row.config,
        on_error: row.on_error,
        breaker: Arc::default(),
        shadow: None,
    });
    Ok(Arc::new(list.collect()))
}

/// One binding in the history of a merchant's bindings. The configuration
/// is given by its SHA-256 only: it may hold secrets (a payment plugin's
/// webhook secret), and events travel to webhook receivers.
fn described(plugin: &InstalledPlugin, config: &str, on_error: OnError, shadow: Option<&ShadowOf>) -> Value {
    let mut d = json!({
        "plugin_id": plugin.id,
        "plugin": plugin.label(),
        "config_sha256": crate::commerce::ids::hash_secret(config),
        "on_error": on_error.as_str(),
        "mode": if shadow.is_some() { "shadow" } else { "live" },
    });
    if let Some(s) = shadow {
        d["shadows"] = json!(s.live_plugin_id);
        d["sample_rate"] = json!(f64::from(s.sample_ppm) / 1_000_000.0);
    }
    d
}

/// Replaces a merchant's bindings of `point` in one transaction, with a
/// `plugin_bindings.changed` event saying who (`by`) changed what (before
/// and after); they take effect for the next call on this host.
pub async fn replace_bindings(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    merchant_id: &str,
    point: ExtensionPoint,
    req: NewBindings,
    by: &str,
) -> Result<PointBindings, BindError> {
    let (rows, plugins) = checked(db, runtime, point, &req).await?;
    let before = bindings.bindings_for(db, runtime, merchant_id, point).await?;
    let change = json!({
        "extension_point": point.as_str(),
        "changed_by": by,
        "before": before_described(&before),
        "after": rows.iter().zip(&plugins).map(|(r, p)| described(p, &r.config, r.on_error, r.shadow.as_ref())).collect::<Vec<_>>(),
    });
    db::plugins::replace_bindings(db, merchant_id, point.as_str(), &rows, &change).await.map_err(|e| {
        match db::unique_violation(&e) {
            Some(_) => Error::Conflict {
                code: "bindings_changed",
                message: format!(
                    "the {point} bindings were changed by another request at the same time; retry"
                ),
            },
            None => e.into(),
        }
    })?;
    let list = bindings.replace((merchant_id.to_owned(), point), rows, plugins, None);
    cache::announce(db, Stale::Bindings(merchant_id.to_owned(), point)).await;
    Ok(PointBindings { extension_point: point, bindings: views(&list) })
}

fn before_described(list: &[Binding]) -> Vec<Value> {
    let mut out = Vec::new();
    for b in list {
        out.push(described(&b.plugin, &b.config, b.on_error, None));
        if let Some(s) = &b.shadow {
            let of = ShadowOf { live_plugin_id: b.plugin.id.clone(), sample_ppm: s.sample_ppm };
            out.push(described(&s.plugin, &s.config, b.on_error, Some(&of)));
        }
    }
    out
}

/// `POST /v1/admin/plugin-bindings/{point}/upgrade`: one binding moved to
/// another version of its plugin, with its configuration, in place.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingUpgrade {
    /// The bound plugin to replace (`plg_…`).
    pub plugin_id: String,
    /// Another installed version of the same plugin (`plg_…`).
    pub to_plugin_id: String,
    /// Its configuration; default: the binding's current one.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Moves one of the merchant's bindings of `point` to another version of
/// the same plugin, keeping its place and `on_error`, with a new
/// configuration or its current one: checked like any replacement (the
/// new version's schema included) and written in one transaction.
pub async fn upgrade_binding(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    merchant_id: &str,
    point: ExtensionPoint,
    req: BindingUpgrade,
    by: &str,
) -> Result<PointBindings, BindError> {
    let current = bindings.bindings_for(db, runtime, merchant_id, point).await?;
    let Some(at) = current.iter().position(|b| b.plugin.id == req.plugin_id) else {
        let message = format!("no {point} binding of plugin {:?}", req.plugin_id);
        return Err(BindError::Rejected {
            code: "not_bound",
            errors: FieldErrors::from([("plugin_id".into(), message)]),
        });
    };
    let from = &current[at].plugin;
    let to = db::plugins::get(db, &req.to_plugin_id).await?;
    let problem = match &to {
        None => Some(("unknown_plugin", format!("no plugin {:?} is installed", req.to_plugin_id))),
        Some(t) if t.name != from.metadata.name => Some((
            "not_the_same_plugin",
            format!("{}@{} is not a version of {}", t.name, t.version, from.metadata.name),
        )),
        Some(_) => None,
    };
    if let Some((code, message)) = problem {
        return Err(BindError::Rejected {
            code,
            errors: FieldErrors::from([("to_plugin_id".into(), message)]),
        });
    }
    let mut list = requested(&current);
    for b in list.iter_mut() {
        if b.mode == BindingMode::Live && b.plugin_id == req.plugin_id {
            b.plugin_id = req.to_plugin_id.clone();
            if let Some(config) = &req.config {
                b.config = config.clone();
            }
        } else if b.shadows.as_deref() == Some(req.plugin_id.as_str()) {
            // Its shadow goes on running beside the upgraded binding.
            b.shadows = Some(req.to_plugin_id.clone());
        }
    }
    replace_bindings(db, runtime, bindings, merchant_id, point, NewBindings { bindings: list }, by).await
}

/// `POST /v1/admin/plugin-bindings/{point}/promote`: a shadow binding
/// made live in place of the binding it shadows.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowPromotion {
    /// The shadow binding's plugin (`plg_…`).
    pub plugin_id: String,
}

/// Makes a shadow binding live in one step: it takes the place (and the
/// `on_error`) of the live binding it shadows, with its own configuration,
/// and that binding is unbound, in one transaction with its event.
pub async fn promote_shadow(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    merchant_id: &str,
    point: ExtensionPoint,
    req: ShadowPromotion,
    by: &str,
) -> Result<PointBindings, BindError> {
    let current = bindings.bindings_for(db, runtime, merchant_id, point).await?;
    let Some(live) = current.iter().find(|b| b.shadow.as_ref().is_some_and(|s| s.plugin.id == req.plugin_id))
    else {
        let message = format!("no {point} shadow binding of plugin {:?}", req.plugin_id);
        return Err(BindError::Rejected {
            code: "not_shadowing",
            errors: FieldErrors::from([("plugin_id".into(), message)]),
        });
    };
    let live_id = live.plugin.id.clone();
    let mut list = requested(&current);
    let Some(shadow) = list.iter().position(|b| b.shadows.as_deref() == Some(live_id.as_str())) else {
        return Err(Error::Internal(anyhow!("shadow binding of {live_id} not listed")).into());
    };
    let shadow = list.remove(shadow);
    if let Some(b) = list.iter_mut().find(|b| b.mode == BindingMode::Live && b.plugin_id == live_id) {
        *b = NewBinding::live(shadow.plugin_id, shadow.config, b.on_error);
    }
    replace_bindings(db, runtime, bindings, merchant_id, point, NewBindings { bindings: list }, by).await
}

/// Where `config` breaks the JSON Schema a plugin declares, as (path in the
/// configuration, e.g. `.rates[0]`, message). A plugin without a schema
/// takes any object. Remote `$ref`s are not fetched: a schema that needs
/// one cannot be compiled, and then nothing is checked (the plugin still
/// checks its configuration on every call), which the log says.
fn schema_errors(schema: &str, config: &Value, plugin: &str) -> Vec<(String, String)> {
    let schema = match serde_json::from_str::<Value>(schema) {
        Ok(Value::Object(map)) if !map.is_empty() => Value::Object(map),
        _ => return Vec::new(),
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(plugin, error = %e, "the plugin's config schema does not compile; configurations are not checked against it");
            return Vec::new();
        }
    };
    validator
        .iter_errors(config)
        .take(20)
        .map(|e| (pointer_to_path(&e.instance_path().to_string()), e.to_string()))
        .collect()
}

/// `/rates/0/label` -> `.rates[0].label`.
fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            out.push('.');
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn configurations_are_checked_against_the_declared_schema() {
        let schema = r#"{"type":"object","required":["rate"],"additionalProperties":false,
            "properties":{"rate":{"type":"string"},"bands":{"type":"array","items":{"type":"integer"}}}}"#;
        assert!(super::schema_errors(schema, &json!({"rate": "0.1"}), "p").is_empty());
        let errors = super::schema_errors(schema, &json!({"rate": 1, "bands": [1, "x"], "typo": 1}), "p");
        let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert!(
            paths.contains(&".rate") && paths.contains(&".bands[1]") && paths.contains(&""),
            "{errors:?}"
        );
        assert_eq!(super::schema_errors(schema, &json!({}), "p").len(), 1, "rate is required");
        // No schema, or one that cannot compile: nothing to check against.
        assert!(super::schema_errors("", &json!({"x": 1}), "p").is_empty());
        assert!(super::schema_errors(r#"{"type": 12}"#, &json!({"x": 1}), "p").is_empty());
        let remote = r#"{"$ref": "https://example.com/schema.json"}"#;
        assert!(super::schema_errors(remote, &json!({"x": 1}), "p").is_empty(), "no remote $ref is fetched");
        assert_eq!(super::pointer_to_path("/a~1b/0/c"), ".a/b[0].c");
    }
}
