//! `querywarden copy`: moving a bureau from the embedded SQLite file to PostgreSQL (several
//! instances on one database, docs/deployment.md). Every table arrives as it was — ids, the
//! audit trail's sequence and hashes, the signed checkpoints — and the copy's trail is then
//! verified with the installation's keys, so the move is proved, not assumed (§8).
//!
//! Security-sensitive: both locations are shown without passwords; the source is opened
//! without changing it (an older schema is refused, not migrated). The copy is recorded on
//! the copy (`system.database_copied`, counts only: no path, no password), in the copy's own
//! transaction (§8).

use jiff::Timestamp;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_storage::{CopiedTable, PendingMigrations, StorageError, Store, redact_location};

use crate::AppError;
use crate::audit::{self, VerifyReport};
use crate::keys::KeyRing;

/// What `querywarden copy` did and proved.
#[derive(Debug)]
pub struct CopyReport {
    /// The source and target, as people may read them (no password).
    pub from: String,
    pub to: String,
    pub tables: Vec<CopiedTable>,
    /// `audit verify` on the copy.
    pub verify: VerifyReport,
}

/// Copies the SQLite database `from` (`sqlite:PATH`) into the new PostgreSQL database `to`
/// (migrated first; it must hold no rows), records the copy in the copy's trail, then
/// verifies that trail with `keys`.
pub async fn copy_database(
    from: &str,
    to: &str,
    keys: &KeyRing,
    now: Timestamp,
    request_id: &str,
) -> Result<CopyReport, AppError> {
    let opened = |url: &str| {
        let location = redact_location(url);
        move |source: StorageError| AppError::DatabaseOpen { location, source }
    };
    let source = Store::open_url(from, 1, PendingMigrations::Refuse)
        .await
        .map_err(opened(from))?;
    let target = match Store::open_url(to, 1, PendingMigrations::Apply).await {
        Ok(t) => t,
        Err(e) => {
            source.close().await;
            return Err(opened(to)(e));
        }
    };
    let copied = source
        .copy_into(&target, |tables| copied_event(tables, now, request_id))
        .await;
    source.close().await;
    let tables = match copied {
        Ok(tables) => tables,
        Err(e) => {
            target.close().await;
            return Err(e.into());
        }
    };
    let verify = audit::verify(&target, keys).await;
    target.close().await;
    Ok(CopyReport {
        from: redact_location(from),
        to: redact_location(to),
        tables,
        verify: verify?,
    })
}

/// The copy's record: which engine it came from and what it counted.
fn copied_event(tables: &[CopiedTable], now: Timestamp, request_id: &str) -> AuditEvent {
    let rows: u64 = tables.iter().map(|t| t.rows).sum();
    let records = tables
        .iter()
        .find(|t| t.table == "audit_records")
        .map_or(0, |t| t.rows);
    AuditEvent::system(now, AuditAction::DatabaseCopied, request_id)
        .on("database", "postgres")
        .detail("from", "sqlite")
        .detail("tables", tables.len() as u64)
        .detail("rows", rows)
        .detail("records", records)
}
