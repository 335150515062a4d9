//! The enrolment area's JSON API: issuing a code (`POST /api/v1/enrolment/codes`) and the
//! revocation lists in force (`GET /api/v1/enrolment/crls`), for the administrator's desk.
//! They refuse what the pages refuse, with the same stable codes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::enrolment::{codes, crl};
use querywarden_domain::enrolment::{CodePurpose, EnrolmentRefusal};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::session::ApiSession;
use crate::{AppState, OperationId};

/// `POST /api/v1/enrolment/codes`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueCodeRequest {
    pub account: String,
    pub purpose: String,
    #[serde(default)]
    pub reason: String,
}

fn refused(r: EnrolmentRefusal, op: &OperationId) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        r.code(),
        r.to_string(),
        r.message_en(),
        &op.0,
    )
}

async fn desk(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    op: &OperationId,
) -> Result<querywarden_domain::permission::AdministratorDesk, ApiError> {
    querywarden_app::permission::administrator_desk(
        state.app.store(),
        &state.app.config().permission,
        who.person.id,
        &crate::app_op::now_op(op),
    )
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            e.code(),
            e.to_string(),
            "only the permission administrator's desk may do this",
            &op.0,
        )
    })
}

pub async fn issue_code(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    body: Result<Json<IssueCodeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let desk = desk(&state, &who, &op).await?;
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
    let Some(purpose) = CodePurpose::parse_code(req.purpose.trim()) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "enrolment.purpose",
            "用途須為開通（enrol）或重設（reset）",
            "purpose must be enrol or reset",
            &op.0,
        ));
    };
    let issued = codes::issue_code(
        state.app.store(),
        &desk,
        &state.app.enrolment_settings(),
        &req.account,
        purpose,
        &req.reason,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| ApiError::internal(&e, &op.0))?
    .map_err(|r| refused(r, &op))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "account": issued.account.as_str(),
            "purpose": issued.purpose.code(),
            // Shown once: the server keeps only its digest.
            "code": issued.code.display_once(),
            "expires_at": issued.expires_at.to_string(),
        })),
    )
        .into_response())
}

pub async fn crls(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Value>, ApiError> {
    desk(&state, &who, &op).await?;
    let now = Timestamp::now();
    let lists: Vec<Value> = state
        .app
        .auth()
        .map(|ctx| crl::status(ctx, now))
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            json!({
                "issuer": c.issuer,
                "this_update": c.this_update.to_string(),
                "next_update": c.next_update.map(|t| t.to_string()),
                "age_seconds": c.age_seconds,
                "stale": c.stale,
                "revoked": c.revoked,
            })
        })
        .collect();
    let fetches: Vec<Value> = state
        .app
        .store()
        .crl_fetches()
        .await
        .map_err(|e| ApiError::internal(&e.into(), &op.0))?
        .into_iter()
        .map(|f| {
            json!({
                "url": f.url,
                "attempted_at": f.attempted_at.to_string(),
                "succeeded_at": f.succeeded_at.map(|t| t.to_string()),
                "error": f.error,
            })
        })
        .collect();
    Ok(Json(json!({ "lists": lists, "fetches": fetches })))
}

/// The OpenAPI operation of one of this module's routes (listed in `API_ROUTES`).
pub fn openapi_operation(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("post", "/api/v1/enrolment/codes") => Some(json!({
            "summary": "核發開通碼 issue a one-time enrolment or reset code: {account, purpose: enrol|reset, reason} (needs X-CSRF-Token; the code is in the answer once)",
            "responses": {
                "201": { "description": "issued" },
                "403": { "description": "not the administrator's desk" },
                "422": { "description": "refused, with the rule" } } })),
        ("get", "/api/v1/enrolment/crls") => Some(json!({
            "summary": "憑證廢止清冊 the revocation lists in force (age, next update, stale) and the last fetches",
            "responses": { "200": { "description": "lists" }, "403": { "description": "not the administrator's desk" } } })),
        _ => None,
    }
}
