//! CORS for the storefront API, per merchant: a browser on an origin the
//! merchant allows (`PUT /v1/admin/cors`) may call `/v1/store` with the
//! shop's publishable key. A preflight carries no key, so it is answered
//! for an origin some merchant allows; the real request's answer carries
//! `Access-Control-Allow-Origin` only when the key's own merchant allows
//! it, so a browser on another shop's origin cannot read the answer.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Admin;
use super::error::{Problem, Result};
use super::json::ApiJson;
use crate::commerce::merchants::{self, Cors};

/// `GET|PUT /v1/admin/cors`.
pub fn admin_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(get_cors, set_cors))
}

/// The origins this shop's storefront may call the store API from.
#[utoipa::path(get, path = "/cors", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Cors)))]
async fn get_cors(admin: Admin, State(state): State<AppState>) -> Result<Json<Cors>> {
    Ok(Json(merchants::cors(&state.shop.db, &admin.merchant_id).await?))
}

/// Replaces the origins this shop's storefront may call the store API from
/// (browsers there get CORS answers; `[]` allows none).
#[utoipa::path(put, path = "/cors", tag = "admin", security(("bearer" = [])), request_body = Cors,
    responses((status = 200, body = Cors), (status = 422, body = Problem)))]
async fn set_cors(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<Cors>,
) -> Result<Json<Cors>> {
    Ok(Json(merchants::set_cors(&state.shop.db, &admin.merchant_id, req).await?))
}

/// Request headers a storefront may send.
const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key, x-customer-token, x-order-token";
/// Response headers a storefront may read.
const EXPOSE_HEADERS: &str = "idempotent-replayed, retry-after, x-request-id";
/// How long a browser may remember a preflight.
const MAX_AGE_SECS: &str = "600";

/// The middleware.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else { return next.run(req).await };
    if !req.uri().path().starts_with("/v1/store/") && req.uri().path() != "/v1/store" {
        return next.run(req).await;
    }
    let origin_text = origin.to_str().unwrap_or_default().to_owned();
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut res = StatusCode::NO_CONTENT.into_response();
        if merchants::origin_allowed_anywhere(&state.shop.db, &origin_text).await.unwrap_or(false) {
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
            );
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE_SECS));
        }
        res.headers_mut().insert(header::VARY, HeaderValue::from_static("origin"));
        return res;
    }
    let merchant = merchant_of(&state, req.headers()).await;
    let mut res = next.run(req).await;
    let allowed = match merchant {
        Some(m) => merchants::origin_allowed(&state.shop.db, &m, &origin_text).await.unwrap_or(false),
        None => false,
    };
    let h = res.headers_mut();
    if allowed {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    }
    h.append(header::VARY, HeaderValue::from_static("origin"));
    res
}

/// The merchant of the publishable key a request carries, if any.
async fn merchant_of(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let key = super::auth::bearer(headers)?;
    match merchants::authenticate(&state.shop.db, key).await {
        Ok(Some((merchant, merchants::KeyKind::Publishable))) => Some(merchant),
        _ => None,
    }
}
