//! The documents area's routes (the API route is also listed in `crate::API_ROUTES`).

use axum::Router;
use axum::routing::get;

use super::{api, pages};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/documents/register", get(pages::register_page))
        .route("/documents/{form}/{id}", get(pages::view_page))
        .route("/documents/{form}/{id}/pdf", get(pages::pdf_download))
        .route("/api/v1/documents/{form}/{id}", get(api::api_pdf))
}

/// The OpenAPI operation of `GET /api/v1/documents/{form}/{id}`.
pub fn openapi_operation() -> serde_json::Value {
    serde_json::json!({
        "summary": "列印文件 PDF（附表1–4、季報告、當事人答復書）the PDF of Form 1-4 (form1…form4, id: the record's number), the quarterly report (quarterly, id: 115Q3) or the reply letter to a citizen's access request (citizen-letter, id: the request's number, personal-data contact only)",
        "responses": {
            "200": { "description": "application/pdf" },
            "400": { "description": "documents.bad_quarter" },
            "404": { "description": "documents.not_found (also an unknown form: refused and audited)" },
            "409": { "description": "documents.quarter_not_closed" },
            "503": { "description": "documents.font_missing" }
        }
    })
}
