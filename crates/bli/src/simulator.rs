//! The BLI service simulator: an axum app that answers `POST /api/v1/query` with
//! deterministic synthetic records for all nine items, injects latency and faults, and keeps
//! the platform-side usage log (`GET /admin/usage-log?format=csv|jsonl`).
//!
//! Security-sensitive only as a holder of (synthetic or demo) national IDs in its usage log;
//! see [`usage`]. Never point it at real data.
//!
//! Determinism: records depend only on the national ID (and `as_of`); faults are drawn per
//! request from a SplitMix64 stream seeded by `seed` and the request's arrival number, so a
//! given seed and request order reproduce the same faults.

mod listener;
mod people;
mod rng;
pub mod usage;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::civil::Date;
use querywarden_domain::NationalId;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::item::BliItem;
use crate::wire::{self, WireQuery};
use listener::{ConnectionCutter, CuttableListener};
use people::Answer;
pub use rng::SplitMix64;
pub use usage::{UsageEntry, UsageLog};

/// How the simulator behaves. Rates are probabilities per query request (0.0–1.0), drawn in
/// the order error, timeout, malformed, reset; their sum should not exceed 1.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Added latency per query, uniform in `latency_ms_min..=latency_ms_max`.
    pub latency_ms_min: u64,
    pub latency_ms_max: u64,
    /// Answer `500` with an error body.
    pub error_rate: f64,
    /// Hang for [`SimulatorConfig::hang`] (longer than any client timeout), then `504`.
    pub timeout_rate: f64,
    /// Answer `200 application/json` with a truncated, invalid JSON body.
    pub malformed_rate: f64,
    /// Reset the TCP connection without answering.
    pub reset_rate: f64,
    /// How long a "timeout" fault hangs. Default 60 s.
    pub hang: Duration,
    /// Seed of the fault and latency draws.
    pub seed: u64,
    /// Allowed `(agency_code, operator_account)` pairs; empty allows everyone. Others get
    /// `403 account_not_authorised`.
    pub accounts: Vec<(String, String)>,
    /// The simulated "today": records end here. Default 2026-03-01.
    pub as_of: Date,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            latency_ms_min: 0,
            latency_ms_max: 0,
            error_rate: 0.0,
            timeout_rate: 0.0,
            malformed_rate: 0.0,
            reset_rate: 0.0,
            hang: Duration::from_secs(60),
            seed: 0,
            accounts: Vec::new(),
            as_of: Date::new(2026, 3, 1).unwrap_or(Date::MIN),
        }
    }
}

/// The simulator could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("simulator configuration: {0}")]
    Config(&'static str),
    #[error("simulator socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("simulator task ended abnormally")]
    Task,
}

struct AppState {
    config: SimulatorConfig,
    requests: AtomicU64,
    usage: UsageLog,
    shutdown: watch::Receiver<bool>,
}

/// A running simulator. Dropping it stops the server (in the background);
/// [`SimulatorHandle::shutdown`] stops it and waits.
#[derive(Debug)]
pub struct SimulatorHandle {
    addr: SocketAddr,
    usage: UsageLog,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SimulatorHandle {
    /// The bound address, e.g. `127.0.0.1:40123`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`, ready for `HttpConnectorConfig::new`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The platform-side usage log (shared, live).
    pub fn usage_log(&self) -> &UsageLog {
        &self.usage
    }

    /// Stops accepting, lets hanging requests end, and waits for the server task.
    pub async fn shutdown(mut self) -> Result<(), SimulatorError> {
        let _ = self.stop.send(true);
        match self.task.take() {
            Some(task) => match tokio::time::timeout(Duration::from_secs(5), task).await {
                Ok(Ok(result)) => result.map_err(SimulatorError::from),
                Ok(Err(_)) | Err(_) => Err(SimulatorError::Task),
            },
            None => Ok(()),
        }
    }
}

impl Drop for SimulatorHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn validate(config: &SimulatorConfig) -> Result<(), SimulatorError> {
    let rates = [
        config.error_rate,
        config.timeout_rate,
        config.malformed_rate,
        config.reset_rate,
    ];
    if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
        return Err(SimulatorError::Config(
            "each fault rate must be within 0.0–1.0",
        ));
    }
    if rates.iter().sum::<f64>() > 1.0 + 1e-9 {
        return Err(SimulatorError::Config(
            "fault rates add up to more than 1.0",
        ));
    }
    if config.latency_ms_min > config.latency_ms_max {
        return Err(SimulatorError::Config(
            "latency_ms_min is above latency_ms_max",
        ));
    }
    Ok(())
}

