//! The HTTP face of querywarden: server-rendered pages (zh-TW first), the JSON API under
//! `/api/v1`, health endpoints, static assets, and the middleware every request passes:
//! operation ids, security headers, and request logs that carry no personal data.
//!
//! Handlers are thin: they take the parsed input and the operation id, call one function of
//! `querywarden_app`, and map the result.

pub mod admin;
mod app_op;
pub mod auth;
mod casework;
pub mod citizen_report;
pub mod common_api;
pub mod documents;
pub mod enrolment;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod guidance;
pub mod home;
pub mod i18n;
pub mod input;
pub mod oversight;
pub mod pages;
pub mod permissions;
mod refusals;
pub mod registrations;
pub mod rejection;
pub mod requests;
pub use auth::session;
pub mod templates;
pub mod tls;
pub mod upload;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::Extensions;
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use querywarden_app::App;

use crate::i18n::{Catalogue, CatalogueError, Locale, Messages};

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub catalogue: Arc<Catalogue>,
}

impl AppState {
    pub fn new(app: App) -> Result<Self, CatalogueError> {
        Ok(Self {
            app,
            catalogue: Catalogue::get()?,
        })
    }
}

/// The operation id of this request (also sent back as `X-Request-Id` and written to the log
/// and to audit records), so a user's error page can be matched to the server log; with the
/// client's address, where the connection gave one, for the audit record. Every server of
/// this crate gives it; a test's `oneshot` may not, and the record then has none.
#[derive(Debug, Clone)]
pub struct OperationId(pub String, Option<IpAddr>);

impl OperationId {
    /// The operation `id` of the request whose extensions are `ext`, from its client.
    fn of(id: String, ext: &Extensions) -> Self {
        let client = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        OperationId(id, client)
    }

    /// The client's address as the audit record writes it.
    pub fn client_addr(&self) -> Option<String> {
        self.1.map(|ip| ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for OperationId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<OperationId>()
            .cloned()
            .unwrap_or_else(|| OperationId::of(new_operation_id(), &parts.extensions)))
    }
}

/// The cookie that holds the UI language (set by `/lang/{tag}`).
pub const LANG_COOKIE: &str = "qw_lang";

/// The language the request's `qw_lang` cookie names, else Traditional Chinese.
pub fn locale_of(headers: &axum::http::HeaderMap) -> Locale {
    CookieJar::from_headers(headers)
        .get(LANG_COOKIE)
        .and_then(|c| Locale::parse(c.value()))
        .unwrap_or_default()
}

/// The request's UI language: the `qw_lang` cookie, else Traditional Chinese.
pub struct Lang(pub Messages);

impl FromRequestParts<AppState> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let locale = locale_of(&parts.headers);
        Ok(Lang(Messages::new(state.catalogue.clone(), locale)))
    }
}

/// What every page handler starts from: the application, the request's UI language and its
/// operation id, which carries the client's address for the app's `Op` (`app_op::op_of`)
/// (the page's counterpart of the API's `ApiCall`; the session, which pages and
/// forms read in different ways, stays its own extractor).
pub struct PageCall {
    pub state: AppState,
    pub m: Messages,
    pub op: OperationId,
}

impl FromRequestParts<AppState> for PageCall {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(Lang(m)) = Lang::from_request_parts(parts, state).await;
        let Ok(op) = OperationId::from_request_parts(parts, state).await;
        Ok(Self {
            state: state.clone(),
            m,
            op,
        })
    }
}

