//! The store over either backend — the embedded SQLite file or a PostgreSQL server, as
//! `storage.url` says — through sqlx's `Any` driver, so every statement of the crate is
//! written once (see `crate::Db`): opening, migrations, readiness, transactions.
//!
//! PostgreSQL: each use case is its own transaction on a pooled connection, serialised with
//! every other instance's by an advisory lock ([`WRITER_LOCK`]).
//!
//! SQLite: all in WAL mode with foreign keys on and `synchronous=FULL`, because whatever the system
//! acknowledges must survive a crash. Use cases write through one connection (SQLite has one
//! writer at a time) with **group commit**: each use case runs as a savepoint inside a shared
//! outer transaction, and whoever commits next commits everything released so far with one
//! fsync. A use case is acknowledged only after that commit; if it fails, every use case in
//! the group fails and none is half-written. Readers use their own pool.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{OwnedMutexGuard, oneshot};

use crate::error::{StorageError, classify};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The PostgreSQL migrations (`migrations/postgres`), the twin of the SQLite ones.
pub static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The advisory lock every PostgreSQL write transaction takes first (an arbitrary constant,
/// "qwwr" in ASCII, paired with the schema's hash: advisory locks belong to the whole
/// database, and a bureau is one schema, so two bureaus or two tests on one server never
/// wait for each other's lock). Every use case was written for SQLite's one writer at a time: it
/// reads, decides and writes, and the audit chain's head it reads must still be the head when
/// it appends (§8: one chain, no fork). Taking this lock at `BEGIN` gives PostgreSQL the same
/// order across every instance on the database, and it is released by the transaction's own
/// commit or rollback, so a killed instance never holds it.
pub(crate) const WRITER_LOCK: i32 = 0x7177_7772;

/// The advisory lock of a round of scheduled jobs ("qwjb" in ASCII, paired with the schema's
/// hash as [`WRITER_LOCK`] is): whichever instance holds it runs the round, the others skip
/// theirs.
const JOBS_LOCK: i32 = 0x7177_6a62;

/// The right to run one round of scheduled jobs, held until [`JobLease::release`] or drop.
/// On PostgreSQL it is a session advisory lock on a connection of its own, outside the pool,
/// so it ends with the connection even if the instance is killed mid-round.
pub struct JobLease(Option<AnyConnection>);

impl JobLease {
    /// Ends the lease. The lock is given back before the connection closes: the server ends
    /// a closed connection's session (and its locks) only some moments after the client has
    /// gone, and the next round must not find it still held.
    pub async fn release(mut self) {
        if let Some(mut conn) = self.0.take() {
            let _ = sqlx::query("SELECT pg_advisory_unlock(hashtext(current_schema()), $1)")
                .bind(JOBS_LOCK)
                .execute(&mut conn)
                .await;
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// Which engine a store speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded file database (one instance, group commit).
    Sqlite,
    /// A PostgreSQL server (several instances, one transaction per use case).
    Postgres,
}

impl Backend {
    /// The backend a `storage.url` names: `postgres://` or `postgresql://`, else SQLite.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        }
    }
}

/// The readiness probe's write: tiny, and it fails where a use case's write would.
const READINESS_WRITE: &str = "INSERT INTO settings (key, value) VALUES ('readiness_probe', 'ok') \
                               ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// How long each PostgreSQL readiness probe may take (see [`Store::readiness`]).
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Read connections when the configuration says nothing (`storage.max_read_connections`).
pub const DEFAULT_READ_CONNECTIONS: u32 = 4;

/// What opening does with migrations this build has and the database lacks
/// (`storage.auto_migrate`). A database from a newer build is refused either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingMigrations {
    /// Apply them while opening (the embedded default, `demo`, `querywarden migrate`).
    Apply,
    /// Refuse to open until `querywarden migrate` has applied them: with several instances on
    /// one database, none of them changes the schema behind the others' backs.
    Refuse,
}

/// One migration applied while opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
}

