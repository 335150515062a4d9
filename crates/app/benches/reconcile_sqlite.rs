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

use std::time::Instant;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use querywarden_app::config::OversightSettings;
use querywarden_app::keys::KeyRing;
use querywarden_app::oversight::reconciliation::analyse;
use querywarden_app::permission::PermissionPolicy;
use querywarden_app::{demo, demo_grants};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::Account;
use querywarden_storage::Store;
use sha2::{Digest, Sha256};

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let n: usize = std::env::var("QW_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    // `QW_BENCH_DB=<file>` keeps the filled database (and its keys beside it) for the next
    // run, which then measures `analyse` alone: filling a million rows of each takes minutes.
    let kept = std::env::var_os("QW_BENCH_DB").map(std::path::PathBuf::from);
    let db = kept
        .clone()
        .unwrap_or_else(|| dir.path().join("querywarden.sqlite"));
    let keys_dir = kept
        .as_ref()
        .map_or_else(|| dir.path().join("keys"), |p| p.with_extension("keys"));
    let fresh = !db.exists();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t0 = date(2026, 1, 2)
        .at(9, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .unwrap()
        .timestamp();
    let (store, keys) = rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let keys = KeyRing::open_or_create(&keys_dir, t0).unwrap();
        if !fresh {
            return (store, keys);
        }
        demo::initialise(&store, t0, "bench").await.unwrap();
        demo::seed_demo(&store, t0, "bench").await.unwrap();
        demo_grants::grant_demo_queriers(&store, &keys, &PermissionPolicy::default(), t0, "bench")
            .await
            .unwrap();
        (store, keys)
    });
    let queriers: Vec<(i64, String)> = rt.block_on(async {
        let mut out = Vec::new();
        for a in ["lin.meiling", "li.guowei"] {
            let p = store
                .person_by_account(&Account::parse(a).unwrap())
                .await
                .unwrap()
                .unwrap();
            out.push((p.id.get(), a.to_string()));
        }
        out
    });

    // Fill: one transaction of prepared inserts on a second connection, rows in time order
    // as the system writes them (executions as they run, the platform's log as imported), so
    // that ids rise with time as in a real database.
    let filled = Instant::now();
    let calendar = HolidayCalendar::seeded().unwrap();
    let mut days = Vec::new();
    let mut d = date(2026, 1, 5);
    while d < date(2026, 3, 31) {
        if calendar.is_working_day(d) {
            days.push(d);
        }
        d = d.tomorrow().unwrap();
    }
    let office = |i: usize| -> Timestamp {
        // Between 09:00 and 16:00 Taipei on a working day of the quarter.
        days[i % days.len()]
            .at(9, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .unwrap()
            .timestamp()
            + SignedDuration::from_secs(((i * 7919) % 25_200) as i64)
    };
    let key_id = keys.current_hmac_key_id().to_string();
    let items = ["C0101", "B0101", "N0101", "C0201", "B0201"];
    if fresh {
        let mut c = rusqlite::Connection::open(&db).unwrap();
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
            rusqlite::params![t0.to_string(), n as i64],
        )
        .unwrap();
        let import_id = tx.last_insert_rowid();
        {
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
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_cached_key(|i| (office(*i), *i));
            for (rank, i) in order.into_iter().enumerate() {
                let (querier, account) = &queriers[i % queriers.len()];
                let item = items[i % items.len()];
                let at = office(i);
                let subject = hex::encode(Sha256::digest(format!("subject-{i}").as_bytes()));
                let planted = i % 1000 == 999;
                if !planted {
                    let id = rank as i64 + 1;
                    reg.execute(rusqlite::params![
                        id,
                        format!("115-B{i:08}"),
                        days[i % days.len()].to_string(),
                        at.to_string(),
                        subject,
                        key_id,
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
                        key_id,
                        import_id
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
        c.execute_batch("ANALYZE;").unwrap();
    }
    if fresh {
        eprintln!(
            "filled {n} usage records and {} executions in {:.1?}",
            n - n / 1000,
            filled.elapsed()
        );
    }

    let from = date(2026, 1, 1)
        .at(0, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .unwrap()
        .timestamp();
    let to = date(2026, 4, 1)
        .at(0, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .unwrap()
        .timestamp();
    let before = vm_hwm_kib();
    // Reset the peak so that it measures the reconciliation alone (Linux ≥ 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let analysis = rt
        .block_on(analyse(
            &store,
            &keys,
            &OversightSettings::default(),
            from,
            to,
        ))
        .unwrap();
    let took = started.elapsed();
    let peak = vm_hwm_kib();
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
