//! The screen lock (§3): "lock now", the idle timer's call, the lock page, unlocking with the
//! password, and signing out (which a locked session may do too).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::auth::SignedIn;
use querywarden_app::session;

use super::input::{LockForm, LockedQuery, UnlockForm};
use super::session::{ApiSession, LockedOrNot, csrf_refused, locked_url, return_path};
use super::templates::LockedPage;
use super::{form_error, no_auth, redirect_signed_out};
use crate::error::ApiError;
use crate::pages::render;
use crate::{AppState, Lang, OperationId, PageCall};

/// The form's CSRF token matches the session's, or the refusal is recorded.
async fn csrf_checked(
    state: &AppState,
    who: &SignedIn,
    csrf: &str,
    op: &OperationId,
) -> Result<(), ApiError> {
    if who.csrf_ok(csrf) {
        Ok(())
    } else {
        Err(csrf_refused(state, who, &op.0).await)
    }
}

/// "Lock now" (the button) — works from any page of a signed-in person.
pub async fn lock(
    State(state): State<AppState>,
    op: OperationId,
    LockedOrNot(who): LockedOrNot,
    Form(form): Form<LockForm>,
) -> Result<Response, ApiError> {
    csrf_checked(&state, &who, &form.csrf, &op).await?;
    session::lock(&state.app, &who, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(Redirect::to(&locked_url(&form.return_to)).into_response())
}

/// 鎖定螢幕 lock the session (needs X-CSRF-Token)
///
/// The page's idle timer calls this before it shows the lock screen.
#[utoipa::path(post, path = "/api/v1/session/lock",
    responses((status = 204, description = "done; no body")))]
pub async fn api_lock(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Response, ApiError> {
    session::lock(&state.app, &who, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn locked_page(
    Lang(m): Lang,
    op: OperationId,
    LockedOrNot(who): LockedOrNot,
    Query(q): Query<LockedQuery>,
) -> Response {
    render(
        &LockedPage::new(m, who.session.csrf_token.clone(), None).returning_to(&q.return_to),
        &op,
    )
}

pub async fn unlock(
    PageCall { state, m, op }: PageCall,
    LockedOrNot(who): LockedOrNot,
    Form(form): Form<UnlockForm>,
) -> Result<Response, ApiError> {
    csrf_checked(&state, &who, &form.csrf, &op).await?;
    let desk = state.app.sign_in_desk().ok_or_else(|| no_auth(&op))?;
    let outcome = desk
        .unlock(&who, form.password, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(match outcome {
        Ok(()) => Redirect::to(return_path(&form.return_to).unwrap_or("/")).into_response(),
        // §3: too many wrong passwords lock the account, and the session with it.
        Err(f) if f.code == "login.account_locked" => redirect_signed_out(&state, "/login"),
        Err(f) => (
            StatusCode::UNAUTHORIZED,
            render(
                &LockedPage::new(m, who.session.csrf_token.clone(), form_error(f))
                    .returning_to(&form.return_to),
                &op,
            ),
        )
            .into_response(),
    })
}

pub async fn logout(
    State(state): State<AppState>,
    op: OperationId,
    LockedOrNot(who): LockedOrNot,
    Form(form): Form<LockForm>,
) -> Result<Response, ApiError> {
    csrf_checked(&state, &who, &form.csrf, &op).await?;
    session::sign_out(&state.app, &who, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(redirect_signed_out(&state, "/login"))
}
