//! JSON API of query registration and Form 3 under `/api/v1/registrations/…` and
//! `/api/v1/requests/…`: the same use cases as the pages, same checks, same audit records.
//!
//! Security-sensitive: state changes need `X-CSRF-Token` (the `ApiSession` extractor checks
//! it). Personal data travels only in request and response bodies; national IDs are masked
//! except in the answer to the audited reveal; result bodies are `no-store` (middleware).
//! Refusals answer with the rule's stable code and zh-TW message.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use querywarden_app::execution::{self, ItemOutcome, PortalReport, ResultContent};
use querywarden_app::registration::QueryRequestRow;
use querywarden_app::registration::{
    self as reg, Denied, RegisterBatchRequest, RegisterQueryRequest, RegistrationSummary,
};
use querywarden_app::request::{self, Delivery, FileRequestInput};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::PersonId;
use querywarden_domain::registration::{RegistrationNo, RegistrationState, RequestNo};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::registration_pages::denied_status;
use crate::session::ApiSession;
use crate::{AppState, OperationId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/registrations", post(register))
        .route("/api/v1/registrations/batch", post(register_batch))
        .route("/api/v1/registrations/inbox", get(inbox))
        .route("/api/v1/registrations/{no}", get(registration))
        .route("/api/v1/registrations/{no}/reveal", post(reveal))
        .route("/api/v1/registrations/{no}/decision", post(decide))
        .route("/api/v1/registrations/{no}/cancel", post(cancel))
        .route("/api/v1/registrations/{no}/execution", post(execute))
        .route(
            "/api/v1/registrations/{no}/executions/{item}/statement",
            post(state_outcome),
        )
        .route("/api/v1/registrations/{no}/results/{item}", get(result))
        .route(
            "/api/v1/registrations/{no}/results/{item}/print",
            post(print),
        )
        .route("/api/v1/requests", get(requests).post(file_request))
        .route("/api/v1/requests/{no}", get(request_view))
        .route("/api/v1/requests/{no}/review", post(review))
        .route("/api/v1/requests/{no}/delivery", post(deliver))
        .route("/api/v1/requests/{no}/consent", post(consent))
        .route("/api/v1/requests/{no}/sign", post(sign))
        .route(
            "/api/v1/requests/{no}/subjects/{position}/close",
            post(close_subject),
        )
}

/// The OpenAPI operation of one of this module's routes (listed in `API_ROUTES`).
pub fn openapi_operation(method: &str, path: &str) -> Option<Value> {
    let summary = match (method, path) {
        ("post", "/api/v1/registrations") => {
            "登記查調（附表2）register a query: subject_name, subject_id, items, legal_basis, relevance, case_no, needer, querier"
        }
        ("post", "/api/v1/registrations/batch") => {
            "批次登記 batch registration: shared fields plus `csv` (name,national_id[,linked_id]); errors by line"
        }
        ("get", "/api/v1/registrations/inbox") => {
            "待辦 inboxes: to approve, to execute, results expiring, sent without result, Form 3 to review"
        }
        ("get", "/api/v1/registrations/{no}") => "登記內容 one registration (national ID masked)",
        ("post", "/api/v1/registrations/{no}/reveal") => {
            "顯示完整身分證字號 reveal the whole national ID (audited)"
        }
        ("post", "/api/v1/registrations/{no}/decision") => {
            "主管核准或退回 approve or reject: {decision: approve|reject, comment}"
        }
        ("post", "/api/v1/registrations/{no}/cancel") => "撤銷登記 cancel before execution",
        ("post", "/api/v1/registrations/{no}/execution") => {
            "執行查調 execute (connected mode) or record the portal execution (portal mode): {items?, note?, paper_case_no?}"
        }
        ("post", "/api/v1/registrations/{no}/executions/{item}/statement") => {
            "查詢者說明結果不明的查詢 the querier's statement on a query whose outcome is unknown (timed out): {statement}; the item may then run again (audited)"
        }
        ("get", "/api/v1/registrations/{no}/results/{item}") => {
            "檢視查調結果 view a result (only when `registration.results_api` is on, else 403 `result.api_disabled`; audited as a view, no-store, watermark text included)"
        }
        ("post", "/api/v1/registrations/{no}/results/{item}/print") => {
            "列印隨文歸檔 numbered print for the case file (audited; `registration.results_api` must be on): {reason?} — beyond `registration.print_limit` prints a reason is required (409 `result.print_limit`)"
        }
        ("get", "/api/v1/requests") => "查調申請（附表3）list: filed by me or addressed to my unit",
        ("post", "/api/v1/requests") => {
            "提出查調申請 file a Form 3 request (district offices, subordinate agencies)"
        }
        ("get", "/api/v1/requests/{no}") => "查調申請內容 one Form 3 request",
        ("post", "/api/v1/requests/{no}/review") => {
            "業務權責單位審查 review: {decision: accept|reject, querier?, opinion}"
        }
        ("post", "/api/v1/requests/{no}/consent") => {
            "申請人單位主管核章 the requesting office's supervisor: {decision: consent|refuse, reason?}"
        }
        ("post", "/api/v1/requests/{no}/sign") => {
            "資料查詢者／使用單位主管核章 the assigned querier or the using unit's supervisor signs the request"
        }
        ("post", "/api/v1/requests/{no}/subjects/{position}/close") => {
            "免查結案 close one subject without a query: {reason} (delivery waits for every subject)"
        }
        ("post", "/api/v1/requests/{no}/delivery") => {
            "結果送達方式 record delivery: {delivery: in_system|official_document, document_no?}"
        }
        _ => return None,
    };
    Some(json!({
        "summary": summary,
        "responses": {
            "200": { "description": "ok" },
            "401": { "description": "not signed in" },
            "403": { "description": "not allowed or CSRF token missing" },
            "404": { "description": "no such registration or request" },
            "409": { "description": "refused by the execution policy or the state" },
            "422": { "description": "invalid input, with the rule's code" },
        }
    }))
}

