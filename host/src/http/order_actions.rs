//! (being written)

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
