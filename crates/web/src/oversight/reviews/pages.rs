//! Pages of the review, violations, the director's dashboard and the supervisors' unit view.
//! Thin: each handler checks the CSRF token, calls one use case and renders; a refusal is
//! shown on the page it came from with its stable code.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::auth::SignedIn;
use querywarden_app::oversight::{dashboard, reconciliation, review, violation};
use querywarden_domain::org::Role;
use querywarden_domain::oversight::review::FindingRule;
use querywarden_domain::roc_date::{RocDate, format_taipei_datetime, taipei_date};

use super::api::{conclusion_of, op_of, return_note_of};
use super::charts;
use super::input::{
    ConcludeFindingForm, ConcludeFindingRequest, CsrfOnly, DecideReportRequest, FileViolationForm,
    FileViolationRequest, SubmitReportRequest,
};
use crate::error::PageError;
use crate::i18n::Messages;
use crate::pages::{lock_after_ms, render};
use crate::session::{PageSession, csrf_refused};
use crate::templates::{ErrorPage, FormError, UserBar};
use crate::{AppState, Lang, OperationId};

fn today_in(m: &Messages) -> String {
    let d = taipei_date(Timestamp::now());
    if m.is_zh() {
        d.format_long()
    } else {
        d.format_en()
    }
}

fn day(d: jiff::civil::Date, m: &Messages) -> String {
    match RocDate::from_civil(d) {
        Ok(r) if m.is_zh() => r.format_long(),
        Ok(r) => r.format_en(),
        Err(_) => d.to_string(),
    }
}

fn bar(state: &AppState, who: &SignedIn) -> Option<UserBar> {
    Some(UserBar::of(who, lock_after_ms(state)))
}

fn internal(
    m: &Messages,
    op: &OperationId,
    path: &str,
) -> impl Fn(querywarden_app::AppError) -> PageError + use<> {
    let (m, op, path) = (m.clone(), op.0.clone(), path.to_string());
    move |e| PageError::internal(&e, &op, m.clone(), &path)
}

fn storage<E: Into<querywarden_app::AppError>>(
    m: &Messages,
    op: &OperationId,
    path: &str,
) -> impl Fn(E) -> PageError + use<E> {
    let f = internal(m, op, path);
    move |e| f(e.into())
}

fn plain(m: Messages, op: &OperationId, path: &str, status: StatusCode, key: &str) -> Response {
    let message = m.get(key);
    let page = ErrorPage::new(m, path, message, op.0.clone());
    (status, render(&page, op)).into_response()
}

/// People's names by id (people are shown by name to those who may see the page).
async fn names(state: &AppState) -> Result<BTreeMap<i64, String>, querywarden_app::AppError> {
    Ok(state
        .app
        .store()
        .persons()
        .await
        .map_err(querywarden_app::AppError::from)?
        .into_iter()
        .map(|p| (p.id.get(), format!("{}（{}）", p.name, p.account.as_str())))
        .collect())
}

