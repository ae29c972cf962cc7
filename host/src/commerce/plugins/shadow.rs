//! Shadow runs: a candidate plugin bound beside a live binding runs on a
//! sample of that binding's real calls, off the request path, and how its
//! answers compare with the live ones is recorded for the merchant.
//!
//! On the request path a call costs one random draw; a sampled one also
//! costs owned copies of its input and answer, handed to a bounded queue
//! without waiting (a full queue drops the sample). One worker per host
//! runs the candidates on idle cores only (see `Call::background`): when
//! every core serves requests, a sample waits a little, then is dropped.
//! Results are compared as JSON and written in batches. A comparison (one
//! candidate with one configuration) records at most
//! [`MAX_CALLS_PER_SHADOW`] calls; a new configuration starts another.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mercato_sdk::ExtensionPoint;
use mercato_sdk::pricing::{PricingInput, PricingOutput};
use mercato_sdk::shipping::{ShippingInput, ShippingOutput};
use mercato_sdk::tax::{TaxInput, TaxOutput};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::commerce::{Error, Result, Shop};
use crate::db::plugins::ShadowKey;
use crate::db::{self, Db};
use crate::model::plugins::ShadowCall;
use crate::runtime::{Call, CallError, CircuitBreaker, FailureKind, InstalledPlugin, Runtime};

/// Calls one comparison records; then its report is complete.
pub const MAX_CALLS_PER_SHADOW: u64 = 10_000;
/// Samples waiting for the worker; more are dropped.
const QUEUE: usize = 1024;
/// Samples the worker takes at once (and results written per transaction).
const BATCH: usize = 64;
/// How long a sample waits for an idle core, in tries of [`IDLE_WAIT`].
const IDLE_TRIES: u32 = 50;
const IDLE_WAIT: Duration = Duration::from_millis(2);
/// Paths kept of where two answers differ.
const MAX_DIFFERENCES: usize = 20;

/// A candidate bound in shadow mode beside one live binding.
pub struct Shadow {
    /// The candidate.
    pub plugin: Arc<InstalledPlugin>,
    /// Its configuration, as the JSON it is given.
    pub config: String,
    /// SHA-256 of `config`: which comparison its calls belong to.
    pub config_sha256: String,
    /// The share of the live binding's calls it runs on, in millionths.
    pub sample_ppm: u32,
    /// The candidate's own breaker: its failures never touch the live one's.
    pub breaker: Arc<CircuitBreaker>,
}

impl Shadow {
    /// Whether this call is one of the sample.
    pub fn sampled(&self) -> bool {
        self.sample_ppm >= 1_000_000 || rand::random_range(0..1_000_000u32) < self.sample_ppm
    }
}

/// A live call and its answer, owned, for its shadow to be given the same.
pub enum Exchange {
    /// `pricing.run`.
    Pricing(PricingInput, PricingOutput),
    /// `shipping.rates`.
    Shipping(ShippingInput, ShippingOutput),
    /// `tax.calculate`.
    Tax(Box<TaxInput<'static>>, TaxOutput),
}

/// One sampled live call, for the worker.
pub struct Sample {
    /// The merchant whose call it was.
    pub merchant_id: String,
    /// The live binding's plugin.
    pub live_plugin_id: String,
    /// Its shadow.
    pub shadow: Arc<Shadow>,
    /// The live call's memo key, hex: the same input has the same hash.
    pub input_hash: String,
    /// How long the live call took, in microseconds.
    pub live_us: u64,
    /// What the live binding was given and answered.
    pub exchange: Exchange,
}

impl Sample {
    fn key(&self) -> String {
        comparison(&self.merchant_id, &self.shadow)
    }
}

/// Which comparison a shadow's calls belong to, on this host.
fn comparison(merchant_id: &str, shadow: &Shadow) -> String {
    let point = shadow.plugin.extension_point();
    format!("{merchant_id}\n{point}\n{}\n{}", shadow.plugin.id, shadow.config_sha256)
}

/// The host's shadow runs: the queue and its worker, started on the first
/// sample. A cheap-to-clone handle.
#[derive(Clone)]
pub struct ShadowRuns {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    runtime: Arc<Runtime>,
    queue: mpsc::Sender<Sample>,
    worker: Mutex<Option<mpsc::Receiver<Sample>>>,
    started: AtomicBool,
    /// Samples dropped on this host (full queue or no idle core), by comparison.
    dropped: Mutex<HashMap<String, u64>>,
}

impl ShadowRuns {
    /// Shadow runs over `db` and `runtime`; nothing runs until a sample comes.
    pub fn new(db: Db, runtime: Arc<Runtime>) -> ShadowRuns {
        let (queue, worker) = mpsc::channel(QUEUE);
        let inner = Inner {
            db,
            runtime,
            queue,
            worker: Mutex::new(Some(worker)),
            started: AtomicBool::new(false),
            dropped: Mutex::default(),
        };
        ShadowRuns { inner: Arc::new(inner) }
    }

