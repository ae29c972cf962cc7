//! Per-plugin call statistics: counts and a lock-free latency histogram.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Buckets of the latency histogram: bucket `i` holds durations below
/// `2^(i/4)` microseconds, so percentiles are within 19 % of the truth.
const BUCKETS: usize = 112;

/// Counters for one plugin version (or one binding); cheap enough for every call.
#[derive(Debug)]
pub struct CallStats {
    calls: AtomicU64,
    failures: AtomicU64,
    fuel: AtomicU64,
    nanos: AtomicU64,
    histogram: [AtomicU64; BUCKETS],
    /// Closed windows of the last hour; touched only by [`CallStats::sample`].
    history: Mutex<History>,
}

/// How long one window of a plugin's call history lasts, at least: a
/// window closes at the first sample after this.
pub const WINDOW_MS: i64 = 10_000;

/// Windows kept: the last hour.
const WINDOWS: usize = 360;

#[derive(Debug, Default)]
struct History {
    /// The counters at the last sample, and when it was taken.
    last: Option<(i64, u64, u64, Vec<u64>)>,
    windows: VecDeque<Window>,
}

/// A plugin's calls in one window of time, on this host.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Window {
    /// Start, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub from: i64,
    /// End, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub to: i64,
    /// Calls made in the window.
    pub calls: u64,
    /// Of which failed.
    pub failures: u64,
    /// Median duration of the window's calls, in microseconds (0 without calls).
    pub p50_us: f64,
    /// 95th percentile, in microseconds.
    pub p95_us: f64,
    /// 99th percentile, in microseconds.
    pub p99_us: f64,
}

/// A point-in-time copy of [`CallStats`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatsSnapshot {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed (any [`super::FailureKind`]).
    pub failures: u64,
    /// Median duration in microseconds.
    pub p50_us: f64,
    /// 95th percentile in microseconds.
    pub p95_us: f64,
    /// 99th percentile in microseconds.
    pub p99_us: f64,
    /// Mean fuel per call.
    pub mean_fuel: u64,
    /// Fuel of every call.
    pub fuel: u64,
    /// Time of every call, in seconds.
    pub seconds: f64,
}

impl Default for CallStats {
    fn default() -> CallStats {
        CallStats {
            calls: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            fuel: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
            histogram: std::array::from_fn(|_| AtomicU64::new(0)),
            history: Mutex::default(),
        }
    }
}

fn bucket(d: Duration) -> usize {
    let us = d.as_secs_f64() * 1e6;
    if us < 1.0 {
        return 0;
    }
    ((us.log2() * 4.0).floor() as usize + 1).min(BUCKETS - 1)
}

fn bucket_upper_us(i: usize) -> f64 {
    2f64.powf(i as f64 / 4.0)
}

impl CallStats {
    /// Records one call.
    pub fn record(&self, duration: Duration, fuel: u64, failed: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        self.fuel.fetch_add(fuel, Ordering::Relaxed);
        self.nanos.fetch_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.histogram[bucket(duration)].fetch_add(1, Ordering::Relaxed);
    }