fn rule_text(code: &str, m: &Messages) -> String {
    match FindingRule::parse_code(code) {
        Some(r) if m.is_zh() => r.name_zh().to_string(),
        Some(r) => r.name_en().to_string(),
        None => code.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Overview: the director's dashboard, the unit view link, one's own cases

/// An unread oversight notice, with the page it is about.
pub struct NoticeLine {
    pub id: i64,
    pub what: String,
    pub link: String,
    pub at: String,
}

pub struct ReviewLine {
    pub id: i64,
    pub quarter: String,
    pub state: String,
    pub state_code: String,
    pub due_on: String,
}

#[derive(Template)]
#[template(path = "oversight/dashboard.html")]
pub struct DashboardPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub can_dashboard: bool,
    pub is_supervisor: bool,
    pub quarter: String,
    pub open_findings: u64,
    pub open_cases: usize,
    pub overdue_reports: usize,
    pub audits_awaiting_review: usize,
    pub executions: usize,
    pub usage_records: usize,
    pub matched: usize,
    pub reviews: Vec<ReviewLine>,
    pub charts: Vec<String>,
    pub notices: Vec<NoticeLine>,
}

pub async fn overview(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let fail = internal(&m, &op, "/oversight");
    let can_dashboard = dashboard::may_read_dashboard(&who.person);
    let mut page = DashboardPage {
        user: bar(&state, &who),
        path: "/oversight".into(),
        today: today_in(&m),
        can_dashboard,
        is_supervisor: who.person.has_role(Role::UnitSupervisor),
        quarter: String::new(),
        open_findings: 0,
        open_cases: 0,
        overdue_reports: 0,
        audits_awaiting_review: 0,
        executions: 0,
        usage_records: 0,
        matched: 0,
        reviews: vec![],
        charts: vec![],
        notices: dashboard::notices(state.app.store(), &who.person)
            .await
            .map_err(&fail)?
            .iter()
            .map(|n| NoticeLine {
                id: n.id,
                what: if n.kind == "audit.opened" {
                    m.get("perm-notice-audit-opened")
                } else {
                    m.get(&format!(
                        "ov-notice-{}",
                        n.kind.trim_start_matches("oversight.").replace('_', "-")
                    ))
                },
                link: match n.object.split_once(':') {
                    Some(("review", id)) => format!("/oversight/reviews/{id}"),
                    Some(("violation", id)) => format!("/oversight/violations/{id}"),
                    Some(("unannounced_audit", id)) => format!("/oversight/audits/{id}"),
                    Some(("citizen_request", no)) => format!("/citizen-requests/{no}"),
                    _ => "/oversight".into(),
                },
                at: format_taipei_datetime(n.created_at),
            })
            .collect(),
        m,
    };
    if can_dashboard {
        let app = &state.app;
        let d = dashboard::dashboard(
            app.store(),
            app.keys(),
            &app.config().oversight,
            Timestamp::now(),
        )
        .await
        .map_err(&fail)?;
        let m = &page.m;
        page.quarter = d.quarter.clone();
        page.open_findings = d.open_findings;
        page.open_cases = d.open_cases;
        page.overdue_reports = d.overdue_reports;
        page.audits_awaiting_review = d.audits_awaiting_review;
        page.executions = d.figures.executions;
        page.usage_records = d.figures.usage_records;
        page.matched = d.figures.matched;
        page.reviews = d
            .reviews
            .iter()
            .map(|r| ReviewLine {
                id: r.id,
                quarter: r.quarter.clone(),
                state: m.get(if r.state == "open" {
                    "ov-state-open"
                } else {
                    "ov-state-closed"
                }),
                state_code: r.state.clone(),
                due_on: day(r.due_on, m),
            })
            .collect();
        page.charts = charts_of(
            &d,
            m,
            &names(&state).await.map_err(storage(m, &op, "/oversight"))?,
        );
    }
    Ok(render(&page, &op))
}

/// Pivot `month → key → n` into grouped bars (one group per month, one series per key).
fn pivot(data: &BTreeMap<String, BTreeMap<String, u32>>) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let keys: BTreeSet<String> = data.values().flat_map(|m| m.keys().cloned()).collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let groups = data
        .iter()
        .map(|(month, m)| {
            (
                month.clone(),
                keys.iter()
                    .map(|k| f64::from(m.get(k).copied().unwrap_or(0)))
                    .collect(),
            )
        })
        .collect();
    (keys, groups)
}

fn charts_of(d: &dashboard::Dashboard, m: &Messages, names: &BTreeMap<i64, String>) -> Vec<String> {
    let mut out = Vec::new();
    let (items, groups) = pivot(&d.per_month_item);
    out.push(charts::bars(
        "chart-items",
        &m.get("ov-chart-items"),
        &items,
        &groups,
    ));
    let (units, groups) = pivot(&d.per_month_unit);
    out.push(charts::bars(
        "chart-units",
        &m.get("ov-chart-units"),
        &units,
        &groups,
    ));
    let rules: Vec<(String, Vec<f64>)> = d
        .findings_by_rule
        .iter()
        .map(|(r, n)| (rule_text(r, m).chars().take(10).collect(), vec![*n as f64]))
        .collect();
    out.push(charts::bars(
        "chart-rules",
        &m.get("ov-chart-rules"),
        &[m.get("ov-findings")],
        &rules,
    ));
    let volumes: Vec<(String, Vec<f64>)> = d
        .volumes
        .iter()
        .map(|(p, n, base)| {
            (
                names.get(p).cloned().unwrap_or_else(|| p.to_string()),
                vec![f64::from(*n), *base],
            )
        })
        .collect();
    out.push(charts::bars(
        "chart-volume",
        &m.get("ov-chart-volume"),
        &[m.get("ov-this-quarter"), m.get("ov-baseline")],
        &volumes,
    ));
    out
}

