//! `querywarden forms render --form 1|2|3|4 --id ID --out FILE.pdf` and
//! `querywarden report quarterly --quarter 115Q3 --out FILE.pdf`: the printed forms and the
//! quarterly report from the command line, through the same use case as the pages, so they
//! are authorised and audited the same way (`--as` names whose document it is).
//!
//! Nothing half-written: the PDF goes to a temporary file beside `--out` and is renamed into
//! place only when whole; a refusal or a missing font leaves `--out` untouched.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use querywarden_app::documents::{Body, DocumentTarget, Format, parse_quarter, produce};
use querywarden_app::permission::Op;
use querywarden_domain::org::{Account, Person, Role, UnitId};
use querywarden_domain::oversight::unannounced_audit::AuditId;
use querywarden_domain::permission::ApplicationId;
use querywarden_domain::roc_date::RocDate;

use super::Location;

#[derive(Debug, Subcommand)]
pub enum FormsCommand {
    /// 產製附表 1–4 之 PDF / render Form 1, 2, 3 or 4 as PDF
    ///
    /// 附表 1：--id 申請表編號（數字）；附表 2：--id 登記編號（115-000012），或 --unit 單位代碼
    /// --from --to 產製該單位該期間之登記表；附表 3：--id 申請案號；附表 4：--id 稽核編號。
    Render {
        /// 1、2、3 或 4
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
        form: u8,
        /// 紀錄編號 / the record's id or number
        #[arg(long, required_unless_present = "unit")]
        id: Option<String>,
        /// 附表 2 登記表之單位代碼 / the unit of a Form 2 register
        #[arg(long, requires_all = ["from", "to"], conflicts_with = "id")]
        unit: Option<String>,
        /// 起日（民國 115/11/01 或西元）/ first day of the register
        #[arg(long)]
        from: Option<String>,
        /// 迄日（含）/ last day of the register (inclusive)
        #[arg(long)]
        to: Option<String>,
        /// 附表 2 印出完整身分證號（逐筆記錄為顯示）/ print whole IDs on Form 2 (each recorded)
        #[arg(long)]
        reveal_ids: bool,
        /// 以此帳號身分產製 / whose document it is (default: an overseer who may see it)
        #[arg(long = "as")]
        account: Option<String>,
        /// 輸出檔 / output file
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        location: Location,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// 產製每季使用紀錄檢查結果報告（送勞工局）/ the quarterly review report to 勞工局
    Quarterly {
        /// 季別：115Q3（民國）或 2026Q3（西元）/ the quarter
        #[arg(long)]
        quarter: String,
        /// 以此帳號身分產製 / whose document it is (default: the permission administrator)
        #[arg(long = "as")]
        account: Option<String>,
        /// 輸出檔 / output file
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        location: Location,
    },
}

/// A refusal the user can act on: zh-TW first, English, code; exit status 1.
fn refused(zh: &str, en: &str, code: &str) -> ExitCode {
    eprintln!("未產製文件 / no document: {zh}｜{en} [{code}]");
    ExitCode::from(1)
}

pub async fn run_forms(cmd: FormsCommand) -> anyhow::Result<ExitCode> {
    let FormsCommand::Render {
        form,
        id,
        unit,
        from,
        to,
        reveal_ids,
        account,
        out,
        location,
    } = cmd;
    let target = match (form, id.as_deref(), unit) {
        (2, None, Some(unit)) => {
            let date =
                |s: &Option<String>| s.as_deref().map(RocDate::parse).transpose().ok().flatten();
            let (Some(from), Some(to)) = (date(&from), date(&to)) else {
                return Ok(refused(
                    "起迄日期格式不正確（例：115/11/01）",
                    "--from and --to must be dates such as 115/11/01",
                    "documents.bad_period",
                ));
            };
            let Ok(unit) = UnitId::new(unit) else {
                return Ok(refused(
                    "單位代碼不正確",
                    "not a unit code",
                    "documents.not_found",
                ));
            };
            DocumentTarget::Register { unit, from, to }
        }
        (_, Some(id), _) => match parse_target(form, id) {
            Some(t) => t,
            None => {
                return Ok(refused(
                    "紀錄編號格式不正確",
                    "the id is not a number of that form",
                    "documents.not_found",
                ));
            }
        },
        _ => {
            return Ok(refused(
                "請以 --id 指定紀錄，或以 --unit --from --to 指定附表 2 登記表",
                "give --id, or --unit --from --to for a Form 2 register",
                "documents.not_found",
            ));
        }
    };
    let default_role = match form {
        2 | 3 => Role::EthicsAuditor,
        _ => Role::PermissionAdministrator,
    };
    render(
        &location,
        account.as_deref(),
        default_role,
        &target,
        reveal_ids,
        &out,
    )
    .await
}

pub async fn run_report(cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    let ReportCommand::Quarterly {
        quarter,
        account,
        out,
        location,
    } = cmd;
    let q = match parse_quarter(&quarter) {
        Ok(q) => q,
        Err(e) => return Ok(refused(&e.to_string(), &e.message_en(), e.code())),
    };
    render(
        &location,
        account.as_deref(),
        Role::PermissionAdministrator,
        &DocumentTarget::Quarterly(q),
        false,
        &out,
    )
    .await
}

fn parse_target(form: u8, id: &str) -> Option<DocumentTarget> {
    Some(match form {
        1 => DocumentTarget::Form1(ApplicationId::new(id.trim().parse().ok()?)),
        2 => DocumentTarget::Form2(id.trim().parse().ok()?),
        3 => DocumentTarget::Form3(
            querywarden_domain::registration::RequestNo::parse(id.trim()).ok()?,
        ),
        _ => DocumentTarget::Form4(AuditId::new(id.trim().parse().ok()?)),
    })
}

async fn whom(
    app: &querywarden_app::App,
    account: Option<&str>,
    role: Role,
) -> anyhow::Result<Option<Person>> {
    let account = account
        .map(Account::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--as: {e}"))?;
    Ok(app.person_acting_as(account.as_ref(), role).await?)
}

async fn render(
    location: &Location,
    account: Option<&str>,
    role: Role,
    target: &DocumentTarget,
    reveal_ids: bool,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let app = location.open().await?;
    let Some(person) = whom(&app, account, role).await? else {
        app.close().await;
        return Ok(refused(
            "找不到產製者帳號（--as）",
            "no such account (--as)",
            "documents.no_account",
        ));
    };
    let op = Op::new(jiff::Timestamp::now(), querywarden_app::new_request_id());
    let produced = produce(&app, &person, target, Format::Pdf, reveal_ids, &op).await;
    app.close().await;
    let produced = match produced {
        Ok(p) => p,
        Err(querywarden_app::documents::DocumentError::App(e)) => return Err(e.into()),
        Err(e) => return Ok(refused(&e.to_string(), &e.message_en(), e.code())),
    };
    let Body::Pdf(bytes) = produced.body else {
        anyhow::bail!("expected a PDF");
    };
    write_whole(out, &bytes)?;
    println!(
        "已產製 written: {}（{} 位元組 bytes）｜作業編號 operation {}",
        out.display(),
        bytes.len(),
        op.request_id
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to a temporary file beside `out`, then renames it into place, so `out` is
/// either the whole document or untouched.
fn write_whole(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .context("--out must name a file")?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.{}.part", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    if let Err(e) = std::fs::rename(&tmp, out) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", out.display()));
    }
    Ok(())
}
