//! One Form 3 request as a page (§5 ¶3): where it stands, its subjects (masked), sign-offs,
//! registrations and delivered results, and what the viewer may do — the responsible unit's
//! review, the office supervisor's consent, the signatures, closing a subject without a
//! query, and recording how results went back (inside the system or by official document,
//! never by e-mail or fax). Every action answers with a redirect, or the page again with
//! the refusal the use case audited.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::config::BliMode;
use querywarden_app::registration::{Decided, Denied, PersonChoice, RegistrationSummary};
use querywarden_app::request::{self, RequestView};
use querywarden_domain::org::PersonId;
use querywarden_domain::org::Role;
use querywarden_domain::registration::RequestNo;
use querywarden_domain::registration::form3::Stage;

use super::input::{CloseForm, ConsentForm, DeliverForm, ReviewForm};
use super::views::{RequestPage, SubjectLine};
use crate::casework::{
    Answer, CaseForm, Caseworker, Choice, Names, NoticeQuery, date, delivery_label, denied_status,
    form_error, summary_row,
};
use crate::input::TokenOnly;
use crate::pages::render;

/// A request number from the path; one that cannot be one names nothing.
#[allow(
    clippy::result_large_err,
    reason = "the Err is the rendered not-found page, handed straight back as the handler's answer"
)]
fn path_no(c: &Caseworker, raw: &str) -> Result<RequestNo, Response> {
    RequestNo::parse(raw).map_err(|_| c.not_found("/requests"))
}

/// After an action on request `no`: the page (with `notice`, if any), or the page again
/// with the refusal.
async fn after<T>(
    c: &Caseworker,
    no: RequestNo,
    decided: Decided<T>,
    notice: Option<&str>,
) -> Answer {
    match decided.map_err(c.fail("/requests"))? {
        Ok(_) => Ok(Redirect::to(&match notice {
            Some(n) => format!("/requests/{no}?notice={n}"),
            None => format!("/requests/{no}"),
        })
        .into_response()),
        Err(d) => show(c, no, None, Some(&d)).await,
    }
}

/// The subjects (masked), each with the reason it was closed without a query, if it was.
fn subject_lines(view: &RequestView) -> Vec<SubjectLine> {
    view.subjects
        .iter()
        .enumerate()
        .map(|(i, (name, id))| SubjectLine {
            position: i + 1,
            name: name.clone(),
            id_masked: id.clone(),
            closed: view
                .closed
                .iter()
                .find(|c| usize::try_from(c.position).ok() == Some(i + 1))
                .map(|c| c.reason.clone())
                .unwrap_or_default(),
        })
        .collect()
}

/// §5 ¶3: (which sign-off, who — 代理 marked —, when).
fn sign_offs(c: &Caseworker, names: &Names, view: &RequestView) -> Vec<(String, String, String)> {
    view.sign_offs
        .iter()
        .map(|s| {
            let who = names.person(s.person);
            (
                c.m.get(&format!("req-signoff-{}", s.which.code())),
                if s.acting {
                    c.m.aside(&who, &c.m.get("reg-acting"))
                } else {
                    who
                },
                c.m.datetime(s.at),
            )
        })
        .collect()
}

/// §5 ¶3: (which sign-off's code, "等待 申請人單位主管 王大明 核章" — 代理 marked) for each
/// sign-off the request waits for now.
fn awaited(c: &Caseworker, names: &Names, view: &RequestView) -> Vec<(String, String)> {
    view.awaited
        .iter()
        .map(|(which, s)| {
            let name = names
                .persons
                .get(&s.person)
                .map_or_else(|| names.person(s.person), |p| p.name.clone());
            let key = if s.acting {
                "req-waiting-named-acting"
            } else {
                "req-waiting-named"
            };
            let role = c.m.get(&format!("req-signer-{}", which.code()));
            (
                which.code().to_string(),
                c.m.with(key, &[("role", role), ("name", name)]),
            )
        })
        .collect()
}

/// Renders request `no` for the caseworker, with a notice or a refusal.
async fn show(
    c: &Caseworker,
    no: RequestNo,
    notice: Option<String>,
    outcome: Option<&Denied>,
) -> Answer {
    let path = format!("/requests/{no}");
    let fail = c.fail(&path);
    let view = match request::request_view(&c.desk(), c.me(), no, Timestamp::now(), c.op_id())
        .await
        .map_err(&fail)?
    {
        Ok(v) => v,
        Err(d) => return Err(c.refused(&path, &d)),
    };
    let names = Names::load(&c.state, c.me(), &c.m).await.map_err(&fail)?;
    let mut page = page(c, &names, &view);
    page.notice = notice;
    page.error = outcome.map(|d| form_error(d, &c.m));
    let status = outcome.map_or(StatusCode::OK, denied_status);
    Ok((status, render(&page, &c.op)).into_response())
}