/// The newest schema version this build knows.
pub fn newest_known_version() -> i64 {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// The database, opened and migrated.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    pub(crate) writer: AnyPool,
    pub(crate) reader: AnyPool,
    /// The last write failure caused by a full disk or read-only file, until a write succeeds
    /// again; readiness reports it.
    pub(crate) write_failure: Arc<Mutex<Option<&'static str>>>,
    /// The database file, for the bulk read-only scan.
    pub(crate) path: Option<std::path::PathBuf>,
    /// The use cases' write connection and its group-commit state.
    pub(crate) group: Arc<tokio::sync::Mutex<GroupConn>>,
    /// The migrations this opening applied (oldest first).
    migrated: Vec<AppliedMigration>,
    /// Keeps a temporary database (its directory, or its PostgreSQL schema) alive as long as
    /// the store.
    _temp: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

/// How a group commit failed, told to every use case of the group.
#[derive(Debug, Clone)]
struct SharedFailure {
    not_writable: bool,
    message: String,
}

/// The write connection with its open outer transaction and the use cases waiting for it
/// to commit.
pub(crate) struct GroupConn {
    // A connection of its own, not a pooled one: a pooled connection needs a Tokio runtime
    // to be returned when dropped, and a store may be dropped after its runtime is gone.
    conn: Option<AnyConnection>,
    open: bool,
    pending: Vec<oneshot::Sender<Result<(), SharedFailure>>>,
}

impl GroupConn {
    fn conn(&mut self) -> Result<&mut AnyConnection, StorageError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StorageError::Decode("the store is closed".into()))
    }
}

/// A use case's hold on its write connection (derefs to it, so statements run inside the
/// use case's savepoint on SQLite, or its own transaction on PostgreSQL).
pub(crate) enum GroupGuard {
    /// SQLite: the shared write connection, inside the group's transaction.
    Group(Option<OwnedMutexGuard<GroupConn>>),
    /// PostgreSQL: a pooled connection in a transaction of this use case alone.
    Own(Option<sqlx::Transaction<'static, Any>>),
}

impl std::ops::Deref for GroupGuard {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        #[allow(
            clippy::expect_used,
            reason = "the guard and its connection exist until commit or drop, which consume them"
        )]
        match self {
            GroupGuard::Group(g) => g
                .as_ref()
                .and_then(|g| g.conn.as_ref())
                .expect("write connection held"),
            GroupGuard::Own(t) => t.as_deref().expect("write connection held"),
        }
    }
}

impl std::ops::DerefMut for GroupGuard {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        #[allow(
            clippy::expect_used,
            reason = "the guard and its connection exist until commit or drop, which consume them"
        )]
        match self {
            GroupGuard::Group(g) => g
                .as_mut()
                .and_then(|g| g.conn.as_mut())
                .expect("write connection held"),
            GroupGuard::Own(t) => t.as_deref_mut().expect("write connection held"),
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.backend {
            Backend::Sqlite => f.write_str("Store(sqlite)"),
            Backend::Postgres => f.write_str("Store(postgres)"),
        }
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

/// One use case's write transaction (a savepoint in the group's transaction). Dropping it
/// without [`WriteTx::commit`] rolls it back.
pub struct WriteTx {
    pub(crate) tx: GroupGuard,
    group: Arc<tokio::sync::Mutex<GroupConn>>,
    write_failure: Arc<Mutex<Option<&'static str>>>,
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // PostgreSQL: dropping the transaction rolls it back when its connection goes home.
        let GroupGuard::Group(slot) = &mut self.tx else {
            return;
        };
        let Some(mut guard) = slot.take() else {
            return;
        };
        // Undo this use case only; the connection is released once that is done.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Ok(conn) = guard.conn() {
                    let _ = sqlx::query("ROLLBACK TO uc").execute(&mut *conn).await;
                    let _ = sqlx::query("RELEASE uc").execute(&mut *conn).await;
                }
                if guard.pending.is_empty() && guard.open {
                    if let Ok(conn) = guard.conn() {
                        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    }
                    guard.open = false;
                }
            });
        }
    }
}

