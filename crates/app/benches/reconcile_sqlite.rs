//! §7 reconciliation of a quarter read from SQLite: 1,000,000 platform usage records against
//! 1,000,000 executions, read through the storage layer and reconciled by
//! `oversight::reconciliation::analyse` — the whole of what "reconcile now" and the quarterly
//! review do, not only the in-memory join (`querywarden-domain --bench reconcile`).
//!
//! Run: `cargo bench -p querywarden-app --bench reconcile_sqlite` (`QW_BENCH_N=…` to change
//! the size). One measured run after filling the database: the figures are the wall time of
//! `analyse` and the process's peak resident memory during it (`VmHWM`, reset just before
//! through `/proc/self/clear_refs`). Figures go into BENCHMARKS.md.
//!
//! The plants: 1 usage record in 1,000 names a subject nobody registered (a query outside
//! the system) and its execution is missing, so the run must find exactly those.
//!
//! `QW_BENCH_DB=<file>` keeps the filled database for later runs (the same `QW_BENCH_N`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark that cannot set itself up should stop"
)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use querywarden_app::config::OversightSettings;
use querywarden_app::keys::KeyRing;
use querywarden_app::oversight::reconciliation::analyse;
use querywarden_app::permission::PermissionPolicy;
use querywarden_app::{demo, demo_grants};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::Account;
use querywarden_domain::testing::peak_resident_kib;
use querywarden_storage::Store;
use sha2::{Digest, Sha256};

