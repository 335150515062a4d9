//! Pages of the contact officer's desk and of §10 withholding. Thin: check the CSRF token,
//! parse the form, call one use case, render; a refusal is shown on the page it came from
//! with its stable code (the use case has already audited it).

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::auth::SignedIn;
use querywarden_app::citizen_report::Refusal;
use querywarden_domain::org::Role;
use querywarden_domain::roc_date::taipei_date;

use super::acts::{self, refusal_status, stamp};
use super::input::{ExtendForm, RecordForm, WithholdForm, WithholdQuery};
use super::view::{EntryRow, RequestRow, day, entry_rows, form_error, request_row};
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::{CsrfForm, TokenOnly};
use crate::pages::render;
use crate::session::PageSession;
use crate::templates::{ErrorPage, FormError, Frame};
use crate::{AppState, OperationId, PageCall};

const DESK: &str = "/citizen-requests";

/// A refusal that is not about the form (no such request, not the contact officer): an
/// error page with the message and the code.
fn refused_page(m: Messages, op: &OperationId, path: &str, r: &Refusal) -> Response {
    let status = refusal_status(r);
    let e = form_error(r, &m);
    let message = m.aside(&e.message, &e.code);
    ErrorPage::new(m, path, message, op.0.clone()).answer(status, op)
}

// ---------------------------------------------------------------------------------------
// The desk: list and record

#[derive(Template)]
#[template(path = "citizen/list.html")]
pub struct ListPage {
    pub m: Messages,
    pub frame: Frame,
    pub requests: Vec<RequestRow>,
    pub error: Option<FormError>,
    /// What was typed, kept after a refusal (never the national ID: it is typed again).
    pub asked: String,
    pub received: String,
    pub identity_check: String,
    pub signed_text: String,
}

async fn list_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    refused: Option<(&Refusal, &RecordForm)>,
) -> Result<Response, PageError> {
    let lines = match state
        .app
        .citizen_reports()
        .requests(&who.person, stamp(Timestamp::now(), op))
        .await
        .map_err(PageError::internal_on(&m, op, DESK))?
    {
        Ok(l) => l,
        Err(r) => return Ok(refused_page(m, op, DESK, &r)),
    };
    let form = refused.map(|(_, f)| f);
    let page = ListPage {
        frame: Frame::signed_in(state, who, &m, DESK),
        requests: lines.iter().map(|l| request_row(l, &m)).collect(),
        error: refused.map(|(r, _)| form_error(r, &m)),
        asked: form.map(|f| f.asked.clone()).unwrap_or_default(),
        received: form
            .map(|f| f.received.clone())
            .unwrap_or_else(|| taipei_date(Timestamp::now()).format_short()),
        identity_check: form
            .and_then(|f| f.identity_check.clone())
            .unwrap_or_default(),
        signed_text: form.map(|f| f.signed_text.clone()).unwrap_or_default(),
        m,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, render(&page, op)).into_response())
}

pub async fn list(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    list_response(&state, m, &op, &who, None).await
}

pub async fn record(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, form): CsrfForm<RecordForm>,
) -> Result<Response, PageError> {
    let now = Timestamp::now();
    let door = state.app.citizen_reports();
    let outcome = acts::record(&door, &who.person, &form, stamp(now, &op))
        .await
        .map_err(PageError::internal_on(&m, &op, DESK))?;
    match outcome {
        Ok(no) => Ok(Redirect::to(&format!("{DESK}/{no}")).into_response()),
        Err(Refusal::NotAllowed) => Ok(refused_page(m, &op, DESK, &Refusal::NotAllowed)),
        Err(r) => list_response(&state, m, &op, &who, Some((&r, &form))).await,
    }
}

// ---------------------------------------------------------------------------------------
// One request: extend, answer

#[derive(Template)]
#[template(path = "citizen/view.html")]
pub struct ViewPage {
    pub m: Messages,
    pub frame: Frame,
    pub r: RequestRow,
    pub error: Option<FormError>,
    pub notice: Option<String>,
}

