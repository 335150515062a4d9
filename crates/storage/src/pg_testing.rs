//! Test support for the PostgreSQL half of the suite: a fresh schema of its own for each
//! test on the machine's server, so tests run in parallel without seeing each other.
//!
//! The server is `postgres://postgres@127.0.0.1:5432/test` (trust auth) unless
//! `QUERYWARDEN_TEST_POSTGRES_URL` names another. Without a server the PostgreSQL tests print
//! one line saying they were skipped and why, and pass — unless
//! `QUERYWARDEN_REQUIRE_POSTGRES=1` is set (CI sets it), then they fail.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a server that refuses what a test needs fails that test"
)]

use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use crate::sqlite::POSTGRES_MIGRATOR;

/// The server the PostgreSQL tests use when `QUERYWARDEN_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Set to `1` to make a missing server a failure instead of a skip.
pub const REQUIRE_VAR: &str = "QUERYWARDEN_REQUIRE_POSTGRES";

/// Names another server for the tests.
pub const URL_VAR: &str = "QUERYWARDEN_TEST_POSTGRES_URL";

static SKIP_SAID: AtomicBool = AtomicBool::new(false);
static SCHEMAS: AtomicU64 = AtomicU64::new(0);

/// A schema of one test's own, migrated or empty, dropped (with everything in it) when the
/// value is dropped or [`TestSchema::drop_now`] is awaited.
pub struct TestSchema {
    name: String,
    url: String,
    pool: PgPool,
    admin: PgConnectOptions,
    dropped: bool,
}

impl TestSchema {
    /// A fresh schema with every PostgreSQL migration applied. `None` when there is no
    /// server and it is not required (the skip is said once per test binary).
    pub async fn migrated() -> Option<TestSchema> {
        let schema = Self::empty().await?;
        POSTGRES_MIGRATOR
            .run(&schema.pool)
            .await
            .expect("the PostgreSQL migrations apply to a fresh schema");
        Some(schema)
    }

    /// A fresh, empty schema (`CREATE SCHEMA qw_…`), every connection of [`TestSchema::pool`]
    /// with it alone on its `search_path`.
    pub async fn empty() -> Option<TestSchema> {
        let url = std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_TEST_URL.to_string());
        let admin = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL: {e}"));
        // One plain connection first: its error is the server's own ("connection refused"),
        // where a pool would only say it timed out.
        let mut probe = match sqlx::ConnectOptions::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                skip_or_fail(&admin, &e);
                return None;
            }
        };
        let name = schema_name();
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut probe)
            .await
            .expect("CREATE SCHEMA on the test server");
        let _ = sqlx::Connection::close(probe).await;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(admin.clone().options([("search_path", name.as_str())]))
            .await
            .expect("connect to the fresh schema");
        // The same schema as a URL, for a store opened the way `storage.url` opens one.
        // Its connections are named after it, so the drop can end any still open.
        let url = format!(
            "{url}{}options=-c%20search_path%3D{name}&application_name={name}",
            if url.contains('?') { '&' } else { '?' }
        );
        Some(TestSchema {
            url,
            name,
            pool,
            admin,
            dropped: false,
        })
    }

    /// Connections to this schema only.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A `storage.url` for this schema alone (the server's URL with its `search_path`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The schema's name (`qw_…`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the schema now (otherwise dropping the value does it on a thread of its own).
    pub async fn drop_now(mut self) {
        self.pool.close().await;
        drop_schema(&self.admin, &self.name).await;
        self.dropped = true;
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // A panicking test still cleans up: the drop needs a runtime, and the test's own
        // may be gone or busy, so a short-lived one on another thread does it.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_schema(&admin, &name));
            }
        })
        .join();
    }
}

async fn drop_schema(admin: &PgConnectOptions, name: &str) {
    if let Ok(pool) = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(admin.clone())
        .await
    {
        // A store's connection may still be in a transaction whose rollback waits for a
        // runtime the test no longer drives: end them, or the drop would wait on their locks.
        let _ = sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .execute(&pool)
        .await;
        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}

/// `qw_<pid>_<counter>_<nanoseconds>`: unique across the parallel tests of one binary and
/// across binaries running at once.
fn schema_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "qw_{}_{}_{nanos}",
        std::process::id(),
        SCHEMAS.fetch_add(1, Ordering::Relaxed)
    )
}

fn skip_or_fail(admin: &PgConnectOptions, e: &sqlx::Error) {
    let server = format!(
        "{}:{}/{}",
        admin.get_host(),
        admin.get_port(),
        admin.get_database().unwrap_or("")
    );
    if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
        panic!("PostgreSQL is required ({REQUIRE_VAR}=1) but {server} does not answer: {e}");
    }
    if !SKIP_SAID.swap(true, Ordering::Relaxed) {
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL tests skipped: no server at {server} ({e}); \
             set {REQUIRE_VAR}=1 to make this a failure"
        );
    }
}
