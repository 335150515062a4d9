//! Runs the BLI simulator with no latency and no faults until Ctrl-C, for benchmarks:
//! `cargo run --release -p querywarden-bli --example simsrv -- 127.0.0.1:18081`.

#![allow(
    clippy::expect_used,
    reason = "example binary: fail loudly on a bad address"
)]

use querywarden_bli::simulator::{SimulatorConfig, run};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("simulator on http://{}", listener.local_addr()?);
    run(SimulatorConfig::default(), listener).await?;
    Ok(())
}
