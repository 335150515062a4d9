//! The permission JSON API under `/api/v1/permissions/…` for Form 1 (§2): one's applications,
//! writing, amending, submitting and withdrawing one, the decision at the pending step, the
//! approver's inbox, one's grants and the administrator's overview. Also what the rest of the
//! area's API shares: errors, bodies, dates. (Staff and recertification: [`super::staff_api`].)
//!
//! Security-sensitive. API calls need a session ([`ApiSession`]: 401/423, and the CSRF header
//! on unsafe methods); bodies are JSON with unknown fields refused; refusals answer with the
//! rule's stable code, the same the pages show. Nothing personal is echoed in errors; national
//! IDs leave only masked.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::directory::Directory;
use querywarden_app::permission::{ApplicantAct, GrantView, PermissionError};
use querywarden_domain::permission::{
    ApplicationId, ApplicationState, PermissionApplication, StepRecord,
};
use querywarden_domain::roc_date::RocDate;
use serde::Serialize;
use serde_json::{Value, json};

use super::input::{ApplicationBody, BadField, DecisionBody, FilterQuery};
use super::{refusal_status, today};
use crate::app_op::{now_op, op_of};
use crate::error::ApiError;
use crate::session::ApiCall;
use crate::{AppState, OperationId};

// ---------------------------------------------------------------------------------------------
// Errors, bodies and dates, shared by the area's API.

/// A permission failure as the API answers it.
pub(super) fn api_error(e: PermissionError, op: &str) -> ApiError {
    match e {
        PermissionError::Refused(r) => ApiError::refusal(refusal_status(&r), &r, op),
        PermissionError::NotFound(what) => ApiError::not_found("permission.not_found", what, op),
        PermissionError::Conflict => ApiError::conflict("permission.conflict", op),
        PermissionError::App(e) => ApiError::internal(&e, op),
    }
}

/// `map_err` for the operation `op`.
pub(super) fn failed(op: &OperationId) -> impl Fn(PermissionError) -> ApiError + '_ {
    move |e| api_error(e, &op.0)
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

/// The JSON body, or 400 `request.malformed` (413 for one too large).
pub(super) fn body<T>(b: Result<Json<T>, JsonRejection>, op: &str) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|r| crate::rejection::json_body_refused(&r, op, || malformed(op)))
}

/// `2026-03-05`: dates in the API are ISO; inputs also accept the ROC form (`115/03/05`).
pub(super) fn iso(d: RocDate) -> String {
    d.civil().to_string()
}

// ---------------------------------------------------------------------------------------------
// Views.

#[derive(Serialize, utoipa::ToSchema)]
pub struct StepView {
    round: u32,
    step: &'static str,
    by: String,
    at: String,
    outcome: &'static str,
    effective_from: Option<String>,
    comment: String,
}

#[derive(Serialize, utoipa::ToSchema)]
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

/// The signers' accounts by person, to name them in [`StepView`].
struct Accounts(Directory);

impl Accounts {
    async fn load(state: &AppState, who: &SignedIn, op: &OperationId) -> Result<Self, ApiError> {
        let d = state
            .app
            .permissions()
            .directory(who.person.id)
            .await
            .map_err(failed(op))?;
        Ok(Accounts(d))
    }

    fn step(&self, s: &StepRecord) -> StepView {
        StepView {
            round: s.round,
            step: s.step.code(),
            by: self.0.account(s.by),
            at: s.at.to_string(),
            outcome: s.outcome.code(),
            effective_from: s.effective_from.map(iso),
            comment: s.comment.clone(),
        }
    }

    fn application(&self, a: &PermissionApplication) -> ApplicationView {
        let (note, effective_from) = match &a.state {
            ApplicationState::Returned { note } => (Some(note.clone()), None),
            ApplicationState::Refused { reason, .. } => (Some(reason.clone()), None),
            ApplicationState::Approved { effective_from } => (None, Some(iso(*effective_from))),
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
            steps: a.steps.iter().map(|s| self.step(s)).collect(),
        }
    }
}