/// Starts the simulator on `listener` (bind `127.0.0.1:0` in tests) and returns at once.
pub async fn spawn(
    config: SimulatorConfig,
    listener: TcpListener,
) -> Result<SimulatorHandle, SimulatorError> {
    validate(&config)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let usage = UsageLog::new();
    let state = Arc::new(AppState {
        config,
        requests: AtomicU64::new(0),
        usage: usage.clone(),
        shutdown: stopped.clone(),
    });
    let app = router(state);
    let mut signal = stopped;
    let server = axum::serve(
        CuttableListener(listener),
        app.into_make_service_with_connect_info::<ConnectionCutter>(),
    )
    .with_graceful_shutdown(async move {
        let _ = signal.wait_for(|stop| *stop).await;
    });
    let task = tokio::spawn(async move { server.await });
    Ok(SimulatorHandle {
        addr,
        usage,
        stop,
        task: Some(task),
    })
}

/// Runs the simulator on `listener` until Ctrl-C (SIGINT), then shuts down gracefully. For
/// `querywarden simulator --listen 127.0.0.1:PORT`.
pub async fn run(config: SimulatorConfig, listener: TcpListener) -> Result<(), SimulatorError> {
    let handle = spawn(config, listener).await?;
    tracing::info!(addr = %handle.addr(), "BLI simulator listening");
    tokio::signal::ctrl_c().await?;
    handle.shutdown().await
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(wire::QUERY_PATH, post(query))
        .route("/admin/usage-log", get(usage_log))
        .with_state(state)
}

enum Fault {
    None,
    Error,
    Hang,
    Malformed,
    Reset,
}

fn draw(config: &SimulatorConfig, n: u64) -> (Fault, Duration) {
    let mut rng = SplitMix64::new(config.seed ^ n.wrapping_mul(0xD134_2543_DE82_EF95));
    let u = rng.unit();
    let mut edge = config.error_rate;
    let fault = if u < edge {
        Fault::Error
    } else if u < {
        edge += config.timeout_rate;
        edge
    } {
        Fault::Hang
    } else if u < {
        edge += config.malformed_rate;
        edge
    } {
        Fault::Malformed
    } else if u < edge + config.reset_rate {
        Fault::Reset
    } else {
        Fault::None
    };
    let lo = i64::try_from(config.latency_ms_min).unwrap_or(0);
    let hi = i64::try_from(config.latency_ms_max).unwrap_or(lo);
    let latency = Duration::from_millis(u64::try_from(rng.range(lo, hi)).unwrap_or(0));
    (fault, latency)
}

fn json(status: StatusCode, request_id: &str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert(wire::REQUEST_ID_HEADER, v);
    }
    response
}

fn error(status: StatusCode, request_id: &str, code: &str, message: &str) -> Response {
    json(status, request_id, wire::encode_error(code, message))
}

/// A request refused as it stands, before it reaches the usage log.
fn bad_request(request_id: &str, code: &str, message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, request_id, code, message)
}

async fn query(
    State(state): State<Arc<AppState>>,
    ConnectInfo(cutter): ConnectInfo<ConnectionCutter>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = state.requests.fetch_add(1, Ordering::Relaxed);
    let r = match QueryRequest::read(&headers, &body) {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    let config = &state.config;
    if !config.accounts.is_empty()
        && !config
            .accounts
            .iter()
            .any(|(a, o)| *a == r.q.agency_code && *o == r.q.operator_account)
    {
        r.log(&state.usage, "refused");
        return error(
            StatusCode::FORBIDDEN,
            &r.q.request_id,
            "account_not_authorised",
            "account not authorised for this service",
        );
    }

    let (fault, latency) = draw(config, n);
    let mut shutdown = state.shutdown.clone();
    if !latency.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(latency) => {}
            _ = shutdown.wait_for(|s| *s) => {
                return error(StatusCode::SERVICE_UNAVAILABLE, &r.q.request_id, "shutting_down", "simulator stopping");
            }
        }
    }
    respond(fault, &state, &r, &cutter, shutdown).await
}

/// A query request that parsed: the wire query with its item and subject read.
struct QueryRequest {
    q: WireQuery,
    item: BliItem,
    subject: NationalId,
}

