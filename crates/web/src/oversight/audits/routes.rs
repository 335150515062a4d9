//! Routes of unannounced audits: pages under `/oversight/audits…`, the JSON API under
//! `/api/v1/oversight/audits…` (each API route is also listed in `crate::API_ROUTES`).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use super::{MAX_UPLOAD_BODY, api, pages};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oversight/audits", get(pages::list).post(pages::open))
        .route("/oversight/audits/new", get(pages::new_form))
        .route("/oversight/audits/{id}", get(pages::view))
        .route(
            "/oversight/audits/{id}/documents",
            post(pages::attach).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
        )
        .route(
            "/oversight/audits/{id}/documents/submit",
            post(pages::submit),
        )
        .route(
            "/oversight/audits/{id}/documents/{doc}",
            get(pages::document),
        )
        .route("/oversight/audits/{id}/opinions", post(pages::opinion))
        .route("/oversight/audits/{id}/overall", post(pages::overall))
        .route("/oversight/audits/{id}/sign-off", post(pages::sign_off))
        .route("/oversight/audits/{id}/review", post(pages::review))
        .route("/api/v1/oversight/audits", get(api::list).post(api::open))
        .route(
            "/api/v1/oversight/audits/review-queue",
            get(api::review_queue),
        )
        .route("/api/v1/oversight/audits/{id}", get(api::view))
        .route(
            "/api/v1/oversight/audits/{id}/documents",
            post(api::attach).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
        )
        .route(
            "/api/v1/oversight/audits/{id}/documents/submit",
            post(api::submit),
        )
        .route(
            "/api/v1/oversight/audits/{id}/documents/{doc}",
            get(api::document),
        )
        .route("/api/v1/oversight/audits/{id}/opinions", post(api::opinion))
        .route("/api/v1/oversight/audits/{id}/overall", post(api::overall))
        .route(
            "/api/v1/oversight/audits/{id}/sign-off",
            post(api::sign_off),
        )
        .route("/api/v1/oversight/audits/{id}/review", post(api::review))
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api::list,
    api::open,
    api::review_queue,
    api::view,
    api::submit,
    api::document,
    api::opinion,
    api::overall,
    api::review,
    api::sign_off,
    api::attach
))]
pub struct ApiDoc;
