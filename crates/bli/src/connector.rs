//! The connector to BLI: the [`Connector`] trait and its HTTP implementation
//! [`HttpConnector`] (reqwest + rustls, optional mutual TLS, timeouts, bounded retries, a
//! circuit breaker and strict reply validation).
//!
//! Security-sensitive: this is where a citizen's national ID leaves the system. It goes only
//! in the JSON body (never URL, header or log); redirects and environment proxies are refused
//! so the body cannot be re-sent elsewhere; plain `http` is accepted only for loopback (the
//! simulator) unless explicitly allowed; replies are bounded in size and time and parsed by
//! [`crate::wire::parse_reply`].

mod breaker;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use reqwest::{StatusCode, Url};

use crate::error::{ConnectorError, UnavailableCause};
use crate::records::BliRecords;
use crate::request::QueryRequest;
use crate::wire::{self, WireQuery};
use breaker::Breaker;
pub use breaker::CircuitState;

/// Something that can answer a [`QueryRequest`]. The app wraps it so a call needs an
/// `ExecutionPermit`.
pub trait Connector: Send + Sync {
    fn query(
        &self,
        req: &QueryRequest,
    ) -> impl Future<Output = Result<BliRecords, ConnectorError>> + Send;
}

impl<C: Connector> Connector for Arc<C> {
    fn query(
        &self,
        req: &QueryRequest,
    ) -> impl Future<Output = Result<BliRecords, ConnectorError>> + Send {
        (**self).query(req)
    }
}

/// Settings of an [`HttpConnector`]. `Debug` never prints the client key.
#[derive(Clone)]
pub struct HttpConnectorConfig {
    /// e.g. `https://bli.example.gov.tw` or `http://127.0.0.1:8081` (simulator); the
    /// connector posts to `{base_url}/api/v1/query`.
    pub base_url: String,
    /// Client certificate chain and private key, both PEM, for mutual TLS.
    pub client_cert_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// PEM bundle of CA certificates to trust *instead of* the built-in web roots.
    pub ca_bundle_pem: Option<Vec<u8>>,
    /// Time allowed to open the TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole attempt: send, status, and the complete body.
    pub read_timeout: Duration,
    /// Extra attempts after a connect failure or a 503 received before any body. Timeouts,
    /// broken connections and other statuses are never retried.
    pub max_retries: u32,
    /// Consecutive service failures (timeouts, unavailability, 5xx, malformed replies) that
    /// open the circuit; 0 disables the breaker.
    pub breaker_threshold: u32,
    /// How long an open circuit fails fast before one trial call is let through.
    pub breaker_cooldown: Duration,
    /// Largest reply body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Allow `http://` to a non-loopback host. Off by default: the body holds a national ID.
    pub allow_insecure_http: bool,
}

impl HttpConnectorConfig {
    /// Defaults: connect 3 s, whole attempt 15 s, 2 retries, breaker 5 failures / 30 s,
    /// 4 MiB bodies.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            client_cert_pem: None,
            ca_bundle_pem: None,
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(15),
            max_retries: 2,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            max_body_bytes: 4 * 1024 * 1024,
            allow_insecure_http: false,
        }
    }
}

impl std::fmt::Debug for HttpConnectorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConnectorConfig")
            .field("base_url", &self.base_url)
            .field(
                "client_cert_pem",
                &self
                    .client_cert_pem
                    .as_ref()
                    .map(|_| "<cert + key redacted>"),
            )
            .field(
                "ca_bundle_pem",
                &self
                    .ca_bundle_pem
                    .as_ref()
                    .map(|b| format!("<{} bytes>", b.len())),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_retries", &self.max_retries)
            .field("breaker_threshold", &self.breaker_threshold)
            .field("breaker_cooldown", &self.breaker_cooldown)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

/// The configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorConfigError {
    #[error("BLI base URL is not a valid http(s) URL")]
    BadUrl,
    #[error(
        "BLI base URL uses plain http to a non-loopback host; use https or set allow_insecure_http"
    )]
    InsecureHttp,
    #[error("client certificate or key PEM is unusable: {0}")]
    ClientIdentity(String),
    #[error("CA bundle PEM is unusable: {0}")]
    CaBundle(String),
    #[error("timeouts and max_body_bytes must be greater than zero")]
    ZeroLimit,
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// The HTTP connector. Cheap to share behind an `Arc`; one per upstream.
#[derive(Debug)]
pub struct HttpConnector {
    client: reqwest::Client,
    url: Url,
    read_timeout: Duration,
    max_retries: u32,
    max_body_bytes: usize,
    breaker: Breaker,
}

