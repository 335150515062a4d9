//! The national-ID check tool: a number typed by a person is checked against the rules of
//! 身分證字號 and 統一證號. It arrives in the POST body (never the URL) and is not logged;
//! only its masked form is shown back.

use axum::Form;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::bar;
use super::input::CheckIdForm;
use super::templates::{IdCheckPage, IdCheckResult};
use crate::PageCall;
use crate::auth::session::MaybeSession;
use crate::pages::render;

pub async fn id_check_form(
    PageCall { state, m, op }: PageCall,
    MaybeSession(who): MaybeSession,
) -> Response {
    let page = IdCheckPage::new(m, bar(&state, &who), None);
    render(&page, &op)
}

pub async fn id_check(
    PageCall { state, m, op }: PageCall,
    MaybeSession(who): MaybeSession,
    Form(form): Form<CheckIdForm>,
) -> Response {
    let result = match form.national_id() {
        Ok(id) => IdCheckResult {
            valid: true,
            kind: if m.is_zh() {
                id.kind().name_zh().to_string()
            } else {
                id.kind().code().to_string()
            },
            masked: id.masked(),
            reason: String::new(),
            code: String::new(),
        },
        Err(e) => IdCheckResult {
            valid: false,
            kind: String::new(),
            masked: String::new(),
            reason: m.explain(&e),
            code: e.code().to_string(),
        },
    };
    let status = if result.valid {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = IdCheckPage::new(m, bar(&state, &who), Some(result));
    (status, render(&page, &op)).into_response()
}