impl Store {
    /// Opens the database file at `path`, creating it (and its directory) only if it does not
    /// exist, and applies pending migrations. A damaged file or one from a newer build is
    /// refused, never re-created.
    pub async fn open(path: &Path) -> Result<Store, StorageError> {
        Self::open_bounded(path, DEFAULT_READ_CONNECTIONS).await
    }

    /// [`Store::open`] with at most `read_connections` read connections (at least one) beside
    /// the writer: the pool is bounded, so a flood of requests waits for a connection.
    pub async fn open_bounded(path: &Path, read_connections: u32) -> Result<Store, StorageError> {
        Self::open_with_policy(path, read_connections, PendingMigrations::Apply).await
    }

    /// Opens the database `storage.url` names: a `postgres://` (or `postgresql://`) URL, or a
    /// SQLite file as `sqlite:PATH`, `sqlite://PATH` or a bare path.
    pub async fn open_url(
        url: &str,
        read_connections: u32,
        pending: PendingMigrations,
    ) -> Result<Store, StorageError> {
        match Backend::of_url(url) {
            Backend::Postgres => Self::open_postgres(url, read_connections, pending).await,
            Backend::Sqlite => {
                let path = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or(url);
                Self::open_with_policy(Path::new(path), read_connections, pending).await
            }
        }
    }

