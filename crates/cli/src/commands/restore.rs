//! `querywarden restore --from FILE`: puts a backup into an installation that has no database
//! yet (its key directory restored first), then verifies the audit trail.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::Location;

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// 備份檔 / the backup file
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub location: Location,
}

pub async fn run(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let config = args.location.load()?;
    let report = querywarden_app::backup::restore(config, &args.from).await?;
    let c = report.counts;
    println!(
        "已還原 restored: 稽核紀錄 audit records {}, 查調登記 registrations {}, 人員 persons {}",
        c.audit_records, c.registrations, c.persons
    );
    let v = &report.verify;
    match &v.failure {
        None => {
            println!(
                "稽核軌跡驗證通過 audit trail verified: {} records, {} checkpoints",
                v.records, v.checkpoints
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(f) => {
            println!("稽核軌跡驗證失敗 audit trail verification FAILED: {f}");
            Ok(ExitCode::from(1))
        }
    }
}
