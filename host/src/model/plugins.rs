//! Installed plugins and merchants' bindings, as stored.

use serde::{Deserialize, Serialize};

/// What happens when a bound plugin fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The operation fails (fail closed).
    #[default]
    Fail,
    /// The plugin is skipped and the next one runs.
    Skip,
}

impl OnError {
    /// The snake_case name, as stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::Fail => "fail",
            OnError::Skip => "skip",
        }
    }

    /// The policy named `s`; `None` for any other text.
    pub fn parse(s: &str) -> Option<OnError> {
        match s {
            "fail" => Some(OnError::Fail),
            "skip" => Some(OnError::Skip),
            _ => None,
        }
    }
}

/// A binding row as stored.
#[derive(Debug, Clone)]
pub struct StoredBinding {
    /// The bound plugin (`plg_…`).
    pub plugin_id: String,
    /// The configuration as JSON text.
    pub config: String,
    /// Whether a failure fails the operation or skips this plugin.
    pub on_error: OnError,
    /// For a shadow binding: the live plugin (`plg_…`) it runs beside, and
    /// the share of that binding's calls it runs on, in millionths.
    pub shadow: Option<ShadowOf>,
}

/// What a shadow binding shadows, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowOf {
    /// The live binding's plugin (`plg_…`).
    pub live_plugin_id: String,
    /// Calls sampled, in millionths (1 to 1,000,000).
    pub sample_ppm: u32,
}

/// The operator's settings of a plugin, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    /// `LimitOverrides` as JSON, if the operator set any.
    pub limits: Option<String>,
    /// The hosts it may reach, a JSON array of `"host:port"`.
    pub allowed_hosts: String,
    /// When the operator disabled it platform-wide (unix ms); `None`: enabled.
    pub disabled_at: Option<i64>,
}

impl Default for StoredPolicy {
    fn default() -> StoredPolicy {
        StoredPolicy { limits: None, allowed_hosts: "[]".into(), disabled_at: None }
    }
}

/// An installed plugin as stored (without its component bytes).
#[derive(Debug, Clone)]
pub struct StoredPlugin {
    /// `plg_` + the first 24 hex digits of the component's sha256.
    pub id: String,
    /// The name the component declares.
    pub name: String,
    /// The version the component declares.
    pub version: String,
    /// `pricing`, `tax`, `shipping`, `payment` or `recommendations`.
    pub extension_point: String,
    /// Hex SHA-256 of the component's bytes.
    pub sha256: String,
    /// Size of the component, in bytes.
    pub size_bytes: i64,
    /// What the component says it does.
    pub description: String,
    /// JSON Schema of a binding's configuration, as the component declares it.
    pub config_schema: String,
    /// What the operator set for it, which every host applies.
    pub policy: StoredPolicy,
    /// When it was installed, in unix milliseconds.
    pub created_at: i64,
}

/// One call given to a live binding and to its shadow, as stored.
#[derive(Debug, Clone)]
pub struct ShadowCall {
    /// `shc_…`.
    pub id: String,
    /// The merchant.
    pub merchant_id: String,
    /// The extension point.
    pub extension_point: String,
    /// The live binding's plugin.
    pub live_plugin_id: String,
    /// The candidate.
    pub shadow_plugin_id: String,
    /// SHA-256 of the candidate's configuration.
    pub shadow_config_sha256: String,
    /// Hex SHA-256 of (plugin, configuration, input) of the live call: the
    /// memo key, also shown in explained totals.
    pub input_sha256: String,
    /// `identical`, `different` or `failed`.
    pub outcome: String,
    /// The live call's duration, in microseconds.
    pub live_us: i64,
    /// The shadow call's duration, in microseconds.
    pub shadow_us: i64,
    /// The live answer (JSON), kept when the answers differ.
    pub live_output: Option<String>,
    /// The shadow's answer (JSON), kept when the answers differ.
    pub shadow_output: Option<String>,
    /// Where they differ: a JSON array of paths, e.g. `[".rates[0].rate"]`.
    pub differences: Option<String>,
    /// The shadow's failure, when it failed.
    pub error: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}
