//! `querywarden migrate [--config FILE | --data DIR]`: applies the schema migrations this
//! build has and the database lacks, once, before the instances start. With several
//! instances on one database they run with `storage.auto_migrate = false` and refuse an
//! older schema, so the schema changes only here (docs/deployment.md). A schema newer than
//! this build is refused and left alone.

use std::process::ExitCode;

use clap::Args;

use super::Location;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub location: Location,
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let config = args.location.load()?;
    let report = querywarden_app::schema::migrate(
        &config,
        jiff::Timestamp::now(),
        &querywarden_app::new_request_id(),
    )
    .await?;
    let version = report.version;
    if report.applied.is_empty() {
        println!(
            "資料庫結構已是最新（第 {version} 版）/ the schema is current (version {version}): {}",
            report.location
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "已套用 {n} 項結構變更 / applied {n} migration(s) to {}:",
        report.location,
        n = report.applied.len()
    );
    for m in &report.applied {
        println!("  {:04} {}", m.version, m.description);
    }
    println!("資料庫結構現為第 {version} 版 / the schema is now at version {version}");
    if report.audited {
        println!("已記入稽核軌跡 / recorded in the audit trail (system.schema_migrated)");
    }
    Ok(ExitCode::SUCCESS)
}
