//! The catalog API: products and categories in the back office, active
//! products in the storefront.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Storefront};
use super::error::{ApiError, Problem, Result};
use super::json::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::commerce::catalog::{
    self, Category, NewCategory, NewProduct, NewVariant, Product, ProductFilter, ProductList, ProductPatch,
    ProductSort, Status, Variant,
};
use crate::commerce::{self, Page, Paged};

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(get_product, update_product, delete_product))
        .routes(routes!(add_variant))
        .routes(routes!(create_category, list_categories))
        .routes(routes!(get_category))
}

pub fn store_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(store_list_products))
        .routes(routes!(store_get_product))
        .routes(routes!(store_list_categories))
}

/// A commerce error as problem+json; a conflict or mismatch on one field
/// (a message of the form `field: reason`) also names it in `errors`.
fn problem(e: commerce::Error) -> ApiError {
    let field = match &e {
        commerce::Error::Conflict { message, .. } | commerce::Error::Unprocessable { message, .. } => message
            .split_once(": ")
            .filter(|(f, _)| !f.contains(char::is_whitespace))
            .map(|(f, m)| (f.to_owned(), m.to_owned())),
        _ => None,
    };
    let mut err = ApiError::from(e);
    if let Some((f, m)) = field {
        err.errors = Some(BTreeMap::from([(f, m)]));
    }
    err
}

/// Product listing filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ProductQuery {
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Words of the title, description, skus or tags; end the last word
    /// with `*` to match prefixes.
    q: Option<String>,
    /// Admin only: draft, active or archived.
    #[param(inline)]
    status: Option<Status>,
    /// A category id or handle.
    category: Option<String>,
    /// Lowest variant price at least this (minor units).
    #[param(minimum = 0)]
    min_price: Option<i64>,
    /// Some variant priced at most this (minor units).
    #[param(minimum = 0)]
    max_price: Option<i64>,
    /// `relevance` (best match to `q` first; the default with `q`),
    /// `price_asc`, `price_desc` (by the cheapest variant), `newest`, or
    /// `oldest` (the default without `q`). A cursor only continues the order it came from.
    #[param(inline)]
    sort: Option<ProductSort>,
}

impl ProductQuery {
    fn parts(self) -> Result<(ProductFilter, Page)> {
        let page = PageQuery { cursor: self.cursor, limit: self.limit }.page()?;
        let sort =
            self.sort.unwrap_or(if self.q.is_some() { ProductSort::Relevance } else { ProductSort::Oldest });
        let filter = ProductFilter {
            q: self.q,
            status: self.status,
            category: self.category,
            min_price: self.min_price,
            max_price: self.max_price,
            sort,
        };
        Ok((filter, page))
    }
}

/// Creates a product with its variants, all or nothing.
#[utoipa::path(post, path = "/products", tag = "catalog", security(("bearer" = [])),
    request_body = NewProduct,
    responses((status = 201, body = Product), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_product(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewProduct>,
) -> Result<(StatusCode, Json<Product>)> {
    let product = catalog::create_product(&state.shop.db, &admin.merchant_id, req).await.map_err(problem)?;
    Ok((StatusCode::CREATED, Json(product)))
}

/// Products of every status, with facet counts of the whole listing.
#[utoipa::path(get, path = "/products", tag = "catalog", security(("bearer" = [])), params(ProductQuery),
    responses((status = 200, body = ProductList), (status = 422, body = Problem)))]
async fn list_products(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProductQuery>,
) -> Result<Json<ProductList>> {
    let (filter, page) = q.parts()?;
    Ok(Json(catalog::list_products(&state.shop.db, &admin.merchant_id, &filter, &page).await?))
}

/// One product, whatever its status.
#[utoipa::path(get, path = "/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id")),
    responses((status = 200, body = Product), (status = 404, body = Problem)))]
async fn get_product(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Product>> {
    Ok(Json(catalog::get_product(&state.shop.db, &admin.merchant_id, &id).await?))
}

/// Changes a product and its variants' prices, skus, weights and tax codes.
#[utoipa::path(patch, path = "/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id")), request_body = ProductPatch,
    responses((status = 200, body = Product), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update_product(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<ProductPatch>,
) -> Result<Json<Product>> {
    Ok(Json(catalog::update_product(&state.shop.db, &admin.merchant_id, &id, patch).await.map_err(problem)?))
}

/// Deletes a product: it is gone from every listing, and its handle and skus
/// can be used again.
#[utoipa::path(delete, path = "/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_product(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    catalog::delete_product(&state.shop.db, &admin.merchant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a variant; it picks one value of every product option (add a new
/// value to the option first with a PATCH of `options`).
#[utoipa::path(post, path = "/products/{id}/variants", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id")), request_body = NewVariant,
    responses((status = 201, body = Variant), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn add_variant(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewVariant>,
) -> Result<(StatusCode, Json<Variant>)> {
    let variant =
        catalog::add_variant(&state.shop.db, &admin.merchant_id, &id, req).await.map_err(problem)?;
    Ok((StatusCode::CREATED, Json(variant)))
}

/// Creates a category.
#[utoipa::path(post, path = "/categories", tag = "catalog", security(("bearer" = [])),
    request_body = NewCategory,
    responses((status = 201, body = Category), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_category(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewCategory>,
) -> Result<(StatusCode, Json<Category>)> {
    let category =
        catalog::create_category(&state.shop.db, &admin.merchant_id, req).await.map_err(problem)?;
    Ok((StatusCode::CREATED, Json(category)))
}

/// Categories, oldest first.
#[utoipa::path(get, path = "/categories", tag = "catalog", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = inline(Paged<Category>))))]
async fn list_categories(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<Category>>> {
    Ok(Json(catalog::list_categories(&state.shop.db, &admin.merchant_id, &q.page()?).await?))
}

/// The shop's categories, oldest first: a storefront's navigation.
#[utoipa::path(get, path = "/categories", tag = "storefront", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = inline(Paged<Category>))))]
async fn store_list_categories(
    store: Storefront,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<Category>>> {
    Ok(Json(catalog::list_categories(&state.shop.db, &store.merchant_id, &q.page()?).await?))
}

/// One category.
#[utoipa::path(get, path = "/categories/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = String, Path, description = "Category id")),
    responses((status = 200, body = Category), (status = 404, body = Problem)))]
async fn get_category(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Category>> {
    Ok(Json(catalog::get_category(&state.shop.db, &admin.merchant_id, &id).await?))
}

/// Active products (`status` is ignored), sorted as asked, with facet
/// counts (categories, price bands, option values) of the whole listing.
#[utoipa::path(get, path = "/products", tag = "storefront", security(("bearer" = [])), params(ProductQuery),
    responses((status = 200, body = ProductList), (status = 422, body = Problem)))]
async fn store_list_products(
    store: Storefront,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProductQuery>,
) -> Result<Json<ProductList>> {
    let (filter, page) = q.parts()?;
    Ok(Json(catalog::list_active_products(&state.shop.db, &store.merchant_id, filter, &page).await?))
}

/// One active product, by id or handle.
#[utoipa::path(get, path = "/products/{id_or_handle}", tag = "storefront", security(("bearer" = [])),
    params(("id_or_handle" = String, Path, description = "Product id or handle")),
    responses((status = 200, body = Product), (status = 404, body = Problem)))]
async fn store_get_product(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Product>> {
    Ok(Json(catalog::get_active_product(&state.shop.db, &store.merchant_id, &key).await?))
}
