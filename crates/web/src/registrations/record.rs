//! One registration as a page (§5, Form 2): its state, parties, executions and results, and
//! what the viewer may do with it — approve or reject, reveal the whole national ID
//! (audited, every time), cancel. Every action answers with a redirect and a notice, or the
//! page again with the refusal the use case audited.

use std::collections::BTreeSet;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use querywarden_app::config::BliMode;
use querywarden_app::execution;
use querywarden_app::registration::{
    self as reg, Denied, ExecutionMode, ExecutionOutcome, RegistrationView,
};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::registration::{Origin, RegistrationNo, RegistrationState};

use super::input::DecideForm;
use super::results::result_kind;
use super::views::{ExecutionLine, PortalForm, RegistrationPage, ResultLine};
use crate::casework::{
    Answer, CaseForm, Caseworker, Names, NoticeQuery, date, denied_status, form_error,
};
use crate::input::TokenOnly;
use crate::pages::render;

/// The e-government portal (我的E政府) where portal-mode queries are run.
const PORTAL_URL: &str = "https://www.gov.tw/";

/// What the page shows beside the registration: a notice after a redirect, a refusal, or
/// the whole IDs just revealed.
#[derive(Default)]
pub(super) struct Shown<'a> {
    pub notice: Option<String>,
    pub outcome: Option<&'a Denied>,
    pub revealed: Option<(String, String)>,
}

impl<'a> Shown<'a> {
    pub fn refusal(d: &'a Denied) -> Self {
        Self {
            outcome: Some(d),
            ..Self::default()
        }
    }
}

/// A registration number from the path; one that cannot be one names nothing.
#[allow(
    clippy::result_large_err,
    reason = "the Err is the rendered not-found page, handed straight back as the handler's answer"
)]
pub(super) fn path_no(
    c: &Caseworker,
    raw: &str,
) -> Result<RegistrationNo, axum::response::Response> {
    RegistrationNo::parse(raw).map_err(|_| c.not_found("/registrations"))
}

/// After an action on registration `no`: the page with `notice`, or the page again with
/// the refusal.
pub(super) async fn after<T>(
    c: &Caseworker,
    no: RegistrationNo,
    decided: reg::Decided<T>,
    notice: &str,
) -> Answer {
    match decided.map_err(c.fail("/registrations"))? {
        Ok(_) => Ok(Redirect::to(&format!("/registrations/{no}?notice={notice}")).into_response()),
        Err(d) => show(c, no, Shown::refusal(&d)).await,
    }
}

/// Renders the registration for the caseworker, with what `shown` adds.
pub(super) async fn show(c: &Caseworker, no: RegistrationNo, shown: Shown<'_>) -> Answer {
    let path = format!("/registrations/{no}");
    let fail = c.fail(&path);
    let desk = c.state.app.desk();
    let now = Timestamp::now();
    let view = match reg::registration_view(&desk, c.me(), no, now, c.op_id())
        .await
        .map_err(&fail)?
    {
        Ok(v) => v,
        Err(d) => return Err(c.refused(&path, &d)),
    };
    let names = Names::load(&c.state, c.me(), &c.m).await.map_err(&fail)?;
    let can_decide = reg::approver_of(&desk, c.me(), no)
        .await
        .map_err(&fail)?
        .is_ok();
    let pending = match view.registration.state {
        // §5 ¶1: who approves it now — the supervisor, their deputy (代理) or one above.
        RegistrationState::Registered { .. } => {
            reg::pending_approver(&desk, &view.registration, now)
                .await
                .map_err(&fail)?
        }
        _ => None,
    };
    let mut page = page(c, &names, &view, pending, now);
    page.can_decide = can_decide;
    page.notice = shown.notice;
    page.error = shown.outcome.map(|d| form_error(d, &c.m));
    if let Some((id, linked)) = shown.revealed {
        page.revealed = id != view.subject_id_masked;
        page.subject_id = id;
        page.linked_id = linked;
    }
    let status = shown.outcome.map_or(StatusCode::OK, denied_status);
    Ok((status, render(&page, &c.op)).into_response())
}

