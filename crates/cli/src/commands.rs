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

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use querywarden_app::{App, Config};

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

    /// Opens the installation, runs `change` on it, then writes the audit checkpoint if one
    /// is due (after a change that went through) and closes it: the frame of every offline
    /// command that changes something.
    pub async fn change<T>(
        &self,
        change: impl AsyncFnOnce(&App) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let app = self.open().await?;
        let outcome = change(&app).await;
        if outcome.is_ok() {
            app.checkpoint_if_due(false).await?;
        }
        app.close().await;
        outcome
    }
}

/// The text of a file a command was given.
pub fn read_text(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

/// A CSV import that imported nothing: the count of bad rows, then each by line, with its
/// column where one is named, and why; exit status 1.
pub fn bad_rows<'a>(
    rows: impl ExactSizeIterator<Item = (usize, Option<&'a str>, &'a str)>,
) -> ExitCode {
    println!(
        "未匯入任何資料 / nothing imported: {} 列有誤 bad rows",
        rows.len()
    );
    for (line, column, reason) in rows {
        match column {
            Some(c) => println!("  第 {line} 行 line {line}, 欄位 column {c}: {reason}"),
            None => println!("  第 {line} 行 line {line}: {reason}"),
        }
    }
    ExitCode::from(1)
}
