//! `querywarden usage-log import FILE`: the BLI platform's usage records (§7).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::{Location, read_text};

#[derive(Debug, Subcommand)]
pub enum UsageLogCommand {
    /// 匯入勞保局平臺使用紀錄（CSV）/ import the platform's usage records (CSV)
    ///
    /// 每一列都會檢查；任一列有誤時列出所有錯誤列（含行號）且完全不匯入。
    /// 重複匯入同一檔案不會新增任何紀錄。欄位對應見設定 `bli.usage_log_columns`。
    /// Every row is validated; if any is bad, all bad rows are listed by line and nothing is
    /// imported. Importing the same file again adds nothing.
    Import {
        /// CSV 檔 / CSV file
        file: PathBuf,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: UsageLogCommand) -> anyhow::Result<ExitCode> {
    let UsageLogCommand::Import { file, location } = cmd;
    let text = read_text(&file)?;
    let outcome = location
        .change(async |app| {
            let spinner = crate::progress::spinner("匯入使用紀錄 importing the usage log");
            let outcome = app.import_usage_log(&text).await;
            spinner.finish_and_clear();
            Ok(outcome?)
        })
        .await?;
    match outcome {
        Ok(r) => {
            println!(
                "已匯入 imported: {} 列 rows, 新增 added {}, 先前已匯入 already present {}",
                r.rows, r.added, r.already_present
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => Ok(super::bad_rows(
            errors
                .iter()
                .map(|e| (e.line, e.column.as_deref(), e.reason.as_str())),
        )),
    }
}
