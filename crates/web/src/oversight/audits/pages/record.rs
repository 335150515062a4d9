//! One audit's record (Form 4, §8): the page with the actions its reader may take, and each
//! action — attach and submit documents, opinions, sign-offs, the director's review.

use askama::Template;
use axum::extract::{Multipart, Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::oversight::unannounced_audit::{AuditError, AuditView};
use querywarden_app::permission::Op;
use querywarden_domain::org::{Person, PersonId, Role};
use querywarden_domain::oversight::unannounced_audit::{AuditId, AuditState, SignOffStep};
use querywarden_domain::roc_date::RocDate;

use super::super::api::{Received, document_response, receive};
use super::super::input::{CaseOpinionForm, OverallOpinionForm, SimpleForm};
use super::super::op_of;
use super::{DoneQuery, Shown, date, error_page, notice, shown, state_name};
use crate::casework::Names;
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::CsrfForm;
use crate::oversight::names;
use crate::pages::render;
use crate::session::{PageSession, csrf_refused};
use crate::templates::{FormError, Frame};
use crate::{AppState, OperationId, PageCall};

// ---------------------------------------------------------------------------------------------
// One audit (Form 4).

pub struct DocRow {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: String,
    pub sha256: String,
    pub at: String,
}

pub struct CaseRow {
    pub no: String,
    pub position: u32,
    pub has_opinion: bool,
    pub conforms: bool,
    pub opinion: String,
    pub by: String,
    pub documents: Vec<DocRow>,
}

pub struct SignRow {
    pub step: String,
    pub code: &'static str,
    pub signer: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "oversight/audits/view.html")]
pub struct ViewPage {
    pub m: Messages,
    pub frame: Frame,
    pub id: i64,
    pub state: String,
    pub state_code: &'static str,
    pub period: String,
    pub audit_date: String,
    pub querier: String,
    pub querier_unit: String,
    pub auditing_unit: String,
    pub phone: String,
    pub auditors: String,
    pub deadline: String,
    pub cases_requested: u32,
    pub method: String,
    pub seed: String,
    pub draw_repeats: bool,
    pub opened: String,
    pub cases: Vec<CaseRow>,
    pub has_overall: bool,
    pub violation_found: bool,
    pub overall: String,
    pub overall_by: String,
    pub signs: Vec<SignRow>,
    pub reviewed: bool,
    pub review_by: String,
    pub review_at: String,
    pub review_comment: String,
    /// §8: the sampled cases link to their registrations for those who may open them (the
    /// ethics office and the audited querier); the director and the IT group read numbers.
    pub can_open_cases: bool,
    pub can_attach: bool,
    pub can_opine: bool,
    pub can_overall: bool,
    pub sign_step: Option<&'static str>,
    pub can_review: bool,
    pub notice: Option<String>,
    pub error: Option<FormError>,
}

/// The sampled cases, each with the auditor's opinion and the documents attached to it.
fn case_rows(m: &Messages, v: &AuditView, names: &Names) -> Vec<CaseRow> {
    v.audit
        .cases
        .iter()
        .map(|c| CaseRow {
            no: c.no.to_string(),
            position: c.position,
            has_opinion: c.opinion.is_some(),
            conforms: c.opinion.as_ref().is_some_and(|o| o.conforms),
            opinion: c
                .opinion
                .as_ref()
                .map(|o| o.text.clone())
                .unwrap_or_default(),
            by: c
                .opinion
                .as_ref()
                .map(|o| names.person(o.by))
                .unwrap_or_default(),
            documents: v
                .documents
                .iter()
                .filter(|d| d.case == c.no)
                .map(|d| DocRow {
                    id: d.id,
                    file_name: d.file_name.clone(),
                    content_type: d.content_type.clone(),
                    size: format!("{} B", d.size_bytes),
                    sha256: d.sha256.clone(),
                    at: m.datetime(d.uploaded_at),
                })
                .collect(),
        })
        .collect()
}

/// The sign-off steps in order: who signed and when, or, for a step not yet signed, who is
/// to sign it.
fn sign_rows(m: &Messages, v: &AuditView, names: &Names) -> Vec<SignRow> {
    let step_name = |s: SignOffStep| {
        if m.is_zh() {
            s.name_zh().to_string()
        } else {
            s.name_en().to_string()
        }
    };
    SignOffStep::ALL
        .into_iter()
        .map(|step| {
            let given = v.audit.sign_offs.iter().find(|s| s.step == step);
            SignRow {
                step: step_name(step),
                code: step.code(),
                signer: given
                    .map(|s| names.person(s.by))
                    .or_else(|| designated_signer(v, step).map(|d| names.person(d)))
                    .unwrap_or_default(),
                at: given.map(|s| m.datetime(s.at)).unwrap_or_default(),
            }
        })
        .collect()
}

