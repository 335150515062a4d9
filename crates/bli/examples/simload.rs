//! Load generator for the simulator: N concurrent workers post queries for T seconds and the
//! run prints requests per second and latency percentiles.
//!
//! `cargo run --release -p querywarden-bli --example simload -- http://127.0.0.1:18081 64 10`
//! (base URL, concurrency, seconds). Loopback only: it refuses any other host.

use std::time::{Duration, Instant};

use querywarden_bli::{BliItem, wire};
use querywarden_domain::NationalId;

fn ids(count: u32) -> Vec<NationalId> {
    let mut out = Vec::new();
    let mut n = 0u32;
    while out.len() < count as usize {
        let body = format!(
            "{}{}{:07}",
            (b'A' + (n % 26) as u8) as char,
            1 + n % 2,
            n * 7919 % 10_000_000
        );
        if let Some(id) = (0..10).find_map(|c| NationalId::parse(&format!("{body}{c}")).ok()) {
            out.push(id);
        }
        n += 1;
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:18081".into());
    let concurrency: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(64);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let url = reqwest::Url::parse(&base)?;
    let loopback = url.host_str().is_some_and(|h| {
        h == "localhost"
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if !loopback {
        return Err("simload only targets loopback addresses".into());
    }
    let endpoint = url.join(wire::QUERY_PATH)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let people = ids(1000);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (client, endpoint, people) = (client.clone(), endpoint.clone(), people.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut i = w;
            while Instant::now() < deadline {
                let id = &people[i % people.len()];
                let item = BliItem::ALL[i % 9];
                i += concurrency;
                let body = serde_json::json!({
                    "request_id": format!("load-{w}-{i}"),
                    "item": item.code(),
                    "subject_id": id.expose_whole(),
                    "agency_code": "LOAD",
                    "operator_account": "load",
                });
                let t = Instant::now();
                let ok = match client.post(endpoint.clone()).json(&body).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await?;
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{} requests in {:.1} s = {:.0} req/s, {} errors; latency p50 {:?} p90 {:?} p99 {:?} max {:?} (concurrency {})",
        all.len(),
        elapsed,
        all.len() as f64 / elapsed,
        errors,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        all.last().copied().unwrap_or_default(),
        concurrency
    );
    Ok(())
}
