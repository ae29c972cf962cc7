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
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::Fail => "fail",
            OnError::Skip => "skip",
        }
    }

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
    pub plugin_id: String,
    /// The configuration as JSON text.
    pub config: String,
    pub on_error: OnError,
}

/// A plugin row as stored (without its component bytes).
#[derive(Debug, Clone)]
pub struct StoredPlugin {
    pub id: String,
    pub name: String,
    pub version: String,
    pub extension_point: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub description: String,
    pub config_schema: String,
    /// [`LimitOverrides`] as JSON, if the operator set any.
    pub limits: Option<String>,
    pub created_at: i64,
}
