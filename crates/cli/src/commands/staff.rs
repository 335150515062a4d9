//! `querywarden staff import FILE`: the staff CSV (`docs/staff-import-format.md`) from the
//! command line, through the same use case as the administrator's upload page.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use querywarden_app::permission::staff::StaffImportError;

use super::Location;
use super::units::ActingAdministrator;

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// 匯入人事資料（CSV）/ import staff records (CSV)
    Import {
        /// CSV 檔 / CSV file
        file: PathBuf,
        #[command(flatten)]
        actor: ActingAdministrator,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: StaffCommand) -> anyhow::Result<ExitCode> {
    let StaffCommand::Import {
        file,
        actor,
        location,
    } = cmd;
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let app = location.open().await?;
    let desk = actor.desk(&app).await?;
    let op = querywarden_app::permission::Op::system();
    let outcome = app.import_staff(&desk, &text, &op).await;
    app.checkpoint_if_due(false).await?;
    app.close().await;
    match outcome {
        Ok(r) => {
            println!(
                "已匯入 imported: {} 列 rows；新增 created {}，異動 changed {}，未變 unchanged {}",
                r.rows, r.created, r.changed, r.unchanged
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(StaffImportError::BadRows(errors)) => {
            println!(
                "未匯入任何資料 / nothing imported: {} 列有誤 bad rows",
                errors.len()
            );
            for e in &errors {
                println!("  第 {} 行 line {}: {}", e.line, e.line, e.reason);
            }
            Ok(ExitCode::from(1))
        }
        Err(StaffImportError::Failed(e)) => {
            eprintln!("未匯入 / not imported: {e} [{}]", e.code());
            Ok(ExitCode::from(1))
        }
    }
}
