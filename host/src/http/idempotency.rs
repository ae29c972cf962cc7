//! `Idempotency-Key` on every POST (see [`crate::commerce::idempotency`]
//! for the rules): this layer reads the key, the caller's credentials and
//! the body, and replays, refuses or runs the request.
//!
//! Shown-once fields (API keys, session tokens) are blanked in the stored
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

use super::error::ApiError;
use super::{AppState, customers, orders};
use crate::commerce::idempotency::{Claim, Held, Keys, Request as Keyed, Retried};

/// The header.
pub const HEADER: &str = "idempotency-key";
/// The largest body this layer buffers beyond the operator's cap on
/// component uploads (the largest bodies any endpoint takes).
const BODY_SLACK: usize = 1 << 20;

/// Marks a response that is not the request's last word (a payment waiting
/// for the buyer): it is answered but not stored, so the same key runs the
/// request again.
#[derive(Debug, Clone, Copy)]
pub struct Unsettled;

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

/// The middleware: replays, refuses or runs a keyed POST (see the module).
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
    let (mut parts, body) = req.into_parts();
    let cap = usize::try_from(state.shop.runtime.max_component_bytes()).unwrap_or(usize::MAX);
    let Ok(bytes) = to_bytes(body, cap.saturating_add(BODY_SLACK)).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        )
        .into_response();
    };
    let credential = |name: header::HeaderName| parts.headers.get(name).map(HeaderValue::as_bytes);
    let credentials = [
        credential(header::AUTHORIZATION),
        credential(header::HeaderName::from_static(customers::TOKEN_HEADER)),
        credential(header::HeaderName::from_static(orders::ORDER_TOKEN_HEADER)),
    ];
    let request = Keyed {
        credentials: &credentials,
        method: parts.method.as_str(),
        path: parts.uri.path(),
        key: &key,
        body: &bytes,
    };
    let (held, claim) = match state.keys.claim(&request).await {
        Ok(claimed) => claimed,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match claim {
        Claim::Mismatch => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
            )
            .into_response();
        }
        Claim::InFlight => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "a request with this Idempotency-Key is still being processed; retry later",
            )
            .with_retry_after(state.keys.renew_every().as_secs().max(1))
            .into_response();
        }
        Claim::Done { status, body, content_type } => {
            let mut res = Response::new(Body::from(body));
            *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                res.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return res;
        }
        Claim::TakenOver => {
            parts.extensions.insert(Retried);
        }
        Claim::New => {}
    }
    let held = std::sync::Arc::new(held);
    let _renewing = Renewing::start(&state.keys, &held);
    let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = res.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        let _ = state.keys.release(&held).await;
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "response could not be read")
            .into_response();
    };
    // A server error did not run to completion, and an unsettled answer is
    // not final: let the client send it again.
    let stored = if parts.status.is_server_error() || parts.extensions.get::<Unsettled>().is_some() {
        state.keys.release(&held).await
    } else {
        let ct = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        state.keys.complete(&held, parts.status.as_u16(), &without_secrets(&body), ct).await
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "failed to store an idempotent response");
    }
    Response::from_parts(parts, Body::from(body))
}

/// Renews a running request's lease until dropped: when the request ends,
/// or when its future is dropped (the client went away).
struct Renewing(tokio::task::JoinHandle<()>);

impl Renewing {
    fn start(keys: &Keys, held: &std::sync::Arc<Held>) -> Renewing {
        let (keys, held) = (keys.clone(), held.clone());
        Renewing(tokio::spawn(async move {
            let mut tick = tokio::time::interval(keys.renew_every());
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = keys.renew(&held).await {
                    tracing::warn!(error = %e, "failed to renew an idempotency lease");
                }
            }
        }))
    }
}

impl Drop for Renewing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fields whose values are shown once and never stored.
const SHOWN_ONCE: &[&str] = &["secret_key", "publishable_key", "token", "secret"];

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
    // Our handlers' JSON spells names plainly (serde escapes no letter): a
    // body with none of them in quotes is stored as it is, unparsed.
    let quoted = |name: &str| {
        memchr::memmem::find_iter(body, name.as_bytes())
            .any(|at| at > 0 && body[at - 1] == b'"' && body.get(at + name.len()) == Some(&b'"'))
    };
    if !SHOWN_ONCE.iter().any(|name| quoted(name)) {
        return body.to_vec();
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
        let plain = br#"{"id":"cart_1","access_token":"ot_z","note":"a secret_key"}"#;
        assert_eq!(super::without_secrets(plain), plain.to_vec(), "nothing shown once: stored as sent");
    }
}
