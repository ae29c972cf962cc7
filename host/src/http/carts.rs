//! The storefront cart and checkout API. A cart is reached with the
//! merchant's publishable key and the cart's unguessable id; every answer
//! is the cart priced by the merchant's plugins.

use crate::commerce::idempotency::Retried;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Storefront;
use super::customers::{CustomerSession, OptionalCustomer, TokenHeader};
use super::error::{ApiError, Problem, Result};
use super::idempotency::Unsettled;
use super::json::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::commerce::cart::{
    self, Cart, CartUpdate, CodeInput, LineUpdate, NewCart, NewLine, ShippingChoice, ShippingOptions,
};
use crate::commerce::checkout::{self, ActionRequired, CompleteRequest, Completion, PlacedOrder};
use crate::commerce::payments::{self, PaymentOption};

pub fn store_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_cart))
        .routes(routes!(recover_cart))
        .routes(routes!(get_cart, update_cart))
        .routes(routes!(add_line))
        .routes(routes!(update_line, remove_line))
        .routes(routes!(add_code))
        .routes(routes!(remove_code))
        .routes(routes!(shipping_options))
        .routes(routes!(select_shipping))
        .routes(routes!(complete))
        .routes(routes!(claim_cart))
        .routes(routes!(payment_providers))
}

/// Creates a cart, optionally with its first lines; with `X-Customer-Token`
/// it belongs to that customer.
#[utoipa::path(post, path = "/carts", tag = "carts", security(("bearer" = [])), request_body(content = Option<NewCart>),
    responses((status = 201, body = Cart), (status = 422, body = Problem)))]
async fn create_cart(
    store: Storefront,
    State(state): State<AppState>,
    OptionalCustomer(customer): OptionalCustomer,
    OptionalJson(req): OptionalJson<NewCart>,
) -> Result<(StatusCode, Json<Cart>)> {
    let cart = cart::create(&state.shop, &store.merchant_id, customer.as_deref(), req).await?;
    Ok((StatusCode::CREATED, Json(cart)))
}

/// Gives a guest cart to the customer who logged in (`X-Customer-Token`):
/// the cart becomes theirs and takes their e-mail if it has none. Claiming
/// a cart that is already theirs answers it as it is.
#[utoipa::path(post, path = "/carts/{id}/customer", tag = "carts", security(("bearer" = [])), params(TokenHeader),
    responses((status = 200, body = Cart), (status = 404, body = Problem),
        (status = 409, description = "`cart_claimed`: another customer's cart; `cart_not_open`", body = Problem)))]
async fn claim_cart(
    session: CustomerSession,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Cart>> {
    Ok(Json(cart::claim(&state.shop, &session.merchant_id, &id, &session.customer_id).await?))
}

/// A recovery link's token.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RecoverQuery {
    /// From the cart-recovery e-mail.
    token: Option<String>,
}

/// The cart an abandoned-cart e-mail links to, priced, so the buyer picks
/// up where they left off: 422 for a link altered, expired or another
/// shop's; 409 `cart_not_open` once the cart became an order.
#[utoipa::path(get, path = "/carts/recover", tag = "carts", security(("bearer" = [])), params(RecoverQuery),
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn recover_cart(
    store: Storefront,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RecoverQuery>,
) -> Result<Json<Cart>> {
    let token = q.token.unwrap_or_default();
    Ok(Json(cart::recovery::recover(&state.shop, &store.merchant_id, &token).await?))
}

/// Whether to explain a cart's totals.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExplainQuery {
    /// `1` (or `true`) adds `explain`: every plugin call that shaped the totals.
    explain: Option<String>,
}

/// The cart, priced: pricing plugins, shipping rates and tax; with
/// `?explain=1`, the trail of plugin calls that made its totals.
#[utoipa::path(get, path = "/carts/{id}", tag = "carts", security(("bearer" = [])), params(ExplainQuery),
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_cart(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExplainQuery>,
) -> Result<Json<Cart>> {
    let explain = match q.explain.as_deref() {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return Err(ApiError::field("explain", "must be 1, true, 0 or false")),
    };
    let shop = &state.shop;
    let cart = if explain {
        cart::explain(shop, &store.merchant_id, &id).await?
    } else {
        cart::get(shop, &store.merchant_id, &id).await?
    };
    Ok(Json(cart))
}

/// How the cart can be paid: the shop's payment providers, in the order the
/// merchant bound them; `provider` is what `complete` takes.
#[utoipa::path(get, path = "/carts/{id}/payment-providers", tag = "carts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Cart id")),
    responses((status = 200, body = Vec<PaymentOption>), (status = 404, body = Problem)))]