/// The state in words, and who decided (or, while registered, who is to decide).
fn state_detail(
    c: &Caseworker,
    names: &Names,
    view: &RegistrationView,
    pending: Option<querywarden_domain::permission::acting::Signer>,
) -> (String, String) {
    let m = &c.m;
    let acting = m.get("reg-acting");
    let (detail, by) = match &view.registration.state {
        RegistrationState::Approved {
            by,
            at,
            valid_until,
        } => (
            format!(
                "{} {}{}{} {}",
                m.get("reg-approved-at"),
                m.datetime(*at),
                m.comma(),
                m.get("reg-valid-until"),
                m.datetime(*valid_until)
            ),
            Some(*by),
        ),
        // The supervisor's own words follow the detail: the page marks them as Chinese text
        // (`state_comment`), so the detail ends with the colon here.
        RegistrationState::Rejected { by, at, .. } => {
            (format!("{}{}", m.datetime(*at), m.colon()), Some(*by))
        }
        RegistrationState::Cancelled { by, at } => (m.datetime(*at), Some(*by)),
        RegistrationState::Registered { first_approval } => {
            let first = first_approval.map(|(p, at)| {
                format!(
                    "{} {} {}",
                    m.get("reg-first-approval"),
                    names.person(p),
                    m.datetime(at)
                )
            });
            // §5 ¶1: the waiting step names the person, 代理 when a deputy signs.
            let waiting = pending.map(|s| {
                let name = names
                    .persons
                    .get(&s.person)
                    .map_or_else(|| names.person(s.person), |p| p.name.clone());
                let key = if s.acting {
                    "reg-waiting-named-acting"
                } else {
                    "reg-waiting-named"
                };
                m.with(key, &[("name", name)])
            });
            let detail = first
                .into_iter()
                .chain(waiting)
                .collect::<Vec<_>>()
                .join(if m.is_zh() { "；" } else { "; " });
            let approver = match pending {
                Some(s) if s.acting => m.aside(&names.person(s.person), &acting),
                Some(s) => names.person(s.person),
                None => String::new(),
            };
            return (detail, approver);
        }
    };
    let approver = by.map(|p| names.person(p)).unwrap_or_default();
    // §5 ¶1: a decision given as 代理 says so (a cancellation is nobody's decision).
    let decided_acting = matches!(
        view.registration.state,
        RegistrationState::Approved { .. } | RegistrationState::Rejected { .. }
    ) && by.is_some_and(|by| view.acting.iter().any(|(p, _)| *p == by));
    if decided_acting {
        (detail, m.aside(&approver, &acting))
    } else {
        (detail, approver)
    }
}

