//! The catalogue, the units and the latest audit checkpoint: public reads, no sign-in needed
//! (they carry no personal data).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use querywarden_app::public_reads;
use serde::Serialize;

use crate::error::ApiError;
use crate::{AppState, OperationId};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ServiceItemView {
    code: String,
    name_zh: String,
    name_en: String,
    active: bool,
}

/// 查調項目 service-item catalogue
#[utoipa::path(get, path = "/api/v1/service-items",
    responses((status = 200, description = "ok", body = Vec<ServiceItemView>)))]
pub async fn service_items(
    State(state): State<AppState>,
    op: OperationId,
) -> Result<Json<Vec<ServiceItemView>>, ApiError> {
    let items = public_reads::service_items(&state.app)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(Json(
        items
            .into_iter()
            .map(|i| ServiceItemView {
                code: i.code.as_str().to_string(),
                name_zh: i.name_zh,
                name_en: i.name_en,
                active: i.active,
            })
            .collect(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LegalBasisView {
    id: String,
    law: String,
    article: String,
    article_short: String,
    summary_zh: String,
    kind: String,
    programmes: Vec<String>,
    active: bool,
}

/// 法令依據 legal-basis catalogue
#[utoipa::path(get, path = "/api/v1/legal-bases",
    responses((status = 200, description = "ok", body = Vec<LegalBasisView>)))]
pub async fn legal_bases(
    State(state): State<AppState>,
    op: OperationId,
) -> Result<Json<Vec<LegalBasisView>>, ApiError> {
    let bases = public_reads::legal_bases(&state.app)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(Json(
        bases
            .into_iter()
            .map(|b| LegalBasisView {
                id: b.id.as_str().to_string(),
                law: b.law,
                article: b.article,
                article_short: b.article_short,
                summary_zh: b.summary_zh,
                kind: b.kind,
                programmes: b.programmes,
                active: b.active,
            })
            .collect(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitView {
    id: String,
    name_zh: String,
    kind: &'static str,
    parent: Option<String>,
}

/// 單位 organisation units
#[utoipa::path(get, path = "/api/v1/units",
    responses((status = 200, description = "ok", body = Vec<UnitView>)))]
pub async fn units(
    State(state): State<AppState>,
    op: OperationId,
) -> Result<Json<Vec<UnitView>>, ApiError> {
    let units = public_reads::units(&state.app)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(Json(
        units
            .into_iter()
            .map(|u| UnitView {
                id: u.id.as_str().to_string(),
                name_zh: u.name_zh,
                kind: u.kind.code(),
                parent: u.parent.map(|p| p.as_str().to_string()),
            })
            .collect(),
    ))
}

/// 最新簽章查核點 latest signed audit checkpoint (C2SP signed note)
///
/// The latest signed checkpoint (C2SP signed note), for copies held outside the bureau.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint",
    responses(
        (status = 200, description = "the signed note", content_type = "text/plain", body = String),
        (status = 404, description = "none yet")
    ))]
pub async fn latest_checkpoint(
    State(state): State<AppState>,
    op: OperationId,
) -> Result<Response, ApiError> {
    let latest = public_reads::latest_checkpoint(&state.app)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    match latest {
        Some(note) => {
            Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "audit.no_checkpoint",
            "尚無簽章查核點",
            "no checkpoint yet",
            &op.0,
        )),
    }
}
