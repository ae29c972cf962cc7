//! Provider callbacks. No API key: Stripe's are verified by their
//! `Stripe-Signature`; a payment plugin verifies its own (e.g. a signature
//! header) while parsing it.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Problem, Result};
use super::json::{ApiPath, RawBody};
use crate::commerce::callbacks::{self, StripeReceipt, WebhookReceipt};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(payment_webhook)).routes(routes!(stripe_webhook))
}

/// Stripe's webhook endpoint for one merchant (register
/// `…/v1/hooks/stripe/{merchant_id}` in Stripe's dashboard, and its signing
/// secret with the connection). Each event is processed once; repeats,
/// late and unknown events are acknowledged with 200 so Stripe stops
/// retrying.
#[utoipa::path(post, path = "/stripe/{merchant_id}", tag = "hooks",
    request_body(content = Vec<u8>, content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "`t=…,v1=…`, as Stripe signs")),
    responses((status = 200, body = StripeReceipt),
        (status = 400, description = "`invalid_signature` (forged, stale, missing), `invalid_webhook` (not an event)", body = Problem),
        (status = 404, description = "the merchant has not connected Stripe", body = Problem),
        (status = 413, description = "`payload_too_large`: over 1 MiB", body = Problem)))]
async fn stripe_webhook(
    State(state): State<AppState>,
    ApiPath(merchant_id): ApiPath<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<StripeReceipt>> {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    Ok(Json(callbacks::stripe_webhook(&state.shop, &merchant_id, signature, &body).await?))
}

/// A payment provider's callback for one merchant's payment plugin: the
/// plugin parses it and the payment it names is settled (paid, failed, …).
#[utoipa::path(post, path = "/payments/{merchant_id}/{plugin_id}", tag = "hooks",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = WebhookReceipt), (status = 404, body = Problem),
        (status = 413, description = "`payload_too_large`", body = Problem),
        (status = 422, description = "`invalid_webhook`: the plugin refused it", body = Problem)))]
async fn payment_webhook(
    State(state): State<AppState>,
    ApiPath((merchant_id, plugin_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<WebhookReceipt>> {
    let headers = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
        .collect();
    Ok(Json(callbacks::plugin_webhook(&state.shop, &merchant_id, &plugin_id, headers, body.to_vec()).await?))
}
