//! The OpenAPI 3.1 document of `/api/v1`, built from [`crate::API_ROUTES`]: each area gives
//! its operations, and every operation gets its path parameters and the answers any route of
//! its kind can give, in the one error envelope.

use axum::Json;
use serde_json::{Value, json};

use crate::API_ROUTES;

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": { "error": { "type": "object",
            "required": ["code", "message", "message_en", "operation_id"],
            "properties": {
                "code": { "type": "string" },
                "message": { "type": "string", "description": "zh-TW" },
                "message_en": { "type": "string" },
                "operation_id": { "type": "string" } } } }
    })
}

/// Declares each `{name}` of `path` as a required path parameter (ids are integers; numbers
/// such as `115-000012` and item codes are strings), unless the operation already does.
fn with_path_parameters(mut op: Value, path: &str) -> Value {
    if op.get("parameters").is_some() {
        return op;
    }
    let params: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = if matches!(name, "id" | "doc") {
                json!({ "type": "integer", "format": "int64" })
            } else {
                json!({ "type": "string" })
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect();
    if !params.is_empty()
        && let Value::Object(m) = &mut op
    {
        m.insert("parameters".into(), Value::Array(params));
    }
    op
}

/// The answers any route of its kind can give besides its own, in the one error envelope:
/// input that does not parse (400, 422), a body too large (413) or not JSON (415); for routes behind a session
/// also not signed in (401), refused or CSRF token wrong (403), not found or not the caller's
/// to see (404), screen locked (423) and too many attempts (429); any route may fail (500).
fn with_common_answers(mut op: Value, method: &str, path: &str) -> Value {
    let public = matches!(
        path,
        "/api/v1/service-items"
            | "/api/v1/legal-bases"
            | "/api/v1/units"
            | "/api/v1/national-ids/check"
            | "/api/v1/audit/checkpoint"
    );
    let mut common: Vec<(&str, &str)> = vec![
        ("400", "malformed input"),
        ("413", "body too large"),
        ("422", "refused: the input breaks a rule"),
        ("500", "the system failed; nothing was changed"),
    ];
    if !public {
        common.extend([
            ("401", "not signed in"),
            (
                "403",
                "refused by a rule, or the CSRF token is missing or wrong",
            ),
            ("404", "not found, or not the caller's to see"),
            ("409", "refused: the object's state does not allow it"),
            ("423", "screen locked"),
            ("429", "too many attempts; try again later"),
        ]);
    }
    if method == "get" && public {
        common.retain(|(c, _)| *c != "413");
    }
    if method != "get" {
        common.push(("415", "the body is not of the documented media type (JSON)"));
    }
    if let Some(Value::Object(responses)) = op.get_mut("responses") {
        for (code, what) in common {
            responses.entry(code.to_string()).or_insert_with(|| {
                json!({ "description": what,
                        "content": { "application/json": { "schema": error_schema() } } })
            });
        }
    }
    op
}

/// The OpenAPI 3.1 description of `/api/v1`.
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path) in API_ROUTES {
        let op = match *path {
            "/api/v1/service-items" => json!({ "summary": "查調項目 service-item catalogue",
                "responses": { "200": { "description": "items" } } }),
            "/api/v1/legal-bases" => json!({ "summary": "法令依據 legal-basis catalogue",
                "responses": { "200": { "description": "legal bases" } } }),
            "/api/v1/units" => json!({ "summary": "單位 organisation units",
                "responses": { "200": { "description": "units" } } }),
            "/api/v1/national-ids/check" => json!({
                "summary": "檢查身分證字號／統一證號 validate a national ID or resident number",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["id"], "additionalProperties": false,
                    "properties": { "id": { "type": "string" } } } } } },
                "responses": {
                    "200": { "description": "valid; masked form only" },
                    "422": { "description": "invalid, with the rule that failed",
                        "content": { "application/json": { "schema": error_schema() } } } } }),
            "/api/v1/me" => {
                json!({ "summary": "目前登入者 the signed-in person (and the CSRF token for API calls)",
                "responses": { "200": { "description": "person" }, "401": { "description": "not signed in" },
                    "423": { "description": "screen locked" } } })
            }
            "/api/v1/me/worklist" => crate::home::api::openapi_operation(),
            "/api/v1/me/mail" => crate::auth::mail::openapi_operation(method),
            "/api/v1/session/lock" => {
                json!({ "summary": "鎖定螢幕 lock the session (needs X-CSRF-Token)",
                "responses": { "204": { "description": "locked" }, "403": { "description": "CSRF token missing or wrong" } } })
            }
            "/api/v1/audit/checkpoint" => json!({
                "summary": "最新簽章查核點 latest signed audit checkpoint (C2SP signed note)",
                "description": "公開查核點：刻意不需登入。任何人（勞工局、政風室、外部稽核）可取得並保存查核點，日後以 `querywarden audit verify --checkpoint` 證明軌跡未被改寫；查核點只有樹大小與根雜湊，不含個人資料。 The public verification point: deliberately needs no sign-in, so anyone can hold a checkpoint and later prove the trail was not rewritten; it carries only the tree size and root hash, no personal data.",
                "responses": { "200": { "description": "signed note", "content": { "text/plain": {} } },
                    "404": { "description": "none yet" } } }),
            "/api/v1/catalogue/changes" => crate::admin::catalogue::openapi_operation(),
            p if p.starts_with("/api/v1/citizen-requests")
                || p == "/api/v1/withholdings"
                || p.ends_with("/withholding") =>
            {
                crate::citizen_report::api::openapi_operation(method, p)
                    .unwrap_or_else(|| json!({ "responses": { "200": { "description": "ok" } } }))
            }
            p if p.starts_with("/api/v1/permissions/") => {
                crate::permissions::openapi::openapi_operation(method, p)
            }
            p @ ("/api/v1/registrations/mine" | "/api/v1/units/{unit}/deputy") => {
                crate::registrations::openapi_operation(method, p)
                    .unwrap_or_else(|| json!({ "responses": { "200": { "description": "ok" } } }))
            }
            p if p.starts_with("/api/v1/registrations") || p.starts_with("/api/v1/requests") => {
                crate::registrations::openapi_operation(method, p)
                    .or_else(|| crate::requests::openapi_operation(method, p))
                    .unwrap_or_else(|| json!({ "responses": { "200": { "description": "ok" } } }))
            }
            p if p.starts_with("/api/v1/enrolment/") => {
                crate::enrolment::api::openapi_operation(method, p)
                    .unwrap_or_else(|| json!({ "responses": { "200": { "description": "ok" } } }))
            }
            p if p.starts_with("/api/v1/documents/") => crate::documents::openapi_operation(),
            p if p.starts_with("/api/v1/oversight/audits") => {
                crate::oversight::audits::api::openapi_operation(method, p)
            }
            p if p.starts_with("/api/v1/oversight/") => {
                crate::oversight::reviews::api::openapi_operation(method, p)
                    .unwrap_or_else(|| json!({ "responses": { "200": { "description": "ok" } } }))
            }
            _ => json!({ "responses": { "200": { "description": "ok" } } }),
        };
        let op = with_common_answers(with_path_parameters(op, path), method, path);
        let entry = paths
            .entry(path.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(m) = entry {
            m.insert(method.to_string(), op);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "querywarden API", "version": env!("CARGO_PKG_VERSION"),
            "description": "查調守門員 JSON API. Errors carry a stable `code`, a zh-TW `message` and an `operation_id`." },
        "paths": paths,
    })
}

pub async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_parameter_is_declared_and_every_answer_in_the_envelope_documented() {
        let doc = openapi_document();
        for (method, path) in API_ROUTES {
            let op = &doc["paths"][path][method];
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            for name in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                assert!(declared.contains(&name), "{method} {path}: {name}");
            }
            for code in ["400", "422", "500"] {
                assert!(op["responses"][code].is_object(), "{method} {path}: {code}");
            }
            if *path != "/api/v1/audit/checkpoint" && !path.starts_with("/api/v1/service") {
                let public = matches!(
                    *path,
                    "/api/v1/legal-bases" | "/api/v1/units" | "/api/v1/national-ids/check"
                );
                for code in ["401", "403", "404", "423"] {
                    assert_eq!(
                        op["responses"][code].is_object(),
                        !public,
                        "{method} {path}: {code}"
                    );
                }
            }
            if *method != "get" {
                assert!(op["responses"]["415"].is_object(), "{method} {path}: 415");
            }
        }
    }

    #[test]
    fn the_openapi_document_lists_every_api_route() {
        let doc = openapi_document();
        for (method, path) in API_ROUTES {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} missing"
            );
        }
    }
}
