//! The database schema from the operator's side: `querywarden migrate` applies the
//! migrations this build has and the database lacks, explicitly, once, before the instances
//! start (with several instances on one database each runs with `storage.auto_migrate =
//! false`, so none changes the schema behind the others' backs). A schema newer than the
//! build is refused, never "migrated".
//!
//! Security-sensitive only in that the migration of a database that already holds a trail
//! is itself recorded in it (`system.schema_migrated`), like any change an operator makes.

use jiff::Timestamp;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_storage::{AppliedMigration, PendingMigrations, Store};

use crate::{AppError, Config, database_location};

/// What `querywarden migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Where the database is (no password).
    pub location: String,
    /// The migrations applied now, oldest first; empty when the schema was current.
    pub applied: Vec<AppliedMigration>,
    /// The schema version the database is at now: the newest this build knows.
    pub version: i64,
    /// Whether the migration was recorded in the audit trail (only when the trail already
    /// held records: a new database has no trail to record it in yet).
    pub audited: bool,
}

/// Applies the pending migrations of the database of `config` (creating it if there is
/// none), whatever `storage.auto_migrate` says, and records them in the audit trail if it
/// already holds records.
pub async fn migrate(
    config: &Config,
    now: Timestamp,
    request_id: &str,
) -> Result<MigrationReport, AppError> {
    let store = Store::open_url(&config.database_url(), 1, PendingMigrations::Apply)
        .await
        .map_err(|source| AppError::DatabaseOpen {
            location: database_location(config),
            source,
        })?;
    let result = record(&store, now, request_id).await;
    let version = store.newest_known_version();
    store.close().await;
    let (applied, audited) = result?;
    Ok(MigrationReport {
        location: database_location(config),
        applied,
        version,
        audited,
    })
}

async fn record(
    store: &Store,
    now: Timestamp,
    request_id: &str,
) -> Result<(Vec<AppliedMigration>, bool), AppError> {
    let applied = store.migrations_applied().to_vec();
    let (records, _) = store.audit_extent().await?;
    let Some(newest) = applied.last() else {
        return Ok((applied, false));
    };
    if records == 0 {
        return Ok((applied, false));
    }
    let versions = applied
        .iter()
        .map(|m| m.version.to_string())
        .collect::<Vec<_>>()
        .join(",");
    crate::audit::record(
        store,
        &AuditEvent::system(now, AuditAction::SchemaMigrated, request_id)
            .on("database_schema", newest.version.to_string())
            .detail("versions", versions),
    )
    .await?;
    Ok((applied, true))
}
