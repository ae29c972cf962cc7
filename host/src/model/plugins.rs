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
