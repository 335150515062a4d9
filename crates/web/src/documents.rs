//! Printed documents on the web: each record's form as PDF (a download link on its page) and
//! as an HTML view of the same view model, plus the JSON API's PDF. One use case
//! (`querywarden_app::documents::produce`) decides, builds and audits; these handlers parse
//! the path into a target and map the answer. Refusals carry the same stable codes on the
//! pages and the API.
//!
//! Routes: `/documents/{form}/{id}` (HTML view), `/documents/{form}/{id}/pdf`, the register
//! `/documents/register?unit=&from=&to=` (`&format=pdf`), and `GET /api/v1/documents/{form}/{id}`
//! (PDF, or the JSON error). `{form}` is `form1`…`form4` or `quarterly` (id `115Q3`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use querywarden_app::documents::{
    Body, DocumentError, DocumentTarget, Format, Produced, font_status, parse_quarter, produce,
};
use querywarden_app::permission::Op;
use querywarden_domain::org::UnitId;
use querywarden_domain::oversight::unannounced_audit::AuditId;
use querywarden_domain::permission::ApplicationId;
use querywarden_domain::registration::RequestNo;
use querywarden_domain::roc_date::RocDate;
use serde::Deserialize;

use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::pages::{lock_after_ms, render};
use crate::session::{ApiSession, PageSession};
use crate::templates::UserBar;
use crate::{AppState, Lang, OperationId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/documents/register", get(register_page))
        .route("/documents/{form}/{id}", get(view_page))
        .route("/documents/{form}/{id}/pdf", get(pdf_download))
        .route("/api/v1/documents/{form}/{id}", get(api_pdf))
}

/// The OpenAPI operation of `GET /api/v1/documents/{form}/{id}`.
pub fn openapi_operation() -> serde_json::Value {
    serde_json::json!({
        "summary": "列印文件 PDF（附表1–4、季報告）the PDF of Form 1-4 (form1…form4, id: the record's number) or the quarterly report (quarterly, id: 115Q3)",
        "responses": {
            "200": { "description": "application/pdf" },
            "400": { "description": "documents.bad_quarter" },
            "404": { "description": "documents.not_found" },
            "409": { "description": "documents.quarter_not_closed" },
            "503": { "description": "documents.font_missing" }
        }
    })
}

#[derive(Template)]
#[template(path = "documents/view.html")]
pub struct DocumentPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub body: String,
    pub pdf_href: Option<String>,
}

/// `form1`…`form4` / `quarterly` and the record's id, as typed in a URL.
fn target(form: &str, id: &str) -> Option<DocumentTarget> {
    let id = id.trim();
    Some(match form {
        "form1" => DocumentTarget::Form1(ApplicationId::new(id.parse().ok()?)),
        "form2" => DocumentTarget::Form2(id.parse().ok()?),
        "form3" => DocumentTarget::Form3(RequestNo::parse(id).ok()?),
        "form4" => DocumentTarget::Form4(AuditId(id.parse().ok()?)),
        "quarterly" => DocumentTarget::Quarterly(parse_quarter(id).ok()?),
        _ => return None,
    })
}

