//! The enrolment area's routes.

use axum::Router;
use axum::routing::{get, post};

use super::{api, pages};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/enrol", get(pages::enrol_form).post(pages::enrol_submit))
        .route("/admin/enrolment", get(pages::admin_page))
        .route("/admin/enrolment/codes", post(pages::issue_code))
        .route("/admin/enrolment/units", post(pages::units_upload))
        .route("/api/v1/enrolment/codes", post(api::issue_code))
        .route("/api/v1/enrolment/crls", get(api::crls))
        .route(
            "/admin/enrolment/crl",
            // MOICA's complete lists run to a few megabytes.
            post(pages::crl_upload).layer(axum::extract::DefaultBodyLimit::max(17 * 1024 * 1024)),
        )
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(api::issue_code, api::crls))]
pub struct ApiDoc;