    /// [`Store::open_bounded`] that applies pending migrations only under
    /// [`PendingMigrations::Apply`]; under [`PendingMigrations::Refuse`] a database that lacks
    /// some (or does not exist yet) is refused with [`StorageError::OlderSchema`] and left as
    /// it was.
    pub async fn open_with_policy(
        path: &Path,
        read_connections: u32,
        pending: PendingMigrations,
    ) -> Result<Store, StorageError> {
        if pending == PendingMigrations::Refuse && !path.exists() {
            return Err(StorageError::OlderSchema {
                found: 0,
                known: newest_known_version(),
            });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StorageError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        sqlx::any::install_default_drivers();
        let url = sqlite_url(path);
        let options =
            AnyConnectOptions::from_str(&format!("{url}?mode=rwc")).map_err(open_error)?;
        let read_options =
            AnyConnectOptions::from_str(&format!("{url}?mode=ro")).map_err(open_error)?;
        let mut store =
            Self::open_with(options, read_options, read_connections.max(1), pending).await?;
        store.path = Some(path.to_path_buf());
        Ok(store)
    }

    /// The PostgreSQL database at `url`: one pool for the use cases' transactions and one for
    /// reads, migrations from `migrations/postgres`. An unreachable server is refused at once
    /// with the server's own reason.
    async fn open_postgres(
        url: &str,
        read_connections: u32,
        pending: PendingMigrations,
    ) -> Result<Store, StorageError> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url).map_err(StorageError::Database)?;
        // One plain connection first: its error is the server's own ("connection refused",
        // "password authentication failed"), where a pool would only say it timed out.
        let probe = sqlx::ConnectOptions::connect(&options)
            .await
            .map_err(StorageError::Database)?;
        let _ = sqlx::Connection::close(probe).await;
        let read_connections = read_connections.max(1);
        let writer = AnyPoolOptions::new()
            .max_connections(read_connections + 4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(StorageError::Database)?;
        let reader = AnyPoolOptions::new()
            .max_connections(read_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(StorageError::Database)?;
        let mut store = Store::assemble(Backend::Postgres, writer, reader);
        store.migrated = store.migrate(pending).await?;
        Ok(store)
    }

    fn assemble(backend: Backend, writer: AnyPool, reader: AnyPool) -> Store {
        Store {
            backend,
            writer,
            reader,
            write_failure: Arc::default(),
            path: None,
            group: Arc::new(tokio::sync::Mutex::new(GroupConn {
                conn: None,
                open: false,
                pending: Vec::new(),
            })),
            migrated: Vec::new(),
            _temp: None,
        }
    }

    /// A private database removed when the last clone of the store is dropped (tests of the
    /// layers above): a file in a temporary directory, or — with
    /// `QUERYWARDEN_TEST_BACKEND=postgres` — a fresh schema of its own on the test server
    /// ([`crate::pg_testing`]), so the same tests run on both backends. Without a server the
    /// PostgreSQL run says so once and uses SQLite, unless `QUERYWARDEN_REQUIRE_POSTGRES=1`.
    pub async fn open_temporary() -> Result<Store, StorageError> {
        if std::env::var(TEST_BACKEND_VAR).is_ok_and(|v| v == "postgres")
            && let Some(schema) = crate::pg_testing::TestSchema::empty().await
        {
            let mut store = Self::open_postgres(
                &schema.url(),
                DEFAULT_READ_CONNECTIONS,
                PendingMigrations::Apply,
            )
            .await?;
            store._temp = Some(Arc::new(schema));
            return Ok(store);
        }
        let dir = tempfile::tempdir().map_err(|source| StorageError::DataDir {
            path: std::env::temp_dir().display().to_string(),
            source,
        })?;
        let mut store = Self::open(&dir.path().join("querywarden.sqlite")).await?;
        store._temp = Some(Arc::new(dir));
        Ok(store)
    }

    /// Same as [`Store::open_temporary`] (kept for the tests written against it).
    pub async fn open_in_memory() -> Result<Store, StorageError> {
        Self::open_temporary().await
    }

    /// The newest schema version this build knows for this store's engine.
    pub fn newest_known_version(&self) -> i64 {
        migrator_newest(self.backend.migrator())
    }

    /// Which engine this store speaks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The most read connections the pool holds at once.
    pub fn read_connections_limit(&self) -> u32 {
        self.reader.options().get_max_connections()
    }

    /// The migrations this opening applied, oldest first (empty when the schema was current).
    pub fn migrations_applied(&self) -> &[AppliedMigration] {
        &self.migrated
    }

    async fn open_with(
        options: AnyConnectOptions,
        read_options: AnyConnectOptions,
        read_connections: u32,
        pending: PendingMigrations,
    ) -> Result<Store, StorageError> {
        // The first real read, on a plain connection, tells a damaged or foreign file apart
        // (a pool would retry such a file until it timed out).
        let mut probe: AnyConnection = sqlx::ConnectOptions::connect(&options)
            .await
            .map_err(open_error)?;
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .execute(&mut probe)
            .await
            .map_err(open_error)?;
        let _ = sqlx::Connection::close(probe).await;
        // Migrations and administrative statements; use cases have the group connection.
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| Box::pin(sqlite_pragmas(conn, true)))
            .connect_with(options.clone())
            .await
            .map_err(open_error)?;
        let reader = AnyPoolOptions::new()
            .max_connections(read_connections)
            .after_connect(|conn, _| Box::pin(sqlite_pragmas(conn, false)))
            .connect_with(read_options)
            .await
            .map_err(open_error)?;
        let mut store = Store::assemble(Backend::Sqlite, writer, reader);
        store.migrated = store.migrate(pending).await?;
        let mut conn: AnyConnection = sqlx::ConnectOptions::connect(&options)
            .await
            .map_err(open_error)?;
        sqlite_pragmas(&mut conn, true).await.map_err(open_error)?;
        store.group = Arc::new(tokio::sync::Mutex::new(GroupConn {
            conn: Some(conn),
            open: false,
            pending: Vec::new(),
        }));
        Ok(store)
    }

