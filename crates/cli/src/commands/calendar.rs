//! `querywarden calendar import FILE`: a year's official office calendar (辦公日曆表) as the
//! 人事行政總處 publishes it (CSV: 西元日期,星期,是否放假,備註), replacing the computed year
//! deadlines were counted with (行政程序法 §48). The whole year or nothing; recorded in the
//! audit trail with the server's operator as the actor. `calendar list` shows the years loaded.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::{Location, read_text};

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// 匯入一整年的政府行政機關辦公日曆表（CSV）/ load a year's official office calendar (CSV)
    Import {
        /// CSV 檔 / CSV file (西元日期,星期,是否放假,備註)
        file: PathBuf,
        #[command(flatten)]
        location: Location,
    },
    /// 列出已匯入的年度 / list the years loaded
    List {
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: CalendarCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CalendarCommand::Import { file, location } => {
            let text = read_text(&file)?;
            let outcome = location
                .change(async |app| Ok(app.import_calendar(&text).await?))
                .await?;
            match outcome {
                Ok(y) => {
                    println!(
                        "已匯入 {} 年辦公日曆表：{} 個平日放假日、{} 個補行上班日 / loaded {}: {} weekday days off, {} make-up working days",
                        y.year,
                        y.holidays,
                        y.makeup_workdays,
                        y.year,
                        y.holidays,
                        y.makeup_workdays
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(r) => {
                    eprintln!("{} / {} [{}]", r.message_zh, r.message_en, r.code);
                    Ok(ExitCode::from(1))
                }
            }
        }
        CalendarCommand::List { location } => {
            let app = location.open().await?;
            let years = app.calendar_years().await?;
            app.close().await;
            for y in years {
                println!("{}\t{}", y.year, y.loaded_at);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
