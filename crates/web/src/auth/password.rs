//! The password page (§3): the first sign-in's change and a change by choice.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::session;

use super::form_error;
use super::input::PasswordForm;
use super::no_auth;
use super::session::PageSession;
use super::templates::PasswordPage;
use crate::PageCall;
use crate::error::{ApiError, PageError};
use crate::input::CsrfForm;
use crate::pages::render;
use crate::templates::UserBar;

pub async fn password_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let must = session::must_change_password(&state.app, &who)
        .await
        .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/account/password"))?;
    let bar = UserBar::for_page(&state, &who);
    Ok(render(&PasswordPage::new(m, bar, must, false, None), &op))
}

pub async fn password_submit(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, form): CsrfForm<PasswordForm>,
) -> Result<Response, ApiError> {
    let desk = state.app.sign_in_desk().ok_or_else(|| no_auth(&op))?;
    let outcome = desk
        .change_password(&who, form.current, form.new, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    let bar = UserBar::for_page(&state, &who);
    Ok(match outcome {
        Ok(()) => render(&PasswordPage::new(m, bar, false, true, None), &op),
        Err(f) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&PasswordPage::new(m, bar, true, false, form_error(f)), &op),
        )
            .into_response(),
    })
}
