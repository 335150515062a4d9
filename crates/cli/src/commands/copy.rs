//! `querywarden copy --from sqlite:PATH --to postgres://…`: moves a bureau from the embedded
//! SQLite file to a new PostgreSQL database (several instances on one database,
//! docs/deployment.md), then verifies the copy's audit trail with the installation's keys.
//! Stop the server first: writes made during the copy would not be in it.

use std::process::ExitCode;

use clap::Args;

use super::Location;

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// 來源資料庫 / the source database (sqlite:PATH)
    #[arg(long)]
    pub from: String,
    /// 目的資料庫（須為空）/ the target database (postgres://…, holding no rows)
    #[arg(long)]
    pub to: String,
    /// The installation whose keys verify the copy's signed checkpoints.
    #[command(flatten)]
    pub location: Location,
}

pub async fn run(args: CopyArgs) -> anyhow::Result<ExitCode> {
    let config = args.location.load()?;
    let keys = querywarden_app::keys::KeyRing::open_existing(&config.key_dir)?;
    let spinner = crate::progress::spinner("複製中 copying");
    let report = querywarden_app::copy::copy_database(
        &args.from,
        &args.to,
        &keys,
        jiff::Timestamp::now(),
        &querywarden_app::new_request_id(),
    )
    .await;
    spinner.finish_and_clear();
    let report = report?;
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    println!(
        "已複製 copied {} → {}: {} 個資料表 tables, {rows} 筆資料 rows",
        report.from,
        report.to,
        report.tables.len()
    );
    println!("已記入複本的稽核軌跡 / recorded in the copy's audit trail (system.database_copied)");
    let v = &report.verify;
    match &v.failure {
        None => {
            println!(
                "複本稽核軌跡驗證通過 the copy's audit trail verified: {} records, {} checkpoints",
                v.records, v.checkpoints
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(f) => {
            println!("複本稽核軌跡驗證失敗 the copy's audit trail FAILED verification: {f}");
            Ok(ExitCode::from(1))
        }
    }
}
