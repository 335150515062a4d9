//! `GET /metrics`: the Prometheus scrape, OpenMetrics text. Who may read it is decided by
//! `querywarden_app::metrics::may_scrape` (an address of `metrics.allow`, not relayed by a
//! proxy, without a session); everyone else gets the same "not found" as any unknown path.
//! A refusal is logged, not audited: scraping is not a person's action on personal data, and
//! a scanner must not be able to fill the audit trail.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use querywarden_app::metrics::{ScrapeError, ScrapeRequest, scrape};

use crate::auth::session::{SESSION_COOKIE, cookie};
use crate::error::ApiError;
use crate::{AppState, Lang, OperationId};

/// The OpenMetrics text format's content type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn metrics(
    State(state): State<AppState>,
    lang: Lang,
    op: OperationId,
    req: Request,
) -> Response {
    let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return crate::home::not_found(lang, op).await;
    };
    let request = ScrapeRequest {
        peer: peer.ip(),
        relayed: relayed(req.headers()),
        with_session: cookie(req.headers(), SESSION_COOKIE).is_some(),
    };
    match scrape(&state.app, request, jiff::Timestamp::now()).await {
        Ok(text) => {
            let mut res = (StatusCode::OK, text).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
            res
        }
        Err(ScrapeError::Refused(why)) => {
            tracing::info!(operation_id = %op.0, code = why.code(), "metrics scrape refused");
            crate::home::not_found(lang, op).await
        }
        Err(ScrapeError::Failed(e)) => ApiError::internal(&e, &op.0).into_response(),
        Err(e @ ScrapeError::Encode(_)) => {
            tracing::error!(operation_id = %op.0, error = %e, "metrics encoding failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable\n").into_response()
        }
    }
}

/// Whether a proxy relayed the request: then the peer address is the proxy's and says
/// nothing about who asked.
fn relayed(headers: &HeaderMap) -> bool {
    ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h))
}