fn execution_lines(
    c: &Caseworker,
    names: &Names,
    view: &RegistrationView,
    now: Timestamp,
) -> Vec<ExecutionLine> {
    let m = &c.m;
    let is_querier = view.registration.parties.querier == c.who.person.id;
    view.executions
        .iter()
        .map(|e| ExecutionLine {
            item: names.item(&e.item),
            mode: m.get(match e.mode {
                ExecutionMode::Connected => "reg-mode-connected",
                ExecutionMode::Portal => "reg-mode-portal",
            }),
            sent_at: m.datetime(e.sent_at),
            outcome: m.get(match (e.outcome, e.resolved_at.is_some()) {
                (ExecutionOutcome::Sent | ExecutionOutcome::Unknown, true) => "reg-exec-resolved",
                (ExecutionOutcome::Sent, false) => "reg-exec-sent",
                (ExecutionOutcome::Received, _) => "reg-exec-received",
                (ExecutionOutcome::Failed, _) => "reg-exec-failed",
                (ExecutionOutcome::Recorded, _) => "reg-exec-recorded",
                (ExecutionOutcome::Unknown, false) => "reg-exec-unknown",
            }),
            item_code: e.item.as_str().to_string(),
            // §5: the querier's statement resolves an attempt whose outcome is unknown.
            can_state: is_querier && execution::outcome::awaits_resolution(e, now),
            note: [
                e.failure_code.clone(),
                e.resolution.clone(),
                e.portal_note.clone(),
                e.paper_case_no.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / "),
        })
        .collect()
}

/// The page for `view` as the caseworker may act on it (the caller adds the approver's
/// capability and what was just shown or refused).
fn page(
    c: &Caseworker,
    names: &Names,
    view: &RegistrationView,
    pending: Option<querywarden_domain::permission::acting::Signer>,
    now: Timestamp,
) -> RegistrationPage {
    let (m, me) = (&c.m, c.who.person.id);
    let r = &view.registration;
    let approved_live =
        matches!(r.state, RegistrationState::Approved { valid_until, .. } if now < valid_until);
    // Items that may run now: not executed, and not awaiting an earlier attempt's outcome.
    let remaining: BTreeSet<&ServiceItemCode> = r
        .items
        .iter()
        .filter(|i| !r.executed_items.contains(*i) && !r.awaiting_outcome.contains(*i))
        .collect();
    let is_querier = r.parties.querier == me;
    let connected = c.state.app.config().bli.mode == BliMode::Connected;
    let (state_detail, approver) = state_detail(c, names, view, pending);
    RegistrationPage {
        frame: c.frame(format!("/registrations/{}", r.no)),
        notice: None,
        error: None,
        no: r.no.to_string(),
        date: date(r.date, m),
        state_code: r.state.code().to_string(),
        state: crate::casework::state_label(r.state.code(), m),
        state_detail,
        state_comment: match &view.registration.state {
            RegistrationState::Rejected { comment, .. } => comment.clone(),
            _ => String::new(),
        },
        origin: match r.origin {
            Origin::Internal => m.get("reg-origin-internal"),
            Origin::Form3(_) => m.get("reg-origin-form3"),
        },
        subject_name: view.subject_name.clone(),
        revealed: false,
        subject_id: view.subject_id_masked.clone(),
        linked_id: view.linked_id_masked.clone().unwrap_or_default(),
        items: r.items.iter().map(|i| names.item(i)).collect(),
        remaining: remaining.iter().map(|i| i.as_str().to_string()).collect(),
        basis: names.basis(&r.legal_basis),
        relevance: r.relevance.clone(),
        case_no: r.case_no.clone().unwrap_or_default(),
        applicant: names.person(r.parties.applicant),
        needer: names.person(r.parties.needer),
        querier: names.person(r.parties.querier),
        approver,
        findings: view
            .findings
            .iter()
            .map(|r| crate::casework::snooping_rule(*r, m))
            .collect(),
        second_approval: r.second_approval_required,
        executions: execution_lines(c, names, view, now),
        results: view
            .results
            .iter()
            .map(|res| ResultLine {
                item: res.item.as_str().to_string(),
                received_at: m.datetime(res.received_at),
                kind: result_kind(&res.kind, m),
                destroy_after: date(res.destroy_after, m),
                destroyed: res.destroyed_at.is_some(),
            })
            .collect(),
        can_view_results: is_querier || r.parties.needer == me,
        can_decide: false,
        can_execute: is_querier && approved_live && !remaining.is_empty(),
        can_cancel: r.is_party(me)
            && matches!(r.state, RegistrationState::Registered { .. })
            && r.executed_items.is_empty(),
        can_confirm_prints: is_querier && view.results.iter().any(|x| x.destroyed_at.is_some()),
        portal: (!connected).then(|| PortalForm {
            portal_url: PORTAL_URL.into(),
        }),
        m: m.clone(),
    }
}

pub async fn registration(
    c: Caseworker,
    Path(no): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Answer {
    let no = path_no(&c, &no)?;
    let notice = c.notice(&q);
    show(
        &c,
        no,
        Shown {
            notice,
            ..Shown::default()
        },
    )
    .await
}

/// Shows the whole national ID (audited, every time). POST so it is never a link.
pub async fn reveal(Path(no): Path<String>, CaseForm(c, _): CaseForm<TokenOnly>) -> Answer {
    let no = path_no(&c, &no)?;
    let revealed = reg::reveal_national_id(&c.desk(), c.me(), no, Timestamp::now(), c.op_id())
        .await
        .map_err(c.fail("/registrations"))?;
    let shown = match &revealed {
        Ok((id, linked)) => Shown {
            revealed: Some((
                id.expose_whole().to_string(),
                linked
                    .as_ref()
                    .map(|l| l.expose_whole().to_string())
                    .unwrap_or_default(),
            )),
            ..Shown::default()
        },
        Err(d) => Shown::refusal(d),
    };
    show(&c, no, shown).await
}

async fn decide(c: Caseworker, no: String, form: DecideForm, approve: bool) -> Answer {
    let no = path_no(&c, &no)?;
    let decision = if approve {
        reg::Decision::Approve(Some(&form.comment))
    } else {
        reg::Decision::Reject(&form.comment)
    };
    let decided = reg::decide(&c.desk(), c.me(), no, decision, Timestamp::now(), c.op_id()).await;
    after(
        &c,
        no,
        decided,
        if approve { "approved" } else { "rejected" },
    )
    .await
}

pub async fn approve(Path(no): Path<String>, CaseForm(c, form): CaseForm<DecideForm>) -> Answer {
    decide(c, no, form, true).await
}

pub async fn reject(Path(no): Path<String>, CaseForm(c, form): CaseForm<DecideForm>) -> Answer {
    decide(c, no, form, false).await
}

pub async fn cancel(Path(no): Path<String>, CaseForm(c, _): CaseForm<TokenOnly>) -> Answer {
    let no = path_no(&c, &no)?;
    let decided = reg::cancel(&c.desk(), c.me(), no, Timestamp::now(), c.op_id()).await;
    after(&c, no, decided, "cancelled").await
}
