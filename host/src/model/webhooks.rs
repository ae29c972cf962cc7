//! Webhooks: where a merchant wants its events sent, and what happened to
//! each one sent there.

use serde::{Deserialize, Serialize};

/// A webhook endpoint as the API shows it (its signing secret never again).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookEndpoint {
    /// `whe_…`.
    pub id: String,
    /// Where events are POSTed: an `http` or `https` URL.
    pub url: String,
    /// The event types sent there (see `GET /v1/admin/events`); `["*"]` is every type.
    pub event_types: Vec<String>,
    /// Whether events are sent (a disabled endpoint's events are not kept for it).
    pub enabled: bool,
    /// The merchant's note.
    pub description: Option<String>,
    /// When it was added.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// A new endpoint with its signing secret, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: verifies `Mercato-Signature` (HMAC-SHA256 over `t.body`).
    pub secret: String,
}

/// An endpoint as stored.
#[derive(Debug, Clone)]
pub struct StoredEndpoint {
    /// The endpoint as the API shows it.
    pub endpoint: WebhookEndpoint,
    /// The merchant it belongs to.
    pub merchant_id: String,
    /// The signing secret, sealed.
    pub secret_sealed: String,
}

/// `POST /v1/admin/webhook-endpoints`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Required.
    pub url: Option<String>,
    /// Required, at least one: known event types, or `"*"`.
    pub event_types: Option<Vec<String>>,
    /// Default true.
    pub enabled: Option<bool>,
    /// A note for the merchant, at most 500 characters.
    pub description: Option<String>,
}

/// `PATCH /v1/admin/webhook-endpoints/{id}`: what is given changes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    /// An http or https URL, public unless the operator allows private ones.
    pub url: Option<String>,
    /// Known event types, or `"*"`.
    pub event_types: Option<Vec<String>>,
    /// Whether events are sent.
    pub enabled: Option<bool>,
    /// A note for the merchant.
    pub description: Option<String>,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// `whd_…`.
    pub id: String,
    /// The endpoint (`whe_…`).
    pub endpoint_id: String,
    /// The event's id (`obx_…`, as in the body's `id`), or a ping's (`png_…`).
    pub event_id: String,
    /// The event type (`webhook.ping` for a ping).
    pub event_type: String,
    /// What the event is about.
    pub resource_id: String,
    /// `pending` (to be sent, or sent again after a failure), `succeeded`
    /// (the endpoint answered 2xx) or `failed` (retries ended).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it is next tried, while pending.
    #[serde(serialize_with = "crate::model::time::serialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<i64>,
    /// The last answer's HTTP status.
    pub last_status_code: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Every attempt, oldest first (on a single delivery).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<Vec<DeliveryAttempt>>,
    /// When it was queued.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// One attempt to send a delivery.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    /// 1 for the first.
    pub attempt: i64,
    /// The endpoint's HTTP status; absent when none came.
    pub status_code: Option<i64>,
    /// From sending to the end of the answer (or the failure).
    pub latency_ms: i64,
    /// The answer's first bytes (at most 1 KiB).
    pub response_snippet: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// When it was made.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}
