//! Bulk imports in bounded batches (§2 staff list, §7 platform usage log): the time of
//! importing 100,000 generated usage-log rows (and of importing the same file again, which
//! adds nothing) and of importing 100,000 new staff from HR's CSV, each through its use case
//! into a SQLite file (WAL, `synchronous=FULL`), one transaction each.
//!
//! Run: `cargo bench -p querywarden-app --bench imports` (`QW_BENCH_N=…` to change the size).
//! One measured run of each; figures go into BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark that cannot set itself up should stop"
)]

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use querywarden_app::keys::KeyRing;
use querywarden_app::permission::{self, Op, PermissionPolicy};
use querywarden_app::{demo, usage_log};
use querywarden_bli::usage_log::ColumnMapping;
use querywarden_domain::NationalId;
use querywarden_domain::org::Account;
use querywarden_storage::Store;

/// A valid national ID with the given letter and number.
fn national_id(letter: char, n: u32) -> String {
    (0..10)
        .map(|c| format!("{letter}2{n:07}{c}"))
        .find(|s| NationalId::parse(s).is_ok())
        .unwrap()
}

fn main() {
    let n: u32 = std::env::var("QW_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t0 = Timestamp::from_second(1_772_323_200).unwrap(); // 2026-03-01
    rt.block_on(async {
        let store = Store::open(&dir.path().join("querywarden.sqlite"))
            .await
            .unwrap();
        let keys = KeyRing::open_or_create(&dir.path().join("keys"), t0).unwrap();
        demo::initialise(&store, t0, "bench").await.unwrap();
        demo::seed_demo(&store, t0, "bench").await.unwrap();

        let items = ["C0101", "B0101", "N0101", "B0201"];
        let mut csv = String::from(
            "record_id,at,agency_code,operator_account,item,subject_id,request_id,outcome\n",
        );
        for i in 0..n {
            let at = t0 + SignedDuration::from_secs(i64::from(i) * 7);
            csv.push_str(&format!(
                "PLAT-{i:08},{at},KSSA0001,querier{},{},{},,ok\n",
                i % 50,
                items[(i % 4) as usize],
                national_id('A', i % 20_000)
            ));
        }
        // One import of the whole file, timed.
        let import = async |request_id: &str| {
            let started = Instant::now();
            let report = usage_log::import(
                &store,
                &keys,
                &ColumnMapping::default(),
                None,
                &csv,
                t0,
                request_id,
            )
            .await
            .unwrap()
            .unwrap();
            (report, started.elapsed())
        };
        let (first, took) = import("b1").await;
        assert_eq!(first.added, u64::from(n));
        println!(
            "usage log, {n} new rows: {:.2} s ({:.0} rows/s)",
            took.as_secs_f64(),
            f64::from(n) / took.as_secs_f64()
        );
        let (again, took) = import("b2").await;
        assert_eq!(again.added, 0);
        println!(
            "usage log, the same {n} rows again (nothing added): {:.2} s ({:.0} rows/s)",
            took.as_secs_f64(),
            f64::from(n) / took.as_secs_f64()
        );

        let mut staff = String::from("account,national_id,name,unit,title,status,effective_date\n");
        for i in 0..n {
            staff.push_str(&format!(
                "staff{i:06},{},職員{i},social-assistance,科員,active,115/03/01\n",
                national_id('F', i)
            ));
        }
        let op = Op::new(t0, "bench");
        let admin = store
            .person_by_account(&Account::parse("wu.zhiming").unwrap())
            .await
            .unwrap()
            .unwrap();
        let desk =
            permission::administrator_desk(&store, &PermissionPolicy::default(), admin.id, &op)
                .await
                .unwrap();
        let started = Instant::now();
        let report = permission::staff::import_staff_csv(&store, &desk, &staff, &op)
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(report.created, n as usize);
        println!(
            "staff list, {n} new people: {:.2} s ({:.0} rows/s)",
            took.as_secs_f64(),
            f64::from(n) / took.as_secs_f64()
        );
        store.close().await;
    });
}
