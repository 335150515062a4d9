//! Errors as the web shows them: [`ApiError`] for `/api` (JSON with a stable code) and
//! [`PageError`] for pages (zh-TW message with the operation id). Internal details are logged
//! with the operation id and never rendered.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use querywarden_app::AppError;
use serde::Serialize;

use crate::OperationId;
use crate::i18n::Messages;
use crate::templates::ErrorPage;

/// The one envelope every API error answers with: `{"error": {code, message, message_en,
/// operation_id}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ApiErrorBody,
}

/// The body of every API error: a stable `code` for machines, the zh-TW `message` for people,
/// its English `message_en`, and the `operation_id` that finds the request in the logs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    pub code: String,
    pub message: String,
    pub message_en: String,
    pub operation_id: String,
}

/// An API error: status, stable code and safe messages.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ApiErrorBody,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<String>,
        message: impl Into<String>,
        message_en: impl Into<String>,
        operation_id: &str,
    ) -> Self {
        Self {
            status,
            body: ApiErrorBody {
                code: code.into(),
                message: message.into(),
                message_en: message_en.into(),
                operation_id: operation_id.to_string(),
            },
        }
    }

    /// A refusal of the rules answered with `status`: its stable code and both messages.
    pub fn refusal(
        status: StatusCode,
        r: &impl querywarden_domain::Explained,
        operation_id: &str,
    ) -> Self {
        Self::new(
            status,
            r.code(),
            r.to_string(),
            r.message_en(),
            operation_id,
        )
    }

    /// Not found, or not the caller's to see (§9 answers both alike, so numbers cannot be
    /// probed); `code` names the area's refusal, `what` the thing in zh-TW.
    pub fn not_found(code: &str, what: &str, operation_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            code,
            format!("找不到{what}"),
            "not found",
            operation_id,
        )
    }

    /// A body that is not the JSON object the route documents (400).
    pub fn malformed_request(operation_id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "request.malformed",
            "請求格式錯誤",
            "malformed request",
            operation_id,
        )
    }

    /// Someone else changed the record meanwhile; nothing was written.
    pub fn conflict(code: &str, operation_id: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            code,
            "資料已被他人變更，請重新整理後再試",
            "changed by someone else meanwhile; reload and try again",
            operation_id,
        )
    }

    /// An application failure: logged in full, shown as a generic message with its code.
    pub fn internal(err: &AppError, operation_id: &str) -> Self {
        tracing::error!(operation_id, code = err.code(), error = %err, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            err.code(),
            "系統發生錯誤，您的操作沒有完成，也沒有任何資料被更改。",
            "The system failed; your action was not completed and nothing was changed.",
            operation_id,
        )
    }

    /// [`ApiError::internal`] for `map_err`: any failure of the call whose operation id is `op`.
    pub fn internal_for(op: &OperationId) -> impl Fn(AppError) -> ApiError + use<> {
        let op = op.0.clone();
        move |e| ApiError::internal(&e, &op)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorEnvelope { error: self.body })).into_response()
    }
}

/// A page error, rendered in the request's language.
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
    pub operation_id: String,
    pub messages: Messages,
    pub path: String,
}

impl PageError {
    pub fn internal(err: &AppError, operation_id: &str, messages: Messages, path: &str) -> Self {
        tracing::error!(operation_id, code = err.code(), error = %err, "page failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: messages.get("error-internal"),
            operation_id: operation_id.to_string(),
            messages,
            path: path.to_string(),
        }
    }

    /// [`PageError::internal`] for `map_err`: any failure of the page at `path`, shown in
    /// `m`'s language with the operation id `op`.
    pub fn internal_on(
        m: &Messages,
        op: &OperationId,
        path: &str,
    ) -> impl Fn(AppError) -> PageError + use<> {
        let (m, op, path) = (m.clone(), op.0.clone(), path.to_string());
        move |e| PageError::internal(&e, &op, m.clone(), &path)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage::new(self.messages, &self.path, self.message, self.operation_id);
        match askama::Template::render(&page) {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                (self.status, "error").into_response()
            }
        }
    }
}
