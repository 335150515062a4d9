//! Sign-in, screen lock, sign-out and password pages (§3), and the DEMO card signer.
//! Sign-in takes the card either as a signed nonce or, in mutual-TLS mode, from the TLS
//! connection ([`crate::tls::PeerCertificates`]).

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use jiff::Timestamp;
use querywarden_app::auth::{self, AuthFailure, LoginRequest, MutualTlsLoginRequest};
use querywarden_app::config::CertificateMode;
use querywarden_pki::SignatureFormat;
use serde::Deserialize;
use serde_json::json;

use crate::error::{ApiError, PageError};
use crate::pages::{lock_after_ms, render};
use crate::session::{
    ApiSession, FLOW_COOKIE, LockedOrNot, PageSession, SESSION_COOKIE, clear_cookie, cookie,
    csrf_refused, set_cookie,
};
use crate::templates::{FormError, LockedPage, LoginPage, PasswordPage, UserBar};
use crate::tls::PeerCertificates;
use crate::{AppState, Lang, OperationId};

/// Whether the card comes with the TLS connection rather than as a signed nonce.
fn mutual_tls(state: &AppState) -> bool {
    state.app.config().auth.certificate_mode == CertificateMode::MutualTls
}

fn form_error(f: AuthFailure) -> Option<FormError> {
    Some(FormError {
        code: f.code,
        message: f.message,
    })
}

fn no_auth(op: &OperationId) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "auth.not_configured",
        "尚未設定自然人憑證信任錨，無法登入",
        "no certificate trust anchors are configured; nobody can sign in",
        &op.0,
    )
}

#[derive(Deserialize)]
pub struct LoginQuery {
    notice: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
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
    render(
        &LoginPage::new(m, state.app.config().demo, String::new(), notice)
            .with_mutual_tls(mutual_tls(&state)),
        &op,
    )
}

