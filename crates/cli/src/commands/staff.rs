//! `querywarden staff import FILE`: the staff CSV (`docs/staff-import-format.md`) from the
//! command line, through the same use case as the administrator's upload page.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use querywarden_app::permission::staff::StaffImportError;

use super::units::ActingAdministrator;
use super::{Location, bad_rows, read_text};

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
    let text = read_text(&file)?;
    let outcome = actor
        .change(&location, async |app, desk, op| {
            Ok(app.import_staff(desk, &text, op).await)
        })
        .await?;
    match outcome {
        Ok(r) => {
            println!(
                "已匯入 imported: {} 列 rows；新增 created {}，異動 changed {}，未變 unchanged {}",
                r.rows, r.created, r.changed, r.unchanged
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(StaffImportError::BadRows(errors)) => Ok(bad_rows(
            errors.iter().map(|e| (e.line, None, e.reason.as_str())),
        )),
        Err(StaffImportError::Failed(e)) => {
            eprintln!("未匯入 / not imported: {e} [{}]", e.code());
            Ok(ExitCode::from(1))
        }
    }
}
