//! Abuse limits, per host: a request rate per API key (requests without a
//! key count against their address), and login throttling per account and
//! per address. Over a limit the answer is 429 `rate_limited` with
//! `Retry-After`. Each host counts on its own: behind a load balancer over
//! N hosts a key gets up to N times its rate.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;

/// The limits, as the operator sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitConfig {
    /// Sustained requests per second per API key (twice that in a burst);
    /// 0 turns the limit off.
    pub requests_per_second: u32,
    /// Failed logins per account (shop and e-mail) in [`LOGIN_WINDOW`].
    pub login_failures_per_account: u32,
    /// Failed logins per client address in [`LOGIN_WINDOW`].
    pub login_failures_per_address: u32,
}

impl Default for LimitConfig {
    fn default() -> LimitConfig {
        LimitConfig {
            requests_per_second: 1000,
            login_failures_per_account: 5,
            login_failures_per_address: 20,
        }
    }
}

/// The window failed logins are counted in.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The limiters of one host.
pub struct Limits {
    config: LimitConfig,
    requests: Option<DefaultKeyedRateLimiter<[u8; 32]>>,
    accounts: Failures,
    addresses: Failures,
    /// Password-reset e-mails asked, per account and per address: each
    /// sends an e-mail, so they are counted like failed logins.
    resets: Failures,
    reset_addresses: Failures,
}

impl Limits {
    /// Limiters set as `config` says.
    pub fn new(config: LimitConfig) -> Limits {
        let requests = NonZeroU32::new(config.requests_per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::new(2).expect("2 is not zero"));
            RateLimiter::dashmap(Quota::per_second(rate).allow_burst(burst))
        });
        Limits {
            config,
            requests,
            accounts: Failures::new(config.login_failures_per_account),
            addresses: Failures::new(config.login_failures_per_address),
            resets: Failures::new(config.login_failures_per_account),
            reset_addresses: Failures::new(config.login_failures_per_address),
        }
    }

    /// Whether a login to `account` from `address` may be tried now.
    pub fn login_allowed(&self, account: &str, address: Option<IpAddr>) -> Result<(), ApiError> {
        let wait =
            [self.accounts.blocked(account), address.and_then(|a| self.addresses.blocked(&a.to_string()))]
                .into_iter()
                .flatten()
                .max();
        match wait {
            None => Ok(()),
            Some(wait) => Err(too_many("too many failed logins; try again later", wait)),
        }
    }

    /// Counts a failed login.
    pub fn login_failed(&self, account: &str, address: Option<IpAddr>) {
        self.accounts.fail(account);
        if let Some(a) = address {
            self.addresses.fail(&a.to_string());
        }
    }

    /// Whether a password-reset e-mail may be asked for `account` from
    /// `address` now (as many per window as failed logins), counting it.
    /// The answer is the same whether or not the account exists.
    pub fn password_reset_allowed(&self, account: &str, address: Option<IpAddr>) -> Result<(), ApiError> {
        let by_address = address.map(|a| a.to_string());
        let wait = [
            self.resets.blocked(account),
            by_address.as_deref().and_then(|a| self.reset_addresses.blocked(a)),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = wait {
            return Err(too_many("too many password resets asked; try again later", wait));
        }
        self.resets.fail(account);
        if let Some(a) = by_address {
            self.reset_addresses.fail(&a);
        }
        Ok(())
    }

    /// Forgets an account's failures after it logged in.
    pub fn login_succeeded(&self, account: &str) {
        self.accounts.clear(account);
    }

    /// The limits in force.
    pub fn config(&self) -> LimitConfig {
        self.config
    }
}

/// A 429 problem with `Retry-After` (whole seconds, rounded up).
fn too_many(detail: &str, wait: Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail).with_retry_after(secs.max(1))
}

/// Failures per key in a fixed window from the first failure.
struct Failures {
    max: u32,
    seen: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Keys kept before expired ones are swept.
const SWEEP_ABOVE: usize = 10_000;

impl Failures {
    fn new(max: u32) -> Failures {
        Failures { max, seen: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long `key` must wait, if it is over the limit.
    fn blocked(&self, key: &str) -> Option<Duration> {
        if self.max == 0 {
            return None;
        }
        let seen = self.lock();
        let (count, since) = seen.get(key)?;
        let left = LOGIN_WINDOW.checked_sub(since.elapsed())?;
        (*count >= self.max).then_some(left)
    }

    fn fail(&self, key: &str) {
        let mut seen = self.lock();
        if seen.len() > SWEEP_ABOVE {
            seen.retain(|_, (_, since)| since.elapsed() < LOGIN_WINDOW);
        }
        let entry = seen.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= LOGIN_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }

    fn clear(&self, key: &str) {
        self.lock().remove(key);
    }
}

/// The client's address, when the server was started with it.
pub fn client_address(req_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    req_extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// Counts every request against its API key (or its address) and refuses
/// the ones over the rate.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(limiter) = &state.limits.requests else { return next.run(req).await };
    let key: [u8; 32] = match req.headers().get(header::AUTHORIZATION) {
        Some(auth) => Sha256::digest(auth.as_bytes()).into(),
        None => {
            let address = client_address(req.extensions()).map(|a| a.to_string()).unwrap_or_default();
            Sha256::digest(format!("address {address}")).into()
        }
    };
    match limiter.check_key(&key) {
        Ok(()) => {
            // Keep the table of keys from growing without end; counting it
            // takes every shard's lock, so only every 4,096th request does.
            static SEEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            if SEEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed).is_multiple_of(4096)
                && limiter.len() > 100_000
            {
                limiter.retain_recent();
            }
            next.run(req).await
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            too_many("too many requests for this API key; slow down", wait).into_response()
        }
    }
}