    /// Hands a sample to the worker without waiting: dropped if the queue
    /// is full. Callable from any thread of the runtime, blocking pool included.
    pub fn submit(&self, sample: Sample) {
        self.start();
        if let Err(e) = self.inner.queue.try_send(sample) {
            let sample = match e {
                mpsc::error::TrySendError::Full(s) | mpsc::error::TrySendError::Closed(s) => s,
            };
            self.inner.dropped(&sample.key());
        }
    }

    fn start(&self) {
        if self.inner.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.inner.started.store(false, Ordering::Release);
            return;
        };
        let receiver = self.inner.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(receiver) = receiver {
            handle.spawn(work(self.inner.clone(), receiver));
        }
    }

    fn dropped_of(&self, key: &str) -> u64 {
        self.inner.dropped.lock().unwrap_or_else(|p| p.into_inner()).get(key).copied().unwrap_or(0)
    }
}

impl Inner {
    fn dropped(&self, key: &str) {
        let mut dropped = self.dropped.lock().unwrap_or_else(|p| p.into_inner());
        *dropped.entry(key.to_owned()).or_default() += 1;
    }
}

/// The worker: takes samples in batches, skips comparisons already
/// complete, runs the candidates on the blocking pool, writes the results.
async fn work(inner: Arc<Inner>, mut receiver: mpsc::Receiver<Sample>) {
    let mut recorded: HashMap<String, u64> = HashMap::new();
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        let mut wanted = Vec::with_capacity(batch.len());
        for sample in batch.drain(..) {
            let key = sample.key();
            if !recorded.contains_key(&key) {
                if recorded.len() > 10_000 {
                    recorded.clear();
                }
                let shadow = &sample.shadow;
                let k = ShadowKey {
                    merchant_id: &sample.merchant_id,
                    point: shadow.plugin.extension_point().as_str(),
                    shadow_plugin_id: &shadow.plugin.id,
                    config_sha256: &shadow.config_sha256,
                };
                match db::plugins::count_shadow_calls(&inner.db, &k).await {
                    Ok(n) => recorded.insert(key.clone(), n),
                    Err(e) => {
                        tracing::warn!(error = %e, "shadow run: cannot count recorded calls");
                        continue;
                    }
                };
            }
            let n = recorded.get_mut(&key).expect("inserted above");
            if *n < MAX_CALLS_PER_SHADOW {
                *n += 1;
                wanted.push(sample);
            }
        }
        if wanted.is_empty() {
            continue;
        }
        let runtime = inner.runtime.clone();
        let ran = tokio::task::spawn_blocking(move || {
            wanted.into_iter().map(|s| (s.key(), compare(&runtime, &s))).collect::<Vec<_>>()
        })
        .await;
        let Ok(ran) = ran else { continue };
        let mut calls = Vec::with_capacity(ran.len());
        for (key, call) in ran {
            match call {
                Some(call) => calls.push(call),
                None => {
                    inner.dropped(&key);
                    if let Some(n) = recorded.get_mut(&key) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
        }
        if let Err(e) = db::plugins::insert_shadow_calls(&inner.db, &calls).await {
            tracing::warn!(error = %e, calls = calls.len(), "shadow run: results not recorded");
        }
    }
}

/// Runs the sample's candidate on the same input, on an idle core; `None`
/// if no core was idle in time.
fn compare(runtime: &Runtime, s: &Sample) -> Option<ShadowCall> {
    let call = Call {
        plugin: &s.shadow.plugin,
        config: &s.shadow.config,
        merchant: &s.merchant_id,
        breaker: Some(&s.shadow.breaker),
        background: true,
    };
    let mut tries = 0;
    let (live, answer) = loop {
        let (live, answer) = match &s.exchange {
            Exchange::Pricing(input, live) => (json(live), outcome(runtime.pricing(call, input))),
            Exchange::Shipping(input, live) => (json(live), outcome(runtime.shipping(call, input))),
            Exchange::Tax(input, live) => (json(live), outcome(runtime.tax(call, input))),
        };
        match answer {
            Err((FailureKind::Busy, _)) if tries < IDLE_TRIES => {
                tries += 1;
                std::thread::sleep(IDLE_WAIT);
            }
            Err((FailureKind::Busy, _)) => return None,
            answer => break (live, answer),
        }
    };
    let shadow = &s.shadow;
    let mut record = ShadowCall {
        id: crate::model::ids::new_id("shc"),
        merchant_id: s.merchant_id.clone(),
        extension_point: shadow.plugin.extension_point().as_str().to_owned(),
        live_plugin_id: s.live_plugin_id.clone(),
        shadow_plugin_id: shadow.plugin.id.clone(),
        shadow_config_sha256: shadow.config_sha256.clone(),
        input_sha256: s.input_hash.clone(),
        outcome: String::new(),
        live_us: i64::try_from(s.live_us).unwrap_or(i64::MAX),
        shadow_us: 0,
        live_output: None,
        shadow_output: None,
        differences: None,
        error: None,
        created_at: crate::db::now_ms(),
    };
    match answer {
        Ok((output, duration)) => {
            record.shadow_us = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
            let mut paths = Vec::new();
            differences(&live, &output, String::new(), &mut paths);
            if paths.is_empty() {
                record.outcome = "identical".into();
            } else {
                record.outcome = "different".into();
                record.differences = Some(Value::from(paths).to_string());
                record.live_output = Some(live.to_string());
                record.shadow_output = Some(output.to_string());
            }
        }
        Err((kind, message)) => {
            record.outcome = "failed".into();
            record.error = Some(format!("{}: {message}", kind.code()));
        }
    }
    Some(record)
}

type Answer = std::result::Result<(Value, Duration), (FailureKind, String)>;

fn outcome<T: Serialize>(r: std::result::Result<crate::runtime::Outcome<T>, CallError>) -> Answer {
    match r {
        Ok(o) => Ok((json(&o.output), o.duration)),
        Err(e) => {
            let message = e.to_string();
            Err((e.kind, message))
        }
    }
}

fn json(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Where `a` and `b` differ, as paths like `.rates[0].rate` (`""`: the
/// whole answer), at most [`MAX_DIFFERENCES`].
fn differences(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
    if out.len() >= MAX_DIFFERENCES || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))).collect();
            keys.sort();
            for k in keys {
                let (va, vb) = (x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null));
                differences(va, vb, format!("{at}.{k}"), out);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let (va, vb) = (x.get(i).unwrap_or(&Value::Null), y.get(i).unwrap_or(&Value::Null));
                differences(va, vb, format!("{at}[{i}]"), out);
            }
        }
        _ => out.push(at),
    }
}

