//! What operators watch through Prometheus (`GET /metrics`, OpenMetrics text): requests and
//! their latency per route, the audit trail's length, the age of the newest signed
//! checkpoint, the BLI connector's circuit state and the scheduled jobs' outcomes. The names
//! are listed in docs/deployment.md.
//!
//! Security-sensitive in two ways. No label value is ever taken from a request: a route is
//! its template (`/registrations/{no}`), never the concrete path, so no registration number
//! or national ID can reach the metrics; unknown methods and unmatched paths collapse into
//! one value each. And who may read them is decided here ([`may_scrape`]): an address of
//! `metrics.allow`, not relayed by a proxy, without a session. Scraping is not a person's
//! action on personal data, so a refusal is answered like any unknown path and is not
//! audited (a scanner must not be able to fill the trail).

use std::net::IpAddr;
use std::time::Duration;

use jiff::Timestamp;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use querywarden_bli::CircuitState;

use crate::{App, AppError};

/// Request latency buckets in seconds: from a page served from memory (5 ms) to a BLI query
/// near its timeout (30 s).
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The route label of a request that matched no route (its path is never a label).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The methods that get a label value of their own; any other is `OTHER`.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobOutcomeLabels {
    job: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The metrics one instance keeps in memory; the database-backed ones (audit trail,
/// checkpoint) are read at each scrape, so every instance on one database reports the same.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    job_runs: Family<JobOutcomeLabels, Counter>,
    job_changes: Family<JobLabels, Counter>,
    job_last_success: Family<JobLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "querywarden_http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "querywarden_http_request_duration",
            "Time to answer an HTTP request, by method and route template",
            Unit::Seconds,
            latency.clone(),
        );
        let job_runs = Family::<JobOutcomeLabels, Counter>::default();
        registry.register(
            "querywarden_job_runs",
            "Scheduled job runs, by job and outcome (succeeded or failed)",
            job_runs.clone(),
        );
        let job_changes = Family::<JobLabels, Counter>::default();
        registry.register(
            "querywarden_job_changes",
            "Things scheduled jobs changed (grants ended, results destroyed, reminders sent…)",
            job_changes.clone(),
        );
        let job_last_success = Family::<JobLabels, Gauge>::default();
        registry.register_with_unit(
            "querywarden_job_last_success_timestamp",
            "When each scheduled job last succeeded (Unix time)",
            Unit::Seconds,
            job_last_success.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            job_runs,
            job_changes,
            job_last_success,
        }
    }

    /// Counts one answered request. `route` is the matched route's template, `None` when no
    /// route matched; the concrete path is never passed here.
    pub fn observe_request(
        &self,
        method: &str,
        route: Option<&str>,
        status: u16,
        elapsed: Duration,
    ) {
        let method = METHODS
            .into_iter()
            .find(|m| *m == method)
            .unwrap_or("OTHER");
        let route = route.unwrap_or(UNMATCHED_ROUTE).to_string();
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one run of a scheduled job: how many things it changed, or that it failed.
    pub fn observe_job(&self, job: &'static str, outcome: &Result<usize, String>, at: Timestamp) {
        let label = match outcome {
            Ok(_) => "succeeded",
            Err(_) => "failed",
        };
        self.job_runs
            .get_or_create(&JobOutcomeLabels {
                job,
                outcome: label,
            })
            .inc();
        if let Ok(changed) = outcome {
            self.job_changes
                .get_or_create(&JobLabels { job })
                .inc_by(*changed as u64);
            self.job_last_success
                .get_or_create(&JobLabels { job })
                .set(at.as_second());
        }
    }

    /// The exposition: the in-memory metrics, then `state`, then the `# EOF` terminator.
    fn encode(&self, state: StateSnapshot) -> Result<String, std::fmt::Error> {
        let mut scrape = Registry::default();
        scrape.register_collector(Box::new(state));
        let mut text = String::new();
        prometheus_client::encoding::text::encode_registry(&mut text, &self.registry)?;
        prometheus_client::encoding::text::encode_registry(&mut text, &scrape)?;
        prometheus_client::encoding::text::encode_eof(&mut text)?;
        Ok(text)
    }
}

