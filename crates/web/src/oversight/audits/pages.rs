//! The audit pages under `/oversight/audits…`: the list (with the director's review queue),
//! the Form 4 opening form, and one audit's record with the actions its reader may take.
//!
//! Thin handlers: each parses its form, calls one function of
//! `querywarden_app::oversight::unannounced_audit` and shows the result; a refusal is shown on
//! the record with its stable code and the status the API would give.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::oversight::unannounced_audit::{self as audits, AuditError, AuditView};
use querywarden_app::permission::Op;
use querywarden_domain::org::{Person, PersonId, Role, UnitId, UnitKind};
use querywarden_domain::oversight::unannounced_audit::{
    AuditId, AuditState, SignOffStep, UnannouncedAudit, audit_office,
};
use querywarden_domain::roc_date::{RocDate, format_taipei_datetime, taipei_date};
use serde::Deserialize;

use super::api::{Received, document_response, receive};
use super::input::{CaseOpinionForm, OpenAuditForm, OverallOpinionForm, SimpleForm};
use super::{op_of, refusal_status};
use crate::error::PageError;
use crate::i18n::Messages;
use crate::pages::{lock_after_ms, render};
use crate::session::{PageSession, csrf_refused};
use crate::templates::{ErrorPage, FormError, UserBar};
use crate::{AppState, Lang, OperationId};

fn today_in(m: &Messages) -> String {
    date(m, taipei_date(jiff::Timestamp::now()))
}

fn date(m: &Messages, d: RocDate) -> String {
    if m.is_zh() {
        d.format_long()
    } else {
        d.format_en()
    }
}

fn bar(state: &AppState, who: &SignedIn) -> UserBar {
    UserBar::of(who, lock_after_ms(state))
}

fn error_page(
    m: Messages,
    op: &OperationId,
    path: &str,
    status: StatusCode,
    key: &str,
) -> Response {
    let message = m.get(key);
    let page = ErrorPage::new(m, path, message, op.0.clone());
    (status, render(&page, op)).into_response()
}

/// How an audit failure shows: a form error with its status, or a whole error page.
enum Shown {
    Form(StatusCode, FormError),
    Page(Response),
}

fn shown(e: AuditError, m: &Messages, op: &OperationId, path: &str) -> Shown {
    match e {
        AuditError::Refused(r) => Shown::Form(
            refusal_status(&r),
            FormError {
                code: r.code().to_string(),
                message: if m.is_zh() {
                    r.to_string()
                } else {
                    r.message_en()
                },
            },
        ),
        AuditError::Conflict => Shown::Form(
            StatusCode::CONFLICT,
            FormError {
                code: "audit.conflict".into(),
                message: m.get("audits-conflict"),
            },
        ),
        AuditError::NotFound(_) => Shown::Page(error_page(
            m.clone(),
            op,
            path,
            StatusCode::NOT_FOUND,
            "error-not-found",
        )),
        AuditError::App(e) => {
            Shown::Page(PageError::internal(&e, &op.0, m.clone(), path).into_response())
        }
    }
}

/// People and units by key, for names instead of ids.
struct Names {
    people: BTreeMap<PersonId, Person>,
    units: BTreeMap<UnitId, (String, UnitKind)>,
}

impl Names {
    async fn load(state: &AppState) -> Result<Names, querywarden_app::AppError> {
        let store = state.app.store();
        Ok(Names {
            people: store
                .persons()
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect(),
            units: store
                .units()
                .await?
                .into_iter()
                .map(|u| (u.id, (u.name_zh, u.kind)))
                .collect(),
        })
    }

    fn person(&self, p: PersonId) -> String {
        self.people
            .get(&p)
            .map(|p| format!("{}（{}）", p.name, p.account))
            .unwrap_or_else(|| p.to_string())
    }

    fn unit(&self, u: &UnitId) -> String {
        self.units
            .get(u)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| u.to_string())
    }
}

/// `?done=` notices (a fixed list; anything else shows nothing).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    pub done: Option<String>,
}

fn notice(m: &Messages, done: Option<&str>) -> Option<String> {
    const KNOWN: [&str; 7] = [
        "opened",
        "attached",
        "submitted",
        "opinion",
        "overall",
        "signed",
        "reviewed",
    ];
    done.filter(|d| KNOWN.contains(d))
        .map(|d| m.get(&format!("audits-done-{d}")))
}

// ---------------------------------------------------------------------------------------------
// The list.

