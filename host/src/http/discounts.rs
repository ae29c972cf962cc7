//! The admin discount code API.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::error::{Problem, Result};
use super::json::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::commerce::Paged;
use crate::commerce::discounts::{self, DiscountCode, NewDiscountCode};

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_code, list_codes)).routes(routes!(get_code, delete_code))
}

/// Creates a discount code. What it is worth is up to the merchant's
/// pricing plugins; the host checks its window and usage limit.
#[utoipa::path(post, path = "/discount-codes", tag = "discounts", security(("bearer" = [])),
    request_body = NewDiscountCode,
    responses((status = 201, body = DiscountCode), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_code(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewDiscountCode>,
) -> Result<(StatusCode, Json<DiscountCode>)> {
    let code = discounts::create(&state.shop.db, &admin.merchant_id, req).await?;
    Ok((StatusCode::CREATED, Json(code)))
}

/// The merchant's discount codes, oldest first.
#[utoipa::path(get, path = "/discount-codes", tag = "discounts", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = inline(Paged<DiscountCode>))))]
async fn list_codes(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<DiscountCode>>> {
    Ok(Json(discounts::list(&state.shop.db, &admin.merchant_id, &q.page()?).await?))
}

/// One discount code, with its usage count.
#[utoipa::path(get, path = "/discount-codes/{id}", tag = "discounts", security(("bearer" = [])),
    responses((status = 200, body = DiscountCode), (status = 404, body = Problem)))]
async fn get_code(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DiscountCode>> {
    Ok(Json(discounts::get(&state.shop.db, &admin.merchant_id, &id).await?))
}

/// Deletes a discount code: it stops working at once.
#[utoipa::path(delete, path = "/discount-codes/{id}", tag = "discounts", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_code(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    discounts::delete(&state.shop.db, &admin.merchant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
