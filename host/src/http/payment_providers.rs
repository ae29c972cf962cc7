//! `PUT|GET|DELETE /v1/admin/payment-providers/stripe`: a merchant connects
//! its Stripe account. Secrets go in and never come out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::Admin;
use super::error::{Problem, Result};
use super::json::ApiJson;
use crate::commerce::stripe::{self, StripeConnection, StripeSettings};

/// The merchant's payment provider connections.
pub fn admin_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(connect, connection, disconnect))
}

/// Connects the shop's Stripe account (or replaces its keys). The secret
/// key and the webhook signing secret are sealed at rest and never shown
/// again: answers carry their last four characters.
#[utoipa::path(put, path = "/payment-providers/stripe", tag = "admin", security(("bearer" = [])),
    request_body = StripeSettings,
    responses((status = 200, body = StripeConnection), (status = 422, body = Problem)))]
async fn connect(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<StripeSettings>,
) -> Result<Json<StripeConnection>> {
    Ok(Json(stripe::connect(&state.shop, &admin.merchant_id, req).await?))
}

/// The shop's Stripe connection.
#[utoipa::path(get, path = "/payment-providers/stripe", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = StripeConnection), (status = 404, body = Problem)))]
async fn connection(admin: Admin, State(state): State<AppState>) -> Result<Json<StripeConnection>> {
    Ok(Json(stripe::connection(&state.shop, &admin.merchant_id).await?))
}

/// Disconnects the shop's Stripe account, forgetting its keys.
#[utoipa::path(delete, path = "/payment-providers/stripe", tag = "admin", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
async fn disconnect(admin: Admin, State(state): State<AppState>) -> Result<StatusCode> {
    stripe::disconnect(&state.shop, &admin.merchant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
