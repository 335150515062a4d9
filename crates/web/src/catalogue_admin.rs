//! The permission administrator's catalogue page and API (MISSION.md "the catalogue is data";
//! Form 1 其他): add, rename and retire service items and legal bases. The rule (only the
//! permission administrator; retired entries stay for old records) lives in
//! `querywarden_app::catalogue`; these handlers parse, call it once and map the answer. The
//! page and the API refuse the same things with the same codes.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jiff::Timestamp;
use querywarden_app::catalogue::{self, CatalogueChange, CatalogueRefusal};
use serde::Deserialize;
use serde_json::json;

use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::pages::{lock_after_ms, render};
use crate::session::{ApiSession, PageSession, csrf_refused};
use crate::templates::today_in;
use crate::templates::{FormError, UserBar};
use crate::{AppState, Lang, OperationId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/catalogue", get(page).post(submit))
        .route("/api/v1/catalogue/changes", post(api_change))
}

/// One catalogue entry as listed.
pub struct EntryRow {
    pub code: String,
    pub name: String,
    pub detail: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "catalogue_admin.html")]
pub struct CatalogueAdminPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<FormError>,
    pub items: Vec<EntryRow>,
    pub bases: Vec<EntryRow>,
    /// The viewer is the permission administrator: the forms are shown (the use case decides
    /// all the same).
    pub can_change: bool,
}

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
    let fail = |e: querywarden_app::AppError| {
        PageError::internal(&e, &op.0, m.clone(), "/admin/catalogue")
    };
    let store = state.app.store();
    let items = store
        .service_items()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .map(|i| EntryRow {
            code: i.code.as_str().to_string(),
            name: if m.is_zh() { i.name_zh } else { i.name_en },
            detail: String::new(),
            active: i.active,
        })
        .collect();
    let bases = store
        .legal_bases()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .map(|b| EntryRow {
            code: b.id.as_str().to_string(),
            name: b.display_zh(),
            detail: b.kind,
            active: b.active,
        })
        .collect();
    let user = UserBar::of(who, lock_after_ms(state));
    let page = CatalogueAdminPage {
        today: today_in(&m),
        csrf: user.csrf.clone(),
        user: Some(user),
        path: "/admin/catalogue".into(),
        notice,
        error: refusal.map(|r| FormError {
            code: r.code().to_string(),
            message: if m.is_zh() {
                r.to_string()
            } else {
                r.message_en()
            },
        }),
        items,
        bases,
        can_change: who
            .person
            .has_role(querywarden_domain::org::Role::PermissionAdministrator),
        m,
    };
    let code = refusal.map_or(StatusCode::OK, status);
    Ok((code, render(&page, op)).into_response())
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = q
        .notice
        .filter(|n| n == "changed")
        .map(|_| m.get("catalogue-admin-changed"));
    render_page(&state, m, &op, &who, notice, None).await
}

/// The page's form: the operation and its fields, as in [`CatalogueChange`].
#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    law: String,
    #[serde(default)]
    article: String,
    #[serde(default)]
    summary_zh: String,
    #[serde(default)]
    kind: String,
}

impl ChangeForm {
    fn change(self) -> Option<CatalogueChange> {
        let Self {
            op,
            code,
            name_zh,
            name_en,
            law,
            article,
            summary_zh,
            kind,
            ..
        } = self;
        Some(match op.as_str() {
            "add_item" => CatalogueChange::AddItem {
                code,
                name_zh,
                name_en,
            },
            "rename_item" => CatalogueChange::RenameItem {
                code,
                name_zh,
                name_en,
            },
            "retire_item" => CatalogueChange::RetireItem { code },
            "add_basis" => CatalogueChange::AddBasis {
                id: code,
                law,
                article,
                summary_zh,
                kind,
            },
            "rename_basis" => CatalogueChange::RenameBasis {
                id: code,
                law,
                article,
                summary_zh,
            },
            "retire_basis" => CatalogueChange::RetireBasis { id: code },
            _ => return None,
        })
    }
}

pub async fn submit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(change) = form.change() else {
        return Ok((StatusCode::BAD_REQUEST, m.get("catalogue-admin-bad-op")).into_response());
    };
    let decided = catalogue::change(
        state.app.store(),
        &who.person,
        &change,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/admin/catalogue"))?;
    match decided {
        Ok(()) => Ok(Redirect::to("/admin/catalogue?notice=changed").into_response()),
        Err(r) => render_page(&state, m, &op, &who, None, Some(&r)).await,
    }
}

/// `POST /api/v1/catalogue/changes` with a [`CatalogueChange`] (`{"op": "add_item", …}`).
pub async fn api_change(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Json(change): Json<CatalogueChange>,
) -> Result<Response, ApiError> {
    let decided = catalogue::change(
        state.app.store(),
        &who.person,
        &change,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| ApiError::internal(&e, &op.0))?;
    match decided {
        Ok(()) => Ok(Json(json!({ "op": change.op(), "changed": true })).into_response()),
        Err(r) => Err(ApiError::new(
            status(&r),
            r.code(),
            r.to_string(),
            r.message_en(),
            &op.0,
        )),
    }
}

/// The OpenAPI operation of this module's API route.
pub fn openapi_operation() -> serde_json::Value {
    json!({
        "summary": "目錄維護（權限管理者）catalogue change by the permission administrator: {op: add_item|rename_item|retire_item|add_basis|rename_basis|retire_basis, code|id, name_zh, name_en, law, article, summary_zh, kind} (audited as admin.catalogue.changed)",
        "responses": {
            "200": { "description": "changed" },
            "403": { "description": "not the permission administrator, or CSRF token missing" },
            "404": { "description": "no such entry" },
            "409": { "description": "already exists, or retired" },
            "422": { "description": "invalid code or text" }
        }
    })
}
