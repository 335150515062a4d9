//! JSON API of query registration under `/api/v1/registrations/…`: the same use cases as
//! the pages, the same checks, the same audit records and the same refusal codes.
//!
//! Security-sensitive: state changes need `X-CSRF-Token` (the `ApiSession` extractor checks
//! it). Personal data travels only in request and response bodies; national IDs are masked
//! except in the answer to the audited reveal; result bodies are `no-store` (middleware).

use axum::Json;
use axum::extract::Path;
use axum::response::Response;
use jiff::Timestamp;
use querywarden_app::execution::{self, Access, ItemOutcome, ResultContent};
use querywarden_app::registration::{
    self as reg, Denied, RegisterBatchRequest, RegisterQueryRequest,
};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::registration::RegistrationState;
use serde_json::{Value, json};

use super::input::{DecisionBody, ExecutionBody, PrintBody, StatementBody, chosen_items};
use crate::casework::{ApiCall, answer, registration_no, request_json, summary_json};
use crate::error::ApiError;

/// 登記查調（附表2）register a query: subject_name, subject_id, items, legal_basis, relevance, case_no, needer, querier
#[utoipa::path(post, path = "/api/v1/registrations", request_body = RegisterQueryRequest)]
pub async fn register(
    c: ApiCall,
    Json(input): Json<RegisterQueryRequest>,
) -> Result<Response, ApiError> {
    let d = reg::register(&c.desk(), c.me(), &input, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |r| {
        json!({ "no": r.no.to_string(), "findings": r.findings,
                "second_approval_required": r.second_approval_required })
    })
}

/// 批次登記 batch registration: shared fields plus `csv` (name,national_id[,linked_id]); errors by line
#[utoipa::path(post, path = "/api/v1/registrations/batch", request_body = RegisterBatchRequest)]
pub async fn register_batch(
    c: ApiCall,
    Json(input): Json<RegisterBatchRequest>,
) -> Result<Response, ApiError> {
    let d = reg::register_batch(&c.desk(), c.me(), &input, Timestamp::now(), c.op_id()).await;
    answer(
        &c,
        d,
        |rs| json!({ "registrations": rs.iter().map(|r| r.no.to_string()).collect::<Vec<_>>() }),
    )
}

/// 待辦 inboxes: to approve, to execute, results expiring, sent without result, Form 3 to review
#[utoipa::path(get, path = "/api/v1/registrations/inbox")]
pub async fn inbox(c: ApiCall) -> Result<Response, ApiError> {
    let i = reg::inbox(&c.desk(), c.me(), Timestamp::now()).await;
    answer(&c, i.map(Ok), |i| {
        json!({
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
        })
    })
}

fn codes(s: &std::collections::BTreeSet<ServiceItemCode>) -> Vec<&str> {
    s.iter().map(ServiceItemCode::as_str).collect()
}

fn registration_json(v: &reg::RegistrationView) -> Value {
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
        "items": codes(&r.items),
        "executed_items": codes(&r.executed_items),
        "awaiting_outcome": codes(&r.awaiting_outcome),
        "legal_basis": r.legal_basis.as_str(),
        "relevance": r.relevance,
        "case_no": r.case_no,
        "applicant": r.parties.applicant.get(),
        "needer": r.parties.needer.get(),
        "querier": r.parties.querier.get(),
        "approved_by": approved_by,
        "valid_until": valid_until,
        "findings": v.findings.iter().map(|r| r.name_zh()).collect::<Vec<_>>(),
        "second_approval_required": r.second_approval_required,
        // §5 ¶1: decisions given as 代理, in the supervisor's place.
        "acting": v.acting.iter().map(|(by, for_)| json!({
            "by": by.get(), "acting_for": for_.map(|f| f.get()) })).collect::<Vec<_>>(),
        "results": v.results.iter().map(|x| json!({
            "item": x.item.as_str(), "received_at": x.received_at.to_string(),
            "kind": x.kind, "destroy_after": x.destroy_after.civil().to_string(),
            "destroyed": x.destroyed_at.is_some() })).collect::<Vec<_>>(),
    })
}

/// 登記內容 one registration (national ID masked)
#[utoipa::path(get, path = "/api/v1/registrations/{no}", params(("no" = String, Path)))]
pub async fn registration(c: ApiCall, Path(no): Path<String>) -> Result<Response, ApiError> {
    let no = registration_no(&c, &no)?;
    let d = reg::registration_view(&c.desk(), c.me(), no, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |v| registration_json(&v))
}

/// 顯示完整身分證字號 reveal the whole national ID (audited)
#[utoipa::path(post, path = "/api/v1/registrations/{no}/reveal", params(("no" = String, Path)))]
pub async fn reveal(c: ApiCall, Path(no): Path<String>) -> Result<Response, ApiError> {
    let no = registration_no(&c, &no)?;
    let d = reg::reveal_national_id(&c.desk(), c.me(), no, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |(id, linked)| {
        json!({ "subject_id": id.expose_whole(),
                "linked_id": linked.as_ref().map(|l| l.expose_whole().to_string()) })
    })
}

