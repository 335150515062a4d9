//! `GET /api/v1/documents/{form}/{id}`: the PDF, or the JSON error with the same code as the
//! page; and the answer's mapping shared with the pages (status per refusal, PDF headers).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use querywarden_app::documents::{Body, DocumentError, Format, Produced, produce, refuse_unparsed};

use super::input::DocumentPath;
use crate::OperationId;
use crate::app_op::now_op;
use crate::error::ApiError;
use crate::session::ApiCall;

/// One status per refusal, for the page and the API alike.
pub(super) fn status(e: &DocumentError) -> StatusCode {
    match e {
        DocumentError::NotFound => StatusCode::NOT_FOUND,
        DocumentError::BadQuarter | DocumentError::BadPeriod => StatusCode::BAD_REQUEST,
        DocumentError::QuarterNotClosed => StatusCode::CONFLICT,
        DocumentError::Font(_) => StatusCode::SERVICE_UNAVAILABLE,
        DocumentError::Render(_) | DocumentError::App(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn api_error(e: DocumentError, op: &OperationId) -> ApiError {
    if let DocumentError::App(inner) = &e {
        return ApiError::internal(inner, &op.0);
    }
    ApiError::refusal(status(&e), &e, &op.0)
}

pub(super) fn pdf_response(p: Produced) -> Response {
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

/// 列印文件 PDF（附表1–4、季報告、當事人答復書）the PDF of Form 1-4 (form1…form4, id: the record's number), the quarterly report (quarterly, id: 115Q3) or the reply letter to a citizen's access request (citizen-letter, id: the request's number, personal-data contact only)
///
/// `GET /api/v1/documents/{form}/{id}`: the PDF, or the JSON error with the same code.
#[utoipa::path(get, path = "/api/v1/documents/{form}/{id}",
    params(("form" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, description = "the PDF", content_type = "application/pdf", body = String),
        (status = 503, description = "documents.font_missing")
    ))]
pub async fn api_pdf(
    ApiCall { state, op, who }: ApiCall,
    Path(p): Path<DocumentPath>,
) -> Result<Response, ApiError> {
    let o = now_op(&op);
    let Some(t) = p.target() else {
        let e = refuse_unparsed(
            &state.app,
            &who.person,
            Format::Pdf,
            DocumentError::NotFound,
            &o,
        );
        return Err(api_error(e.await, &op));
    };
    produce(&state.app, &who.person, &t, Format::Pdf, false, &o)
        .await
        .map(pdf_response)
        .map_err(|e| api_error(e, &op))
}
