//! What every permission page shares — the user bar, error pages, how a refusal shows, ROC
//! dates and catalogue labels, the names of staff, units and items — and the area's home page
//! (one's own applications).
//!
//! Security-sensitive only in what it shows: refusals show the rule's zh-TW message and code
//! (422 or 403, STYLE rule 7), internal failures only the operation id.

use std::future::Future;

pub(super) use crate::casework::Names;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::permission::{Awaited, PermissionError};
use querywarden_domain::org::Role;
use querywarden_domain::permission::ApplicationState;
use querywarden_domain::roc_date::RocDate;

use super::input::BadField;
use super::refusal_status;
use super::views::{ApplicationRow, PermissionHomePage};
use crate::error::PageError;
use crate::i18n::Messages;
pub(super) use crate::pages::Shown;
pub(super) use crate::pages::forbidden;
use crate::pages::not_found;
use crate::pages::render;
use crate::session::PageSession;
use crate::templates::{ErrorPage, FormError, Frame};
use crate::{AppState, OperationId, PageCall};

/// A field that did not parse, as the form shows it (422).
pub(super) fn bad_field(m: &Messages, b: BadField) -> (StatusCode, FormError) {
    let message = if m.is_zh() { b.zh } else { b.en };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        FormError {
            code: b.code,
            message,
        },
    )
}

pub(super) fn shown(e: PermissionError, m: &Messages, op: &OperationId, path: &str) -> Shown {
    match e {
        PermissionError::Refused(r) => Shown::Form(refusal_status(&r), FormError::refusal(m, &r)),
        PermissionError::Conflict => Shown::Form(
            StatusCode::CONFLICT,
            FormError {
                code: "permission.conflict".into(),
                message: m.get("perm-conflict"),
            },
        ),
        PermissionError::NotFound(_) => Shown::Page(not_found(m.clone(), op, path)),
        PermissionError::App(e) => {
            Shown::Page(PageError::internal(&e, &op.0, m.clone(), path).into_response())
        }
    }
}

/// A failure as a whole page: a refusal with its code, not found, or internal.
pub(super) fn failed(e: PermissionError, m: &Messages, op: &OperationId, path: &str) -> Response {
    match shown(e, m, op, path) {
        Shown::Page(r) => r,
        Shown::Form(status, f) => ErrorPage::new(m.clone(), path, f.message, op.0.clone())
            .with_code(&f.code)
            .answer(status, op),
    }
}

/// Why a desk (capability) was not handed out, as a page: 403 for a refusal (audited by the
/// app), else the failure.
pub(super) fn no_desk(e: PermissionError, m: &Messages, op: &OperationId, path: &str) -> Response {
    match e {
        PermissionError::Refused(_) => forbidden(m.clone(), op, path),
        e => failed(e, m, op, path),
    }
}

/// After a POST: 303 to `done` (the page saying what happened), or the form's page again with
/// the refusal (`again`), or an error page.
pub(super) async fn after_post<F, Fut>(
    outcome: Result<String, PermissionError>,
    m: &Messages,
    op: &OperationId,
    path: &str,
    again: F,
) -> Response
where
    F: FnOnce(StatusCode, FormError) -> Fut,
    Fut: Future<Output = Response>,
{
    match outcome {
        Ok(done) => Redirect::to(&done).into_response(),
        Err(e) => match shown(e, m, op, path) {
            Shown::Form(s, f) => again(s, f).await,
            Shown::Page(r) => r,
        },
    }
}

/// The status a page answers with and the error it shows.
pub(super) fn with_error(
    error: Option<(StatusCode, FormError)>,
) -> (StatusCode, Option<FormError>) {
    match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    }
}

pub(super) fn date(m: &Messages, d: RocDate) -> String {
    m.date(d)
}

pub(super) fn label(m: &Messages, area: &str, code: &str) -> String {
    m.get(&format!("perm-{area}-{code}"))
}

/// The app's directory as the permission door lets `who` read it (staff names only), in the
/// page's language.
pub(super) async fn names(
    state: &AppState,
    who: &SignedIn,
    m: &Messages,
) -> Result<Names, PermissionError> {
    let directory = state.app.permissions().directory(who.person.id).await?;
    Ok(Names::new(directory, m))
}

/// The state in words; a pending step names whom it waits for (§2, §5 ¶1: 代理 when a
/// deputy signs), or only the role when nobody can act now.
pub(super) fn state_detail(
    m: &Messages,
    s: &ApplicationState,
    waiting: Option<&Awaited>,
) -> String {
    match s {
        ApplicationState::Pending { step } => match waiting {
            Some(w) => m.with(
                if w.signer.acting {
                    "perm-waiting-named-acting"
                } else {
                    "perm-waiting-named"
                },
                &[
                    ("role", label(m, "step", step.code())),
                    ("name", w.name.clone()),
                ],
            ),
            None => format!(
                "{}{}",
                m.get("perm-waiting-for"),
                label(m, "step", step.code())
            ),
        },
        ApplicationState::Returned { note } => note.clone(),
        ApplicationState::Refused { step, reason } => {
            format!("{}{}{reason}", label(m, "step", step.code()), m.colon())
        }
        ApplicationState::Approved { effective_from } => {
            format!("{}{}", m.get("perm-effective-on"), date(m, *effective_from))
        }
        ApplicationState::Draft | ApplicationState::Withdrawn => String::new(),
    }
}

/// The notice for a `?done=` code (a fixed list; anything else shows nothing).
pub(super) fn notice(m: &Messages, done: Option<&str>) -> Option<String> {
    const KNOWN: [&str; 10] = [
        "created",
        "amended",
        "submitted",
        "withdrawn",
        "decided",
        "opened",
        "recertified",
        "closed",
        "enabled",
        "notice_read",
    ];
    done.filter(|d| KNOWN.contains(d))
        .map(|d| m.get(&format!("perm-done-{d}")))
}

/// `/permissions`: one's own applications, newest first, and the links one's roles open.
pub async fn home(PageCall { state, m, op }: PageCall, PageSession(who): PageSession) -> Response {
    let permissions = state.app.permissions();
    let loaded = async {
        let apps = permissions.applications_of(who.person.id).await?;
        let waiting = permissions.waiting_for(&apps, super::today()).await?;
        Ok::<_, PermissionError>((apps, waiting))
    }
    .await;
    let (apps, waiting) = match loaded {
        Ok(a) => a,
        Err(e) => return failed(e, &m, &op, "/permissions"),
    };
    let p = &who.person;
    let page = PermissionHomePage {
        frame: Frame::signed_in(&state, &who, &m, "/permissions"),
        applications: apps
            .iter()
            .zip(&waiting)
            .rev()
            .map(|(a, w)| ApplicationRow {
                id: a.id.get(),
                form_number: a.form_number.to_string(),
                kind: label(&m, "kind", a.kind.code()),
                date: date(&m, a.application_date),
                state: label(&m, "state", a.state.code()),
                state_code: a.state.code().to_string(),
                detail: state_detail(&m, &a.state, w.as_ref()),
            })
            .collect(),
        is_supervisor: p.has_role(Role::UnitSupervisor)
            || p.has_role(Role::PermissionAdminSupervisor),
        is_admin: p.has_role(Role::PermissionAdministrator),
        m,
    };
    render(&page, &op)
}
