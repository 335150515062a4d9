//! Both backends side by side, in one run, on one machine: a durable action with its audit
//! record one at a time and from 16 clients at once, a bulk append, and the whole-trail scan
//! `audit verify` reads through; with a bare PostgreSQL one-row-commit loop as the baseline
//! of what the server can commit at all. Figures go into BENCHMARKS.md.
//!
//! Run: `cargo bench -p querywarden-storage --bench backends` (PostgreSQL at
//! `QUERYWARDEN_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark that cannot set itself up should stop; it prints its table"
)]

use std::time::{Duration, Instant};

use querywarden_domain::audit_event::AuditEvent;
use querywarden_domain::testing::audit_event;
use querywarden_storage::pg_testing::TestSchema;
use querywarden_storage::{AuditVisitor, PendingMigrations, ScanRecord, Store};
use sqlx::Connection;

const ONE_AT_A_TIME: u32 = 1_000;
const CLIENTS: u32 = 16;
const CONCURRENT: u32 = 2_000;
const TRAIL: u64 = 100_000;

/// One durable action: a setting changed and its audit record, one use case.
async fn action(store: &Store, n: u64) {
    let mut tx = store.begin().await.unwrap();
    tx.put_setting("bench", &n.to_string()).await.unwrap();
    tx.append_audit(&audit_event(n)).await.unwrap();
    tx.commit().await.unwrap();
}

struct Count(u64);

impl AuditVisitor for Count {
    fn visit(&mut self, _: ScanRecord<'_>) -> bool {
        self.0 += 1;
        true
    }
}

struct Figures {
    one: Duration,
    concurrent_per_s: f64,
    bulk_per_s: f64,
    scan_per_s: f64,
}

async fn measure(store: &Store) -> Figures {
    for n in 0..50 {
        action(store, n).await;
    }
    let t = Instant::now();
    for n in 0..u64::from(ONE_AT_A_TIME) {
        action(store, n).await;
    }
    let one = t.elapsed() / ONE_AT_A_TIME;

    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..CONCURRENT / CLIENTS {
                action(&store, u64::from(c * 100_000 + i)).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let concurrent_per_s = f64::from(CONCURRENT) / t.elapsed().as_secs_f64();

    let (already, _) = store.audit_extent().await.unwrap();
    let t = Instant::now();
    let mut n = already;
    while n < TRAIL {
        let batch: Vec<AuditEvent> = (n..(n + 5_000).min(TRAIL)).map(audit_event).collect();
        let mut tx = store.begin().await.unwrap();
        tx.append_audit_batch(&batch).await.unwrap();
        tx.commit().await.unwrap();
        n += batch.len() as u64;
    }
    let bulk_per_s = (TRAIL - already) as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    let counted = store.scan_audit(Count(0)).await.unwrap();
    assert_eq!(counted.0, TRAIL);
    let scan_per_s = TRAIL as f64 / t.elapsed().as_secs_f64();
    Figures {
        one,
        concurrent_per_s,
        bulk_per_s,
        scan_per_s,
    }
}

/// The server's own floor: one-row INSERTs, each its own commit, on one connection.
async fn bare_postgres_commit(schema: &TestSchema) -> Duration {
    let mut conn = schema.pool().acquire().await.unwrap();
    sqlx::query("CREATE TABLE bare (n BIGINT NOT NULL)")
        .execute(&mut *conn)
        .await
        .unwrap();
    let t = Instant::now();
    for n in 0..i64::from(ONE_AT_A_TIME) {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("INSERT INTO bare (n) VALUES ($1)")
            .bind(n)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    t.elapsed() / ONE_AT_A_TIME
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let lite = Store::open(&dir.path().join("bench.sqlite")).await.unwrap();
        let sqlite = measure(&lite).await;
        lite.close().await;

        let schema = TestSchema::empty()
            .await
            .expect("a PostgreSQL server for the comparison");
        let pg = Store::open_url(&schema.url(), 4, PendingMigrations::Apply)
            .await
            .unwrap();
        let postgres = measure(&pg).await;
        pg.close().await;
        let bare = bare_postgres_commit(&schema).await;
        schema.drop_now().await;

        println!("| what | SQLite | PostgreSQL |");
        println!("|---|---|---|");
        println!(
            "| durable action with its audit record, one at a time ({ONE_AT_A_TIME}) | {:.0} µs | {:.0} µs |",
            sqlite.one.as_secs_f64() * 1e6,
            postgres.one.as_secs_f64() * 1e6
        );
        println!(
            "| the same from {CLIENTS} clients at once ({CONCURRENT}) | {:.0} actions/s | {:.0} actions/s |",
            sqlite.concurrent_per_s, postgres.concurrent_per_s
        );
        println!(
            "| bulk append to {TRAIL} records (5,000 a use case) | {:.0} records/s | {:.0} records/s |",
            sqlite.bulk_per_s, postgres.bulk_per_s
        );
        println!(
            "| whole-trail scan ({TRAIL} records) | {:.0} records/s | {:.0} records/s |",
            sqlite.scan_per_s, postgres.scan_per_s
        );
        println!(
            "| bare PostgreSQL one-row commit (baseline) | — | {:.0} µs |",
            bare.as_secs_f64() * 1e6
        );
    });
}
