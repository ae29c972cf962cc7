//! E-mail: the messages a shop sends, their templates and what became of
//! each one.

use serde::{Deserialize, Serialize};

/// Every kind of e-mail, with the event that sends it and who gets it.
pub const KINDS: &[(&str, &str, &str)] = &[
    (
        "order_confirmation",
        "order.payment_succeeded, order.payment_authorized or order.payment_pending",
        "buyer",
    ),
    ("order_shipped", "order.fulfilled", "buyer"),
    ("order_refunded", "order.refunded", "buyer"),
    ("customer_welcome", "customer.created", "customer"),
    ("password_reset", "customer.password_reset_requested", "customer"),
    ("cart_recovery", "cart.abandoned", "buyer"),
    ("low_stock", "inventory.low_stock or inventory.out_of_stock", "merchant"),
];

/// Whether `kind` is an e-mail kind.
pub fn is_kind(kind: &str) -> bool {
    KINDS.iter().any(|(k, ..)| *k == kind)
}

/// The e-mail an event sends from the outbox, and what makes it unique:
/// (kind, dedupe key). Password resets and cart recoveries are queued by
/// what writes their event (they carry a token), so they are not here.
pub fn for_event(kind: &str, event_id: &str, resource_id: &str) -> Option<(&'static str, String)> {
    let mail = match kind {
        // One confirmation per order, whichever confirmed it.
        "order.payment_succeeded" | "order.payment_authorized" | "order.payment_pending" => {
            return Some(("order_confirmation", format!("order_confirmation:{resource_id}")));
        }
        "order.fulfilled" => "order_shipped",
        "order.refunded" => "order_refunded",
        "customer.created" => "customer_welcome",
        "inventory.low_stock" | "inventory.out_of_stock" => "low_stock",
        _ => return None,
    };
    Some((mail, format!("{mail}:{event_id}")))
}

/// A template as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmailTemplate {
    /// One of the kinds (`order_confirmation`, …).
    pub kind: String,
    /// What sends it.
    pub sent_on: String,
    /// `buyer`, `customer` or `merchant` (the shop's notification e-mail).
    pub recipient: String,
    /// Whether the shop changed it (else it is Mercato's).
    pub custom: bool,
    /// The subject line (a minijinja template).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (values are HTML-escaped).
    pub html: String,
}

/// `PUT /v1/admin/email-templates/{kind}`, and a preview's draft.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateChange {
    /// Required (on a preview, default the current one).
    pub subject: Option<String>,
    /// Required (on a preview, default the current one).
    pub text: Option<String>,
    /// Required (on a preview, default the current one).
    pub html: Option<String>,
}

/// A message rendered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// One e-mail and what became of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmailMessage {
    /// `eml_…`; also its `Message-ID` (`<eml_…@mercato>`), the same on every attempt.
    pub id: String,
    /// The event that sent it.
    pub event_id: String,
    /// Its kind.
    pub kind: String,
    /// Who it went to, once known.
    pub recipient: Option<String>,
    /// Its subject, once rendered.
    pub subject: Option<String>,
    /// `pending`, `sent`, `failed` (the server refused it, or retries ran
    /// out) or `not_sent` (nothing to send it with, or nobody to send it to:
    /// `last_error` says which).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Why the last attempt failed, or why it was not sent.
    pub last_error: Option<String>,
    /// When the server accepted it.
    #[serde(serialize_with = "crate::model::time::serialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<i64>,
    /// When it was queued.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}
