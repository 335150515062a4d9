//! The routes of signing in and the session.

use axum::Router;
use axum::routing::{get, post};

use super::{lock, mail, password, sign_in};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    let routes = Router::new()
        .route("/login", get(sign_in::login_form).post(sign_in::login))
        .route("/auth/nonce", post(sign_in::nonce))
        .route("/session/lock", post(lock::lock))
        .route("/session/locked", get(lock::locked_page))
        .route("/session/unlock", post(lock::unlock))
        .route("/logout", post(lock::logout))
        .route(
            "/account/password",
            get(password::password_form).post(password::password_submit),
        )
        .route(
            "/account/mail",
            get(mail::mail_form).post(mail::mail_submit),
        )
        .route("/api/v1/me/mail", get(mail::mail_get).put(mail::mail_put))
        .route("/api/v1/session/lock", post(lock::api_lock));
    #[cfg(feature = "demo")]
    let routes = routes.route("/demo/card/sign", post(super::demo_signer::demo_sign));
    routes
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(lock::api_lock))]
pub struct ApiDoc;
