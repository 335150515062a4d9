//! `querywarden keys rotate`: new audit signing and subject HMAC keys.

use std::process::ExitCode;

use clap::Subcommand;
use querywarden_app::KeyRing;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};

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
    // Seal what was signed with the old key before it is retired.
    app.checkpoint_if_due(true).await?;
    let config = app.config().clone();
    app.close().await;
    let now = jiff::Timestamp::now();
    let keys = KeyRing::rotate(&config.key_dir, now)?;
    let app = querywarden_app::App::open(config).await?;
    let mut tx = app.store().begin().await?;
    tx.append_audit(
        &AuditEvent::system(
            now,
            AuditAction::KeyRotated,
            querywarden_app::new_request_id(),
        )
        .detail("signing_key", keys.signer().verifier().to_vkey()),
    )
    .await?;
    tx.commit().await?;
    app.checkpoint_if_due(true).await?;
    println!("已更換金鑰 / keys rotated");
    println!(
        "  新簽章公鑰 new verifier key: {}",
        keys.signer().verifier().to_vkey()
    );
    app.close().await;
    Ok(ExitCode::SUCCESS)
}
