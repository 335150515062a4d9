//! What every page handler shares: rendering a template, and the idle-lock delay the page's
//! script enforces.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub(crate) use crate::home::stylesheet;
use crate::i18n::Messages;
use crate::templates::ErrorPage;
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

/// The error page of `path` with `status` and the catalogue's sentence `key`.
pub fn error_page(
    m: Messages,
    op: &OperationId,
    path: &str,
    status: StatusCode,
    key: &str,
) -> Response {
    let message = m.get(key);
    ErrorPage::new(m, path, message, op.0.clone()).answer(status, op)
}

/// The not-found page of `path` (404).
pub fn not_found(m: Messages, op: &OperationId, path: &str) -> Response {
    error_page(m, op, path, StatusCode::NOT_FOUND, "error-not-found")
}

/// The forbidden page of `path` (403).
pub fn forbidden(m: Messages, op: &OperationId, path: &str) -> Response {
    error_page(m, op, path, StatusCode::FORBIDDEN, "forbidden")
}

/// How a use case's failure shows on a page: on the form, with the status it deserves, or as
/// a whole page (not found, internal) already rendered.
pub(crate) enum Shown {
    Form(StatusCode, crate::templates::FormError),
    Page(Response),
}

/// The idle-lock delay the page enforces (§3).
pub fn lock_after_ms(state: &AppState) -> i64 {
    state.app.config().session.screen_lock_minutes as i64 * 60_000
}
