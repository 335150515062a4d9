//! `querywarden config check FILE`: validates a configuration file (with the environment
//! overrides applied) and names the bad key.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use querywarden_app::Config;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// 檢查設定檔 / validate a configuration file
    Check {
        /// 設定檔 / TOML file
        file: PathBuf,
    },
}

pub fn run(cmd: ConfigCommand) -> ExitCode {
    let ConfigCommand::Check { file } = cmd;
    match Config::load(Some(&file)).and_then(|c| c.require_sign_in().map(|()| c)) {
        Ok(c) => {
            println!("設定正確 / configuration is valid: {}", file.display());
            println!("  listen      {}", c.listen);
            println!("  data_dir    {}", c.data_dir.display());
            println!("  key_dir     {}", c.key_dir.display());
            println!("  bli.mode    {:?}", c.bli.mode);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e} [{}]", e.code());
            ExitCode::from(1)
        }
    }
}
