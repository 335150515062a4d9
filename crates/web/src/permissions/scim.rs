//! The SCIM 2.0 endpoint `/scim/v2/Users` (RFC 7644) for HR systems that push staff changes
//! (§2: a transfer or leave suspends grants before it happens).
//!
//! Security-sensitive. Authenticated by a bearer token whose SHA-256 is configured
//! (`[scim] token_sha256`), compared in constant time; with no token configured the endpoint
//! does not exist (404). Every refusal is audited through the app (§2), all but "no endpoint".
//! Nothing personal is echoed in errors.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use querywarden_domain::org::Account;
use serde_json::{Value, json};
use sha2::Digest;

use crate::app_op::op_of;
use crate::{AppState, OperationId};

const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SCIM_CONTENT_TYPE: &str = "application/scim+json";

fn scim_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, SCIM_CONTENT_TYPE)],
        body.to_string(),
    )
        .into_response()
}

/// An error the SCIM layer answers itself (authentication, media type, path).
fn scim_error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> Response {
    let mut body = json!({
        "schemas": [SCIM_ERROR],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let (Some(t), Value::Object(m)) = (scim_type, &mut body) {
        m.insert("scimType".into(), Value::from(t));
    }
    let mut res = scim_response(status, body);
    if status == StatusCode::UNAUTHORIZED
        && let Ok(v) = "Bearer realm=\"querywarden-scim\"".parse()
    {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// Equal without an early exit, as the CSRF check compares (`subtle`).
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// Why a SCIM request was turned away before validation.
struct ScimReject {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: &'static str,
}

impl ScimReject {
    /// The refusal, audited through the app first (§2: every refusal is on the trail) — all
    /// but "no SCIM endpoint configured", which is no request to this system at all.
    async fn respond(self, state: &AppState, op: &OperationId) -> Response {
        if self.status != StatusCode::NOT_FOUND || self.scim_type.is_some() {
            let code = match self.status {
                StatusCode::UNAUTHORIZED => "scim.unauthorized",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "scim.media_type",
                StatusCode::PAYLOAD_TOO_LARGE => "scim.too_large",
                StatusCode::NOT_FOUND => "scim.noTarget",
                _ => match self.scim_type {
                    Some("invalidValue") => "scim.invalidValue",
                    _ => "scim.invalidSyntax",
                },
            };
            if let Err(e) = state.app.permissions().scim_refused(code, &op_of(op)).await {
                tracing::error!(operation_id = %op.0, code = e.code(), "scim refusal not audited");
                return scim_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "internal error; nothing was changed",
                );
            }
        }
        scim_error(self.status, self.scim_type, self.detail)
    }
}

/// The body, or the refusal of one that could not be read (too large above all: 413).
fn scim_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ScimReject> {
    body.map_err(|r| ScimReject {
        status: r.status(),
        scim_type: None,
        detail: if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "the body is too large"
        } else {
            "the body could not be read"
        },
    })
}

/// The HR system's bearer token checked against the configured digest; the payload parsed.
/// No token configured: the endpoint does not exist.
fn scim_request(state: &AppState, headers: &HeaderMap, bytes: &Bytes) -> Result<Value, ScimReject> {
    let reject = |status, scim_type, detail| ScimReject {
        status,
        scim_type,
        detail,
    };
    let Some(expected) = state.app.config().scim_token_sha256 else {
        return Err(reject(StatusCode::NOT_FOUND, None, "not found"));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default();
    let digest: [u8; 32] = sha2::Sha256::digest(presented.as_bytes()).into();
    if presented.is_empty() || !same_digest(&digest, &expected) {
        return Err(reject(
            StatusCode::UNAUTHORIZED,
            None,
            "a valid bearer token is required",
        ));
    }
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media != SCIM_CONTENT_TYPE && media != "application/json" {
        return Err(reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "the body must be application/scim+json",
        ));
    }
    serde_json::from_slice::<Value>(bytes).map_err(|_| {
        reject(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "the body is not a JSON object",
        )
    })
}

async fn scim_apply(state: &AppState, op: &OperationId, payload: Value) -> Response {
    match state
        .app
        .permissions()
        .scim_put_user(&payload, &op_of(op))
        .await
    {
        Ok(r) => {
            let status = if r.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let mut res = scim_response(status, r.resource);
            if let Ok(v) = format!(
                "/scim/v2/Users/{}",
                payload["userName"].as_str().unwrap_or_default()
            )
            .parse()
            {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Err(e) => scim_response(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.to_json(),
        ),
    }
}

/// `POST /scim/v2/Users`: creates the user, or records the change of an existing one.
pub async fn post_user(
    State(state): State<AppState>,
    op: OperationId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match scim_body(body).and_then(|bytes| scim_request(&state, &headers, &bytes)) {
        Ok(payload) => scim_apply(&state, &op, payload).await,
        Err(r) => r.respond(&state, &op).await,
    }
}

/// `PUT /scim/v2/Users/{account}`: the account in the path must be the payload's `userName`
/// (filled in when the payload leaves it out).
pub async fn put_user(
    State(state): State<AppState>,
    op: OperationId,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut payload = match scim_body(body).and_then(|bytes| scim_request(&state, &headers, &bytes))
    {
        Ok(p) => p,
        Err(r) => return r.respond(&state, &op).await,
    };
    let Ok(account) = Account::parse(&id) else {
        return ScimReject {
            status: StatusCode::NOT_FOUND,
            scim_type: Some("noTarget"),
            detail: "no such user",
        }
        .respond(&state, &op)
        .await;
    };
    if let Value::Object(m) = &mut payload {
        match m
            .get("userName")
            .and_then(Value::as_str)
            .map(Account::parse)
        {
            None => {
                m.insert("userName".into(), Value::from(account.as_str()));
            }
            Some(Ok(a)) if a == account => {}
            Some(_) => {
                return ScimReject {
                    status: StatusCode::BAD_REQUEST,
                    scim_type: Some("invalidValue"),
                    detail: "userName does not match the user in the path",
                }
                .respond(&state, &op)
                .await;
            }
        }
    }
    scim_apply(&state, &op, payload).await
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "a test that cannot set itself up should fail loudly"
    )]

    use std::net::SocketAddr;

    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    use querywarden_app::App;
    use querywarden_app::config::RawConfig;
    use tower::ServiceExt;

    use super::*;

    async fn router(dir: &std::path::Path, token_sha256: Option<String>) -> axum::Router {
        let mut raw = RawConfig::default();
        raw.storage.data_dir = dir.to_path_buf();
        raw.scim.token_sha256 = token_sha256;
        let app = App::open(raw.validate().unwrap()).await.unwrap();
        crate::router(AppState::new(app).unwrap())
    }

    async fn scim_status(router: axum::Router, token: &str) -> StatusCode {
        let mut req = Request::post("/scim/v2/Users")
            .header("content-type", SCIM_CONTENT_TYPE)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from("{}"))
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        router.oneshot(req).await.unwrap().status()
    }

    #[tokio::test]
    async fn scim_without_a_configured_token_does_not_exist_and_a_wrong_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let none = router(dir.path(), None).await;
        assert_eq!(scim_status(none, "anything").await, StatusCode::NOT_FOUND);
        let dir = tempfile::tempdir().unwrap();
        let digest = hex::encode(sha2::Sha256::digest(b"right-token"));
        let some = router(dir.path(), Some(digest)).await;
        assert_eq!(
            scim_status(some.clone(), "wrong-token").await,
            StatusCode::UNAUTHORIZED
        );
        // The right token gets through to validation: `{}` is not a SCIM User.
        assert_eq!(
            scim_status(some, "right-token").await,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn digests_compare_equal_only_when_equal() {
        let a = [7u8; 32];
        let mut b = a;
        assert!(same_digest(&a, &b));
        b[31] ^= 1;
        assert!(!same_digest(&a, &b));
    }
}
