//! Customers: registration, login sessions and wishlists on the storefront
//! API; the customer list on the admin API.
//!
//! A logged-in customer sends the merchant's publishable key as usual plus
//! `X-Customer-Token: <token>` from login; [`CustomerSession`] checks both.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Storefront};
use super::error::{ApiError, Problem, Result};
use super::json::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::commerce::customers::{
    self, Credentials, Customer, NewCustomer, ResetConfirmation, ResetRequest, Session, WishlistItem,
};
use crate::commerce::{Page, Paged};

/// The header carrying a customer's session token.
pub const TOKEN_HEADER: &str = "x-customer-token";

pub fn store_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_customer))
        .routes(routes!(log_in_customer))
        .routes(routes!(log_out_customer))
        .routes(routes!(request_password_reset))
        .routes(routes!(reset_password))
        .routes(routes!(get_current_customer))
        .routes(routes!(list_wishlist, add_to_wishlist))
        .routes(routes!(remove_from_wishlist))
}

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_customers)).routes(routes!(get_customer))
}

/// A logged-in customer: a valid publishable key and a live
/// `X-Customer-Token` issued by the same merchant. A missing, unknown,
/// expired or revoked token is 401.
pub struct CustomerSession {
    pub merchant_id: String,
    pub customer_id: String,
    session_id: String,
}

impl FromRequestParts<AppState> for CustomerSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Storefront { merchant_id } = Storefront::from_request_parts(parts, state).await?;
        let s = session(parts, state, &merchant_id).await?.ok_or_else(|| {
            ApiError::unauthorized("send X-Customer-Token: <token> from POST /v1/store/customers/login")
        })?;
        Ok(CustomerSession { merchant_id, customer_id: s.customer_id, session_id: s.session_id })
    }
}

/// The logged-in customer's id when the request carries `X-Customer-Token`
/// (a guest otherwise); a token that is sent must be valid.
pub struct OptionalCustomer(pub Option<String>);

impl FromRequestParts<AppState> for OptionalCustomer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Storefront { merchant_id } = Storefront::from_request_parts(parts, state).await?;
        Ok(OptionalCustomer(session(parts, state, &merchant_id).await?.map(|s| s.customer_id)))
    }
}

/// The session `X-Customer-Token` names; `None` when none is sent.
async fn session(
    parts: &Parts,
    state: &AppState,
    merchant_id: &str,
) -> Result<Option<customers::SessionRef>, ApiError> {
    let token = parts.headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()).map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Ok(None) };
    match customers::authenticate(&state.shop.db, merchant_id, token).await? {
        Some(s) => Ok(Some(s)),
        None => Err(ApiError::unauthorized("unknown, expired or revoked customer token")),
    }
}

/// Registers a customer at this merchant.
#[utoipa::path(post, path = "/customers", tag = "store", security(("bearer" = [])),
    request_body = NewCustomer,
    responses((status = 201, body = Customer), (status = 409, description = "`email_taken`", body = Problem),
        (status = 422, body = Problem)))]
async fn register_customer(
    store: Storefront,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewCustomer>,
) -> Result<(StatusCode, Json<Customer>)> {
    let customer = customers::register(&state.shop.db, &store.merchant_id, req).await?;
    Ok((StatusCode::CREATED, Json(customer)))
}

/// Logs a customer in: the token goes in `X-Customer-Token` on later
/// requests, until `expires_at` or logout.
#[utoipa::path(post, path = "/customers/login", tag = "store", security(("bearer" = [])),
    request_body = Credentials,
    responses((status = 200, body = Session),
        (status = 401, description = "`invalid_credentials`: unknown email or wrong password", body = Problem),
        (status = 429, description = "`rate_limited`: too many failed logins for this account or address", body = Problem)))]
async fn log_in_customer(
    store: Storefront,
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(req): ApiJson<Credentials>,
) -> Result<Json<Session>> {
    // Throttled per account (this shop, this e-mail) and per address.
    let account = format!("{} {}", store.merchant_id, req.email.trim().to_lowercase());
    let address = super::limits::client_address(&extensions);
    state.limits.login_allowed(&account, address)?;
    match customers::login(&state.shop.db, &store.merchant_id, req).await? {
        Some(session) => {
            state.limits.login_succeeded(&account);
            Ok(Json(session))
        }
        None => {
            state.limits.login_failed(&account, address);
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "the email or password is wrong",
            ))
        }
    }
}

/// Sends a password-reset e-mail to the customer with this address. The
/// answer is 202 whether or not anybody has it; as many per account and
/// per address in 15 minutes as failed logins, then 429.
#[utoipa::path(post, path = "/customers/password-reset", tag = "store", security(("bearer" = [])),
    request_body = ResetRequest,
    responses((status = 202), (status = 422, body = Problem),
        (status = 429, description = "`rate_limited`: too many resets asked for this account or address", body = Problem)))]