/// What is read from the database and the connector at each scrape.
#[derive(Debug, Clone)]
struct StateSnapshot {
    audit_records: u64,
    checkpoint_age_seconds: Option<f64>,
    circuit: Option<CircuitState>,
}

impl Collector for StateSnapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let records = ConstCounter::new(self.audit_records);
        records.encode(encoder.encode_descriptor(
            "querywarden_audit_records",
            "Records in the audit trail: every append by any instance on this database",
            None,
            MetricType::Counter,
        )?)?;
        if let Some(age) = self.checkpoint_age_seconds {
            ConstGauge::new(age).encode(encoder.encode_descriptor(
                "querywarden_audit_checkpoint_age",
                "Age of the newest signed audit checkpoint",
                Some(&Unit::Seconds),
                MetricType::Gauge,
            )?)?;
        }
        if let Some(current) = self.circuit {
            let mut family = encoder.encode_descriptor(
                "querywarden_bli_circuit_state",
                "The BLI connector's circuit breaker: 1 for the state it is in",
                None,
                MetricType::Gauge,
            )?;
            for state in CircuitState::ALL {
                let labels = [("state", state.as_str())];
                ConstGauge::new(i64::from(state == current))
                    .encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// How a request for `/metrics` arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrapeRequest {
    /// The TCP peer's address.
    pub peer: IpAddr,
    /// It carries `Forwarded` or `X-Forwarded-For`: a proxy relayed it, so the peer address
    /// is the proxy's, not the client's.
    pub relayed: bool,
    /// It carries a session cookie: a person's browser, not a scraper.
    pub with_session: bool,
}

/// Why a scrape was not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScrapeRefused {
    #[error("metrics are off (metrics.allow is empty)")]
    Disabled,
    #[error("the address is not in metrics.allow")]
    AddressNotAllowed,
    #[error("the request was relayed by a proxy")]
    Relayed,
    #[error("the request carries a session")]
    WithSession,
}

impl ScrapeRefused {
    pub fn code(self) -> &'static str {
        match self {
            Self::Disabled => "metrics.disabled",
            Self::AddressNotAllowed => "metrics.address_not_allowed",
            Self::Relayed => "metrics.relayed",
            Self::WithSession => "metrics.with_session",
        }
    }
}

/// Whether `request` may read the metrics, given `metrics.allow`.
pub fn may_scrape(allow: &[IpAddr], request: &ScrapeRequest) -> Result<(), ScrapeRefused> {
    if allow.is_empty() {
        return Err(ScrapeRefused::Disabled);
    }
    if request.relayed {
        return Err(ScrapeRefused::Relayed);
    }
    if request.with_session {
        return Err(ScrapeRefused::WithSession);
    }
    if !allow.contains(&request.peer.to_canonical()) {
        return Err(ScrapeRefused::AddressNotAllowed);
    }
    Ok(())
}

