//! The back office's order actions: fulfillments, cancellation, refunds,
//! returns and capture of a manual payment. Each answers the updated order;
//! send an `Idempotency-Key` to make a retry safe.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::error::{Problem, Result};
use super::json::{ApiJson, ApiPath, OptionalJson};
use crate::commerce::orders::Order;
use crate::commerce::orders::actions::{self, CancelRequest, NewFulfillment, NewRefund, NewReturn};

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_fulfillment))
        .routes(routes!(cancel_order))
        .routes(routes!(create_refund))
        .routes(routes!(create_return))
        .routes(routes!(capture_payment))
}

/// Ships units of the order's lines (all at once or in several shipments).
/// Allowed once paid, or while a manual payment is pending.
#[utoipa::path(post, path = "/orders/{id}/fulfillments", tag = "orders", security(("bearer" = [])),
    request_body = NewFulfillment,
    responses((status = 201, body = Order), (status = 404, body = Problem),
        (status = 409, description = "`invalid_transition`", body = Problem),
        (status = 422, description = "a line is unknown or has fewer units left to ship", body = Problem)))]
async fn create_fulfillment(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewFulfillment>,
) -> Result<(StatusCode, Json<Order>)> {
    let order = actions::fulfill(&state.shop, &admin.merchant_id, &id, req).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

/// Cancels an order that shipped nothing: its stock goes back, a captured
/// payment is refunded in full, an uncaptured one voided. The body is optional.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", security(("bearer" = [])),
    request_body(content = Option<CancelRequest>),
    responses((status = 200, body = Order), (status = 404, body = Problem),
        (status = 402, description = "`payment_declined`: the provider refused the refund or void", body = Problem),
        (status = 409, description = "`invalid_transition`", body = Problem),
        (status = 502, description = "`plugin_failed`", body = Problem)))]
async fn cancel_order(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    OptionalJson(req): OptionalJson<CancelRequest>,
) -> Result<Json<Order>> {
    Ok(Json(actions::cancel(&state.shop, &admin.merchant_id, &id, req).await?))
}

/// Pays money back through the order's payment provider: an `amount`, or
/// `lines` at what they were charged. Never more than captured and not yet
/// refunded.
#[utoipa::path(post, path = "/orders/{id}/refunds", tag = "orders", security(("bearer" = [])),
    request_body = NewRefund,
    responses((status = 201, body = Order), (status = 404, body = Problem),
        (status = 402, description = "`payment_declined`: the provider refused the refund", body = Problem),
        (status = 409, description = "`invalid_transition`", body = Problem),
        (status = 422, description = "`refund_exceeds_captured`, or invalid amount or lines", body = Problem),
        (status = 502, description = "`plugin_failed`", body = Problem)))]
async fn create_refund(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewRefund>,
) -> Result<(StatusCode, Json<Order>)> {
    let order = actions::refund(&state.shop, &admin.merchant_id, &id, req).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

/// Records shipped goods coming back and restocks them (unless
/// `restock: false`). A return pays nothing back: refund separately.
#[utoipa::path(post, path = "/orders/{id}/returns", tag = "orders", security(("bearer" = [])),
    request_body = NewReturn,
    responses((status = 201, body = Order), (status = 404, body = Problem),
        (status = 409, description = "`invalid_transition`", body = Problem),
        (status = 422, description = "a line is unknown or has fewer units shipped and not returned", body = Problem)))]
async fn create_return(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewReturn>,
) -> Result<(StatusCode, Json<Order>)> {
    let order = actions::return_items(&state.shop.db, &admin.merchant_id, &id, req).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

/// Marks a pending payment (bank transfer, invoice) received: the provider
/// captures it and the order is paid.
#[utoipa::path(post, path = "/orders/{id}/capture", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = Order), (status = 404, body = Problem),
        (status = 402, description = "`payment_declined`", body = Problem),
        (status = 409, description = "`invalid_transition`: the payment is not pending", body = Problem),
        (status = 502, description = "`plugin_failed`", body = Problem)))]
async fn capture_payment(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Order>> {
    Ok(Json(actions::capture(&state.shop, &admin.merchant_id, &id).await?))
}
