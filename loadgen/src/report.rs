//! Figures: percentiles by sorting, one table per backend, the JSON line.

use serde_json::{Map, Value, json};

use crate::BenchArgs;

/// What the scenario loops collect: latencies in microseconds (measured
/// window only), errors (warm-up included) with the first few bodies.
#[derive(Default)]
pub struct Tally {
    pub micros: Vec<u32>,
    /// Named latencies within each iteration (the steps of a purchase), in
    /// the order the steps were first seen.
    pub steps: Vec<(&'static str, Vec<u32>)>,
    pub errors: u64,
    pub samples: Vec<String>,
}

impl Tally {
    pub fn error(&mut self, what: impl std::fmt::Display) {
        self.errors += 1;
        if self.samples.len() < 3 {
            self.samples.push(what.to_string());
        }
    }

    /// The latencies of step `name`.
    pub fn step_micros(&mut self, name: &'static str) -> &mut Vec<u32> {
        let at = match self.steps.iter().position(|(n, _)| *n == name) {
            Some(at) => at,
            None => {
                self.steps.push((name, Vec::new()));
                self.steps.len() - 1
            }
        };
        &mut self.steps[at].1
    }

    pub fn merge(&mut self, other: Tally) {
        self.micros.extend(other.micros);
        for (name, micros) in other.steps {
            self.step_micros(name).extend(micros);
        }
        self.errors += other.errors;
        for sample in other.samples {
            if self.samples.len() < 3 {
                self.samples.push(sample);
            }
        }
    }
}

/// Nearest-rank percentiles, in milliseconds.
#[derive(Clone, Copy)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

impl Percentiles {
    pub fn of(mut micros: Vec<u32>) -> Option<Percentiles> {
        if micros.is_empty() {
            return None;
        }
        micros.sort_unstable();
        let rank = |p: usize| micros[(micros.len() * p).div_ceil(100).max(1) - 1] as f64 / 1000.0;
        Some(Percentiles { p50: rank(50), p99: rank(99) })
    }
}

/// One scenario's result.
pub struct Outcome {
    pub name: &'static str,
    /// Successful measured requests (or flows).
    pub requests: usize,
    /// Per second over the measured window; none for sequential reads.
    pub rps: Option<f64>,
    pub latency: Option<Percentiles>,
    /// Named latencies within, e.g. each step of a purchase.
    pub subs: Vec<(&'static str, Percentiles)>,
    pub errors: u64,
    pub samples: Vec<String>,
    /// Why the scenario could not run at all.
    pub failed: Option<String>,
    pub note: Option<String>,
    /// Figures that are not latencies (the profile's counts), as they go in the JSON.
    pub detail: Option<Value>,
    /// CPU used during the measured window.
    pub cpu: Option<crate::cpu::Used>,
}

impl Outcome {
    pub fn measured(name: &'static str, tally: Tally, seconds: Option<f64>) -> Outcome {
        let requests = tally.micros.len();
        let subs = tally.steps.into_iter().filter_map(|(n, m)| Percentiles::of(m).map(|p| (n, p))).collect();
        Outcome {
            name,
            requests,
            rps: seconds.map(|s| requests as f64 / s),
            latency: Percentiles::of(tally.micros),
            subs,
            errors: tally.errors,
            samples: tally.samples,
            failed: None,
            note: None,
            detail: None,
            cpu: None,
        }
    }

    pub fn failed(name: &'static str, why: String) -> Outcome {
        Outcome {
            name,
            requests: 0,
            rps: None,
            latency: None,
            subs: Vec::new(),
            errors: 0,
            samples: Vec::new(),
            failed: Some(why),
            note: None,
            detail: None,
            cpu: None,
        }
    }

    pub fn is_clean(&self) -> bool {
        self.failed.is_none() && self.errors == 0
    }
}

fn find<'a>(results: &'a [Outcome], name: &str) -> Option<&'a Outcome> {
    results.iter().find(|r| r.name == name && r.failed.is_none())
}

/// cart_read over baseline latencies, and each scenario's throughput over the baseline's.
fn ratios(results: &[Outcome]) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(base) = find(results, "baseline") else { return out };
    let round = |x: f64| (x * 100.0).round() / 100.0;
    if let (Some(read), Some(b)) = (find(results, "cart_read").and_then(|r| r.latency), base.latency) {
        out.insert("cart_read_p50_over_baseline_p50".into(), round(read.p50 / b.p50).into());
        out.insert("cart_read_p99_over_baseline_p99".into(), round(read.p99 / b.p99).into());
    }
    for name in ["cart_read", "add_line", "checkout", "checkout_flow"] {
        if let (Some(rps), Some(b)) = (find(results, name).and_then(|r| r.rps), base.rps) {
            out.insert(format!("{name}_rps_over_baseline_rps"), ((rps / b * 1000.0).round() / 1000.0).into());
        }
    }
    // What delivering every event to a webhook endpoint costs checkouts.
    if let (Some(on), Some(off)) = (
        find(results, "checkout_webhooks").and_then(|r| r.rps),
        find(results, "checkout").and_then(|r| r.rps),
    ) {
        out.insert("checkout_webhooks_rps_over_checkout_rps".into(), round(on / off).into());
    }
    // What a Stripe round trip (at a loopback Stripe answering at once)
    // adds to a checkout: Stripe and test-gateway checkouts of one window.
    if let Some(mixed) = find(results, "checkout_stripe")
        && let (Some(s), Some((_, g))) = (mixed.latency, mixed.subs.first())
    {
        out.insert("checkout_stripe_p50_over_gateway_p50".into(), round(s.p50 / g.p50).into());
        out.insert("checkout_stripe_p99_over_gateway_p99".into(), round(s.p99 / g.p99).into());
    }
    out
}