    async fn migrate(
        &self,
        policy: PendingMigrations,
    ) -> Result<Vec<AppliedMigration>, StorageError> {
        let migrator = self.backend.migrator();
        let known = migrator_newest(migrator);
        let applied = self.applied_versions().await?;
        if let Some(&found) = applied.iter().max().filter(|&&v| v > known) {
            return Err(StorageError::NewerSchema { found, known });
        }
        let pending: Vec<AppliedMigration> = migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| AppliedMigration {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect();
        if pending.is_empty() {
            return Ok(pending);
        }
        if policy == PendingMigrations::Refuse {
            return Err(StorageError::OlderSchema {
                found: applied.iter().max().copied().unwrap_or(0),
                known,
            });
        }
        migrator
            .run(&self.writer)
            .await
            .map_err(StorageError::Migration)?;
        Ok(pending)
    }

    async fn applied_versions(&self) -> Result<BTreeSet<i64>, StorageError> {
        let exists = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let table: Option<(String,)> = sqlx::query_as(exists)
            .fetch_optional(&self.writer)
            .await
            .map_err(classify)?;
        if table.is_none() {
            return Ok(BTreeSet::new());
        }
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.writer)
                .await
                .map_err(classify)?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    /// Database reachable, every migration of this build applied, and the database writable.
    pub async fn readiness(&self) -> Readiness {
        if self.backend == Backend::Postgres {
            return self.postgres_readiness().await;
        }
        let reachable = sqlx::query("SELECT 1").execute(&self.reader).await.is_ok();
        let migrator = self.backend.migrator();
        let migrations_current = match self.applied_versions().await {
            Ok(applied) => migrator.iter().all(|m| applied.contains(&m.version)),
            Err(_) => false,
        };
        // A real (tiny) write: it fails on a read-only file or a full disk. A full disk can
        // still allow rewriting existing pages, so the last failed use case counts too until
        // a write succeeds again.
        // (Autocommit on the use cases' own connection, outside any use case: it must not
        // clear a use case's failure. While a group is committing, that commit tells.)
        let probe_ok = {
            let mut g = self.group.lock().await;
            if g.open {
                true
            } else {
                match g.conn() {
                    Ok(conn) => sqlx::query(READINESS_WRITE)
                        .execute(&mut *conn)
                        .await
                        .is_ok(),
                    Err(_) => false,
                }
            }
        };
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

    /// [`Store::readiness`] on PostgreSQL, each probe bounded by [`PROBE_TIMEOUT`]: while the
    /// server refuses connections the pool retries a new one for its whole acquire timeout,
    /// and `/readyz` must say "not ready" at once, not hang that long. Unreachable, the other
    /// probes are not tried (each would wait as long).
    async fn postgres_readiness(&self) -> Readiness {
        let bounded = |f| async move { tokio::time::timeout(PROBE_TIMEOUT, f).await.ok() };
        let reachable = bounded(sqlx::query("SELECT 1").execute(&self.reader))
            .await
            .is_some_and(|r| r.is_ok());
        if !reachable {
            return Readiness {
                reachable,
                migrations_current: false,
                writable: false,
            };
        }
        let migrator = self.backend.migrator();
        let migrations_current =
            match tokio::time::timeout(PROBE_TIMEOUT, self.applied_versions()).await {
                Ok(Ok(applied)) => migrator.iter().all(|m| applied.contains(&m.version)),
                _ => false,
            };
        // A real (tiny) write through the use cases' pool: it fails on a read-only standby
        // (after a fail-over that left this instance on a replica) or a full disk.
        let writable = bounded(sqlx::query(READINESS_WRITE).execute(&self.writer))
            .await
            .is_some_and(|r| r.is_ok());
        Readiness {
            reachable,
            migrations_current,
            writable,
        }
    }

    /// Starts a use case's write transaction. SQLite: waits for the write connection, joins
    /// (or opens) the group's transaction, and sets a savepoint for this use case.
    /// PostgreSQL: a transaction of its own on a pooled connection, holding [`WRITER_LOCK`].
    pub async fn begin(&self) -> Result<WriteTx, StorageError> {
        let noted = |e: sqlx::Error| note_failure(&self.write_failure, classify(e));
        if self.backend == Backend::Postgres {
            let mut tx = self.writer.begin().await.map_err(noted)?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema()), $1)")
                .bind(WRITER_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(noted)?;
            return Ok(WriteTx {
                tx: GroupGuard::Own(Some(tx)),
                group: self.group.clone(),
                write_failure: self.write_failure.clone(),
            });
        }
        let mut guard = self.group.clone().lock_owned().await;
        if !guard.open {
            sqlx::query("BEGIN IMMEDIATE")
                .execute(guard.conn()?)
                .await
                .map_err(noted)?;
            guard.open = true;
        }
        if let Err(e) = sqlx::query("SAVEPOINT uc").execute(guard.conn()?).await {
            if guard.pending.is_empty() {
                let _ = sqlx::query("ROLLBACK").execute(guard.conn()?).await;
                guard.open = false;
            }
            return Err(noted(e));
        }
        Ok(WriteTx {
            tx: GroupGuard::Group(Some(guard)),
            group: self.group.clone(),
            write_failure: self.write_failure.clone(),
        })
    }

    /// The lease of one round of scheduled jobs, or `None` when another instance is running
    /// one: each job then runs once across every instance on the database. On SQLite (one
    /// instance per file) the lease is always granted.
    pub async fn job_lease(&self) -> Result<Option<JobLease>, StorageError> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(JobLease(None)));
        }
        let mut conn = self.writer.acquire().await.map_err(classify)?.detach();
        let (granted,): (bool,) =
            sqlx::query_as("SELECT pg_try_advisory_lock(hashtext(current_schema()), $1)")
                .bind(JOBS_LOCK)
                .fetch_one(&mut conn)
                .await
                .map_err(classify)?;
        if granted {
            Ok(Some(JobLease(Some(conn))))
        } else {
            let _ = sqlx::Connection::close(conn).await;
            Ok(None)
        }
    }

    /// The code of the last write that failed for lack of space or permission, if no write
    /// has succeeded since.
    pub fn write_failure_code(&self) -> Option<&'static str> {
        self.write_failure.lock().ok().and_then(|g| *g)
    }

    /// Closes the pools, waiting for connections to finish (so WAL is checkpointed cleanly).
    pub async fn close(&self) {
        {
            let mut g = self.group.lock().await;
            if g.open && g.pending.is_empty() {
                if let Ok(conn) = g.conn() {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                }
                g.open = false;
            }
            if let Some(conn) = g.conn.take() {
                let _ = sqlx::Connection::close(conn).await;
            }
        }
        self.writer.close().await;
        self.reader.close().await;
    }

    /// A stored setting, if present.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        Ok(row.map(|(v,)| v))
    }
}

