//! The permission JSON API under `/api/v1/permissions/…` (the same actions as the pages) and
//! the SCIM 2.0 endpoint `/scim/v2/Users` for HR systems that push staff changes.
//!
//! Security-sensitive. API calls need a session ([`ApiSession`]: 401/423, and the CSRF header
//! on unsafe methods); bodies are JSON with unknown fields refused; refusals answer with the
//! rule's stable code. SCIM is authenticated by a bearer token whose SHA-256 is configured
//! (`[scim] token_sha256`), compared in constant time; with no token configured the endpoint
//! does not exist (404). Nothing personal is echoed in errors; national IDs leave only masked.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use querywarden_app::permission::recertification as recert;
use querywarden_app::permission::staff;
use querywarden_app::permission::{self as perm, GrantView, InboxEntry, PermissionError};
use querywarden_domain::org::Account;
use querywarden_domain::permission::recertification::{
    RecertificationDecision, RecertificationItem, RecertificationRound, RoundId,
};
use querywarden_domain::permission::{ApplicationId, GrantId, PermissionApplication};
use querywarden_domain::roc_date::{RocDate, taipei_date};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest;

use crate::error::ApiError;
use crate::permission_pages::{
    BadField, FilterQuery, RawApplication, now_op, op_of, parse_application, parse_decision,
    parse_filter, policy, refusal_status,
};
use crate::session::ApiSession;
use crate::{AppState, OperationId};

// ---------------------------------------------------------------------------------------------
// Errors and views.

fn api_error(e: PermissionError, op: &str) -> ApiError {
    match e {
        PermissionError::Refused(r) => ApiError::new(
            refusal_status(&r),
            r.code(),
            r.to_string(),
            r.message_en(),
            op,
        ),
        PermissionError::NotFound(what) => ApiError::new(
            StatusCode::NOT_FOUND,
            "permission.not_found",
            format!("找不到{what}"),
            "not found",
            op,
        ),
        PermissionError::Conflict => ApiError::new(
            StatusCode::CONFLICT,
            "permission.conflict",
            "資料已被他人變更，請重新整理後再試",
            "changed by someone else meanwhile; reload and try again",
            op,
        ),
        PermissionError::App(e) => ApiError::internal(&e, op),
    }
}

fn bad_field(b: BadField, op: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, b.code, b.zh, b.en, op)
}

fn malformed(op: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "request.malformed",
        "請求格式錯誤：需要符合說明文件的 JSON 物件",
        "malformed request: expected the documented JSON object",
        op,
    )
}

fn body<T>(b: Result<Json<T>, JsonRejection>, op: &str) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|r| crate::rejection::json_body_refused(&r, op, || malformed(op)))
}

/// `2026-03-05`: dates in the API are ISO; inputs also accept the ROC form (`115/03/05`).
fn iso(d: RocDate) -> String {
    d.civil().to_string()
}

#[derive(Serialize)]
pub struct StepView {
    round: u32,
    step: &'static str,
    by: String,
    at: String,
    outcome: &'static str,
    effective_from: Option<String>,
    comment: String,
}

#[derive(Serialize)]
pub struct ApplicationView {
    id: i64,
    form_number: String,
    application_date: String,
    kind: &'static str,
    unit: String,
    title: String,
    name: String,
    reason: String,
    national_id_masked: String,
    phone: String,
    email: String,
    egov_account: String,
    items: Vec<String>,
    read_pdpa_and_rules: bool,
    has_certificate_and_reader: bool,
    state: &'static str,
    pending_step: Option<&'static str>,
    /// The return note or the refusal reason.
    note: Option<String>,
    effective_from: Option<String>,
    round: u32,
    steps: Vec<StepView>,
}

async fn accounts(
    state: &AppState,
    op: &OperationId,
) -> Result<std::collections::BTreeMap<i64, String>, ApiError> {
    Ok(state
        .app
        .store()
        .persons()
        .await
        .map_err(|e| ApiError::internal(&e.into(), &op.0))?
        .into_iter()
        .map(|p| (p.id.get(), p.account.as_str().to_string()))
        .collect())
}