fn failed(op: &OperationId) -> impl Fn(querywarden_app::AppError) -> ApiError + use<> {
    let op = op.clone();
    move |e| ApiError::internal(&e, &op.0)
}

fn refused(d: &Denied, op: &OperationId) -> ApiError {
    let (zh, en) = crate::refusals::denied_both(d);
    ApiError::new(denied_status(d), d.code(), zh, en, &op.0)
}

fn bad_no(op: &OperationId) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "registration.not_found",
        "找不到此登記或申請",
        "no such registration or request",
        &op.0,
    )
}

fn answer<T>(
    decided: Result<T, Denied>,
    op: &OperationId,
    ok: impl FnOnce(T) -> Value,
) -> Result<Response, ApiError> {
    match decided {
        Ok(v) => Ok(Json(ok(v)).into_response()),
        Err(d) => {
            let mut e = refused(&d, op);
            if let Denied::Batch(lines) = &d {
                e.body.message = format!(
                    "{}（{}）",
                    e.body.message,
                    lines
                        .iter()
                        .map(|l| format!("第 {} 行：{}", l.line, l.error.code()))
                        .collect::<Vec<_>>()
                        .join("；")
                );
            }
            Err(e)
        }
    }
}

fn summary_json(s: &RegistrationSummary) -> Value {
    json!({
        "no": s.no.to_string(),
        "date": s.date.civil().to_string(),
        "state": s.state,
        "items": s.items.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
        "legal_basis": s.legal_basis.as_str(),
        "applicant": s.parties.applicant.get(),
        "needer": s.parties.needer.get(),
        "querier": s.parties.querier.get(),
        "findings": s.findings,
        "valid_until": s.valid_until.map(|t| t.to_string()),
        "remaining_items": s.remaining_items.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
    })
}

fn request_json(r: &QueryRequestRow) -> Value {
    json!({
        "no": r.no.to_string(),
        "date": r.date.civil().to_string(),
        "requesting_unit": r.requesting_unit.as_str(),
        "applicant": r.applicant.get(),
        "responsible_unit": r.responsible_unit.as_str(),
        "legal_basis": r.legal_basis.as_str(),
        "items": r.items.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
        "subject_count": r.subject_count,
        "state": r.state.code(),
        "opinion": r.opinion,
        "assigned_querier": r.assigned_querier.map(PersonId::get),
        "delivery": r.delivery,
        "document_no": r.document_no,
    })
}

