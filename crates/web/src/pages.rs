//! What every page handler shares: rendering a template, and the idle-lock delay the page's
//! script enforces.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub(crate) use crate::home::stylesheet;
use crate::{AppState, OperationId};

pub fn render(page: &impl Template, op: &OperationId) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(operation_id = %op.0, error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// The idle-lock delay the page enforces (§3).
pub fn lock_after_ms(state: &AppState) -> i64 {
    state.app.config().session.screen_lock_minutes as i64 * 60_000
}
