//! The plugin runtime: one engine, components compiled once per content
//! hash, a fresh sandboxed store per call, limits on every call, and host
//! validation of every output.
//!
//! Small pieces with one job each: `engine` (pooling allocator, epochs),
//! `cache` (compiled artifacts on disk), `install` (the install check),
//! `limits`, `store` (per-call state and host imports), `runtime` (registry
//! and the call path), `adapters` (one per extension point), `circuit`,
//! `stats`.

mod adapters;
mod cache;
mod circuit;
mod engine;
mod error;
mod gate;
mod install;
pub mod journal;
mod json;
mod limits;
mod network;
mod registry;
mod size;
mod stats;
mod store;
mod wit;

pub use cache::CacheOutcome;
pub use circuit::{BreakerPolicy, CircuitBreaker, CircuitState};
pub use engine::EngineConfig;
pub use error::{CallError, FailureKind, InstallError};
pub use install::{CONTRACT_VERSIONS, DEFAULT_MAX_COMPONENT_BYTES};
pub use json::JsonCallError;
pub use limits::{LimitOverrides, Limits, PAYMENT_DEADLINE};
pub use network::{
    HostPort, MAX_ALLOWED_HOSTS, MAX_BODY_BYTES, NetworkSnapshot, NetworkStats, REQUEST_TIMEOUT, is_public,
};
pub use registry::{Call, InstalledPlugin, Outcome, Runtime, RuntimeConfig};
pub use stats::{StatsSnapshot, WINDOW_MS, Window};
pub use store::{LogLine, SharedCatalog};