// ---------------------------------------------------------------------------------------
// The supervisor's unit (§4 ¶2)

pub struct ActivityLine {
    pub reg_no: String,
    pub querier: String,
    pub item: String,
    pub at: String,
    pub outcome: String,
    pub views: u32,
    pub prints: u32,
}

#[derive(Template)]
#[template(path = "oversight/unit.html")]
pub struct UnitPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub unit: String,
    pub by_state: Vec<(String, u32)>,
    pub activity: Vec<ActivityLine>,
}

pub async fn unit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let fail = internal(&m, &op, "/oversight/unit");
    let Some(v) = dashboard::unit_view(state.app.store(), &who.person)
        .await
        .map_err(&fail)?
    else {
        crate::session::role_refused(&state, &who, "oversight.not_allowed", &op.0).await;
        return Ok(plain(
            m,
            &op,
            "/oversight/unit",
            StatusCode::FORBIDDEN,
            "ov-not-allowed",
        ));
    };
    let names = names(&state)
        .await
        .map_err(storage(&m, &op, "/oversight/unit"))?;
    let page = UnitPage {
        user: bar(&state, &who),
        path: "/oversight/unit".into(),
        today: today_in(&m),
        unit: v.unit,
        by_state: v.registrations_by_state,
        activity: v
            .activity
            .iter()
            .map(|a| ActivityLine {
                reg_no: a.reg_no.clone(),
                querier: names.get(&a.querier.get()).cloned().unwrap_or_default(),
                item: a.item.clone(),
                at: format_taipei_datetime(a.at),
                outcome: a.outcome.clone(),
                views: a.views,
                prints: a.prints,
            })
            .collect(),
        m,
    };
    Ok(render(&page, &op))
}

// ---------------------------------------------------------------------------------------
// One review

pub struct FindingLine {
    pub id: i64,
    pub rule_code: String,
    pub rule: String,
    pub person: String,
    pub at: String,
    pub object: String,
    pub detail: String,
    pub conclusion: String,
    pub note: String,
    pub violation: Option<i64>,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "oversight/review.html")]
pub struct ReviewPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub id: i64,
    pub quarter: String,
    pub period: String,
    pub due_on: String,
    pub open: bool,
    pub is_admin: bool,
    pub findings: Vec<FindingLine>,
    pub report: String,
    pub error: Option<FormError>,
}

