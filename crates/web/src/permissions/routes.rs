//! Every permission route: the pages, `/api/v1/permissions/…` and `/scim/v2/Users`. The paths
//! of the API are also listed in `crate::API_ROUTES` (a test checks both against each other).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

use super::{admin, api, applications, grants, pages, scim, staff, staff_api};
use crate::AppState;

/// The staff CSV (5 MB at most) with room for the multipart envelope or the JSON quoting.
const STAFF_IMPORT_BODY_LIMIT: usize = 6 * 1024 * 1024;

/// Every permission route: pages, JSON API and SCIM.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(page_routes())
        .merge(api_routes())
        .route("/scim/v2/Users", post(scim::post_user))
        .route("/scim/v2/Users/{id}", put(scim::put_user))
}

fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/permissions", get(pages::home))
        .route(
            "/permissions/apply",
            get(applications::apply_form).post(applications::apply_submit),
        )
        .route(
            "/permissions/applications/{id}",
            get(applications::application),
        )
        .route(
            "/permissions/applications/{id}/amend",
            get(applications::amend_form).post(applications::amend_submit),
        )
        .route(
            "/permissions/applications/{id}/submit",
            post(applications::submit),
        )
        .route(
            "/permissions/applications/{id}/withdraw",
            post(applications::withdraw),
        )
        .route(
            "/permissions/applications/{id}/decide",
            post(applications::decide),
        )
        .route("/permissions/inbox", get(grants::inbox))
        .route("/permissions/notices/{id}/read", post(grants::notice_read))
        .route("/permissions/grants", get(grants::my_grants))
        .route("/permissions/admin/grants", get(grants::overview))
        .route(
            "/permissions/admin/staff-import",
            get(admin::import_form)
                .post(admin::import_upload)
                .layer(DefaultBodyLimit::max(STAFF_IMPORT_BODY_LIMIT)),
        )
        .route("/permissions/admin/accounts", get(admin::accounts))
        .route("/permissions/admin/accounts/enable", post(admin::enable))
        .route("/permissions/staff", get(staff::staff_page))
        .route("/permissions/recertification", post(staff::open_round))
        .route("/permissions/recertification/{id}", get(staff::round))
        .route(
            "/permissions/recertification/{id}/decide",
            post(staff::round_decide),
        )
        .route(
            "/permissions/recertification/{id}/close",
            post(staff::round_close),
        )
}

fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/permissions/applications",
            get(api::my_applications).post(api::create),
        )
        .route(
            "/api/v1/permissions/applications/{id}",
            get(api::application).put(api::amend),
        )
        .route(
            "/api/v1/permissions/applications/{id}/submit",
            post(api::submit),
        )
        .route(
            "/api/v1/permissions/applications/{id}/withdraw",
            post(api::withdraw),
        )
        .route(
            "/api/v1/permissions/applications/{id}/decision",
            post(api::decide),
        )
        .route("/api/v1/permissions/inbox", get(api::inbox))
        .route("/api/v1/permissions/grants", get(api::my_grants))
        .route("/api/v1/permissions/admin/grants", get(api::overview))
        .route(
            "/api/v1/permissions/admin/staff-import",
            post(staff_api::staff_import).layer(DefaultBodyLimit::max(STAFF_IMPORT_BODY_LIMIT)),
        )
        .route(
            "/api/v1/permissions/admin/accounts/enable",
            post(staff_api::enable),
        )
        .route(
            "/api/v1/permissions/staff-changes",
            get(staff_api::staff_changes),
        )
        .route(
            "/api/v1/permissions/recertifications",
            get(staff_api::rounds).post(staff_api::open_round),
        )
        .route(
            "/api/v1/permissions/recertifications/{id}",
            get(staff_api::round),
        )
        .route(
            "/api/v1/permissions/recertifications/{id}/decisions",
            post(staff_api::round_decide),
        )
        .route(
            "/api/v1/permissions/recertifications/{id}/close",
            post(staff_api::round_close),
        )
}

/// This area's `/api/v1` operations, from the handlers' `#[utoipa::path]` and their bodies'
/// types (merged in `common_api::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    staff_api::enable,
    staff_api::rounds,
    staff_api::open_round,
    staff_api::round,
    staff_api::round_close,
    staff_api::round_decide,
    staff_api::staff_changes,
    staff_api::staff_import,
    api::overview,
    api::my_applications,
    api::create,
    api::application,
    api::amend,
    api::decide,
    api::submit,
    api::withdraw,
    api::my_grants,
    api::inbox
))]
pub struct ApiDoc;
