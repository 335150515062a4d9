//! `querywarden simulator --listen ADDR`: the BLI service simulator on its own.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use querywarden_bli::simulator::{self, SimulatorConfig};

#[derive(Debug, Args)]
pub struct SimulatorArgs {
    /// 位址 / address to listen on
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// 最短延遲（毫秒）/ minimum latency in ms
    #[arg(long, default_value_t = 0)]
    pub latency_min_ms: u64,
    /// 最長延遲（毫秒）/ maximum latency in ms (uniform between min and max)
    #[arg(long, default_value_t = 0)]
    pub latency_max_ms: u64,
    /// 回應 500 的比例 / share of requests answered with HTTP 500
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// 不回應（逾時）的比例 / share of requests that hang past any client timeout
    #[arg(long, default_value_t = 0.0)]
    pub timeout_rate: f64,
    /// 回應格式錯誤的比例 / share of requests answered with malformed JSON
    #[arg(long, default_value_t = 0.0)]
    pub malformed_rate: f64,
    /// 中斷連線的比例 / share of connections reset
    #[arg(long, default_value_t = 0.0)]
    pub reset_rate: f64,
    /// 故障注入的亂數種子 / seed of the fault injection
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl SimulatorArgs {
    fn config(&self) -> anyhow::Result<SimulatorConfig> {
        for (name, rate) in [
            ("--error-rate", self.error_rate),
            ("--timeout-rate", self.timeout_rate),
            ("--malformed-rate", self.malformed_rate),
            ("--reset-rate", self.reset_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                anyhow::bail!("{name}: 須介於 0 與 1 之間 / must be between 0 and 1");
            }
        }
        if self.latency_min_ms > self.latency_max_ms.max(self.latency_min_ms) {
            anyhow::bail!("--latency-min-ms must not exceed --latency-max-ms");
        }
        Ok(SimulatorConfig {
            latency_ms_min: self.latency_min_ms,
            latency_ms_max: self.latency_max_ms.max(self.latency_min_ms),
            error_rate: self.error_rate,
            timeout_rate: self.timeout_rate,
            malformed_rate: self.malformed_rate,
            reset_rate: self.reset_rate,
            seed: self.seed,
            ..SimulatorConfig::default()
        })
    }
}

pub async fn run(args: SimulatorArgs) -> anyhow::Result<ExitCode> {
    super::init_logging(false, "info");
    let config = args.config()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    println!(
        "勞保局資訊中介服務模擬器 BLI simulator: http://{}/ (usage log: /admin/usage-log?format=csv)",
        listener.local_addr()?
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    simulator::run(config, listener).await?;
    Ok(ExitCode::SUCCESS)
}