async fn review_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    error: Option<FormError>,
) -> Result<Response, PageError> {
    let path = format!("/oversight/reviews/{id}");
    if !dashboard::may_read_dashboard(&who.person) {
        // §7: refused, and on the trail like every refusal.
        querywarden_app::auth::refuse_request(
            state.app.store(),
            who,
            "oversight.not_allowed",
            None,
            Timestamp::now(),
            &op.0,
        )
        .await
        .map_err(internal(&m, op, &path))?;
        return Ok(plain(m, op, &path, StatusCode::FORBIDDEN, "ov-not-allowed"));
    }
    let Some(v) = review::review_view(state.app.store(), id)
        .await
        .map_err(internal(&m, op, &path))?
    else {
        return Ok(plain(
            m,
            op,
            &path,
            StatusCode::NOT_FOUND,
            "error-not-found",
        ));
    };
    let names = names(state).await.map_err(storage(&m, op, &path))?;
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = ReviewPage {
        user: bar(state, who),
        path: path.clone(),
        today: today_in(&m),
        id,
        quarter: v.review.quarter.clone(),
        period: format!(
            "{} – {}",
            day(v.review.period_from, &m),
            day(v.review.period_to, &m)
        ),
        due_on: day(v.review.due_on, &m),
        open: v.review.state == "open",
        is_admin: who.person.has_role(Role::PermissionAdministrator),
        findings: v
            .findings
            .iter()
            .map(|f| FindingLine {
                id: f.id,
                rule_code: f.finding.rule.clone(),
                rule: rule_text(&f.finding.rule, &m),
                person: f
                    .finding
                    .person
                    .and_then(|p| names.get(&p.get()).cloned())
                    .unwrap_or_default(),
                at: f.finding.at.map(format_taipei_datetime).unwrap_or_default(),
                object: f.finding.object.clone(),
                detail: f.finding.detail.clone(),
                conclusion: match f.conclusion.as_deref() {
                    Some("explained") => m.get("ov-explained"),
                    Some("violation") => m.get("ov-violation"),
                    _ => String::new(),
                },
                note: f.note.clone().unwrap_or_default(),
                violation: f.violation_id,
                open: f.conclusion.is_none(),
            })
            .collect(),
        report: v.review.report.clone().unwrap_or_default(),
        error,
        m,
    };
    Ok((status, render(&page, op)).into_response())
}

pub async fn review_page(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    review_response(&state, m, &op, &who, id, None).await
}

/// A refusal in the page's language, with its stable code.
fn refusal(m: &Messages, code: &str, zh: String, en: String) -> Option<FormError> {
    form_error(code, if m.is_zh() { zh } else { en })
}

fn form_error(code: &str, message: String) -> Option<FormError> {
    Some(FormError {
        code: code.to_string(),
        message,
    })
}

pub async fn close(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let app = &state.app;
    let path = format!("/oversight/reviews/{id}");
    match review::close_review(
        app.store(),
        app.keys(),
        &app.config().oversight,
        &who.person,
        id,
        &op_of(&op),
    )
    .await
    .map_err(internal(&m, &op, &path))?
    {
        Ok(_) => Ok(Redirect::to(&format!("{path}?notice=closed")).into_response()),
        Err(r) => {
            let e = refusal(&m, r.code(), r.to_string(), r.message_en());
            review_response(&state, m, &op, &who, id, e).await
        }
    }
}