/// Set to `postgres` to run the tests of every layer on PostgreSQL ([`Store::open_temporary`]).
pub const TEST_BACKEND_VAR: &str = "QUERYWARDEN_TEST_BACKEND";

fn migrator_newest(migrator: &Migrator) -> i64 {
    migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// `sqlite://PATH` with the characters a URL would take for its own percent-encoded.
fn sqlite_url(path: &Path) -> String {
    let mut url = String::from("sqlite://");
    for c in path.display().to_string().chars() {
        match c {
            '%' => url.push_str("%25"),
            '?' => url.push_str("%3F"),
            '#' => url.push_str("%23"),
            c => url.push(c),
        }
    }
    url
}

/// Every SQLite connection: foreign keys on and a busy timeout; the writing ones also WAL
/// and `synchronous=FULL`, because whatever the system acknowledges must survive a crash.
async fn sqlite_pragmas(conn: &mut AnyConnection, writing: bool) -> Result<(), sqlx::Error> {
    let mut pragmas = vec!["PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 10000"];
    if writing {
        pragmas.extend(["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"]);
    }
    for pragma in pragmas {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    Ok(())
}

impl WriteTx {
    /// Commits the state change and its audit records together. Returns once they are
    /// durable: either this call commits the group, or an earlier committer did.
    pub async fn commit(mut self) -> Result<(), StorageError> {
        let failure = self.write_failure.clone();
        let group = self.group.clone();
        if let GroupGuard::Own(slot) = &mut self.tx {
            let Some(tx) = slot.take() else {
                return Err(StorageError::Decode("transaction already finished".into()));
            };
            tx.commit()
                .await
                .map_err(|e| note_failure(&failure, classify(e)))?;
            if let Ok(mut g) = failure.lock() {
                *g = None;
            }
            return Ok(());
        }
        let (done, acknowledged) = oneshot::channel();
        {
            let GroupGuard::Group(slot) = &mut self.tx else {
                return Err(StorageError::Decode("transaction already finished".into()));
            };
            let Some(guard) = slot.as_mut() else {
                return Err(StorageError::Decode("transaction already finished".into()));
            };
            let released = sqlx::query("RELEASE uc").execute(guard.conn()?).await;
            if let Err(e) = released {
                // Drop rolls the savepoint back.
                return Err(note_failure(&failure, classify(e)));
            }
            guard.pending.push(done);
        }
        // Let use cases queued behind this one add their savepoints, then commit them all.
        if let GroupGuard::Group(slot) = &mut self.tx {
            drop(slot.take());
        }
        drop(self);
        {
            let mut g = group.lock_owned().await;
            if g.open && !g.pending.is_empty() {
                let result = match g.conn() {
                    Ok(conn) => sqlx::query("COMMIT").execute(&mut *conn).await,
                    Err(_) => Err(sqlx::Error::PoolClosed),
                };
                let outcome = match result {
                    Ok(_) => Ok(()),
                    Err(e) => {
                        if let Ok(conn) = g.conn() {
                            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                        }
                        let e = classify(e);
                        Err(SharedFailure {
                            not_writable: matches!(e, StorageError::NotWritable(_)),
                            message: e.to_string(),
                        })
                    }
                };
                g.open = false;
                for waiter in g.pending.drain(..) {
                    let _ = waiter.send(outcome.clone());
                }
            }
        }
        match acknowledged.await {
            Ok(Ok(())) => {
                if let Ok(mut g) = failure.lock() {
                    *g = None;
                }
                Ok(())
            }
            Ok(Err(f)) => Err(note_failure(
                &failure,
                StorageError::CommitFailed {
                    not_writable: f.not_writable,
                    message: f.message,
                },
            )),
            Err(_) => Err(StorageError::CommitFailed {
                not_writable: false,
                message: "the commit was abandoned".into(),
            }),
        }
    }

    /// Records a disk-full or read-only failure seen inside this transaction.
    pub(crate) fn noted(&self, e: StorageError) -> StorageError {
        note_failure(&self.write_failure, e)
    }

    pub async fn put_setting(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
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
    if matches!(
        e,
        StorageError::NotWritable(_)
            | StorageError::CommitFailed {
                not_writable: true,
                ..
            }
    ) && let Ok(mut g) = flag.lock()
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
    async fn the_read_pool_never_holds_more_connections_than_configured() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_bounded(&dir.path().join("qw.sqlite"), 2)
            .await
            .unwrap();
        assert_eq!(store.read_connections_limit(), 2);
        // Sixteen reads at once: all answered, through at most two connections.
        let reads: Vec<_> = (0..16)
            .map(|_| {
                let pool = store.reader.clone();
                tokio::spawn(async move {
                    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM sqlite_master")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    n
                })
            })
            .collect();
        for r in reads {
            assert!(r.await.unwrap() > 0);
            assert!(store.reader.size() <= 2, "{}", store.reader.size());
        }
        assert!(store.reader.size() <= 2);
        // Zero is no pool at all: it opens one connection.
        let one = Store::open_bounded(&dir.path().join("qw1.sqlite"), 0)
            .await
            .unwrap();
        assert_eq!(one.read_connections_limit(), 1);
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
        {
            let mut g = store.group.lock().await;
            sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
                .execute(g.conn().unwrap())
                .await
                .unwrap();
        }
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
        {
            let mut g = store.group.lock().await;
            sqlx::query("PRAGMA query_only = 1")
                .execute(g.conn().unwrap())
                .await
                .unwrap();
        }
        // Refused when the use case starts (BEGIN IMMEDIATE needs the write lock).
        let err = match store.begin().await {
            Err(e) => e,
            Ok(mut tx) => tx.put_setting("k", "v").await.unwrap_err(),
        };
        assert_eq!(err.code(), "storage.not_writable", "{err}");
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
    async fn applying_reports_each_migration_once_and_then_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qw.sqlite");
        let store = Store::open(&path).await.unwrap();
        let applied: Vec<i64> = store
            .migrations_applied()
            .iter()
            .map(|m| m.version)
            .collect();
        let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert_eq!(applied, known);
        assert_eq!(applied.last().copied(), Some(newest_known_version()));
        store.close().await;
        let again = Store::open(&path).await.unwrap();
        assert!(again.migrations_applied().is_empty());
    }

    #[tokio::test]
    async fn refusing_pending_migrations_leaves_an_older_database_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qw.sqlite");
        // No database yet: refused, and none is created.
        let err = Store::open_with_policy(&path, 1, PendingMigrations::Refuse)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StorageError::OlderSchema { found: 0, known } if known == newest_known_version()),
            "{err}"
        );
        assert!(!path.exists());
        // A database that lacks the newest migration: refused, naming both versions.
        let store = Store::open(&path).await.unwrap();
        let newest = newest_known_version();
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
            .bind(newest)
            .execute(&store.writer)
            .await
            .unwrap();
        let (previous,): (i64,) = sqlx::query_as("SELECT max(version) FROM _sqlx_migrations")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        store.close().await;
        let err = Store::open_with_policy(&path, 1, PendingMigrations::Refuse)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "storage.older_schema");
        assert!(
            matches!(err, StorageError::OlderSchema { found, known } if found == previous && known == newest),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&previous.to_string()) && text.contains(&newest.to_string()),
            "{text}"
        );
        assert!(text.contains("querywarden migrate"), "{text}");
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
        // Whatever the policy: a newer schema is never "pending".
        let err = Store::open_with_policy(&path, 1, PendingMigrations::Refuse)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "storage.newer_schema", "{err}");
        assert!(err.to_string().contains("99990101000000"), "{err}");
    }
}

