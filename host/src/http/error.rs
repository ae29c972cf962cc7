//! The one error type at the HTTP edge: RFC 9457 problem+json with a
//! stable `code`. Internal errors are logged with the request and shown as
//! a bare 500.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::commerce;
use crate::runtime::InstallError;

/// A problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase, e.g. "Not Found".
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What went wrong in this case, in a sentence.
    pub detail: String,
    /// Stable, snake_case, e.g. `out_of_stock`.
    pub code: String,
    /// Field path -> message, for validation failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
}

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Stable, snake_case.
    pub code: String,
    /// What went wrong, in a sentence.
    pub detail: String,
    /// Field path -> message, for validation failures.
    pub errors: Option<BTreeMap<String, String>>,
    /// Seconds to send as `Retry-After` (429, and a busy idempotency key).
    pub retry_after: Option<u64>,
}

/// `Result` at the HTTP edge.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

impl ApiError {
    /// An error with a status, a code and a sentence.
    pub fn new(status: StatusCode, code: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError { status, code: code.into(), detail: detail.into(), errors: None, retry_after: None }
    }

    /// Adds `Retry-After` to the answer.
    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(detail: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403 `forbidden`.
    pub fn forbidden(detail: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404 `not_found`, naming what was not found.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// A validation failure on one field.
    pub fn field(field: &str, message: &str) -> ApiError {
        ApiError {
            errors: Some(BTreeMap::from([(field.to_owned(), message.to_owned())])),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                format!("{field}: {message}"),
            )
        }
    }
}

impl From<commerce::Error> for ApiError {
    fn from(e: commerce::Error) -> ApiError {
        use commerce::Error as E;
        match e {
            E::NotFound(what) => ApiError::not_found(what),
            E::Validation { message, errors } => ApiError {
                errors: Some(errors),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message)
            },
            E::BadRequest { code, message } => ApiError::new(StatusCode::BAD_REQUEST, code, message),
            E::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            E::Unprocessable { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            E::OutOfStock { message, lines } => ApiError {
                errors: Some(lines),
                ..ApiError::new(StatusCode::CONFLICT, "out_of_stock", message)
            },
            E::PaymentDeclined { message } => {
                ApiError::new(StatusCode::PAYMENT_REQUIRED, "payment_declined", message)
            }
            E::PluginFailed { message } => ApiError::new(StatusCode::BAD_GATEWAY, "plugin_failed", message),
            E::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side",
                )
            }
        }
    }
}

impl From<InstallError> for ApiError {
    fn from(e: InstallError) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
    }
}

fn title(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_owned()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("https://mercato.dev/problems/{}", self.code.replace('_', "-")),
            title: title(self.status),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code,
            errors: self.errors,
        };
        let mut res = (self.status, axum::Json(problem)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