pub async fn conclude(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(form): Form<ConcludeFindingForm>,
) -> Result<Response, PageError> {
    let input: ConcludeFindingRequest = form.into();
    if !who.csrf_ok(&input.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let path = "/oversight";
    let store = state.app.store();
    let Some(f) = store.finding(id).await.map_err(storage(&m, &op, path))? else {
        return Ok(plain(
            m,
            &op,
            path,
            StatusCode::NOT_FOUND,
            "error-not-found",
        ));
    };
    let req = match conclusion_of(&input) {
        Ok(r) => r,
        Err((code, zh, en)) => {
            let msg = if m.is_zh() { zh } else { en };
            return review_response(
                &state,
                m,
                &op,
                &who,
                f.review_id,
                form_error(code, msg.into()),
            )
            .await;
        }
    };
    match review::conclude_finding(store, &who.person, id, &req, &op_of(&op))
        .await
        .map_err(internal(&m, &op, path))?
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/oversight/reviews/{}#finding-{id}", f.review_id))
                .into_response(),
        ),
        Err(r) => {
            let e = refusal(&m, r.code(), r.to_string(), r.message_en());
            review_response(&state, m, &op, &who, f.review_id, e).await
        }
    }
}

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
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
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
    let rows = violation::cases(state.app.store(), &who.person)
        .await
        .map_err(internal(&m, op, path))?;
    let names = names(state).await.map_err(storage(&m, op, path))?;
    let now = Timestamp::now();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ViolationsPage {
        user: bar(state, who),
        path: path.into(),
        today: today_in(&m),
        is_admin: who.person.has_role(Role::PermissionAdministrator),
        cases: rows
            .iter()
            .map(|v| CaseLine {
                id: v.id,
                person: names.get(&v.case.person.get()).cloned().unwrap_or_default(),
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
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    violations_response(&state, m, &op, &who, None).await
}

pub async fn file(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Form(form): Form<FileViolationForm>,
) -> Result<Response, PageError> {
    let input: FileViolationRequest = form.into();
    if !who.csrf_ok(&input.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let path = "/oversight/violations";
    let store = state.app.store();
    let person = match querywarden_domain::org::Account::parse(input.account.trim()) {
        Ok(a) => store
            .person_by_account(&a)
            .await
            .map_err(storage(&m, &op, path))?,
        Err(_) => None,
    };
    let Some(person) = person else {
        let msg = m.get("ov-no-such-person");
        return violations_response(
            &state,
            m,
            &op,
            &who,
            form_error("violation.no_such_person", msg),
        )
        .await;
    };
    let calendar = reconciliation::calendar().map_err(internal(&m, &op, path))?;
    let req = violation::FileViolationRequest {
        person: person.id,
        rule: input.rule,
        evidence: input.evidence,
        suspend_grants: input.suspend_grants,
        source: violation::ViolationSource::Administrator,
    };
    match violation::file_violation(store, &calendar, &who.person, &req, &op_of(&op))
        .await
        .map_err(internal(&m, &op, path))?
    {
        Ok(id) => Ok(Redirect::to(&format!("/oversight/violations/{id}")).into_response()),
        Err(r) => {
            let e = refusal(&m, r.code(), r.to_string(), r.message_en());
            violations_response(&state, m, &op, &who, e).await
        }
    }
}

#[derive(Template)]
#[template(path = "oversight/violation.html")]
pub struct ViolationPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub id: i64,
    pub person: String,
    pub rule: String,
    pub evidence: String,
    pub source: String,
    pub opened_at: String,
    pub due_on: String,
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
    let Ok(v) = violation::case_for(state.app.store(), &who.person, id, &op_of(op))
        .await
        .map_err(internal(&m, op, &path))?
    else {
        return Ok(plain(
            m,
            op,
            &path,
            StatusCode::NOT_FOUND,
            "error-not-found",
        ));
    };
    let names = names(state).await.map_err(storage(&m, op, &path))?;
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = ViolationPage {
        user: bar(state, who),
        path: path.clone(),
        today: today_in(&m),
        id,
        person: names.get(&v.case.person.get()).cloned().unwrap_or_default(),
        rule: v.case.rule.clone(),
        evidence: v.case.evidence.clone(),
        source: v.case.source.clone(),
        opened_at: format_taipei_datetime(v.case.opened_at),
        due_on: day(v.case.due_on, &m),
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
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    violation_response(&state, m, &op, &who, id, None).await
}

pub async fn report(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(form): Form<SubmitReportRequest>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let path = format!("/oversight/violations/{id}");
    match violation::submit_report(
        state.app.store(),
        &who.person,
        id,
        &form.report,
        &op_of(&op),
    )
    .await
    .map_err(internal(&m, &op, &path))?
    {
        Ok(()) => Ok(Redirect::to(&format!("{path}?notice=submitted")).into_response()),
        Err(r) => {
            let e = refusal(&m, r.code(), r.to_string(), r.message_en());
            violation_response(&state, m, &op, &who, id, e).await
        }
    }
}

pub async fn decide(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(form): Form<DecideReportRequest>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
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
    match violation::decide_report(state.app.store(), &who.person, id, note, &op_of(&op))
        .await
        .map_err(internal(&m, &op, &path))?
    {
        Ok(()) => Ok(Redirect::to(&format!("{path}?notice=decided")).into_response()),
        Err(r) => {
            let e = refusal(&m, r.code(), r.to_string(), r.message_en());
            violation_response(&state, m, &op, &who, id, e).await
        }
    }
}

/// The recipient marks one of their notices read (CSRF-checked); back to the overview.
pub async fn notice_read(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    match querywarden_app::permission::staff::mark_notice_read(
        state.app.store(),
        who.person.id,
        id,
        &op_of(&op),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/oversight").into_response()),
        Err(_) => Ok(plain(
            m,
            &op,
            "/oversight",
            StatusCode::NOT_FOUND,
            "error-not-found",
        )),
    }
}
