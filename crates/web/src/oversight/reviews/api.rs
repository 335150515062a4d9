//! JSON API of the review, violations and the dashboard under `/api/v1/oversight/…`. Thin:
//! each handler parses its input, calls one use case and maps the answer; refusals carry the
//! same stable codes as the pages.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::oversight::door::{FileByAccount, FileRefusal, ReadRefusal};
use querywarden_app::oversight::review::{FindingRow, ReviewRow};
use querywarden_app::oversight::violation::ViolationRow;
use querywarden_app::oversight::{review, violation};
use querywarden_domain::oversight::review::ReviewRefusal;
use querywarden_domain::oversight::violation::ViolationRefusal;
use querywarden_domain::roc_date::{RocDate, taipei_day_start_utc};
use serde_json::{Value, json};

use super::input::{
    ConcludeFindingRequest, DecideReportRequest, FileViolationRequest, ReconcileRequest,
    SubmitReportRequest,
};
use crate::OperationId;
use crate::error::ApiError;
use crate::session::ApiCall;

use crate::app_op::now_op;

/// A refusal of the review and violation use cases, as the API answers it (the door has
/// audited it).
trait Refused {
    fn answer(self, op: &OperationId) -> ApiError;
}

/// The use case's answer: its result, or a technical failure (logged with the operation id)
/// or its refusal, each as the API answers it.
fn answered<T, R: Refused>(
    op: &OperationId,
    outcome: Result<Result<T, R>, querywarden_app::AppError>,
) -> Result<T, ApiError> {
    outcome
        .map_err(ApiError::internal_for(op))?
        .map_err(|r| r.answer(op))
}

pub(crate) fn review_status(r: &ReviewRefusal) -> StatusCode {
    match r {
        ReviewRefusal::NotAdministrator => StatusCode::FORBIDDEN,
        ReviewRefusal::NotFound => StatusCode::NOT_FOUND,
        ReviewRefusal::NoteRequired => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    }
}

pub(crate) fn violation_status(r: &ViolationRefusal) -> StatusCode {
    match r {
        ViolationRefusal::NotAdministrator | ViolationRefusal::NotThePerson => {
            StatusCode::FORBIDDEN
        }
        ViolationRefusal::NotFound => StatusCode::NOT_FOUND,
        ViolationRefusal::TextRequired(_) | ViolationRefusal::SelfCase => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::CONFLICT,
    }
}

impl Refused for ReviewRefusal {
    fn answer(self, op: &OperationId) -> ApiError {
        ApiError::refusal(review_status(&self), &self, &op.0)
    }
}

impl Refused for ViolationRefusal {
    fn answer(self, op: &OperationId) -> ApiError {
        ApiError::refusal(violation_status(&self), &self, &op.0)
    }
}

fn forbidden(op: &OperationId) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "oversight.not_allowed",
        "您沒有檢視此項資料的權限",
        "you may not read this",
        &op.0,
    )
}

/// A refused read of the review pages (the door has audited a `NotAllowed`).
impl Refused for ReadRefusal {
    fn answer(self, op: &OperationId) -> ApiError {
        match self {
            ReadRefusal::NotAllowed => forbidden(op),
            ReadRefusal::NotFound => not_found(op),
        }
    }
}

/// A case filed for an account that names nobody, or refused by the rules.
impl Refused for FileRefusal {
    fn answer(self, op: &OperationId) -> ApiError {
        match self {
            FileRefusal::NoSuchPerson => bad_input(
                op,
                "violation.no_such_person",
                "查無此帳號的人員",
                "no person has this account",
            ),
            FileRefusal::Rule(r) => r.answer(op),
        }
    }
}

fn not_found(op: &OperationId) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "oversight.not_found",
        "查無此項資料",
        "not found",
        &op.0,
    )
}

fn bad_input(op: &OperationId, code: &str, zh: &str, en: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en, &op.0)
}

pub(crate) fn review_json(r: &ReviewRow) -> Value {
    json!({
        "id": r.id,
        "quarter": r.quarter,
        "period_from": r.period_from.to_string(),
        "period_to": r.period_to.to_string(),
        "opened_at": r.opened_at.to_string(),
        "due_on": r.due_on.to_string(),
        "state": r.state,
        "closed_at": r.closed_at.map(|t| t.to_string()),
        "closed_by": r.closed_by.map(|p| p.get()),
        "report": r.report.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
    })
}

fn finding_json(f: &FindingRow) -> Value {
    let rule = querywarden_domain::oversight::review::FindingRule::parse_code(&f.finding.rule);
    json!({
        "id": f.id,
        "rule": f.finding.rule,
        "rule_zh": rule.map(|r| r.name_zh()),
        "rule_en": rule.map(|r| r.name_en()),
        "person": f.finding.person.map(|p| p.get()),
        "at": f.finding.at.map(|t| t.to_string()),
        "object": f.finding.object,
        "subject": f.finding.subject_hmac.as_ref().map(|h| format!(
            "hmac-sha256:{}:{h}", f.finding.hmac_key_id.as_deref().unwrap_or_default())),
        "detail": f.finding.detail,
        "conclusion": f.conclusion,
        "note": f.note,
        "violation": f.violation_id,
    })
}

