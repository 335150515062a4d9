//! `GET /api/v1/documents/{form}/{id}`: the PDF, or the JSON error with the same code as the
//! page; and the answer's mapping shared with the pages (status per refusal, PDF headers).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use querywarden_app::documents::{Body, DocumentError, Format, Produced, produce, refuse_unparsed};

use super::input::DocumentPath;
use super::pages::op_of;
use crate::error::ApiError;
use crate::session::ApiSession;
use crate::{AppState, OperationId};

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
    ApiError::new(status(&e), e.code(), e.to_string(), e.message_en(), &op.0)
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

/// `GET /api/v1/documents/{form}/{id}`: the PDF, or the JSON error with the same code.
pub async fn api_pdf(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Path(p): Path<DocumentPath>,
) -> Result<Response, ApiError> {
    let o = op_of(&op);
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