fn page(c: &Caseworker, names: &Names, view: &RequestView) -> RequestPage {
    let (m, me) = (&c.m, c.me());
    let r = &view.request;
    let reviewer_here =
        me.has_role(Role::ResponsibleUnitReviewer) && me.unit == r.request.responsible_unit;
    let in_progress = view.stage == Stage::InProgress;
    let assigned = r.assigned_querier == Some(me.id);
    RequestPage {
        frame: c.frame(format!("/requests/{}", r.request.no)),
        notice: None,
        error: None,
        no: r.request.no.to_string(),
        date: date(r.request.date, m),
        // §5 ¶3: the stage, with the office supervisor's consent and the closed state.
        state_code: view.stage.code().to_string(),
        state: m.get(&format!("req-state-{}", view.stage.code())),
        requesting_unit: names.unit(&r.request.requesting_unit),
        applicant: names.person(r.request.applicant),
        applicant_title: r.request.applicant_title.clone(),
        phone: r.request.phone.clone(),
        fax: r.request.fax.clone().unwrap_or_default(),
        responsible_unit: names.unit(&r.request.responsible_unit),
        basis: names.basis(&r.request.legal_basis),
        relevance: r.request.relevance.clone(),
        items: r
            .request
            .items
            .iter()
            .map(|i| names.item(i))
            .collect::<Vec<_>>()
            .join(m.list_sep()),
        subject_count: r.request.subject_count,
        subjects: subject_lines(view),
        sign_offs: sign_offs(c, names, view),
        awaited: awaited(c, names, view),
        can_consent: view.may_consent,
        can_sign: view.may_sign,
        can_close: (reviewer_here || assigned) && in_progress,
        opinion: r.opinion.clone().unwrap_or_default(),
        reviewer: r.reviewed_by.map(|p| names.person(p)).unwrap_or_default(),
        querier: r
            .assigned_querier
            .map(|p| names.person(p))
            .unwrap_or_default(),
        delivery: delivery_label(r, m),
        registrations: view
            .registrations
            .iter()
            .map(|s| summary_row(s, names, m))
            .collect(),
        results: view
            .results
            .iter()
            .map(|(no, item, destroyed)| (no.to_string(), item.as_str().to_string(), *destroyed))
            .collect(),
        can_review: reviewer_here && view.stage == Stage::AwaitingReview,
        can_deliver: (reviewer_here || assigned) && in_progress,
        // The requester sees results once they are delivered inside the system.
        can_view_results: (r.request.applicant == me.id
            && r.delivery.as_deref() == Some("in_system"))
            || assigned,
        queriers: names
            .persons
            .values()
            .filter(|p| p.unit == r.request.responsible_unit && p.has_role(Role::Querier))
            .map(|p| Choice {
                value: p.id.get().to_string(),
                label: names.person(p.id),
                selected: p.id == me.id,
            })
            .collect(),
        can_run_all: assigned && view.registrations.iter().any(|g| runnable_for(g, me.id)),
        portal: c.state.app.config().bli.mode != BliMode::Connected,
        m: m.clone(),
    }
}

/// §5: a registration of the request `me` may run now: theirs to query, approved and still
/// valid, with items left (the use case re-checks each under the policy).
fn runnable_for(g: &RegistrationSummary, me: PersonId) -> bool {
    g.parties.querier == me
        && g.state == "approved"
        && g.valid_until.is_some_and(|v| Timestamp::now() < v)
        && !g.remaining_items.is_empty()
}

pub async fn request_page(
    c: Caseworker,
    Path(no): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Answer {
    let no = path_no(&c, &no)?;
    let notice = c.notice(&q);
    show(&c, no, notice, None).await
}

pub async fn request_accept(
    Path(no): Path<String>,
    CaseForm(c, form): CaseForm<ReviewForm>,
) -> Answer {
    let no = path_no(&c, &no)?;
    let decided = request::accept_request(
        &c.desk(),
        c.me(),
        no,
        &PersonChoice::Text(form.querier.clone()),
        &form.opinion,
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    after(&c, no, decided, Some("accepted")).await
}

pub async fn request_reject(
    Path(no): Path<String>,
    CaseForm(c, form): CaseForm<ReviewForm>,
) -> Answer {
    let no = path_no(&c, &no)?;
    let decided = request::reject_request(
        &c.desk(),
        c.me(),
        no,
        &form.opinion,
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    after(&c, no, decided, Some("refused")).await
}

/// Records how results went back: inside the system (view-only) or by official document
/// (公文文號) — never by e-mail or fax.
pub async fn request_deliver(
    Path(no): Path<String>,
    CaseForm(c, form): CaseForm<DeliverForm>,
) -> Answer {
    let no = path_no(&c, &no)?;
    let decided = request::record_delivery(
        &c.desk(),
        c.me(),
        no,
        &form.delivery(),
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    after(&c, no, decided, Some("delivered")).await
}

/// The requesting office's supervisor consents (or refuses with a reason).
pub async fn request_consent(
    Path(no): Path<String>,
    CaseForm(c, form): CaseForm<ConsentForm>,
) -> Answer {
    let no = path_no(&c, &no)?;
    let consent = if form.decision == "refuse" {
        request::Consent::Refuse(&form.reason)
    } else {
        request::Consent::Give
    };
    let decided =
        request::consent_request(&c.desk(), c.me(), no, consent, Timestamp::now(), c.op_id()).await;
    after(&c, no, decided, None).await
}

/// The assigned querier or the using unit's supervisor signs the request.
pub async fn request_sign(Path(no): Path<String>, CaseForm(c, _): CaseForm<TokenOnly>) -> Answer {
    let no = path_no(&c, &no)?;
    let decided = request::sign_request(&c.desk(), c.me(), no, Timestamp::now(), c.op_id()).await;
    after(&c, no, decided, None).await
}

/// One subject closed without a query, with a reason.
pub async fn request_close_subject(
    Path((no, position)): Path<(String, i64)>,
    CaseForm(c, form): CaseForm<CloseForm>,
) -> Answer {
    let no = path_no(&c, &no)?;
    let decided = request::close_subject(
        &c.desk(),
        c.me(),
        no,
        position,
        &form.reason,
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    after(&c, no, decided, None).await
}
