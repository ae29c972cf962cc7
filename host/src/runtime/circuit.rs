//! A circuit breaker per binding: after repeated failures a plugin is not
//! called for a cool-down; then one trial call decides whether it closes.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// When a breaker opens and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before a trial call.
    pub cool_down: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> BreakerPolicy {
        BreakerPolicy { failure_threshold: 5, cool_down: Duration::from_secs(30) }
    }
}

/// What an operator sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// One trial call is allowed.
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    trial_in_flight: bool,
    /// What the last failure was, to say why the breaker is open.
    last_failure: Option<String>,
    /// Times it went from closed to open, and how many of them were told.
    opens: u64,
    opens_told: u64,
}

/// Why an open breaker refused a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Consecutive failures so far.
    pub failures: u32,
    /// The last of them.
    pub last_failure: String,
    /// When a trial call will be let through (none while one is running).
    pub retry_in: Duration,
}

/// One binding's breaker: closed, open after repeated failures, then
/// half-open for one trial call once the cool-down ends.
#[derive(Debug)]
pub struct CircuitBreaker {
    policy: BreakerPolicy,
    inner: Mutex<Inner>,
    /// The binding's calls, for the merchant's report.
    calls: super::stats::CallStats,
}

impl Default for CircuitBreaker {
    fn default() -> CircuitBreaker {
        CircuitBreaker::new(BreakerPolicy::default())
    }
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(policy: BreakerPolicy) -> CircuitBreaker {
        CircuitBreaker {
            policy,
            inner: Mutex::new(Inner {
                consecutive_failures: 0,
                opened_at: None,
                trial_in_flight: false,
                last_failure: None,
                opens: 0,
                opens_told: 0,
            }),
            calls: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a call may go ahead now; in the half-open state only one may.
    pub fn try_acquire(&self) -> Result<(), Refused> {
        let mut s = self.lock();
        match s.opened_at {
            None => Ok(()),
            Some(at) if at.elapsed() >= self.policy.cool_down && !s.trial_in_flight => {
                s.trial_in_flight = true;
                Ok(())
            }
            Some(at) => Err(Refused {
                failures: s.consecutive_failures,
                last_failure: s.last_failure.clone().unwrap_or_default(),
                retry_in: self.policy.cool_down.saturating_sub(at.elapsed()),
            }),
        }
    }

    /// The binding's calls so far: counts and latency percentiles.
    pub fn stats(&self) -> super::StatsSnapshot {
        self.calls.snapshot()
    }

    /// Records a call: how long it took, its fuel, and `None` for a
    /// success, else what failed.
    pub fn record_call(&self, duration: Duration, fuel: u64, failure: Option<String>) {
        self.calls.record(duration, fuel, failure.is_some());
        self.record(failure);
    }

    /// Records a call's outcome: `None` for a success, else what failed.
    pub fn record(&self, failure: Option<String>) {
        let mut s = self.lock();
        s.trial_in_flight = false;
        let Some(failure) = failure else {
            s.consecutive_failures = 0;
            s.opened_at = None;
            s.last_failure = None;
            return;
        };
        s.consecutive_failures = s.consecutive_failures.saturating_add(1);
        s.last_failure = Some(failure);
        if s.opened_at.is_some() || s.consecutive_failures >= self.policy.failure_threshold {
            if s.opened_at.is_none() {
                s.opens += 1;
            }
            s.opened_at = Some(Instant::now());
        }
    }

    /// If the breaker opened (from closed) since the last time this was
    /// asked: the consecutive failures and the last one, once per opening.
    pub fn take_opened(&self) -> Option<(u32, String)> {
        let mut s = self.lock();
        if s.opens == s.opens_told {
            return None;
        }
        s.opens_told = s.opens;
        Some((s.consecutive_failures, s.last_failure.clone().unwrap_or_default()))
    }

    /// Closed, open, or half-open once the cool-down has ended.
    pub fn state(&self) -> CircuitState {
        let s = self.lock();
        match s.opened_at {
            None => CircuitState::Closed,
            Some(at) if at.elapsed() >= self.policy.cool_down => CircuitState::HalfOpen,
            Some(_) => CircuitState::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_half_opens_after_cool_down() {
        let b =
            CircuitBreaker::new(BreakerPolicy { failure_threshold: 3, cool_down: Duration::from_millis(30) });
        for _ in 0..2 {
            assert!(b.try_acquire().is_ok());
            b.record(Some("trapped".into()));
        }
        assert_eq!(b.state(), CircuitState::Closed);
        assert!(b.try_acquire().is_ok());
        b.record(Some("trapped".into()));
        assert_eq!(b.state(), CircuitState::Open);
        let refused = b.try_acquire().unwrap_err();
        assert_eq!((refused.failures, refused.last_failure.as_str()), (3, "trapped"), "it says why");
        assert!(refused.retry_in <= Duration::from_millis(30), "and when it lets a call through");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.state(), CircuitState::HalfOpen);
        assert!(b.try_acquire().is_ok(), "one trial call");
        assert!(b.try_acquire().is_err(), "only one trial at a time");
        b.record(Some("trapped".into()));
        assert_eq!(b.state(), CircuitState::Open, "a failed trial re-opens");
        assert!(b.take_opened().is_some(), "it opened once");
        assert!(b.take_opened().is_none(), "told once; re-opening after a trial is the same opening");
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.try_acquire().is_ok());
        b.record(None);
        assert_eq!(b.state(), CircuitState::Closed);
        assert!(b.try_acquire().is_ok());
    }
}
