//! Optional self-service (個人資料保護法 §10): the citizen's own report on a listener of its
//! own. This router serves only its page, its report, the stylesheet and a health check;
//! every other path — every staff page and API — answers 404 here, because the staff router
//! is simply not mounted. The rules, the rate limit and the audit are in
//! `querywarden_app::citizen_report::self_service`; trade-offs in
//! docs/citizen-self-service.md.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router, middleware};
use jiff::Timestamp;
use querywarden_app::auth;
use querywarden_app::citizen_report::Refusal;
use querywarden_app::citizen_report::self_service::{SelfServiceInput, SelfServiceLimiter};
use serde::Deserialize;

use super::view::{EntryRow, entry_rows, form_error};
use crate::i18n::{Locale, Messages};
use crate::pages::render;
use crate::session::{cookie, set_cookie};
use crate::templates::FormError;
use crate::{AppState, OperationId};

/// The self-service flow's cookie (ties a challenge to this browser).
const FLOW: &str = "qw_citizen";

#[derive(Clone)]
pub struct SelfServiceState {
    web: AppState,
    limiter: Arc<SelfServiceLimiter>,
}

/// The self-service router: nothing of the staff site is reachable through it.
pub fn router(web: AppState) -> Router {
    let per_hour = web.app.config().citizen_self_service_attempts_per_hour;
    let state = SelfServiceState {
        web,
        limiter: Arc::new(SelfServiceLimiter::per_hour(per_hour)),
    };
    Router::new()
        .route("/", get(form))
        .route("/report", post(report))
        .route("/static/app.css", get(crate::pages::stylesheet))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        .layer(middleware::from_fn(crate::security_headers))
        .layer(middleware::from_fn(crate::operation_id_and_log))
        .with_state(state)
}

/// Serves the self-service router on its own `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    web: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(web).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

fn messages(state: &SelfServiceState, headers: &HeaderMap) -> Messages {
    let locale = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("qw_lang="))
        .find_map(Locale::parse)
        .unwrap_or_default();
    Messages::new(state.web.catalogue.clone(), locale)
}

#[derive(Template)]
#[template(path = "citizen/self_service.html")]
pub struct SelfServicePage {
    pub m: Messages,
    /// The challenge to sign; empty when sign-in is not configured.
    pub nonce: String,
    pub error: Option<FormError>,
    pub shown: bool,
    pub entries: Vec<EntryRow>,
    pub checkpoint: String,
    pub appendix: String,
}

async fn not_found(op: OperationId) -> Response {
    let _ = op;
    (StatusCode::NOT_FOUND, "404 not found").into_response()
}

/// A fresh challenge for this browser (setting its flow cookie when it has none).
async fn challenge(
    state: &SelfServiceState,
    headers: &HeaderMap,
) -> Result<(String, Option<String>), querywarden_app::AppError> {
    if state.web.app.auth().is_none() {
        return Ok((String::new(), None));
    }
    let (flow, set) = match cookie(headers, FLOW).filter(|f| f.len() >= 32) {
        Some(f) => (f, None),
        None => {
            let f = auth::random_token()?;
            let c = set_cookie(&state.web, FLOW, &f, 600);
            (f, Some(c))
        }
    };
    let nonce = state
        .web
        .app
        .citizen_reports()
        .self_service_nonce(&flow, Timestamp::now())
        .await?
        .unwrap_or_default();
    Ok((nonce, set))
}

fn page_response(
    status: StatusCode,
    page: &SelfServicePage,
    set: Option<String>,
    op: &OperationId,
) -> Response {
    let mut res = (status, render(page, op)).into_response();
    if let Some(v) = set.and_then(|c| c.parse().ok()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn internal(e: &querywarden_app::AppError, op: &OperationId) -> Response {
    tracing::error!(operation_id = %op.0, code = e.code(), error = %e, "self-service failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "系統發生錯誤 / the system failed",
    )
        .into_response()
}

async fn form(
    State(state): State<SelfServiceState>,
    op: OperationId,
    headers: HeaderMap,
) -> Response {
    let m = messages(&state, &headers);
    let (nonce, set) = match challenge(&state, &headers).await {
        Ok(v) => v,
        Err(e) => return internal(&e, &op),
    };
    let page = SelfServicePage {
        m,
        nonce,
        error: None,
        shown: false,
        entries: Vec::new(),
        checkpoint: String::new(),
        appendix: String::new(),
    };
    page_response(StatusCode::OK, &page, set, &op)
}

#[derive(Deserialize)]
pub struct SelfServiceForm {
    #[serde(default)]
    national_id: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    signature: String,
}

async fn report(
    State(state): State<SelfServiceState>,
    op: OperationId,
    headers: HeaderMap,
    Form(f): Form<SelfServiceForm>,
) -> Response {
    let m = messages(&state, &headers);
    let input = SelfServiceInput {
        national_id: f.national_id,
        nonce: f.nonce,
        signature: f.signature,
        flow_token: cookie(&headers, FLOW).unwrap_or_default(),
        client_addr: op.client_addr(),
    };
    let outcome = match state
        .web
        .app
        .citizen_reports()
        .self_service_report(&state.limiter, &input, Timestamp::now(), &op.0)
        .await
    {
        Ok(o) => o,
        Err(e) => return internal(&e, &op),
    };
    match outcome {
        Ok(report) => {
            let page = SelfServicePage {
                entries: entry_rows(&report, &m),
                checkpoint: report.appendix.checkpoint.clone(),
                // What the citizen receives carries no withheld count (§10).
                appendix: serde_json::to_string_pretty(&report).unwrap_or_default(),
                m,
                nonce: String::new(),
                error: None,
                shown: true,
            };
            page_response(StatusCode::OK, &page, None, &op)
        }
        Err(r) => {
            let status = match r {
                Refusal::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let (nonce, set) = match challenge(&state, &headers).await {
                Ok(v) => v,
                Err(e) => return internal(&e, &op),
            };
            let page = SelfServicePage {
                error: Some(form_error(&r, &m)),
                m,
                nonce,
                shown: false,
                entries: Vec::new(),
                checkpoint: String::new(),
                appendix: String::new(),
            };
            page_response(status, &page, set, &op)
        }
    }
}
