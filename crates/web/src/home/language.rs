//! The language switch: the `qw_lang` cookie, read back by [`crate::Lang`].

use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use cookie::time::Duration;

use super::input::NextQuery;
use crate::i18n::Locale;

/// Sets the language cookie and goes back to a local page.
pub async fn switch_language(Path(tag): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let Some(locale) = Locale::parse(&tag) else {
        return (StatusCode::NOT_FOUND, "unknown language").into_response();
    };
    // Only local paths: an open redirect would let a link on another site bounce through us.
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".to_string());
    // A year; not `Secure`, so that the language holds on the demo's plain HTTP too.
    let cookie = Cookie::build((crate::LANG_COOKIE, locale.tag()))
        .path("/")
        .max_age(Duration::days(365))
        .same_site(SameSite::Strict)
        .http_only(true)
        .build();
    (
        [(header::SET_COOKIE, cookie.to_string())],
        Redirect::to(&next),
    )
        .into_response()
}