fn application_view(
    a: &PermissionApplication,
    accounts: &std::collections::BTreeMap<i64, String>,
) -> ApplicationView {
    use querywarden_domain::permission::ApplicationState as S;
    let (note, effective_from) = match &a.state {
        S::Returned { note } => (Some(note.clone()), None),
        S::Refused { reason, .. } => (Some(reason.clone()), None),
        S::Approved { effective_from } => (None, Some(iso(*effective_from))),
        _ => (None, None),
    };
    ApplicationView {
        id: a.id.get(),
        form_number: a.form_number.to_string(),
        application_date: iso(a.application_date),
        kind: a.kind.code(),
        unit: a.unit.as_str().to_string(),
        title: a.title.clone(),
        name: a.name.clone(),
        reason: a.reason.clone(),
        national_id_masked: a.national_id_masked.clone(),
        phone: a.phone.clone(),
        email: a.email.clone(),
        egov_account: a.egov_account.clone(),
        items: a.items.iter().map(|i| i.as_str().to_string()).collect(),
        read_pdpa_and_rules: a.confirmations.read_pdpa_and_rules,
        has_certificate_and_reader: a.confirmations.has_certificate_and_reader,
        state: a.state.code(),
        pending_step: a.state.pending_step().map(|s| s.code()),
        note,
        effective_from,
        round: a.round,
        steps: a
            .steps
            .iter()
            .map(|s| StepView {
                round: s.round,
                step: s.step.code(),
                by: accounts
                    .get(&s.by.get())
                    .cloned()
                    .unwrap_or_else(|| s.by.to_string()),
                at: s.at.to_string(),
                outcome: s.outcome.code(),
                effective_from: s.effective_from.map(iso),
                comment: s.comment.clone(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
pub struct GrantJson {
    id: i64,
    account: String,
    name: String,
    unit: String,
    item: String,
    effective_from: String,
    effective_to: Option<String>,
    status: &'static str,
    suspended_from: Option<String>,
    suspension_cause: Option<&'static str>,
    application: i64,
    in_force: bool,
}

fn grant_json(v: &GrantView) -> GrantJson {
    let g = &v.grant;
    GrantJson {
        id: g.id.get(),
        account: v.account.as_str().to_string(),
        name: v.name.clone(),
        unit: v.unit.as_str().to_string(),
        item: g.item.as_str().to_string(),
        effective_from: iso(g.effective_from),
        effective_to: g.effective_to.map(iso),
        status: g.status.code(),
        suspended_from: g.suspended_from.map(iso),
        suspension_cause: g.suspension_cause.map(|c| c.code()),
        application: g.application.get(),
        in_force: v.in_force,
    }
}

fn today() -> RocDate {
    taipei_date(jiff::Timestamp::now())
}

// ---------------------------------------------------------------------------------------------
// Applications.

/// A Form 1 as JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationBody {
    kind: String,
    reason: String,
    national_id: String,
    phone: String,
    email: String,
    egov_account: String,
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    read_pdpa_and_rules: bool,
    #[serde(default)]
    has_certificate_and_reader: bool,
}

impl ApplicationBody {
    fn raw(&self) -> RawApplication<'_> {
        RawApplication {
            kind: &self.kind,
            reason: &self.reason,
            national_id: &self.national_id,
            phone: &self.phone,
            email: &self.email,
            egov_account: &self.egov_account,
            items: self.items.iter().map(String::as_str).collect(),
            read_pdpa: self.read_pdpa_and_rules,
            has_card: self.has_certificate_and_reader,
        }
    }
}

pub async fn my_applications(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Vec<ApplicationView>>, ApiError> {
    let apps = perm::applications_of(state.app.store(), who.person.id)
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let accounts = accounts(&state, &op).await?;
    Ok(Json(
        apps.iter()
            .map(|a| application_view(a, &accounts))
            .collect(),
    ))
}

/// Writes a Form 1 as a draft (201); submit it with `…/{id}/submit`.
pub async fn create(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    b: Result<Json<ApplicationBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(b, &op.0)?;
    let form = parse_application(&b.raw()).map_err(|e| bad_field(e, &op.0))?;
    let app = perm::create_application(
        state.app.store(),
        state.app.keys(),
        who.person.id,
        form,
        &op_of(&op, addr),
    )
    .await
    .map_err(|e| api_error(e, &op.0))?;
    let accounts = accounts(&state, &op).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/permissions/applications/{}", app.id),
        )],
        Json(application_view(&app, &accounts)),
    )
        .into_response())
}

