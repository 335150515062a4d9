//! `querywarden simulator --listen ADDR`: the BLI service simulator on its own.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct SimulatorArgs {
    /// 位址 / address to listen on
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
}

/// Starts the simulator with default settings on `listener` in the background; returns its
/// address.
pub async fn spawn_default(listener: tokio::net::TcpListener) -> anyhow::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    // Filled in when the BLI crate's simulator lands.
    drop(listener);
    Ok(addr)
}

pub async fn run(args: SimulatorArgs) -> anyhow::Result<ExitCode> {
    super::init_logging(false, "info");
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    spawn_default(listener).await?;
    Ok(ExitCode::SUCCESS)
}
