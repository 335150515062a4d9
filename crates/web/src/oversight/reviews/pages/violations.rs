//! Violation cases and their corrective reports (§8 ¶2): the list, filing a case, one case,
//! the person's report and the administrator's decision.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::auth::SignedIn;
use querywarden_app::oversight::door::{FileByAccount, FileRefusal};
use querywarden_app::oversight::violation;
use querywarden_domain::org::Role;

use super::super::api::return_note_of;
use super::super::input::{
    DecideReportRequest, FileViolationForm, FileViolationRequest, SubmitReportRequest,
};
use super::{beyond_calendar, day, form_error, not_found, refusal};
use crate::app_op::now_op;
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::CsrfForm;
use crate::oversight::names;
use crate::pages::render;
use crate::session::PageSession;
use crate::templates::{FormError, Frame};
use crate::{AppState, OperationId, PageCall};

// ---------------------------------------------------------------------------------------
// Violations

pub struct CaseLine {
    pub id: i64,
    pub person: String,
    pub rule: String,
    pub source: String,
    pub due_on: String,
    pub state: String,
    pub state_code: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "oversight/violations.html")]
pub struct ViolationsPage {
    pub m: Messages,
    pub frame: Frame,
    pub is_admin: bool,
    pub cases: Vec<CaseLine>,
    pub error: Option<FormError>,
}

fn state_name(code: &str, m: &Messages) -> String {
    m.get(&format!("ov-case-{}", code.replace('_', "-")))
}

async fn violations_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    error: Option<FormError>,
) -> Result<Response, PageError> {
    let path = "/oversight/violations";
    let fail = PageError::internal_on(&m, op, path);
    let rows = state
        .app
        .oversight()
        .cases(&who.person)
        .await
        .map_err(&fail)?;
    let names = names(state, &m).await.map_err(&fail)?;
    let now = Timestamp::now();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ViolationsPage {
        frame: Frame::signed_in(state, who, &m, path),
        is_admin: who.person.has_role(Role::PermissionAdministrator),
        cases: rows
            .iter()
            .map(|v| CaseLine {
                id: v.id,
                person: names.person(v.case.person),
                rule: v.case.rule.clone(),
                source: v.case.source.clone(),
                due_on: day(v.case.due_on, &m),
                state: state_name(&v.state, &m),
                state_code: v.state.clone(),
                overdue: violation::overdue(v, now),
            })
            .collect(),
        error,
        m,
    };
    Ok((status, render(&page, op)).into_response())
}

pub async fn violations(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    violations_response(&state, m, &op, &who, None).await
}

pub async fn file(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, form): CsrfForm<FileViolationForm>,
) -> Result<Response, PageError> {
    let input: FileViolationRequest = form.into();
    let path = "/oversight/violations";
    let req = FileByAccount {
        account: &input.account,
        rule: input.rule,
        evidence: input.evidence,
        suspend_grants: input.suspend_grants,
    };
    match state
        .app
        .oversight()
        .file_violation(&who, req, &now_op(&op))
        .await
        .map_err(PageError::internal_on(&m, &op, path))?
    {
        Ok(id) => Ok(Redirect::to(&format!("/oversight/violations/{id}")).into_response()),
        Err(FileRefusal::NoSuchPerson) => {
            let msg = m.get("ov-no-such-person");
            let e = form_error("violation.no_such_person", msg);
            violations_response(&state, m, &op, &who, e).await
        }
        Err(FileRefusal::Rule(r)) => {
            let e = refusal(&m, &r);
            violations_response(&state, m, &op, &who, e).await
        }
    }
}

#[derive(Template)]
#[template(path = "oversight/violation.html")]
pub struct ViolationPage {
    pub m: Messages,
    pub frame: Frame,
    pub id: i64,
    pub person: String,
    pub rule: String,
    pub evidence: String,
    pub source: String,
    pub opened_at: String,
    pub due_on: String,
    /// 行政程序法 §48: the sentence saying the deadline runs past the loaded calendar years.
    pub beyond_calendar: Option<String>,
    pub overdue: bool,
    pub state: String,
    pub state_code: String,
    pub report: String,
    pub return_note: String,
    pub suspend_grants: bool,
    pub may_report: bool,
    pub may_decide: bool,
    pub error: Option<FormError>,
}

async fn violation_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    error: Option<FormError>,
) -> Result<Response, PageError> {
    let path = format!("/oversight/violations/{id}");
    let fail = PageError::internal_on(&m, op, &path);
    let Ok(v) = state
        .app
        .oversight()
        .case_for(&who.person, id, &now_op(op))
        .await
        .map_err(&fail)?
    else {
        return Ok(not_found(m, op, &path));
    };
    let names = names(state, &m).await.map_err(&fail)?;
    let beyond_calendar = beyond_calendar(state, &m, op, &path, v.case.due_on).await?;
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = ViolationPage {
        frame: Frame::signed_in(state, who, &m, path.clone()),
        id,
        person: names.person(v.case.person),
        rule: v.case.rule.clone(),
        evidence: v.case.evidence.clone(),
        source: v.case.source.clone(),
        opened_at: m.datetime(v.case.opened_at),
        due_on: day(v.case.due_on, &m),
        beyond_calendar,
        overdue: violation::overdue(&v, Timestamp::now()),
        state: state_name(&v.state, &m),
        state_code: v.state.clone(),
        report: v.report.clone().unwrap_or_default(),
        return_note: v.return_note.clone().unwrap_or_default(),
        suspend_grants: v.case.suspend_grants,
        may_report: who.person.id == v.case.person && v.state == "awaiting_report",
        may_decide: who.person.has_role(Role::PermissionAdministrator)
            && who.person.id != v.case.person
            && v.state == "report_submitted",
        error,
        m,
    };
    Ok((status, render(&page, op)).into_response())
}

pub async fn violation_page(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    violation_response(&state, m, &op, &who, id, None).await
}

pub async fn report(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, form): CsrfForm<SubmitReportRequest>,
) -> Result<Response, PageError> {
    let path = format!("/oversight/violations/{id}");
    match state
        .app
        .oversight()
        .submit_report(&who.person, id, &form.report, &now_op(&op))
        .await
        .map_err(PageError::internal_on(&m, &op, &path))?
    {
        Ok(()) => Ok(Redirect::to(&format!("{path}?notice=submitted")).into_response()),
        Err(r) => {
            let e = refusal(&m, &r);
            violation_response(&state, m, &op, &who, id, e).await
        }
    }
}

pub async fn decide(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, form): CsrfForm<DecideReportRequest>,
) -> Result<Response, PageError> {
    let path = format!("/oversight/violations/{id}");
    let Some(note) = return_note_of(&form) else {
        let msg = m.get("ov-bad-decision");
        return violation_response(
            &state,
            m,
            &op,
            &who,
            id,
            form_error("violation.decision", msg),
        )
        .await;
    };
    match state
        .app
        .oversight()
        .decide_report(&who.person, id, note, &now_op(&op))
        .await
        .map_err(PageError::internal_on(&m, &op, &path))?
    {
        Ok(()) => Ok(Redirect::to(&format!("{path}?notice=decided")).into_response()),
        Err(r) => {
            let e = refusal(&m, &r);
            violation_response(&state, m, &op, &who, id, e).await
        }
    }
}