async fn payment_providers(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<PaymentOption>>> {
    Ok(Json(payments::options(&state.shop, &store.merchant_id, &id).await?))
}

/// Sets the email and addresses (fields left out stay as they are).
#[utoipa::path(patch, path = "/carts/{id}", tag = "carts", security(("bearer" = [])), request_body = CartUpdate,
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update_cart(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<CartUpdate>,
) -> Result<Json<Cart>> {
    Ok(Json(cart::update_details(&state.shop, &store.merchant_id, &id, req).await?))
}

/// Adds units of a variant (to its existing line, if any).
#[utoipa::path(post, path = "/carts/{id}/lines", tag = "carts", security(("bearer" = [])), request_body = NewLine,
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn add_line(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewLine>,
) -> Result<Json<Cart>> {
    Ok(Json(cart::add_line(&state.shop, &store.merchant_id, &id, req).await?))
}

/// Sets a line's quantity; 0 removes it.
#[utoipa::path(patch, path = "/carts/{id}/lines/{line_id}", tag = "carts", security(("bearer" = [])),
    request_body = LineUpdate,
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update_line(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath((id, line_id)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<LineUpdate>,
) -> Result<Json<Cart>> {
    Ok(Json(cart::update_line(&state.shop, &store.merchant_id, &id, &line_id, req).await?))
}

/// Removes a line.
#[utoipa::path(delete, path = "/carts/{id}/lines/{line_id}", tag = "carts", security(("bearer" = [])),
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_line(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath((id, line_id)): ApiPath<(String, String)>,
) -> Result<Json<Cart>> {
    Ok(Json(cart::remove_line(&state.shop, &store.merchant_id, &id, &line_id).await?))
}

/// Enters a discount code; unknown, expired or used-up codes are refused
/// with `invalid_discount_code`.
#[utoipa::path(post, path = "/carts/{id}/discount-codes", tag = "carts", security(("bearer" = [])),
    request_body = CodeInput,
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, description = "`invalid_discount_code`", body = Problem)))]
async fn add_code(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<CodeInput>,
) -> Result<Json<Cart>> {
    Ok(Json(cart::add_discount_code(&state.shop, &store.merchant_id, &id, req).await?))
}

/// Removes an entered discount code.
#[utoipa::path(delete, path = "/carts/{id}/discount-codes/{code}", tag = "carts", security(("bearer" = [])),
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_code(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath((id, code)): ApiPath<(String, String)>,
) -> Result<Json<Cart>> {
    Ok(Json(cart::remove_discount_code(&state.shop, &store.merchant_id, &id, &code).await?))
}

/// The shipping rates the merchant's shipping plugins offer for this cart
/// (the cart needs a shipping address).
#[utoipa::path(get, path = "/carts/{id}/shipping-options", tag = "carts", security(("bearer" = [])),
    responses((status = 200, body = ShippingOptions), (status = 404, body = Problem)))]
async fn shipping_options(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ShippingOptions>> {
    Ok(Json(cart::shipping_options(&state.shop, &store.merchant_id, &id).await?))
}

/// Selects one of the offered shipping options.
#[utoipa::path(put, path = "/carts/{id}/shipping-option", tag = "carts", security(("bearer" = [])),
    request_body = ShippingChoice,
    responses((status = 200, body = Cart), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, description = "`unknown_shipping_option`", body = Problem)))]
async fn select_shipping(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ShippingChoice>,
) -> Result<Json<Cart>> {
    Ok(Json(cart::select_shipping(&state.shop, &store.merchant_id, &id, req).await?))
}

/// Completes the cart: reserves stock, takes payment through the named
/// provider and places the order. Send an `Idempotency-Key`: a retry with
/// the same key gets the same answer and never a second charge.
#[utoipa::path(post, path = "/carts/{id}/complete", tag = "carts", security(("bearer" = [])),
    request_body = CompleteRequest,
    responses((status = 201, body = PlacedOrder), (status = 200, description = "`requires_action`", body = ActionRequired),
        (status = 402, description = "`payment_declined`", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`out_of_stock`, `cart_not_open`, `cart_changed`", body = Problem),
        (status = 422, description = "missing email, address or shipping option; `invalid_discount_code`", body = Problem),
        (status = 502, description = "`plugin_failed`", body = Problem)))]
async fn complete(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    retried: Option<axum::Extension<Retried>>,
    ApiJson(req): ApiJson<CompleteRequest>,
) -> Result<Response> {
    let retried = retried.is_some();
    Ok(match checkout::complete(&state.shop, &store.merchant_id, &id, req, retried).await? {
        Completion::Placed(order) => (StatusCode::CREATED, Json(order)).into_response(),
        // Not final: completing again (same key) reads the payment again.
        Completion::RequiresAction(action) => {
            (StatusCode::OK, axum::Extension(Unsettled), Json(action)).into_response()
        }
    })
}
