//! The permission administrator's and the ethics office's pages: the audit trail's search
//! and export (§7, §8), the BLI usage-log import (§7), the office calendar (行政程序法 §48),
//! binding cards (§3) and the catalogue (MISSION.md "the catalogue is data").
//!
//! Each page's door is a capability from `querywarden_app::administration`; a person without
//! it gets a 403 page, the refusal already recorded by the app (§9).

mod audit_trail;
mod bind_card;
mod calendar;
pub(crate) mod catalogue;
mod input;
mod routes;
mod templates;
mod usage_log;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::administration::{self, Administrator};
use querywarden_app::auth::SignedIn;

pub use routes::{ApiDoc, routes};

use crate::error::PageError;
use crate::i18n::Messages;
use crate::pages::render;
use crate::templates::{ErrorPage, FormError};
use crate::{AppState, OperationId};

/// The 403 page of `path`, carrying the refusal's `code` when there is one.
fn forbidden(m: Messages, op: &OperationId, path: &str, code: &str) -> Response {
    let message = m.get("forbidden");
    ErrorPage::new(m, path, message, op.0.clone())
        .with_code(code)
        .answer(StatusCode::FORBIDDEN, op)
}

fn field_error(code: &str, message: String) -> Option<FormError> {
    Some(FormError {
        code: code.to_string(),
        message,
    })
}

/// A page shown again with the refusal that sent it back (422).
fn refused_page(page: &impl askama::Template, op: &OperationId) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, render(page, op)).into_response()
}

/// `who` as the permission administrator, or the answer that refuses: the 403 page of
/// `path` (carrying `shown_code`) once the app has recorded the refusal with `refusal_code`.
async fn administrator(
    state: &AppState,
    who: &SignedIn,
    m: &Messages,
    op: &OperationId,
    path: &str,
    refusal_code: &str,
    shown_code: &str,
) -> Result<Administrator, Response> {
    match administration::administrator(&state.app, who, refusal_code, Timestamp::now(), &op.0)
        .await
    {
        Ok(Some(admin)) => Ok(admin),
        Ok(None) => Err(forbidden(m.clone(), op, path, shown_code)),
        Err(e) => Err(PageError::internal(&e, &op.0, m.clone(), path).into_response()),
    }
}