fn status(e: &DocumentError) -> StatusCode {
    match e {
        DocumentError::NotFound => StatusCode::NOT_FOUND,
        DocumentError::BadQuarter | DocumentError::BadPeriod => StatusCode::BAD_REQUEST,
        DocumentError::QuarterNotClosed => StatusCode::CONFLICT,
        DocumentError::Font(_) => StatusCode::SERVICE_UNAVAILABLE,
        DocumentError::Render(_) | DocumentError::App(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn page_error(e: DocumentError, m: Messages, op: &OperationId, path: &str) -> PageError {
    if let DocumentError::App(inner) = &e {
        return PageError::internal(inner, &op.0, m, path);
    }
    if matches!(e, DocumentError::Render(_)) {
        tracing::error!(operation_id = %op.0, code = e.code(), error = %e, "document failed");
    }
    let message = if m.is_zh() {
        e.to_string()
    } else {
        e.message_en()
    };
    PageError {
        status: status(&e),
        message: format!("{message} [{}]", e.code()),
        operation_id: op.0.clone(),
        messages: m,
        path: path.to_string(),
    }
}

fn api_error(e: DocumentError, op: &OperationId) -> ApiError {
    if let DocumentError::App(inner) = &e {
        return ApiError::internal(inner, &op.0);
    }
    ApiError::new(status(&e), e.code(), e.to_string(), e.message_en(), &op.0)
}

fn pdf_response(p: Produced) -> Response {
    let Body::Pdf(bytes) = p.body else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    // The file name names the record only (form2-115-000012.pdf), never a person.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", p.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn op_of(op: &OperationId) -> Op {
    Op::new(Timestamp::now(), op.0.clone())
}

fn today(m: &Messages) -> String {
    let d = querywarden_domain::roc_date::taipei_date(Timestamp::now());
    if m.is_zh() {
        d.format_long()
    } else {
        d.format_en()
    }
}

#[derive(Deserialize)]
pub struct RevealQuery {
    #[serde(default)]
    reveal: Option<String>,
}

/// The HTML view, with the PDF link (or the note that no font is installed).
pub async fn view_page(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path((form, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let path = format!("/documents/{form}/{id}");
    let Some(t) = target(&form, &id) else {
        return Err(page_error(DocumentError::NotFound, m, &op, &path));
    };
    let pdf_href = font_status(state.app.config().documents.font_path.as_deref())
        .ok()
        .map(|()| format!("{path}/pdf"));
    html_page(&state, m, &op, &who, &t, path, pdf_href).await
}

async fn html_page(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    t: &DocumentTarget,
    path: String,
    pdf_href: Option<String>,
) -> Result<Response, PageError> {
    let produced = produce(&state.app, &who.person, t, Format::Html, false, &op_of(op))
        .await
        .map_err(|e| page_error(e, m.clone(), op, &path))?;
    let Body::Html(body) = produced.body else {
        return Err(page_error(DocumentError::NotFound, m, op, &path));
    };
    let page = DocumentPage {
        today: today(&m),
        m,
        user: Some(UserBar::of(who, lock_after_ms(state))),
        path,
        body,
        pdf_href,
    };
    Ok(render(&page, op))
}

/// The PDF download (audited by the use case once produced).
pub async fn pdf_download(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path((form, id)): Path<(String, String)>,
    Query(q): Query<RevealQuery>,
) -> Result<Response, PageError> {
    let path = format!("/documents/{form}/{id}");
    let Some(t) = target(&form, &id) else {
        return Err(page_error(DocumentError::NotFound, m, &op, &path));
    };
    let reveal = q.reveal.as_deref() == Some("1");
    produce(
        &state.app,
        &who.person,
        &t,
        Format::Pdf,
        reveal,
        &op_of(&op),
    )
    .await
    .map(pdf_response)
    .map_err(|e| page_error(e, m, &op, &path))
}

/// `GET /api/v1/documents/{form}/{id}`: the PDF, or the JSON error with the same code.
pub async fn api_pdf(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path((form, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let Some(t) = target(&form, &id) else {
        return Err(api_error(DocumentError::NotFound, &op));
    };
    produce(&state.app, &who.person, &t, Format::Pdf, false, &op_of(&op))
        .await
        .map(pdf_response)
        .map_err(|e| api_error(e, &op))
}

#[derive(Deserialize)]
pub struct RegisterQuery {
    unit: String,
    from: String,
    to: String,
    #[serde(default)]
    format: Option<String>,
}

/// A unit's Form 2 register for a period: HTML view, or PDF with `format=pdf`.
pub async fn register_page(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    let path = "/documents/register".to_string();
    let (Ok(unit), Ok(from), Ok(to)) = (
        UnitId::new(q.unit.clone()),
        RocDate::parse(&q.from),
        RocDate::parse(&q.to),
    ) else {
        return Err(page_error(DocumentError::BadPeriod, m, &op, &path));
    };
    let t = DocumentTarget::Register { unit, from, to };
    if q.format.as_deref() == Some("pdf") {
        return produce(&state.app, &who.person, &t, Format::Pdf, false, &op_of(&op))
            .await
            .map(pdf_response)
            .map_err(|e| page_error(e, m, &op, &path));
    }
    let pdf_href = font_status(state.app.config().documents.font_path.as_deref())
        .ok()
        .map(|()| {
            format!(
                "/documents/register?unit={}&from={}&to={}&format=pdf",
                q.unit,
                from.format_short(),
                to.format_short()
            )
        });
    html_page(&state, m, &op, &who, &t, path, pdf_href).await
}
