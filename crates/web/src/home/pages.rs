//! The home page (signed in: what waits for the person; signed out: what the system is and
//! how to sign in), the demo's start page, and the catalogue page.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::directory::Directory;
use querywarden_app::permission::PermissionError;
use querywarden_app::public_reads;
use querywarden_app::worklist::{Concerning, NoticeRow, WorkItem};
use querywarden_domain::org::PersonId;
use querywarden_domain::roc_date::{RocDate, taipei_date};

use super::bar;
use super::nav;
use super::templates::{
    BasisRow, CataloguePage, DemoPage, HomePage, ItemRow, NoticeLine, PersonRow, Waiting, WorkRow,
};
use crate::app_op::op_of;
use crate::auth::session::MaybeSession;
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::{CsrfForm, TokenOnly};
use crate::pages::render;
use crate::templates::ErrorPage;
use crate::{Lang, PageCall};

pub async fn home(
    PageCall { state, m, op }: PageCall,
    MaybeSession(who): MaybeSession,
) -> Result<Response, PageError> {
    let fail = |e: &querywarden_app::AppError| PageError::internal(e, &op.0, m.clone(), "/");
    let figures = public_reads::home_figures(&state.app)
        .await
        .map_err(|e| fail(&e))?;
    let waiting = match &who {
        Some(s) => {
            // Read once per page: the navigation's counts came from the same read.
            let list = match nav::current() {
                Some(w) => w,
                None => Arc::new(
                    state
                        .app
                        .worklist(&s.person, jiff::Timestamp::now())
                        .await
                        .map_err(|e| fail(&e))?,
                ),
            };
            // The names only serve the notices: most home pages have none, and read nothing.
            let notices = if list.notices.is_empty() {
                Vec::new()
            } else {
                let names = state
                    .app
                    .oversight()
                    .directory()
                    .await
                    .map_err(|e| fail(&e))?;
                list.notices
                    .iter()
                    .map(|n| notice_line(&m, &names, n))
                    .collect()
            };
            Some(Waiting {
                rows: list.items.iter().map(|i| work_row(&m, i)).collect(),
                notices,
                csrf: s.session.csrf_token.clone(),
            })
        }
        None => None,
    };
    let page = HomePage::new(
        m.clone(),
        bar(&state, &who),
        waiting,
        state.app.config().demo,
        figures.audit_records,
        figures.checkpoint,
    );
    Ok(render(&page, &op))
}

/// `/demo`: the demo's own start page (the URL `querywarden demo` prints), with the accounts
/// to try; anywhere but the demo it does not exist.
pub async fn demo_start(
    PageCall { state, m, op }: PageCall,
    MaybeSession(who): MaybeSession,
) -> Result<Response, PageError> {
    let start = public_reads::demo_start(&state.app)
        .await
        .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/demo"))?;
    let Some(start) = start else {
        return Ok(super::assets::not_found(Lang(m), op).await);
    };
    let people = start
        .accounts
        .into_iter()
        .map(|a| PersonRow {
            account: a.person.account.as_str().to_string(),
            unit: a.unit_name,
            roles: a
                .person
                .roles
                .iter()
                .map(|r| if m.is_zh() { r.name_zh() } else { r.name_en() })
                .collect::<Vec<_>>()
                .join(if m.is_zh() { "、" } else { ", " }),
            name: a.person.name,
            title: a.person.title,
        })
        .collect();
    let page = DemoPage::new(
        m,
        bar(&state, &who),
        people,
        start.password.unwrap_or_default().to_string(),
    );
    Ok(render(&page, &op))
}

