//! The enrolment area's JSON API: issuing a code (`POST /api/v1/enrolment/codes`) and the
//! revocation lists in force (`GET /api/v1/enrolment/crls`), for the administrator's desk.
//! They refuse what the pages refuse, with the same stable codes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_domain::enrolment::{CodePurpose, EnrolmentRefusal};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::session::ApiCall;
use crate::{AppState, OperationId};

/// `POST /api/v1/enrolment/codes`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCodeRequest {
    pub account: String,
    pub purpose: String,
    #[serde(default)]
    pub reason: String,
}

fn refused(r: EnrolmentRefusal, op: &OperationId) -> ApiError {
    ApiError::refusal(StatusCode::UNPROCESSABLE_ENTITY, &r, &op.0)
}

async fn desk(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    op: &OperationId,
) -> Result<querywarden_domain::permission::AdministratorDesk, ApiError> {
    let op_now = querywarden_app::permission::Op::new(Timestamp::now(), op.0.clone());
    state
        .app
        .enrolment()
        .administrator_desk(who, &op_now)
        .await
        .map_err(ApiError::internal_for(op))?
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

/// 核發開通碼 issue a one-time enrolment or reset code: {account, purpose: enrol|reset, reason} (needs X-CSRF-Token; the code is in the answer once)
#[utoipa::path(post, path = "/api/v1/enrolment/codes", request_body = IssueCodeRequest,
    responses((status = 201, description = "created")))]
pub async fn issue_code(
    ApiCall { state, op, who }: ApiCall,
    body: Result<Json<IssueCodeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let desk = desk(&state, &who, &op).await?;
    let Json(req) = body.map_err(|r| {
        crate::rejection::json_body_refused(&r, &op.0, || ApiError::malformed_request(&op.0))
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
    let issued = state
        .app
        .enrolment()
        .issue_code(
            &desk,
            &req.account,
            purpose,
            &req.reason,
            Timestamp::now(),
            &op.0,
        )
        .await
        .map_err(ApiError::internal_for(&op))?
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

/// 憑證廢止清冊 the revocation lists in force (age, next update, stale) and the last fetches
#[utoipa::path(get, path = "/api/v1/enrolment/crls")]
pub async fn crls(ApiCall { state, op, who }: ApiCall) -> Result<Json<Value>, ApiError> {
    let desk = desk(&state, &who, &op).await?;
    let (lists, fetches) = state
        .app
        .enrolment()
        .crl_status(&desk, Timestamp::now())
        .await
        .map_err(ApiError::internal_for(&op))?;
    let lists: Vec<Value> = lists
        .iter()
        .map(|c| {
            let mut j = crate::common_api::crl_json(c);
            // The desk, unlike readiness, also counts the certificates each list revokes.
            j["revoked"] = json!(c.revoked);
            j
        })
        .collect();
    let fetches: Vec<Value> = fetches
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
