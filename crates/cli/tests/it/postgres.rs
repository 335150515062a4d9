//! The PostgreSQL backend from the operator's side: `storage.url` names the database; a
//! server that does not answer stops `serve` naming it without its password; `querywarden
//! copy` moves a bureau from the embedded SQLite file to PostgreSQL with its audit trail
//! intact, and the instance then runs on the copy. Two `serve` instances on one database
//! keep one audit chain and do every acknowledged action once, through concurrent load and
//! the SIGKILL of one of them, and an approved item asked to run on both at once runs once.
//! An instance whose connections to the server are cut mid-request answers with clean
//! errors, reports it on `/readyz`, and reconnects by itself once the server is back.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use querywarden_storage::pg_testing::TestSchema;
use querywarden_testkit::binary::{
    Served, demo_card, instance_config, run, run_ok, stderr, stdout,
};
use querywarden_testkit::{Browser, Demo, fresh_registration, rt};
use sqlx::postgres::PgConnectOptions;

use crate::crash_rounds::{
    Ack, ITEM, Session, check_invariants, connect_any, person_id, sent_without_result, spawn_worker,
};
use crate::operations::{serve_config, serve_refused};

#[test]
fn an_unreachable_postgres_server_stops_serve_naming_it_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = serve_config(
        dir.path(),
        &dir.path().join("data"),
        "url = \"postgres://qw:s3cret@127.0.0.1:1/qw\"",
    );
    let err = serve_refused(&config);
    assert!(
        err.contains("cannot open the database at postgres://qw:***@127.0.0.1:1/qw"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn a_bureau_copied_to_postgres_verifies_and_runs_there() {
    let Some((runtime, schema, dir)) = on_an_empty_schema() else {
        return;
    };
    let data = dir.path().join("data");
    drop(Demo::start_in(&data, &[]));
    let data_arg = data.display().to_string();
    let sqlite = format!("sqlite:{}", data.join("querywarden.sqlite").display());
    run_ok(&["audit", "verify", "--data", &data_arg]);

    let url = schema.url();
    let o = run_ok(&["copy", "--from", &sqlite, "--to", &url, "--data", &data_arg]);
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
    run_ok(&["audit", "verify", "--config", &config_arg]);

    // A second copy into a database that holds rows is refused.
    let o = run(&["copy", "--from", &sqlite, "--to", &url, "--data", &data_arg]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    runtime.block_on(schema.drop_now());
}

/// One runtime for the schema's own pool, from creation to drop; an empty schema made on it
/// on the test server; and a temporary directory. `None` when no PostgreSQL server is
/// configured for the tests (the test then passes without running).
fn on_an_empty_schema() -> Option<(tokio::runtime::Runtime, TestSchema, tempfile::TempDir)> {
    let runtime = rt();
    let schema = runtime.block_on(TestSchema::empty())?;
    Some((runtime, schema, tempfile::tempdir().unwrap()))
}

/// A bureau made by the demo (its staff, grants, keys and demo CA in `data`), copied into a
/// fresh schema; the caller keeps the directory and the schema.
fn demo_bureau_on_postgres(schema: &TestSchema, dir: &Path) -> PathBuf {
    let data = dir.join("data");
    drop(Demo::start_in(&data, &[]));
    let sqlite = format!("sqlite:{}", data.join("querywarden.sqlite").display());
    let data_arg = data.display().to_string();
    run_ok(&[
        "copy",
        "--from",
        &sqlite,
        "--to",
        &schema.url(),
        "--data",
        &data_arg,
    ]);
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
    let Some((runtime, schema, dir)) = on_an_empty_schema() else {
        return;
    };
    let data = demo_bureau_on_postgres(&schema, dir.path());
    let url = schema.url();

    // The BLI simulator, on its own runtime for the whole test.
    let (_sim_rt, sim) = crate::simulator_on_own_runtime();
    let config = instance_config(
        &dir.path().join("instance.toml"),
        &data,
        &url,
        &sim.base_url(),
    );
    let a = Served::start(&config);
    let mut b = Served::start(&config);

    let ((lin_a, chen_a, li_a, xu_a), (lin_b, chen_b, li_b, xu_b), lin_id, li_id) = runtime
        .block_on(everyone_signs_in_on_a_and_serves_on_b(
            &data, &a.url, &b.url, &url,
        ));
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let raced =
        an_item_raced_on_both_instances_runs_once(&runtime, &lin_a, &lin_b, &chen_b, lin_id, &acks);

    // Concurrent load through both, each worker's querier and approver on either instance;
    // B is killed once the load is under way, and A's own worker goes on after it.
    let pairs = [
        (lin_a.fresh(), lin_id, chen_b.fresh()),
        (li_b.fresh(), li_id, xu_a.fresh()),
        (lin_a.fresh(), lin_id, chen_a.fresh()),
        (li_b.fresh(), li_id, xu_b.fresh()),
    ];
    let acks = the_load_goes_on_through_the_kill_of_b(pairs, &acks, &mut b);

    // What the queriers' inboxes show as sent without a result, read on the survivor.
    let inbox_sent = runtime.block_on(sent_without_result(&[lin_a.clone(), li_a.clone()]));
    drop(a);
    let config_arg = config.display().to_string();
    run_ok(&["audit", "verify", "--config", &config_arg]);
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

/// The four parties of the two-instance tests on one instance: lin, chen, li and xu.
type Four = (Session, Session, Session, Session);

/// The four parties' sessions, in the order they signed in.
fn four(sessions: Vec<Session>) -> [Session; 4] {
    <[Session; 4]>::try_from(sessions).ok().unwrap()
}

/// lin, chen, li and xu sign in with their demo cards on the instance at `url`. Returns
/// their browsers and lin's and li's person ids, read from the database at `db`.
async fn the_four_sign_in(data: &Path, url: &str, db: &str) -> (Vec<Browser>, i64, i64) {
    let accounts = ["lin.meiling", "chen.jianhong", "li.guowei", "xu.wenjie"];
    let mut browsers = Vec::new();
    for account in accounts {
        let card = demo_card(data, account);
        browsers.push(Browser::sign_in_with_card(url, account, &card).await);
    }
    let mut db = connect_any(db).await;
    let lin = person_id(&mut db, "lin.meiling").await;
    let li = person_id(&mut db, "li.guowei").await;
    (browsers, lin, li)
}

/// Everyone signs in on A; the same sessions serve on B (they are in the database). Returns
/// the sessions on A and on B, and lin's and li's person ids.
async fn everyone_signs_in_on_a_and_serves_on_b(
    data: &Path,
    a: &str,
    b: &str,
    url: &str,
) -> (Four, Four, i64, i64) {
    let (browsers, lin_id, li_id) = the_four_sign_in(data, a, url).await;
    let mut on_b = Vec::new();
    for browser in &browsers {
        on_b.push(Session::of(Browser::with_session(b, &browser.cookie).await));
    }
    let [lin_a, chen_a, li_a, xu_a] = four(browsers.into_iter().map(Session::of).collect());
    let [lin_b, chen_b, li_b, xu_b] = four(on_b);
    (
        (lin_a, chen_a, li_a, xu_a),
        (lin_b, chen_b, li_b, xu_b),
        lin_id,
        li_id,
    )
}

/// §5: an approved item asked to run on both instances at the same moment runs once (five
/// times over). Returns the five registrations' numbers.
fn an_item_raced_on_both_instances_runs_once(
    runtime: &tokio::runtime::Runtime,
    lin_a: &Session,
    lin_b: &Session,
    chen_b: &Session,
    lin_id: i64,
    acks: &Mutex<Vec<Ack>>,
) -> Vec<String> {
    let ack = |a: Ack| acks.lock().unwrap().push(a);
    let mut raced = Vec::new();
    for n in 0..5 {
        let (op, no) = runtime.block_on(async {
            let (op, j) = lin_a
                .call(Some(fresh_registration(n, lin_id)), "/api/v1/registrations")
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
    raced
}

/// The workers load both instances; B is killed once the load is under way, and the load
/// goes on on A for a while. Returns every action acknowledged.
fn the_load_goes_on_through_the_kill_of_b(
    pairs: [(Session, i64, Session); 4],
    acks: &Arc<Mutex<Vec<Ack>>>,
    b: &mut Served,
) -> Vec<Ack> {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = pairs
        .into_iter()
        .enumerate()
        .map(|(w, (querier, querier_id, approver))| {
            let first = 1_000 + w as u64 * 100_000;
            spawn_worker(querier, querier_id, approver, first, acks, &stop)
        })
        .collect();
    let before = acks.lock().unwrap().len();
    wait_for_acks(acks, before + 16);
    let loaded = workers.iter().all(|w| !w.is_finished());
    b.kill();
    let at_kill = acks.lock().unwrap().len();
    wait_for_acks(acks, at_kill + 8);
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
    acks
}

#[test]
fn migrate_brings_a_new_postgres_database_to_the_schema_and_serve_refuses_a_newer_one() {
    let Some((runtime, schema, dir)) = on_an_empty_schema() else {
        return;
    };
    let config = serve_config(
        dir.path(),
        &dir.path().join("data"),
        &format!("url = {:?}\nauto_migrate = false", schema.url()),
    );
    let config_arg = config.display().to_string();
    let o = run_ok(&["migrate", "--config", &config_arg]);
    let out = stdout(&o);
    assert!(out.contains("the schema is now at version"), "{out}");
    let o = run_ok(&["migrate", "--config", &config_arg]);
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
    let err = serve_refused(&config);
    assert!(err.contains("schema version 9999"), "{err}");
    runtime.block_on(schema.drop_now());
}

/// How a [`Proxy`] is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// New connections are accepted and closed at once: the server going away mid-stream.
    Close,
    /// Nothing listens: connections are refused, as while the server restarts.
    Refuse,
}

/// A TCP proxy in front of the database server, which the test can cut (every open
/// connection closed both ways, new ones closed or refused) and restore.
struct Proxy {
    port: u16,
    /// 0 open, 1 cut ([`Cut::Close`]), 2 cut ([`Cut::Refuse`]), 3 stopped.
    state: Arc<AtomicU8>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            state: Arc::default(),
            open: Arc::default(),
        };
        let (state, open) = (proxy.state.clone(), proxy.open.clone());
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            loop {
                let mode = state.load(Ordering::SeqCst);
                if mode == 3 {
                    break;
                }
                if mode == 2 {
                    listener = None;
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let l = listener.get_or_insert_with(|| {
                    TcpListener::bind(("127.0.0.1", port)).expect("the proxy's port again")
                });
                l.set_nonblocking(true).unwrap();
                let client = match l.accept() {
                    Ok((client, _)) => client,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                client.set_nonblocking(false).unwrap();
                let server = match TcpStream::connect(&upstream) {
                    Ok(s) if state.load(Ordering::SeqCst) == 0 => s,
                    _ => {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    }
                };
                let mut list = open.lock().unwrap();
                // A cut that raced this accept closes this one too.
                if state.load(Ordering::SeqCst) != 0 {
                    let _ = client.shutdown(Shutdown::Both);
                    let _ = server.shutdown(Shutdown::Both);
                    continue;
                }
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                list.push(client.try_clone().unwrap());
                list.push(server.try_clone().unwrap());
                drop(list);
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        proxy
    }

    /// Closes every open connection both ways; new ones are closed on arrival or refused,
    /// as `how` says, until [`Proxy::restore`].
    fn cut(&self, how: Cut) {
        self.close_all(match how {
            Cut::Close => 1,
            Cut::Refuse => 2,
        });
        // Returns once nothing listens any more.
        let deadline = Instant::now() + Duration::from_secs(5);
        while how == Cut::Refuse && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "the proxy still listens");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn close_all(&self, state: u8) {
        let mut list = self.open.lock().unwrap();
        self.state.store(state, Ordering::SeqCst);
        for s in list.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.state.store(0, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.close_all(3);
    }
}

/// Copies one direction until either side closes, then closes both.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

/// Longer than any request may take: the pool's wait for a connection (30 s) with room to
/// spare. A request still unanswered then is a hang.
const HANG: Duration = Duration::from_secs(45);

/// One answer the load received: when its request left, when its answer arrived, the step,
/// the status and the body.
struct Answer {
    sent: Instant,
    done: Instant,
    step: &'static str,
    status: reqwest::StatusCode,
    body: Vec<u8>,
}

/// One request of the walk, its answer noted in `answers`; the operation id and JSON body
/// of a 2xx. Panics on a hang or on an answer that never arrived whole.
async fn step(
    s: &Session,
    post: Option<serde_json::Value>,
    path: &str,
    name: &'static str,
    answers: &Mutex<Vec<Answer>>,
) -> Option<(String, serde_json::Value)> {
    let sent = Instant::now();
    let (status, op, body) = tokio::time::timeout(HANG, s.send(post, path))
        .await
        .unwrap_or_else(|_| panic!("{name}: no answer within {HANG:?}"))
        .unwrap_or_else(|e| panic!("{name}: the server dropped the request: {e}"));
    let ok = status.is_success();
    let json = ok.then(|| serde_json::from_slice(&body).ok()).flatten();
    answers.lock().unwrap().push(Answer {
        sent,
        done: Instant::now(),
        step: name,
        status,
        body,
    });
    if !ok {
        // Refused: the next subject, a moment later (no busy loop while the database is away).
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    json.map(|j| (op, j))
}

/// The walk of [`crate::crash_rounds::drive`], every answer noted, going on through
/// refusals until `stop`.
#[allow(clippy::too_many_arguments, reason = "one worker's whole setting")]
async fn walk(
    querier: Session,
    querier_id: i64,
    approver: Session,
    first: u64,
    acks: Arc<Mutex<Vec<Ack>>>,
    answers: Arc<Mutex<Vec<Answer>>>,
    stop: Arc<AtomicBool>,
) {
    let ack = |a: Ack| acks.lock().unwrap().push(a);
    for n in first.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let reg = fresh_registration(n, querier_id);
        let Some((op, j)) = step(
            &querier,
            Some(reg),
            "/api/v1/registrations",
            "register",
            &answers,
        )
        .await
        else {
            continue;
        };
        let no = j["no"].as_str().unwrap().to_string();
        ack(Ack::Registered { op, no: no.clone() });
        let decision = serde_json::json!({ "decision": "approve", "comment": "" });
        let path = format!("/api/v1/registrations/{no}/decision");
        let Some((op, _)) = step(&approver, Some(decision), &path, "approve", &answers).await
        else {
            continue;
        };
        ack(Ack::Approved { op, no: no.clone() });
        let items = serde_json::json!({ "items": [ITEM] });
        let path = format!("/api/v1/registrations/{no}/execution");
        let Some((op, _)) = step(&querier, Some(items), &path, "execute", &answers).await else {
            continue;
        };
        ack(Ack::Executed { op, no: no.clone() });
        let path = format!("/api/v1/registrations/{no}/results/{ITEM}");
        if let Some((op, _)) = step(&querier, None, &path, "view", &answers).await {
            ack(Ack::Viewed { op, no });
        }
    }
}

/// `/readyz`: its status and body (bounded like any request).
async fn readyz(url: &str) -> (u16, serde_json::Value) {
    let r = tokio::time::timeout(HANG, reqwest::get(format!("{url}/readyz")))
        .await
        .expect("/readyz answers in time")
        .expect("/readyz answers");
    let status = r.status().as_u16();
    (status, r.json().await.expect("/readyz answers JSON"))
}

/// Polls `/readyz` until it answers `want`; how long that took.
async fn readyz_until(url: &str, want: u16, within: Duration) -> (Duration, serde_json::Value) {
    let started = Instant::now();
    loop {
        let (status, body) = readyz(url).await;
        if status == want {
            return (started.elapsed(), body);
        }
        assert!(
            started.elapsed() < within,
            "/readyz still answers {status} after {within:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn a_lost_database_connection_fails_requests_cleanly_and_the_instance_reconnects() {
    let Some((runtime, schema, dir)) = on_an_empty_schema() else {
        return;
    };
    let data = demo_bureau_on_postgres(&schema, dir.path());
    let direct = schema.url();

    // The instance reaches the schema through the proxy: the same URL, another host:port.
    let server = PgConnectOptions::from_str(&direct).unwrap();
    let upstream = format!("{}:{}", server.get_host(), server.get_port());
    let proxy = Proxy::start(upstream.clone());
    let proxied = direct.replacen(&upstream, &format!("127.0.0.1:{}", proxy.port), 1);
    assert_ne!(
        proxied, direct,
        "the test server's URL names its host and port"
    );

    let (_sim_rt, sim) = crate::simulator_on_own_runtime();
    let config = instance_config(
        &dir.path().join("instance.toml"),
        &data,
        &proxied,
        &sim.base_url(),
    );
    let served = Served::start(&config);
    let url = served.url.clone();

    let (browsers, lin_id, li_id) = runtime.block_on(the_four_sign_in(&data, &url, &direct));
    let [lin, chen, li, xu] = four(browsers.into_iter().map(Session::of).collect());
    let (status, body) = runtime.block_on(readyz(&url));
    assert_eq!(status, 200, "{body}");

    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = [
        (lin.fresh(), lin_id, chen.fresh()),
        (li.fresh(), li_id, xu.fresh()),
        (lin.fresh(), lin_id, chen.fresh()),
        (li.fresh(), li_id, xu.fresh()),
    ];
    let workers: Vec<_> = pairs
        .into_iter()
        .enumerate()
        .map(|(w, (querier, querier_id, approver))| {
            let first = 1_000 + w as u64 * 100_000;
            let (acks, answers, stop) = (acks.clone(), answers.clone(), stop.clone());
            std::thread::spawn(move || {
                rt().block_on(walk(
                    querier, querier_id, approver, first, acks, answers, stop,
                ))
            })
        })
        .collect();

    let cuts = the_database_goes_away_twice_under_load(&runtime, &proxy, &url, &acks);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acks = acks.lock().unwrap().clone();

    let answers = std::mem::take(&mut *answers.lock().unwrap());
    every_refusal_is_the_error_envelope(&answers);
    within_a_cut_only_server_errors_are_answered(&answers, cuts);
    eprintln!("connection lost: {} actions acknowledged", acks.len());

    let inbox_sent = runtime.block_on(sent_without_result(&[lin.clone(), li.clone()]));
    drop(served);
    let config_arg = config.display().to_string();
    run_ok(&["audit", "verify", "--config", &config_arg]);
    runtime.block_on(async {
        let mut db = connect_any(&direct).await;
        check_invariants(&mut db, &acks, &inbox_sent).await;
    });
    drop(proxy);
    runtime.block_on(schema.drop_now());
}

/// One cut of the database: how, when it began and ended, how long `/readyz` took to say
/// not ready and, after the restore, ready.
type Outage = (Cut, Instant, Instant, Duration, Duration);

/// Under load, the database goes away for a few seconds, twice: its connections closed under
/// the requests, then refused altogether. `/readyz` says so soon, and queries run again after
/// each restore.
fn the_database_goes_away_twice_under_load(
    runtime: &tokio::runtime::Runtime,
    proxy: &Proxy,
    url: &str,
    acks: &Mutex<Vec<Ack>>,
) -> Vec<Outage> {
    let mut cuts = Vec::new();
    for how in [Cut::Close, Cut::Refuse] {
        let before = acks.lock().unwrap().len();
        wait_for_acks(acks, before + 12);
        let cut_at = Instant::now();
        proxy.cut(how);
        let (to_unready, unready) =
            runtime.block_on(readyz_until(url, 503, Duration::from_secs(15)));
        assert_eq!(unready["status"], "not_ready", "{how:?}: {unready}");
        assert_eq!(unready["database_reachable"], false, "{how:?}: {unready}");
        // Not the pool's 30 s wait for a connection: a balancer gives up long before.
        assert!(
            to_unready < Duration::from_secs(10),
            "{how:?}: /readyz took {to_unready:?} to say so"
        );
        std::thread::sleep(Duration::from_secs(4).saturating_sub(cut_at.elapsed()));
        let restored_at = Instant::now();
        proxy.restore();
        let (to_ready, _) = runtime.block_on(readyz_until(url, 200, Duration::from_secs(60)));
        let at_restore = acks.lock().unwrap().len();
        wait_for_acks(acks, at_restore + 12);
        assert!(
            acks.lock().unwrap()[at_restore..]
                .iter()
                .any(|a| matches!(a, Ack::Executed { .. })),
            "{how:?}: queries run again after the database is back"
        );
        cuts.push((how, cut_at, restored_at, to_unready, to_ready));
    }
    cuts
}

/// Every refusal is the project's error envelope, with a stable code and an operation id.
fn every_refusal_is_the_error_envelope(answers: &[Answer]) {
    for a in answers.iter().filter(|a| !a.status.is_success()) {
        let text = String::from_utf8_lossy(&a.body);
        let envelope: serde_json::Value = serde_json::from_slice(&a.body)
            .unwrap_or_else(|_| panic!("{} {}: not the error envelope: {text}", a.step, a.status));
        let code = envelope["error"]["code"].as_str().unwrap_or_default();
        assert!(
            !code.is_empty(),
            "{} {}: no stable code: {text}",
            a.step,
            a.status
        );
        assert!(
            envelope["error"]["operation_id"]
                .as_str()
                .is_some_and(|o| !o.is_empty()),
            "{} {}: no operation id: {text}",
            a.step,
            a.status
        );
    }
}

/// Every answer given wholly within a cut is a server error (nothing was stored meanwhile, so
/// nothing may say it was).
fn within_a_cut_only_server_errors_are_answered(answers: &[Answer], cuts: Vec<Outage>) {
    for (how, cut_at, restored_at, to_unready, to_ready) in cuts {
        let within: Vec<_> = answers
            .iter()
            .filter(|a| a.sent >= cut_at && a.done <= restored_at)
            .collect();
        let mut codes = std::collections::BTreeSet::new();
        for a in &within {
            let text = String::from_utf8_lossy(&a.body);
            assert!(
                a.status.is_server_error(),
                "{how:?}: {} during the cut answered {} {text}",
                a.step,
                a.status
            );
            let envelope: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
            codes.insert(format!(
                "{} {}",
                a.status.as_u16(),
                envelope["error"]["code"].as_str().unwrap_or_default()
            ));
        }
        // The closed connections fail at once; while they are refused, the pool waits for
        // the server (up to its acquire timeout) and the requests are served when it is back.
        if how == Cut::Close {
            assert!(!within.is_empty(), "requests were answered during the cut");
        }
        let slowest = answers
            .iter()
            .filter(|a| a.done >= cut_at && a.sent <= restored_at)
            .map(|a| a.done - a.sent)
            .max()
            .unwrap_or_default();
        eprintln!(
            "cut ({how:?}): {} requests refused meanwhile ({codes:?}), the slowest request \
         around it took {slowest:?}; /readyz not ready after {to_unready:?}, ready again \
         {to_ready:?} after the restore",
            within.len()
        );
    }
}
