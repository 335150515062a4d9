//! Liveness and readiness, for the operator's monitoring.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use querywarden_app::enrolment::crl::CrlStatus;
use querywarden_app::public_reads;
use serde_json::{Value, json};

use crate::AppState;

/// Liveness: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: database reachable, migrations current, file writable.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let r = state.app.readiness().await;
    let status = if r.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if r.ready() { "ready" } else { "not_ready" },
            "database_reachable": r.reachable,
            "migrations_current": r.migrations_current,
            "writable": r.writable,
            // §3: each revocation list in force, its age and next update.
            "crls": crl_status(&state),
        })),
    )
        .into_response()
}

fn crl_status(state: &AppState) -> Vec<Value> {
    public_reads::revocation_lists(&state.app, jiff::Timestamp::now())
        .iter()
        .map(crl_json)
        .collect()
}

/// §3: a revocation list in force, as readiness and the enrolment desk both show it: its
/// issuer, when it was issued, its age and next update, and whether it is stale.
pub(crate) fn crl_json(c: &CrlStatus) -> Value {
    json!({
        "issuer": c.issuer,
        "this_update": c.this_update.to_string(),
        "next_update": c.next_update.map(|t| t.to_string()),
        "age_seconds": c.age_seconds,
        "stale": c.stale,
    })
}
