//! The OpenAPI operations of `/api/v1/permissions/…` (see `api::openapi_document`), written
//! beside the area so a route and its documentation change together.

use serde_json::{Value, json};

fn described(d: &str) -> Value {
    json!({ "description": d })
}

/// The answers every operation may give: its `ok` (200) and the refusals, each with its code.
fn responses(ok: &str) -> Value {
    json!({
        "200": described(ok),
        "400": described("malformed JSON or unknown field (request.malformed)"),
        "401": described("not signed in"),
        "403": described("CSRF token missing (session.csrf), not the right person, or separation of duties (sod.*)"),
        "404": described("not found, or not yours to see (permission.not_found)"),
        "409": described("changed meanwhile (permission.conflict)"),
        "422": described("refused by a rule; `code` names it (permission.*, recertification.*)"),
    })
}

/// Form 1 as JSON (`input::ApplicationBody`).
fn form_schema() -> Value {
    json!({ "type": "object", "additionalProperties": false,
        "required": ["kind", "reason", "national_id", "phone", "email", "egov_account"],
        "properties": {
            "kind": { "enum": ["new", "revoke", "change_items", "job_change"] },
            "reason": { "type": "string" },
            "national_id": { "type": "string", "description": "kept only masked and as a keyed hash" },
            "phone": { "type": "string" }, "email": { "type": "string" },
            "egov_account": { "type": "string" },
            "items": { "type": "array", "items": { "type": "string", "example": "C0101" } },
            "read_pdpa_and_rules": { "type": "boolean" },
            "has_certificate_and_reader": { "type": "boolean" } } })
}

/// The OpenAPI operation of a `/api/v1/permissions/…` route (see `api::openapi_document`).
pub fn openapi_operation(method: &str, path: &str) -> Value {
    let with_body = |summary: &str, schema: Value, ok: &str| {
        json!({ "summary": summary,
            "requestBody": { "required": true, "content": { "application/json": { "schema": schema } } },
            "responses": responses(ok) })
    };
    let plain = |summary: &str, ok: &str| json!({ "summary": summary, "responses": responses(ok) });
    match (method, path) {
        ("get", "/api/v1/permissions/applications") => plain(
            "我的申請 the signed-in person's Form 1 applications",
            "applications",
        ),
        ("post", "/api/v1/permissions/applications") => with_body(
            "填寫附表1（草稿） write a Form 1 as a draft (201, Location)",
            form_schema(),
            "-",
        ),
        ("get", "/api/v1/permissions/applications/{id}") => plain(
            "申請表與簽核紀錄 one application with every sign-off (applicant, signers, approver, administrator)",
            "application",
        ),
        ("put", "/api/v1/permissions/applications/{id}") => with_body(
            "修改草稿或退回之申請表 amend a draft or a returned application",
            form_schema(),
            "application",
        ),
        ("post", "/api/v1/permissions/applications/{id}/submit") => plain(
            "送出簽核 submit (or resubmit) to the unit supervisor",
            "application",
        ),
        ("post", "/api/v1/permissions/applications/{id}/withdraw") => {
            plain("撤回 withdraw before the last step", "application")
        }
        ("post", "/api/v1/permissions/applications/{id}/decision") => with_body(
            "簽核 decide the pending step: approve (the administrator with effective_from, ROC or ISO), refuse (comment = reason), other (administrator; comment = note)",
            json!({ "type": "object", "additionalProperties": false, "required": ["decision"],
                "properties": { "decision": { "enum": ["approve", "refuse", "other"] },
                    "effective_from": { "type": "string", "example": "115/03/05" },
                    "comment": { "type": "string" } } }),
            "{application, grants_created, grants_ended}",
        ),
        ("get", "/api/v1/permissions/inbox") => plain(
            "待簽核 steps waiting for the signed-in person, with reminder flags",
            "entries",
        ),
        ("get", "/api/v1/permissions/grants") => {
            plain("我的查調權限 the signed-in person's grants", "grants")
        }
        ("get", "/api/v1/permissions/admin/grants") => {
            let mut op = plain(
                "全部授權總覽 all grants (permission administrator), filtered by query unit, item, status",
                "grants",
            );
            if let Value::Object(m) = &mut op {
                m.insert(
                    "parameters".into(),
                    json!(
                        ["unit", "item", "status"]
                            .iter()
                            .map(|n| json!({
                    "name": n, "in": "query", "required": false, "schema": { "type": "string" } }))
                            .collect::<Vec<_>>()
                    ),
                );
            }
            op
        }
        ("post", "/api/v1/permissions/admin/staff-import") => with_body(
            "人事資料匯入 staff CSV import (docs/staff-import-format.md); any bad row: 422 with every bad line, nothing imported",
            json!({ "type": "object", "additionalProperties": false, "required": ["csv"],
                "properties": { "csv": { "type": "string" } } }),
            "{rows, created, changed, unchanged}",
        ),
        ("post", "/api/v1/permissions/admin/accounts/enable") => with_body(
            "重新啟用帳號 enable a disabled account (permission administrator)",
            json!({ "type": "object", "additionalProperties": false, "required": ["account"],
                "properties": { "account": { "type": "string" } } }),
            "{account, was_disabled}",
        ),
        ("get", "/api/v1/permissions/staff-changes") => plain(
            "即將生效的人事異動 upcoming changes of the supervisor's staff",
            "changes",
        ),
        ("get", "/api/v1/permissions/recertifications") => {
            plain("定期複核 the supervisor's rounds", "rounds")
        }
        ("post", "/api/v1/permissions/recertifications") => plain(
            "開始本季複核 open this quarter's round (201)",
            "round with lines",
        ),
        ("get", "/api/v1/permissions/recertifications/{id}") => {
            plain("複核內容 a round with its lines", "round")
        }
        ("post", "/api/v1/permissions/recertifications/{id}/decisions") => with_body(
            "逐項確認 confirm or deny one line (204)",
            json!({ "type": "object", "additionalProperties": false, "required": ["grant", "decision"],
                "properties": { "grant": { "type": "integer" },
                    "decision": { "enum": ["confirmed", "not_needed"] } } }),
            "-",
        ),
        ("post", "/api/v1/permissions/recertifications/{id}/close") => plain(
            "結束複核 close the round; grants not confirmed are suspended",
            "{suspended_grants}",
        ),
        _ => json!({ "responses": { "200": { "description": "ok" } } }),
    }
}
