//! `/v1/admin/webhook-endpoints`: where a merchant's events are sent, and
//! the log of what was sent.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::error::{Problem, Result};
use super::json::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::commerce::webhooks::{
    self, CreatedEndpoint, Delivery, EndpointPatch, NewEndpoint, WebhookEndpoint,
};
use crate::commerce::{Page, Paged};

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(redeliver))
        .routes(routes!(ping))
}

/// Adds an endpoint. Every event of the chosen types is POSTed to it, signed
/// `Mercato-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`
/// with the `secret` in this answer, which is never shown again.
#[utoipa::path(post, path = "/webhook-endpoints", tag = "webhooks", security(("bearer" = [])),
    request_body = NewEndpoint,
    responses((status = 201, body = CreatedEndpoint), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn create_endpoint(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewEndpoint>,
) -> Result<(StatusCode, Json<CreatedEndpoint>)> {
    Ok((StatusCode::CREATED, Json(webhooks::create(&state.shop, &admin.merchant_id, req).await?)))
}

/// The shop's endpoints.
#[utoipa::path(get, path = "/webhook-endpoints", tag = "webhooks", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = inline(Paged<WebhookEndpoint>))))]
async fn list_endpoints(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<WebhookEndpoint>>> {
    Ok(Json(webhooks::list(&state.shop, &admin.merchant_id, &q.page()?).await?))
}

/// One endpoint.
#[utoipa::path(get, path = "/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = WebhookEndpoint), (status = 404, body = Problem)))]
async fn get_endpoint(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WebhookEndpoint>> {
    Ok(Json(webhooks::get(&state.shop, &admin.merchant_id, &id).await?))
}

/// Changes an endpoint's URL, event types, description or whether it is
/// enabled. While disabled, nothing is sent to it and events are not kept
/// for it; deliveries already queued wait until it is enabled again.
#[utoipa::path(patch, path = "/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])),
    request_body = EndpointPatch,
    responses((status = 200, body = WebhookEndpoint), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_endpoint(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<EndpointPatch>,
) -> Result<Json<WebhookEndpoint>> {
    Ok(Json(webhooks::update(&state.shop, &admin.merchant_id, &id, req).await?))
}

/// Removes an endpoint with its delivery log.
#[utoipa::path(delete, path = "/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_endpoint(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    webhooks::delete(&state.shop, &admin.merchant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delivery log filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeliveryQuery {
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `pending`, `succeeded` or `failed`.
    status: Option<String>,
}

/// The endpoint's deliveries, oldest first.
#[utoipa::path(get, path = "/webhook-endpoints/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(DeliveryQuery),
    responses((status = 200, body = inline(Paged<Delivery>)), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_deliveries(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<Paged<Delivery>>> {
    let page = Page::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(webhooks::deliveries(&state.shop, &admin.merchant_id, &id, q.status.as_deref(), &page).await?))
}

/// One delivery with every attempt: status, latency, the answer's start.
#[utoipa::path(get, path = "/webhook-endpoints/{id}/deliveries/{delivery_id}", tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 200, body = Delivery), (status = 404, body = Problem)))]
async fn get_delivery(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath((id, delivery_id)): ApiPath<(String, String)>,
) -> Result<Json<Delivery>> {
    Ok(Json(webhooks::delivery(&state.shop, &admin.merchant_id, &id, &delivery_id).await?))
}

/// Sends a delivery again, with the same event id (and a new 72-hour window
/// of retries).
#[utoipa::path(post, path = "/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 202, body = Delivery), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn redeliver(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath((id, delivery_id)): ApiPath<(String, String)>,
) -> Result<(StatusCode, Json<Delivery>)> {
    let d = webhooks::redeliver(&state.shop, &admin.merchant_id, &id, &delivery_id).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

/// Sends a `webhook.ping` event to the endpoint now and answers with what
/// came of it (logged, never retried).
#[utoipa::path(post, path = "/webhook-endpoints/{id}/ping", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Delivery), (status = 404, body = Problem)))]
async fn ping(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Delivery>> {
    Ok(Json(webhooks::ping(&state.shop, &admin.merchant_id, &id).await?))
}