pub(crate) fn violation_json(v: &ViolationRow, now: Timestamp) -> Value {
    json!({
        "id": v.id,
        "person": v.case.person.get(),
        "rule": v.case.rule,
        "evidence": v.case.evidence,
        "source": v.case.source,
        "source_ref": v.case.source_ref,
        "opened_by": v.case.opened_by.get(),
        "opened_at": v.case.opened_at.to_string(),
        "due_on": v.case.due_on.to_string(),
        "overdue": violation::overdue(v, now),
        "suspend_grants": v.case.suspend_grants,
        "state": v.state,
        "report": v.report,
        "report_at": v.report_at.map(|t| t.to_string()),
        "return_note": v.return_note,
        "decided_at": v.decided_at.map(|t| t.to_string()),
    })
}

/// 每季使用紀錄檢核列表 quarterly usage reviews (§7)
#[utoipa::path(get, path = "/api/v1/oversight/reviews")]
pub async fn reviews(ApiCall { state, op, who }: ApiCall) -> Result<Response, ApiError> {
    let outcome = state.app.oversight().reviews(&who, &now_op(&op)).await;
    let rows = answered(&op, outcome)?;
    Ok(
        Json(json!({ "reviews": rows.iter().map(review_json).collect::<Vec<_>>() }))
            .into_response(),
    )
}

/// 檢核內容與發現 one review with its findings (rule in zh-TW and English, subjects as HMAC)
#[utoipa::path(get, path = "/api/v1/oversight/reviews/{id}", params(("id" = i64, Path)))]
pub async fn review_one(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let outcome = state.app.oversight().review(&who, id, &now_op(&op)).await;
    let v = answered(&op, outcome)?;
    let mut j = review_json(&v.review);
    j["findings"] = Value::Array(v.findings.iter().map(finding_json).collect());
    Ok(Json(j).into_response())
}

/// 結案並產出送勞工局報告 close the review: every finding concluded; returns the report with the latest signed checkpoint
#[utoipa::path(post, path = "/api/v1/oversight/reviews/{id}/close", params(("id" = i64, Path)))]
pub async fn close(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let outcome = state
        .app
        .oversight()
        .close_review(&who.person, id, &now_op(&op))
        .await;
    let report = answered(&op, outcome)?;
    Ok(Json(json!({ "closed": true, "report": report })).into_response())
}

/// Turns the typed input into the use case's request, or says what is wrong with it.
pub(crate) fn conclusion_of(
    input: &ConcludeFindingRequest,
) -> Result<review::ConcludeFindingRequest, (&'static str, &'static str, &'static str)> {
    match input.conclusion.as_str() {
        "explained" => Ok(review::ConcludeFindingRequest::Explain {
            note: input.note.clone(),
        }),
        "violation" => Ok(review::ConcludeFindingRequest::Violation {
            rule: input.rule.clone(),
            evidence: input.evidence.clone(),
            suspend_grants: input.suspend_grants,
        }),
        _ => Err((
            "review.conclusion",
            "結論須為「已說明」或「違規」",
            "the conclusion must be explained or violation",
        )),
    }
}

/// 發現之結論 conclude a finding: {conclusion: explained|violation, note | rule, evidence, suspend_grants}
#[utoipa::path(post, path = "/api/v1/oversight/findings/{id}/conclusion",
    params(("id" = i64, Path)), request_body = ConcludeFindingRequest)]
pub async fn conclude(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    Json(input): Json<ConcludeFindingRequest>,
) -> Result<Response, ApiError> {
    let req = conclusion_of(&input).map_err(|(c, zh, en)| bad_input(&op, c, zh, en))?;
    let outcome = state
        .app
        .oversight()
        .conclude_finding(&who.person, id, &req, &now_op(&op))
        .await;
    let case = answered(&op, outcome)?;
    Ok(Json(json!({ "concluded": true, "violation": case })).into_response())
}

/// A bound of the reconciliation period: any date form the pages read, in the window every
/// search bound shares.
fn instant_of(date: &str) -> Option<Timestamp> {
    let today = querywarden_domain::roc_date::taipei_date(Timestamp::now());
    let d = RocDate::parse_field(
        date,
        querywarden_domain::roc_date::DateField::SearchBound,
        today,
    )
    .ok()?;
    Some(taipei_day_start_utc(d))
}

