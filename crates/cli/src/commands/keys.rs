//! `querywarden keys rotate`: new audit signing and subject HMAC keys.

use std::process::ExitCode;

use clap::Subcommand;

use super::Location;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// 更換金鑰（舊公鑰保留供驗證）/ rotate keys (old public keys stay for verification)
    Rotate {
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    let KeysCommand::Rotate { location } = cmd;
    let app = location.open().await?;
    // §7: what the old key signed is sealed by a checkpoint before it is retired; the
    // rotation is recorded and sealed under the new key.
    let (app, keys) = app.rotate_keys().await?;
    println!("已更換金鑰 / keys rotated");
    println!(
        "  新簽章公鑰 new verifier key: {}",
        keys.signer().verifier().to_vkey()
    );
    app.close().await;
    Ok(ExitCode::SUCCESS)
}