/// Application `app` as JSON, its signers named by account.
async fn view_of(
    state: &AppState,
    who: &SignedIn,
    op: &OperationId,
    app: &PermissionApplication,
) -> Result<Json<ApplicationView>, ApiError> {
    Ok(Json(Accounts::load(state, who, op).await?.application(app)))
}

#[derive(Serialize, utoipa::ToSchema)]
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

fn grants_json(grants: &[GrantView]) -> Json<Vec<GrantJson>> {
    Json(
        grants
            .iter()
            .map(|v| {
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
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Applications.

/// 我的申請 the signed-in person's Form 1 applications
#[utoipa::path(get, path = "/api/v1/permissions/applications",
    responses((status = 200, description = "ok", body = Vec<ApplicationView>)))]
pub async fn my_applications(
    ApiCall { state, op, who }: ApiCall,
) -> Result<Json<Vec<ApplicationView>>, ApiError> {
    let apps = state
        .app
        .permissions()
        .applications_of(who.person.id)
        .await
        .map_err(failed(&op))?;
    let accounts = Accounts::load(&state, &who, &op).await?;
    Ok(Json(apps.iter().map(|a| accounts.application(a)).collect()))
}

/// 填寫附表1（草稿） write a Form 1 as a draft (201, Location)
///
/// Writes a Form 1 as a draft (201); submit it with `…/{id}/submit`.
#[utoipa::path(post, path = "/api/v1/permissions/applications", request_body = ApplicationBody,
    responses((status = 201, description = "created")))]
pub async fn create(
    ApiCall { state, op, who }: ApiCall,
    b: Result<Json<ApplicationBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = body(b, &op.0)?.parse().map_err(|e| bad_field(e, &op.0))?;
    let app = state
        .app
        .permissions()
        .save_application(who.person.id, None, form, &op_of(&op))
        .await
        .map_err(failed(&op))?;
    let location = format!("/api/v1/permissions/applications/{}", app.id);
    let view = view_of(&state, &who, &op, &app).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], view).into_response())
}

/// 申請表與簽核紀錄 one application with every sign-off (applicant, signers, approver, administrator)
#[utoipa::path(get, path = "/api/v1/permissions/applications/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "ok", body = ApplicationView)))]
pub async fn application(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationView>, ApiError> {
    let app = state
        .app
        .permissions()
        .application_for_viewer(who.person.id, ApplicationId::new(id), &now_op(&op))
        .await
        .map_err(failed(&op))?;
    view_of(&state, &who, &op, &app).await
}

/// 修改草稿或退回之申請表 amend a draft or a returned application
///
/// Amends a draft or a returned application.
#[utoipa::path(put, path = "/api/v1/permissions/applications/{id}", params(("id" = i64, Path)),
    request_body = ApplicationBody,
    responses((status = 200, description = "ok", body = ApplicationView)))]
pub async fn amend(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    b: Result<Json<ApplicationBody>, JsonRejection>,
) -> Result<Json<ApplicationView>, ApiError> {
    let form = body(b, &op.0)?.parse().map_err(|e| bad_field(e, &op.0))?;
    let id = Some(ApplicationId::new(id));
    let app = state
        .app
        .permissions()
        .save_application(who.person.id, id, form, &op_of(&op))
        .await
        .map_err(failed(&op))?;
    view_of(&state, &who, &op, &app).await
}

/// The applicant's act on application `id`, answered with the application.
async fn applicant_act(
    state: &AppState,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    act: ApplicantAct,
) -> Result<Json<ApplicationView>, ApiError> {
    let app = state
        .app
        .permissions()
        .act_as_applicant(who.person.id, ApplicationId::new(id), act, &op_of(op))
        .await
        .map_err(failed(op))?;
    view_of(state, who, op, &app).await
}

/// 送出簽核 submit (or resubmit) to the unit supervisor
#[utoipa::path(post, path = "/api/v1/permissions/applications/{id}/submit",
    params(("id" = i64, Path)),
    responses((status = 200, description = "ok", body = ApplicationView)))]