/// Every API route, with its method: the router and the OpenAPI document are both checked
/// against this list by a test.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/service-items"),
    ("get", "/api/v1/legal-bases"),
    ("post", "/api/v1/catalogue/changes"),
    ("get", "/api/v1/units"),
    ("post", "/api/v1/national-ids/check"),
    ("get", "/api/v1/audit/checkpoint"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/me/worklist"),
    ("get", "/api/v1/me/mail"),
    ("put", "/api/v1/me/mail"),
    ("post", "/api/v1/session/lock"),
    ("get", "/api/v1/permissions/applications"),
    ("post", "/api/v1/permissions/applications"),
    ("get", "/api/v1/permissions/applications/{id}"),
    ("put", "/api/v1/permissions/applications/{id}"),
    ("post", "/api/v1/permissions/applications/{id}/submit"),
    ("post", "/api/v1/permissions/applications/{id}/withdraw"),
    ("post", "/api/v1/permissions/applications/{id}/decision"),
    ("get", "/api/v1/permissions/inbox"),
    ("get", "/api/v1/permissions/grants"),
    ("get", "/api/v1/permissions/admin/grants"),
    ("post", "/api/v1/permissions/admin/staff-import"),
    ("post", "/api/v1/permissions/admin/accounts/enable"),
    ("get", "/api/v1/permissions/staff-changes"),
    ("get", "/api/v1/permissions/recertifications"),
    ("post", "/api/v1/permissions/recertifications"),
    ("get", "/api/v1/permissions/recertifications/{id}"),
    (
        "post",
        "/api/v1/permissions/recertifications/{id}/decisions",
    ),
    ("post", "/api/v1/permissions/recertifications/{id}/close"),
    ("post", "/api/v1/registrations"),
    ("post", "/api/v1/registrations/batch"),
    ("get", "/api/v1/registrations/inbox"),
    ("post", "/api/v1/registrations/decisions"),
    ("get", "/api/v1/registrations/{no}"),
    ("post", "/api/v1/registrations/{no}/reveal"),
    ("post", "/api/v1/registrations/{no}/decision"),
    ("post", "/api/v1/registrations/{no}/cancel"),
    ("post", "/api/v1/registrations/{no}/execution"),
    (
        "post",
        "/api/v1/registrations/{no}/executions/{item}/statement",
    ),
    ("get", "/api/v1/registrations/{no}/results/{item}"),
    ("post", "/api/v1/registrations/{no}/results/{item}/print"),
    ("get", "/api/v1/requests"),
    ("post", "/api/v1/requests"),
    ("get", "/api/v1/requests/{no}"),
    ("post", "/api/v1/requests/{no}/review"),
    ("post", "/api/v1/requests/{no}/delivery"),
    ("post", "/api/v1/enrolment/codes"),
    ("get", "/api/v1/enrolment/crls"),
    ("get", "/api/v1/oversight/audits"),
    ("post", "/api/v1/oversight/audits"),
    ("get", "/api/v1/oversight/audits/review-queue"),
    ("get", "/api/v1/oversight/audits/{id}"),
    ("post", "/api/v1/oversight/audits/{id}/documents"),
    ("get", "/api/v1/oversight/audits/{id}/documents/{doc}"),
    ("post", "/api/v1/oversight/audits/{id}/documents/submit"),
    ("post", "/api/v1/oversight/audits/{id}/opinions"),
    ("post", "/api/v1/oversight/audits/{id}/overall"),
    ("post", "/api/v1/oversight/audits/{id}/sign-off"),
    ("post", "/api/v1/oversight/audits/{id}/review"),
    ("get", "/api/v1/oversight/reviews"),
    ("get", "/api/v1/oversight/reviews/{id}"),
    ("post", "/api/v1/oversight/reviews/{id}/close"),
    ("post", "/api/v1/oversight/findings/{id}/conclusion"),
    ("post", "/api/v1/oversight/reconciliation"),
    ("get", "/api/v1/oversight/violations"),
    ("post", "/api/v1/oversight/violations"),
    ("get", "/api/v1/oversight/violations/{id}"),
    ("post", "/api/v1/oversight/violations/{id}/report"),
    ("post", "/api/v1/oversight/violations/{id}/decision"),
    ("get", "/api/v1/oversight/dashboard"),
    ("get", "/api/v1/registrations/mine"),
    ("post", "/api/v1/units/{unit}/deputy"),
    ("post", "/api/v1/requests/{no}/consent"),
    ("post", "/api/v1/requests/{no}/sign"),
    ("post", "/api/v1/requests/{no}/execution"),
    ("post", "/api/v1/requests/{no}/subjects/{position}/close"),
    ("get", "/api/v1/citizen-requests"),
    ("post", "/api/v1/citizen-requests"),
    ("get", "/api/v1/citizen-requests/{no}"),
    ("post", "/api/v1/citizen-requests/{no}/extension"),
    ("post", "/api/v1/citizen-requests/{no}/report"),
    ("post", "/api/v1/citizen-requests/{no}/answer"),
    ("get", "/api/v1/withholdings"),
    ("post", "/api/v1/registrations/{no}/withholding"),
    ("get", "/api/v1/documents/{form}/{id}"),
];

/// Builds the whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/favicon.ico", get(favicon))
        .route("/static/favicon.svg", get(favicon))
        .merge(home::routes())
        .merge(auth::routes())
        .merge(admin::routes())
        .merge(common_api::routes())
        .merge(permissions::routes())
        .merge(registrations::routes())
        .merge(requests::routes())
        .merge(oversight::routes())
        .merge(enrolment::routes())
        .merge(citizen_report::routes())
        .merge(documents::routes())
        .merge(guidance::routes())
        .fallback(home::not_found)
        // Innermost: the per-request slot the page-session extractors read the worklist into
        // (the navigation's counts).
        .layer(middleware::from_fn(home::nav::scope))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rejection::refuse_invalid_form_bytes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rejection::one_envelope,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(operation_id_and_log))
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// Counts every request for `/metrics` under its route template (`/registrations/{no}`),
/// never its path, so no registration number or national ID becomes a label; a request that
/// matched no route counts as `unmatched`.
async fn count_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let started = Instant::now();
    let res = next.run(req).await;
    state.app.metrics().observe_request(
        method.as_str(),
        route.as_deref(),
        res.status().as_u16(),
        started.elapsed(),
    );
    res
}

/// The browser tab's icon: one SVG, at the path browsers guess and the one the layout names.
async fn favicon() -> Response {
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/favicon.svg"),
    )
        .into_response()
}

fn new_operation_id() -> String {
    querywarden_app::new_request_id()
}

/// Assigns the operation id and logs method, route, status and latency. Paths never carry
/// personal data (national IDs travel only in bodies), so logging the path is safe; query
/// strings are not logged.
pub(crate) async fn operation_id_and_log(mut req: Request, next: Next) -> Response {
    let id = new_operation_id();
    let op = OperationId::of(id.clone(), req.extensions());
    req.extensions_mut().insert(op);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let mut res = next.run(req).await;
    tracing::info!(
        operation_id = %id,
        %method,
        path,
        status = res.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Headers that every response carries. No inline scripts or styles are allowed, nothing may
/// frame the pages, and no page is cached: any page may show personal data.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Serves the router on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
