//! Page handlers (HTML). Each takes parsed input, calls the app, renders a template.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use querywarden_domain::NationalId;
use serde::Deserialize;

use crate::error::PageError;
use crate::session::MaybeSession;
use crate::templates::{
    BasisRow, CataloguePage, ErrorPage, HomePage, IdCheckPage, IdCheckResult, ItemRow, PersonRow,
    UserBar,
};
use crate::{AppState, Lang, OperationId};

pub fn render(page: &impl Template, op: &OperationId) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(operation_id = %op.0, error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// The idle-lock delay the page enforces (§3).
pub fn lock_after_ms(state: &AppState) -> i64 {
    state.app.config().session.screen_lock_minutes as i64 * 60_000
}

fn bar(state: &AppState, s: &MaybeSession) -> Option<UserBar> {
    s.0.as_ref().map(|s| UserBar::of(s, lock_after_ms(state)))
}

pub async fn home(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    session: MaybeSession,
) -> Result<Response, PageError> {
    let app = &state.app;
    let fail = |e: querywarden_app::AppError| PageError::internal(&e, &op.0, m.clone(), "/");
    let demo = app.config().demo;
    let people = if demo {
        let units = app.store().units().await.map_err(|e| fail(e.into()))?;
        app.store()
            .persons()
            .await
            .map_err(|e| fail(e.into()))?
            .into_iter()
            .map(|p| PersonRow {
                account: p.account.as_str().to_string(),
                unit: units
                    .iter()
                    .find(|u| u.id == p.unit)
                    .map_or_else(|| p.unit.as_str().to_string(), |u| u.name_zh.clone()),
                roles: p
                    .roles
                    .iter()
                    .map(|r| if m.is_zh() { r.name_zh() } else { r.name_en() })
                    .collect::<Vec<_>>()
                    .join(if m.is_zh() { "、" } else { ", " }),
                name: p.name,
                title: p.title,
            })
            .collect()
    } else {
        Vec::new()
    };
    let (records, _) = app
        .store()
        .audit_extent()
        .await
        .map_err(|e| fail(e.into()))?;
    let checkpoint = app
        .store()
        .latest_checkpoint()
        .await
        .map_err(|e| fail(e.into()))?
        .map(|c| c.note);
    Ok(render(
        &HomePage::new(m, bar(&state, &session), demo, people, records, checkpoint),
        &op,
    ))
}

pub async fn catalogue(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    session: MaybeSession,
) -> Result<Response, PageError> {
    let store = state.app.store();
    let fail =
        |e: querywarden_app::AppError| PageError::internal(&e, &op.0, m.clone(), "/catalogue");
    let items = store
        .service_items()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .map(|i| ItemRow {
            code: i.code.as_str().to_string(),
            name_zh: i.name_zh,
            name_en: i.name_en,
        })
        .collect();
    let bases = store
        .legal_bases()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .map(|b| BasisRow {
            law: b.law,
            article: b.article,
            summary_zh: b.summary_zh,
        })
        .collect();
    let mut page = CataloguePage::new(m, items, bases);
    page.user = bar(&state, &session);
    Ok(render(&page, &op))
}

pub async fn id_check_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    session: MaybeSession,
) -> Response {
    let mut page = IdCheckPage::new(m, None);
    page.user = bar(&state, &session);
    render(&page, &op)
}

#[derive(Deserialize)]
pub struct CheckIdForm {
    id: String,
}

/// Checks a number typed by a person. It arrives in the POST body (never the URL) and is not
/// logged; only its masked form is shown back.
pub async fn id_check(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    session: MaybeSession,
    Form(form): Form<CheckIdForm>,
) -> Response {
    let result = match NationalId::parse(&form.id) {
        Ok(id) => IdCheckResult {
            valid: true,
            kind: if m.is_zh() {
                id.kind().name_zh().to_string()
            } else {
                id.kind().code().to_string()
            },
            masked: id.masked(),
            reason: String::new(),
            code: String::new(),
        },
        Err(e) => IdCheckResult {
            valid: false,
            kind: String::new(),
            masked: String::new(),
            reason: if m.is_zh() {
                e.to_string()
            } else {
                e.message_en()
            },
            code: e.code().to_string(),
        },
    };
    let status = if result.valid {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut page = IdCheckPage::new(m, Some(result));
    page.user = bar(&state, &session);
    (status, render(&page, &op)).into_response()
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Sets the language cookie and goes back to a local page.
pub async fn switch_language(Path(tag): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let Some(locale) = crate::i18n::Locale::parse(&tag) else {
        return (StatusCode::NOT_FOUND, "unknown language").into_response();
    };
    // Only local paths: an open redirect would let a link on another site bounce through us.
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".to_string());
    let cookie = format!(
        "qw_lang={}; Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly",
        locale.tag()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../static/app.js"),
    )
        .into_response()
}

pub async fn not_found(Lang(m): Lang, op: OperationId) -> Response {
    let message = m.get("error-not-found");
    let page = ErrorPage::new(m, "/", message, op.0.clone());
    (StatusCode::NOT_FOUND, render(&page, &op)).into_response()
}
