//! Audit-trail benchmarks: what an audit record adds to a durable action, batched appends,
//! whole-trail verification, and proof generation. Figures go into BENCHMARKS.md.
//!
//! Run: `cargo bench -p querywarden-app --bench audit`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark that cannot set itself up should stop"
)]

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use querywarden_app::audit::levels::LevelCache;
use querywarden_app::config::RawConfig;
use querywarden_app::{App, audit};
use querywarden_domain::testing::audit_event;
use querywarden_ledger::merkle::{consistency_proof, inclusion_proof, leaf_hash};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn open(dir: &std::path::Path) -> App {
    let mut raw = RawConfig::default();
    raw.storage.data_dir = dir.to_path_buf();
    raw.server.demo = true;
    raw.audit.checkpoint_every_records = 10_000;
    App::open(raw.validate().unwrap()).await.unwrap()
}

async fn fill(app: &App, records: u64) {
    let mut n = 0;
    while n < records {
        let mut tx = app.store().begin().await.unwrap();
        for _ in 0..5_000.min(records - n) {
            tx.append_audit(&audit_event(n)).await.unwrap();
            n += 1;
        }
        tx.commit().await.unwrap();
        app.checkpoint_if_due(false).await.unwrap();
    }
    app.checkpoint_if_due(true).await.unwrap();
}

fn append(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let app = rt.block_on(open(dir.path()));
    let mut n = 0u64;
    let mut g = c.benchmark_group("append");
    // A durable action with nothing but its setting change vs the same with its audit record:
    // the difference is what the audit trail costs an action.
    g.bench_function("durable_action_without_audit", |b| {
        b.iter(|| {
            rt.block_on(async {
                n += 1;
                let mut tx = app.store().begin().await.unwrap();
                tx.put_setting("bench", &n.to_string()).await.unwrap();
                tx.commit().await.unwrap();
            })
        })
    });
    g.bench_function("durable_action_with_audit_record", |b| {
        b.iter(|| {
            rt.block_on(async {
                n += 1;
                let mut tx = app.store().begin().await.unwrap();
                tx.put_setting("bench", &n.to_string()).await.unwrap();
                tx.append_audit(&audit_event(n)).await.unwrap();
                tx.commit().await.unwrap();
            })
        })
    });
    // Group commit: 16 concurrent durable actions (each its own use case, savepoint and audit
    // record) share fsyncs instead of queueing for one each.
    g.throughput(criterion::Throughput::Elements(16));
    g.bench_function("16_concurrent_durable_actions_with_audit", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut tasks = Vec::new();
                for _ in 0..16 {
                    n += 1;
                    let app = app.clone();
                    let k = n;
                    tasks.push(tokio::spawn(async move {
                        let mut tx = app.store().begin().await.unwrap();
                        tx.put_setting("bench", &k.to_string()).await.unwrap();
                        tx.append_audit(&audit_event(k)).await.unwrap();
                        tx.commit().await.unwrap();
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    g.throughput(criterion::Throughput::Elements(100));
    g.bench_function("batch_of_100_in_one_transaction", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut tx = app.store().begin().await.unwrap();
                for _ in 0..100 {
                    n += 1;
                    tx.append_audit(&audit_event(n)).await.unwrap();
                }
                tx.commit().await.unwrap();
            })
        })
    });
    g.finish();
}

fn verify(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let app = rt.block_on(open(dir.path()));
    let records = 200_000;
    rt.block_on(fill(&app, records));
    let mut g = c.benchmark_group("verify");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.throughput(criterion::Throughput::Elements(records + 2));
    g.bench_function("sqlx_paged_scan_200k_for_comparison", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut after = 0;
                let mut n = 0;
                loop {
                    let batch = app.store().audit_batch(after, 20_000).await.unwrap();
                    let Some(last) = batch.last() else { break };
                    after = last.seq;
                    n += batch.len();
                }
                n
            })
        })
    });
    g.bench_function("whole_trail_200k", |b| {
        b.iter(|| {
            let report = rt.block_on(audit::verify(app.store(), app.keys())).unwrap();
            assert!(report.failure.is_none());
            report
        })
    });
    g.finish();
}

fn proofs(c: &mut Criterion) {
    let size = 1u64 << 20;
    let started = Instant::now();
    let mut cache = LevelCache::new();
    for i in 0..size {
        cache.push(leaf_hash(&i.to_be_bytes()));
    }
    eprintln!(
        "level cache for {size} leaves built in {:?}",
        started.elapsed()
    );
    let mut g = c.benchmark_group("proofs");
    let mut i = 0u64;
    g.bench_function("inclusion_proof_1M", |b| {
        b.iter_batched(
            || {
                i = (i * 7919 + 13) % size;
                i
            },
            |index| inclusion_proof(index, size, &cache).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("consistency_proof_1M", |b| {
        b.iter_batched(
            || {
                i = (i * 7919 + 13) % size;
                i.max(1)
            },
            |old| consistency_proof(old, size, &cache).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, append, verify, proofs);
criterion_main!(benches);