pub async fn application(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationView>, ApiError> {
    let app = perm::application_for_viewer(
        state.app.store(),
        policy(&state),
        who.person.id,
        ApplicationId::new(id),
        &now_op(&op),
    )
    .await
    .map_err(|e| api_error(e, &op.0))?;
    let accounts = accounts(&state, &op).await?;
    Ok(Json(application_view(&app, &accounts)))
}

/// Amends a draft or a returned application.
pub async fn amend(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    Path(id): Path<i64>,
    b: Result<Json<ApplicationBody>, JsonRejection>,
) -> Result<Json<ApplicationView>, ApiError> {
    let b = body(b, &op.0)?;
    let form = parse_application(&b.raw()).map_err(|e| bad_field(e, &op.0))?;
    let app = perm::amend_application(
        state.app.store(),
        state.app.keys(),
        who.person.id,
        ApplicationId::new(id),
        form,
        &op_of(&op, addr),
    )
    .await
    .map_err(|e| api_error(e, &op.0))?;
    let accounts = accounts(&state, &op).await?;
    Ok(Json(application_view(&app, &accounts)))
}

pub async fn submit(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationView>, ApiError> {
    let app = perm::submit_application(
        state.app.store(),
        who.person.id,
        ApplicationId::new(id),
        &op_of(&op, addr),
    )
    .await
    .map_err(|e| api_error(e, &op.0))?;
    let accounts = accounts(&state, &op).await?;
    Ok(Json(application_view(&app, &accounts)))
}

pub async fn withdraw(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationView>, ApiError> {
    let app = perm::withdraw_application(
        state.app.store(),
        who.person.id,
        ApplicationId::new(id),
        &op_of(&op, addr),
    )
    .await
    .map_err(|e| api_error(e, &op.0))?;
    let accounts = accounts(&state, &op).await?;
    Ok(Json(application_view(&app, &accounts)))
}

/// A decision at the pending step.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `approve`, `refuse` or `other`.
    decision: String,
    #[serde(default)]
    effective_from: Option<String>,
    /// The comment, the refusal's reason or the note of "other".
    #[serde(default)]
    comment: String,
}

pub async fn decide(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    Path(id): Path<i64>,
    b: Result<Json<DecisionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b, &op.0)?;
    let today = taipei_date(jiff::Timestamp::now());
    let decision = parse_decision(&b.decision, b.effective_from.as_deref(), &b.comment, today)
        .map_err(|e| bad_field(e, &op.0))?;
    let store = state.app.store();
    let o = op_of(&op, addr);
    let cap = perm::approver_at_step(
        store,
        policy(&state),
        who.person.id,
        ApplicationId::new(id),
        &o,
    )
    .await
    .map_err(|e| api_error(e, &op.0))?;
    let (app, changes) = perm::decide_step(store, &cap, decision, &o)
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let accounts = accounts(&state, &op).await?;
    Ok(Json(json!({
        "application": application_view(&app, &accounts),
        "grants_created": changes.created.iter().map(|g| g.get()).collect::<Vec<_>>(),
        "grants_ended": changes.ended.iter().map(|g| g.get()).collect::<Vec<_>>(),
    })))
}

#[derive(Serialize)]
pub struct InboxJson {
    application: ApplicationView,
    step: &'static str,
    waiting_since: Option<String>,
    reminder_on: Option<String>,
    reminder_due: bool,
}

pub async fn inbox(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Vec<InboxJson>>, ApiError> {
    let entries: Vec<InboxEntry> =
        perm::inbox(state.app.store(), policy(&state), who.person.id, today())
            .await
            .map_err(|e| api_error(e, &op.0))?;
    let accounts = accounts(&state, &op).await?;
    Ok(Json(
        entries
            .iter()
            .map(|e| InboxJson {
                application: application_view(&e.application, &accounts),
                step: e.step.code(),
                waiting_since: e.waiting_since.map(|t| t.to_string()),
                reminder_on: e.reminder_on.map(iso),
                reminder_due: e.reminder_due,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Grants.

pub async fn my_grants(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Vec<GrantJson>>, ApiError> {
    let grants = perm::my_grants(state.app.store(), who.person.id, today())
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok(Json(grants.iter().map(grant_json).collect()))
}

pub async fn overview(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Query(q): Query<FilterQuery>,
) -> Result<Json<Vec<GrantJson>>, ApiError> {
    let store = state.app.store();
    let desk = perm::administrator_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let filter = parse_filter(&q).map_err(|e| bad_field(e, &op.0))?;
    let grants = perm::grant_overview(store, &desk, &filter, today())
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok(Json(grants.iter().map(grant_json).collect()))
}

// ---------------------------------------------------------------------------------------------
// The administrator: staff import, accounts.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffImportBody {
    /// The CSV file's text (format: docs/staff-import-format.md).
    csv: String,
}

pub async fn staff_import(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    b: Result<Json<StaffImportBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let store = state.app.store();
    let desk = perm::administrator_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let b = body(b, &op.0)?;
    match staff::import_staff_csv(store, &desk, &b.csv, &op_of(&op, addr)).await {
        Ok(r) => Ok(Json(json!({
            "rows": r.rows,
            "created": r.created,
            "changed": r.changed,
            "unchanged": r.unchanged,
        }))
        .into_response()),
        Err(staff::StaffImportError::BadRows(rows)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": {
                "code": "staff_import.bad_rows",
                "message": format!("人事資料有 {} 列錯誤，未匯入任何資料", rows.len()),
                "message_en": format!("{} bad rows; nothing was imported", rows.len()),
                "operation_id": op.0,
                "rows": rows.iter().map(|r| json!({ "line": r.line, "reason": r.reason })).collect::<Vec<_>>(),
            }})),
        )
            .into_response()),
        Err(staff::StaffImportError::Failed(e)) => Err(api_error(e, &op.0)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableBody {
    account: String,
}

pub async fn enable(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    b: Result<Json<EnableBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let store = state.app.store();
    let desk = perm::administrator_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let b = body(b, &op.0)?;
    let not_found = || api_error(PermissionError::NotFound("帳號"), &op.0);
    let account = Account::parse(b.account.trim()).map_err(|_| not_found())?;
    let person = store
        .person_by_account(&account)
        .await
        .map_err(|e| ApiError::internal(&e.into(), &op.0))?
        .ok_or_else(not_found)?;
    let was = recert::enable_account(store, &desk, person.id, &op_of(&op, addr))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok(Json(
        json!({ "account": account.as_str(), "was_disabled": was }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Supervisors.

pub async fn staff_changes(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let store = state.app.store();
    let desk = perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let changes = staff::upcoming_staff_changes(store, &desk, today())
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok(Json(Value::from(
        changes
            .iter()
            .map(|(p, r)| {
                json!({
                    "account": p.account.as_str(),
                    "name": p.name,
                    "from_unit": r.change.from_unit.as_str(),
                    "to_unit": r.change.to_unit.as_str(),
                    "from_status": r.change.from_status.code(),
                    "to_status": r.change.to_status.code(),
                    "effective": iso(r.change.effective),
                    "source": r.source,
                })
            })
            .collect::<Vec<_>>(),
    )))
}

fn round_json(r: &RecertificationRound, items: Option<&[RecertificationItem]>) -> Value {
    let mut v = json!({
        "id": r.id.get(),
        "quarter": r.quarter.to_string(),
        "opened_on": iso(r.opened_on),
        "deadline": iso(r.deadline),
        "closed_on": r.closed_on.map(iso),
    });
    if let (Some(items), Value::Object(m)) = (items, &mut v) {
        m.insert(
            "lines".into(),
            Value::from(
                items
                    .iter()
                    .map(|i| {
                        json!({
                            "grant": i.grant.get(),
                            "person": i.person.get(),
                            "item": i.item.as_str(),
                            "uses_last_quarter": i.uses_last_quarter,
                            "last_used": i.last_used.map(iso),
                            "propose_removal": i.propose_removal,
                            "decision": i.decision.map(|d| d.code()),
                        })
                    })
                    .collect::<Vec<_>>(),
            ),
        );
    }
    v
}

pub async fn rounds(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let store = state.app.store();
    let desk = perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let rounds = recert::recertification_rounds(store, &desk)
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok(Json(Value::from(
        rounds
            .iter()
            .map(|r| round_json(r, None))
            .collect::<Vec<_>>(),
    )))
}

pub async fn open_round(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
) -> Result<Response, ApiError> {
    let store = state.app.store();
    let desk = perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let (r, items) = recert::open_recertification(store, policy(&state), &desk, &op_of(&op, addr))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok((StatusCode::CREATED, Json(round_json(&r, Some(&items)))).into_response())
}

pub async fn round(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let store = state.app.store();
    let desk = perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let (r, items) = recert::recertification_round(store, &desk, RoundId::new(id), &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok(Json(round_json(&r, Some(&items))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundDecisionBody {
    grant: i64,
    /// `confirmed` (仍需使用) or `not_needed` (不再需要).
    decision: String,
}

pub async fn round_decide(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    Path(id): Path<i64>,
    b: Result<Json<RoundDecisionBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let b = body(b, &op.0)?;
    let decision = RecertificationDecision::parse_code(&b.decision).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "recertification.bad_decision",
            "決定應為 confirmed（仍需使用）或 not_needed（不再需要）",
            "decision must be confirmed or not_needed",
            &op.0,
        )
    })?;
    let store = state.app.store();
    let desk = perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    recert::decide_recertification(
        store,
        &desk,
        RoundId::new(id),
        GrantId::new(b.grant),
        decision,
        &op_of(&op, addr),
    )
    .await
    .map_err(|e| api_error(e, &op.0))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn round_close(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let store = state.app.store();
    let desk = perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op))
        .await
        .map_err(|e| api_error(e, &op.0))?;
    let suspended =
        recert::close_recertification(store, &desk, RoundId::new(id), &op_of(&op, addr))
            .await
            .map_err(|e| api_error(e, &op.0))?;
    Ok(Json(json!({
        "suspended_grants": suspended.iter().map(|g| g.get()).collect::<Vec<_>>(),
    })))
}

// ---------------------------------------------------------------------------------------------
// SCIM 2.0 (RFC 7644) Users.

const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SCIM_CONTENT_TYPE: &str = "application/scim+json";

fn scim_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, SCIM_CONTENT_TYPE)],
        body.to_string(),
    )
        .into_response()
}

/// An error the SCIM layer answers itself (authentication, media type, path).
fn scim_error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> Response {
    let mut body = json!({
        "schemas": [SCIM_ERROR],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let (Some(t), Value::Object(m)) = (scim_type, &mut body) {
        m.insert("scimType".into(), Value::from(t));
    }
    let mut res = scim_response(status, body);
    if status == StatusCode::UNAUTHORIZED
        && let Ok(v) = "Bearer realm=\"querywarden-scim\"".parse()
    {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// Equal without an early exit (both are SHA-256 outputs, so their lengths match).
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Why a SCIM request was turned away before validation.
struct ScimReject {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: &'static str,
}

impl ScimReject {
    /// The refusal, audited through the app first (§2: every refusal is on the trail) — all
    /// but "no SCIM endpoint configured", which is no request to this system at all.
    async fn respond(self, state: &AppState, op: &OperationId, addr: SocketAddr) -> Response {
        if self.status != StatusCode::NOT_FOUND || self.scim_type.is_some() {
            let code = match self.status {
                StatusCode::UNAUTHORIZED => "scim.unauthorized",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "scim.media_type",
                StatusCode::PAYLOAD_TOO_LARGE => "scim.too_large",
                StatusCode::NOT_FOUND => "scim.noTarget",
                _ => match self.scim_type {
                    Some("invalidValue") => "scim.invalidValue",
                    _ => "scim.invalidSyntax",
                },
            };
            if let Err(e) =
                staff::scim_refused(state.app.store(), code, None, &op_of(op, addr)).await
            {
                tracing::error!(operation_id = %op.0, code = e.code(), "scim refusal not audited");
                return scim_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "internal error; nothing was changed",
                );
            }
        }
        scim_error(self.status, self.scim_type, self.detail)
    }
}

/// The body, or the refusal of one that could not be read (too large above all: 413).
fn scim_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ScimReject> {
    body.map_err(|r| ScimReject {
        status: r.status(),
        scim_type: None,
        detail: if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "the body is too large"
        } else {
            "the body could not be read"
        },
    })
}

/// The HR system's bearer token checked against the configured digest; the payload parsed.
/// No token configured: the endpoint does not exist.
fn scim_request(state: &AppState, headers: &HeaderMap, bytes: &Bytes) -> Result<Value, ScimReject> {
    let reject = |status, scim_type, detail| ScimReject {
        status,
        scim_type,
        detail,
    };
    let Some(expected) = state.app.config().scim_token_sha256 else {
        return Err(reject(StatusCode::NOT_FOUND, None, "not found"));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default();
    let digest: [u8; 32] = sha2::Sha256::digest(presented.as_bytes()).into();
    if presented.is_empty() || !same_digest(&digest, &expected) {
        return Err(reject(
            StatusCode::UNAUTHORIZED,
            None,
            "a valid bearer token is required",
        ));
    }
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media != SCIM_CONTENT_TYPE && media != "application/json" {
        return Err(reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "the body must be application/scim+json",
        ));
    }
    serde_json::from_slice::<Value>(bytes).map_err(|_| {
        reject(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "the body is not a JSON object",
        )
    })
}

async fn scim_apply(
    state: &AppState,
    op: &OperationId,
    addr: SocketAddr,
    payload: Value,
) -> Response {
    match staff::scim_put_user(state.app.store(), &payload, &op_of(op, addr)).await {
        Ok(r) => {
            let status = if r.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let mut res = scim_response(status, r.resource);
            if let Ok(v) = format!(
                "/scim/v2/Users/{}",
                payload["userName"].as_str().unwrap_or_default()
            )
            .parse()
            {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Err(e) => scim_response(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.to_json(),
        ),
    }
}

/// `POST /scim/v2/Users`: creates the user, or records the change of an existing one.
pub async fn scim_post(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match scim_body(body).and_then(|bytes| scim_request(&state, &headers, &bytes)) {
        Ok(payload) => scim_apply(&state, &op, addr, payload).await,
        Err(r) => r.respond(&state, &op, addr).await,
    }
}

/// `PUT /scim/v2/Users/{account}`: the account in the path must be the payload's `userName`
/// (filled in when the payload leaves it out).
pub async fn scim_put(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut payload = match scim_body(body).and_then(|bytes| scim_request(&state, &headers, &bytes))
    {
        Ok(p) => p,
        Err(r) => return r.respond(&state, &op, addr).await,
    };
    let Ok(account) = Account::parse(&id) else {
        return ScimReject {
            status: StatusCode::NOT_FOUND,
            scim_type: Some("noTarget"),
            detail: "no such user",
        }
        .respond(&state, &op, addr)
        .await;
    };
    if let Value::Object(m) = &mut payload {
        match m
            .get("userName")
            .and_then(Value::as_str)
            .map(Account::parse)
        {
            None => {
                m.insert("userName".into(), Value::from(account.as_str()));
            }
            Some(Ok(a)) if a == account => {}
            Some(_) => {
                return ScimReject {
                    status: StatusCode::BAD_REQUEST,
                    scim_type: Some("invalidValue"),
                    detail: "userName does not match the user in the path",
                }
                .respond(&state, &op, addr)
                .await;
            }
        }
    }
    scim_apply(&state, &op, addr, payload).await
}

// ---------------------------------------------------------------------------------------------
// OpenAPI.

/// The OpenAPI operation of a `/api/v1/permissions/…` route (see `api::openapi_document`).
pub fn openapi_operation(method: &str, path: &str) -> Value {
    let error = |d: &str| json!({ "description": d });
    let refused = json!({
        "400": error("malformed JSON or unknown field (request.malformed)"),
        "401": error("not signed in"),
        "403": error("CSRF token missing (session.csrf), not the right person, or separation of duties (sod.*)"),
        "404": error("not found, or not yours to see (permission.not_found)"),
        "409": error("changed meanwhile (permission.conflict)"),
        "422": error("refused by a rule; `code` names it (permission.*, recertification.*)"),
    });
    let form = json!({ "type": "object", "additionalProperties": false,
        "required": ["kind", "reason", "national_id", "phone", "email", "egov_account"],
        "properties": {
            "kind": { "enum": ["new", "revoke", "change_items", "job_change"] },
            "reason": { "type": "string" },
            "national_id": { "type": "string", "description": "kept only masked and as a keyed hash" },
            "phone": { "type": "string" }, "email": { "type": "string" },
            "egov_account": { "type": "string" },
            "items": { "type": "array", "items": { "type": "string", "example": "C0101" } },
            "read_pdpa_and_rules": { "type": "boolean" },
            "has_certificate_and_reader": { "type": "boolean" } } });
    let with_body = |summary: &str, schema: Value, ok: &str| {
        let mut responses = refused.clone();
        if let Value::Object(m) = &mut responses {
            m.insert("200".into(), error(ok));
        }
        json!({ "summary": summary,
            "requestBody": { "required": true, "content": { "application/json": { "schema": schema } } },
            "responses": responses })
    };
    let plain = |summary: &str, ok: &str| {
        let mut responses = refused.clone();
        if let Value::Object(m) = &mut responses {
            m.insert("200".into(), error(ok));
        }
        json!({ "summary": summary, "responses": responses })
    };
    match (method, path) {
        ("get", "/api/v1/permissions/applications") => plain(
            "我的申請 the signed-in person's Form 1 applications",
            "applications",
        ),
        ("post", "/api/v1/permissions/applications") => with_body(
            "填寫附表1（草稿） write a Form 1 as a draft (201, Location)",
            form,
            "-",
        ),
        ("get", "/api/v1/permissions/applications/{id}") => plain(
            "申請表與簽核紀錄 one application with every sign-off (applicant, signers, approver, administrator)",
            "application",
        ),
        ("put", "/api/v1/permissions/applications/{id}") => with_body(
            "修改草稿或退回之申請表 amend a draft or a returned application",
            form,
            "application",
        ),
        ("post", "/api/v1/permissions/applications/{id}/submit") => plain(
            "送出簽核 submit (or resubmit) to the unit supervisor",
            "application",
        ),
        ("post", "/api/v1/permissions/applications/{id}/withdraw") => {
            plain("撤回 withdraw before the last step", "application")
        }
        ("post", "/api/v1/permissions/applications/{id}/decision") => with_body(
            "簽核 decide the pending step: approve (the administrator with effective_from, ROC or ISO), refuse (comment = reason), other (administrator; comment = note)",
            json!({ "type": "object", "additionalProperties": false, "required": ["decision"],
                "properties": { "decision": { "enum": ["approve", "refuse", "other"] },
                    "effective_from": { "type": "string", "example": "115/03/05" },
                    "comment": { "type": "string" } } }),
            "{application, grants_created, grants_ended}",
        ),
        ("get", "/api/v1/permissions/inbox") => plain(
            "待簽核 steps waiting for the signed-in person, with reminder flags",
            "entries",
        ),
        ("get", "/api/v1/permissions/grants") => {
            plain("我的查調權限 the signed-in person's grants", "grants")
        }
        ("get", "/api/v1/permissions/admin/grants") => {
            let mut op = plain(
                "全部授權總覽 all grants (permission administrator), filtered by query unit, item, status",
                "grants",
            );
            if let Value::Object(m) = &mut op {
                m.insert(
                    "parameters".into(),
                    json!(
                        ["unit", "item", "status"]
                            .iter()
                            .map(|n| json!({
                    "name": n, "in": "query", "required": false, "schema": { "type": "string" } }))
                            .collect::<Vec<_>>()
                    ),
                );
            }
            op
        }
        ("post", "/api/v1/permissions/admin/staff-import") => with_body(
            "人事資料匯入 staff CSV import (docs/staff-import-format.md); any bad row: 422 with every bad line, nothing imported",
            json!({ "type": "object", "additionalProperties": false, "required": ["csv"],
                "properties": { "csv": { "type": "string" } } }),
            "{rows, created, changed, unchanged}",
        ),
        ("post", "/api/v1/permissions/admin/accounts/enable") => with_body(
            "重新啟用帳號 enable a disabled account (permission administrator)",
            json!({ "type": "object", "additionalProperties": false, "required": ["account"],
                "properties": { "account": { "type": "string" } } }),
            "{account, was_disabled}",
        ),
        ("get", "/api/v1/permissions/staff-changes") => plain(
            "即將生效的人事異動 upcoming changes of the supervisor's staff",
            "changes",
        ),
        ("get", "/api/v1/permissions/recertifications") => {
            plain("定期複核 the supervisor's rounds", "rounds")
        }
        ("post", "/api/v1/permissions/recertifications") => plain(
            "開始本季複核 open this quarter's round (201)",
            "round with lines",
        ),
        ("get", "/api/v1/permissions/recertifications/{id}") => {
            plain("複核內容 a round with its lines", "round")
        }
        ("post", "/api/v1/permissions/recertifications/{id}/decisions") => with_body(
            "逐項確認 confirm or deny one line (204)",
            json!({ "type": "object", "additionalProperties": false, "required": ["grant", "decision"],
                "properties": { "grant": { "type": "integer" },
                    "decision": { "enum": ["confirmed", "not_needed"] } } }),
            "-",
        ),
        ("post", "/api/v1/permissions/recertifications/{id}/close") => plain(
            "結束複核 close the round; grants not confirmed are suspended",
            "{suspended_grants}",
        ),
        _ => json!({ "responses": { "200": { "description": "ok" } } }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "a test that cannot set itself up should fail loudly"
    )]

    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    use querywarden_app::App;
    use querywarden_app::config::RawConfig;
    use tower::ServiceExt;

    use super::*;

    async fn router(dir: &std::path::Path, token_sha256: Option<String>) -> axum::Router {
        let mut raw = RawConfig::default();
        raw.storage.data_dir = dir.to_path_buf();
        raw.scim.token_sha256 = token_sha256;
        let app = App::open(raw.validate().unwrap()).await.unwrap();
        crate::router(AppState::new(app).unwrap())
    }

    async fn scim_status(router: axum::Router, token: &str) -> StatusCode {
        let mut req = Request::post("/scim/v2/Users")
            .header("content-type", SCIM_CONTENT_TYPE)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from("{}"))
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        router.oneshot(req).await.unwrap().status()
    }

    #[tokio::test]
    async fn scim_without_a_configured_token_does_not_exist_and_a_wrong_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let none = router(dir.path(), None).await;
        assert_eq!(scim_status(none, "anything").await, StatusCode::NOT_FOUND);
        let dir = tempfile::tempdir().unwrap();
        let digest = hex::encode(sha2::Sha256::digest(b"right-token"));
        let some = router(dir.path(), Some(digest)).await;
        assert_eq!(
            scim_status(some.clone(), "wrong-token").await,
            StatusCode::UNAUTHORIZED
        );
        // The right token gets through to validation: `{}` is not a SCIM User.
        assert_eq!(
            scim_status(some, "right-token").await,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn digests_compare_equal_only_when_equal() {
        let a = [7u8; 32];
        let mut b = a;
        assert!(same_digest(&a, &b));
        b[31] ^= 1;
        assert!(!same_digest(&a, &b));
    }
}