    /// Current counts and percentiles.
    pub fn snapshot(&self) -> StatsSnapshot {
        let counts = self.counts();
        let calls = self.calls.load(Ordering::Relaxed);
        let fuel = self.fuel.load(Ordering::Relaxed);
        StatsSnapshot {
            calls,
            failures: self.failures.load(Ordering::Relaxed),
            p50_us: percentile(&counts, 0.50),
            p95_us: percentile(&counts, 0.95),
            p99_us: percentile(&counts, 0.99),
            mean_fuel: fuel.checked_div(calls).unwrap_or(0),
            fuel,
            seconds: self.nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }

    fn counts(&self) -> Vec<u64> {
        self.histogram.iter().map(|c| c.load(Ordering::Relaxed)).collect()
    }

    /// Closes the current window of the history when it has lasted
    /// [`WINDOW_MS`] (the first call only starts one, which also holds the
    /// calls made before it). Called by the host's periodic jobs, never on
    /// a plugin call.
    pub fn sample(&self, now_ms: i64) {
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let (calls, failures) = (self.calls.load(Ordering::Relaxed), self.failures.load(Ordering::Relaxed));
        let counts = self.counts();
        match history.last.take() {
            Some((from, c0, f0, h0)) if now_ms - from < WINDOW_MS => history.last = Some((from, c0, f0, h0)),
            Some((from, c0, f0, h0)) => {
                let delta: Vec<u64> =
                    counts.iter().zip(&h0).map(|(now, then)| now.saturating_sub(*then)).collect();
                let window = Window {
                    from,
                    to: now_ms,
                    calls: calls.saturating_sub(c0),
                    failures: failures.saturating_sub(f0),
                    p50_us: percentile(&delta, 0.50),
                    p95_us: percentile(&delta, 0.95),
                    p99_us: percentile(&delta, 0.99),
                };
                if history.windows.len() == WINDOWS {
                    history.windows.pop_front();
                }
                history.windows.push_back(window);
                history.last = Some((now_ms, calls, failures, counts));
            }
            // The first sample starts the first window from nothing, so
            // calls made since the plugin was loaded (before any sample)
            // fall in it rather than being lost.
            None => history.last = Some((now_ms, 0, 0, vec![0; counts.len()])),
        }
    }

    /// The closed windows of the last hour, oldest first.
    pub fn history(&self) -> Vec<Window> {
        self.history.lock().unwrap_or_else(|p| p.into_inner()).windows.iter().cloned().collect()
    }
}

/// The `q` quantile of a latency histogram, in microseconds (the upper
/// bound of its bucket); 0 when it is empty.
fn percentile(counts: &[u64], q: f64) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let rank = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return (bucket_upper_us(i) * 10.0).round() / 10.0;
        }
    }
    bucket_upper_us(BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_bound_the_samples() {
        let s = CallStats::default();
        for us in 1..=100 {
            s.record(Duration::from_micros(us), 10, us % 10 == 0);
        }
        let snap = s.snapshot();
        assert_eq!(snap.calls, 100);
        assert_eq!(snap.failures, 10);
        assert!((50.0..=60.0).contains(&snap.p50_us), "{snap:?}");
        assert!((99.0..=120.0).contains(&snap.p99_us), "{snap:?}");
        assert_eq!(snap.mean_fuel, 10);
    }

    #[test]
    fn the_history_has_one_window_per_period_with_its_own_percentiles() {
        let s = CallStats::default();
        s.record(Duration::from_micros(1000), 1, false);
        s.sample(0);
        assert!(s.history().is_empty(), "the first sample only starts a window");
        for _ in 0..10 {
            s.record(Duration::from_micros(10), 1, false);
        }
        s.record(Duration::from_micros(10), 1, true);
        s.sample(WINDOW_MS - 1);
        assert!(s.history().is_empty(), "not closed before its time");
        s.sample(WINDOW_MS);
        for _ in 0..5 {
            s.record(Duration::from_micros(10), 1, false);
        }
        s.sample(2 * WINDOW_MS);
        s.sample(3 * WINDOW_MS);
        let h = s.history();
        assert_eq!(h.len(), 3);
        // The call made before the first sample is in the first window.
        assert_eq!((h[0].from, h[0].to, h[0].calls, h[0].failures), (0, WINDOW_MS, 12, 1));
        assert!(h[0].p99_us >= 1000.0, "{h:?}");
        assert_eq!((h[1].calls, h[1].failures), (5, 0));
        assert!(h[1].p99_us < 20.0, "only this window's calls, not the earlier slow one: {h:?}");
        assert_eq!((h[2].calls, h[2].p50_us), (0, 0.0));
        for i in 3..(WINDOWS as i64 + 10) {
            s.sample(i * WINDOW_MS);
        }
        assert_eq!(s.history().len(), WINDOWS, "an hour at most");
    }
}
