//! `querywarden init --config FILE --officers OFFICERS.toml`: on a new installation, records
//! the permission administrator (權限管理者) and a deputy (代理人) and prints, once, a
//! one-time enrolment code for each (§2, §3, §7). Refused once any administrator exists.
//!
//! The officers' details come from a file, not the command line, so that national IDs do
//! not show in the process list or the shell history.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use querywarden_app::enrolment::init::{InitRequest, NewOfficer};
use serde::Deserialize;

use super::Location;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// 權限管理者與代理人資料（TOML，[administrator] 與 [deputy]）/ the officers (TOML)
    #[arg(long)]
    pub officers: PathBuf,
    #[command(flatten)]
    pub location: Location,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficerFile {
    account: String,
    name: String,
    title: String,
    unit: String,
    national_id: String,
    egov_account: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficersFile {
    administrator: OfficerFile,
    deputy: OfficerFile,
}

impl From<OfficerFile> for NewOfficer {
    fn from(o: OfficerFile) -> Self {
        NewOfficer {
            account: o.account,
            name: o.name,
            title: o.title,
            unit: o.unit,
            national_id: o.national_id,
            egov_account: o.egov_account,
        }
    }
}

pub async fn run(args: InitArgs) -> anyhow::Result<ExitCode> {
    let text = super::read_text(&args.officers)?;
    // The parser's message may quote the file; say only where it is wrong.
    let officers: OfficersFile = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "人員資料檔格式錯誤 / the officers file is malformed (keys: account, name, title, \
             unit, national_id, egov_account under [administrator] and [deputy]): {:?}",
            e.span()
        )
    })?;
    let config = args.location.load()?;
    let deputy_configured = config.permission.deputy_administrator.clone();
    let app = querywarden_app::App::open(config).await?;
    let request = InitRequest {
        administrator: officers.administrator.into(),
        deputy: officers.deputy.into(),
    };
    let outcome = app.initialise(&request).await?;
    app.checkpoint_if_due(true).await?;
    app.close().await;
    match outcome {
        Ok(o) => {
            println!("系統已初始化 / initialised.");
            println!(
                "以下開通碼只顯示這一次，請當面交付或密封交付 / shown once; hand over in person or sealed:"
            );
            println!(
                "  權限管理者 administrator  {}  {}",
                o.administrator.0.as_str(),
                o.administrator.1.display_once()
            );
            println!(
                "  代理人 deputy             {}  {}",
                o.deputy.0.as_str(),
                o.deputy.1.display_once()
            );
            println!("  有效期限 valid until       {}", o.expires_at);
            println!("開通網址 enrol at: /enrol（自然人憑證＋自設密碼 / own card + own password）");
            if deputy_configured.as_ref() != Some(&o.deputy.0) {
                println!(
                    "請在設定檔加上 / add to the configuration:\n  [permission]\n  deputy_administrator = \"{}\"",
                    o.deputy.0.as_str()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(r) => {
            eprintln!("未初始化 / not initialised: {} [{}]", r.message, r.code);
            Ok(ExitCode::from(1))
        }
    }
}
