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

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(api::api_pdf))]
pub struct ApiDoc;