/// The one person who signs `step`: the querier, or a supervisor as the organisation stands
/// today. The auditors' step has no one person — any auditor of the audit signs it.
fn designated_signer(v: &AuditView, step: SignOffStep) -> Option<PersonId> {
    match step {
        SignOffStep::Querier => Some(v.audit.plan.querier),
        SignOffStep::Auditor => None,
        SignOffStep::QuerierSupervisor => v.querier_supervisor,
        SignOffStep::AuditingSupervisor => v.auditing_supervisor,
    }
}

/// The step the reader may sign now, if the audit awaits a sign-off that is theirs.
fn my_sign_step(v: &AuditView, me: PersonId) -> Option<&'static str> {
    let AuditState::SigningOff(step) = v.audit.state else {
        return None;
    };
    let mine = match step {
        SignOffStep::Auditor => v.audit.is_auditor(me),
        step => designated_signer(v, step) == Some(me),
    };
    mine.then_some(step.code())
}

fn view_model(
    frame: Frame,
    m: Messages,
    who: &Person,
    v: &AuditView,
    names: &Names,
    today: RocDate,
) -> ViewPage {
    let a = &v.audit;
    let p = &a.plan;
    let me = who.id;
    let opinions_open = a.state == AuditState::Opinions
        || (a.state == AuditState::Documents && today > p.documents_deadline);
    let (overall, overall_by) = a
        .overall
        .as_ref()
        .map(|o| (o.text.clone(), names.person(o.by)))
        .unwrap_or_default();
    let (review_by, review_at, review_comment) = a
        .review
        .as_ref()
        .map(|r| {
            let comment = r.comment.clone().unwrap_or_default();
            (names.person(r.by), m.datetime(r.at), comment)
        })
        .unwrap_or_default();
    ViewPage {
        frame,
        id: a.id.get(),
        state: state_name(&m, a.state),
        state_code: a.state.code(),
        period: format!("{} – {}", date(&m, p.period_from), date(&m, p.period_to)),
        audit_date: date(&m, p.audit_date),
        querier: names.person(p.querier),
        querier_unit: names.unit(&a.querier_unit),
        auditing_unit: names.unit(&p.auditing_unit),
        phone: p.auditing_unit_phone.clone(),
        auditors: p
            .auditors
            .iter()
            .map(|x| names.person(*x))
            .collect::<Vec<_>>()
            .join(m.list_sep()),
        deadline: date(&m, p.documents_deadline),
        cases_requested: p.cases,
        method: m.get(&format!("audits-method-{}", p.method.code())),
        seed: a.seed.to_string(),
        draw_repeats: v.draw_repeats,
        opened: format!("{} {}", m.datetime(a.opened_at), names.person(a.opened_by)),
        cases: case_rows(&m, v, names),
        has_overall: a.overall.is_some(),
        violation_found: a.overall.as_ref().is_some_and(|o| o.violation_found),
        overall,
        overall_by,
        signs: sign_rows(&m, v, names),
        reviewed: a.review.is_some(),
        review_by,
        review_at,
        review_comment,
        can_open_cases: who.has_role(Role::EthicsAuditor) || p.querier == me,
        can_attach: a.state == AuditState::Documents
            && p.querier == me
            && today <= p.documents_deadline,
        can_opine: opinions_open && a.is_auditor(me),
        can_overall: a.state == AuditState::Opinions && a.is_auditor(me),
        sign_step: my_sign_step(v, me),
        can_review: a.state == AuditState::AwaitingReview && who.has_role(Role::Director),
        notice: None,
        error: None,
        m,
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "the page context (state, language, operation, person, audit) and what to show"
)]
async fn view_page(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    o: &Op,
    who: &SignedIn,
    id: AuditId,
    notice: Option<String>,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = format!("/oversight/audits/{}", id.get());
    let view = match state.app.oversight().audit_for(&who.person, id, o).await {
        Ok(v) => v,
        Err(e) => {
            return match shown(e, &m, op, &path) {
                Shown::Page(r) => r,
                Shown::Form(status, _) => error_page(m, op, &path, status, "forbidden"),
            };
        }
    };
    let names = match names(state, &m).await {
        Ok(n) => n,
        Err(e) => return PageError::internal(&e, &op.0, m, &path).into_response(),
    };
    let mut page = view_model(
        Frame::signed_in(state, who, &m, &path),
        m,
        &who.person,
        &view,
        &names,
        o.today(),
    );
    page.notice = notice;
    let status = match error {
        Some((s, e)) => {
            page.error = Some(e);
            s
        }
        None => StatusCode::OK,
    };
    (status, render(&page, op)).into_response()
}

