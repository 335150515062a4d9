//! The routes of the common API.

use axum::Router;
use axum::routing::{get, post};

use super::{catalogue, health, me, metrics, national_id, openapi};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me::me))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/api/v1/service-items", get(catalogue::service_items))
        .route("/api/v1/legal-bases", get(catalogue::legal_bases))
        .route("/api/v1/units", get(catalogue::units))
        .route(
            "/api/v1/national-ids/check",
            post(national_id::check_national_id),
        )
        .route(
            "/api/v1/audit/checkpoint",
            get(catalogue::latest_checkpoint),
        )
}
