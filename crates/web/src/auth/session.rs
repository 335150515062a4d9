//! Cookies and the extractors that turn a request into a signed-in person (§3).
//!
//! Security-sensitive. `qw_session` is `HttpOnly; SameSite=Strict; Secure` (Secure is left
//! off only by `querywarden demo`, which listens on loopback only); its value is never
//! stored, only its SHA-256. A locked session is refused everything except the lock page,
//! unlock and sign-out.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use cookie::time::Duration;
use querywarden_app::auth::{SessionRefusal, SignedIn};
use querywarden_app::session;

use crate::error::ApiError;
use crate::{AppState, OperationId};

pub const SESSION_COOKIE: &str = "qw_session";
pub const FLOW_COOKIE: &str = "qw_login";

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value with the project's attributes: `HttpOnly; SameSite=Strict; Path=/`,
/// and `Secure` unless the server runs as `querywarden demo` (loopback only).
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(Duration::seconds(max_age_secs))
        .secure(!state.app.config().demo)
        .build()
        .to_string()
}

pub fn clear_cookie(state: &AppState, name: &str) -> String {
    set_cookie(state, name, "", 0)
}

/// The operation id of a request whose extractor is refusing it.
fn operation_id(parts: &Parts) -> String {
    parts
        .extensions
        .get::<OperationId>()
        .map_or_else(querywarden_app::new_request_id, |o| o.0.clone())
}

async fn resolve(
    parts: &Parts,
    state: &AppState,
) -> Result<Result<SignedIn, SessionRefusal>, querywarden_app::AppError> {
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(Err(SessionRefusal::None));
    };
    let Some(desk) = state.app.sign_in_desk() else {
        return Ok(Err(SessionRefusal::None));
    };
    let leaf = parts
        .extensions
        .get::<crate::tls::PeerCertificates>()
        .and_then(|p| p.0.first());
    desk.session(
        &token,
        leaf.map(Vec::as_slice),
        jiff::Timestamp::now(),
        &operation_id(parts),
    )
    .await
}

/// Where a page request goes when its session is over: the sign-in page, saying why, with
/// the dead cookie cleared.
fn to_login(state: &AppState, refusal: SessionRefusal) -> Response {
    let notice = match refusal {
        SessionRefusal::Expired(querywarden_domain::auth::SessionStatus::IdleExpired) => "idle",
        SessionRefusal::Expired(querywarden_domain::auth::SessionStatus::AbsoluteExpired) => {
            "absolute"
        }
        SessionRefusal::Expired(_) => "ended",
        SessionRefusal::Disabled => "disabled",
        SessionRefusal::None | SessionRefusal::Locked => "required",
    };
    super::redirect_signed_out(state, &format!("/login?notice={notice}"))
}

/// A page about to be shown to `who` (a `GET`): what waits for them is read once, for the
/// navigation's counts and the home page (see [`crate::home::nav`]). Form posts answer with a
/// redirect and need none.
async fn worklist_for_page(parts: &Parts, state: &AppState, who: &SignedIn) {
    if parts.method == axum::http::Method::GET {
        crate::home::nav::load(state, who, &operation_id(parts)).await;
    }
}

/// A signed-in, unlocked person, for pages: anyone else is sent to sign in, a locked
/// session to the lock page.
pub struct PageSession(pub SignedIn);

impl FromRequestParts<AppState> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match resolve(parts, state).await {
            Ok(Ok(s)) => {
                worklist_for_page(parts, state, &s).await;
                Ok(PageSession(s))
            }
            Ok(Err(SessionRefusal::Locked)) => {
                Err(Redirect::to(&locked_url(parts.uri.path())).into_response())
            }
            Ok(Err(r)) => Err(to_login(state, r)),
            Err(e) => Err(ApiError::internal(&e, &operation_id(parts)).into_response()),
        }
    }
}

/// A signed-in person for pages that show whether someone is signed in, without requiring it.
pub struct MaybeSession(pub Option<SignedIn>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match resolve(parts, state).await {
            Ok(Ok(s)) => {
                worklist_for_page(parts, state, &s).await;
                Ok(MaybeSession(Some(s)))
            }
            Ok(Err(SessionRefusal::Locked)) => Err(Redirect::to("/session/locked").into_response()),
            // A cookie of a session that has ended: say so rather than quietly showing the
            // page as if nobody had signed in.
            Ok(Err(r @ (SessionRefusal::Expired(_) | SessionRefusal::Disabled))) => {
                Err(to_login(state, r))
            }
            Ok(Err(SessionRefusal::None)) => Ok(MaybeSession(None)),
            Err(e) => Err(ApiError::internal(&e, &operation_id(parts)).into_response()),
        }
    }
}

/// The signed-in caller of an API route, with the state and the operation id, which carries
/// the client's address (extracted in that order, like the separate extractors it replaces).
pub struct ApiCall {
    pub state: AppState,
    pub op: OperationId,
    pub who: SignedIn,
}

impl FromRequestParts<AppState> for ApiCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Ok(op) = OperationId::from_request_parts(parts, state).await;
        let ApiSession(who) = ApiSession::from_request_parts(parts, state).await?;
        Ok(Self {
            state: state.clone(),
            op,
            who,
        })
    }
}

