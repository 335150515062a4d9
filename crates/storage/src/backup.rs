//! Online backup and restore of the SQLite database file (§8: the trail and the records it
//! covers must survive the loss of a disk). The copy is one consistent snapshot taken with
//! `VACUUM INTO` over a read-only connection, so it is safe while a server writes. Keys are
//! never part of it: they live in their own directory and are backed up apart, so a stolen
//! backup holds only sealed results and HMAC digests.

use std::path::Path;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::error::{StorageError, classify};

/// What a database file holds, counted: for comparing a backup with its restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileCounts {
    pub audit_records: i64,
    pub registrations: i64,
    pub persons: i64,
}

async fn read_only(path: &Path) -> Result<SqliteConnection, StorageError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(10));
    SqliteConnection::connect_with(&options)
        .await
        .map_err(classify)
}

/// Copies the database at `db` into the new file `out` as one consistent snapshot, while the
/// database may be in use (SQLite refuses an `out` that already holds data), and checks the
/// copy.
pub async fn backup_database(db: &Path, out: &Path) -> Result<FileCounts, StorageError> {
    let mut conn = read_only(db).await?;
    sqlx::query("VACUUM INTO $1")
        .bind(out.display().to_string())
        .execute(&mut conn)
        .await
        .map_err(classify)?;
    conn.close().await.map_err(classify)?;
    check_database_file(out).await
}

/// Whether `file` is an intact querywarden database (SQLite `integrity_check`), and what it
/// holds.
pub async fn check_database_file(file: &Path) -> Result<FileCounts, StorageError> {
    let mut conn = read_only(file).await?;
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(classify)?;
    if check != "ok" {
        return Err(StorageError::Decode(format!(
            "{} fails the integrity check",
            file.display()
        )));
    }
    let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table}");
    let mut n = [0i64; 3];
    for (slot, table) in n
        .iter_mut()
        .zip(["audit_records", "registrations", "persons"])
    {
        let (c,): (i64,) = sqlx::query_as(&count(table))
            .fetch_one(&mut conn)
            .await
            .map_err(classify)?;
        *slot = c;
    }
    conn.close().await.map_err(classify)?;
    Ok(FileCounts {
        audit_records: n[0],
        registrations: n[1],
        persons: n[2],
    })
}