impl QueryRequest {
    /// Reads the body, or the `400` that refuses it. Unparseable requests are refused before
    /// the log: without a valid subject there is no row.
    #[allow(
        clippy::result_large_err,
        reason = "the Err is the refusal, handed straight back as the handler's answer"
    )]
    fn read(headers: &HeaderMap, body: &[u8]) -> Result<QueryRequest, Response> {
        let Ok(q) = serde_json::from_slice::<WireQuery>(body) else {
            let header_id = headers
                .get(wire::REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            return Err(bad_request(
                header_id,
                "bad_request",
                "request body is not a valid query",
            ));
        };
        let Ok(item) = BliItem::parse(&q.item) else {
            return Err(bad_request(
                &q.request_id,
                "unknown_item",
                "unknown service item",
            ));
        };
        let Ok(subject) = NationalId::parse(&q.subject_id) else {
            return Err(bad_request(
                &q.request_id,
                "invalid_subject_id",
                "subject_id is not a valid national ID",
            ));
        };
        Ok(QueryRequest { q, item, subject })
    }

    /// Writes the platform's usage-log row for this request, with its outcome.
    fn log(&self, usage: &UsageLog, outcome: &str) {
        usage.record(
            &self.q.agency_code,
            &self.q.operator_account,
            self.item,
            self.subject.expose_whole(),
            &self.q.request_id,
            outcome,
        );
    }
}

/// The answer of a request drawn without a fault: the subject's records, or the status that
/// says there are none.
fn answer(state: &AppState, r: &QueryRequest) -> Response {
    let (item, request_id) = (r.item, r.q.request_id.as_str());
    let status = match people::answer(&r.subject, item, state.config.as_of) {
        Answer::Records(records) => {
            r.log(&state.usage, "ok");
            return json(
                StatusCode::OK,
                request_id,
                wire::encode_ok(request_id, &records),
            );
        }
        Answer::NotFound => wire::STATUS_NOT_FOUND,
        Answer::NotInsured => wire::STATUS_NOT_INSURED,
    };
    r.log(&state.usage, status);
    json(
        StatusCode::OK,
        request_id,
        wire::encode_status(item, request_id, status),
    )
}

/// The response once the latency has passed: the answer, or the fault the request drew in
/// its place — each logged as the platform would log it. A hang ends early when the
/// simulator stops.
async fn respond(
    fault: Fault,
    state: &AppState,
    r: &QueryRequest,
    cutter: &ConnectionCutter,
    mut shutdown: watch::Receiver<bool>,
) -> Response {
    let request_id = r.q.request_id.as_str();
    match fault {
        Fault::None => answer(state, r),
        Fault::Error => {
            r.log(&state.usage, "error");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                request_id,
                "internal_error",
                "simulated internal error",
            )
        }
        Fault::Hang => {
            r.log(&state.usage, "timeout");
            tokio::select! {
                () = tokio::time::sleep(state.config.hang) => {}
                _ = shutdown.wait_for(|s| *s) => {}
            }
            error(
                StatusCode::GATEWAY_TIMEOUT,
                request_id,
                "timeout",
                "simulated timeout",
            )
        }
        Fault::Malformed => {
            r.log(&state.usage, "malformed");
            let mut body = wire::encode_ok(
                request_id,
                &people_records_or_empty(&r.subject, r.item, state.config.as_of),
            );
            body.truncate(body.len() / 2);
            json(StatusCode::OK, request_id, body)
        }
        Fault::Reset => {
            r.log(&state.usage, "reset");
            cutter.cut();
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                request_id,
                "reset",
                "connection reset",
            )
        }
    }
}

fn people_records_or_empty(
    subject: &NationalId,
    item: BliItem,
    as_of: Date,
) -> crate::records::BliRecords {
    match people::answer(subject, item, as_of) {
        Answer::Records(r) => r,
        _ => crate::records::BliRecords::T0101(Vec::new()),
    }
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn usage_log(State(state): State<Arc<AppState>>, Query(q): Query<ExportQuery>) -> Response {
    match q.format.as_deref().unwrap_or("csv") {
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            state.usage.to_csv(),
        )
            .into_response(),
        "jsonl" => (
            [(header::CONTENT_TYPE, "application/jsonl; charset=utf-8")],
            state.usage.to_jsonl(),
        )
            .into_response(),
        _ => (StatusCode::BAD_REQUEST, "format must be csv or jsonl").into_response(),
    }
}

/// The records the simulator holds for `subject` and `item` (no faults, no log), for tests
/// and the demo: `Ok(records)`, or `Err(NotFound | NotInsured)`.
pub fn expected_records(
    subject: &NationalId,
    item: BliItem,
    as_of: Date,
) -> Result<crate::records::BliRecords, crate::error::ConnectorError> {
    match people::answer(subject, item, as_of) {
        Answer::Records(r) => Ok(r),
        Answer::NotFound => Err(crate::error::ConnectorError::NotFound),
        Answer::NotInsured => Err(crate::error::ConnectorError::NotInsured),
    }
}
