//! Injected faults each give the right typed error in time; breaker and retries.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use querywarden_bli::simulator::{SimulatorConfig, SimulatorHandle};
use querywarden_bli::{
    BliItem, BliRecords, Connector, ConnectorError, HttpConnector, HttpConnectorConfig,
    UnavailableCause,
};

use crate::helpers::{FakeReply, config, connector, fake, ids, request, simulator};

fn insured() -> querywarden_domain::NationalId {
    ids(200)
        .into_iter()
        .find(|id| {
            querywarden_bli::simulator::expected_records(
                id,
                BliItem::C0101,
                crate::helpers::as_of(),
            )
            .is_ok()
        })
        .unwrap()
}

/// An insured person's C0101 asked of `sim` through the default connector.
async fn ask_c0101(sim: &SimulatorHandle) -> Result<BliRecords, ConnectorError> {
    connector(&sim.base_url())
        .query(&request(BliItem::C0101, &insured()))
        .await
}

/// An insured person's T0101 asked through a connector configured as `c`.
async fn ask_t0101(c: HttpConnectorConfig) -> Result<BliRecords, ConnectorError> {
    HttpConnector::new(c)
        .unwrap()
        .query(&request(BliItem::T0101, &insured()))
        .await
}

const GOOD: &str = r#"{"item":"T0101","status":"ok","records":[{"month":"2026-01","kind":"farmer_allowance","amount":8110,"status":"paid"}]}"#;

#[tokio::test]
async fn a_simulated_500_is_a_refusal_with_the_upstream_code() {
    let sim = simulator(SimulatorConfig {
        error_rate: 1.0,
        ..Default::default()
    })
    .await;
    let r = ask_c0101(&sim).await;
    assert_eq!(
        r,
        Err(ConnectorError::Refused {
            status: 500,
            code: "internal_error".into()
        })
    );
}