/// How a merchant's shadow bindings of one extension point compare.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShadowReport {
    /// The extension point.
    #[schema(value_type = String, example = "tax")]
    pub extension_point: ExtensionPoint,
    /// One per shadow binding, in binding order; empty when none is bound.
    pub shadows: Vec<ShadowSummary>,
}

/// One shadow binding's comparison with the live binding it runs beside.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShadowSummary {
    /// The live binding's plugin, `plg_…`.
    pub live_plugin_id: String,
    /// Its `name@version`.
    pub live_plugin: String,
    /// The candidate, `plg_…`.
    pub shadow_plugin_id: String,
    /// Its `name@version`.
    pub shadow_plugin: String,
    /// SHA-256 of the candidate's configuration (this comparison's).
    pub config_sha256: String,
    /// The share of live calls the candidate runs on, 0 to 1.
    pub sample_rate: f64,
    /// Calls given to both and recorded.
    pub calls_compared: u64,
    /// Calls where the candidate answered exactly as the live binding.
    pub identical: u64,
    /// Calls where both answered, differently.
    pub differing: u64,
    /// Calls where the candidate failed.
    pub failed: u64,
    /// Samples this host dropped (no idle core, or its queue was full).
    pub dropped_on_this_host: u64,
    /// True once [`MAX_CALLS_PER_SHADOW`] calls are recorded: no more are.
    pub complete: bool,
    /// The live binding's call durations over the compared calls.
    pub live: Timing,
    /// The candidate's call durations over the compared calls.
    pub shadow: Timing,
    /// The first differing calls (at most `examples`).
    pub differences: Vec<ShadowDifference>,
    /// The first failed calls (at most `examples`).
    pub failures: Vec<ShadowFailure>,
}

/// Call durations, in microseconds.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Timing {
    /// Median.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
}

/// A call the two answered differently.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShadowDifference {
    /// Hex SHA-256 of the live call (plugin, configuration, input).
    pub input_hash: String,
    /// Where the answers differ, e.g. `.rates[0].rate`.
    pub paths: Vec<String>,
    /// The live answer.
    #[schema(value_type = Object)]
    pub live_output: Value,
    /// The candidate's answer.
    #[schema(value_type = Object)]
    pub shadow_output: Value,
    /// When, in RFC 3339.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
}

