//! `GET /metrics` on a running demo: the OpenMetrics exposition parsed line by line (HELP,
//! TYPE, UNIT, names, label syntax, monotonic histogram buckets, the `# EOF` terminator),
//! counters that moved by exactly what the test did, route templates instead of paths (no
//! national ID or registration number in any label), and the doors: a relayed request or
//! one with a session gets the ordinary "not found".

use std::collections::{BTreeMap, BTreeSet};

use querywarden_testkit::browser::login;
use querywarden_testkit::{Demo, rt, trail};

/// One sample line: metric name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A series' labels other than `le`, in order.
type SeriesKey = Vec<(String, String)>;

/// The exposition, checked as it is parsed.
#[derive(Debug)]
struct Exposition {
    /// Family name → type.
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses `{k="v",…}` (escapes `\\`, `\"`, `\n`), returning the labels and the rest.
fn parse_labels(s: &str) -> (BTreeMap<String, String>, &str) {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = s.strip_prefix('{') else {
        return (labels, s);
    };
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        }
        let (key, after) = rest.split_once("=\"").expect("a label is key=\"value\"");
        assert!(is_name(key) && !key.starts_with("__"), "label name {key:?}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("a label value ends with a quote");
            match c {
                '\\' => match chars.next().expect("an escape").1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    other => panic!("bad escape \\{other}"),
                },
                '"' => break i + 1,
                c => value.push(c),
            }
        };
        assert!(
            labels.insert(key.to_string(), value).is_none(),
            "label {key} twice"
        );
        rest = &after[end..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

fn parse(text: &str) -> Exposition {
    assert!(text.ends_with("# EOF\n"), "ends with # EOF: {text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| **l == "# EOF").count(),
        1,
        "one terminator"
    );
    let mut types = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut samples = Vec::new();
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, what) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap_or(""),
            );
            assert!(is_name(name), "{line}");
            match kind {
                "TYPE" => {
                    assert!(
                        [
                            "counter",
                            "gauge",
                            "histogram",
                            "info",
                            "stateset",
                            "unknown"
                        ]
                        .contains(&what),
                        "{line}"
                    );
                    assert!(
                        types.insert(name.to_string(), what.to_string()).is_none(),
                        "{name} typed twice"
                    );
                }
                "HELP" => {
                    assert!(!what.is_empty(), "{line}");
                    helped.insert(name.to_string());
                }
                "UNIT" => assert!(name.ends_with(&format!("_{what}")), "{line}"),
                _ => panic!("unknown descriptor: {line}"),
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).expect("a sample has a value");
        let name = &line[..name_end];
        assert!(is_name(name), "{line}");
        let (labels, rest) = parse_labels(&line[name_end..]);
        let value = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("{line}"))
            .split(' ')
            .next()
            .unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value of {line}")),
        };
        // Every sample belongs to a family declared before it, with its type's suffixes.
        let family = types
            .iter()
            .filter(|(f, t)| {
                let suffixes: &[&str] = match t.as_str() {
                    "counter" => &["_total", "_created"],
                    "histogram" => &["_bucket", "_count", "_sum", "_created"],
                    "info" => &["_info"],
                    _ => &[""],
                };
                suffixes.iter().any(|s| name == format!("{f}{s}"))
            })
            .map(|(f, _)| f.clone())
            .next()
            .unwrap_or_else(|| panic!("{name} has no # TYPE before it"));
        assert!(helped.contains(&family), "{family} has no # HELP");
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    let exposition = Exposition { types, samples };
    exposition.check_histograms();
    exposition
}

impl Exposition {
    /// Sum of the samples named `name` whose labels include `with`.
    fn sum(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                with.iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
            })
            .map(|s| s.value)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.name == name)
    }

    /// Per series: buckets non-decreasing in `le` order, the `+Inf` bucket equal to `_count`.
    fn check_histograms(&self) {
        for (family, _) in self.types.iter().filter(|(_, t)| *t == "histogram") {
            let mut series: BTreeMap<SeriesKey, Vec<(f64, f64)>> = BTreeMap::new();
            for s in self
                .samples
                .iter()
                .filter(|s| s.name == format!("{family}_bucket"))
            {
                let le = s.labels.get("le").expect("a bucket has le");
                let le: f64 = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                let key = s
                    .labels
                    .iter()
                    .filter(|(k, _)| *k != "le")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                series.entry(key).or_default().push((le, s.value));
            }
            for (key, buckets) in series {
                assert!(
                    buckets
                        .windows(2)
                        .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                    "{family} {key:?}: {buckets:?}"
                );
                let (last_le, last) = *buckets.last().unwrap();
                assert_eq!(last_le, f64::INFINITY, "{family} {key:?} ends with +Inf");
                let with: Vec<(&str, &str)> =
                    key.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                assert_eq!(self.sum(&format!("{family}_count"), &with), last);
            }
        }
    }
}

fn audit_records(demo: &Demo) -> i64 {
    trail::count(&demo.database(), "SELECT count(*) FROM audit_records")
}

fn checkpoints(demo: &Demo) -> i64 {
    trail::count(&demo.database(), "SELECT count(*) FROM audit_checkpoints")
}

const REQUESTS: &str = "querywarden_http_requests_total";
const NATIONAL_ID: &str = "A123456789";
const REGISTRATION_NO: &str = "115-424242";

