//! The permission JSON API for personnel (§2) and recertification: the administrator's staff
//! CSV import and account re-enabling, the supervisor's upcoming staff changes and quarterly
//! rounds (定期複核).
//!
//! Security-sensitive: each call needs the administrator's or the supervisor's desk, handed out
//! (and a refusal audited) by the app before the body is read; a CSV with any bad row imports
//! nothing and answers every bad line.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::permission::PermissionError;
use querywarden_app::permission::staff::StaffImportError;
use querywarden_domain::permission::recertification::{
    RecertificationItem, RecertificationRound, RoundId,
};
use querywarden_domain::permission::{AdministratorDesk, SupervisorDesk};
use serde_json::{Value, json};

use super::api::{api_error, body, failed, iso};
use super::input::{EnableBody, RoundDecisionBody, StaffImportBody};
use super::today;
use crate::app_op::{now_op, op_of};
use crate::error::ApiError;
use crate::session::ApiCall;
use crate::{AppState, OperationId};

async fn administrator(
    state: &AppState,
    who: &SignedIn,
    op: &OperationId,
) -> Result<AdministratorDesk, ApiError> {
    state
        .app
        .permissions()
        .administrator_desk(who.person.id, &now_op(op))
        .await
        .map_err(failed(op))
}

async fn supervisor(
    state: &AppState,
    who: &SignedIn,
    op: &OperationId,
) -> Result<SupervisorDesk, ApiError> {
    state
        .app
        .permissions()
        .supervisor_desk(who.person.id, &now_op(op))
        .await
        .map_err(failed(op))
}

// ---------------------------------------------------------------------------------------------
// The administrator: staff import, accounts.

/// 人事資料匯入 staff CSV import (docs/staff-import-format.md); any bad row: 422 with every bad line, nothing imported
#[utoipa::path(post, path = "/api/v1/permissions/admin/staff-import",
    request_body = StaffImportBody)]
pub async fn staff_import(
    ApiCall { state, op, who }: ApiCall,
    b: Result<Json<StaffImportBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let desk = administrator(&state, &who, &op).await?;
    let b = body(b, &op.0)?;
    let imported = state
        .app
        .permissions()
        .import_staff_csv(&desk, &b.csv, &op_of(&op))
        .await;
    match imported {
        Ok(r) => Ok(Json(json!({
            "rows": r.rows,
            "created": r.created,
            "changed": r.changed,
            "unchanged": r.unchanged,
        }))
        .into_response()),
        Err(StaffImportError::BadRows(rows)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": {
                "code": "staff_import.bad_rows",
                "message": format!("人事資料有 {} 列錯誤，未匯入任何資料", rows.len()),
                "message_en": format!("{} bad rows; nothing was imported", rows.len()),
                "operation_id": op.0,
                "rows": rows.iter().map(|r| json!({ "line": r.line, "reason": r.reason })).collect::<Vec<_>>(),
            }})),
        )
            .into_response()),
        Err(StaffImportError::Failed(e)) => Err(api_error(e, &op.0)),
    }
}

