//! Routes of this oversight sub-area: pages under `/oversight`, API under
//! `/api/v1/oversight` (each API route is also listed in `crate::API_ROUTES`).

use axum::Router;
use axum::routing::{get, post};

use super::{api, pages};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oversight", get(pages::overview))
        .route("/oversight/unit", get(pages::unit))
        .route("/oversight/notices/{id}/read", post(pages::notice_read))
        .route("/oversight/reviews/{id}", get(pages::review_page))
        .route("/oversight/reviews/{id}/close", post(pages::close))
        .route("/oversight/findings/{id}/conclude", post(pages::conclude))
        .route(
            "/oversight/violations",
            get(pages::violations).post(pages::file),
        )
        .route("/oversight/violations/{id}", get(pages::violation_page))
        .route("/oversight/violations/{id}/report", post(pages::report))
        .route("/oversight/violations/{id}/decision", post(pages::decide))
        .route("/api/v1/oversight/reviews", get(api::reviews))
        .route("/api/v1/oversight/reviews/{id}", get(api::review_one))
        .route("/api/v1/oversight/reviews/{id}/close", post(api::close))
        .route(
            "/api/v1/oversight/findings/{id}/conclusion",
            post(api::conclude),
        )
        .route("/api/v1/oversight/reconciliation", post(api::reconcile))
        .route(
            "/api/v1/oversight/violations",
            get(api::violations).post(api::file),
        )
        .route("/api/v1/oversight/violations/{id}", get(api::violation_one))
        .route(
            "/api/v1/oversight/violations/{id}/report",
            post(api::report),
        )
        .route(
            "/api/v1/oversight/violations/{id}/decision",
            post(api::decide),
        )
        .route("/api/v1/oversight/dashboard", get(api::dashboard_data))
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api::dashboard_data,
    api::conclude,
    api::reconcile,
    api::reviews,
    api::review_one,
    api::close,
    api::violations,
    api::file,
    api::violation_one,
    api::decide,
    api::report
))]
pub struct ApiDoc;