/// What one attempt produced.
enum Attempt {
    Done(Result<BliRecords, ConnectorError>),
    /// Failed before the request could have been processed; safe to try again.
    Retryable(ConnectorError),
}

impl HttpConnector {
    pub fn new(config: HttpConnectorConfig) -> Result<Self, ConnectorConfigError> {
        if config.connect_timeout.is_zero()
            || config.read_timeout.is_zero()
            || config.max_body_bytes == 0
        {
            return Err(ConnectorConfigError::ZeroLimit);
        }
        let base = Url::parse(&config.base_url).map_err(|_| ConnectorConfigError::BadUrl)?;
        match base.scheme() {
            "https" => {}
            "http" if config.allow_insecure_http || is_loopback(&base) => {}
            "http" => return Err(ConnectorConfigError::InsecureHttp),
            _ => return Err(ConnectorConfigError::BadUrl),
        }
        if base.query().is_some() || base.fragment().is_some() || base.cannot_be_a_base() {
            return Err(ConnectorConfigError::BadUrl);
        }
        let url = Url::parse(&format!(
            "{}{}",
            base.as_str().trim_end_matches('/'),
            wire::QUERY_PATH
        ))
        .map_err(|_| ConnectorConfigError::BadUrl)?;

        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("querywarden-bli/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some((cert, key)) = &config.client_cert_pem {
            let mut pem = key.clone();
            pem.push(b'\n');
            pem.extend_from_slice(cert);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|e| ConnectorConfigError::ClientIdentity(e.to_string()))?;
            builder = builder.identity(identity);
        }
        if let Some(bundle) = &config.ca_bundle_pem {
            let certs = reqwest::Certificate::from_pem_bundle(bundle)
                .map_err(|e| ConnectorConfigError::CaBundle(e.to_string()))?;
            if certs.is_empty() {
                return Err(ConnectorConfigError::CaBundle(
                    "no certificate in bundle".into(),
                ));
            }
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| ConnectorConfigError::Client(e.to_string()))?;
        Ok(Self {
            client,
            url,
            read_timeout: config.read_timeout,
            max_retries: config.max_retries,
            max_body_bytes: config.max_body_bytes,
            breaker: Breaker::new(config.breaker_threshold, config.breaker_cooldown),
        })
    }

    /// Where the circuit breaker stands (closed, open, half-open).
    pub fn circuit_state(&self) -> CircuitState {
        self.breaker.state()
    }

    /// Whether the circuit breaker is currently failing calls fast.
    pub fn circuit_open(&self) -> bool {
        self.breaker.is_open()
    }

    async fn query_inner(&self, req: &QueryRequest) -> Result<BliRecords, ConnectorError> {
        let Some(admission) = self.breaker.admit() else {
            tracing::warn!(request_id = %req.request_id, "BLI circuit open; query not sent");
            return Err(ConnectorError::Unavailable(UnavailableCause::CircuitOpen));
        };
        let result = self.with_retries(req).await;
        match &result {
            Err(e) if e.is_service_failure() => admission.failure(),
            _ => admission.success(),
        }
        match &result {
            Ok(records) => tracing::info!(
                request_id = %req.request_id, item = %req.item, rows = records.len(), "BLI query answered"
            ),
            Err(e) => tracing::warn!(
                request_id = %req.request_id, item = %req.item, code = e.code(), error = %e, "BLI query failed"
            ),
        }
        result
    }

    async fn with_retries(&self, req: &QueryRequest) -> Result<BliRecords, ConnectorError> {
        let body = serde_json::to_vec(&WireQuery::from_request(req))
            .map_err(|_| ConnectorError::Malformed("cannot encode the request".into()))?;
        let mut attempt = 0u32;
        loop {
            let outcome = tokio::time::timeout(self.read_timeout, self.attempt(req, &body)).await;
            match outcome {
                Err(_elapsed) => return Err(ConnectorError::Timeout),
                Ok(Attempt::Done(result)) => return result,
                Ok(Attempt::Retryable(err)) if attempt < self.max_retries => {
                    attempt += 1;
                    tracing::debug!(request_id = %req.request_id, attempt, code = err.code(), "retrying BLI query");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Ok(Attempt::Retryable(err)) => return Err(err),
            }
        }
    }

    async fn attempt(&self, req: &QueryRequest, body: &[u8]) -> Attempt {
        let sent = self
            .client
            .post(self.url.clone())
            .header(wire::REQUEST_ID_HEADER, &req.request_id)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(body.to_vec())
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return Attempt::Retryable(ConnectorError::Unavailable(UnavailableCause::Connect));
            }
            Err(e) if e.is_timeout() => return Attempt::Done(Err(ConnectorError::Timeout)),
            Err(_) => {
                return Attempt::Done(Err(ConnectorError::Unavailable(
                    UnavailableCause::Transport,
                )));
            }
        };
        let status = response.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return Attempt::Retryable(ConnectorError::Unavailable(
                UnavailableCause::ServiceUnavailable,
            ));
        }
        if status != StatusCode::OK {
            // Best effort: the error code, from a bounded body; transport trouble here still
            // leaves a refusal with the status.
            let code = read_bounded(&mut response, self.max_body_bytes.min(64 * 1024))
                .await
                .ok()
                .and_then(|b| wire::parse_error_code(&b))
                .unwrap_or_else(|| format!("http_{}", status.as_u16()));
            return Attempt::Done(Err(ConnectorError::Refused {
                status: status.as_u16(),
                code,
            }));
        }
        if let Err(e) = check_headers(response.headers(), &req.request_id, self.max_body_bytes) {
            return Attempt::Done(Err(e));
        }
        let body = match read_bounded(&mut response, self.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => return Attempt::Done(Err(e)),
        };
        Attempt::Done(wire::parse_reply_checked(
            req.item,
            Some(&req.request_id),
            &body,
        ))
    }
}

