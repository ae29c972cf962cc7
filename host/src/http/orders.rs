//! Orders: the back office's list and detail (with history), the buyer's
//! view (a logged-in customer's own orders, or a guest with the order's
//! access token).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Storefront};
use super::customers::{CustomerSession, OptionalCustomer, TokenHeader};
use super::error::{Problem, Result};
use super::json::{ApiPath, ApiQuery, PageQuery};
use crate::commerce::orders::{self, BuyerOrder, Order, OrderDetail, OrderExplanation};
use crate::commerce::{Page, Paged};

/// The header a guest sends with an order's access token.
pub const ORDER_TOKEN_HEADER: &str = "x-order-token";

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orders))
        .routes(routes!(get_order))
        .routes(routes!(explain_order))
}

pub fn store_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_store_order)).routes(routes!(list_my_orders))
}

/// Order list filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OrderQuery {
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// pending_payment, paid, partially_fulfilled, fulfilled, cancelled, partially_refunded, refunded.
    status: Option<String>,
}

/// The merchant's orders, oldest first.
#[utoipa::path(get, path = "/orders", tag = "orders", security(("bearer" = [])), params(OrderQuery),
    responses((status = 200, body = inline(Paged<Order>)), (status = 422, body = Problem)))]
async fn list_orders(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OrderQuery>,
) -> Result<Json<Paged<Order>>> {
    let page = Page::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(orders::list(&state.shop.db, &admin.merchant_id, q.status.as_deref(), &page).await?))
}

/// One order with its event history.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderDetail), (status = 404, body = Problem)))]
async fn get_order(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OrderDetail>> {
    Ok(Json(orders::detail(&state.shop.db, &admin.merchant_id, &id).await?))
}

/// How an order was priced: its totals and every plugin call that made
/// them (plugin name@version and id, input hash, memo, time, fuel, and what
/// each changed), as kept with the order when it was placed.
#[utoipa::path(get, path = "/orders/{id}/explain", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderExplanation), (status = 404, body = Problem)))]
async fn explain_order(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OrderExplanation>> {
    Ok(Json(orders::explain(&state.shop.db, &admin.merchant_id, &id).await?))
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct OrderTokenHeader {
    /// The `access_token` the checkout answered with (guests).
    #[param(rename = "X-Order-Token")]
    x_order_token: Option<String>,
    /// A logged-in customer's token (their own orders).
    #[param(rename = "X-Customer-Token")]
    x_customer_token: Option<String>,
}

/// An order, for its buyer: the customer who placed it (`X-Customer-Token`)
/// or a guest holding its access token (`X-Order-Token`).
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])), params(OrderTokenHeader),
    responses((status = 200, body = BuyerOrder), (status = 404, body = Problem)))]
async fn get_store_order(
    store: Storefront,
    State(state): State<AppState>,
    OptionalCustomer(customer): OptionalCustomer,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BuyerOrder>> {
    let token = headers.get(ORDER_TOKEN_HEADER).and_then(|v| v.to_str().ok()).map(str::trim);
    Ok(Json(orders::for_buyer(&state.shop.db, &store.merchant_id, &id, customer.as_deref(), token).await?))
}

/// The logged-in customer's orders, oldest first.
#[utoipa::path(get, path = "/customers/me/orders", tag = "orders", security(("bearer" = [])),
    params(TokenHeader, PageQuery),
    responses((status = 200, body = inline(Paged<Order>)), (status = 401, body = Problem)))]
async fn list_my_orders(
    session: CustomerSession,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<Order>>> {
    let page = q.page()?;
    Ok(Json(orders::for_customer(&state.shop.db, &session.merchant_id, &session.customer_id, &page).await?))
}
