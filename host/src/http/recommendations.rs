//! (being written)

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn store_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
