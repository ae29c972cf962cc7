//! What goes wrong with plugins, said so an operator can act on it: which
//! plugin, which call, which limit.

use std::fmt;

use mercato_sdk::ExtensionPoint;

/// Why a call to a plugin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The guest trapped (panic, unreachable, bad memory access); a panic's
    /// message is kept.
    Trap(String),
    /// It recursed past its stack.
    StackOverflow,
    /// It used all its instructions.
    OutOfFuel {
        /// The instructions the call was given.
        limit: u64,
    },
    /// It ran past its wall-clock deadline.
    Deadline {
        /// The deadline, in milliseconds.
        limit_ms: u64,
    },
    /// The host refused one of its outgoing requests, and the plugin
    /// reported failing (so it did nothing with the provider on its own).
    NetworkRefused {
        /// `host:port`, with why it was refused.
        destination: String,
    },
    /// It tried to grow its memory past the cap.
    Memory {
        /// The memory cap, in bytes.
        limit_bytes: u64,
    },
    /// The host would not send an input this large.
    InputTooLarge {
        /// The input's size, in bytes.
        size: u64,
        /// The input cap, in bytes.
        limit: u64,
    },
    /// It answered with more than the output cap.
    OutputTooLarge {
        /// The output's size, in bytes.
        size: u64,
        /// The output cap, in bytes.
        limit: u64,
    },
    /// Its answer broke the contract (unknown line id, negative tax, …).
    InvalidOutput(String),
    /// It reported an error itself (`code`, `message`).
    Reported {
        /// The plugin's own error code.
        code: String,
        /// The plugin's explanation.
        message: String,
    },
    /// Its circuit breaker is open after repeated failures.
    CircuitOpen {
        /// Consecutive failures that opened it.
        failures: u32,
        /// The last of them, as it was reported.
        last_failure: String,
        /// When a trial call is let through.
        retry_in_ms: u64,
    },
    /// The operator disabled the plugin platform-wide; it was not run.
    Disabled,
    /// A background call (a shadow run) found no idle core; it was not run.
    Busy,
    /// The host could not set up the call.
    Host(String),
}

impl FailureKind {
    /// Stable snake_case name of the failure.
    pub fn code(&self) -> &'static str {
        match self {
            FailureKind::Trap(_) => "trap",
            FailureKind::StackOverflow => "stack_overflow",
            FailureKind::OutOfFuel { .. } => "out_of_fuel",
            FailureKind::Deadline { .. } => "deadline_exceeded",
            FailureKind::NetworkRefused { .. } => "network_refused",
            FailureKind::Memory { .. } => "memory_limit",
            FailureKind::InputTooLarge { .. } => "input_too_large",
            FailureKind::OutputTooLarge { .. } => "output_too_large",
            FailureKind::InvalidOutput(_) => "invalid_output",
            FailureKind::Reported { .. } => "plugin_error",
            FailureKind::CircuitOpen { .. } => "circuit_open",
            FailureKind::Disabled => "plugin_disabled",
            FailureKind::Busy => "busy",
            FailureKind::Host(_) => "host_error",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::Trap(msg) => write!(f, "trapped: {msg}"),
            FailureKind::StackOverflow => {
                write!(f, "overflowed its stack (unbounded recursion, or too deep for the sandbox's stack)")
            }
            FailureKind::OutOfFuel { limit } => write!(f, "ran out of fuel (limit {limit} instructions)"),
            FailureKind::Deadline { limit_ms } => write!(f, "exceeded its deadline of {limit_ms} ms"),
            FailureKind::NetworkRefused { destination } => {
                write!(
                    f,
                    "was refused network access to {destination}; the operator allows hosts with PUT /v1/platform/plugins/{{id}}/network"
                )
            }
            FailureKind::Memory { limit_bytes } => {
                write!(f, "exceeded its memory limit of {limit_bytes} bytes")
            }
            FailureKind::InputTooLarge { size, limit } => {
                write!(f, "input of {size} bytes is over the {limit}-byte input limit")
            }
            FailureKind::OutputTooLarge { size, limit } => {
                write!(f, "returned {size} bytes, over the {limit}-byte output limit")
            }
            FailureKind::InvalidOutput(msg) => write!(f, "returned invalid output: {msg}"),
            FailureKind::Reported { code, message } => write!(f, "reported an error: {code}: {message}"),
            FailureKind::CircuitOpen { failures, last_failure, retry_in_ms } => write!(
                f,
                "is disabled after {failures} consecutive failures (the last: it {last_failure}); \
                 a trial call is let through in {:.1} s",
                *retry_in_ms as f64 / 1000.0
            ),
            FailureKind::Disabled => write!(f, "is disabled by the platform operator"),
            FailureKind::Busy => write!(f, "was not run: every core was busy with requests"),
            FailureKind::Host(msg) => write!(f, "could not be called: {msg}"),
        }
    }
}

/// A failed call: the plugin, the function and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin {plugin} ({plugin_id}) {point}.{call} {kind}")]
pub struct CallError {
    /// `name@version`.
    pub plugin: String,
    /// Registry id.
    pub plugin_id: String,
    /// The extension point.
    pub point: ExtensionPoint,
    /// The WIT function, e.g. `calculate`.
    pub call: &'static str,
    /// What went wrong.
    pub kind: FailureKind,
}

/// Why a component was refused at install.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    /// Over the size cap.
    #[error("component is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The component's size, in bytes.
        size: u64,
        /// The size cap, in bytes.
        limit: u64,
    },
    /// A core module or not WebAssembly at all.
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// It does not export a known Mercato world.
    #[error("unknown world: {0}")]
    UnknownWorld(String),
    /// It targets another version of the contract.
    #[error("unsupported version: {0}")]
    UnsupportedVersion(String),
    /// It imports something its world does not allow.
    #[error("forbidden import {import:?}: a {point} plugin may import only {allowed}")]
    ForbiddenImport {
        /// The interface it imports.
        import: String,
        /// The extension point its world belongs to.
        point: ExtensionPoint,
        /// The interfaces that world may import, comma-separated.
        allowed: String,
    },
    /// Its metadata is missing or wrong.
    #[error("invalid metadata: {0}")]
    InvalidMetadata(String),
    /// The same name and version is installed with other bytes.
    #[error(
        "{name}@{version} is already installed with different content (sha256 {existing}); bump the version"
    )]
    VersionExists {
        /// The plugin's declared name.
        name: String,
        /// The plugin's declared version.
        version: String,
        /// Hex SHA-256 of the component already installed.
        existing: String,
    },
    /// Compilation or instantiation failed.
    #[error("component does not compile or instantiate: {0}")]
    Invalid(String),
}

impl InstallError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            InstallError::TooLarge { .. } => "component_too_large",
            InstallError::NotAComponent(_) => "not_a_component",
            InstallError::UnknownWorld(_) => "unknown_world",
            InstallError::UnsupportedVersion(_) => "unsupported_version",
            InstallError::ForbiddenImport { .. } => "forbidden_import",
            InstallError::InvalidMetadata(_) => "invalid_metadata",
            InstallError::VersionExists { .. } => "version_exists",
            InstallError::Invalid(_) => "invalid_component",
        }
    }
}