#[test]
fn metrics_count_requests_by_route_template_and_expose_a_valid_openmetrics_text() {
    let demo = Demo::start();
    let url = demo.url.clone();
    let rt = rt();
    let c = reqwest::Client::new();
    let scrape = |c: &reqwest::Client| {
        let c = c.clone();
        let url = url.clone();
        rt.block_on(async move {
            let r = c.get(format!("{url}/metrics")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(
                r.headers()["content-type"],
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            );
            r.text().await.unwrap()
        })
    };

    let first_text = scrape(&c);
    let first = parse(&first_text);
    the_start_is_counted(&first, &demo);

    let records_before = audit_records(&demo);
    rt.block_on(a_few_requests_and_a_sign_in(&c, &url));
    let records_after = audit_records(&demo);
    assert!(records_after > records_before);

    let second_text = scrape(&c);
    let second = parse(&second_text);
    let moved = |route: &str, method: &str| {
        second.sum(REQUESTS, &[("route", route), ("method", method)])
            - first.sum(REQUESTS, &[("route", route), ("method", method)])
    };
    assert_eq!(moved("/healthz", "GET"), 3.0);
    assert_eq!(moved("/api/v1/registrations/{no}", "GET"), 2.0);
    assert_eq!(moved("/api/v1/national-ids/check", "POST"), 1.0);
    assert_eq!(moved("unmatched", "GET"), 1.0);
    // The first scrape is counted once it was answered.
    assert_eq!(
        second.sum(REQUESTS, &[("route", "/metrics"), ("status", "200")]),
        1.0
    );
    assert_eq!(
        second.sum(
            "querywarden_http_request_duration_seconds_count",
            &[("route", "/healthz")]
        ),
        second.sum(REQUESTS, &[("route", "/healthz")])
    );
    // Audit appends: the counter moved by exactly the records the sign-in added.
    assert_eq!(
        second.sum("querywarden_audit_records_total", &[]),
        records_after as f64
    );
    assert_eq!(
        second.sum("querywarden_audit_records_total", &[])
            - first.sum("querywarden_audit_records_total", &[]),
        (records_after - records_before) as f64
    );
    // The newest checkpoint's age is there exactly when a checkpoint is.
    let has_checkpoint = checkpoints(&demo) > 0;
    assert_eq!(
        second.has("querywarden_audit_checkpoint_age_seconds"),
        has_checkpoint
    );
    if has_checkpoint {
        assert!(second.sum("querywarden_audit_checkpoint_age_seconds", &[]) >= 0.0);
    }

    no_label_carries_what_the_requests_carried(&second, &second_text);
}

/// The first scrape: the audit records so far; the scheduled jobs ran once before serving,
/// each counted once whatever the outcome; the demo's connector is connected to its
/// simulator, so the circuit is closed.
fn the_start_is_counted(first: &Exposition, demo: &Demo) {
    assert_eq!(
        first.sum("querywarden_audit_records_total", &[]),
        audit_records(demo) as f64
    );
    // The scheduled jobs ran once before serving; each counted once, whatever the outcome.
    for job in ["staff_changes", "result_destruction", "quarterly_review"] {
        assert_eq!(
            first.sum("querywarden_job_runs_total", &[("job", job)]),
            1.0,
            "{job}"
        );
    }
    // The demo's connector is connected to its simulator: the circuit is closed.
    assert_eq!(
        first.sum("querywarden_bli_circuit_state", &[("state", "closed")]),
        1.0
    );
    assert_eq!(
        first.sum("querywarden_bli_circuit_state", &[("state", "open")]),
        0.0
    );
}

/// Three health checks, two refused reads of a registration (the route matched), a national
/// ID check, an unmatched path carrying an ID, and a sign-in (audited: the trail grows).
async fn a_few_requests_and_a_sign_in(c: &reqwest::Client, url: &str) {
    for _ in 0..3 {
        let r = c.get(format!("{url}/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    for _ in 0..2 {
        // Nobody signed in: refused, but the route matched.
        let r = c
            .get(format!("{url}/api/v1/registrations/{REGISTRATION_NO}"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let r = c
        .post(format!("{url}/api/v1/national-ids/check"))
        .json(&serde_json::json!({ "id": NATIONAL_ID }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("{url}/lookup/{NATIONAL_ID}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Signing in is audited: the trail grows.
    let r = login(url, "lin.meiling", "demo-password-115", "").await;
    assert_eq!(r.status(), 303);
}

/// No label carries anything the requests carried: route labels are templates.
fn no_label_carries_what_the_requests_carried(second: &Exposition, second_text: &str) {
    for s in &second.samples {
        for (k, v) in &s.labels {
            assert!(
                !v.contains(NATIONAL_ID) && !v.contains(REGISTRATION_NO) && !v.contains("lookup"),
                "{k}={v} in {}",
                s.name
            );
        }
        if let Some(route) = s.labels.get("route") {
            assert!(route == "unmatched" || route.starts_with('/'), "{route}");
        }
    }
    assert!(!second_text.contains(NATIONAL_ID) && !second_text.contains(REGISTRATION_NO));
}

#[test]
fn metrics_are_not_found_for_relayed_requests_or_signed_in_browsers() {
    let demo = Demo::start();
    let url = demo.url.clone();
    rt().block_on(async {
        let c = reqwest::Client::new();
        // Through a proxy on this machine, the peer address is loopback: still refused.
        for (header, value) in [
            ("x-forwarded-for", "203.0.113.7"),
            ("forwarded", "for=203.0.113.7"),
            ("cookie", "qw_session=anything"),
        ] {
            let r = c
                .get(format!("{url}/metrics"))
                .header(header, value)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{header}");
            let body = r.text().await.unwrap();
            assert!(!body.contains("querywarden_http_requests"), "{header}");
        }
        // The same 404 as a path that does not exist.
        let unknown = c.get(format!("{url}/no-such-page")).send().await.unwrap();
        assert_eq!(unknown.status(), 404);
    });
}