/// The person marks one of their notices read (CSRF-checked, audited by the app); back to
/// the home page.
pub async fn notice_read(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Response {
    let read = state
        .app
        .permissions()
        .mark_notice_read(who.person.id, id, &op_of(&op))
        .await;
    match read {
        Ok(()) => Redirect::to("/#notices").into_response(),
        Err(PermissionError::App(e)) => PageError::internal(&e, &op.0, m, "/").into_response(),
        // Someone else's notice, or one already read: it is not there to mark (refusal
        // audited by the app).
        Err(e) => ErrorPage::new(m, "/", e.to_string(), op.0.clone())
            .with_code(e.code())
            .answer(StatusCode::NOT_FOUND, &op),
    }
}

fn date(m: &Messages, d: RocDate) -> String {
    m.date(d)
}

/// Where the person acts on what waits, and the number it goes by (audits and cases in
/// words).
fn reference(m: &Messages, c: &Concerning) -> (String, String) {
    let object = super::api::object_of(c);
    let reference = match c {
        Concerning::Audit { .. } => m.with("home-ref-audit", &[("id", object.reference)]),
        Concerning::Violation(_) => m.with("home-ref-case", &[("id", object.reference)]),
        _ => object.reference,
    };
    (reference, object.href)
}

/// Working days counted to a deadline, within which it is shown as near.
const NEAR_WORKING_DAYS: i32 = 3;

fn work_row(m: &Messages, i: &WorkItem) -> WorkRow {
    let (reference, href) = reference(m, &i.concerning);
    let mut what = m.get(&format!("home-task-{}", i.task.code().replace('_', "-")));
    // Which step of Form 1 or Form 4, where the task is a step.
    match &i.concerning {
        Concerning::Application { step, .. } => {
            what = m.aside(&what, &m.get(&format!("perm-step-{}", step.code())));
        }
        Concerning::Audit {
            step: Some(step), ..
        } => {
            let name = if m.is_zh() {
                step.name_zh()
            } else {
                step.name_en()
            };
            what = m.aside(&what, name);
        }
        _ => {}
    }
    let left = match i.working_days_left {
        Some(0) => m.get("home-due-today"),
        Some(n) if n > 0 => m.with("home-days-left", &[("n", n.to_string())]),
        Some(n) => m.with("home-days-over", &[("n", (-n).to_string())]),
        None => String::new(),
    };
    WorkRow {
        code: i.task.code(),
        what,
        reference,
        href,
        since: date(m, taipei_date(i.since)),
        due: i
            .due
            .map_or_else(|| m.get("home-no-deadline"), |d| date(m, d)),
        left,
        overdue: i.working_days_left.is_some_and(|n| n < 0),
        near: i
            .working_days_left
            .is_some_and(|n| (0..=NEAR_WORKING_DAYS).contains(&n)),
    }
}

/// A notice in words: what happened (its kind's message, else its code) and about whom or
/// what — a staff member by name, a case or an audit by number; never a citizen.
fn notice_line(m: &Messages, names: &Directory, n: &NoticeRow) -> NoticeLine {
    // The areas' own words for their notices first, then the home page's, then the code.
    let kind = n.kind.replace('.', "-");
    let what = [format!("perm-notice-{kind}"), format!("home-notice-{kind}")]
        .into_iter()
        .map(|key| (m.get(&key), key))
        .find(|(text, key)| text != key)
        .map_or_else(
            || m.with("home-notice-other", &[("kind", n.kind.clone())]),
            |(text, _)| text,
        );
    let about = match n.object.split_once(':') {
        Some(("person", p)) => p
            .parse()
            .map(|p| {
                let id = PersonId::new(p);
                names
                    .staff(id, |name, account| m.staff(name, account))
                    .unwrap_or_else(|| id.to_string())
            })
            .unwrap_or_default(),
        Some(("form1_before", day)) => day
            .parse()
            .ok()
            .and_then(|d| RocDate::from_civil(d).ok())
            .map(|d| format!("{} {}", m.get("perm-notice-form1-before"), date(m, d)))
            .unwrap_or_default(),
        Some(("violation", id)) => m.with("home-ref-case", &[("id", id.to_string())]),
        Some(("unannounced_audit" | "audit", id)) => {
            m.with("home-ref-audit", &[("id", id.to_string())])
        }
        // Registration and request numbers, review quarters, calendar years: references
        // that carry no personal data.
        Some((_, rest)) => rest.to_string(),
        None => n.object.clone(),
    };
    NoticeLine {
        id: n.id,
        at: m.datetime(n.created_at),
        what,
        about,
    }
}

pub async fn catalogue(
    PageCall { state, m, op }: PageCall,
    MaybeSession(who): MaybeSession,
) -> Result<Response, PageError> {
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), "/catalogue");
    let items = public_reads::service_items(&state.app)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|i| ItemRow {
            code: i.code.as_str().to_string(),
            name_zh: i.name_zh,
            name_en: i.name_en,
        })
        .collect();
    let bases = public_reads::legal_bases(&state.app)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|b| BasisRow {
            law: b.law,
            article: b.article,
            summary_zh: b.summary_zh,
        })
        .collect();
    let page = CataloguePage::new(m, bar(&state, &who), items, bases);
    Ok(render(&page, &op))
}
