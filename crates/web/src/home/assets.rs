//! The static assets (one stylesheet, one script; no inline code, as the CSP requires) and
//! the not-found page.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::{Lang, OperationId};

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

pub async fn not_found(Lang(m): Lang, op: OperationId) -> Response {
    crate::pages::not_found(m, &op, "/")
}
