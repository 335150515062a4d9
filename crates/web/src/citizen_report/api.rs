//! The citizen-report JSON API under `/api/v1`: the same use cases as the pages, refusing the
//! same things with the same stable codes (each listed in `crate::API_ROUTES`).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::citizen_report::{Refusal, Stamp};
use querywarden_domain::audit_event::AuditAction;
use querywarden_domain::org::Role;
use serde_json::{Value, json};

use super::input::{ExtendForm, RecordForm, WithholdForm};
use super::view::{report_json, request_json};
use crate::error::ApiError;
use crate::session::ApiSession;
use crate::{AppState, OperationId};

fn stamp(now: Timestamp, op: &OperationId) -> Stamp<'_> {
    Stamp {
        now,
        request_id: &op.0,
    }
}

fn refused(r: Refusal, op: &OperationId) -> ApiError {
    let status = match r {
        Refusal::NotAllowed => StatusCode::FORBIDDEN,
        Refusal::UnknownRequest | Refusal::UnknownRegistration => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, r.code(), r.to_string(), r.message_en(), &op.0)
}

fn internal(op: &OperationId) -> impl Fn(querywarden_app::AppError) -> ApiError + '_ {
    move |e| ApiError::internal(&e, &op.0)
}

fn body<T>(b: Result<Json<T>, JsonRejection>, op: &OperationId) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "request.malformed",
            "請求格式錯誤",
            "malformed request",
            &op.0,
        )
    })
}

/// `GET /api/v1/citizen-requests`.
pub async fn list(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let lines = state
        .app
        .citizen_reports()
        .requests(&who.person, stamp(Timestamp::now(), &op))
        .await
        .map_err(internal(&op))?
        .map_err(|r| refused(r, &op))?;
    let list: Vec<Value> = lines.iter().map(request_json).collect();
    Ok(Json(json!({ "requests": list })))
}

