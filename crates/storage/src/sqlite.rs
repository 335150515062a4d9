//! The embedded SQLite backend: opening, migrations, readiness, transactions.
//!
//! One writer connection (SQLite allows one writer at a time; queuing in the pool is cheaper
//! than `SQLITE_BUSY` retries) and a small pool of readers, all in WAL mode with foreign keys
//! on and `synchronous=FULL`, because whatever the system acknowledges must survive a crash.

use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::error::{StorageError, classify};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The database, opened and migrated.
#[derive(Clone)]
pub struct Store {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
    /// The last write failure caused by a full disk or read-only file, until a write succeeds
    /// again; readiness reports it.
    pub(crate) write_failure: Arc<Mutex<Option<&'static str>>>,
    /// The database file, for the bulk read-only scan (`None` in memory).
    pub(crate) path: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store(sqlite)")
    }
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub reachable: bool,
    pub migrations_current: bool,
    pub writable: bool,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.reachable && self.migrations_current && self.writable
    }
}

/// One use case's write transaction. Dropping it without [`WriteTx::commit`] rolls back.
pub struct WriteTx {
    pub(crate) tx: Transaction<'static, Sqlite>,
    write_failure: Arc<Mutex<Option<&'static str>>>,
}

impl Store {
    /// Opens the database file at `path`, creating it (and its directory) only if it does not
    /// exist, and applies pending migrations. A damaged file or one from a newer build is
    /// refused, never re-created.
    pub async fn open(path: &Path) -> Result<Store, StorageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StorageError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let mut store = Self::open_with(options).await?;
        store.path = Some(path.to_path_buf());
        Ok(store)
    }

    /// An in-memory database, for tests of code above storage.
    pub async fn open_in_memory() -> Result<Store, StorageError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(StorageError::Database)?
            .foreign_keys(true)
            .shared_cache(true);
        // One connection serves both roles: separate in-memory connections would be
        // separate databases.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(classify)?;
        let store = Store {
            writer: pool.clone(),
            reader: pool,
            write_failure: Arc::default(),
            path: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_with(options: SqliteConnectOptions) -> Result<Store, StorageError> {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(open_error)?;
        // The first real read tells a damaged or foreign file apart.
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .execute(&writer)
            .await
            .map_err(open_error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(open_error)?;
        let store = Store {
            writer,
            reader,
            write_failure: Arc::default(),
            path: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StorageError> {
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let applied = self.applied_versions().await?;
        if let Some(&found) = applied.iter().max().filter(|&&v| v > known) {
            return Err(StorageError::NewerSchema { found, known });
        }
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(StorageError::Migration)
    }

    async fn applied_versions(&self) -> Result<BTreeSet<i64>, StorageError> {
        let table: Option<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.writer)
        .await
        .map_err(classify)?;
        if table.is_none() {
            return Ok(BTreeSet::new());
        }
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = 1")
                .fetch_all(&self.writer)
                .await
                .map_err(classify)?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    /// Database reachable, every migration of this build applied, and the file writable.
    pub async fn readiness(&self) -> Readiness {
        let reachable = sqlx::query("SELECT 1").execute(&self.reader).await.is_ok();
        let migrations_current = match self.applied_versions().await {
            Ok(applied) => MIGRATOR.iter().all(|m| applied.contains(&m.version)),
            Err(_) => false,
        };
        // A real (tiny) write: it fails on a read-only file or a full disk. A full disk can
        // still allow rewriting existing pages, so the last failed use case counts too until
        // a write succeeds again.
        // (Autocommit, not a use case: it must not clear a use case's failure.)
        let probe_ok = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('readiness_probe', 'ok') \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .execute(&self.writer)
        .await
        .is_ok();
        let recent_failure = self.write_failure_code().is_some();
        let writable = probe_ok
            && !recent_failure
            && sqlx::query("PRAGMA quick_check(1)")
                .fetch_one(&self.reader)
                .await
                .is_ok();
        Readiness {
            reachable,
            migrations_current,
            writable,
        }
    }

    /// Starts a use case's write transaction.
    pub async fn begin(&self) -> Result<WriteTx, StorageError> {
        let tx = self
            .writer
            .begin()
            .await
            .map_err(|e| note_failure(&self.write_failure, classify(e)))?;
        Ok(WriteTx {
            tx,
            write_failure: self.write_failure.clone(),
        })
    }

    /// The code of the last write that failed for lack of space or permission, if no write
    /// has succeeded since.
    pub fn write_failure_code(&self) -> Option<&'static str> {
        self.write_failure.lock().ok().and_then(|g| *g)
    }

    /// Closes the pools, waiting for connections to finish (so WAL is checkpointed cleanly).
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// A stored setting, if present.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        Ok(row.map(|(v,)| v))
    }
}

impl WriteTx {
    /// Commits the state change and its audit records together.
    pub async fn commit(self) -> Result<(), StorageError> {
        let failure = self.write_failure.clone();
        match self.tx.commit().await {
            Ok(()) => {
                if let Ok(mut g) = failure.lock() {
                    *g = None;
                }
                Ok(())
            }
            Err(e) => Err(note_failure(&failure, classify(e))),
        }
    }

    /// Records a disk-full or read-only failure seen inside this transaction.
    pub(crate) fn noted(&self, e: StorageError) -> StorageError {
        note_failure(&self.write_failure, e)
    }

    pub async fn put_setting(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(())
    }
}

fn note_failure(flag: &Mutex<Option<&'static str>>, e: StorageError) -> StorageError {
    if matches!(e, StorageError::NotWritable(_))
        && let Ok(mut g) = flag.lock()
    {
        *g = Some(e.code());
    }
    e
}

fn open_error(e: sqlx::Error) -> StorageError {
    match classify(e) {
        StorageError::Database(inner) => {
            let text = inner.to_string();
            if text.contains("not a database") || text.contains("malformed") {
                StorageError::Corrupt(inner)
            } else {
                StorageError::Database(inner)
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn creates_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/qw.sqlite");
        let store = Store::open(&path).await.unwrap();
        assert!(store.readiness().await.ready());
        store.close().await;
        let again = Store::open(&path).await.unwrap();
        assert!(again.readiness().await.ready());
    }

    #[tokio::test]
    async fn a_full_disk_fails_the_use_case_whole_and_readiness_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("qw.sqlite")).await.unwrap();
        let event = |n: usize| {
            querywarden_domain::audit_event::AuditEvent::system(
                jiff::Timestamp::from_second(1_764_000_000).unwrap(),
                querywarden_domain::audit_event::AuditAction::ConfigurationChanged,
                format!("req-{n}"),
            )
            .detail("padding", "x".repeat(3000))
        };
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(&event(0)).await.unwrap();
        tx.commit().await.unwrap();
        // SQLite's page limit gives exactly the error a full disk gives (SQLITE_FULL).
        let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(&store.writer)
            .await
            .unwrap();
        let mut failed = None;
        for n in 1..50 {
            let attempt = async {
                let mut tx = store.begin().await?;
                tx.put_setting("marker", &n.to_string()).await?;
                tx.append_audit(&event(n)).await?;
                tx.commit().await
            };
            if let Err(e) = attempt.await {
                failed = Some((n, e));
                break;
            }
        }
        let (n, err) = failed.expect("the page limit was never reached");
        assert_eq!(err.code(), "storage.not_writable", "{err}");
        // Nothing of the failed use case is there: neither its change nor its record.
        let (count, max) = store.audit_extent().await.unwrap();
        assert_eq!((count, max), (n as u64, n as u64));
        assert_eq!(
            store.setting("marker").await.unwrap(),
            Some((n - 1).to_string()).filter(|_| n > 1)
        );
        assert!(!store.readiness().await.ready());
        assert_eq!(store.write_failure_code(), Some("storage.not_writable"));
    }

    #[tokio::test]
    async fn a_read_only_database_refuses_writes_and_readiness_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("qw.sqlite")).await.unwrap();
        sqlx::query("PRAGMA query_only = 1")
            .execute(&store.writer)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let err = tx.put_setting("k", "v").await.unwrap_err();
        assert_eq!(err.code(), "storage.not_writable", "{err}");
        drop(tx);
        let r = store.readiness().await;
        assert!(r.reachable && !r.writable && !r.ready());
    }

    #[tokio::test]
    async fn refuses_a_file_that_is_not_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qw.sqlite");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        let err = Store::open(&path).await.unwrap_err();
        assert_eq!(err.code(), "storage.corrupt", "{err}");
        // Never re-created: the bytes are untouched.
        assert_eq!(std::fs::read(&path).unwrap(), vec![0x42u8; 8192]);
    }

    #[tokio::test]
    async fn refuses_a_database_from_a_newer_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qw.sqlite");
        let store = Store::open(&path).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'future', 1, x'00', 0)",
        )
        .execute(&store.writer)
        .await
        .unwrap();
        store.close().await;
        let err = Store::open(&path).await.unwrap_err();
        assert_eq!(err.code(), "storage.newer_schema", "{err}");
    }
}