#[tokio::test]
async fn a_hanging_service_times_out_within_the_read_timeout() {
    let sim = simulator(SimulatorConfig {
        timeout_rate: 1.0,
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let r = ask_c0101(&sim).await;
    assert_eq!(r, Err(ConnectorError::Timeout));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn simulated_bad_json_is_malformed() {
    let sim = simulator(SimulatorConfig {
        malformed_rate: 1.0,
        ..Default::default()
    })
    .await;
    let r = ask_c0101(&sim).await;
    assert!(matches!(r, Err(ConnectorError::Malformed(_))), "{r:?}");
}

#[tokio::test]
async fn a_reset_connection_is_unavailable_not_retried() {
    let sim = simulator(SimulatorConfig {
        reset_rate: 1.0,
        ..Default::default()
    })
    .await;
    let mut c = config(&sim.base_url());
    c.max_retries = 3;
    let r = HttpConnector::new(c)
        .unwrap()
        .query(&request(BliItem::C0101, &insured()))
        .await;
    assert_eq!(
        r,
        Err(ConnectorError::Unavailable(UnavailableCause::Transport))
    );
    assert_eq!(sim.usage_log().len(), 1, "a broken exchange is not re-sent");
}

#[tokio::test]
async fn simulated_latency_is_applied() {
    let sim = simulator(SimulatorConfig {
        latency_ms_min: 150,
        latency_ms_max: 200,
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let _ = ask_c0101(&sim).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn a_body_trickling_past_the_read_timeout_times_out() {
    let f = fake(|_| FakeReply::Trickle {
        body: GOOD.as_bytes().to_vec(),
        interval: Duration::from_millis(50),
    })
    .await;
    let started = Instant::now();
    let r = connector(&f.base_url)
        .query(&request(BliItem::T0101, &insured()))
        .await;
    assert_eq!(r, Err(ConnectorError::Timeout));
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_wrong_content_type_is_malformed() {
    for ct in [
        Some("text/html"),
        Some("application/json; charset=big5"),
        None,
    ] {
        let f = fake(move |_| FakeReply::Full {
            status: 200,
            content_type: ct,
            body: GOOD.as_bytes().to_vec(),
        })
        .await;
        let r = connector(&f.base_url)
            .query(&request(BliItem::T0101, &insured()))
            .await;
        assert!(
            matches!(r, Err(ConnectorError::Malformed(_))),
            "{ct:?}: {r:?}"
        );
    }
    let f = fake(|_| FakeReply::Full {
        status: 200,
        content_type: Some("application/json; charset=utf-8"),
        body: GOOD.as_bytes().to_vec(),
    })
    .await;
    assert!(
        connector(&f.base_url)
            .query(&request(BliItem::T0101, &insured()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_oversized_body_is_malformed_whether_announced_or_streamed() {
    let big = format!(
        "{{\"item\":\"T0101\",\"status\":\"ok\",\"records\":[],\"pad\":\"{}\"}}",
        "x".repeat(300_000)
    );
    let f = fake(move |_| FakeReply::json(200, &big)).await;
    let mut c = config(&f.base_url);
    c.max_body_bytes = 100_000;
    let r = ask_t0101(c).await;
    assert_eq!(
        r,
        Err(ConnectorError::Malformed(
            "declared body larger than allowed".into()
        ))
    );

    let f = fake(|_| FakeReply::Chunked {
        total: 10 * 1024 * 1024,
    })
    .await;
    let mut c = config(&f.base_url);
    c.max_body_bytes = 100_000;
    let r = ask_t0101(c).await;
    assert_eq!(
        r,
        Err(ConnectorError::Malformed("body larger than allowed".into()))
    );
}

#[tokio::test]
async fn unknown_fields_a_wrong_item_and_bad_ranges_are_malformed() {
    let bodies = [
        r#"{"item":"T0101","status":"ok","records":[],"surprise":true}"#,
        r#"{"item":"T0101","status":"ok","records":[{"month":"2026-01","kind":"farmer_allowance","amount":8110,"status":"paid","note":"x"}]}"#,
        r#"{"item":"C0101","status":"ok","records":[]}"#,
        r#"{"item":"T0101","status":"ok","records":[{"month":"2026-13","kind":"farmer_allowance","amount":8110,"status":"paid"}]}"#,
        r#"{"item":"T0101","status":"ok","records":[{"month":"2026-01","kind":"farmer_allowance","amount":100000001,"status":"paid"}]}"#,
        r#"{"item":"T0101","status":"maybe"}"#,
        r#"{"item":"T0101","status":"ok","request_id":"someone-else","records":[]}"#,
    ];
    for body in bodies {
        let f = fake(move |_| FakeReply::json(200, body)).await;
        let r = connector(&f.base_url)
            .query(&request(BliItem::T0101, &insured()))
            .await;
        assert!(
            matches!(r, Err(ConnectorError::Malformed(_))),
            "{body}: {r:?}"
        );
    }
}

#[tokio::test]
async fn the_request_id_travels_in_a_header_and_the_id_only_in_the_body() {
    let f = fake(|_| FakeReply::json(200, GOOD)).await;
    let id = insured();
    let req = request(BliItem::T0101, &id);
    connector(&f.base_url).query(&req).await.unwrap();
    let raw = f.requests.lock().unwrap()[0].clone();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST /api/v1/query HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("x-request-id: {}", req.request_id)),
        "{head}"
    );
    assert!(
        !head.contains(id.expose_whole()),
        "the whole ID must not be in the request line or headers"
    );
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["subject_id"], id.expose_whole());
    assert_eq!(json["item"], "T0101");
    assert_eq!(json["request_id"], req.request_id.as_str());
}

#[tokio::test]
async fn retries_are_bounded_and_only_for_503_and_connect_failures() {
    let f = fake(|_| FakeReply::json(503, r#"{"error":{"code":"busy"}}"#)).await;
    let mut c = config(&f.base_url);
    c.max_retries = 2;
    let r = ask_t0101(c).await;
    assert_eq!(
        r,
        Err(ConnectorError::Unavailable(
            UnavailableCause::ServiceUnavailable
        ))
    );
    assert_eq!(f.seen.load(Ordering::SeqCst), 3, "one try plus two retries");

    let f = fake(|n| {
        if n == 0 {
            FakeReply::json(503, "{}")
        } else {
            FakeReply::json(200, GOOD)
        }
    })
    .await;
    let mut c = config(&f.base_url);
    c.max_retries = 2;
    assert!(ask_t0101(c).await.is_ok());
    assert_eq!(f.seen.load(Ordering::SeqCst), 2);

    let f = fake(|_| FakeReply::json(500, r#"{"error":{"code":"boom"}}"#)).await;
    let mut c = config(&f.base_url);
    c.max_retries = 2;
    let r = ask_t0101(c).await;
    assert_eq!(
        r,
        Err(ConnectorError::Refused {
            status: 500,
            code: "boom".into()
        })
    );
    assert_eq!(f.seen.load(Ordering::SeqCst), 1, "a 500 is not retried");

    let f = fake(|_| FakeReply::Close).await;
    let mut c = config(&f.base_url);
    c.max_retries = 2;
    let r = ask_t0101(c).await;
    assert_eq!(
        r,
        Err(ConnectorError::Unavailable(UnavailableCause::Transport))
    );
    assert_eq!(
        f.seen.load(Ordering::SeqCst),
        1,
        "a request that may have arrived is not re-sent"
    );
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_after_bounded_retries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut c = config(&format!("http://{addr}"));
    c.max_retries = 2;
    let started = Instant::now();
    let r = ask_t0101(c).await;
    assert_eq!(
        r,
        Err(ConnectorError::Unavailable(UnavailableCause::Connect))
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn the_breaker_opens_after_n_failures_fails_fast_and_recovers() {
    let healthy = Arc::new(AtomicBool::new(false));
    let h = healthy.clone();
    let f = fake(move |_| {
        if h.load(Ordering::SeqCst) {
            FakeReply::json(200, GOOD)
        } else {
            FakeReply::json(500, "{}")
        }
    })
    .await;
    let mut c = config(&f.base_url);
    c.breaker_threshold = 3;
    c.breaker_cooldown = Duration::from_millis(300);
    let bli = HttpConnector::new(c).unwrap();
    let id = insured();
    for _ in 0..3 {
        let r = bli.query(&request(BliItem::T0101, &id)).await;
        assert_eq!(
            r,
            Err(ConnectorError::Refused {
                status: 500,
                code: "http_500".into()
            })
        );
    }
    assert!(bli.circuit_open());
    let started = Instant::now();
    let r = bli.query(&request(BliItem::T0101, &id)).await;
    assert_eq!(
        r,
        Err(ConnectorError::Unavailable(UnavailableCause::CircuitOpen))
    );
    assert!(started.elapsed() < Duration::from_millis(50), "fails fast");
    assert_eq!(f.seen.load(Ordering::SeqCst), 3, "nothing sent while open");

    tokio::time::sleep(Duration::from_millis(350)).await;
    // Half-open: a failing trial reopens at once.
    let r = bli.query(&request(BliItem::T0101, &id)).await;
    assert!(matches!(r, Err(ConnectorError::Refused { .. })));
    assert!(bli.circuit_open());
    assert_eq!(f.seen.load(Ordering::SeqCst), 4);

    healthy.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(
        bli.query(&request(BliItem::T0101, &id)).await.is_ok(),
        "trial succeeds"
    );
    assert!(!bli.circuit_open());
    assert!(bli.query(&request(BliItem::T0101, &id)).await.is_ok());
}

#[tokio::test]
async fn not_found_answers_do_not_trip_the_breaker() {
    let f = fake(|_| FakeReply::json(200, r#"{"item":"T0101","status":"not_found"}"#)).await;
    let mut c = config(&f.base_url);
    c.breaker_threshold = 1;
    let bli = HttpConnector::new(c).unwrap();
    for _ in 0..3 {
        assert_eq!(
            bli.query(&request(BliItem::T0101, &insured())).await,
            Err(ConnectorError::NotFound)
        );
    }
    assert!(!bli.circuit_open());
}

#[test]
fn mutual_tls_material_is_accepted_and_garbage_is_refused() {
    // The configuration path with openssl-made PEMs; real handshakes are in mutual_tls.rs.
    let dir = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=querywarden-test",
        ])
        .arg("-keyout")
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(dir.path().join("cert.pem"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not available; skipping the PEM acceptance half");
    } else {
        let cert = std::fs::read(dir.path().join("cert.pem")).unwrap();
        let key = std::fs::read(dir.path().join("key.pem")).unwrap();
        let mut c = querywarden_bli::HttpConnectorConfig::new("https://bli.example");
        c.client_cert_pem = Some((cert.clone(), key));
        c.ca_bundle_pem = Some(cert);
        HttpConnector::new(c).unwrap();
    }
    let mut c = querywarden_bli::HttpConnectorConfig::new("https://bli.example");
    c.client_cert_pem = Some((b"not a cert".to_vec(), b"not a key".to_vec()));
    assert!(matches!(
        HttpConnector::new(c),
        Err(querywarden_bli::ConnectorConfigError::ClientIdentity(_))
    ));
    let mut c = querywarden_bli::HttpConnectorConfig::new("https://bli.example");
    c.ca_bundle_pem = Some(b"nothing".to_vec());
    assert!(matches!(
        HttpConnector::new(c),
        Err(querywarden_bli::ConnectorConfigError::CaBundle(_))
    ));
}
