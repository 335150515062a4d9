//! Binding a staff member's card to their account (§3), by the permission administrator's
//! desk from the permission rules.

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::administration;
use querywarden_domain::org::Account;
use querywarden_domain::permission::AdministratorDesk;

use super::templates::BindCardPage;
use super::{field_error, forbidden, refused_page};
use crate::auth::session::{PageSession, csrf_refused};
use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::pages::render;
use crate::templates::UserBar;
use crate::upload::read_upload;
use crate::{AppState, OperationId, PageCall};

const PATH: &str = "/admin/bind-card";

/// The administrator's desk, or the answer that refuses: a 403 page when the rules refuse
/// (recorded by them), an error page when the system fails.
async fn desk(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    m: &Messages,
    op: &OperationId,
) -> Result<AdministratorDesk, Response> {
    match administration::card_binding_desk(&state.app, who, Timestamp::now(), &op.0).await {
        Ok(Some(desk)) => Ok(desk),
        Ok(None) => Err(forbidden(m.clone(), op, PATH, "")),
        Err(e) => Err(PageError::internal(&e, &op.0, m.clone(), PATH).into_response()),
    }
}

pub async fn bind_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Response {
    if let Err(refused) = desk(&state, &who, &m, &op).await {
        return refused;
    }
    render(&BindCardPage::new(m, UserBar::for_page(&state, &who)), &op)
}

pub async fn bind_upload(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let desk = match desk(&state, &who, &m, &op).await {
        Ok(d) => d,
        Err(refused) => return Ok(refused),
    };
    let upload = read_upload(&mut multipart, "certificate", usize::MAX)
        .await
        .map_err(|_| crate::upload::malformed(&op.0))?;
    if !who.csrf_ok(&upload.field("csrf")) {
        return Err(csrf_refused(&state, &who, &op.0).await);
    }
    let certificate = upload.file.clone().unwrap_or_default();
    let mut page = BindCardPage::new(m, UserBar::for_page(&state, &who));
    let Ok(account) = Account::parse(&upload.field("account")) else {
        page.error = field_error("binding.unknown_account", "帳號格式錯誤".into());
        return Ok(refused_page(&page, &op));
    };
    let Some(sign_in) = state.app.sign_in_desk() else {
        page.error = field_error("auth.not_configured", "尚未設定自然人憑證信任錨".into());
        return Ok((StatusCode::SERVICE_UNAVAILABLE, render(&page, &op)).into_response());
    };
    let outcome = sign_in
        .bind_card(&desk, &account, &certificate, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(match outcome {
        Ok(b) => {
            let until = page
                .m
                .date(querywarden_domain::roc_date::taipei_date(b.not_after));
            page.result = Some(page.m.with(
                "bind-done",
                &[
                    ("account", account.as_str().to_string()),
                    ("serial", b.serial_hex.clone()),
                    ("until", until),
                ],
            ));
            render(&page, &op)
        }
        Err(f) => {
            page.error = field_error(&f.code, f.message);
            refused_page(&page, &op)
        }
    })
}
