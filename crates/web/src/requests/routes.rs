//! The Form 3 area's routes: the `/requests…` pages and their JSON API.

use axum::Router;
use axum::routing::{get, post};

use super::{api, pages, record, run_all};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/requests",
            get(pages::requests).post(pages::request_submit),
        )
        .route("/requests/new", get(pages::request_form))
        .route("/requests/{no}", get(record::request_page))
        .route("/requests/{no}/accept", post(record::request_accept))
        .route("/requests/{no}/reject", post(record::request_reject))
        .route("/requests/{no}/deliver", post(record::request_deliver))
        .route("/requests/{no}/consent", post(record::request_consent))
        .route("/requests/{no}/sign", post(record::request_sign))
        .route("/requests/{no}/execute", post(run_all::run_all_page))
        .route(
            "/requests/{no}/subjects/{position}/close",
            post(record::request_close_subject),
        )
        .route(
            "/api/v1/requests",
            get(api::requests).post(api::file_request),
        )
        .route("/api/v1/requests/{no}", get(api::request_view))
        .route("/api/v1/requests/{no}/review", post(api::review))
        .route("/api/v1/requests/{no}/delivery", post(api::deliver))
        .route("/api/v1/requests/{no}/consent", post(api::consent))
        .route("/api/v1/requests/{no}/sign", post(api::sign))
        .route(
            "/api/v1/requests/{no}/execution",
            post(run_all::run_all_api),
        )
        .route(
            "/api/v1/requests/{no}/subjects/{position}/close",
            post(api::close_subject),
        )
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api::requests,
    api::file_request,
    api::request_view,
    api::consent,
    api::deliver,
    api::review,
    api::sign,
    api::close_subject,
    run_all::run_all_api
))]
pub struct ApiDoc;