/// A signed-in, unlocked person for the JSON API; state-changing methods must also carry
/// the session's CSRF token in `X-CSRF-Token`.
pub struct ApiSession(pub SignedIn);

impl FromRequestParts<AppState> for ApiSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let op = operation_id(parts);
        let s = match resolve(parts, state).await {
            Ok(Ok(s)) => s,
            Ok(Err(SessionRefusal::Locked)) => {
                return Err(ApiError::new(
                    StatusCode::LOCKED,
                    "session.locked",
                    "螢幕已鎖定，請先輸入密碼解除鎖定",
                    "the screen is locked; unlock with your password first",
                    &op,
                ));
            }
            Ok(Err(_)) => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "session.required",
                    "請先以自然人憑證登入",
                    "sign in with your citizen certificate first",
                    &op,
                ));
            }
            Err(e) => return Err(ApiError::internal(&e, &op)),
        };
        if !parts.method.is_safe() {
            let token = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !s.csrf_ok(token) {
                return Err(csrf_refused(state, &s, &op).await);
            }
        }
        Ok(ApiSession(s))
    }
}

/// A form or API call whose CSRF token does not match the session's: refused, and the
/// refusal recorded through the app (§3) before the answer goes out.
pub async fn csrf_refused(state: &AppState, who: &SignedIn, op: &str) -> ApiError {
    if let Err(e) =
        session::refuse(&state.app, who, "session.csrf", jiff::Timestamp::now(), op).await
    {
        return ApiError::internal(&e, op);
    }
    ApiError::new(
        StatusCode::FORBIDDEN,
        "session.csrf",
        "表單已失效，請重新整理頁面後再試",
        "the form has expired; reload the page and try again",
        op,
    )
}

/// §3, §9: a page of another role was asked for: the refusal goes on the trail with `code`
/// (`access.refused`) before the page says no. Failing to record it is logged, and the
/// refusal stands.
pub async fn role_refused(state: &AppState, who: &SignedIn, code: &str, op: &str) {
    if let Err(e) = session::refuse(&state.app, who, code, jiff::Timestamp::now(), op).await {
        tracing::error!(operation_id = %op, error = %e, "refusal not recorded");
    }
}

/// The session even while locked: for the lock page, unlock and sign-out only.
pub struct LockedOrNot(pub SignedIn);

impl FromRequestParts<AppState> for LockedOrNot {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = cookie(&parts.headers, SESSION_COOKIE);
        let found = match (token, state.app.sign_in_desk()) {
            (Some(t), Some(desk)) => {
                desk.session_even_if_locked(&t, jiff::Timestamp::now())
                    .await
            }
            _ => Ok(None),
        };
        match found {
            Ok(Some(s)) => Ok(LockedOrNot(s)),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(ApiError::internal(&e, &operation_id(parts)).into_response()),
        }
    }
}

/// A request refused at the web edge for something the app never saw (an upload too large or
/// not UTF-8 text, a form of another role), recorded through the app before the answer goes
/// out (§9: every refusal is on the trail). `Some` only if recording it failed.
pub async fn upload_refused(
    state: &AppState,
    who: &SignedIn,
    code: &str,
    op: &str,
) -> Option<ApiError> {
    session::refuse(&state.app, who, code, jiff::Timestamp::now(), op)
        .await
        .err()
        .map(|e| ApiError::internal(&e, op))
}

/// §3: counts this attempt against each of its rate limits (`(what, key)`); over a limit, the
/// answer is 429 in the project's error, and the first refusal of the window is recorded
/// through the app (the rest of a flood would only flood the trail).
pub async fn over_limit(
    state: &AppState,
    who: &SignedIn,
    checks: &[(querywarden_app::limits::Limited, String)],
    op: &str,
) -> Option<ApiError> {
    match session::over_limit(&state.app, who, checks, jiff::Timestamp::now(), op).await {
        Ok(None) => None,
        Ok(Some(retry_after)) => Some(too_many(retry_after, op)),
        Err(e) => Some(ApiError::internal(&e, op)),
    }
}

/// 429 with the seconds to wait.
pub fn too_many(retry_after: jiff::SignedDuration, op: &str) -> ApiError {
    let secs = retry_after.as_secs().max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate.limited",
        format!("嘗試次數過多，請 {secs} 秒後再試"),
        format!("too many attempts; try again in {secs} seconds"),
        op,
    )
}

/// A path the lock page may send the person back to after unlocking: a page of this site
/// (`/…`, never `//host` or a scheme), in the plain characters the routes use, and not the
/// lock or sign-in pages themselves.
pub fn return_path(raw: &str) -> Option<&str> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && raw.len() <= 200
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'))
        && !raw.starts_with("/session/")
        && !raw.starts_with("/login")
        && !raw.starts_with("/logout")
        && !raw.starts_with("/api/");
    ok.then_some(raw)
}

/// The lock page, remembering the page that was locked so that unlocking returns to it.
pub fn locked_url(path: &str) -> String {
    match return_path(path) {
        Some(p) if p != "/" => format!("/session/locked?return={p}"),
        _ => "/session/locked".to_string(),
    }
}
