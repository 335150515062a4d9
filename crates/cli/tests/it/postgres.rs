//! The PostgreSQL backend from the operator's side: `storage.url` names the database; a
//! server that does not answer stops `serve` naming it without its password; `querywarden
//! copy` moves a bureau from the embedded SQLite file to PostgreSQL with its audit trail
//! intact, and the instance then runs on the copy. Two `serve` instances on one database
//! keep one audit chain and do every acknowledged action once, through concurrent load and
//! the SIGKILL of one of them, and an approved item asked to run on both at once runs once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use querywarden_storage::pg_testing::TestSchema;
use querywarden_testkit::binary::{
    Served, command as bin, demo_card, instance_config, run, stderr, stdout,
};
use querywarden_testkit::{Browser, Demo, rt};

use crate::crash_rounds::{
    Ack, ITEM, Session, check_invariants, connect_any, person_id, registration,
    sent_without_result, spawn_worker,
};

#[test]
fn an_unreachable_postgres_server_stops_serve_naming_it_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("querywarden.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\
             [storage]\ndata_dir = \"{}\"\nurl = \"postgres://qw:s3cret@127.0.0.1:1/qw\"\n\
             [auth]\ntrust_anchors = \"{}\"\n",
            dir.path().join("data").display(),
            dir.path().join("moica.pem").display()
        ),
    )
    .unwrap();
    let o = bin()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("cannot open the database at postgres://qw:***@127.0.0.1:1/qw"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn a_bureau_copied_to_postgres_verifies_and_runs_there() {
    // One runtime for the schema's own pool, from creation to drop.
    let runtime = rt();
    let Some(schema) = runtime.block_on(TestSchema::empty()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(Demo::start_in(&data, &[]));
    let data_arg = data.display().to_string();
    let sqlite = format!("sqlite:{}", data.join("querywarden.sqlite").display());
    let o = run(&["audit", "verify", "--data", &data_arg]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    let url = schema.url();
    let o = run(&["copy", "--from", &sqlite, "--to", &url, "--data", &data_arg]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("the copy's audit trail verified"), "{out}");
    assert!(out.contains("system.database_copied"), "{out}");
    // §8: the copy is in the copy's trail, once, as its newest record.
    let copied: Vec<(i64, String)> = runtime.block_on(async {
        sqlx::query_as(
            "SELECT seq, action FROM audit_records \
             WHERE seq = (SELECT max(seq) FROM audit_records) \
             OR action = 'system.database_copied'",
        )
        .fetch_all(schema.pool())
        .await
        .unwrap()
    });
    assert_eq!(copied.len(), 1, "{copied:?}");
    assert_eq!(copied[0].1, "system.database_copied");

    // The installation pointed at the copy: its trail verifies there too.
    let config = dir.path().join("pg.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndata_dir = \"{}\"\nurl = \"{url}\"\n",
            data.display()
        ),
    )
    .unwrap();
    let config_arg = config.display().to_string();
    let o = run(&["audit", "verify", "--config", &config_arg]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    // A second copy into a database that holds rows is refused.
    let o = run(&["copy", "--from", &sqlite, "--to", &url, "--data", &data_arg]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    runtime.block_on(schema.drop_now());
}

/// A bureau made by the demo (its staff, grants, keys and demo CA in `data`), copied into a
/// fresh schema; the caller keeps the directory and the schema.
fn demo_bureau_on_postgres(schema: &TestSchema, dir: &Path) -> PathBuf {
    let data = dir.join("data");
    drop(Demo::start_in(&data, &[]));
    let sqlite = format!("sqlite:{}", data.join("querywarden.sqlite").display());
    let data_arg = data.display().to_string();
    let o = run(&[
        "copy",
        "--from",
        &sqlite,
        "--to",
        &schema.url(),
        "--data",
        &data_arg,
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    data
}

/// Waits until `acks` holds at least `n` actions; panics if the load stops short of them (a
/// guard against a hang, not a measurement).
fn wait_for_acks(acks: &Mutex<Vec<Ack>>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while acks.lock().unwrap().len() < n {
        assert!(
            Instant::now() < deadline,
            "the load stopped short of {n} actions"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_serve_instances_on_one_postgres_database_keep_one_chain_through_a_kill() {
    let runtime = rt();
    let Some(schema) = runtime.block_on(TestSchema::empty()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = demo_bureau_on_postgres(&schema, dir.path());
    let url = schema.url();

    // The BLI simulator, on its own runtime for the whole test.
    let sim_rt = tokio::runtime::Runtime::new().unwrap();
    let sim = sim_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        querywarden_bli::simulator::spawn(Default::default(), listener)
            .await
            .unwrap()
    });
    let config = instance_config(
        &dir.path().join("instance.toml"),
        &data,
        &url,
        &sim.base_url(),
    );
    let a = Served::start(&config);
    let mut b = Served::start(&config);

    // Everyone signs in on A; the same sessions serve on B (they are in the database).
    let accounts = ["lin.meiling", "chen.jianhong", "li.guowei", "xu.wenjie"];
    let (on_a, on_b, lin_id, li_id) = runtime.block_on(async {
        let mut on_a = Vec::new();
        let mut on_b = Vec::new();
        for account in accounts {
            let card = demo_card(&data, account);
            let browser = Browser::sign_in_with_card(&a.url, account, &card).await;
            on_b.push(Session::of(
                Browser::with_session(&b.url, &browser.cookie).await,
            ));
            on_a.push(Session::of(browser));
        }
        let mut db = connect_any(&url).await;
        let ids = (
            person_id(&mut db, "lin.meiling").await,
            person_id(&mut db, "li.guowei").await,
        );
        (on_a, on_b, ids.0, ids.1)
    });
    let [lin_a, chen_a, li_a, xu_a] = <[Session; 4]>::try_from(on_a).ok().unwrap();
    let [lin_b, chen_b, li_b, xu_b] = <[Session; 4]>::try_from(on_b).ok().unwrap();
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let ack = |a: Ack| acks.lock().unwrap().push(a);

    // §5: an approved item asked to run on both instances at the same moment runs once.
    let mut raced = Vec::new();
    for n in 0..5 {
        let (op, no) = runtime.block_on(async {
            let (op, j) = lin_a
                .call(Some(registration(n, lin_id)), "/api/v1/registrations")
                .await
                .unwrap()
                .expect("lin registers");
            let no = j["no"].as_str().unwrap().to_string();
            ack(Ack::Registered { op, no: no.clone() });
            let decision = serde_json::json!({ "decision": "approve", "comment": "" });
            let (op, _) = chen_b
                .call(
                    Some(decision),
                    &format!("/api/v1/registrations/{no}/decision"),
                )
                .await
                .unwrap()
                .expect("chen approves on the other instance");
            (op, no)
        });
        ack(Ack::Approved { op, no: no.clone() });
        let barrier = Arc::new(Barrier::new(2));
        let both: Vec<_> = [lin_a.fresh(), lin_b.fresh()]
            .into_iter()
            .map(|s| {
                let (barrier, path) = (
                    barrier.clone(),
                    format!("/api/v1/registrations/{no}/execution"),
                );
                std::thread::spawn(move || {
                    rt().block_on(async {
                        let items = serde_json::json!({ "items": [ITEM] });
                        barrier.wait();
                        s.call(Some(items), &path).await.unwrap()
                    })
                })
            })
            .collect();
        let answers: Vec<_> = both.into_iter().map(|t| t.join().unwrap()).collect();
        let ran: Vec<_> = answers.into_iter().flatten().collect();
        assert_eq!(ran.len(), 1, "{no}: run by exactly one instance: {ran:?}");
        let (op, _) = ran.into_iter().next().unwrap();
        ack(Ack::Executed { op, no: no.clone() });
        raced.push(no);
    }

    // Concurrent load through both, each worker's querier and approver on either instance;
    // B is killed once the load is under way, and A's own worker goes on after it.
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = [
        (lin_a.fresh(), lin_id, chen_b.fresh()),
        (li_b.fresh(), li_id, xu_a.fresh()),
        (lin_a.fresh(), lin_id, chen_a.fresh()),
        (li_b.fresh(), li_id, xu_b.fresh()),
    ];
    let workers: Vec<_> = pairs
        .into_iter()
        .enumerate()
        .map(|(w, (querier, querier_id, approver))| {
            let first = 1_000 + w as u64 * 100_000;
            spawn_worker(querier, querier_id, approver, first, &acks, &stop)
        })
        .collect();
    let before = acks.lock().unwrap().len();
    wait_for_acks(&acks, before + 16);
    let loaded = workers.iter().all(|w| !w.is_finished());
    b.kill();
    let at_kill = acks.lock().unwrap().len();
    wait_for_acks(&acks, at_kill + 8);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    assert!(
        loaded,
        "every worker was still loading both instances when B was killed"
    );
    let acks = acks.lock().unwrap().clone();
    eprintln!(
        "two instances: {} actions acknowledged, {} of them before the kill",
        acks.len(),
        at_kill
    );

    // What the queriers' inboxes show as sent without a result, read on the survivor.
    let inbox_sent = runtime.block_on(sent_without_result(&[lin_a.clone(), li_a.clone()]));
    drop(a);
    let config_arg = config.display().to_string();
    let o = run(&["audit", "verify", "--config", &config_arg]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    runtime.block_on(async {
        let mut db = connect_any(&url).await;
        check_invariants(&mut db, &acks, &inbox_sent).await;
        for no in &raced {
            let runs: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM executions e JOIN registrations r \
                 ON r.id = e.registration_id WHERE r.reg_no = $1",
            )
            .bind(no)
            .fetch_one(&mut db)
            .await
            .unwrap();
            assert_eq!(runs, 1, "{no}: one execution");
        }
    });
    runtime.block_on(schema.drop_now());
}

#[test]
fn migrate_brings_a_new_postgres_database_to_the_schema_and_serve_refuses_a_newer_one() {
    let runtime = rt();
    let Some(schema) = runtime.block_on(TestSchema::empty()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("querywarden.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\
             [storage]\ndata_dir = {:?}\nurl = {:?}\nauto_migrate = false\n\
             [auth]\ntrust_anchors = {:?}\n",
            dir.path().join("data").display().to_string(),
            schema.url(),
            dir.path().join("moica.pem").display().to_string()
        ),
    )
    .unwrap();
    let config_arg = config.display().to_string();
    let o = run(&["migrate", "--config", &config_arg]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("the schema is now at version"), "{out}");
    let o = run(&["migrate", "--config", &config_arg]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("the schema is current"),
        "{}",
        stdout(&o)
    );

    // A newer build's migration in the database: serve refuses it, naming what it found.
    runtime.block_on(async {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from a newer build', TRUE, '\\x00', 0)",
        )
        .execute(schema.pool())
        .await
        .unwrap();
    });
    let o = bin()
        .args(["serve", "--config", &config_arg])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("schema version 9999"), "{err}");
    runtime.block_on(schema.drop_now());
}
