//! The platform (operator) API: merchants and their keys.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Platform;
use super::error::{Problem, Result};
use super::json::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::commerce::Paged;
use crate::commerce::merchants::{self, Keys, Merchant, NewMerchant};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_merchant, list_merchants))
        .routes(routes!(get_merchant))
        .routes(routes!(rotate_keys))
}

/// A merchant with its keys, shown once.
#[derive(Serialize, utoipa::ToSchema)]
struct CreatedMerchant {
    #[serde(flatten)]
    merchant: Merchant,
    #[serde(flatten)]
    keys: Keys,
}

/// Onboards a merchant; its keys are in the response and never again.
#[utoipa::path(post, path = "/merchants", tag = "platform", security(("bearer" = [])),
    request_body = NewMerchant,
    responses((status = 201, body = CreatedMerchant), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_merchant(
    _: Platform,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewMerchant>,
) -> Result<(StatusCode, Json<CreatedMerchant>)> {
    let (merchant, keys) = merchants::create(&state.shop.db, req).await?;
    Ok((StatusCode::CREATED, Json(CreatedMerchant { merchant, keys })))
}

/// Merchants, oldest first.
#[utoipa::path(get, path = "/merchants", tag = "platform", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = inline(Paged<Merchant>))))]
async fn list_merchants(
    _: Platform,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<Merchant>>> {
    Ok(Json(merchants::list(&state.shop.db, &q.page()?).await?))
}

/// One merchant.
#[utoipa::path(get, path = "/merchants/{id}", tag = "platform", security(("bearer" = [])),
    responses((status = 200, body = Merchant), (status = 404, body = Problem)))]
async fn get_merchant(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Merchant>> {
    Ok(Json(merchants::get(&state.shop.db, &id).await?))
}

/// Revokes a merchant's keys and issues new ones, shown once.
#[utoipa::path(post, path = "/merchants/{id}/rotate-keys", tag = "platform", security(("bearer" = [])),
    responses((status = 200, body = Keys), (status = 404, body = Problem)))]
async fn rotate_keys(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Keys>> {
    Ok(Json(merchants::rotate_keys(&state.shop.db, &id).await?))
}