#[cfg(test)]
mod placeholder_tests {
    use super::*;

    /// Every statement is written with `$N` placeholders so that PostgreSQL takes the same
    /// text: sqlx's SQLite driver must bind them by number, not by order of appearance.
    #[tokio::test]
    async fn sqlite_binds_dollar_placeholders_by_number() {
        let store = Store::open_temporary().await.unwrap();
        let (a, b, again): (String, i64, String) = sqlx::query_as("SELECT $2, $1, $2")
            .bind(7_i64)
            .bind("second")
            .fetch_one(&store.reader)
            .await
            .unwrap();
        assert_eq!((a.as_str(), b, again.as_str()), ("second", 7, "second"));
    }
}

#[cfg(test)]
mod group_commit_tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_use_cases_all_land_and_a_dropped_one_leaves_nothing() {
        let store = Store::open_temporary().await.unwrap();
        let mut tasks = Vec::new();
        for n in 0..40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.put_setting(&format!("k{n}"), "v").await.unwrap();
                if n % 10 == 3 {
                    drop(tx); // abandoned: must not land
                    return false;
                }
                tx.commit().await.unwrap();
                true
            }));
        }
        let mut committed = 0;
        for t in tasks {
            if t.await.unwrap() {
                committed += 1;
            }
        }
        assert_eq!(committed, 36);
        for n in 0..40 {
            let v = store.setting(&format!("k{n}")).await.unwrap();
            assert_eq!(v.is_some(), n % 10 != 3, "k{n}");
        }
    }

    #[tokio::test]
    async fn an_acknowledged_commit_is_visible_to_readers_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qw.sqlite");
        let store = Store::open(&path).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.put_setting("durable", "yes").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.setting("durable").await.unwrap().as_deref(),
            Some("yes")
        );
        store.close().await;
        let again = Store::open(&path).await.unwrap();
        assert_eq!(
            again.setting("durable").await.unwrap().as_deref(),
            Some("yes")
        );
    }
}
