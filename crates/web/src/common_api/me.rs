//! `GET /api/v1/me`: who is signed in.

use axum::Json;
use serde_json::{Value, json};

use crate::auth::session::ApiSession;

/// 目前登入者 the signed-in person (and the CSRF token for API calls)
///
/// Who is signed in: account, name, roles, and the CSRF token for API calls.
#[utoipa::path(get, path = "/api/v1/me")]
pub async fn me(ApiSession(who): ApiSession) -> Json<Value> {
    Json(json!({
        "account": who.person.account.as_str(),
        "name": who.person.name,
        "unit": who.person.unit.as_str(),
        "roles": who.person.roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
        "csrf_token": who.session.csrf_token,
    }))
}