impl Connector for HttpConnector {
    fn query(
        &self,
        req: &QueryRequest,
    ) -> impl Future<Output = Result<BliRecords, ConnectorError>> + Send {
        self.query_inner(req)
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64.saturating_mul(u64::from(attempt)).min(500))
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Content type exactly `application/json` (a `charset=utf-8` parameter allowed), a declared
/// length within the limit, and an echoed request id (if any) equal to ours.
fn check_headers(headers: &HeaderMap, request_id: &str, max: usize) -> Result<(), ConnectorError> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ConnectorError::Malformed("missing content type".into()))?;
    if !is_json_content_type(ct) {
        return Err(ConnectorError::Malformed(
            "content type is not application/json".into(),
        ));
    }
    if let Some(len) = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()) {
        match len.parse::<u64>() {
            Ok(n) if n <= max as u64 => {}
            _ => {
                return Err(ConnectorError::Malformed(
                    "declared body larger than allowed".into(),
                ));
            }
        }
    }
    if let Some(echo) = headers.get(wire::REQUEST_ID_HEADER)
        && echo.as_bytes() != request_id.as_bytes()
    {
        return Err(ConnectorError::Malformed(
            "reply header echoes a different request id".into(),
        ));
    }
    Ok(())
}

pub(crate) fn is_json_content_type(value: &str) -> bool {
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|param| {
        let param = param.trim();
        match param.split_once('=') {
            Some((name, value)) => {
                name.trim().eq_ignore_ascii_case("charset")
                    && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            None => param.is_empty(),
        }
    })
}

/// Streams the body, stopping as soon as it grows past `max` bytes.
async fn read_bounded(
    response: &mut reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, ConnectorError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(ConnectorError::Malformed("body larger than allowed".into()));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(ConnectorError::Timeout),
            Err(_) => return Err(ConnectorError::Unavailable(UnavailableCause::Transport)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_type_allows_only_a_utf8_charset() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("Application/JSON; charset=UTF-8"));
        assert!(is_json_content_type("application/json;charset=\"utf-8\""));
        assert!(!is_json_content_type("application/json; charset=big5"));
        assert!(!is_json_content_type("text/json"));
        assert!(!is_json_content_type("application/jsonx"));
        assert!(!is_json_content_type("application/json; q=1"));
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        assert!(HttpConnector::new(HttpConnectorConfig::new("http://127.0.0.1:9")).is_ok());
        assert!(HttpConnector::new(HttpConnectorConfig::new("http://localhost:9/base/")).is_ok());
        assert!(matches!(
            HttpConnector::new(HttpConnectorConfig::new("http://bli.example:9")),
            Err(ConnectorConfigError::InsecureHttp)
        ));
        assert!(HttpConnector::new(HttpConnectorConfig::new("https://bli.example")).is_ok());
        assert!(matches!(
            HttpConnector::new(HttpConnectorConfig::new("ftp://bli.example")),
            Err(ConnectorConfigError::BadUrl)
        ));
    }

    #[test]
    fn debug_hides_the_client_key() {
        let mut c = HttpConnectorConfig::new("https://bli.example");
        c.client_cert_pem = Some((b"CERT".to_vec(), b"SECRET-KEY".to_vec()));
        let shown = format!("{c:?}");
        assert!(!shown.contains("SECRET-KEY"));
    }
}