/// A scrape that was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error(transparent)]
    Refused(#[from] ScrapeRefused),
    #[error(transparent)]
    Failed(#[from] AppError),
    #[error("cannot encode the metrics")]
    Encode(#[source] std::fmt::Error),
}

/// The OpenMetrics text for `request`, if it may read it.
pub async fn scrape(
    app: &App,
    request: ScrapeRequest,
    now: Timestamp,
) -> Result<String, ScrapeError> {
    may_scrape(&app.config().metrics_allow, &request)?;
    let store = app.store();
    let (audit_records, _) = store.audit_extent().await.map_err(AppError::from)?;
    let checkpoint_age_seconds = store
        .latest_checkpoint()
        .await
        .map_err(AppError::from)?
        .and_then(|c| c.created_at.parse::<Timestamp>().ok())
        .map(|at| now.duration_since(at).as_secs_f64().max(0.0));
    let state = StateSnapshot {
        audit_records,
        checkpoint_age_seconds,
        circuit: app.connector().map(|c| c.circuit_state()),
    };
    app.metrics().encode(state).map_err(ScrapeError::Encode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> Vec<IpAddr> {
        vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]
    }

    fn request(peer: &str) -> ScrapeRequest {
        ScrapeRequest {
            peer: peer.parse().unwrap(),
            relayed: false,
            with_session: false,
        }
    }

    #[test]
    fn only_allowed_direct_sessionless_requests_may_scrape() {
        let allow = loopback();
        let cases: [(ScrapeRequest, &[IpAddr], Result<(), ScrapeRefused>); 7] = [
            (request("127.0.0.1"), &allow, Ok(())),
            (request("::1"), &allow, Ok(())),
            // A listener on [::] sees IPv4 peers IPv6-mapped.
            (request("::ffff:127.0.0.1"), &allow, Ok(())),
            (
                request("10.0.0.5"),
                &allow,
                Err(ScrapeRefused::AddressNotAllowed),
            ),
            (
                ScrapeRequest {
                    relayed: true,
                    ..request("127.0.0.1")
                },
                &allow,
                Err(ScrapeRefused::Relayed),
            ),
            (
                ScrapeRequest {
                    with_session: true,
                    ..request("127.0.0.1")
                },
                &allow,
                Err(ScrapeRefused::WithSession),
            ),
            (request("127.0.0.1"), &[], Err(ScrapeRefused::Disabled)),
        ];
        for (req, allow, expected) in cases {
            assert_eq!(may_scrape(allow, &req), expected, "{req:?}");
        }
    }

    fn exposition(metrics: &Metrics) -> String {
        metrics
            .encode(StateSnapshot {
                audit_records: 41,
                checkpoint_age_seconds: Some(12.5),
                circuit: Some(CircuitState::Open),
            })
            .unwrap()
    }

    #[test]
    fn requests_are_counted_by_route_template_and_never_by_path() {
        let m = Metrics::new();
        m.observe_request(
            "GET",
            Some("/registrations/{no}"),
            200,
            Duration::from_millis(3),
        );
        m.observe_request(
            "GET",
            Some("/registrations/{no}"),
            200,
            Duration::from_millis(70),
        );
        m.observe_request("BREW", None, 404, Duration::from_millis(1));
        let text = exposition(&m);
        assert!(
            text.contains(
                "querywarden_http_requests_total{method=\"GET\",route=\"/registrations/{no}\",status=\"200\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "querywarden_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"404\"} 1\n"
            ),
            "{text}"
        );
        // 3 ms falls in the first bucket, 70 ms from the 0.1 s bucket on.
        assert!(
            text.contains("querywarden_http_request_duration_seconds_bucket{le=\"0.005\",method=\"GET\",route=\"/registrations/{no}\"} 1\n")
                || text.contains("querywarden_http_request_duration_seconds_bucket{method=\"GET\",route=\"/registrations/{no}\",le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("querywarden_http_request_duration_seconds_count{method=\"GET\",route=\"/registrations/{no}\"} 2\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn the_state_read_at_scrape_time_is_exposed_with_its_units() {
        let text = exposition(&Metrics::new());
        assert!(
            text.contains("# TYPE querywarden_audit_records counter\n"),
            "{text}"
        );
        assert!(
            text.contains("querywarden_audit_records_total 41\n"),
            "{text}"
        );
        assert!(
            text.contains("querywarden_audit_checkpoint_age_seconds 12.5\n"),
            "{text}"
        );
        assert!(
            text.contains("querywarden_bli_circuit_state{state=\"open\"} 1\n")
                && text.contains("querywarden_bli_circuit_state{state=\"closed\"} 0\n")
                && text.contains("querywarden_bli_circuit_state{state=\"half_open\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn job_runs_count_outcomes_and_changes() {
        let m = Metrics::new();
        let at = Timestamp::from_second(1_764_000_000).unwrap();
        m.observe_job("staff_changes", &Ok(3), at);
        m.observe_job("staff_changes", &Ok(2), at);
        m.observe_job("crl_refresh", &Err("unreachable".into()), at);
        let text = exposition(&m);
        for line in [
            "querywarden_job_runs_total{job=\"staff_changes\",outcome=\"succeeded\"} 2\n",
            "querywarden_job_runs_total{job=\"crl_refresh\",outcome=\"failed\"} 1\n",
            "querywarden_job_changes_total{job=\"staff_changes\"} 5\n",
            "querywarden_job_last_success_timestamp_seconds{job=\"staff_changes\"} 1764000000\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        // A job that only failed has no last success.
        assert!(
            !text.contains("querywarden_job_last_success_timestamp_seconds{job=\"crl_refresh\"}"),
            "{text}"
        );
    }
}