async fn view_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    no: &str,
    error: Option<FormError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let path = format!("{DESK}/{no}");
    let line = match state
        .app
        .citizen_reports()
        .request(&who.person, no, stamp(Timestamp::now(), op))
        .await
        .map_err(PageError::internal_on(&m, op, &path))?
    {
        Ok(l) => l,
        Err(r) => return Ok(refused_page(m, op, &path, &r)),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ViewPage {
        frame: Frame::signed_in(state, who, &m, path),
        r: request_row(&line, &m),
        error,
        notice,
        m,
    };
    Ok((status, render(&page, op)).into_response())
}

pub async fn view(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(no): Path<String>,
) -> Result<Response, PageError> {
    view_response(&state, m, &op, &who, &no, None, None).await
}

pub async fn extend(
    PageCall { state, m, op }: PageCall,
    Path(no): Path<String>,
    CsrfForm(who, form): CsrfForm<ExtendForm>,
) -> Result<Response, PageError> {
    let outcome = state
        .app
        .citizen_reports()
        .extend(&who.person, &no, &form.reason, stamp(Timestamp::now(), &op))
        .await
        .map_err(PageError::internal_on(&m, &op, DESK))?;
    let outcome = outcome.map(|due| format!("{}{}", m.get("cr-extended"), day(due, &m)));
    decided(&state, m, &op, &who, &no, outcome).await
}

/// The request's page after a decision on it: with the notice, or with the refusal (the
/// refusals that are not about the form as an error page).
async fn decided(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    no: &str,
    outcome: Result<String, Refusal>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(notice) => view_response(state, m, op, who, no, None, Some(notice)).await,
        Err(r @ (Refusal::NotAllowed | Refusal::UnknownRequest)) => {
            Ok(refused_page(m, op, DESK, &r))
        }
        Err(r) => {
            let e = form_error(&r, &m);
            view_response(state, m, op, who, no, Some(e), None).await
        }
    }
}

