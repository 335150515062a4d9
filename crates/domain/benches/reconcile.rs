//! Reconciling a quarter (§7): 1,000,000 platform usage records against 1,000,000 executions,
//! half of them registered before an HMAC key rotation and imported after it, 1 in 1,000 records
//! planted with no execution. Times the join once (it is seconds, not microseconds, so one
//! measured run after building the facts is the honest figure) and reports peak memory
//! (`VmHWM`). `QW_BENCH_N` sets the size.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark that cannot set itself up should fail loudly"
)]

use std::collections::BTreeMap;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::PersonId;
use querywarden_domain::oversight::reconciliation::{
    ExecutionFact, ReconcileWindow, SubjectRef, Symbols, UsageFact, reconcile,
};
use querywarden_domain::permission::ApplicationId;
use querywarden_domain::permission::grant::{GrantId, GrantStatus, PermissionGrant};
use querywarden_domain::roc_date::RocDate;
use querywarden_domain::testing::peak_resident_kib;

const PEOPLE: u64 = 200;
const ITEMS: [&str; 9] = [
    "C0101", "B0101", "B0201", "B0301", "P0301", "N0101", "T0101", "B0401", "P0401",
];

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stand-in HMAC: 32 pseudo-random bytes per (key, subject).
fn digest(key: u16, subject: u64) -> SubjectRef {
    let mut hmac = [0u8; 32];
    for (k, chunk) in hmac.chunks_exact_mut(8).enumerate() {
        let seed = subject.wrapping_mul(8).wrapping_add(k as u64) ^ (u64::from(key) << 56);
        chunk.copy_from_slice(&splitmix(seed).to_le_bytes());
    }
    SubjectRef { key, hmac }
}

fn main() {
    let n: u64 = std::env::var("QW_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let mut symbols = Symbols::default();
    let old_key = symbols.key("h-old");
    let new_key = symbols.key("h-new");
    let items: Vec<u16> = ITEMS.iter().map(|i| symbols.item(i)).collect();
    let mut grants = BTreeMap::new();
    for p in 0..PEOPLE {
        let person = PersonId::new(p as i64 + 1);
        let gs = ITEMS
            .iter()
            .enumerate()
            .map(|(k, item)| PermissionGrant {
                id: GrantId::new((p * 10 + k as u64) as i64),
                person,
                item: ServiceItemCode::parse(item).unwrap(),
                effective_from: RocDate::new(114, 1, 1).unwrap(),
                effective_to: None,
                application: ApplicationId::new(1),
                status: GrantStatus::Active,
                suspended_from: None,
                suspension_cause: None,
            })
            .collect();
        grants.insert(person, gs);
    }

    let built = Instant::now();
    // Executions: ~7 seconds apart over the quarter; even ones registered before the key
    // rotation, so the app gives them their subject under the new key too.
    let executions: Vec<ExecutionFact> = (0..n)
        .map(|i| ExecutionFact {
            id: i as i64,
            querier: PersonId::new((i % PEOPLE) as i64 + 1),
            item: items[(i % 9) as usize],
            at: start + SignedDuration::from_secs((i * 7) as i64),
            subject: digest(old_key, i),
            other_keys: if i.is_multiple_of(2) {
                vec![digest(new_key, i)].into_boxed_slice()
            } else {
                Box::new([])
            },
        })
        .collect();
    // Usage records in a scrambled order, up to five minutes after their execution, the even
    // ones digested under the new key; every 1000th names a subject nobody registered.
    let usage: Vec<UsageFact> = (0..n)
        .map(|j| {
            let i = (j * 7_919 + 13) % n; // a permutation when n is not a multiple of 7 919
            let planted = i % 1000 == 999;
            let key = if i.is_multiple_of(2) {
                new_key
            } else {
                old_key
            };
            UsageFact {
                at: start + SignedDuration::from_secs((i * 7 + i % 300) as i64),
                operator: Some(PersonId::new((i % PEOPLE) as i64 + 1)),
                item: items[(i % 9) as usize],
                subject: if planted {
                    digest(key, n + i)
                } else {
                    digest(key, i)
                },
            }
        })
        .collect();
    let built = built.elapsed();

    let window = ReconcileWindow {
        from: start,
        to: start + SignedDuration::from_hours(24 * 91),
        tolerance: SignedDuration::from_mins(10),
    };
    let t = Instant::now();
    let r = reconcile(&usage, &executions, &grants, &symbols, window);
    let joined = t.elapsed();
    let planted = (0..n).filter(|i| i % 1000 == 999).count();
    assert_eq!(
        r.matched(),
        n as usize - planted,
        "every ordinary record matches"
    );
    assert_eq!(
        r.findings.len(),
        2 * planted,
        "each plant leaves a record and an execution"
    );
    println!(
        "reconcile: {n} usage records × {n} executions (half across a key rotation): \
         join {:.2} s, facts built in {:.2} s, matched {}, findings {}, peak memory {} MiB",
        joined.as_secs_f64(),
        built.as_secs_f64(),
        r.matched(),
        r.findings.len(),
        peak_resident_kib() / 1024
    );
}