pub async fn view(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let n = notice(&m, q.done.as_deref());
    view_page(&state, m, &op, &op_of(&op), &who, AuditId::new(id), n, None).await
}

/// After an action: back to the record with a notice, or the record with the refusal.
#[allow(
    clippy::too_many_arguments,
    reason = "the page context (state, language, operation, person, audit) and what to show"
)]
async fn after<T>(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    o: &Op,
    who: &SignedIn,
    id: AuditId,
    done: &str,
    result: Result<T, AuditError>,
) -> Response {
    let path = format!("/oversight/audits/{}", id.get());
    match result {
        Ok(_) => Redirect::to(&format!("{path}?done={done}")).into_response(),
        Err(e) => match shown(e, &m, op, &path) {
            Shown::Form(status, err) => {
                view_page(state, m, op, o, who, id, None, Some((status, err))).await
            }
            Shown::Page(r) => r,
        },
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "an axum handler takes one extractor per argument"
)]
pub async fn attach(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let o = op_of(&op);
    let id = AuditId::new(id);
    let form = match receive(&state, &who.person, id, &headers, &mut multipart, &o).await {
        Received::Form(f) => f,
        Received::TooLarge(e) => {
            return after::<()>(&state, m, &op, &o, &who, id, "", Err(e)).await;
        }
        Received::Malformed => {
            return error_page(
                m,
                &op,
                "/oversight/audits",
                StatusCode::BAD_REQUEST,
                "audits-malformed",
            );
        }
    };
    if !who.csrf_ok(&form.field("csrf")) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let result = state
        .app
        .oversight()
        .attach_document(
            &who.person,
            id,
            &form.field("case"),
            form.file_name.as_deref().unwrap_or_default(),
            form.file.as_deref().unwrap_or_default(),
            &o,
        )
        .await;
    after(&state, m, &op, &o, &who, id, "attached", result).await
}

pub async fn document(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path((id, doc)): Path<(i64, i64)>,
) -> Response {
    let path = format!("/oversight/audits/{id}");
    match document_response(&state, &who.person, AuditId::new(id), doc, &op_of(&op)).await {
        Ok(r) => r,
        Err(e) => match shown(e, &m, &op, &path) {
            Shown::Page(r) => r,
            Shown::Form(status, _) => error_page(m, &op, &path, status, "forbidden"),
        },
    }
}

pub async fn submit(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, _): CsrfForm<SimpleForm>,
) -> Response {
    let o = op_of(&op);
    let id = AuditId::new(id);
    let r = state
        .app
        .oversight()
        .submit_documents(&who.person, id, &o)
        .await;
    after(&state, m, &op, &o, &who, id, "submitted", r).await
}

pub async fn opinion(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, f): CsrfForm<CaseOpinionForm>,
) -> Response {
    let o = op_of(&op);
    let id = AuditId::new(id);
    let r = state
        .app
        .oversight()
        .record_case_opinion(&who.person, id, &f.case, f.conforms == "yes", &f.text, &o)
        .await;
    after(&state, m, &op, &o, &who, id, "opinion", r).await
}

pub async fn overall(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, f): CsrfForm<OverallOpinionForm>,
) -> Response {
    let o = op_of(&op);
    let id = AuditId::new(id);
    let r = state
        .app
        .oversight()
        .record_overall_opinion(&who.person, id, f.violation_found == "yes", &f.text, &o)
        .await;
    after(&state, m, &op, &o, &who, id, "overall", r).await
}

pub async fn sign_off(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, f): CsrfForm<SimpleForm>,
) -> Response {
    let o = op_of(&op);
    let id = AuditId::new(id);
    let Some(step) = SignOffStep::parse_code(f.step.trim()) else {
        return error_page(
            m,
            &op,
            "/oversight/audits",
            StatusCode::UNPROCESSABLE_ENTITY,
            "audits-bad-step",
        );
    };
    let r = state
        .app
        .oversight()
        .sign_off(&who.person, id, step, &o)
        .await;
    after(&state, m, &op, &o, &who, id, "signed", r).await
}

pub async fn review(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, f): CsrfForm<SimpleForm>,
) -> Response {
    let o = op_of(&op);
    let id = AuditId::new(id);
    let r = state
        .app
        .oversight()
        .director_review(&who.person, id, &f.comment, &o)
        .await;
    after(&state, m, &op, &o, &who, id, "reviewed", r).await
}