pub struct AuditRow {
    pub id: i64,
    pub querier: String,
    pub period: String,
    pub auditing_unit: String,
    pub deadline: String,
    pub state: String,
    pub state_code: &'static str,
}

#[derive(Template)]
#[template(path = "oversight/audits/list.html")]
pub struct ListPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub can_open: bool,
    pub is_director: bool,
    pub waiting: Vec<AuditRow>,
    pub rows: Vec<AuditRow>,
}

fn state_name(m: &Messages, s: AuditState) -> String {
    if m.is_zh() {
        s.name_zh().to_string()
    } else {
        s.name_en().to_string()
    }
}

fn row(m: &Messages, names: &Names, a: &UnannouncedAudit) -> AuditRow {
    AuditRow {
        id: a.id.0,
        querier: names.person(a.plan.querier),
        period: format!(
            "{} – {}",
            date(m, a.plan.period_from),
            date(m, a.plan.period_to)
        ),
        auditing_unit: names.unit(&a.plan.auditing_unit),
        deadline: date(m, a.plan.documents_deadline),
        state: state_name(m, a.state),
        state_code: a.state.code(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
) -> Response {
    let path = "/oversight/audits";
    let store = state.app.store();
    let is_director = who.person.has_role(Role::Director);
    let loaded = async {
        let mine = audits::audits_for(store, &who.person).await?;
        let waiting = if is_director {
            audits::review_queue(store, &who.person, &op_of(&op, addr)).await?
        } else {
            Vec::new()
        };
        Ok::<_, AuditError>((mine, waiting))
    }
    .await;
    let (mine, waiting) = match loaded {
        Ok(x) => x,
        Err(e) => match shown(e, &m, &op, path) {
            Shown::Page(r) => return r,
            Shown::Form(status, _) => return error_page(m, &op, path, status, "forbidden"),
        },
    };
    let names = match Names::load(&state).await {
        Ok(n) => n,
        Err(e) => return PageError::internal(&e, &op.0, m, path).into_response(),
    };
    let page = ListPage {
        today: today_in(&m),
        user: Some(bar(&state, &who)),
        path: path.into(),
        can_open: audit_office(&who.person).is_ok(),
        is_director,
        waiting: waiting.iter().map(|a| row(&m, &names, a)).collect(),
        rows: mine.iter().map(|a| row(&m, &names, a)).collect(),
        m,
    };
    render(&page, &op)
}

// ---------------------------------------------------------------------------------------------
// Opening (Form 4's header).

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "oversight/audits/new.html")]
pub struct NewPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub queriers: Vec<Choice>,
    pub units: Vec<Choice>,
    pub form: OpenAuditForm,
    pub error: Option<FormError>,
}

