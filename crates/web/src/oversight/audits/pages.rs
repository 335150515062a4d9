//! The audit pages under `/oversight/audits…`: the list (with the director's review queue),
//! the Form 4 opening form, and one audit's record with the actions its reader may take.
//!
//! Thin handlers: each parses its form, calls one function of
//! `querywarden_app::oversight::unannounced_audit` and shows the result; a refusal is shown on
//! the record with its stable code and the status the API would give.

use crate::casework::Names;
use crate::oversight::names;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::oversight::unannounced_audit::AuditError;
use querywarden_domain::org::{Role, Unit, UnitKind};
use querywarden_domain::oversight::unannounced_audit::{
    AuditState, UnannouncedAudit, audit_office,
};
use querywarden_domain::roc_date::RocDate;
use serde::Deserialize;

use super::input::OpenAuditForm;
use super::{op_of, refusal_status};
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::CsrfForm;
pub(super) use crate::pages::{Shown, error_page};
use crate::pages::{not_found, render};
use crate::session::PageSession;
use crate::templates::{FormError, Frame};
use crate::{AppState, OperationId, PageCall};

mod record;

pub use record::{attach, document, opinion, overall, review, sign_off, submit, view};

pub(super) fn date(m: &Messages, d: RocDate) -> String {
    m.date(d)
}

pub(super) fn shown(e: AuditError, m: &Messages, op: &OperationId, path: &str) -> Shown {
    match e {
        AuditError::Refused(r) => Shown::Form(refusal_status(&r), FormError::refusal(m, &r)),
        AuditError::Conflict => Shown::Form(
            StatusCode::CONFLICT,
            FormError {
                code: "audit.conflict".into(),
                message: m.get("audits-conflict"),
            },
        ),
        AuditError::NotFound(_) => Shown::Page(not_found(m.clone(), op, path)),
        AuditError::App(e) => {
            Shown::Page(PageError::internal(&e, &op.0, m.clone(), path).into_response())
        }
    }
}

/// `?done=` notices (a fixed list; anything else shows nothing).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    pub done: Option<String>,
}

pub(super) fn notice(m: &Messages, done: Option<&str>) -> Option<String> {
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
    pub frame: Frame,
    pub can_open: bool,
    pub is_director: bool,
    pub waiting: Vec<AuditRow>,
    pub rows: Vec<AuditRow>,
}

pub(super) fn state_name(m: &Messages, s: AuditState) -> String {
    if m.is_zh() {
        s.name_zh().to_string()
    } else {
        s.name_en().to_string()
    }
}

fn row(m: &Messages, names: &Names, a: &UnannouncedAudit) -> AuditRow {
    AuditRow {
        id: a.id.get(),
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

pub async fn list(PageCall { state, m, op }: PageCall, PageSession(who): PageSession) -> Response {
    let path = "/oversight/audits";
    let door = state.app.oversight();
    let is_director = who.person.has_role(Role::Director);
    let loaded = async {
        let mine = door.audits_for(&who.person).await?;
        let waiting = if is_director {
            door.review_queue(&who.person, &op_of(&op)).await?
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
    let names = match names(&state, &m).await {
        Ok(n) => n,
        Err(e) => return PageError::internal(&e, &op.0, m, path).into_response(),
    };
    let page = ListPage {
        frame: Frame::signed_in(&state, &who, &m, path),
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
    pub frame: Frame,
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
    let names = match names(state, &m).await {
        Ok(n) => n,
        Err(e) => return PageError::internal(&e, &op.0, m, path).into_response(),
    };
    let queriers = names
        .persons
        .values()
        .filter(|p| p.has_role(Role::Querier) && p.id != who.person.id)
        .map(|p| Choice {
            value: p.account.as_str().to_string(),
            label: names.person(p.id),
            selected: p.account.as_str() == form.querier.trim(),
        })
        .collect();
    // By id, as the form has always listed them.
    let mut auditing: Vec<&Unit> = names
        .units
        .iter()
        .filter(|u| matches!(u.kind, UnitKind::ItGroup | UnitKind::EthicsOffice))
        .collect();
    auditing.sort_by(|a, b| a.id.cmp(&b.id));
    let units = auditing
        .into_iter()
        .map(|u| Choice {
            value: u.id.to_string(),
            label: u.name_zh.clone(),
            selected: u.id.as_str() == form.auditing_unit,
        })
        .collect();
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = NewPage {
        frame: Frame::signed_in(state, who, &m, path),
        queriers,
        units,
        form,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn new_form(
    PageCall { state, m, op }: PageCall,
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
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, form): CsrfForm<OpenAuditForm>,
) -> Response {
    let path = "/oversight/audits/new";
    match state
        .app
        .oversight()
        .open_audit(&who.person, &form.request(), &op_of(&op))
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