pub async fn register(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Json(input): Json<RegisterQueryRequest>,
) -> Result<Response, ApiError> {
    let d = reg::register(
        &state.app.desk(),
        &who.person,
        &input,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(failed(&op))?;
    answer(d, &op, |r| {
        json!({ "no": r.no.to_string(), "findings": r.findings,
                "second_approval_required": r.second_approval_required })
    })
}

pub async fn register_batch(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Json(input): Json<RegisterBatchRequest>,
) -> Result<Response, ApiError> {
    let d = reg::register_batch(
        &state.app.desk(),
        &who.person,
        &input,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(failed(&op))?;
    answer(
        d,
        &op,
        |rs| json!({ "registrations": rs.iter().map(|r| r.no.to_string()).collect::<Vec<_>>() }),
    )
}

pub async fn inbox(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Response, ApiError> {
    let i = reg::inbox(&state.app.desk(), &who.person, Timestamp::now())
        .await
        .map_err(failed(&op))?;
    Ok(Json(json!({
        "to_approve": i.to_approve.iter().map(summary_json).collect::<Vec<_>>(),
        "to_execute": i.to_execute.iter().map(summary_json).collect::<Vec<_>>(),
        "results_expiring": i.results_expiring.iter().map(|e| json!({
            "no": e.no.to_string(), "item": e.item.as_str(),
            "destroy_after": e.destroy_after.civil().to_string() })).collect::<Vec<_>>(),
        "sent_without_result": i.sent_without_result.iter().map(|s| json!({
            "no": s.no.to_string(), "item": s.item.as_str(),
            "sent_at": s.sent_at.to_string() })).collect::<Vec<_>>(),
        "requests_to_review": i.requests_to_review.iter().map(request_json).collect::<Vec<_>>(),
        "requests_to_sign": i.requests_to_sign.iter().map(request_json).collect::<Vec<_>>(),
        "ethics_alerts": i.ethics_alerts.iter().map(|a| json!({
            "no": a.no.to_string(),
            "rules": a.rules.iter().map(|r| r.code()).collect::<Vec<_>>(),
            "at": a.at.to_string(), "subject_id_masked": a.subject_id_masked })).collect::<Vec<_>>(),
        "refusals": i.refusals.iter().map(|n| json!({
            "notice": n.id, "kind": n.kind, "object": n.object,
            "at": n.created_at.to_string() })).collect::<Vec<_>>(),
    }))
    .into_response())
}

fn no_of(raw: &str, op: &OperationId) -> Result<RegistrationNo, ApiError> {
    RegistrationNo::parse(raw).map_err(|_| bad_no(op))
}

pub async fn registration(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
) -> Result<Response, ApiError> {
    let no = no_of(&no, &op)?;
    let d = reg::registration_view(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(failed(&op))?;
    answer(d, &op, |v| {
        let r = &v.registration;
        let (approved_by, valid_until) = match &r.state {
            RegistrationState::Approved {
                by, valid_until, ..
            } => (Some(by.get()), Some(valid_until.to_string())),
            _ => (None, None),
        };
        json!({
            "no": r.no.to_string(),
            "date": r.date.civil().to_string(),
            "state": r.state.code(),
            "subject_name": v.subject_name,
            "subject_id_masked": v.subject_id_masked,
            "linked_id_masked": v.linked_id_masked,
            "items": r.items.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
            "executed_items": r.executed_items.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
            "awaiting_outcome": r.awaiting_outcome.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
            "legal_basis": r.legal_basis.as_str(),
            "relevance": r.relevance,
            "case_no": r.case_no,
            "applicant": r.parties.applicant.get(),
            "needer": r.parties.needer.get(),
            "querier": r.parties.querier.get(),
            "approved_by": approved_by,
            "valid_until": valid_until,
            "findings": v.findings_zh,
            "second_approval_required": r.second_approval_required,
            // §5 ¶1: decisions given as 代理, in the supervisor's place.
            "acting": v.acting.iter().map(|(by, for_)| json!({
                "by": by.get(), "acting_for": for_.map(|f| f.get()) })).collect::<Vec<_>>(),
            "results": v.results.iter().map(|x| json!({
                "item": x.item.as_str(), "received_at": x.received_at.to_string(),
                "kind": x.kind, "destroy_after": x.destroy_after.civil().to_string(),
                "destroyed": x.destroyed_at.is_some() })).collect::<Vec<_>>(),
        })
    })
}

pub async fn reveal(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
) -> Result<Response, ApiError> {
    let no = no_of(&no, &op)?;
    let d = reg::reveal_national_id(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(failed(&op))?;
    answer(d, &op, |(id, linked)| {
        json!({ "subject_id": id.expose_whole(),
                "linked_id": linked.as_ref().map(|l| l.expose_whole().to_string()) })
    })
}

#[derive(Deserialize)]
pub struct DecisionBody {
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn decide(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
    Json(body): Json<DecisionBody>,
) -> Result<Response, ApiError> {
    let no = no_of(&no, &op)?;
    let decision = match body.decision.as_str() {
        "approve" => reg::Decision::Approve(Some(&body.comment)),
        "reject" => reg::Decision::Reject(&body.comment),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.malformed",
                "decision 須為 approve 或 reject",
                "decision must be approve or reject",
                &op.0,
            ));
        }
    };
    let d = reg::decide(
        &state.app.desk(),
        &who.person,
        no,
        decision,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(failed(&op))?;
    answer(d, &op, |s| json!({ "state": s.code() }))
}

pub async fn cancel(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
) -> Result<Response, ApiError> {
    let no = no_of(&no, &op)?;
    let d = reg::cancel(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(failed(&op))?;
    answer(d, &op, |()| json!({ "state": "cancelled" }))
}

#[derive(Deserialize, Default)]
pub struct ExecutionBody {
    #[serde(default)]
    items: Option<Vec<String>>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    paper_case_no: Option<String>,
}

pub async fn execute(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
    Json(body): Json<ExecutionBody>,
) -> Result<Response, ApiError> {
    let checks = querywarden_app::limits::execution_checks(&who);
    if let Some(e) = crate::session::over_limit(&state, &who, &checks, &op.0).await {
        return Err(e);
    }
    let no = no_of(&no, &op)?;
    let items = match &body.items {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|i| ServiceItemCode::parse(i.trim()))
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(|_| {
                    refused(
                        &Denied::Registration(
                            querywarden_domain::registration::RegistrationError::ItemCode,
                        ),
                        &op,
                    )
                })?,
        ),
    };
    let desk = state.app.desk();
    let now = Timestamp::now();
    let d = match state.app.connector() {
        Some(c) => {
            execution::execute_connected(&desk, c, &who, no, items.as_ref(), now, &op.0).await
        }
        None => {
            let report = PortalReport {
                items,
                queried_at: Some(now),
                note: body.note.clone(),
                paper_case_no: body.paper_case_no.clone(),
                documents: Vec::new(),
            };
            execution::record_portal_execution(&desk, &who, no, &report, now, &op.0).await
        }
    }
    .map_err(failed(&op))?;
    answer(d, &op, |r| {
        json!({ "no": r.no.to_string(), "items": r.items.iter().map(|i| {
            let (outcome, detail) = match &i.outcome {
                ItemOutcome::Received { rows } => ("received", json!({ "rows": rows })),
                ItemOutcome::NoData { code } => ("no_data", json!({ "code": code })),
                ItemOutcome::Failed { code, message_zh } =>
                    ("failed", json!({ "code": code, "message": message_zh })),
                ItemOutcome::Unknown { code, message_zh } =>
                    ("unknown", json!({ "code": code, "message": message_zh })),
                ItemOutcome::Recorded => ("recorded", json!({})),
            };
            json!({ "item": i.item.as_str(), "outcome": outcome, "detail": detail })
        }).collect::<Vec<_>>() })
    })
}

#[derive(Deserialize)]
pub struct StatementBody {
    #[serde(default)]
    statement: String,
}

/// §5: the querier's statement resolves an attempt whose outcome is unknown.
pub async fn state_outcome(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path((no, item)): Path<(String, String)>,
    Json(body): Json<StatementBody>,
) -> Result<Response, ApiError> {
    let no = no_of(&no, &op)?;
    let item = ServiceItemCode::parse(&item).map_err(|_| bad_no(&op))?;
    let d = execution::outcome::record_statement(
        &state.app.desk(),
        &who.person,
        no,
        &item,
        &body.statement,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(failed(&op))?;
    answer(
        d,
        &op,
        |()| json!({ "no": no.to_string(), "item": item.as_str(), "resolved": true }),
    )
}

fn result_json(v: &execution::ResultView) -> Value {
    let content = match &v.content {
        ResultContent::Records(r) => json!({ "kind": "records", "records": r }),
        ResultContent::NoData { kind } => json!({ "kind": kind }),
        // View-only: the document itself is not handed out.
        ResultContent::Document {
            content_type,
            bytes,
        } => {
            json!({ "kind": "portal_document", "content_type": content_type, "bytes": bytes.len() })
        }
    };
    json!({
        "no": v.no.to_string(),
        "item": v.item.as_str(),
        "received_at": v.received_at.to_string(),
        "subject_name": v.subject_name,
        "subject_id_masked": v.subject_id_masked,
        "watermark": v.watermark,
        "print_no": v.print_no,
        "content": content,
    })
}

async fn open(
    state: AppState,
    op: OperationId,
    who: querywarden_app::auth::SignedIn,
    no: String,
    item: String,
    print: Option<Option<String>>,
) -> Result<Response, ApiError> {
    let no = no_of(&no, &op)?;
    let item = ServiceItemCode::parse(&item).map_err(|_| bad_no(&op))?;
    let desk = state.app.desk();
    let now = Timestamp::now();
    // §6 ¶2: whole records through the API only where the deployment allows it (the use
    // case checks `registration.results_api` and audits every call).
    let d = if let Some(reason) = &print {
        execution::print_result_via_api(
            &desk,
            &who.person,
            no,
            &item,
            reason.as_deref(),
            now,
            &op.0,
        )
        .await
    } else {
        execution::view_result_via_api(&desk, &who.person, no, &item, now, &op.0).await
    }
    .map_err(failed(&op))?;
    answer(d, &op, |v| result_json(&v))
}

pub async fn result(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path((no, item)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    open(state, op, who, no, item, None).await
}

pub async fn print(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path((no, item)): Path<(String, String)>,
    body: Option<Json<PrintBody>>,
) -> Result<Response, ApiError> {
    let reason = body.and_then(|Json(b)| b.reason);
    open(state, op, who, no, item, Some(reason)).await
}

/// A print beyond the limit says why (§6 ¶2).
#[derive(Deserialize, Default)]
pub struct PrintBody {
    #[serde(default)]
    reason: Option<String>,
}

pub async fn requests(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Response, ApiError> {
    let rows = request::requests_of(&state.app.desk(), &who.person)
        .await
        .map_err(failed(&op))?;
    Ok(
        Json(json!({ "requests": rows.iter().map(request_json).collect::<Vec<_>>() }))
            .into_response(),
    )
}

pub async fn file_request(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Json(input): Json<FileRequestInput>,
) -> Result<Response, ApiError> {
    let d = request::file_request(
        &state.app.desk(),
        &who.person,
        &input,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(failed(&op))?;
    answer(d, &op, |no| json!({ "no": no.to_string() }))
}

fn request_no(raw: &str, op: &OperationId) -> Result<RequestNo, ApiError> {
    RequestNo::parse(raw).map_err(|_| bad_no(op))
}

pub async fn request_view(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
) -> Result<Response, ApiError> {
    let no = request_no(&no, &op)?;
    let d = request::request_view(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(failed(&op))?;
    answer(d, &op, |v| {
        let mut j = request_json(&v.request);
        j["subjects"] = json!(
            v.subjects
                .iter()
                .map(|(n, id)| json!({ "name": n, "id_masked": id }))
                .collect::<Vec<_>>()
        );
        j["registrations"] = json!(v.registrations.iter().map(summary_json).collect::<Vec<_>>());
        j["results"] = json!(
            v.results
                .iter()
                .map(|(no, item, destroyed)| json!({
            "no": no.to_string(), "item": item.as_str(), "destroyed": destroyed }))
                .collect::<Vec<_>>()
        );
        // §5 ¶3: where it stands, its sign-offs and the subjects closed without a query.
        j["stage"] = json!(v.stage.code());
        j["sign_offs"] = json!(
            v.sign_offs
                .iter()
                .map(|s| json!({ "as": s.which.code(), "by": s.person.get(),
                    "at": s.at.to_string(), "acting": s.acting }))
                .collect::<Vec<_>>()
        );
        j["closed_subjects"] = json!(
            v.closed
                .iter()
                .map(|c| json!({ "position": c.position, "reason": c.reason }))
                .collect::<Vec<_>>()
        );
        j
    })
}

#[derive(Deserialize)]
pub struct ConsentBody {
    /// `consent` or `refuse`.
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/requests/{no}/consent` (§5 ¶3).
pub async fn consent(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
    Json(body): Json<ConsentBody>,
) -> Result<Response, ApiError> {
    let no = request_no(&no, &op)?;
    let consent = match body.decision.as_str() {
        "consent" => request::Consent::Give,
        "refuse" => request::Consent::Refuse(&body.reason),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.malformed",
                "decision 須為 consent 或 refuse",
                "decision must be consent or refuse",
                &op.0,
            ));
        }
    };
    let d = request::consent_request(
        &state.app.desk(),
        &who.person,
        no,
        consent,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(failed(&op))?;
    answer(d, &op, |s| json!({ "stage": s.code() }))
}

/// `POST /api/v1/requests/{no}/sign` (§5 ¶3).
pub async fn sign(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
) -> Result<Response, ApiError> {
    let no = request_no(&no, &op)?;
    let d = request::sign_request(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(failed(&op))?;
    answer(d, &op, |s| json!({ "stage": s.code() }))
}

#[derive(Deserialize)]
pub struct CloseBody {
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/requests/{no}/subjects/{position}/close` (§5 ¶3).
pub async fn close_subject(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path((no, position)): Path<(String, i64)>,
    Json(body): Json<CloseBody>,
) -> Result<Response, ApiError> {
    let no = request_no(&no, &op)?;
    let d = request::close_subject(
        &state.app.desk(),
        &who.person,
        no,
        position,
        &body.reason,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(failed(&op))?;
    answer(d, &op, |s| json!({ "stage": s.code() }))
}

#[derive(Deserialize)]
pub struct ReviewBody {
    decision: String,
    #[serde(default)]
    querier: Option<PersonId>,
    #[serde(default)]
    opinion: String,
}

pub async fn review(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
    Json(body): Json<ReviewBody>,
) -> Result<Response, ApiError> {
    let no = request_no(&no, &op)?;
    let desk = state.app.desk();
    let now = Timestamp::now();
    match body.decision.as_str() {
        "accept" => {
            let querier = body.querier.unwrap_or(who.person.id);
            let d =
                request::accept_request(&desk, &who.person, no, querier, &body.opinion, now, &op.0)
                    .await
                    .map_err(failed(&op))?;
            answer(d, &op, |rs| {
                json!({ "state": "accepted",
                        "registrations": rs.iter().map(|r| r.no.to_string()).collect::<Vec<_>>() })
            })
        }
        "reject" => {
            let d = request::reject_request(&desk, &who.person, no, &body.opinion, now, &op.0)
                .await
                .map_err(failed(&op))?;
            answer(d, &op, |()| json!({ "state": "rejected" }))
        }
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.malformed",
            "decision 須為 accept 或 reject",
            "decision must be accept or reject",
            &op.0,
        )),
    }
}

#[derive(Deserialize)]
pub struct DeliveryBody {
    delivery: String,
    #[serde(default)]
    document_no: Option<String>,
}

pub async fn deliver(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(no): Path<String>,
    Json(body): Json<DeliveryBody>,
) -> Result<Response, ApiError> {
    let no = request_no(&no, &op)?;
    let delivery = match body.delivery.as_str() {
        "in_system" => Delivery::InSystem,
        "official_document" => Delivery::OfficialDocument(body.document_no.unwrap_or_default()),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.malformed",
                "delivery 須為 in_system 或 official_document（不得以電子郵件或傳真送達）",
                "delivery must be in_system or official_document (never e-mail or fax)",
                &op.0,
            ));
        }
    };
    let d = request::record_delivery(
        &state.app.desk(),
        &who.person,
        no,
        &delivery,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(failed(&op))?;
    answer(d, &op, |()| json!({ "delivery": body.delivery }))
}