async fn new_page(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    form: OpenAuditForm,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = "/oversight/audits/new";
    let names = match Names::load(state).await {
        Ok(n) => n,
        Err(e) => return PageError::internal(&e, &op.0, m, path).into_response(),
    };
    let queriers = names
        .people
        .values()
        .filter(|p| p.has_role(Role::Querier) && p.id != who.person.id)
        .map(|p| Choice {
            value: p.account.as_str().to_string(),
            label: names.person(p.id),
            selected: p.account.as_str() == form.querier.trim(),
        })
        .collect();
    let units = names
        .units
        .iter()
        .filter(|(_, (_, k))| matches!(k, UnitKind::ItGroup | UnitKind::EthicsOffice))
        .map(|(id, (name, _))| Choice {
            value: id.to_string(),
            label: name.clone(),
            selected: id.as_str() == form.auditing_unit,
        })
        .collect();
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = NewPage {
        today: today_in(&m),
        user: Some(bar(state, who)),
        path: path.into(),
        csrf: who.session.csrf_token.clone(),
        queriers,
        units,
        form,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn new_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    if let Err(r) = audit_office(&who.person) {
        crate::session::role_refused(&state, &who, r.code(), &op.0).await;
        return error_page(
            m,
            &op,
            "/oversight/audits/new",
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    let form = OpenAuditForm {
        auditing_unit: who.person.unit.to_string(),
        auditors: who.person.account.as_str().to_string(),
        cases: "5".into(),
        method: "uniform".into(),
        ..Default::default()
    };
    new_page(&state, m, &op, &who, form, None).await
}

pub async fn open(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Form(form): Form<OpenAuditForm>,
) -> Response {
    if !who.csrf_ok(&form.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let path = "/oversight/audits/new";
    match audits::open_audit(
        state.app.store(),
        &who.person,
        &form.request(),
        &op_of(&op, addr),
    )
    .await
    {
        Ok(a) => Redirect::to(&format!("/oversight/audits/{}?done=opened", a.id)).into_response(),
        Err(e) => match shown(e, &m, &op, path) {
            Shown::Form(status, err) => {
                new_page(&state, m, &op, &who, form, Some((status, err))).await
            }
            Shown::Page(r) => r,
        },
    }
}

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
    pub weight: u32,
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
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
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
    pub can_attach: bool,
    pub can_opine: bool,
    pub can_overall: bool,
    pub sign_step: Option<&'static str>,
    pub can_review: bool,
    pub notice: Option<String>,
    pub error: Option<FormError>,
}

fn view_model(
    m: Messages,
    user: UserBar,
    csrf: String,
    who: &Person,
    v: &AuditView,
    names: &Names,
    today: RocDate,
) -> ViewPage {
    let a = &v.audit;
    let p = &a.plan;
    let cases = a
        .cases
        .iter()
        .map(|c| CaseRow {
            no: c.no.to_string(),
            position: c.position,
            weight: c.weight,
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
                    at: format_taipei_datetime(d.uploaded_at),
                })
                .collect(),
        })
        .collect();
    let step_name = |s: SignOffStep| {
        if m.is_zh() {
            s.name_zh().to_string()
        } else {
            s.name_en().to_string()
        }
    };
    let signs = SignOffStep::ALL
        .into_iter()
        .map(|step| {
            let given = a.sign_offs.iter().find(|s| s.step == step);
            let designated = match step {
                SignOffStep::Querier => Some(p.querier),
                SignOffStep::Auditor => None,
                SignOffStep::QuerierSupervisor => v.querier_supervisor,
                SignOffStep::AuditingSupervisor => v.auditing_supervisor,
            };
            SignRow {
                step: step_name(step),
                code: step.code(),
                signer: given
                    .map(|s| names.person(s.by))
                    .or_else(|| designated.map(|d| names.person(d)))
                    .unwrap_or_default(),
                at: given
                    .map(|s| format_taipei_datetime(s.at))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let me = who.id;
    let sign_step = match a.state {
        AuditState::SigningOff(step) => {
            let mine = match step {
                SignOffStep::Querier => p.querier == me,
                SignOffStep::Auditor => a.is_auditor(me),
                SignOffStep::QuerierSupervisor => v.querier_supervisor == Some(me),
                SignOffStep::AuditingSupervisor => v.auditing_supervisor == Some(me),
            };
            mine.then_some(step.code())
        }
        _ => None,
    };
    let opinions_open = a.state == AuditState::Opinions
        || (a.state == AuditState::Documents && today > p.documents_deadline);
    ViewPage {
        today: today_in(&m),
        user: Some(user),
        path: format!("/oversight/audits/{}", a.id),
        csrf,
        id: a.id.0,
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
            .join("、"),
        deadline: date(&m, p.documents_deadline),
        cases_requested: p.cases,
        method: m.get(&format!("audits-method-{}", p.method.code())),
        seed: a.seed.to_string(),
        draw_repeats: v.draw_repeats,
        opened: format!(
            "{} {}",
            format_taipei_datetime(a.opened_at),
            names.person(a.opened_by)
        ),
        cases,
        has_overall: a.overall.is_some(),
        violation_found: a.overall.as_ref().is_some_and(|o| o.violation_found),
        overall: a
            .overall
            .as_ref()
            .map(|o| o.text.clone())
            .unwrap_or_default(),
        overall_by: a
            .overall
            .as_ref()
            .map(|o| names.person(o.by))
            .unwrap_or_default(),
        signs,
        reviewed: a.review.is_some(),
        review_by: a
            .review
            .as_ref()
            .map(|r| names.person(r.by))
            .unwrap_or_default(),
        review_at: a
            .review
            .as_ref()
            .map(|r| format_taipei_datetime(r.at))
            .unwrap_or_default(),
        review_comment: a
            .review
            .as_ref()
            .and_then(|r| r.comment.clone())
            .unwrap_or_default(),
        can_attach: a.state == AuditState::Documents
            && p.querier == me
            && today <= p.documents_deadline,
        can_opine: opinions_open && a.is_auditor(me),
        can_overall: a.state == AuditState::Opinions && a.is_auditor(me),
        sign_step,
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
    let path = format!("/oversight/audits/{}", id.0);
    let view =
        match audits::audit_for(state.app.store(), state.app.keys(), &who.person, id, o).await {
            Ok(v) => v,
            Err(e) => {
                return match shown(e, &m, op, &path) {
                    Shown::Page(r) => r,
                    Shown::Form(status, _) => error_page(m, op, &path, status, "forbidden"),
                };
            }
        };
    let names = match Names::load(state).await {
        Ok(n) => n,
        Err(e) => return PageError::internal(&e, &op.0, m, &path).into_response(),
    };
    let mut page = view_model(
        m,
        bar(state, who),
        who.session.csrf_token.clone(),
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
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let n = notice(&m, q.done.as_deref());
    view_page(
        &state,
        m,
        &op,
        &op_of(&op, addr),
        &who,
        AuditId(id),
        n,
        None,
    )
    .await
}

/// After an action: back to the record with a notice, or the record with the refusal.
#[allow(
    clippy::too_many_arguments,
    reason = "the page context (state, language, operation, person, audit) and what to show"
)]
async fn after(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    o: &Op,
    who: &SignedIn,
    id: AuditId,
    done: &str,
    result: Result<(), AuditError>,
) -> Response {
    let path = format!("/oversight/audits/{}", id.0);
    match result {
        Ok(()) => Redirect::to(&format!("{path}?done={done}")).into_response(),
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
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let o = op_of(&op, addr);
    let id = AuditId(id);
    let form = match receive(&state, &who.person, id, &headers, &mut multipart, &o).await {
        Received::Form(f) => f,
        Received::TooLarge(e) => return after(&state, m, &op, &o, &who, id, "", Err(e)).await,
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
    let result = audits::attach_document(
        state.app.store(),
        state.app.keys(),
        &state.app.config().unannounced_audits,
        &who.person,
        id,
        &form.field("case"),
        form.file_name.as_deref().unwrap_or_default(),
        form.file.as_deref().unwrap_or_default(),
        &o,
    )
    .await
    .map(|_| ());
    after(&state, m, &op, &o, &who, id, "attached", result).await
}

pub async fn document(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path((id, doc)): Path<(i64, i64)>,
) -> Response {
    let path = format!("/oversight/audits/{id}");
    match document_response(&state, &who.person, AuditId(id), doc, &op_of(&op, addr)).await {
        Ok(r) => r,
        Err(e) => match shown(e, &m, &op, &path) {
            Shown::Page(r) => r,
            Shown::Form(status, _) => error_page(m, &op, &path, status, "forbidden"),
        },
    }
}

pub async fn submit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(f): Form<SimpleForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let o = op_of(&op, addr);
    let id = AuditId(id);
    let r = audits::submit_documents(state.app.store(), &who.person, id, &o)
        .await
        .map(|_| ());
    after(&state, m, &op, &o, &who, id, "submitted", r).await
}

pub async fn opinion(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(f): Form<CaseOpinionForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let o = op_of(&op, addr);
    let id = AuditId(id);
    let r = audits::record_case_opinion(
        state.app.store(),
        &who.person,
        id,
        &f.case,
        f.conforms == "yes",
        &f.text,
        &o,
    )
    .await
    .map(|_| ());
    after(&state, m, &op, &o, &who, id, "opinion", r).await
}

pub async fn overall(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(f): Form<OverallOpinionForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let o = op_of(&op, addr);
    let id = AuditId(id);
    let r = audits::record_overall_opinion(
        state.app.store(),
        &who.person,
        id,
        f.violation_found == "yes",
        &f.text,
        &o,
    )
    .await
    .map(|_| ());
    after(&state, m, &op, &o, &who, id, "overall", r).await
}

pub async fn sign_off(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(f): Form<SimpleForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let o = op_of(&op, addr);
    let id = AuditId(id);
    let Some(step) = SignOffStep::parse_code(f.step.trim()) else {
        return error_page(
            m,
            &op,
            "/oversight/audits",
            StatusCode::UNPROCESSABLE_ENTITY,
            "audits-bad-step",
        );
    };
    let r = audits::sign_off(state.app.store(), &who.person, id, step, &o)
        .await
        .map(|_| ());
    after(&state, m, &op, &o, &who, id, "signed", r).await
}

pub async fn review(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
    Form(f): Form<SimpleForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let o = op_of(&op, addr);
    let id = AuditId(id);
    let r = audits::review(state.app.store(), &who.person, id, &f.comment, &o)
        .await
        .map(|_| ());
    after(&state, m, &op, &o, &who, id, "reviewed", r).await
}