/// 即時比對 reconcile usage records with executions now: {from, to} ISO dates (to exclusive)
#[utoipa::path(post, path = "/api/v1/oversight/reconciliation", request_body = ReconcileRequest)]
pub async fn reconcile(
    ApiCall { state, op, who }: ApiCall,
    Json(input): Json<ReconcileRequest>,
) -> Result<Response, ApiError> {
    let (from, to) = match (instant_of(&input.from), instant_of(&input.to)) {
        (Some(from), Some(to)) if from < to => (from, to),
        _ => {
            return Err(bad_input(
                &op,
                "reconciliation.period",
                "期間須為 YYYY-MM-DD 日期，且起日早於迄日",
                "the period must be two YYYY-MM-DD dates, from before to",
            ));
        }
    };
    let outcome = state
        .app
        .oversight()
        .reconcile(&who.person, from, to, &now_op(&op))
        .await;
    let r = answered(&op, outcome)?;
    Ok(Json(json!({
        "from": r.from.to_string(),
        "to": r.to.to_string(),
        "statistics": r.analysis.statistics,
        "findings": r.analysis.findings.iter().map(|f| json!({
            "rule": f.rule, "person": f.person.map(|p| p.get()),
            "at": f.at.map(|t| t.to_string()), "object": f.object, "detail": f.detail,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// 違規案件 violation cases (mine, or all for the administrator and director)
#[utoipa::path(get, path = "/api/v1/oversight/violations")]
pub async fn violations(ApiCall { state, op, who }: ApiCall) -> Result<Response, ApiError> {
    let rows = state
        .app
        .oversight()
        .cases(&who.person)
        .await
        .map_err(ApiError::internal_for(&op))?;
    let now = Timestamp::now();
    Ok(Json(json!({
        "violations": rows.iter().map(|v| violation_json(v, now)).collect::<Vec<_>>()
    }))
    .into_response())
}

/// 違規案件內容 one case
#[utoipa::path(get, path = "/api/v1/oversight/violations/{id}", params(("id" = i64, Path)))]
pub async fn violation_one(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let outcome = state
        .app
        .oversight()
        .case_for(&who.person, id, &now_op(&op))
        .await;
    let v = answered(&op, outcome)?;
    Ok(Json(violation_json(&v, Timestamp::now())).into_response())
}

/// 開立違規案件 file a case: {account, rule, evidence, suspend_grants}; the report is due in ten days (行政程序法 §48)
#[utoipa::path(post, path = "/api/v1/oversight/violations", request_body = FileViolationRequest,
    responses((status = 201, description = "created")))]
pub async fn file(
    ApiCall { state, op, who }: ApiCall,
    Json(input): Json<FileViolationRequest>,
) -> Result<Response, ApiError> {
    let req = FileByAccount {
        account: &input.account,
        rule: input.rule,
        evidence: input.evidence,
        suspend_grants: input.suspend_grants,
    };
    let outcome = state
        .app
        .oversight()
        .file_violation(&who, req, &now_op(&op))
        .await;
    let id = answered(&op, outcome)?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// 提出檢討報告 submit the review report: {report}
#[utoipa::path(post, path = "/api/v1/oversight/violations/{id}/report", params(("id" = i64, Path)),
    request_body = SubmitReportRequest)]
pub async fn report(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    Json(input): Json<SubmitReportRequest>,
) -> Result<Response, ApiError> {
    let outcome = state
        .app
        .oversight()
        .submit_report(&who.person, id, &input.report, &now_op(&op))
        .await;
    answered(&op, outcome)?;
    Ok(Json(json!({ "submitted": true })).into_response())
}

/// `accept` → `None`; `return` → the note; anything else is bad input.
pub(crate) fn return_note_of(input: &DecideReportRequest) -> Option<Option<&str>> {
    match input.decision.as_str() {
        "accept" => Some(None),
        "return" => Some(Some(input.note.as_str())),
        _ => None,
    }
}

/// 審查檢討報告 accept or return the report: {decision: accept|return, note}
#[utoipa::path(post, path = "/api/v1/oversight/violations/{id}/decision",
    params(("id" = i64, Path)), request_body = DecideReportRequest)]
pub async fn decide(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    Json(input): Json<DecideReportRequest>,
) -> Result<Response, ApiError> {
    let Some(note) = return_note_of(&input) else {
        return Err(bad_input(
            &op,
            "violation.decision",
            "審查結果須為「接受」或「退回」",
            "the decision must be accept or return",
        ));
    };
    let outcome = state
        .app
        .oversight()
        .decide_report(&who.person, id, note, &now_op(&op))
        .await;
    answered(&op, outcome)?;
    Ok(Json(json!({ "decided": input.decision })).into_response())
}

/// 局長儀表板 the director's dashboard: open findings, overdue reports, the quarter's figures
#[utoipa::path(get, path = "/api/v1/oversight/dashboard")]
pub async fn dashboard_data(ApiCall { state, op, who }: ApiCall) -> Result<Response, ApiError> {
    let outcome = state
        .app
        .oversight()
        .dashboard_data(&who, &now_op(&op))
        .await;
    let d = answered(&op, outcome)?;
    let mut j = serde_json::to_value(&d).unwrap_or(Value::Null);
    j["reviews"] = Value::Array(d.reviews.iter().map(review_json).collect());
    Ok(Json(j).into_response())
}
