//! `querywarden backup --out FILE`: one consistent copy of the database, taken while the
//! server runs. The keys are not in it; back up the key directory apart and keep it apart.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::Location;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// 備份檔（不得已存在）/ the backup file to write (must not exist)
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub location: Location,
}

pub async fn run(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let config = args.location.load()?;
    if let Some(file) = config.database_file()
        && !file.exists()
    {
        anyhow::bail!("找不到資料庫 / no database at {}", file.display());
    }
    let spinner = crate::progress::spinner("備份中 backing up");
    let counts = querywarden_app::backup::backup(&config, &args.out).await;
    spinner.finish_and_clear();
    let counts = counts?;
    println!(
        "已備份 backed up to {}: 稽核紀錄 audit records {}, 查調登記 registrations {}, 人員 persons {}",
        args.out.display(),
        counts.audit_records,
        counts.registrations,
        counts.persons
    );
    println!(
        "金鑰不在備份檔內，請另行備份並分開保管 {} / the keys are not in the backup: back up {} apart",
        config.key_dir.display(),
        config.key_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
