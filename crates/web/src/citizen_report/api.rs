//! The citizen-report JSON API under `/api/v1`: the same use cases as the pages, refusing the
//! same things with the same stable codes (each listed in `crate::API_ROUTES`).

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::citizen_report::Refusal;
use serde_json::{Value, json};

use super::acts::{self, refusal_status, stamp};
use super::input::{ExtendForm, RecordForm, WithholdForm};
use super::view::{report_json, request_json};
use crate::OperationId;
use crate::error::ApiError;
use crate::session::ApiCall;

fn refused(r: Refusal, op: &OperationId) -> ApiError {
    ApiError::refusal(refusal_status(&r), &r, &op.0)
}

fn body<T>(b: Result<Json<T>, JsonRejection>, op: &OperationId) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|_| ApiError::malformed_request(&op.0))
}

/// 當事人查詢申請 the citizen access requests, with deadline (ROC) and working days left (個資法 §13)
///
/// `GET /api/v1/citizen-requests`.
#[utoipa::path(get, path = "/api/v1/citizen-requests")]
pub async fn list(ApiCall { state, op, who }: ApiCall) -> Result<Json<Value>, ApiError> {
    let lines = state
        .app
        .citizen_reports()
        .requests(&who.person, stamp(Timestamp::now(), &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    let list: Vec<Value> = lines.iter().map(request_json).collect();
    Ok(Json(json!({ "requests": list })))
}

/// 登錄當事人查詢申請 record a request: {national_id, identity_check: in_person_id_card|moica_signed, asked, received (ROC), signed_text, signature (PKCS#7, with moica_signed)} (needs X-CSRF-Token)
///
/// `POST /api/v1/citizen-requests`.
#[utoipa::path(post, path = "/api/v1/citizen-requests", request_body = RecordForm,
    responses((status = 201, description = "created")))]
pub async fn record(
    ApiCall { state, op, who }: ApiCall,
    b: Result<Json<RecordForm>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = body(b, &op)?;
    let now = Timestamp::now();
    let door = state.app.citizen_reports();
    let no = acts::record(&door, &who.person, &form, stamp(now, &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    // Read back through the desk so the answer carries the deadline as the list shows it.
    let line = door
        .request(&who.person, &no, stamp(now, &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok((StatusCode::CREATED, Json(request_json(&line))).into_response())
}

/// one request
///
/// `GET /api/v1/citizen-requests/{no}`.
#[utoipa::path(get, path = "/api/v1/citizen-requests/{no}", params(("no" = String, Path)))]
pub async fn one(
    ApiCall { state, op, who }: ApiCall,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let line = state
        .app
        .citizen_reports()
        .request(&who.person, &no, stamp(Timestamp::now(), &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok(Json(request_json(&line)))
}

/// 延長決定期間 extend the deadline once by fifteen days: {reason} (個資法 §13 I)
///
/// `POST /api/v1/citizen-requests/{no}/extension`.
#[utoipa::path(post, path = "/api/v1/citizen-requests/{no}/extension",
    params(("no" = String, Path)), request_body = ExtendForm)]
pub async fn extend(
    ApiCall { state, op, who }: ApiCall,
    Path(no): Path<String>,
    b: Result<Json<ExtendForm>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let form = body(b, &op)?;
    let due = state
        .app
        .citizen_reports()
        .extend(&who.person, &no, &form.reason, stamp(Timestamp::now(), &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok(Json(json!({
        "request_no": no,
        "due_on": { "date": due.civil().to_string(), "roc": due.format_long() },
    })))
}

/// 產生查詢報告 produce the report: `report` is what the citizen receives (entries, proof appendix); `officer.withheld` is for the officer only (§10)
///
/// `POST /api/v1/citizen-requests/{no}/report`: produced (and audited) on each call.
#[utoipa::path(post, path = "/api/v1/citizen-requests/{no}/report", params(("no" = String, Path)))]
pub async fn report(
    ApiCall { state, op, who }: ApiCall,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let report = state
        .app
        .citizen_reports()
        .produce_report(&who.person, &no, stamp(Timestamp::now(), &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok(Json(report_json(&report)))
}

/// 答復 record that the citizen was answered, today
///
/// `POST /api/v1/citizen-requests/{no}/answer`.
#[utoipa::path(post, path = "/api/v1/citizen-requests/{no}/answer", params(("no" = String, Path)))]
pub async fn answer(
    ApiCall { state, op, who }: ApiCall,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let on = state
        .app
        .citizen_reports()
        .answer(&who.person, &no, stamp(Timestamp::now(), &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok(Json(json!({
        "request_no": no,
        "answered_on": { "date": on.civil().to_string(), "roc": on.format_long() },
    })))
}

/// 暫不揭露標記 every §10 withholding mark (ethics office only)
///
/// `GET /api/v1/withholdings`: every §10 mark, for the ethics office.
#[utoipa::path(get, path = "/api/v1/withholdings")]
pub async fn withholdings(ApiCall { state, op, who }: ApiCall) -> Result<Json<Value>, ApiError> {
    let marks = state
        .app
        .citizen_reports()
        .withholdings(&who.person, stamp(Timestamp::now(), &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    let list: Vec<Value> = marks
        .iter()
        .map(|l| &l.mark)
        .map(|w| {
            json!({
                "registration_no": w.registration_no,
                "disclose_on": { "date": w.disclose_on.civil().to_string(), "roc": w.disclose_on.format_long() },
                "reason": w.reason,
                "marked_by": w.marked_by.get(),
                "marked_at": w.marked_at,
            })
        })
        .collect();
    Ok(Json(json!({ "withholdings": list })))
}

/// 暫不揭露 a supervisor marks a registration "disclose after DATE": {disclose_on (ROC), reason} (個資法 §10)
///
/// `POST /api/v1/registrations/{no}/withholding`: a supervisor's §10 mark.
#[utoipa::path(post, path = "/api/v1/registrations/{no}/withholding", params(("no" = String, Path)),
    request_body = WithholdForm, responses((status = 201, description = "created")))]
pub async fn withhold(
    ApiCall { state, op, who }: ApiCall,
    Path(no): Path<String>,
    b: Result<Json<WithholdForm>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = body(b, &op)?;
    let now = Timestamp::now();
    let door = state.app.citizen_reports();
    acts::withhold(&door, &who.person, &no, &form, stamp(now, &op))
        .await
        .map_err(ApiError::internal_for(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "registration_no": no, "withheld": true })),
    )
        .into_response())
}
