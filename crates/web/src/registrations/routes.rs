//! The registrations area's routes: the Form 2 pages, "my registrations", and their JSON API.

use axum::Router;
use axum::routing::{get, post};

use super::{api, bulk, deputy, execution, mine, pages, record, results};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/registrations",
            get(pages::inbox).post(pages::register_submit),
        )
        .route("/registrations/new", get(pages::register_form))
        .route(
            "/registrations/batch",
            get(pages::batch_form)
                .post(pages::batch_upload)
                .layer(axum::extract::DefaultBodyLimit::max(3 * 1024 * 1024)),
        )
        .route("/registrations/mine", get(mine::mine_page))
        .route("/registrations/approvals", get(bulk::approvals_page))
        .route("/registrations/decisions", post(bulk::decide_page))
        .route("/registrations/{no}", get(record::registration))
        .route("/registrations/{no}/reveal", post(record::reveal))
        .route("/registrations/{no}/approve", post(record::approve))
        .route("/registrations/{no}/reject", post(record::reject))
        .route("/registrations/{no}/cancel", post(record::cancel))
        .route("/registrations/{no}/execute", post(execution::execute))
        .route(
            "/registrations/{no}/executions/{item}/statement",
            post(execution::state_outcome),
        )
        .route(
            "/registrations/{no}/results/{item}",
            get(results::view_result),
        )
        .route(
            "/registrations/{no}/results/{item}/print",
            post(results::print_result),
        )
        .route(
            "/registrations/{no}/results/{item}/prints-destroyed",
            post(results::confirm_prints),
        )
        .route("/api/v1/registrations", post(api::register))
        .route("/api/v1/registrations/batch", post(api::register_batch))
        .route("/api/v1/registrations/inbox", get(api::inbox))
        .route("/api/v1/registrations/decisions", post(bulk::decide_api))
        .route("/api/v1/registrations/mine", get(mine::mine_api))
        .route("/api/v1/registrations/{no}", get(api::registration))
        .route("/api/v1/registrations/{no}/reveal", post(api::reveal))
        .route("/api/v1/registrations/{no}/decision", post(api::decide))
        .route("/api/v1/registrations/{no}/cancel", post(api::cancel))
        .route("/api/v1/registrations/{no}/execution", post(api::execute))
        .route(
            "/api/v1/registrations/{no}/executions/{item}/statement",
            post(api::state_outcome),
        )
        .route(
            "/api/v1/registrations/{no}/results/{item}",
            get(api::result),
        )
        .route(
            "/api/v1/registrations/{no}/results/{item}/print",
            post(api::print),
        )
        .route(
            "/units/{unit}/deputy",
            get(deputy::deputy_page).post(deputy::deputy_submit),
        )
        .route("/api/v1/units/{unit}/deputy", post(deputy::deputy_api))
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api::register,
    api::register_batch,
    api::inbox,
    api::registration,
    api::cancel,
    api::decide,
    api::execute,
    api::state_outcome,
    api::result,
    api::print,
    api::reveal,
    bulk::decide_api,
    mine::mine_api,
    deputy::deputy_api
))]
pub struct ApiDoc;
