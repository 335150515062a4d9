//! Backup and restore (§8: the trail, and the records it covers, must outlive a lost disk).
//! `backup` takes one consistent snapshot of the database while the server runs; `restore`
//! puts a snapshot into an installation that has no database yet and then verifies the trail.
//!
//! Security-sensitive: a backup holds sealed results and HMAC digests, never a key. The key
//! directory is backed up apart (and kept apart); a restore requires it to be in place first,
//! because opening without it would create a new key ring that can open nothing.

use std::path::Path;

use querywarden_storage::{FileCounts, StorageError, backup_database, check_database_file};

use crate::audit::VerifyReport;
use crate::config::Config;
use crate::keys::KeyRing;
use crate::{App, AppError};

/// Copies the database of `config` into the new file `out`, online; returns what the copy
/// holds.
pub async fn backup(config: &Config, out: &Path) -> Result<FileCounts, AppError> {
    if out.exists() {
        return Err(exists(out, "a backup never overwrites a file"));
    }
    Ok(backup_database(&sqlite_file(config)?, out).await?)
}

/// The SQLite file a backup or restore works on. A PostgreSQL database is backed up with
/// its own tools (`pg_dump`, base backups; docs/deployment.md), never by copying a file.
fn sqlite_file(config: &Config) -> Result<std::path::PathBuf, AppError> {
    config.database_file().ok_or_else(|| {
        AppError::Storage(StorageError::Unsupported(
            "backup and restore work on the embedded SQLite file; back up PostgreSQL with pg_dump or base backups (docs/deployment.md)".into(),
        ))
    })
}

/// What a restore found and proved.
#[derive(Debug)]
pub struct RestoreReport {
    pub counts: FileCounts,
    pub verify: VerifyReport,
}

/// Restores the snapshot `from` as the database of `config`, whose key directory must
/// already hold the installation's keys, and verifies the trail.
pub async fn restore(config: Config, from: &Path) -> Result<RestoreReport, AppError> {
    let counts = check_database_file(from).await?;
    KeyRing::open_existing(&config.key_dir)?;
    let db = sqlite_file(&config)?;
    if db.exists() {
        return Err(exists(&db, "a restore never overwrites a database"));
    }
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir).map_err(|source| StorageError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    std::fs::copy(from, &db).map_err(|source| StorageError::DataDir {
        path: db.display().to_string(),
        source,
    })?;
    let app = App::open(config).await?;
    let verify = app.verify_audit_trail().await?;
    app.close().await;
    Ok(RestoreReport { counts, verify })
}

fn exists(path: &Path, why: &str) -> AppError {
    AppError::Storage(StorageError::DataDir {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, why.to_string()),
    })
}
