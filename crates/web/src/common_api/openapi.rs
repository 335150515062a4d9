//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' `#[utoipa::path]` and
//! their bodies' types, so it cannot drift from the code: each area gives its `ApiDoc`, merged
//! here; then every operation gets the answers any route of its kind can give, in the one
//! error envelope ([`ErrorEnvelope`]).

use axum::Json;
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::error::ErrorEnvelope;

/// This area's own operations (the catalogue, the national-ID check, the checkpoint, the
/// signed-in person) and the document's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "querywarden API",
        description = "查調守門員 JSON API. Errors carry a stable `code`, a zh-TW `message` and an \
                       `operation_id`."
    ),
    paths(
        super::catalogue::service_items,
        super::catalogue::legal_bases,
        super::catalogue::units,
        super::catalogue::latest_checkpoint,
        super::national_id::check_national_id,
        super::me::me,
        crate::home::api::my_worklist,
        crate::auth::mail::mail_get,
        crate::auth::mail::mail_put,
    ),
    components(schemas(ErrorEnvelope))
)]
struct CommonApi;

/// The one error envelope, as a reference to its schema.
fn error_content() -> Value {
    json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } })
}

/// Routes that need no sign-in (they carry no personal data).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/service-items"
            | "/api/v1/legal-bases"
            | "/api/v1/units"
            | "/api/v1/national-ids/check"
            | "/api/v1/audit/checkpoint"
    )
}

/// The answers any route of its kind can give besides its own, in the one error envelope:
/// input that does not parse (400, 422), a body too large (413) or not JSON (415); for routes
/// behind a session also not signed in (401), refused or CSRF token wrong (403), not found or
/// not the caller's to see (404), the object's state (409), screen locked (423) and too many
/// attempts (429); any route may fail (500). An error answer the operation names itself keeps
/// its description and gets the envelope; one that names no success answer answers 200.
fn with_common_answers(op: &mut Value, method: &str, path: &str) {
    let public = is_public(path);
    let mut common: Vec<(&str, &str)> = vec![
        ("400", "malformed input"),
        ("413", "body too large"),
        ("422", "refused: the input breaks a rule; `code` names it"),
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
    let Value::Object(op) = op else {
        return;
    };
    let Value::Object(responses) = op.entry("responses").or_insert_with(|| json!({})) else {
        return;
    };
    // An operation that names no success answer answers 200 with its JSON.
    if !responses.keys().any(|c| c.starts_with('2')) {
        responses.insert("200".into(), json!({ "description": "ok" }));
    }
    for (code, what) in common {
        responses
            .entry(code.to_string())
            .or_insert_with(|| json!({ "description": what }));
    }
    for (code, answer) in responses.iter_mut() {
        if code.as_str() >= "400"
            && let Value::Object(a) = answer
        {
            a.entry("content").or_insert_with(error_content);
        }
    }
}

/// Tags every operation of an area's document with the area's name.
fn tagged(mut api: utoipa::openapi::OpenApi, tag: &str) -> utoipa::openapi::OpenApi {
    for item in api.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            op.tags = Some(vec![tag.to_string()]);
        }
    }
    api
}

/// The OpenAPI 3.1 description of `/api/v1`.
pub fn openapi_document() -> Value {
    let mut doc = tagged(CommonApi::openapi(), "common");
    for (tag, area) in [
        ("admin", crate::admin::ApiDoc::openapi()),
        ("session", crate::auth::ApiDoc::openapi()),
        ("permissions", crate::permissions::ApiDoc::openapi()),
        ("registrations", crate::registrations::ApiDoc::openapi()),
        ("requests", crate::requests::ApiDoc::openapi()),
        ("citizen-report", crate::citizen_report::ApiDoc::openapi()),
        ("enrolment", crate::enrolment::ApiDoc::openapi()),
        ("documents", crate::documents::ApiDoc::openapi()),
        (
            "audits",
            crate::oversight::audits::routes::ApiDoc::openapi(),
        ),
        (
            "oversight",
            crate::oversight::reviews::routes::ApiDoc::openapi(),
        ),
    ] {
        doc.merge(tagged(area, tag));
    }
    let mut v = serde_json::to_value(&doc).unwrap_or(Value::Null);
    if let Some(Value::Object(paths)) = v.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            if let Value::Object(ops) = item {
                for (method, op) in ops.iter_mut() {
                    with_common_answers(op, method, path);
                }
            }
        }
    }
    v
}

pub async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::API_ROUTES;

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

    #[test]
    fn every_documented_operation_is_a_route() {
        let doc = openapi_document();
        let mut documented = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
                documented += 1;
                assert!(
                    API_ROUTES.contains(&(method.as_str(), path.as_str())),
                    "{method} {path} is documented but no API route"
                );
            }
        }
        assert_eq!(documented, API_ROUTES.len());
    }

    #[test]
    fn bodies_and_errors_are_described_by_their_types() {
        let doc = openapi_document();
        let schemas = &doc["components"]["schemas"];
        // The error envelope is the type the server answers with.
        let error = &schemas["ApiErrorBody"];
        for field in ["code", "message", "message_en", "operation_id"] {
            assert!(
                error["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!(field))),
                "{field}"
            );
        }
        let paths = &doc["paths"];
        let json_schema = |v: &Value| v["content"]["application/json"]["schema"].clone();
        let decision = &paths["/api/v1/registrations/{no}/decision"]["post"];
        let refusal = json_schema(&decision["responses"]["422"]);
        assert_eq!(refusal["$ref"], "#/components/schemas/ErrorEnvelope");
        // A JSON body is its input type: unknown fields refused, required fields required.
        let form1 = json_schema(&paths["/api/v1/permissions/applications"]["post"]["requestBody"]);
        assert_eq!(form1["$ref"], "#/components/schemas/ApplicationBody");
        let body = &schemas["ApplicationBody"];
        assert_eq!(body["additionalProperties"], json!(false));
        assert!(
            body["required"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("national_id")) && !r.contains(&json!("items")))
        );
        // A typed answer is documented with its schema.
        let items = json_schema(&paths["/api/v1/service-items"]["get"]["responses"]["200"]);
        assert_eq!(items["type"], "array");
        assert_eq!(
            items["items"]["$ref"],
            "#/components/schemas/ServiceItemView"
        );
    }
}
