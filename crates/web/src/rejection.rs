//! Requests refused before any handler runs, answered in the project's one error envelope:
//! the JSON error (`/api`, `/scim`) or the error page, with a stable code and the operation
//! id — never axum's plain-text rejection, which names internal fields and types.
//!
//! Also owns the form-body check that refuses percent-encoded bytes that are not UTF-8
//! (the form parser would otherwise replace them with U+FFFD and store the damaged text).
//! Security-relevant only in that it keeps internals out of answers; no rule is decided here.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::{AppState, OperationId};

/// Largest form body (`application/x-www-form-urlencoded`) read for the UTF-8 check; the same
/// as axum's default body limit, so nothing that would have been accepted is refused.
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// A refusal's stable code and safe messages, by status.
fn describe(status: StatusCode) -> (&'static str, &'static str, &'static str) {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "request.too_large",
            "送出的資料太大，請縮小後再試",
            "the request body is too large",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "request.unsupported_media_type",
            "送出的資料格式不正確",
            "the request body has the wrong content type",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "request.method_not_allowed",
            "此網址不接受這種操作",
            "this address does not accept this method",
        ),
        StatusCode::NOT_FOUND => ("request.not_found", "找不到這個頁面", "not found"),
        s if s.is_server_error() => (
            "request.failed",
            "系統發生錯誤，您的操作沒有完成，也沒有任何資料被更改。",
            "The system failed; your action was not completed and nothing was changed.",
        ),
        _ => (
            "request.malformed",
            "送出的資料格式不正確，請檢查後再試",
            "the request is malformed",
        ),
    }
}

fn wants_json(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/scim/")
}

/// What a refusal of `req` needs before the request moves on: its path, its operation id
/// (a new one where no middleware gave it) and the UI language its cookie names.
fn context(state: &AppState, req: &Request) -> (String, String, Messages) {
    let path = req.uri().path().to_string();
    let op = req
        .extensions()
        .get::<OperationId>()
        .map_or_else(querywarden_app::new_request_id, |o| o.0.clone());
    let m = Messages::new(state.catalogue.clone(), crate::locale_of(req.headers()));
    (path, op, m)
}

/// The project's refusal for `status` on `path`: JSON for the API, the error page otherwise.
pub fn refusal(
    status: StatusCode,
    code: &str,
    zh: &str,
    en: &str,
    path: &str,
    op: &str,
    m: Messages,
) -> Response {
    if wants_json(path) {
        return ApiError::new(status, code, zh, en, op).into_response();
    }
    let message = if m.is_zh() { zh } else { en }.to_string();
    PageError {
        status,
        message,
        operation_id: op.to_string(),
        messages: m,
        path: path.to_string(),
    }
    .into_response()
}

/// A JSON body the handler could not read: too large (413 `request.too_large`) or not the
/// documented object (`malformed`, the handler's own answer), so an oversize body is never
/// reported as a malformed one.
pub fn json_body_refused(
    r: &axum::extract::rejection::JsonRejection,
    op: &str,
    malformed: impl FnOnce() -> ApiError,
) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let (code, zh, en) = describe(StatusCode::PAYLOAD_TOO_LARGE);
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, zh, en, op);
    }
    malformed()
}

/// Replaces a plain-text error (an extractor's rejection: bad JSON, a number out of range, a
/// body too large, a wrong content type) by the project's envelope. Handlers' own answers are
/// JSON or HTML and pass unchanged.
pub async fn one_envelope(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (path, op, m) = context(&state, &req);
    let res = next.run(req).await;
    let status = res.status();
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return res;
    }
    // The rejection text names internal fields; it goes to the log, not to the client.
    let detail = to_bytes(res.into_body(), 4096).await.unwrap_or_default();
    tracing::info!(
        operation_id = %op,
        status = status.as_u16(),
        detail = %String::from_utf8_lossy(&detail),
        "request refused before its handler"
    );
    let (code, zh, en) = describe(status);
    refusal(status, code, zh, en, &path, &op, m)
}

/// Whether every percent-encoded key and value of a form body decodes to UTF-8.
pub(crate) fn form_is_utf8(body: &[u8]) -> bool {
    body.split(|b| *b == b'&').all(|pair| {
        let plus_as_space: Vec<u8> = pair
            .iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect();
        let decoded: Vec<u8> = percent_decode(&plus_as_space);
        std::str::from_utf8(&decoded).is_ok()
    })
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%'
            && let (Some(h), Some(l)) = (
                input.get(i + 1).copied().and_then(hex),
                input.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// Refuses a form body whose fields are not UTF-8 once percent-decoded, with a clear message
/// and nothing changed (§9: text is stored as typed, or not at all).
pub async fn refuse_invalid_form_bytes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(req).await;
    }
    let (path, op, m) = context(&state, &req);
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        let (code, zh, en) = describe(StatusCode::PAYLOAD_TOO_LARGE);
        return refusal(StatusCode::PAYLOAD_TOO_LARGE, code, zh, en, &path, &op, m);
    };
    if !form_is_utf8(&bytes) {
        return refusal(
            StatusCode::BAD_REQUEST,
            "request.invalid_utf8",
            "送出的文字含有無法辨識的字元（不是 UTF-8），請重新輸入後再試",
            "the form contains bytes that are not UTF-8 text; type it again",
            &path,
            &op,
            m,
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::form_is_utf8;

    #[test]
    fn form_bodies_with_invalid_percent_encoded_bytes_are_told_apart() {
        assert!(form_is_utf8(b"name=%E7%8E%8B&x=a+b"));
        assert!(form_is_utf8(b"a=100%"));
        assert!(!form_is_utf8(b"name=%FF%FE"));
        assert!(!form_is_utf8(b"ok=1&name=%E7%8E"));
    }
}
