//! The sign-in page (§3): the card either as a signed nonce or, in mutual-TLS mode, from the
//! TLS connection ([`crate::tls::PeerCertificates`]), and the account's password.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use jiff::Timestamp;
use querywarden_app::auth::{self, AuthFailure, LoginRequest, MutualTlsLoginRequest, NewSession};
use querywarden_pki::SignatureFormat;
use serde_json::json;

use super::input::{LoginQuery, SignInForm};
use super::session::{FLOW_COOKIE, SESSION_COOKIE, clear_cookie, cookie, set_cookie};
use super::templates::LoginPage;
use super::{form_error, mutual_tls, no_auth, with_cookies};
use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::pages::render;
use crate::templates::FormError;
use crate::tls::PeerCertificates;
use crate::{AppState, OperationId, PageCall};

/// The sign-in page for `account`, saying why it was refused (or why the person is here).
fn login_page(
    state: &AppState,
    m: Messages,
    account: String,
    error: Option<FormError>,
    op: &OperationId,
) -> Response {
    let page = LoginPage::new(m, state.app.config().demo, account, error)
        .with_mutual_tls(mutual_tls(state));
    render(&page, op)
}

pub async fn login_form(
    PageCall { state, m, op }: PageCall,
    Query(q): Query<LoginQuery>,
) -> Response {
    // Only known notices: the query string must not become a way to put text on our page.
    let notice = match q.notice.as_deref() {
        Some(n @ ("idle" | "absolute" | "ended" | "disabled" | "required")) => Some(FormError {
            code: format!("session.{n}"),
            // The figure comes from the configuration, not the sentence.
            message: m.with(
                &format!("notice-{n}"),
                &[(
                    "hours",
                    state
                        .app
                        .config()
                        .session
                        .absolute_timeout_hours
                        .to_string(),
                )],
            ),
        }),
        _ => None,
    };
    login_page(&state, m, String::new(), notice, &op)
}

/// Issues a nonce to this browser's login flow (a cookie that ties the nonce to it).
pub async fn nonce(
    State(state): State<AppState>,
    op: OperationId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let desk = state.app.sign_in_desk().ok_or_else(|| no_auth(&op))?;
    let (flow, set) = match cookie(&headers, FLOW_COOKIE).filter(|f| f.len() >= 32) {
        Some(f) => (f, None),
        None => {
            let f = auth::random_token().map_err(|e| ApiError::internal(&e, &op.0))?;
            let c = set_cookie(&state, FLOW_COOKIE, &f, 600);
            (f, Some(c))
        }
    };
    let (nonce, expires) = desk
        .issue_nonce(&flow, Timestamp::now())
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    let body = Json(json!({ "nonce": nonce, "expires_at": expires.to_string() }));
    Ok(with_cookies(body.into_response(), set.as_slice()))
}

/// The signature format the form names, if it is one the card component makes.
pub(crate) fn signature_format(format: &str) -> Option<SignatureFormat> {
    match format {
        "PKCS7" | "pkcs7" => Some(SignatureFormat::Pkcs7),
        "PKCS1" | "pkcs1" => Some(SignatureFormat::Pkcs1),
        _ => None,
    }
}

pub async fn login(
    PageCall { state, m, op }: PageCall,
    peer: PeerCertificates,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let refused = |status: StatusCode, account: String, f: AuthFailure, m: Messages| {
        (status, login_page(&state, m, account, form_error(f), &op)).into_response()
    };
    let Some(desk) = state.app.sign_in_desk() else {
        let f = AuthFailure::new("auth.not_configured", "尚未設定自然人憑證信任錨，無法登入");
        return Ok(refused(StatusCode::SERVICE_UNAVAILABLE, form.account, f, m));
    };
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), "/login");
    let account = form.account.chars().take(64).collect::<String>();
    let client_addr = op.client_addr();
    let outcome = if mutual_tls(&state) {
        // The card is the one this connection's handshake proved; nonce fields are ignored.
        let req = MutualTlsLoginRequest {
            account: account.clone(),
            password: form.password,
            chain_der: peer.0.as_ref().clone(),
            client_addr,
            request_id: op.0.clone(),
        };
        desk.sign_in_with_client_certificate(req, Timestamp::now())
            .await
    } else {
        let Some(format) = signature_format(&form.format) else {
            let f = desk
                .refuse_malformed_sign_in(&account, client_addr, Timestamp::now(), &op.0)
                .await
                .map_err(fail)?;
            return Ok(refused(StatusCode::BAD_REQUEST, form.account, f, m));
        };
        let req = LoginRequest {
            account: account.clone(),
            password: form.password,
            nonce: form.nonce,
            signature: form.signature,
            certificate: Some(form.certificate),
            format,
            flow_token: cookie(&headers, FLOW_COOKIE).unwrap_or_default(),
            client_addr,
            request_id: op.0.clone(),
        };
        desk.sign_in(req, Timestamp::now()).await
    };
    match outcome.map_err(fail)? {
        Ok(session) => Ok(signed_in(&state, &session)),
        Err(f) => {
            let status = match f.code.as_str() {
                "login.account_locked" => StatusCode::LOCKED,
                "rate.limited" => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            Ok(refused(status, account, f, m))
        }
    }
}

/// Signed in: the new session's cookie, the login flow's cookie cleared, and on to the home
/// page (or the password page when the password must change first).
fn signed_in(state: &AppState, session: &NewSession) -> Response {
    // A fresh token every time: whatever session cookie the browser had before is never
    // reused (session fixation).
    let max_age = state.app.config().session.absolute_timeout_hours as i64 * 3600;
    let next = if session.must_change_password {
        "/account/password"
    } else {
        "/"
    };
    with_cookies(
        Redirect::to(next).into_response(),
        &[
            set_cookie(state, SESSION_COOKIE, &session.token, max_age),
            clear_cookie(state, FLOW_COOKIE),
        ],
    )
}