pub async fn submit(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationView>, ApiError> {
    applicant_act(&state, &op, &who, id, ApplicantAct::Submit).await
}

/// 撤回 withdraw before the last step
#[utoipa::path(post, path = "/api/v1/permissions/applications/{id}/withdraw",
    params(("id" = i64, Path)),
    responses((status = 200, description = "ok", body = ApplicationView)))]
pub async fn withdraw(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationView>, ApiError> {
    applicant_act(&state, &op, &who, id, ApplicantAct::Withdraw).await
}

/// 簽核 decide the pending step: approve (the administrator with effective_from, ROC or ISO), refuse (comment = reason), other (administrator; comment = note)
///
/// The decision at the pending step; the grants it created or ended.
#[utoipa::path(post, path = "/api/v1/permissions/applications/{id}/decision",
    params(("id" = i64, Path)), request_body = DecisionBody)]
pub async fn decide(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    b: Result<Json<DecisionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let decision = body(b, &op.0)?
        .parse(today())
        .map_err(|e| bad_field(e, &op.0))?;
    let (app, changes) = state
        .app
        .permissions()
        .decide_step(who.person.id, ApplicationId::new(id), decision, &op_of(&op))
        .await
        .map_err(failed(&op))?;
    let accounts = Accounts::load(&state, &who, &op).await?;
    Ok(Json(json!({
        "application": accounts.application(&app),
        "grants_created": changes.created.iter().map(|g| g.get()).collect::<Vec<_>>(),
        "grants_ended": changes.ended.iter().map(|g| g.get()).collect::<Vec<_>>(),
    })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxJson {
    application: ApplicationView,
    step: &'static str,
    waiting_since: Option<String>,
    reminder_on: Option<String>,
    reminder_due: bool,
}

/// 待簽核 steps waiting for the signed-in person, with reminder flags
#[utoipa::path(get, path = "/api/v1/permissions/inbox",
    responses((status = 200, description = "ok", body = Vec<InboxJson>)))]
pub async fn inbox(ApiCall { state, op, who }: ApiCall) -> Result<Json<Vec<InboxJson>>, ApiError> {
    let entries = state
        .app
        .permissions()
        .inbox(who.person.id, today())
        .await
        .map_err(failed(&op))?;
    let accounts = Accounts::load(&state, &who, &op).await?;
    Ok(Json(
        entries
            .iter()
            .map(|e| InboxJson {
                application: accounts.application(&e.application),
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

/// 我的查調權限 the signed-in person's grants
#[utoipa::path(get, path = "/api/v1/permissions/grants",
    responses((status = 200, description = "ok", body = Vec<GrantJson>)))]
pub async fn my_grants(
    ApiCall { state, op, who }: ApiCall,
) -> Result<Json<Vec<GrantJson>>, ApiError> {
    let grants = state
        .app
        .permissions()
        .my_grants(who.person.id, today())
        .await
        .map_err(failed(&op))?;
    Ok(grants_json(&grants))
}

/// 全部授權總覽 all grants (permission administrator), filtered by query unit, item, status
#[utoipa::path(get, path = "/api/v1/permissions/admin/grants", params(FilterQuery),
    responses((status = 200, description = "ok", body = Vec<GrantJson>)))]
pub async fn overview(
    ApiCall { state, op, who }: ApiCall,
    Query(q): Query<FilterQuery>,
) -> Result<Json<Vec<GrantJson>>, ApiError> {
    let permissions = state.app.permissions();
    let desk = permissions
        .administrator_desk(who.person.id, &now_op(&op))
        .await
        .map_err(failed(&op))?;
    let filter = q.parse().map_err(|e| bad_field(e, &op.0))?;
    let grants = permissions
        .grant_overview(&desk, &filter, today())
        .await
        .map_err(failed(&op))?;
    Ok(grants_json(&grants))
}
