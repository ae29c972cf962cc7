//! Storefront recommendations: what the merchant's recommenders suggest
//! next to a product.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Storefront;
use super::error::{Problem, Result};
use super::json::{ApiPath, ApiQuery};
use crate::commerce::recommendations::{self, Recommended};

pub fn store_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(product_recommendations))
}

/// Recommendation options.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RecommendationQuery {
    /// 1 to 50, default 8.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
    /// A cart of this shop: its products are not recommended again.
    cart_id: Option<String>,
}

/// Recommended products, best first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct RecommendationList {
    data: Vec<Recommended>,
}

/// Products to show with an active product, from the merchant's
/// recommenders in binding order; only products that can be bought now.
/// A failing recommender is left out, so the list may be empty.
#[utoipa::path(get, path = "/products/{id}/recommendations", tag = "storefront", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id or handle"), RecommendationQuery),
    responses((status = 200, body = RecommendationList), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn product_recommendations(
    store: Storefront,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RecommendationQuery>,
) -> Result<Json<RecommendationList>> {
    let limit = recommendations::parse_limit(q.limit)?;
    let data =
        recommendations::for_product(&state.shop, &store.merchant_id, &id, q.cart_id.as_deref(), limit)
            .await?;
    Ok(Json(RecommendationList { data }))
}