pub async fn answer(
    PageCall { state, m, op }: PageCall,
    Path(no): Path<String>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Result<Response, PageError> {
    let outcome = state
        .app
        .citizen_reports()
        .answer(&who.person, &no, stamp(Timestamp::now(), &op))
        .await
        .map_err(PageError::internal_on(&m, &op, DESK))?;
    let outcome = outcome.map(|on| format!("{}{}", m.get("cr-answered-on"), day(on, &m)));
    decided(&state, m, &op, &who, &no, outcome).await
}

// ---------------------------------------------------------------------------------------
// The report

#[derive(Template)]
#[template(path = "citizen/report.html")]
pub struct ReportPage {
    pub m: Messages,
    pub frame: Frame,
    pub no: String,
    pub produced_on: String,
    pub due_on: String,
    pub entries: Vec<EntryRow>,
    pub staff_names: bool,
    /// §10: for the officer only; not in what the citizen receives.
    pub withheld: usize,
    pub tree_size: u64,
    pub checkpoint: String,
    /// The report with its proof appendix, exactly as the citizen receives it (JSON).
    pub appendix: String,
}

pub async fn report(
    PageCall { state, m, op }: PageCall,
    Path(no): Path<String>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Result<Response, PageError> {
    let path = format!("{DESK}/{no}/report");
    let door = state.app.citizen_reports();
    let shown = door.staff_shown();
    let outcome = door
        .produce_report(&who.person, &no, stamp(Timestamp::now(), &op))
        .await
        .map_err(PageError::internal_on(&m, &op, &path))?;
    let report = match outcome {
        Ok(r) => r,
        Err(r) => return Ok(refused_page(m, &op, &path, &r)),
    };
    let appendix = serde_json::to_string_pretty(&report).unwrap_or_default();
    let page = ReportPage {
        frame: Frame::signed_in(&state, &who, &m, path),
        no: report.request_no.clone(),
        produced_on: day(report.produced_on, &m),
        due_on: day(report.due_on, &m),
        entries: entry_rows(&report, &m),
        staff_names: shown == querywarden_domain::citizen_report::StaffShown::NameAndUnit,
        withheld: report.withheld,
        tree_size: report.appendix.tree_size,
        checkpoint: report.appendix.checkpoint.clone(),
        appendix,
        m,
    };
    Ok(render(&page, &op))
}

// ---------------------------------------------------------------------------------------
// §10 withholding: the supervisor's mark, the ethics office's list

pub struct MarkRow {
    pub registration: String,
    pub disclose_on: String,
    pub reason: String,
    pub marked_by: String,
    pub marked_at: String,
}

#[derive(Template)]
#[template(path = "citizen/withholdings.html")]
pub struct WithholdingsPage {
    pub m: Messages,
    pub frame: Frame,
    pub can_mark: bool,
    pub can_list: bool,
    pub registration: String,
    pub disclose_on: String,
    pub reason: String,
    pub marks: Vec<MarkRow>,
    pub error: Option<FormError>,
    pub notice: Option<String>,
}

const WITHHOLDINGS: &str = "/withholdings";

async fn withholdings_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    form: WithholdForm,
    error: Option<FormError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let can_mark = who.person.has_role(Role::UnitSupervisor);
    let can_list = who.person.has_role(Role::EthicsAuditor);
    let mut marks = Vec::new();
    if can_list || !can_mark {
        // The ethics office's list; anyone else is refused here, and the refusal audited.
        let rows = match state
            .app
            .citizen_reports()
            .withholdings(&who.person, stamp(Timestamp::now(), op))
            .await
            .map_err(PageError::internal_on(&m, op, WITHHOLDINGS))?
        {
            Ok(rows) => rows,
            Err(r) => return Ok(refused_page(m, op, WITHHOLDINGS, &r)),
        };
        marks = rows
            .into_iter()
            .map(|l| MarkRow {
                registration: l.mark.registration_no,
                disclose_on: day(l.mark.disclose_on, &m),
                reason: l.mark.reason,
                marked_by: l.marked_by,
                marked_at: l
                    .mark
                    .marked_at
                    .parse::<Timestamp>()
                    .map(|t| m.datetime(t))
                    .unwrap_or(l.mark.marked_at),
            })
            .collect();
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = WithholdingsPage {
        frame: Frame::signed_in(state, who, &m, WITHHOLDINGS),
        can_mark,
        can_list,
        registration: form.registration,
        disclose_on: form.disclose_on,
        reason: form.reason,
        marks,
        error,
        notice,
        m,
    };
    Ok((status, render(&page, op)).into_response())
}

pub async fn withholdings(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Query(q): Query<WithholdQuery>,
) -> Result<Response, PageError> {
    let form = WithholdForm {
        registration: q.registration,
        ..WithholdForm::default()
    };
    withholdings_response(&state, m, &op, &who, form, None, None).await
}

pub async fn withhold(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, form): CsrfForm<WithholdForm>,
) -> Result<Response, PageError> {
    let now = Timestamp::now();
    let door = state.app.citizen_reports();
    let no = form.registration.trim().to_string();
    let outcome = acts::withhold(&door, &who.person, &no, &form, stamp(now, &op))
        .await
        .map_err(PageError::internal_on(&m, &op, WITHHOLDINGS))?;
    match outcome {
        Ok(()) => {
            let notice = format!("{}{no}", m.get("cr-withheld-done"));
            withholdings_response(
                &state,
                m,
                &op,
                &who,
                WithholdForm::default(),
                None,
                Some(notice),
            )
            .await
        }
        Err(r) => {
            let e = form_error(&r, &m);
            withholdings_response(&state, m, &op, &who, form, Some(e), None).await
        }
    }
}
