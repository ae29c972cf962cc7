//! Per-plugin call statistics: counts and a lock-free latency histogram.

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
        let counts: Vec<u64> = self.histogram.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        let percentile = |q: f64| {
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
        };
        let calls = self.calls.load(Ordering::Relaxed);
        let fuel = self.fuel.load(Ordering::Relaxed);
        StatsSnapshot {
            calls,
            failures: self.failures.load(Ordering::Relaxed),
            p50_us: percentile(0.50),
            p95_us: percentile(0.95),
            p99_us: percentile(0.99),
            mean_fuel: fuel.checked_div(calls).unwrap_or(0),
            fuel,
            seconds: self.nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
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
}
