//! Pages of the director's dashboard, the supervisors' unit view and the notices, with the
//! helpers the review and violation pages share ([`review`], [`violations`]). Thin: each
//! handler checks the CSRF token, calls one use case through the oversight door and renders;
//! a refusal is shown on the page it came from with its stable code.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::oversight::dashboard;
use querywarden_domain::org::{PersonId, Role};
use querywarden_domain::oversight::review::FindingRule;
use querywarden_domain::roc_date::RocDate;

use super::charts;
use crate::app_op::now_op;
use crate::casework::Names;
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::{CsrfForm, TokenOnly};
use crate::oversight::names;
use crate::pages::render;
pub(super) use crate::pages::{error_page, not_found};
use crate::session::PageSession;
use crate::templates::{FormError, Frame};
use crate::{AppState, OperationId, PageCall};

mod review;
mod violations;

pub use review::{close, conclude, review_page};
pub use violations::{decide, file, report, violation_page, violations};

pub(super) fn day(d: jiff::civil::Date, m: &Messages) -> String {
    match RocDate::from_civil(d) {
        Ok(r) => m.date(r),
        Err(_) => d.to_string(),
    }
}

/// 行政程序法 §48: the sentence shown beside a due date `due` that runs past the loaded
/// office calendar years (counted with weekends only), or `None`.
pub(super) async fn beyond_calendar(
    state: &AppState,
    m: &Messages,
    op: &OperationId,
    path: &str,
    due: jiff::civil::Date,
) -> Result<Option<String>, PageError> {
    let beyond = state
        .app
        .deadline_beyond_calendar(due)
        .await
        .map_err(PageError::internal_on(m, op, path))?;
    Ok(beyond.map(|_| m.get("deadline-beyond-calendar")))
}

pub(super) fn rule_text(code: &str, m: &Messages) -> String {
    match FindingRule::parse_code(code) {
        Some(r) if m.is_zh() => r.name_zh().to_string(),
        Some(r) => r.name_en().to_string(),
        None => code.to_string(),
    }
}

pub(super) fn refusal(m: &Messages, r: &impl querywarden_domain::Explained) -> Option<FormError> {
    Some(FormError::refusal(m, r))
}

pub(super) fn form_error(code: &str, message: String) -> Option<FormError> {
    Some(FormError {
        code: code.to_string(),
        message,
    })
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
    pub frame: Frame,
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
    /// The Form 2 register's form, for the supervisors and the oversight roles.
    pub show_register: bool,
    pub register: crate::documents::RegisterLink,
}

pub async fn overview(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let fail = PageError::internal_on(&m, &op, "/oversight");
    let can_dashboard = dashboard::may_read_dashboard(&who.person);
    let mut page = DashboardPage {
        frame: Frame::signed_in(&state, &who, &m, "/oversight"),
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
        show_register: can_dashboard || who.person.has_role(Role::UnitSupervisor),
        register: crate::documents::RegisterLink::for_person(&who.person),
        notices: state
            .app
            .oversight()
            .notices(&who.person)
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
                at: m.datetime(n.created_at),
            })
            .collect(),
        m,
    };
    let d = state
        .app
        .oversight()
        .dashboard(&who.person, Timestamp::now())
        .await
        .map_err(&fail)?;
    if let Some(d) = d {
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
        page.charts = charts_of(&d, m, &names(&state, m).await.map_err(&fail)?);
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

fn charts_of(d: &dashboard::Dashboard, m: &Messages, names: &Names) -> Vec<String> {
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
        .map(|(p, n, base)| (names.person(PersonId::new(*p)), vec![f64::from(*n), *base]))
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
    pub frame: Frame,
    pub unit: String,
    pub by_state: Vec<(String, u32)>,
    pub activity: Vec<ActivityLine>,
    /// §5: the unit's Form 2 register, for the supervisor to print and file.
    pub register: crate::documents::RegisterLink,
}

pub async fn unit(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let fail = PageError::internal_on(&m, &op, "/oversight/unit");
    let Some(v) = state
        .app
        .oversight()
        .unit_view(&who.person)
        .await
        .map_err(&fail)?
    else {
        crate::session::role_refused(&state, &who, "oversight.not_allowed", &op.0).await;
        return Ok(error_page(
            m,
            &op,
            "/oversight/unit",
            StatusCode::FORBIDDEN,
            "ov-not-allowed",
        ));
    };
    let names = names(&state, &m).await.map_err(&fail)?;
    let page = UnitPage {
        frame: Frame::signed_in(&state, &who, &m, "/oversight/unit"),
        unit: v.unit,
        register: crate::documents::RegisterLink::for_person(&who.person),
        by_state: v.registrations_by_state,
        activity: v
            .activity
            .iter()
            .map(|a| ActivityLine {
                reg_no: a.reg_no.clone(),
                querier: names.person(a.querier),
                item: a.item.clone(),
                at: m.datetime(a.at),
                outcome: a.outcome.clone(),
                views: a.views,
                prints: a.prints,
            })
            .collect(),
        m,
    };
    Ok(render(&page, &op))
}

/// The recipient marks one of their notices read (CSRF-checked); back to the overview.
pub async fn notice_read(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Result<Response, PageError> {
    match state
        .app
        .oversight()
        .mark_notice_read(&who.person, id, &now_op(&op))
        .await
    {
        Ok(()) => Ok(Redirect::to("/oversight").into_response()),
        Err(_) => Ok(not_found(m, &op, "/oversight")),
    }
}
