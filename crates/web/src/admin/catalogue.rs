//! The permission administrator's catalogue page and API (MISSION.md "the catalogue is data";
//! Form 1 其他): add, rename and retire service items and legal bases. The rule (only the
//! permission administrator; retired entries stay for old records) lives in
//! `querywarden_app::catalogue`; these handlers parse, call it once and map the answer. The
//! page and the API refuse the same things with the same codes.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::catalogue::{CatalogueChange, CatalogueRefusal};
use querywarden_app::{administration, public_reads};
use querywarden_domain::org::Role;
use serde_json::json;

use super::input::{ChangeForm, NoticeQuery};
use super::templates::{CatalogueAdminPage, EntryRow};
use crate::auth::session::{ApiSession, PageSession};
use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::input::CsrfForm;
use crate::pages::render;
use crate::templates::{FormError, Frame};
use crate::{AppState, OperationId, PageCall};

const PATH: &str = "/admin/catalogue";

fn status(r: &CatalogueRefusal) -> StatusCode {
    match r {
        CatalogueRefusal::NotAdministrator => StatusCode::FORBIDDEN,
        CatalogueRefusal::NotFound => StatusCode::NOT_FOUND,
        CatalogueRefusal::Exists | CatalogueRefusal::Retired => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn render_page(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    notice: Option<String>,
    refusal: Option<&CatalogueRefusal>,
) -> Result<Response, PageError> {
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), PATH);
    let items = public_reads::service_items(&state.app)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|i| EntryRow {
            code: i.code.as_str().to_string(),
            name: if m.is_zh() { i.name_zh } else { i.name_en },
            detail: String::new(),
            active: i.active,
        })
        .collect();
    let bases = public_reads::legal_bases(&state.app)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|b| EntryRow {
            code: b.id.as_str().to_string(),
            name: b.display_zh(),
            detail: b.kind,
            active: b.active,
        })
        .collect();
    let page = CatalogueAdminPage {
        frame: Frame::signed_in(state, who, &m, PATH),
        notice,
        error: refusal.map(|r| FormError::refusal(&m, r)),
        items,
        bases,
        can_change: who.person.has_role(Role::PermissionAdministrator),
        m,
    };
    let code = refusal.map_or(StatusCode::OK, status);
    Ok((code, render(&page, op)).into_response())
}

pub async fn page(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = q
        .notice
        .filter(|n| n == "changed")
        .map(|_| m.get("catalogue-admin-changed"));
    render_page(&state, m, &op, &who, notice, None).await
}

pub async fn submit(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, form): CsrfForm<ChangeForm>,
) -> Result<Response, PageError> {
    let Some(change) = form.change() else {
        return Ok((StatusCode::BAD_REQUEST, m.get("catalogue-admin-bad-op")).into_response());
    };
    let decided =
        administration::change_catalogue(&state.app, &who.person, &change, Timestamp::now(), &op.0)
            .await
            .map_err(|e| PageError::internal(&e, &op.0, m.clone(), PATH))?;
    match decided {
        Ok(()) => Ok(Redirect::to("/admin/catalogue?notice=changed").into_response()),
        Err(r) => render_page(&state, m, &op, &who, None, Some(&r)).await,
    }
}

/// 目錄維護（權限管理者）catalogue change by the permission administrator: {op: add_item|rename_item|retire_item|add_basis|rename_basis|retire_basis, code|id, name_zh, name_en, law, article, summary_zh, kind} (audited as admin.catalogue.changed)
///
/// `POST /api/v1/catalogue/changes` with a [`CatalogueChange`] (`{"op": "add_item", …}`).
#[utoipa::path(post, path = "/api/v1/catalogue/changes", request_body = CatalogueChange)]
pub async fn api_change(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Json(change): Json<CatalogueChange>,
) -> Result<Response, ApiError> {
    let decided =
        administration::change_catalogue(&state.app, &who.person, &change, Timestamp::now(), &op.0)
            .await
            .map_err(|e| ApiError::internal(&e, &op.0))?;
    match decided {
        Ok(()) => Ok(Json(json!({ "op": change.op(), "changed": true })).into_response()),
        Err(r) => Err(ApiError::refusal(status(&r), &r, &op.0)),
    }
}
