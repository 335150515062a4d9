//! The approver's inbox with the personnel-change notices (§2), one's own grants, and the
//! permission administrator's overview of all grants (§7).
//!
//! Security-sensitive: the inbox lists only what waits for the signed-in person; the overview
//! needs the administrator's desk, handed out (and a refusal audited) by the app.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::permission::service::NoticeRow;
use querywarden_app::permission::{GrantView, InboxEntry, PermissionError};
use querywarden_domain::org::PersonId;
use querywarden_domain::permission::GrantStatus;
use querywarden_domain::roc_date::RocDate;

use super::input::{DoneQuery, FilterQuery, IdPath};
use super::pages::{Names, bad_field, date, failed, label, names, no_desk, notice};
use super::today;
use super::views::{Choice, GrantRow, GrantsPage, InboxPage, InboxRow, NoticeLine};
use crate::PageCall;
use crate::app_op::{now_op, op_of};
use crate::i18n::Messages;
use crate::input::{CsrfForm, TokenOnly};
use crate::pages::render;
use crate::session::PageSession;
use crate::templates::Frame;

fn inbox_rows(m: &Messages, names: &Names, entries: &[InboxEntry]) -> Vec<InboxRow> {
    entries
        .iter()
        .map(|e| {
            let a = &e.application;
            InboxRow {
                id: a.id.get(),
                form_number: a.form_number.to_string(),
                applicant: names.person(a.applicant),
                unit: names.unit(&a.unit),
                kind: label(m, "kind", a.kind.code()),
                step: label(m, "step", e.step.code()),
                since: e.waiting_since.map(|t| m.datetime(t)).unwrap_or_default(),
                reminder_on: e.reminder_on.map(|d| date(m, d)).unwrap_or_default(),
                reminder_due: e.reminder_due,
            }
        })
        .collect()
}

/// Whom or what a notice is about, from its object (`person:…`, `form1_before:…`,
/// `calendar:…`).
fn notice_about(m: &Messages, names: &Names, object: &str) -> String {
    object
        .strip_prefix("person:")
        .and_then(|p| p.parse().ok())
        .map(|p| names.person(PersonId::new(p)))
        // §2 ¶2: the person's own reminder names the day to file before.
        .or_else(|| {
            let day = object.strip_prefix("form1_before:")?;
            let d = RocDate::from_civil(day.parse().ok()?).ok()?;
            Some(format!(
                "{} {}",
                m.get("perm-notice-form1-before"),
                date(m, d)
            ))
        })
        .or_else(|| {
            object
                .strip_prefix("calendar:")
                .map(|y| format!("{y} → /admin/calendar"))
        })
        .unwrap_or_default()
}

fn notice_lines(m: &Messages, names: &Names, notices: &[NoticeRow]) -> Vec<NoticeLine> {
    notices
        .iter()
        .map(|n| NoticeLine {
            id: n.id,
            what: label(m, "notice", &n.kind.replace('.', "-")),
            about: notice_about(m, names, &n.object),
            at: m.datetime(n.created_at),
        })
        .collect()
}

pub async fn inbox(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Query(q): Query<DoneQuery>,
) -> Response {
    let path = "/permissions/inbox";
    let permissions = state.app.permissions();
    let loaded = async {
        let entries = permissions.inbox(who.person.id, today()).await?;
        // §2: personnel changes the administrator and the old supervisor are told of.
        let notices = permissions.unread_notices(who.person.id).await?;
        Ok::<_, PermissionError>((entries, notices, names(&state, &who, &m).await?))
    }
    .await;
    let (entries, notices, names) = match loaded {
        Ok(x) => x,
        Err(e) => return failed(e, &m, &op, path),
    };
    let page = InboxPage {
        frame: Frame::signed_in(&state, &who, &m, path),
        rows: inbox_rows(&m, &names, &entries),
        notices: notice_lines(&m, &names, &notices),
        notice: notice(&m, q.done.as_deref()),
        m,
    };
    render(&page, &op)
}