/// `h`:00 Taipei time on `d`.
fn taipei(d: Date, h: i8) -> Timestamp {
    d.at(h, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .unwrap()
        .timestamp()
}

/// The database and its keys: kept beside `QW_BENCH_DB=<file>` for the next run, which then
/// measures `analyse` alone (filling a million rows of each takes minutes), else in `dir`.
fn database_paths(dir: &Path) -> (PathBuf, PathBuf) {
    let kept = std::env::var_os("QW_BENCH_DB").map(PathBuf::from);
    let db = kept
        .clone()
        .unwrap_or_else(|| dir.join("querywarden.sqlite"));
    let keys_dir = kept
        .as_ref()
        .map_or_else(|| dir.join("keys"), |p| p.with_extension("keys"));
    (db, keys_dir)
}

/// The store and keys; a fresh database is initialised with the demo organisation and its
/// queriers' grants.
async fn open_demo(db: &Path, keys_dir: &Path, t0: Timestamp, fresh: bool) -> (Store, KeyRing) {
    let store = Store::open(db).await.unwrap();
    let keys = KeyRing::open_or_create(keys_dir, t0).unwrap();
    if !fresh {
        return (store, keys);
    }
    demo::initialise(&store, t0, "bench").await.unwrap();
    demo::seed_demo(&store, t0, "bench").await.unwrap();
    demo_grants::grant_demo_queriers(&store, &keys, &PermissionPolicy::default(), t0, "bench")
        .await
        .unwrap();
    (store, keys)
}

/// The simulated quarter: its size, its working days, the two queriers (id, account) who
/// run every query, and the HMAC key the subjects are digested under.
struct Quarter {
    n: usize,
    t0: Timestamp,
    days: Vec<Date>,
    queriers: Vec<(i64, String)>,
    key_id: String,
}

impl Quarter {
    async fn of(store: &Store, keys: &KeyRing, n: usize, t0: Timestamp) -> Quarter {
        let mut queriers = Vec::new();
        for a in ["lin.meiling", "li.guowei"] {
            let p = store
                .person_by_account(&Account::parse(a).unwrap())
                .await
                .unwrap()
                .unwrap();
            queriers.push((p.id.get(), a.to_string()));
        }
        let calendar = HolidayCalendar::seeded().unwrap();
        let mut days = Vec::new();
        let mut d = date(2026, 1, 5);
        while d < date(2026, 3, 31) {
            if calendar.is_working_day(d) {
                days.push(d);
            }
            d = d.tomorrow().unwrap();
        }
        Quarter {
            n,
            t0,
            days,
            queriers,
            key_id: keys.current_hmac_key_id().to_string(),
        }
    }

    /// When query `i` ran: between 09:00 and 16:00 Taipei on a working day of the quarter.
    fn office(&self, i: usize) -> Timestamp {
        taipei(self.days[i % self.days.len()], 9)
            + SignedDuration::from_secs(((i * 7919) % 25_200) as i64)
    }
}

/// Fill: one transaction of prepared inserts on a second connection, with the import the
/// platform's rows belong to.
fn fill(db: &Path, q: &Quarter) {
    let mut c = rusqlite::Connection::open(db).unwrap();
    // A page cache large enough for the tables and their indexes while they are written
    // (a million random subject digests otherwise spill pages to disk and read them back
    // for every insert); this connection is closed before `analyse` is measured.
    c.execute_batch(
        "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000;",
    )
    .unwrap();
    let (basis, unit): (String, String) = c
        .query_row(
            "SELECT (SELECT id FROM legal_bases LIMIT 1), (SELECT id FROM units LIMIT 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let tx = c.transaction().unwrap();
    tx.execute(
        "INSERT INTO usage_log_imports (imported_at, imported_by, file_sha256, rows_in_file, rows_added) \
         VALUES (?1, NULL, 'bench', ?2, ?2)",
        rusqlite::params![q.t0.to_string(), q.n as i64],
    )
    .unwrap();
    let import_id = tx.last_insert_rowid();
    insert_the_quarter(&tx, q, (&basis, &unit), import_id);
    tx.commit().unwrap();
    c.execute_batch("ANALYZE;").unwrap();
}

/// The rows in time order as the system writes them (executions as they run, the platform's
/// log as imported), so that ids rise with time as in a real database. The plants: 1 usage
/// record in 1,000 names a subject nobody registered and has no registration or execution.
fn insert_the_quarter(
    tx: &rusqlite::Transaction<'_>,
    q: &Quarter,
    (basis, unit): (&str, &str),
    import_id: i64,
) {
    let items = ["C0101", "B0101", "N0101", "C0201", "B0201"];
    let mut reg = tx
        .prepare(
            "INSERT INTO registrations (id, reg_no, reg_date, created_at, subject_hmac, hmac_key_id, \
             subject_sealed, subject_nonce, wrapped_key, wrap_nonce, master_key_id, items, \
             legal_basis_id, relevance, applicant_id, needer_id, querier_id, approving_unit, \
             state, second_approval_required, findings) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, x'', x'', x'', x'', 'bench', ?7, ?8, 'bench', \
             ?9, ?9, ?9, ?10, 'approved', 0, '[]')",
        )
        .unwrap();
    let mut exe = tx
        .prepare(
            "INSERT INTO executions (registration_id, item, querier_id, mode, request_id, sent_at, \
             outcome) VALUES (?1, ?2, ?3, 'connected', ?4, ?5, 'received')",
        )
        .unwrap();
    let mut usage = tx
        .prepare(
            "INSERT INTO platform_usage_records (platform_record_id, at, agency_code, \
             operator_account, item, subject_hmac, hmac_key_id, subject_masked, request_id, \
             outcome, import_id) VALUES (?1, ?2, 'KHH-SOCBU', ?3, ?4, ?5, ?6, 'A1******89', \
             NULL, 'ok', ?7)",
        )
        .unwrap();
    let mut order: Vec<usize> = (0..q.n).collect();
    order.sort_by_cached_key(|i| (q.office(*i), *i));
    for (rank, i) in order.into_iter().enumerate() {
        let (querier, account) = &q.queriers[i % q.queriers.len()];
        let item = items[i % items.len()];
        let at = q.office(i);
        let subject = hex::encode(Sha256::digest(format!("subject-{i}").as_bytes()));
        let planted = i % 1000 == 999;
        if !planted {
            let id = rank as i64 + 1;
            reg.execute(rusqlite::params![
                id,
                format!("115-B{i:08}"),
                q.days[i % q.days.len()].to_string(),
                at.to_string(),
                subject,
                q.key_id,
                format!("[\"{item}\"]"),
                basis,
                querier,
                unit,
            ])
            .unwrap();
            exe.execute(rusqlite::params![
                id,
                item,
                querier,
                format!("req-{i}"),
                at.to_string()
            ])
            .unwrap();
        }
        // The platform logs the query a few seconds after it was sent.
        let seen = at + SignedDuration::from_secs(3);
        let subject = if planted {
            hex::encode(Sha256::digest(format!("nobody-{i}").as_bytes()))
        } else {
            subject
        };
        usage
            .execute(rusqlite::params![
                format!("P{i:09}"),
                seen.to_string(),
                account,
                item,
                subject,
                q.key_id,
                import_id
            ])
            .unwrap();
    }
}

/// The measured run: `analyse` over the quarter, its wall time and the peak resident memory
/// during it, and exactly the planted findings.
fn measure(rt: &tokio::runtime::Runtime, store: &Store, keys: &KeyRing, n: usize) {
    let from = taipei(date(2026, 1, 1), 0);
    let to = taipei(date(2026, 4, 1), 0);
    let before = peak_resident_kib();
    // Reset the peak so that it measures the reconciliation alone (Linux ≥ 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let analysis = rt
        .block_on(analyse(
            store,
            keys,
            &OversightSettings::default(),
            from,
            to,
        ))
        .unwrap();
    let took = started.elapsed();
    let peak = peak_resident_kib();
    let by_rule = analysis.counts_by_rule();
    eprintln!(
        "reconcile_sqlite: {} usage records, {} executions, {} matched, findings {:?}",
        analysis.statistics.usage_records,
        analysis.statistics.executions,
        analysis.statistics.matched,
        by_rule
    );
    println!(
        "reconcile_sqlite n={n}: analyse {:.2} s, peak resident {} MiB during it (before: {} MiB)",
        took.as_secs_f64(),
        peak / 1024,
        before / 1024
    );
    assert_eq!(analysis.statistics.usage_records, n);
    assert_eq!(analysis.statistics.executions, n - n / 1000);
    assert_eq!(analysis.statistics.matched, n - n / 1000);
    assert_eq!(
        by_rule.get("reconciliation.unregistered_query").copied(),
        Some(n / 1000),
        "{by_rule:?}"
    );
}

/// How many usage records and executions: `QW_BENCH_N`, a million unless set. `cargo bench`
/// passes `--bench`; nothing else is taken from the command line.
fn bench_size() -> usize {
    std::env::var("QW_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn main() {
    let n = bench_size();
    let dir = tempfile::tempdir().unwrap();
    let (db, keys_dir) = database_paths(dir.path());
    let fresh = !db.exists();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t0 = taipei(date(2026, 1, 2), 9);
    let (store, keys) = rt.block_on(open_demo(&db, &keys_dir, t0, fresh));
    let quarter = rt.block_on(Quarter::of(&store, &keys, n, t0));
    let filled = Instant::now();
    if fresh {
        fill(&db, &quarter);
        eprintln!(
            "filled {n} usage records and {} executions in {:.1?}",
            n - n / 1000,
            filled.elapsed()
        );
    }
    measure(&rt, &store, &keys, n);
}
