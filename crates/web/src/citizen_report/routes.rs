//! The citizen-report area's routes: pages under `/citizen-requests` and `/withholdings`, API
//! under `/api/v1` (each API route is also listed in `crate::API_ROUTES`).

use axum::Router;
use axum::routing::{get, post};

use super::{api, pages};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/citizen-requests", get(pages::list).post(pages::record))
        .route("/citizen-requests/{no}", get(pages::view))
        .route("/citizen-requests/{no}/extend", post(pages::extend))
        .route("/citizen-requests/{no}/report", post(pages::report))
        .route("/citizen-requests/{no}/answer", post(pages::answer))
        .route(
            "/withholdings",
            get(pages::withholdings).post(pages::withhold),
        )
        .route("/api/v1/citizen-requests", get(api::list).post(api::record))
        .route("/api/v1/citizen-requests/{no}", get(api::one))
        .route("/api/v1/citizen-requests/{no}/extension", post(api::extend))
        .route("/api/v1/citizen-requests/{no}/report", post(api::report))
        .route("/api/v1/citizen-requests/{no}/answer", post(api::answer))
        .route("/api/v1/withholdings", get(api::withholdings))
        .route(
            "/api/v1/registrations/{no}/withholding",
            post(api::withhold),
        )
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api::list,
    api::record,
    api::one,
    api::answer,
    api::extend,
    api::report,
    api::withhold,
    api::withholdings
))]
pub struct ApiDoc;