/// 主管核准或退回 approve or reject: {decision: approve|reject, comment}
#[utoipa::path(post, path = "/api/v1/registrations/{no}/decision", params(("no" = String, Path)),
    request_body = DecisionBody)]
pub async fn decide(
    c: ApiCall,
    Path(no): Path<String>,
    Json(body): Json<DecisionBody>,
) -> Result<Response, ApiError> {
    let no = registration_no(&c, &no)?;
    let decision = match body.decision.as_str() {
        "approve" => reg::Decision::Approve(Some(&body.comment)),
        "reject" => reg::Decision::Reject(&body.comment),
        _ => {
            return Err(c.malformed(
                "decision 須為 approve 或 reject",
                "decision must be approve or reject",
            ));
        }
    };
    let d = reg::decide(&c.desk(), c.me(), no, decision, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |s| json!({ "state": s.code() }))
}

/// 撤銷登記 cancel before execution
#[utoipa::path(post, path = "/api/v1/registrations/{no}/cancel", params(("no" = String, Path)))]
pub async fn cancel(c: ApiCall, Path(no): Path<String>) -> Result<Response, ApiError> {
    let no = registration_no(&c, &no)?;
    let d = reg::cancel(&c.desk(), c.me(), no, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |()| json!({ "state": "cancelled" }))
}

fn execution_json(r: &execution::ExecutionReport) -> Value {
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
}

/// 執行查調 execute (connected mode) or record the portal execution (portal mode): {items?, note?, paper_case_no?}
#[utoipa::path(post, path = "/api/v1/registrations/{no}/execution", params(("no" = String, Path)),
    request_body = ExecutionBody)]
pub async fn execute(
    c: ApiCall,
    Path(no): Path<String>,
    Json(body): Json<ExecutionBody>,
) -> Result<Response, ApiError> {
    // §3: executions are rate-limited per person.
    let checks = querywarden_app::limits::execution_checks(&c.who);
    if let Some(e) = crate::session::over_limit(&c.state, &c.who, &checks, c.op_id()).await {
        return Err(e);
    }
    let no = registration_no(&c, &no)?;
    let items =
        chosen_items(body.items.as_ref()).map_err(|e| c.refused(&Denied::Registration(e)))?;
    let d = super::execution::run(
        &c.state,
        &c.who,
        no,
        items,
        body.note.clone(),
        body.paper_case_no.clone(),
        c.op_id(),
    )
    .await;
    answer(&c, d, |r| execution_json(&r))
}

/// 查詢者說明結果不明的查詢 the querier's statement on a query whose outcome is unknown (timed out): {statement}; the item may then run again (audited)
///
/// §5: the querier's statement resolves an attempt whose outcome is unknown.
#[utoipa::path(post, path = "/api/v1/registrations/{no}/executions/{item}/statement",
    params(("no" = String, Path), ("item" = String, Path)), request_body = StatementBody)]
pub async fn state_outcome(
    c: ApiCall,
    Path((no, item)): Path<(String, String)>,
    Json(body): Json<StatementBody>,
) -> Result<Response, ApiError> {
    let no = registration_no(&c, &no)?;
    let item = c.item(&item)?;
    let d = execution::outcome::record_statement(
        &c.desk(),
        c.me(),
        no,
        &item,
        &body.statement,
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    answer(
        &c,
        d,
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

/// Opens a result to view, or (`print`: with the reason beyond the limit) to print.
async fn open(
    c: ApiCall,
    no: String,
    item: String,
    print: Option<Option<String>>,
) -> Result<Response, ApiError> {
    let no = registration_no(&c, &no)?;
    let item = c.item(&item)?;
    let desk = c.state.app.desk();
    let now = Timestamp::now();
    // §6 ¶2: whole records through the API only where the deployment allows it (the use
    // case checks `registration.results_api` and audits every call).
    let access = match &print {
        Some(reason) => Access::print(reason.as_deref()),
        None => Access::view(),
    };
    let d =
        execution::open_result(&desk, c.me(), no, &item, access.via_api(), now, c.op_id()).await;
    answer(&c, d, |v| result_json(&v))
}

/// 檢視查調結果 view a result (only when `registration.results_api` is on, else 403 `result.api_disabled`; audited as a view, no-store, watermark text included)
#[utoipa::path(get, path = "/api/v1/registrations/{no}/results/{item}",
    params(("no" = String, Path), ("item" = String, Path)))]
pub async fn result(
    c: ApiCall,
    Path((no, item)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    open(c, no, item, None).await
}

/// 列印隨文歸檔 numbered print for the case file (audited; `registration.results_api` must be on): {reason?} — beyond `registration.print_limit` prints a reason is required (409 `result.print_limit`)
#[utoipa::path(post, path = "/api/v1/registrations/{no}/results/{item}/print",
    params(("no" = String, Path), ("item" = String, Path)), request_body = Option<PrintBody>)]
pub async fn print(
    c: ApiCall,
    Path((no, item)): Path<(String, String)>,
    body: Option<Json<PrintBody>>,
) -> Result<Response, ApiError> {
    let reason = body.and_then(|Json(b)| b.reason);
    open(c, no, item, Some(reason)).await
}
