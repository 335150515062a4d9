//! The routes of the administrator's and the auditor's pages.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use super::{audit_trail, bind_card, calendar, catalogue, usage_log};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/bind-card",
            get(bind_card::bind_form).post(bind_card::bind_upload),
        )
        .route("/audit", get(audit_trail::audit_form))
        .route("/audit/search", post(audit_trail::audit_search))
        .route("/audit/export", post(audit_trail::audit_export))
        .route(
            "/admin/calendar",
            get(calendar::calendar_form).post(calendar::calendar_upload),
        )
        .route(
            "/admin/usage-log",
            get(usage_log::usage_form)
                .post(usage_log::usage_upload)
                .layer(DefaultBodyLimit::max(usage_log::BODY_LIMIT)),
        )
        .route(
            "/admin/catalogue",
            get(catalogue::page).post(catalogue::submit),
        )
        .route("/api/v1/catalogue/changes", post(catalogue::api_change))
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(catalogue::api_change))]
pub struct ApiDoc;
