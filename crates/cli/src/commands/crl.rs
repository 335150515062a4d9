//! `querywarden crl import FILE` (the offline path) and `querywarden crl refresh` (fetch the
//! configured addresses now): certificate revocation lists (§3). A list is kept only if a
//! trust anchor signed it; a running server puts it in force at its next refresh.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use super::Location;

#[derive(Debug, Subcommand)]
pub enum CrlCommand {
    /// 匯入憑證廢止清冊檔（DER 或 PEM）/ import a CRL file (DER or PEM)
    Import {
        file: PathBuf,
        #[command(flatten)]
        location: Location,
    },
    /// 立即自設定的網址下載憑證廢止清冊 / fetch the configured CRL addresses now
    Refresh {
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: CrlCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CrlCommand::Import { file, location } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let outcome = location
                .change(async |app| {
                    app.import_crl_file(&bytes)
                        .await?
                        .context("未設定 auth.trust_anchors / no trust anchors configured")
                })
                .await?;
            match outcome {
                Ok(i) => {
                    println!(
                        "已匯入 imported: {}；簽發 this update {}；下次更新 next update {}；廢止 revoked {}{}",
                        i.issuer,
                        i.this_update,
                        i.next_update.map(|t| t.to_string()).unwrap_or_default(),
                        i.revoked,
                        if i.replaced {
                            ""
                        } else {
                            "（已有同樣新或更新的清冊 / a list as new was kept already）"
                        }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(f) => {
                    eprintln!("未匯入 / not imported: {} [{}]", f.message, f.code);
                    Ok(ExitCode::from(1))
                }
            }
        }
        CrlCommand::Refresh { location } => {
            let (n, fetches) = location
                .change(async |app| Ok(app.refresh_crls().await?))
                .await?;
            for f in fetches {
                println!("{}  {}", f.url, f.error.unwrap_or_else(|| "ok".to_string()));
            }
            println!("更新 replaced: {n}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