/// Issues a nonce to this browser's login flow (a cookie that ties the nonce to it).
pub async fn nonce(
    State(state): State<AppState>,
    op: OperationId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = state.app.auth().ok_or_else(|| no_auth(&op))?;
    let (flow, set) = match cookie(&headers, FLOW_COOKIE).filter(|f| f.len() >= 32) {
        Some(f) => (f, None),
        None => {
            let f = auth::random_token().map_err(|e| ApiError::internal(&e, &op.0))?;
            let c = set_cookie(&state, FLOW_COOKIE, &f, 600);
            (f, Some(c))
        }
    };
    let (nonce, expires) = auth::issue_nonce(state.app.store(), ctx, &flow, Timestamp::now())
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    let body = Json(json!({ "nonce": nonce, "expires_at": expires.to_string() }));
    Ok(match set {
        Some(c) => ([(header::SET_COOKIE, c)], body).into_response(),
        None => body.into_response(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    certificate: String,
    #[serde(default)]
    format: String,
}

pub async fn login(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    peer: PeerCertificates,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let page_error =
        |status: StatusCode, account: String, f: AuthFailure, m: crate::i18n::Messages| {
            let page = LoginPage::new(m, state.app.config().demo, account, form_error(f))
                .with_mutual_tls(mutual_tls(&state));
            (status, render(&page, &op)).into_response()
        };
    let Some(ctx) = state.app.auth() else {
        let f = AuthFailure::new("auth.not_configured", "尚未設定自然人憑證信任錨，無法登入");
        return Ok(page_error(
            StatusCode::SERVICE_UNAVAILABLE,
            form.account,
            f,
            m,
        ));
    };
    let account = form.account.chars().take(64).collect::<String>();
    let outcome = if mutual_tls(&state) {
        // The card is the one this connection's handshake proved; nonce fields are ignored.
        let req = MutualTlsLoginRequest {
            account: account.clone(),
            password: form.password,
            chain_der: peer.0.as_ref().clone(),
            client_addr: Some(addr.ip().to_string()),
            request_id: op.0.clone(),
        };
        auth::login_with_client_certificate(state.app.store(), ctx, req, Timestamp::now()).await
    } else {
        let format = match form.format.as_str() {
            "PKCS7" | "pkcs7" => SignatureFormat::Pkcs7,
            "PKCS1" | "pkcs1" => SignatureFormat::Pkcs1,
            _ => {
                let f = auth::refuse_malformed_login(
                    state.app.store(),
                    &account,
                    Some(addr.ip().to_string()),
                    Timestamp::now(),
                    &op.0,
                )
                .await
                .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/login"))?;
                return Ok(page_error(StatusCode::BAD_REQUEST, form.account, f, m));
            }
        };
        let req = LoginRequest {
            account: account.clone(),
            password: form.password,
            nonce: form.nonce,
            signature: form.signature,
            certificate: Some(form.certificate),
            format,
            flow_token: cookie(&headers, FLOW_COOKIE).unwrap_or_default(),
            client_addr: Some(addr.ip().to_string()),
            request_id: op.0.clone(),
        };
        auth::login(state.app.store(), ctx, req, Timestamp::now()).await
    };
    let outcome = outcome.map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/login"))?;
    match outcome {
        Ok(session) => {
            // A fresh token every time: whatever session cookie the browser had before is
            // never reused (session fixation).
            let max_age = state.app.config().session.absolute_timeout_hours as i64 * 3600;
            let next = if session.must_change_password {
                "/account/password"
            } else {
                "/"
            };
            let mut res = Redirect::to(next).into_response();
            let h = res.headers_mut();
            if let Ok(v) = set_cookie(&state, SESSION_COOKIE, &session.token, max_age).parse() {
                h.append(header::SET_COOKIE, v);
            }
            if let Ok(v) = clear_cookie(&state, FLOW_COOKIE).parse() {
                h.append(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(f) => {
            let status = match f.code.as_str() {
                "login.account_locked" => StatusCode::LOCKED,
                "rate.limited" => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            Ok(page_error(status, account, f, m))
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
    /// "Lock now": the page the button was pressed on.
    #[serde(default, rename = "return")]
    return_to: String,
}

/// "Lock now" (the button) — works from any page of a signed-in person.
pub async fn lock(
    State(state): State<AppState>,
    op: OperationId,
    LockedOrNot(who): LockedOrNot,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if !who.csrf_ok(&form.csrf) {
        return Err(csrf_refused(&state, &who, &op.0).await);
    }
    auth::lock(state.app.store(), &who, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(Redirect::to(&crate::session::locked_url(&form.return_to)).into_response())
}

/// The page's idle timer calls this before it shows the lock screen.
pub async fn api_lock(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Response, ApiError> {
    auth::lock(state.app.store(), &who, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn locked_page(
    Lang(m): Lang,
    op: OperationId,
    LockedOrNot(who): LockedOrNot,
    axum::extract::Query(q): axum::extract::Query<LockedQuery>,
) -> Response {
    render(
        &LockedPage::new(m, who.session.csrf_token.clone(), None).returning_to(&q.return_to),
        &op,
    )
}

#[derive(Deserialize)]
pub struct UnlockForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    /// The page that was locked (checked by [`crate::session::return_path`]).
    #[serde(default, rename = "return")]
    return_to: String,
}

#[derive(Deserialize)]
pub struct LockedQuery {
    #[serde(default, rename = "return")]
    return_to: String,
}

pub async fn unlock(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    LockedOrNot(who): LockedOrNot,
    Form(form): Form<UnlockForm>,
) -> Result<Response, ApiError> {
    if !who.csrf_ok(&form.csrf) {
        return Err(csrf_refused(&state, &who, &op.0).await);
    }
    let ctx = state.app.auth().ok_or_else(|| no_auth(&op))?;
    let outcome = auth::unlock(
        state.app.store(),
        ctx,
        &who,
        form.password,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(match outcome {
        Ok(()) => Redirect::to(crate::session::return_path(&form.return_to).unwrap_or("/"))
            .into_response(),
        Err(f) if f.code == "login.account_locked" => {
            let mut res = Redirect::to("/login").into_response();
            if let Ok(v) = clear_cookie(&state, SESSION_COOKIE).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
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
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if !who.csrf_ok(&form.csrf) {
        return Err(csrf_refused(&state, &who, &op.0).await);
    }
    auth::logout(state.app.store(), &who, Timestamp::now(), &op.0)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = clear_cookie(&state, SESSION_COOKIE).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

pub async fn password_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let must = state
        .app
        .store()
        .credentials(who.person.id)
        .await
        .map_err(|e| PageError::internal(&e.into(), &op.0, m.clone(), "/account/password"))?
        .is_some_and(|c| c.must_change);
    let bar = UserBar::of(&who, lock_after_ms(&state));
    Ok(render(&PasswordPage::new(m, bar, must, false, None), &op))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

pub async fn password_submit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    if !who.csrf_ok(&form.csrf) {
        return Err(csrf_refused(&state, &who, &op.0).await);
    }
    let Some(ctx) = state.app.auth() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "auth.not_configured",
            "尚未設定自然人憑證信任錨",
            "no trust anchors are configured",
            &op.0,
        ));
    };
    let outcome = auth::change_password(
        state.app.store(),
        ctx,
        &who,
        form.current,
        form.new,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| ApiError::internal(&e, &op.0))?;
    let bar = UserBar::of(&who, lock_after_ms(&state));
    Ok(match outcome {
        Ok(()) => render(&PasswordPage::new(m, bar, false, true, None), &op),
        Err(f) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&PasswordPage::new(m, bar, true, false, form_error(f)), &op),
        )
            .into_response(),
    })
}

#[cfg(feature = "demo")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSignRequest {
    account: String,
    nonce: String,
    /// §3 in the demo: the card signs only for someone who knows the account's password.
    #[serde(default)]
    password: String,
    /// §3 on the enrolment page: instead of a password, which the person does not have yet
    /// (or is replacing), the enrolment code issued for this account.
    #[serde(default)]
    enrolment_code: Option<String>,
}

/// DEMO only: signs a nonce with the demo card of `account`, standing in for the HiPKI card
/// component so that a newcomer can sign in from a plain browser. Refused unless the server
/// runs as `querywarden demo` (loopback only; see the configuration checks).
#[cfg(feature = "demo")]
pub async fn demo_sign(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    body: Result<Json<DemoSignRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    if !state.app.config().demo {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "demo.disabled",
            "正式環境沒有示範簽章器",
            "there is no demo signer in production",
            &op.0,
        ));
    }
    let Json(req) = body.map_err(|r| {
        crate::rejection::json_body_refused(&r, &op.0, || {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "request.malformed",
                "請求格式錯誤",
                "malformed request",
                &op.0,
            )
        })
    })?;
    let Some(ctx) = state.app.auth() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "auth.not_configured",
            "尚未設定自然人憑證信任錨",
            "no trust anchors are configured",
            &op.0,
        ));
    };
    let proof = match req.enrolment_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => auth::DemoCardProof::EnrolmentCode {
            code: code.to_string(),
            settings: state.app.enrolment_settings(),
        },
        _ => auth::DemoCardProof::Password(req.password.clone()),
    };
    let holder = auth::demo_card_holder(
        state.app.store(),
        ctx,
        &req.account,
        proof,
        Some(addr.ip().to_string()),
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| ApiError::internal(&e, &op.0))?;
    if let Err(f) = holder {
        let status = if f.code == "login.account_locked" {
            StatusCode::LOCKED
        } else if f.code == "enrolment.rate_limited" {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::UNAUTHORIZED
        };
        return Err(ApiError::new(
            status,
            f.code,
            f.message,
            "the demo card signs only with the account's password or its enrolment code",
            &op.0,
        ));
    }
    let card = querywarden_app::demo_cards::load_card(&state.app.config().data_dir, &req.account)
        .map_err(|e| ApiError::internal(&e, &op.0))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "demo.no_card",
                "此帳號沒有示範憑證",
                "no demo card for this account",
                &op.0,
            )
        })?;
    use base64::Engine;
    let signature = card
        .sign(req.nonce.as_bytes(), SignatureFormat::Pkcs7)
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.code(),
                e.message_zh(),
                "demo signing failed",
                &op.0,
            )
        })?;
    let certificate = card.certificate_der().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.code(),
            e.message_zh(),
            "demo card unreadable",
            &op.0,
        )
    })?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(Json(json!({
        "signature": b64.encode(signature),
        "certificate": b64.encode(certificate),
        "format": "PKCS7",
    }))
    .into_response())
}
