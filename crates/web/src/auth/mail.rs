//! The person's own e-mail setting (帳號設定 › 電子郵件通知): their work address and whether
//! they receive the daily digest of what waits, as a page (`/account/mail`) and as JSON
//! (`/api/v1/me/mail`). Both call `querywarden_app`'s `set_mail_preference`, which refuses
//! the same things with the same codes and audits every change and refusal.
//!
//! Security-sensitive in one way: the address is the person's own personal data; it is shown
//! only to them and never logged.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::mail::{MailPreference, MailRefusal, SetMailPreferenceRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::{ApiSession, PageSession};
use super::templates::MailPage;
use crate::error::{ApiError, PageError};
use crate::input::CsrfForm;
use crate::pages::render;
use crate::templates::{FormError, UserBar};
use crate::{AppState, OperationId, PageCall};

/// `POST /account/mail`, as typed.
#[derive(Deserialize)]
pub struct MailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    digest: String,
}

// The posted forms carry the session's CSRF token, checked by `crate::input::CsrfForm` (§3).
crate::input::carries_csrf!(MailForm);

/// `PUT /api/v1/me/mail`: `{address, digest}` (`digest`: `none` or `daily`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMailBody {
    #[serde(default)]
    address: String,
    digest: String,
}

fn preference_json(p: &MailPreference) -> Value {
    json!({ "address": p.address, "digest": p.digest.code() })
}

fn refused(r: &MailRefusal, op: &str) -> ApiError {
    ApiError::refusal(StatusCode::UNPROCESSABLE_ENTITY, r, op)
}

pub async fn mail_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let current = state
        .app
        .mail_preference(&who.person)
        .await
        .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/account/mail"))?;
    let bar = UserBar::for_page(&state, &who);
    let enabled = state.app.config().mail.is_some();
    Ok(render(
        &MailPage::new(
            m,
            bar,
            enabled,
            current.address,
            current.digest.code(),
            false,
            None,
        ),
        &op,
    ))
}

pub async fn mail_submit(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, form): CsrfForm<MailForm>,
) -> Result<Response, PageError> {
    let request = SetMailPreferenceRequest {
        address: form.address.clone(),
        digest: form.digest.clone(),
    };
    let outcome = state
        .app
        .set_mail_preference(&who.person, &request, Timestamp::now(), &op.0)
        .await
        .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/account/mail"))?;
    let bar = UserBar::for_page(&state, &who);
    let enabled = state.app.config().mail.is_some();
    Ok(match outcome {
        Ok(p) => render(
            &MailPage::new(m, bar, enabled, p.address, p.digest.code(), true, None),
            &op,
        ),
        Err(r) => {
            let error = FormError::refusal(&m, &r);
            // The form keeps what was typed, so the person can correct it.
            let page = MailPage::new(m, bar, enabled, form.address, "", false, Some(error))
                .choosing(&form.digest);
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response()
        }
    })
}

/// `GET /api/v1/me/mail`: my e-mail address and digest choice (我的電子郵件通知設定).
#[utoipa::path(get, path = "/api/v1/me/mail")]
pub async fn mail_get(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let p = state
        .app
        .mail_preference(&who.person)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(Json(preference_json(&p)))
}

/// `PUT /api/v1/me/mail` (needs `X-CSRF-Token`): set my e-mail address and digest choice;
/// refusals `mail.address_invalid`, `mail.address_required`, `mail.choice_invalid`.
#[utoipa::path(put, path = "/api/v1/me/mail", request_body = SetMailBody)]
pub async fn mail_put(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Json(body): Json<SetMailBody>,
) -> Result<Json<Value>, ApiError> {
    let request = SetMailPreferenceRequest {
        address: body.address,
        digest: body.digest,
    };
    let outcome = state
        .app
        .set_mail_preference(&who.person, &request, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    match outcome {
        Ok(p) => Ok(Json(preference_json(&p))),
        Err(r) => Err(refused(&r, &op.0)),
    }
}