async fn request_password_reset(
    store: Storefront,
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<StatusCode> {
    let account = format!("{} {}", store.merchant_id, req.email.trim().to_lowercase());
    state.limits.password_reset_allowed(&account, super::limits::client_address(&extensions))?;
    customers::request_password_reset(&state.shop, &store.merchant_id, req).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Chooses a new password with the e-mailed token (once, within the hour);
/// every session of the customer ends.
#[utoipa::path(post, path = "/customers/password-reset/confirm", tag = "store", security(("bearer" = [])),
    request_body = ResetConfirmation,
    responses((status = 204), (status = 422, body = Problem)))]
async fn reset_password(
    store: Storefront,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ResetConfirmation>,
) -> Result<StatusCode> {
    customers::reset_password(&state.shop.db, &store.merchant_id, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends the session of the token sent.
#[utoipa::path(post, path = "/customers/logout", tag = "store", security(("bearer" = [])), params(TokenHeader),
    responses((status = 204), (status = 401, body = Problem)))]
async fn log_out_customer(session: CustomerSession, State(state): State<AppState>) -> Result<StatusCode> {
    customers::logout(&state.shop.db, &session.merchant_id, &session.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in customer.
#[utoipa::path(get, path = "/customers/me", tag = "store", security(("bearer" = [])), params(TokenHeader),
    responses((status = 200, body = Customer), (status = 401, body = Problem)))]
async fn get_current_customer(
    session: CustomerSession,
    State(state): State<AppState>,
) -> Result<Json<Customer>> {
    Ok(Json(customers::get(&state.shop.db, &session.merchant_id, &session.customer_id).await?))
}

/// The logged-in customer's wishlist, most recently added first; products
/// no longer on sale are left out.
#[utoipa::path(get, path = "/customers/me/wishlist", tag = "store", security(("bearer" = [])),
    params(TokenHeader, PageQuery),
    responses((status = 200, body = inline(Paged<WishlistItem>)), (status = 401, body = Problem)))]
async fn list_wishlist(
    session: CustomerSession,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<WishlistItem>>> {
    Ok(Json(
        customers::wishlist(&state.shop.db, &session.merchant_id, &session.customer_id, &q.page()?).await?,
    ))
}

/// A product to put on the wishlist.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WishlistAdd {
    product_id: String,
}

/// Adds an active product to the wishlist: 201 when new, 200 with the
/// existing item when it is there already.
#[utoipa::path(post, path = "/customers/me/wishlist", tag = "store", security(("bearer" = [])),
    params(TokenHeader), request_body = WishlistAdd,
    responses((status = 201, body = WishlistItem), (status = 200, body = WishlistItem),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn add_to_wishlist(
    session: CustomerSession,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<WishlistAdd>,
) -> Result<(StatusCode, Json<WishlistItem>)> {
    let (item, created) = customers::add_to_wishlist(
        &state.shop.db,
        &session.merchant_id,
        &session.customer_id,
        &req.product_id,
    )
    .await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(item)))
}

/// Removes a product from the wishlist.
#[utoipa::path(delete, path = "/customers/me/wishlist/{product_id}", tag = "store", security(("bearer" = [])),
    params(TokenHeader, ("product_id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn remove_from_wishlist(
    session: CustomerSession,
    State(state): State<AppState>,
    ApiPath(product_id): ApiPath<String>,
) -> Result<StatusCode> {
    customers::remove_from_wishlist(&state.shop.db, &session.merchant_id, &session.customer_id, &product_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customer session header, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(super) struct TokenHeader {
    /// The `token` from `POST /v1/store/customers/login`.
    #[param(rename = "X-Customer-Token")]
    x_customer_token: String,
}

/// Admin customer search.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CustomerQuery {
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Only customers whose email starts with this (case-insensitive).
    q: Option<String>,
}

/// This merchant's customers, oldest first.
#[utoipa::path(get, path = "/customers", tag = "admin", security(("bearer" = [])), params(CustomerQuery),
    responses((status = 200, body = inline(Paged<Customer>))))]
async fn list_customers(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CustomerQuery>,
) -> Result<Json<Paged<Customer>>> {
    let page = Page::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(customers::list(&state.shop.db, &admin.merchant_id, q.q.as_deref(), &page).await?))
}

/// One customer of this merchant.
#[utoipa::path(get, path = "/customers/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Customer), (status = 404, body = Problem)))]
async fn get_customer(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Customer>> {
    Ok(Json(customers::get(&state.shop.db, &admin.merchant_id, &id).await?))
}
