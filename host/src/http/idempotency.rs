//! `Idempotency-Key` on every POST, with Stripe's semantics: the same key
//! and body get the stored response again (for 24 hours); the same key with
//! another body is 422; a key whose first request is still running is 409.
//! Keys are scoped to the caller's credentials.
//!
//! Secrets are never stored: request bodies are fingerprinted with an HMAC
//! keyed by a server secret (a body may hold a password), and fields that
//! are shown once (API keys, session tokens) are blanked in the stored
//! response, so a replay says what happened without showing them again.
//! One exception, on purpose: a checkout's order `access_token` stays in
//! its replay. It is the only way a guest sees the order, so a buyer whose
//! first answer was lost must get it from the retry; it opens that one
//! order and nothing else.
//! Logging in is not idempotent: every login is a new session.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use crate::db::idempotency::{self, Claim};

/// The header.
pub const HEADER: &str = "idempotency-key";
/// How long a stored response is replayed.
pub const TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// The largest body this layer buffers (component uploads are the largest).
const MAX_BODY: usize = 9 << 20;

/// Whether a request to `path` with `method` can carry the key.
fn applies(method: &Method, path: &str) -> bool {
    method == Method::POST && !path.ends_with("/customers/login")
}

/// Documents the header on every operation the layer applies to, so the
/// OpenAPI document says what the layer does instead of a hand-written
/// parameter on some routes.
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    for (path, item) in api.paths.paths.iter_mut() {
        let Some(post) = item.post.as_mut().filter(|_| applies(&Method::POST, path)) else { continue };
        let key = ParameterBuilder::new()
            .name(HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: the same key with the same body replays the stored response; \
                 with another body it is refused (422). 1-255 characters, kept 24 hours.",
            ))
            .schema(Some(
                ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255)),
            ))
            .build();
        post.parameters.get_or_insert_with(Vec::new).push(key);
    }
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !applies(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return next.run(req).await;
    };
    if key.is_empty() || key.len() > 255 {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1-255 characters",
        )
        .into_response();
    }
    let scope = {
        let auth = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes()).unwrap_or(b"anonymous");
        hex::encode(Sha256::digest(auth))
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        )
        .into_response();
    };
    let fingerprint = {
        let mut h =
            Hmac::<Sha256>::new_from_slice(state.operator_key_hash.as_slice()).expect("any key length");
        h.update(parts.method.as_str().as_bytes());
        h.update(b" ");
        h.update(parts.uri.path().as_bytes());
        h.update(b"\n");
        h.update(&bytes);
        hex::encode(h.finalize().into_bytes())
    };
    match idempotency::claim(&state.db, &scope, &key, &fingerprint, TTL_MS).await {
        Err(e) => return ApiError::from(crate::commerce::Error::from(e)).into_response(),
        Ok(Claim::Mismatch) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
            )
            .into_response();
        }
        Ok(Claim::InFlight) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "a request with this Idempotency-Key is still being processed; retry later",
            )
            .into_response();
        }
        Ok(Claim::Done { status, body, content_type }) => {
            let mut res = Response::new(Body::from(body));
            *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                res.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return res;
        }
        Ok(Claim::New) => {}
    }
    let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = res.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        let _ = idempotency::release(&state.db, &scope, &key).await;
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "response could not be read")
            .into_response();
    };
    // A server error did not run to completion: let the client retry it.
    let stored = if parts.status.is_server_error() {
        idempotency::release(&state.db, &scope, &key).await
    } else {
        let ct = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        idempotency::complete(&state.db, &scope, &key, parts.status.as_u16(), &without_secrets(&body), ct)
            .await
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "failed to store an idempotent response");
    }
    Response::from_parts(parts, Body::from(body))
}

/// Fields whose values are shown once and never stored.
const SHOWN_ONCE: &[&str] = &["secret_key", "publishable_key", "token"];

/// The response body with shown-once values blanked.
fn without_secrets(body: &[u8]) -> Vec<u8> {
    fn blank(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if SHOWN_ONCE.contains(&k.as_str()) && v.is_string() {
                        *v = serde_json::Value::String("(shown once)".into());
                    } else {
                        blank(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(blank),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) => {
            blank(&mut v);
            serde_json::to_vec(&v).unwrap_or_default()
        }
        Err(_) => body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shown_once_values_are_not_stored() {
        let body = br#"{"id":"mer_1","secret_key":"sk_x","nested":[{"token":"ct_y"}]}"#;
        let stored = String::from_utf8(super::without_secrets(body)).unwrap();
        assert!(!stored.contains("sk_x") && !stored.contains("ct_y") && stored.contains("mer_1"), "{stored}");
    }
}