/// The recipient marks one notice read (CSRF-checked); back to the inbox.
pub async fn notice_read(
    PageCall { state, m, op }: PageCall,
    Path(IdPath { id }): Path<IdPath>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Response {
    let path = "/permissions/inbox";
    let read = state
        .app
        .permissions()
        .mark_notice_read(who.person.id, id, &op_of(&op))
        .await;
    match read {
        Ok(()) => Redirect::to(&format!("{path}?done=notice_read")).into_response(),
        Err(e) => failed(e, &m, &op, path),
    }
}

fn grant_rows(m: &Messages, names: &Names, grants: &[GrantView]) -> Vec<GrantRow> {
    grants
        .iter()
        .map(|v| {
            let g = &v.grant;
            let note = match (g.suspended_from, g.suspension_cause) {
                (Some(from), Some(cause)) => format!(
                    "{} {}{}",
                    label(m, "cause", cause.code()),
                    m.get("perm-since"),
                    date(m, from)
                ),
                _ => String::new(),
            };
            GrantRow {
                id: g.id.get(),
                account: v.account.as_str().to_string(),
                name: v.name.clone(),
                unit: names.unit(&v.unit),
                item: names.item(&g.item),
                from: date(m, g.effective_from),
                to: g.effective_to.map(|d| date(m, d)).unwrap_or_default(),
                status: label(m, "grant", g.status.code()),
                status_code: g.status.code().to_string(),
                in_force: v.in_force,
                note,
                application: g.application.get(),
            }
        })
        .collect()
}

pub async fn my_grants(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Response {
    let path = "/permissions/grants";
    let loaded = async {
        let grants = state
            .app
            .permissions()
            .my_grants(who.person.id, today())
            .await?;
        Ok::<_, PermissionError>((grants, names(&state, &who, &m).await?))
    }
    .await;
    let (grants, names) = match loaded {
        Ok(x) => x,
        Err(e) => return failed(e, &m, &op, path),
    };
    let page = GrantsPage {
        frame: Frame::signed_in(&state, &who, &m, path),
        overview: false,
        units: vec![],
        items: vec![],
        statuses: vec![],
        rows: grant_rows(&m, &names, &grants),
        error: None,
        m,
    };
    render(&page, &op)
}

/// The overview's three filters, with what `q` chose selected.
fn filter_choices(
    m: &Messages,
    names: &Names,
    q: &FilterQuery,
) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    // The filters list units by id and items by code, whatever the register's order.
    let mut units: Vec<_> = names.units.iter().collect();
    units.sort_by(|a, b| a.id.cmp(&b.id));
    let units = units
        .into_iter()
        .map(|u| Choice {
            value: u.id.as_str().to_string(),
            label: u.name_zh.clone(),
            selected: u.id.as_str() == q.unit,
        })
        .collect();
    let mut items: Vec<_> = names.items.iter().collect();
    items.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let items = items
        .into_iter()
        .map(|i| Choice {
            value: i.code.as_str().to_string(),
            label: if m.is_zh() {
                i.name_zh.clone()
            } else {
                i.name_en.clone()
            },
            selected: i.code.as_str() == q.item,
        })
        .collect();
    let statuses = GrantStatus::ALL
        .iter()
        .map(|s| Choice {
            value: s.code().to_string(),
            label: label(m, "grant", s.code()),
            selected: s.code() == q.status,
        })
        .collect();
    (units, items, statuses)
}

pub async fn overview(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Query(q): Query<FilterQuery>,
) -> Response {
    let path = "/permissions/admin/grants";
    let permissions = state.app.permissions();
    let desk = permissions
        .administrator_desk(who.person.id, &now_op(&op))
        .await;
    let desk = match desk {
        Ok(d) => d,
        Err(e) => return no_desk(e, &m, &op, path),
    };
    let names = match names(&state, &who, &m).await {
        Ok(n) => n,
        Err(e) => return failed(e, &m, &op, path),
    };
    let (status, rows, error) = match q.parse() {
        Err(b) => {
            let (status, error) = bad_field(&m, b);
            (status, vec![], Some(error))
        }
        Ok(filter) => match permissions.grant_overview(&desk, &filter, today()).await {
            Ok(g) => (StatusCode::OK, grant_rows(&m, &names, &g), None),
            Err(e) => return failed(e, &m, &op, path),
        },
    };
    let (units, items, statuses) = filter_choices(&m, &names, &q);
    let page = GrantsPage {
        frame: Frame::signed_in(&state, &who, &m, path),
        overview: true,
        units,
        items,
        statuses,
        rows,
        error,
        m,
    };
    (status, render(&page, &op)).into_response()
}
