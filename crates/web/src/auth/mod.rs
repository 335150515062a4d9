//! Signing in and staying signed in (§3): the sign-in page with its nonce, the screen lock
//! and unlock, sign-out, the password page, the person's own e-mail notice setting, the DEMO
//! card signer, and the session extractors every other area uses ([`session`]).
//!
//! Security-sensitive: the session cookie is made and cleared here only; every rule (the
//! card, the password, the lockout, the lock) is the app's (`querywarden_app::session`).

#[cfg(feature = "demo")]
mod demo_signer;
pub(crate) mod input;
mod lock;
pub mod mail;
mod password;
mod routes;
pub mod session;
pub(crate) mod sign_in;
mod templates;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::auth::AuthFailure;
use querywarden_app::config::CertificateMode;

pub use routes::{ApiDoc, routes};

use crate::error::ApiError;
use crate::templates::FormError;
use crate::{AppState, OperationId};

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

/// No trust anchors are configured: nobody can sign in.
fn no_auth(op: &OperationId) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "auth.not_configured",
        "尚未設定自然人憑證信任錨，無法登入",
        "no certificate trust anchors are configured; nobody can sign in",
        &op.0,
    )
}

/// `res` setting each cookie of `cookies` (values made by [`session::set_cookie`]).
fn with_cookies(mut res: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// A redirect to `to` that ends the browser's session cookie.
fn redirect_signed_out(state: &AppState, to: &str) -> Response {
    with_cookies(
        Redirect::to(to).into_response(),
        &[session::clear_cookie(state, session::SESSION_COOKIE)],
    )
}
