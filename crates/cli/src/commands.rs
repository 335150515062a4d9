//! The subcommands, one per file, and what they share: the runtime, logging, and finding
//! the configuration.

pub mod audit;
pub mod backup;
pub mod calendar;
pub mod citizen;
pub mod config;
pub mod copy;
pub mod crl;
pub mod demo;
pub mod forms;
pub mod id;
pub mod init;
pub mod keys;
pub mod migrate;
pub mod restore;
pub mod serve;
pub mod simulator;
pub mod staff;
pub mod units;
pub mod usage_log;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use querywarden_app::Config;

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Logs go to stderr; they never carry personal data (see the web layer's request log).
pub fn init_logging(json: bool, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUERYWARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},sqlx=warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests running several commands in one process) is harmless.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Where an offline command finds the database and keys: a configuration file, or a data
/// directory with default settings.
#[derive(Debug, Args)]
pub struct Location {
    /// 設定檔 / configuration file
    #[arg(long, conflicts_with = "data")]
    pub config: Option<PathBuf>,
    /// 資料目錄 / data directory (default ./querywarden-data)
    #[arg(long)]
    pub data: Option<PathBuf>,
}

impl Location {
    pub fn load(&self) -> anyhow::Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(dir) = &self.data {
            config.data_dir = dir.clone();
            config.key_dir = dir.join("keys");
        }
        Ok(config)
    }

    /// Opens an existing installation; refuses to create one where none is.
    pub async fn open(&self) -> anyhow::Result<querywarden_app::App> {
        let config = self.load()?;
        // A PostgreSQL database is not a file: opening it says whether it is there.
        if let Some(file) = config.database_file()
            && !file.exists()
        {
            anyhow::bail!(
                "找不到資料庫 / no database at {} (start `querywarden demo` or `serve` first)",
                file.display()
            );
        }
        Ok(querywarden_app::App::open(config).await?)
    }
}