fn ms(x: f64) -> Value {
    ((x * 1000.0).round() / 1000.0).into()
}

/// `{scenario: {requests, rps, p50_ms, p99_ms, errors, …}, …, "ratios": {…}}`.
pub fn json(results: &[Outcome]) -> Value {
    let mut out = Map::new();
    for r in results {
        let mut m = Map::new();
        if let Some(why) = &r.failed {
            m.insert("error".into(), why.clone().into());
            out.insert(r.name.into(), Value::Object(m));
            continue;
        }
        m.insert("requests".into(), r.requests.into());
        if let Some(rps) = r.rps {
            m.insert("rps".into(), ((rps * 10.0).round() / 10.0).into());
        }
        if let Some(l) = r.latency {
            m.insert("p50_ms".into(), ms(l.p50));
            m.insert("p99_ms".into(), ms(l.p99));
        }
        for (name, l) in &r.subs {
            m.insert(format!("{name}_p50_ms"), ms(l.p50));
            m.insert(format!("{name}_p99_ms"), ms(l.p99));
        }
        m.insert("errors".into(), r.errors.into());
        if let Some(Value::Object(detail)) = &r.detail {
            m.extend(detail.clone());
        }
        if let Some((per_request, cores)) = cpu_per_request(r) {
            let [host, database, client] = per_request.map(ms);
            m.insert(
                "cpu_ms_per_request".into(),
                json!({"host": host, "database": database, "client": client}),
            );
            m.insert("cpu_cores_busy".into(), ((cores * 100.0).round() / 100.0).into());
        }
        out.insert(r.name.into(), Value::Object(m));
    }
    let ratios = ratios(results);
    if !ratios.is_empty() {
        out.insert("ratios".into(), Value::Object(ratios));
    }
    json!(out)
}

/// CPU milliseconds per request (host, database, client) and the cores
/// all three kept busy, over the measured window.
fn cpu_per_request(r: &Outcome) -> Option<([f64; 3], f64)> {
    let cpu = r.cpu?;
    if r.requests == 0 || cpu.wall <= 0.0 {
        return None;
    }
    let per = cpu.seconds.map(|s| s * 1000.0 / r.requests as f64);
    Some((per, cpu.seconds.iter().sum::<f64>() / cpu.wall))
}

/// The readable table of one backend, then errors, notes and ratios.
pub fn print_table(backend: &str, args: &BenchArgs, results: &[Outcome]) {
    let capped = args.host_cpus.map(|c| format!("; host and baseline held to {c} cores")).unwrap_or_default();
    println!(
        "\n{backend}: {} clients, {} s measured after {} s warm-up{capped}",
        args.clients, args.duration, args.warmup
    );
    println!(
        "{:<20} {:>9} {:>11} {:>10} {:>10} {:>8}",
        "scenario", "requests", "per second", "p50 ms", "p99 ms", "errors"
    );
    let opt = |x: Option<f64>, digits: usize| x.map_or("-".to_owned(), |x| format!("{x:.digits$}"));
    for r in results {
        if let Some(why) = &r.failed {
            println!("{:<20} did not run: {why}", r.name);
            continue;
        }
        println!(
            "{:<20} {:>9} {:>11} {:>10} {:>10} {:>8}",
            r.name,
            r.requests,
            opt(r.rps, 1),
            opt(r.latency.map(|l| l.p50), 2),
            opt(r.latency.map(|l| l.p99), 2),
            r.errors
        );
        if let Some(([host, database, client], cores)) = cpu_per_request(r) {
            println!(
                "  {:<18} host {host:.3} ms, database {database:.3} ms, client {client:.3} ms ({cores:.2} cores busy)",
                "cpu per request"
            );
        }
        for (name, l) in &r.subs {
            let label = format!("  .{name}");
            println!("{label:<20} {:>9} {:>11} {:>10.2} {:>10.2} {:>8}", "", "", l.p50, l.p99, "");
        }
    }
    for r in results {
        for sample in &r.samples {
            println!("  {} error: {sample}", r.name);
        }
        if let Some(note) = &r.note {
            println!("  {}: {note}", r.name);
        }
    }
    for (name, value) in ratios(results) {
        println!("  {name}: {value}");
    }
}

/// Each scenario's PostgreSQL throughput over its SQLite throughput, when
/// both backends ran it (the JSON of [`json`] per backend).
pub fn postgres_over_sqlite(backends: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let (Some(Value::Object(sqlite)), Some(Value::Object(postgres))) =
        (backends.get("sqlite"), backends.get("postgres"))
    else {
        return out;
    };
    for (name, s) in sqlite {
        if let (Some(a), Some(b)) = (s["rps"].as_f64(), postgres.get(name).and_then(|p| p["rps"].as_f64()))
            && a > 0.0
        {
            out.insert(name.clone(), ((b / a * 1000.0).round() / 1000.0).into());
        }
    }
    out
}
