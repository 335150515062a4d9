//! The routes of the pages anyone may open.

use axum::Router;
use axum::routing::{get, post};

use super::{api, assets, id_check, language, pages};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/demo", get(pages::demo_start))
        .route("/home/notices/{id}/read", post(pages::notice_read))
        .route("/catalogue", get(pages::catalogue))
        .route("/api/v1/me/worklist", get(api::my_worklist))
        .route(
            "/tools/national-id",
            get(id_check::id_check_form).post(id_check::id_check),
        )
        .route("/lang/{tag}", get(language::switch_language))
        .route("/static/app.js", get(assets::script))
        .route("/static/app.css", get(assets::stylesheet))
}
