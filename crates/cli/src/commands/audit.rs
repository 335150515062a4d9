//! `querywarden audit verify | search | checkpoint`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use querywarden_app::audit::search::AuditQuery;
use querywarden_domain::NationalId;
use querywarden_domain::org::Account;
use querywarden_domain::roc_date::RocDate;
use querywarden_ledger::checkpoint::NoteVerifier;

use super::Location;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// 驗證整條稽核軌跡 / verify the whole audit trail (chain, checkpoints, signatures)
    ///
    /// 重新計算雜湊鏈、每個查核點的 Merkle 根與簽章，以及相鄰查核點的一致性。
    /// 有任何不符時印出第一筆錯誤並以結束碼 1 結束。
    ///
    /// 離線驗證匯出檔：`--export FILE --checkpoint FILE [--vkey KEY]…`，以外部保存的查核點
    /// （例如送勞工局備查者）檢驗匯出檔的每筆紀錄。
    /// Offline: verify an export against a checkpoint held elsewhere.
    Verify {
        #[command(flatten)]
        location: Location,
        /// 匯出檔 / an export written by `audit export`
        #[arg(long, requires = "checkpoint")]
        export: Option<PathBuf>,
        /// 外部保存的查核點 / a signed checkpoint held outside
        #[arg(long, requires = "export")]
        checkpoint: Option<PathBuf>,
        /// 信任的驗證公鑰（可多個；預設讀取資料目錄的金鑰清單）/ trusted verifier key(s)
        #[arg(long)]
        vkey: Vec<String>,
    },
    /// 匯出一段稽核紀錄（含證明）/ export records with inclusion and consistency proofs
    Export {
        #[command(flatten)]
        location: Location,
        /// 起始序號 / first sequence number
        #[arg(long)]
        from: u64,
        /// 結束序號（含）/ last sequence number (inclusive)
        #[arg(long)]
        to: u64,
        /// 輸出檔 / output file (JSON Lines)
        #[arg(long)]
        out: PathBuf,
    },
    /// 查詢稽核紀錄 / search audit records (newest first); the search itself is audited
    Search {
        #[command(flatten)]
        location: Location,
        /// 執行者帳號 / actor's account
        #[arg(long)]
        person: Option<String>,
        /// 動作代碼 / action code, e.g. query.sent
        #[arg(long)]
        action: Option<String>,
        /// 起日（含）/ from date, ROC (114/03/05) or ISO
        #[arg(long)]
        from: Option<String>,
        /// 迄日（含）/ until date (inclusive)
        #[arg(long)]
        until: Option<String>,
        /// 物件 TYPE:ID / object, e.g. registration:115-000012
        #[arg(long)]
        object: Option<String>,
        /// 當事人身分證字號（以 HMAC 比對，不儲存明文）/ subject's national ID (matched by HMAC)
        #[arg(long)]
        subject: Option<String>,
        /// 每頁筆數 / page size
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// 只列出序號小於此值者（下一頁）/ only records below this sequence number (next page)
        #[arg(long)]
        before: Option<u64>,
    },
    /// 立即寫入簽章查核點 / write a signed checkpoint now
    Checkpoint {
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify {
            location,
            export: Some(export),
            checkpoint: Some(checkpoint),
            vkey,
        } => verify_offline(&location, &export, &checkpoint, &vkey),
        AuditCommand::Verify { location, .. } => verify(location).await,
        AuditCommand::Export {
            location,
            from,
            to,
            out,
        } => {
            let app = location.open().await?;
            let text = app.export_audit_trail(from, to).await?;
            app.close().await;
            std::fs::write(&out, &text)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "已匯出 exported: 第 {from}–{to} 筆 records → {}",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint { location } => {
            let app = location.open().await?;
            app.checkpoint_if_due(true).await?;
            match app.latest_checkpoint_note().await? {
                Some(note) => print!("{note}"),
                None => println!("尚無紀錄 / no records yet"),
            }
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Search {
            location,
            person,
            action,
            from,
            until,
            object,
            subject,
            limit,
            before,
        } => {
            let app = location.open().await?;
            let mut query = AuditQuery {
                action,
                limit,
                before,
                ..Default::default()
            };
            if let Some(p) = &person {
                query.person =
                    Some(Account::parse(p).map_err(|e| anyhow::anyhow!("--person: {e}"))?);
            }
            // The same window as the search page (one rule for every date field).
            let today = querywarden_domain::roc_date::taipei_date(jiff::Timestamp::now());
            let bound = |d: &str| {
                RocDate::parse_field(
                    d,
                    querywarden_domain::roc_date::DateField::SearchBound,
                    today,
                )
            };
            if let Some(d) = &from {
                query.from = Some(bound(d).map_err(|e| anyhow::anyhow!("--from: {e}"))?);
            }
            if let Some(d) = &until {
                query.until = Some(bound(d).map_err(|e| anyhow::anyhow!("--until: {e}"))?);
            }
            if let Some(o) = &object {
                let (t, id) = o
                    .split_once(':')
                    .context("--object: 格式為 TYPE:ID / expected TYPE:ID")?;
                query.object = Some((t.to_string(), id.to_string()));
            }
            if let Some(s) = &subject {
                query.subject =
                    Some(NationalId::parse(s).map_err(|e| anyhow::anyhow!("--subject: {e}"))?);
            }
            // §7: reading the trail is itself recorded; the subject only as its digest.
            let records = app
                .search_audit_as_operator(&query)
                .await?
                .map_err(|f| anyhow::anyhow!("{f}"))?;
            println!(
                "序號 seq\t時間 time (UTC)\t執行者 actor\t動作 action\t物件 object\t結果 outcome"
            );
            for r in &records {
                println!(
                    "{}\t{}\t{}\t{}\t{}:{}\t{}",
                    r.seq,
                    r.at,
                    r.actor_person_id.map_or("-".to_string(), |p| p.to_string()),
                    r.action,
                    r.object_type,
                    r.object_id,
                    r.outcome
                );
            }
            if let Some(last) = records.last()
                && records.len() == limit as usize
            {
                println!("（下一頁 / next page: --before {}）", last.seq);
            }
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn verify(location: Location) -> anyhow::Result<ExitCode> {
    let app = location.open().await?;
    let (_, last) = app.audit_extent().await?;
    let bar = crate::progress::bar(last, "驗證 verifying");
    let shown = bar.clone();
    let report = app
        .verify_audit_trail_with_progress(std::sync::Arc::new(move |seq| shown.set_position(seq)))
        .await?;
    bar.finish_and_clear();
    app.close().await;
    println!(
        "已驗證 verified: {} 筆紀錄 records, {} 個查核點 checkpoints, {:.3} 秒 s ({:.0} 筆/秒 records/s)",
        report.records,
        report.checkpoints,
        report.seconds,
        report.rate()
    );
    if report.uncheckpointed > 0 {
        println!(
            "注意 note: 最後 {} 筆尚未納入查核點 / {} records are newer than the newest checkpoint",
            report.uncheckpointed, report.uncheckpointed
        );
    }
    match report.failure {
        None => {
            println!("結果 result: 完整 OK");
            Ok(ExitCode::SUCCESS)
        }
        Some(f) => {
            if let Some(seq) = f.first_bad_seq() {
                println!("第一筆錯誤 first bad record: {seq}");
            }
            println!("結果 result: 失敗 FAILED — {f}");
            Ok(ExitCode::from(1))
        }
    }
}

fn verify_offline(
    location: &Location,
    export: &Path,
    checkpoint: &Path,
    vkeys: &[String],
) -> anyhow::Result<ExitCode> {
    let verifiers = if vkeys.is_empty() {
        let config = location.load()?;
        querywarden_app::KeyRing::open_existing(&config.key_dir)?
            .verifiers()
            .to_vec()
    } else {
        vkeys
            .iter()
            .map(|k| NoteVerifier::from_vkey(k).map_err(|e| anyhow::anyhow!("--vkey: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let export_text = super::read_text(export)?;
    let held = super::read_text(checkpoint)?;
    match querywarden_app::audit::export::verify_export(&export_text, &held, &verifiers) {
        Ok(r) => {
            println!(
                "已驗證 verified: 第 {}–{} 筆，共 {} 筆紀錄 records; 匯出查核點 export checkpoint {} ⊇ 持有查核點 held checkpoint {}",
                r.from, r.to, r.records, r.export_tree_size, r.held_tree_size
            );
            println!("結果 result: 完整 OK");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if let querywarden_app::audit::export::ExportError::Record { seq, .. } = &e {
                println!("第一筆錯誤 first bad record: {seq}");
            }
            println!("結果 result: 失敗 FAILED — {e}");
            Ok(ExitCode::from(1))
        }
    }
}
