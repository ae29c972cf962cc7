//! The admin inventory API: locations, stock levels, adjustments and a
//! variant's inventory policy.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::error::{ApiError, Problem, Result};
use super::json::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::commerce::inventory::{
    self, Adjustment, Level, Location, NewAdjustment, NewLocation, PolicyChange, SetOnHand, Stock,
};
use crate::commerce::{Error, Paged};

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_location, list_locations))
        .routes(routes!(get_location))
        .routes(routes!(get_stock))
        .routes(routes!(set_on_hand))
        .routes(routes!(adjust, list_adjustments))
        .routes(routes!(set_policy))
}

/// A location named in a body that the merchant does not have is a 404,
/// like any id of another merchant, and names the field.
fn body_location(e: Error) -> ApiError {
    match e {
        Error::NotFound("location") => ApiError {
            errors: Some(BTreeMap::from([("location_id".to_owned(), "no such location".to_owned())])),
            ..ApiError::not_found("location")
        },
        e => e.into(),
    }
}

/// Creates a stock location.
#[utoipa::path(post, path = "/locations", tag = "inventory", security(("bearer" = [])),
    request_body = NewLocation,
    responses((status = 201, body = Location), (status = 422, body = Problem)))]
async fn create_location(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewLocation>,
) -> Result<(StatusCode, Json<Location>)> {
    let location = inventory::create_location(&state.shop.db, &admin.merchant_id, req).await?;
    Ok((StatusCode::CREATED, Json(location)))
}

/// The merchant's locations, oldest first.
#[utoipa::path(get, path = "/locations", tag = "inventory", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = inline(Paged<Location>))))]
async fn list_locations(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<Location>>> {
    Ok(Json(inventory::list_locations(&state.shop.db, &admin.merchant_id, &q.page()?).await?))
}

/// One location.
#[utoipa::path(get, path = "/locations/{location_id}", tag = "inventory", security(("bearer" = [])),
    responses((status = 200, body = Location), (status = 404, body = Problem)))]
async fn get_location(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(location_id): ApiPath<String>,
) -> Result<Json<Location>> {
    Ok(Json(inventory::get_location(&state.shop.db, &admin.merchant_id, &location_id).await?))
}

/// Which variant's stock to show.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StockQuery {
    /// The variant whose stock to show.
    #[param(required = true)]
    variant_id: Option<String>,
}

/// Stock of a variant per location, with its inventory policy.
#[utoipa::path(get, path = "/inventory", tag = "inventory", security(("bearer" = [])), params(StockQuery),
    responses((status = 200, body = Stock), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_stock(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<StockQuery>,
) -> Result<Json<Stock>> {
    Ok(Json(inventory::stock(&state.shop.db, &admin.merchant_id, q.variant_id.as_deref()).await?))
}

/// Sets on_hand of a variant at a location (a stock count); the difference
/// is recorded in the history. Lowering it below what is reserved is
/// refused for a `deny` variant.
#[utoipa::path(put, path = "/inventory/{variant_id}", tag = "inventory", security(("bearer" = [])),
    request_body = SetOnHand,
    responses((status = 200, body = Level), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn set_on_hand(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(variant_id): ApiPath<String>,
    ApiJson(req): ApiJson<SetOnHand>,
) -> Result<Json<Level>> {
    let level = inventory::set_on_hand(&state.shop.db, &admin.merchant_id, &variant_id, req)
        .await
        .map_err(body_location)?;
    Ok(Json(level))
}

/// An adjustment as recorded, with the level it left.
#[derive(Serialize, utoipa::ToSchema)]
struct Adjusted {
    #[serde(flatten)]
    adjustment: Adjustment,
    level: Level,
}

/// Changes on_hand of a variant at a location by a delta, with a reason.
/// Taking it below what is reserved (or below 0) is 409
/// `insufficient_stock` unless the variant allows backorders.
#[utoipa::path(post, path = "/inventory/{variant_id}/adjustments", tag = "inventory", security(("bearer" = [])),
    request_body = NewAdjustment,
    responses((status = 201, body = Adjusted), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn adjust(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(variant_id): ApiPath<String>,
    ApiJson(req): ApiJson<NewAdjustment>,
) -> Result<(StatusCode, Json<Adjusted>)> {
    let (adjustment, level) = inventory::adjust(&state.shop.db, &admin.merchant_id, &variant_id, req)
        .await
        .map_err(body_location)?;
    Ok((StatusCode::CREATED, Json(Adjusted { adjustment, level })))
}

/// Only this location's adjustments.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LocationFilter {
    location_id: Option<String>,
}

/// The history of a variant's stock, newest first.
#[utoipa::path(get, path = "/inventory/{variant_id}/adjustments", tag = "inventory", security(("bearer" = [])),
    params(PageQuery, LocationFilter),
    responses((status = 200, body = inline(Paged<Adjustment>)), (status = 404, body = Problem)))]
async fn list_adjustments(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(variant_id): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<LocationFilter>,
) -> Result<Json<Paged<Adjustment>>> {
    let page = page.page()?;
    let location = filter.location_id.as_deref();
    Ok(Json(inventory::history(&state.shop.db, &admin.merchant_id, &variant_id, location, &page).await?))
}

/// Sets whether a variant can be sold beyond its available stock
/// (`allow_backorder`) or not (`deny`, the default).
#[utoipa::path(patch, path = "/variants/{variant_id}/inventory-policy", tag = "inventory",
    security(("bearer" = [])), request_body = PolicyChange,
    responses((status = 200, body = Stock), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_policy(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(variant_id): ApiPath<String>,
    ApiJson(req): ApiJson<PolicyChange>,
) -> Result<Json<Stock>> {
    Ok(Json(inventory::set_policy(&state.shop.db, &admin.merchant_id, &variant_id, req).await?))
}
