//! The documents' pages: the HTML view with its PDF link, the PDF download and a unit's
//! Form 2 register. A refusal is the error page with the zh-TW message and the stable code
//! as data (`data-code`), like every other error page.

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::auth::SignedIn;
use querywarden_app::documents::{
    Body, DocumentError, DocumentTarget, Format, font_status, produce, refuse_unparsed,
};

use super::api::{pdf_response, status};
use super::input::{DocumentPath, RegisterQuery, RevealQuery};
use crate::i18n::Messages;
use crate::pages::render;
use crate::session::PageSession;
use crate::templates::{ErrorPage, Frame};
use crate::{AppState, OperationId, PageCall};

#[derive(Template)]
#[template(path = "documents/view.html")]
pub struct DocumentPage {
    pub m: Messages,
    pub frame: Frame,
    pub body: String,
    pub pdf_href: Option<String>,
}

use crate::app_op::now_op;

/// A refusal or failure as a page: the message in the page's language, the code in
/// `data-code`; an internal failure is logged with the operation id and shown generically.
fn error_page(e: DocumentError, m: Messages, op: &OperationId, path: &str) -> Response {
    if let DocumentError::App(inner) = &e {
        return crate::error::PageError::internal(inner, &op.0, m, path).into_response();
    }
    if matches!(e, DocumentError::Render(_)) {
        tracing::error!(operation_id = %op.0, code = e.code(), error = %e, "document failed");
    }
    let message = m.explain(&e);
    ErrorPage::new(m, path, message, op.0.clone())
        .with_code(e.code())
        .answer(status(&e), op)
}

/// The PDF link of an HTML view, or `None` (the page says no font is installed).
fn pdf_link(state: &AppState, href: impl FnOnce() -> String) -> Option<String> {
    font_status(state.app.config().documents.font_path.as_deref())
        .ok()
        .map(|()| href())
}

async fn html_page(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    t: &DocumentTarget,
    path: String,
    pdf_href: Option<String>,
) -> Response {
    let produced = match produce(&state.app, &who.person, t, Format::Html, false, &now_op(op)).await
    {
        Ok(p) => p,
        Err(e) => return error_page(e, m, op, &path),
    };
    let Body::Html(body) = produced.body else {
        return error_page(DocumentError::NotFound, m, op, &path);
    };
    let page = DocumentPage {
        frame: Frame::signed_in(state, who, &m, path),
        m,
        body,
        pdf_href,
    };
    render(&page, op)
}

/// Refuses (and audits) a path or query that names no document.
async fn unparsed(
    state: &AppState,
    who: &SignedIn,
    format: Format,
    err: DocumentError,
    m: Messages,
    op: &OperationId,
    path: &str,
) -> Response {
    let e = refuse_unparsed(&state.app, &who.person, format, err, &now_op(op)).await;
    error_page(e, m, op, path)
}

/// The HTML view, with the PDF link (or the note that no font is installed).
pub async fn view_page(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(p): Path<DocumentPath>,
) -> Response {
    let path = p.path();
    let Some(t) = p.target() else {
        return unparsed(
            &state,
            &who,
            Format::Html,
            DocumentError::NotFound,
            m,
            &op,
            &path,
        )
        .await;
    };
    let pdf_href = pdf_link(&state, || format!("{path}/pdf"));
    html_page(&state, m, &op, &who, &t, path, pdf_href).await
}

/// The PDF download (audited by the use case once produced).
pub async fn pdf_download(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(p): Path<DocumentPath>,
    Query(q): Query<RevealQuery>,
) -> Response {
    let path = p.path();
    let Some(t) = p.target() else {
        return unparsed(
            &state,
            &who,
            Format::Pdf,
            DocumentError::NotFound,
            m,
            &op,
            &path,
        )
        .await;
    };
    match produce(
        &state.app,
        &who.person,
        &t,
        Format::Pdf,
        q.reveal(),
        &now_op(&op),
    )
    .await
    {
        Ok(p) => pdf_response(p),
        Err(e) => error_page(e, m, &op, &path),
    }
}

/// A unit's Form 2 register for a period: HTML view, or PDF with `format=pdf`.
pub async fn register_page(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Query(q): Query<RegisterQuery>,
) -> Response {
    let path = "/documents/register".to_string();
    let format = if q.pdf() { Format::Pdf } else { Format::Html };
    let Some(t) = q.target() else {
        return unparsed(
            &state,
            &who,
            format,
            DocumentError::BadPeriod,
            m,
            &op,
            &path,
        )
        .await;
    };
    if q.pdf() {
        return match produce(
            &state.app,
            &who.person,
            &t,
            Format::Pdf,
            false,
            &now_op(&op),
        )
        .await
        {
            Ok(p) => pdf_response(p),
            Err(e) => error_page(e, m, &op, &path),
        };
    }
    let DocumentTarget::Register { from, to, .. } = &t else {
        return error_page(DocumentError::BadPeriod, m, &op, &path);
    };
    let pdf_href = pdf_link(&state, || q.pdf_href(*from, *to));
    html_page(&state, m, &op, &who, &t, path, pdf_href).await
}

/// The Form 2 register's request form on the pages where supervisors, the permission
/// administrator and the ethics office work (§5, §7, §8): prefilled with the viewer's unit and
/// this month so far; the use case decides whose register each may have.
pub struct RegisterLink {
    pub unit: String,
    pub from: String,
    pub to: String,
}

impl RegisterLink {
    pub fn for_person(p: &querywarden_domain::org::Person) -> RegisterLink {
        let today = querywarden_domain::roc_date::taipei_date(Timestamp::now());
        let first = today.civil().first_of_month();
        let from = querywarden_domain::roc_date::RocDate::from_civil(first).unwrap_or(today);
        RegisterLink {
            unit: p.unit.as_str().to_string(),
            from: from.format_short(),
            to: today.format_short(),
        }
    }
}