/// `POST /api/v1/citizen-requests`.
pub async fn record(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    b: Result<Json<RecordForm>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = body(b, &op)?;
    let now = Timestamp::now();
    let door = state.app.citizen_reports();
    let input = match form.parse(now) {
        Ok(i) => i,
        Err(r) => {
            let r = door
                .refuse_input(
                    &who.person,
                    Role::PersonalDataContact,
                    AuditAction::CitizenRequestRecorded,
                    ("citizen_request", "-"),
                    r,
                    stamp(now, &op),
                )
                .await
                .map_err(internal(&op))?;
            return Err(refused(r, &op));
        }
    };
    let no = door
        .record_request(&who.person, &input, stamp(now, &op))
        .await
        .map_err(internal(&op))?
        .map_err(|r| refused(r, &op))?;
    // Read back through the desk so the answer carries the deadline as the list shows it.
    let line = door
        .request(&who.person, &no, stamp(now, &op))
        .await
        .map_err(internal(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok((StatusCode::CREATED, Json(request_json(&line))).into_response())
}

/// `GET /api/v1/citizen-requests/{no}`.
pub async fn one(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let line = state
        .app
        .citizen_reports()
        .request(&who.person, &no, stamp(Timestamp::now(), &op))
        .await
        .map_err(internal(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok(Json(request_json(&line)))
}

/// `POST /api/v1/citizen-requests/{no}/extension`.
pub async fn extend(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
    b: Result<Json<ExtendForm>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let form = body(b, &op)?;
    let due = state
        .app
        .citizen_reports()
        .extend(&who.person, &no, &form.reason, stamp(Timestamp::now(), &op))
        .await
        .map_err(internal(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok(Json(json!({
        "request_no": no,
        "due_on": { "date": due.civil().to_string(), "roc": due.format_long() },
    })))
}

/// `POST /api/v1/citizen-requests/{no}/report`: produced (and audited) on each call.
pub async fn report(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let report = state
        .app
        .citizen_reports()
        .produce_report(&who.person, &no, stamp(Timestamp::now(), &op))
        .await
        .map_err(internal(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok(Json(report_json(&report)))
}

/// `POST /api/v1/citizen-requests/{no}/answer`.
pub async fn answer(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let on = state
        .app
        .citizen_reports()
        .answer(&who.person, &no, stamp(Timestamp::now(), &op))
        .await
        .map_err(internal(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok(Json(json!({
        "request_no": no,
        "answered_on": { "date": on.civil().to_string(), "roc": on.format_long() },
    })))
}

/// `GET /api/v1/withholdings`: every §10 mark, for the ethics office.
pub async fn withholdings(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let marks = state
        .app
        .citizen_reports()
        .withholdings(&who.person, stamp(Timestamp::now(), &op))
        .await
        .map_err(internal(&op))?
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

/// `POST /api/v1/registrations/{no}/withholding`: a supervisor's §10 mark.
pub async fn withhold(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
    b: Result<Json<WithholdForm>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = body(b, &op)?;
    let now = Timestamp::now();
    let door = state.app.citizen_reports();
    let date = match form.disclose_on() {
        Ok(d) => d,
        Err(r) => {
            let r = door
                .refuse_input(
                    &who.person,
                    Role::UnitSupervisor,
                    AuditAction::RegistrationWithheld,
                    ("registration", &no),
                    r,
                    stamp(now, &op),
                )
                .await
                .map_err(internal(&op))?;
            return Err(refused(r, &op));
        }
    };
    door.withhold(&who.person, &no, date, &form.reason, stamp(now, &op))
        .await
        .map_err(internal(&op))?
        .map_err(|r| refused(r, &op))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "registration_no": no, "withheld": true })),
    )
        .into_response())
}

/// The OpenAPI operation of one of this module's routes (listed in `API_ROUTES`).
pub fn openapi_operation(method: &str, path: &str) -> Option<Value> {
    let refusals = json!({
        "403": { "description": "not the personal-data contact (or not the role the rule asks)" },
        "404": { "description": "no such request or registration" },
        "422": { "description": "refused, with the rule's stable code" } });
    let with = |summary: &str, ok: &str| {
        let mut responses = refusals.clone();
        if let Some(o) = responses.as_object_mut() {
            o.insert(ok.to_string(), json!({ "description": "done" }));
        }
        Some(json!({ "summary": summary, "responses": responses }))
    };
    match (method, path) {
        ("get", "/api/v1/citizen-requests") => with(
            "當事人查詢申請 the citizen access requests, with deadline (ROC) and working days left (個資法 §13)",
            "200",
        ),
        ("post", "/api/v1/citizen-requests") => with(
            "登錄當事人查詢申請 record a request: {national_id, identity_check: in_person_id_card|moica_signed, asked, received (ROC), signed_text, signature (PKCS#7, with moica_signed)} (needs X-CSRF-Token)",
            "201",
        ),
        ("get", "/api/v1/citizen-requests/{no}") => with("one request", "200"),
        ("post", "/api/v1/citizen-requests/{no}/extension") => with(
            "延長決定期間 extend the deadline once by fifteen days: {reason} (個資法 §13 I)",
            "200",
        ),
        ("post", "/api/v1/citizen-requests/{no}/report") => with(
            "產生查詢報告 produce the report: `report` is what the citizen receives (entries, proof appendix); `officer.withheld` is for the officer only (§10)",
            "200",
        ),
        ("post", "/api/v1/citizen-requests/{no}/answer") => {
            with("答復 record that the citizen was answered, today", "200")
        }
        ("get", "/api/v1/withholdings") => with(
            "暫不揭露標記 every §10 withholding mark (ethics office only)",
            "200",
        ),
        ("post", "/api/v1/registrations/{no}/withholding") => with(
            "暫不揭露 a supervisor marks a registration \"disclose after DATE\": {disclose_on (ROC), reason} (個資法 §10)",
            "201",
        ),
        _ => None,
    }
}