/// 重新啟用帳號 enable a disabled account (permission administrator)
#[utoipa::path(post, path = "/api/v1/permissions/admin/accounts/enable", request_body = EnableBody)]
pub async fn enable(
    ApiCall { state, op, who }: ApiCall,
    b: Result<Json<EnableBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let desk = administrator(&state, &who, &op).await?;
    let account = body(b, &op.0)?
        .account()
        .ok_or_else(|| api_error(PermissionError::NotFound("帳號"), &op.0))?;
    let was = state
        .app
        .permissions()
        .enable_account(&desk, &account, &op_of(&op))
        .await
        .map_err(failed(&op))?;
    Ok(Json(
        json!({ "account": account.as_str(), "was_disabled": was }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Supervisors.

/// 即將生效的人事異動 upcoming changes of the supervisor's staff
#[utoipa::path(get, path = "/api/v1/permissions/staff-changes")]
pub async fn staff_changes(ApiCall { state, op, who }: ApiCall) -> Result<Json<Value>, ApiError> {
    let desk = supervisor(&state, &who, &op).await?;
    let changes = state
        .app
        .permissions()
        .upcoming_staff_changes(&desk, today())
        .await
        .map_err(failed(&op))?;
    Ok(Json(Value::from(
        changes
            .iter()
            .map(|(p, r)| {
                json!({
                    "account": p.account.as_str(),
                    "name": p.name,
                    "from_unit": r.change.from_unit.as_str(),
                    "to_unit": r.change.to_unit.as_str(),
                    "from_status": r.change.from_status.code(),
                    "to_status": r.change.to_status.code(),
                    "effective": iso(r.change.effective),
                    "source": r.source,
                })
            })
            .collect::<Vec<_>>(),
    )))
}

fn round_json(r: &RecertificationRound, items: Option<&[RecertificationItem]>) -> Value {
    let mut v = json!({
        "id": r.id.get(),
        "quarter": r.quarter.to_string(),
        "opened_on": iso(r.opened_on),
        "deadline": iso(r.deadline),
        "closed_on": r.closed_on.map(iso),
    });
    if let (Some(items), Value::Object(m)) = (items, &mut v) {
        m.insert(
            "lines".into(),
            Value::from(
                items
                    .iter()
                    .map(|i| {
                        json!({
                            "grant": i.grant.get(),
                            "person": i.person.get(),
                            "item": i.item.as_str(),
                            "uses_last_quarter": i.uses_last_quarter,
                            "last_used": i.last_used.map(iso),
                            "propose_removal": i.propose_removal,
                            "decision": i.decision.map(|d| d.code()),
                        })
                    })
                    .collect::<Vec<_>>(),
            ),
        );
    }
    v
}

/// 定期複核 the supervisor's rounds
#[utoipa::path(get, path = "/api/v1/permissions/recertifications")]
pub async fn rounds(ApiCall { state, op, who }: ApiCall) -> Result<Json<Value>, ApiError> {
    let desk = supervisor(&state, &who, &op).await?;
    let rounds = state
        .app
        .permissions()
        .recertification_rounds(&desk)
        .await
        .map_err(failed(&op))?;
    Ok(Json(Value::from(
        rounds
            .iter()
            .map(|r| round_json(r, None))
            .collect::<Vec<_>>(),
    )))
}

/// 開始本季複核 open this quarter's round (201)
#[utoipa::path(post, path = "/api/v1/permissions/recertifications",
    responses((status = 201, description = "created")))]
pub async fn open_round(ApiCall { state, op, who }: ApiCall) -> Result<Response, ApiError> {
    let desk = supervisor(&state, &who, &op).await?;
    let (r, items) = state
        .app
        .permissions()
        .open_recertification(&desk, &op_of(&op))
        .await
        .map_err(failed(&op))?;
    Ok((StatusCode::CREATED, Json(round_json(&r, Some(&items)))).into_response())
}

/// 複核內容 a round with its lines
#[utoipa::path(get, path = "/api/v1/permissions/recertifications/{id}", params(("id" = i64, Path)))]
pub async fn round(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let desk = supervisor(&state, &who, &op).await?;
    let (r, items) = state
        .app
        .permissions()
        .recertification_round(&desk, RoundId::new(id), &now_op(&op))
        .await
        .map_err(failed(&op))?;
    Ok(Json(round_json(&r, Some(&items))))
}

/// 逐項確認 confirm or deny one line (204)
#[utoipa::path(post, path = "/api/v1/permissions/recertifications/{id}/decisions",
    params(("id" = i64, Path)), request_body = RoundDecisionBody,
    responses((status = 204, description = "done; no body")))]
pub async fn round_decide(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    b: Result<Json<RoundDecisionBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let (grant, decision) = body(b, &op.0)?.parse().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "recertification.bad_decision",
            "決定應為 confirmed（仍需使用）或 not_needed（不再需要）",
            "decision must be confirmed or not_needed",
            &op.0,
        )
    })?;
    let desk = supervisor(&state, &who, &op).await?;
    state
        .app
        .permissions()
        .decide_recertification(&desk, RoundId::new(id), grant, decision, &op_of(&op))
        .await
        .map_err(failed(&op))?;
    Ok(StatusCode::NO_CONTENT)
}

/// 結束複核 close the round; grants not confirmed are suspended
#[utoipa::path(post, path = "/api/v1/permissions/recertifications/{id}/close",
    params(("id" = i64, Path)))]
pub async fn round_close(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let desk = supervisor(&state, &who, &op).await?;
    let suspended = state
        .app
        .permissions()
        .close_recertification(&desk, RoundId::new(id), &op_of(&op))
        .await
        .map_err(failed(&op))?;
    Ok(Json(json!({
        "suspended_grants": suspended.iter().map(|g| g.get()).collect::<Vec<_>>(),
    })))
}
