//! `querywarden citizen report --id 115-000001 --as ACCOUNT`: a citizen's access report
//! (個人資料保護法 §10) from the command line, through the same use case as the contact
//! officer's page, so it is audited the same way. `--id` is the recorded request's number,
//! never the national ID (which must not land in shell history).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use querywarden_domain::citizen_report::StaffShown;
use querywarden_domain::org::{Account, Role};

use super::Location;

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// 產生當事人查詢報告 / produce a citizen's access report
    ///
    /// 列出每筆紀錄（民國日期時間、單位、法令依據、項目、結果），證明附錄（每筆的包含證明與
    /// 最新簽章查核點）以 JSON 寫入 --out，可用 `querywarden audit verify --export` 逐筆離線驗證。
    /// Lists each entry; the proof appendix (inclusion proofs and the latest signed checkpoint)
    /// goes to --out as JSON.
    Report {
        /// 申請案號 / the recorded request's number, e.g. 115-000001
        #[arg(long)]
        id: String,
        /// 個人資料保護聯絡窗口帳號 / the personal-data contact's account (default: the first one)
        #[arg(long = "as")]
        account: Option<String>,
        /// 顯示承辦人姓名（預設只顯示單位）/ show staff names (default: units only)
        #[arg(long)]
        staff_names: bool,
        /// 報告與證明附錄（JSON）寫入此檔 / write the report with its proof appendix (JSON) here
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: CitizenCommand) -> anyhow::Result<ExitCode> {
    let CitizenCommand::Report {
        id,
        account,
        staff_names,
        out,
        location,
    } = cmd;
    let app = location.open().await?;
    let account = account
        .as_deref()
        .map(Account::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--as: {e}"))?;
    let person = app
        .person_acting_as(account.as_ref(), Role::PersonalDataContact)
        .await?
        .context("找不到個人資料保護聯絡窗口 / no personal-data contact account")?;
    let shown = if staff_names {
        StaffShown::NameAndUnit
    } else {
        app.config().citizen_report.staff_shown()
    };
    let outcome = app.produce_citizen_report(&person, &id, shown).await;
    app.close().await;
    let report = match outcome? {
        Ok(r) => r,
        Err(refusal) => {
            eprintln!(
                "未產生報告 / no report: {refusal}｜{} [{}]",
                refusal.message_en(),
                refusal.code()
            );
            return Ok(ExitCode::from(1));
        }
    };
    println!(
        "申請 request {}｜決定期限 due {}｜{} 筆 entries",
        report.request_no,
        report.due_on.format_long(),
        report.entries.len()
    );
    // §10: for the officer only; the JSON written for the citizen does not carry it.
    println!("暫不揭露 withheld (officer only): {}", report.withheld);
    for e in &report.entries {
        println!(
            "#{seq}\t{at}\t{kind}\t{unit}{staff}\t{object}\t{basis}\t{items}\t{outcome}",
            seq = e.seq,
            at = e.at,
            kind = e.kind.name_zh(),
            unit = e.unit,
            staff = e
                .staff
                .as_deref()
                .map(|s| format!("（{s}）"))
                .unwrap_or_default(),
            object = e.object,
            basis = e.legal_basis.as_deref().unwrap_or("-"),
            items = e.items.join(","),
            outcome = e.outcome,
        );
    }
    if let Some(path) = out {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
        println!("證明附錄 appendix: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
