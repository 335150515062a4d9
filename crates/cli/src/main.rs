//! `querywarden`: the one binary. One subcommand per file under `commands/`.

mod commands;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// 查調守門員 querywarden — 高雄市政府社會局勞保資料查調管理系統
/// (labour-insurance data lookups: permissions, registration, approval, custody, audit).
#[derive(Debug, Parser)]
#[command(name = "querywarden", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 示範模式：建立資料目錄、示範組織與模擬器，啟動網站 / run the demo (no set-up needed)
    Demo(commands::demo::DemoArgs),
    /// 正式啟動 / run the server with a configuration file
    Serve(commands::serve::ServeArgs),
    /// 勞保局資訊中介服務模擬器 / run the BLI service simulator
    Simulator(commands::simulator::SimulatorArgs),
    /// 身分證字號／統一證號工具 / national ID tools
    #[command(subcommand)]
    Id(commands::id::IdCommand),
    /// 設定檔工具 / configuration tools
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// 稽核軌跡：驗證、查詢 / audit trail: verify, search, checkpoint
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// 金鑰管理 / key management
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// 勞保局平臺使用紀錄 / the BLI platform's usage records
    #[command(subcommand)]
    UsageLog(commands::usage_log::UsageLogCommand),
    /// 初始化：權限管理者與代理人 / initialise: the first administrator and deputy
    Init(commands::init::InitArgs),
    /// 單位、主管與代理人 / units, supervisors and deputies
    #[command(subcommand)]
    Units(commands::units::UnitsCommand),
    /// 人事資料 / staff records
    #[command(subcommand)]
    Staff(commands::staff::StaffCommand),
    /// 憑證廢止清冊 / certificate revocation lists
    #[command(subcommand)]
    Crl(commands::crl::CrlCommand),
    /// 線上備份資料庫（不含金鑰）/ back up the database online (keys not included)
    Backup(commands::backup::BackupArgs),
    /// 由備份還原並驗證稽核軌跡 / restore from a backup and verify the audit trail
    Restore(commands::restore::RestoreArgs),
    /// 套用資料庫結構變更（多台伺服器時於啟動前執行一次）/ apply pending schema migrations
    Migrate(commands::migrate::MigrateArgs),
    /// 將內建 SQLite 資料庫複製到 PostgreSQL 並驗證稽核軌跡 / copy the SQLite database to PostgreSQL and verify the audit trail
    Copy(commands::copy::CopyArgs),
    /// 個資當事人查詢報告 / citizen access reports (個人資料保護法 §10)
    #[command(subcommand)]
    Citizen(commands::citizen::CitizenCommand),
    /// 政府行政機關辦公日曆表 / the official office calendar (行政程序法 §48 deadlines)
    #[command(subcommand)]
    Calendar(commands::calendar::CalendarCommand),
    /// 附表 1–4 之 PDF / the printed forms (Forms 1-4) as PDF
    #[command(subcommand)]
    Forms(commands::forms::FormsCommand),
    /// 報告：每季使用紀錄檢查結果 / reports: the quarterly review report to 勞工局
    #[command(subcommand)]
    Report(commands::forms::ReportCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Id(cmd) => return commands::id::run(cmd),
        Command::Config(cmd) => return commands::config::run(cmd),
        other => commands::runtime().and_then(|rt| rt.block_on(dispatch(other))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("錯誤 / error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo(args) => commands::demo::run(args).await,
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Simulator(args) => commands::simulator::run(args).await,
        Command::Audit(cmd) => commands::audit::run(cmd).await,
        Command::Keys(cmd) => commands::keys::run(cmd).await,
        Command::UsageLog(cmd) => commands::usage_log::run(cmd).await,
        Command::Init(args) => commands::init::run(args).await,
        Command::Units(cmd) => commands::units::run(cmd).await,
        Command::Staff(cmd) => commands::staff::run(cmd).await,
        Command::Crl(cmd) => commands::crl::run(cmd).await,
        Command::Backup(args) => commands::backup::run(args).await,
        Command::Restore(args) => commands::restore::run(args).await,
        Command::Migrate(args) => commands::migrate::run(args).await,
        Command::Copy(args) => commands::copy::run(args).await,
        Command::Citizen(cmd) => commands::citizen::run(cmd).await,
        Command::Calendar(cmd) => commands::calendar::run(cmd).await,
        Command::Forms(cmd) => commands::forms::run_forms(cmd).await,
        Command::Report(cmd) => commands::forms::run_report(cmd).await,
        Command::Id(_) | Command::Config(_) => Ok(ExitCode::SUCCESS),
    }
}