/// A call the candidate failed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShadowFailure {
    /// Hex SHA-256 of the live call.
    pub input_hash: String,
    /// The failure kind and message, e.g. `out_of_fuel: …`.
    pub error: String,
    /// When, in RFC 3339.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
}

/// Most examples of differences and of failures a report shows per shadow.
pub const MAX_EXAMPLES: usize = 50;

/// Summarises every shadow binding of the merchant's `point`, with at most
/// `examples` differences and failures each.
pub async fn report(
    shop: &Shop,
    merchant_id: &str,
    point: ExtensionPoint,
    examples: usize,
) -> Result<ShadowReport> {
    if examples > MAX_EXAMPLES {
        return Err(Error::field("examples", format!("must be at most {MAX_EXAMPLES}")));
    }
    let (db, runs) = (&shop.db, &shop.shadows);
    let bound = shop.bindings.bindings_for(db, &shop.runtime, merchant_id, point).await?;
    let mut shadows = Vec::new();
    for b in bound.iter() {
        let Some(shadow) = &b.shadow else { continue };
        let k = ShadowKey {
            merchant_id,
            point: point.as_str(),
            shadow_plugin_id: &shadow.plugin.id,
            config_sha256: &shadow.config_sha256,
        };
        // Counts and percentiles from the small columns; outputs only for the examples shown.
        let timings = db::plugins::shadow_timings(db, &k).await?;
        let count = |o: &str| timings.iter().filter(|(outcome, _, _)| outcome == o).count() as u64;
        let timing = |side: fn(&(String, i64, i64)) -> i64| {
            let mut us: Vec<u64> = timings.iter().map(|t| u64::try_from(side(t)).unwrap_or(0)).collect();
            us.sort_unstable();
            let at = |q: f64| us.get(((us.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied();
            Timing { p50_us: at(0.5).unwrap_or(0), p99_us: at(0.99).unwrap_or(0) }
        };
        fn parse<T: serde::de::DeserializeOwned>(s: &Option<String>) -> Option<T> {
            s.as_deref().and_then(|s| serde_json::from_str(s).ok())
        }
        let examples = examples as u32;
        let differing = db::plugins::shadow_calls(db, &k, "different", examples).await?;
        let failed = db::plugins::shadow_calls(db, &k, "failed", examples).await?;
        let compared = timings.len() as u64;
        shadows.push(ShadowSummary {
            live_plugin_id: b.plugin.id.clone(),
            live_plugin: b.plugin.label(),
            shadow_plugin_id: shadow.plugin.id.clone(),
            shadow_plugin: shadow.plugin.label(),
            config_sha256: shadow.config_sha256.clone(),
            sample_rate: f64::from(shadow.sample_ppm) / 1_000_000.0,
            calls_compared: compared,
            identical: count("identical"),
            differing: count("different"),
            failed: count("failed"),
            dropped_on_this_host: runs.dropped_of(&comparison(merchant_id, shadow)),
            complete: compared >= MAX_CALLS_PER_SHADOW,
            live: timing(|t| t.1),
            shadow: timing(|t| t.2),
            differences: differing
                .iter()
                .map(|c| ShadowDifference {
                    input_hash: c.input_sha256.clone(),
                    paths: parse(&c.differences).unwrap_or_default(),
                    live_output: parse(&c.live_output).unwrap_or(Value::Null),
                    shadow_output: parse(&c.shadow_output).unwrap_or(Value::Null),
                    at: c.created_at,
                })
                .collect(),
            failures: failed
                .iter()
                .map(|c| ShadowFailure {
                    input_hash: c.input_sha256.clone(),
                    error: c.error.clone().unwrap_or_default(),
                    at: c.created_at,
                })
                .collect(),
        });
    }
    Ok(ShadowReport { extension_point: point, shadows })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn differences_are_paths_into_the_answers() {
        let mut out = Vec::new();
        let live = json!({"rates": [{"rate": "0.1", "label": "Tax"}], "lines": [1, 2]});
        let shadow = json!({"rates": [{"rate": "0.2", "label": "Tax"}], "lines": [1], "extra": true});
        super::differences(&live, &shadow, String::new(), &mut out);
        assert_eq!(out, [".extra", ".lines[1]", ".rates[0].rate"]);
        out.clear();
        super::differences(&live, &live, String::new(), &mut out);
        assert!(out.is_empty());
        super::differences(&json!(1), &json!("1"), String::new(), &mut out);
        assert_eq!(out, [""]);
    }
}
