//! DEMO only: the card signer that stands in for the HiPKI card component, so that a
//! newcomer can sign in from a plain browser. It answers only when the server runs as
//! `querywarden demo` (loopback only; see the configuration checks), and signs only for
//! someone who knows the account's password or its enrolment code (§3).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use jiff::Timestamp;
use querywarden_app::auth::DemoCardProof;
use querywarden_pki::SignatureFormat;
use serde_json::json;

use super::input::DemoSignRequest;
use super::no_auth;
use crate::error::ApiError;
use crate::{AppState, OperationId};

/// Signs a nonce with the demo card of `account`.
pub async fn demo_sign(
    State(state): State<AppState>,
    op: OperationId,
    body: Result<Json<DemoSignRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let err = |status, code: &str, zh: &str, en: &str| ApiError::new(status, code, zh, en, &op.0);
    if !state.app.config().demo {
        return Err(err(
            StatusCode::NOT_FOUND,
            "demo.disabled",
            "正式環境沒有示範簽章器",
            "there is no demo signer in production",
        ));
    }
    let Json(req) = body.map_err(|r| {
        crate::rejection::json_body_refused(&r, &op.0, || ApiError::malformed_request(&op.0))
    })?;
    let desk = state.app.sign_in_desk().ok_or_else(|| no_auth(&op))?;
    let proof = match req.enrolment_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => DemoCardProof::EnrolmentCode {
            code: code.to_string(),
            settings: state.app.enrolment_settings(),
        },
        _ => DemoCardProof::Password(req.password.clone()),
    };
    let holder = desk
        .demo_card_holder(
            &req.account,
            proof,
            op.client_addr(),
            Timestamp::now(),
            &op.0,
        )
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    if let Err(f) = holder {
        let status = match f.code.as_str() {
            "login.account_locked" => StatusCode::LOCKED,
            "enrolment.rate_limited" => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::UNAUTHORIZED,
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
            err(
                StatusCode::NOT_FOUND,
                "demo.no_card",
                "此帳號沒有示範憑證",
                "no demo card for this account",
            )
        })?;
    let card_failed = |e: querywarden_pki::PkiError, en: &str| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.code(),
            e.message_zh(),
            en,
            &op.0,
        )
    };
    let signature = card
        .sign(req.nonce.as_bytes(), SignatureFormat::Pkcs7)
        .map_err(|e| card_failed(e, "demo signing failed"))?;
    let certificate = card
        .certificate_der()
        .map_err(|e| card_failed(e, "demo card unreadable"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(Json(json!({
        "signature": b64.encode(signature),
        "certificate": b64.encode(certificate),
        "format": "PKCS7",
    }))
    .into_response())
}
