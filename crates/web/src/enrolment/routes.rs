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
