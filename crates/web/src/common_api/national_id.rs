//! `POST /api/v1/national-ids/check`: validates a number without storing or logging it.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::Serialize;

use super::input::CheckNationalIdRequest;
use crate::OperationId;
use crate::error::ApiError;

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckNationalIdResponse {
    valid: bool,
    kind: &'static str,
    kind_zh: &'static str,
    masked: String,
}

/// 檢查身分證字號／統一證號 validate a national ID or resident number
///
/// Answers with the masked form only; an invalid number with the rule that failed (422).
#[utoipa::path(post, path = "/api/v1/national-ids/check", request_body = CheckNationalIdRequest,
    responses((status = 200, description = "ok", body = CheckNationalIdResponse)))]
pub async fn check_national_id(
    op: OperationId,
    body: Result<Json<CheckNationalIdRequest>, JsonRejection>,
) -> Result<Json<CheckNationalIdResponse>, ApiError> {
    let Json(req) = body.map_err(|r| {
        crate::rejection::json_body_refused(&r, &op.0, || {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "request.malformed",
                "請求格式錯誤：需要 JSON 物件 {\"id\": \"…\"}",
                "malformed request: expected a JSON object {\"id\": \"…\"}",
                &op.0,
            )
        })
    })?;
    let id = req
        .national_id()
        .map_err(|e| ApiError::refusal(StatusCode::UNPROCESSABLE_ENTITY, &e, &op.0))?;
    Ok(Json(CheckNationalIdResponse {
        valid: true,
        kind: id.kind().code(),
        kind_zh: id.kind().name_zh(),
        masked: id.masked(),
    }))
}
