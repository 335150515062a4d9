//! Crash rounds: a real `querywarden demo` under concurrent register → approve → execute →
//! view load through the JSON API is killed with SIGKILL at a seeded random moment, restarted
//! on the same data directory, and loaded again; after the rounds the data must hold:
//!
//! - every acknowledged action (a 2xx answer whose whole body arrived) exactly once, with
//!   exactly one audit record carrying its operation id (§7: the trail holds every act);
//! - nothing unacknowledged half-exists. The use cases write their rows and their audit
//!   record in one transaction, so rows and records pair up one to one: a registration and
//!   its `query.registration.created`, an approval decision and its
//!   `query.registration.approved`, an execution row and its `query.sent`, a result and its
//!   `query.result.received`, a view and its `result.viewed`. Execution commits "sent"
//!   before the upstream call (§5: nothing leaves without its record), so the one allowed
//!   in-between state is an execution "sent" with no result and no `query.result.received`,
//!   and it shows in the querier's inbox after the restart;
//! - `querywarden audit verify` passes after every kill.
//!
//! The seed is printed and can be replayed with `QW_CRASH_SEED=<n>`.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::{AnyConnection, Connection};

use querywarden_bli::simulator::SplitMix64;
use querywarden_testkit::binary::{command as bin, stderr, stdout};
use querywarden_testkit::{Browser, Demo, fresh_registration, rt};

const ROUNDS: u64 = 3;
const WORKERS: u64 = 4;
pub(crate) const ITEM: &str = "C0101";

/// One acknowledged action: what it was, its operation id, its registration.
#[derive(Debug, Clone)]
pub(crate) enum Ack {
    Registered { op: String, no: String },
    Approved { op: String, no: String },
    Executed { op: String, no: String },
    Viewed { op: String, no: String },
}

/// A signed-in session whose requests return errors instead of panicking (the server dies
/// under them).
#[derive(Clone)]
pub(crate) struct Session {
    url: String,
    cookie: String,
    csrf: String,
    c: reqwest::Client,
}

impl Session {
    async fn sign_in(url: &str, account: &str) -> Session {
        Session::of(Browser::sign_in(url, account).await)
    }

    /// The session of a browser signed in some other way (with a card, on `serve`).
    pub(crate) fn of(b: Browser) -> Session {
        Session {
            url: b.url,
            cookie: b.cookie,
            csrf: b.csrf,
            c: b.c,
        }
    }

    /// The same session with a client of its own: a client's pooled connections belong to
    /// the runtime that opened them, so a thread with another runtime needs its own.
    pub(crate) fn fresh(&self) -> Session {
        Session {
            c: querywarden_testkit::browser::client(),
            ..self.clone()
        }
    }

    /// The operation id and JSON body of a 2xx answer received whole; `Ok(None)` for a
    /// refusal; `Err` when the server is gone.
    pub(crate) async fn call(
        &self,
        post: Option<serde_json::Value>,
        path: &str,
    ) -> Result<Option<(String, serde_json::Value)>, reqwest::Error> {
        let (status, op, body) = self.send(post, path).await?;
        if !status.is_success() {
            return Ok(None);
        }
        Ok(serde_json::from_slice(&body).ok().map(|j| (op, j)))
    }

    /// Any answer received whole: its status, operation id and body.
    pub(crate) async fn send(
        &self,
        post: Option<serde_json::Value>,
        path: &str,
    ) -> Result<(reqwest::StatusCode, String, Vec<u8>), reqwest::Error> {
        let url = format!("{}{path}", self.url);
        let req = match post {
            Some(body) => self
                .c
                .post(url)
                .header("x-csrf-token", &self.csrf)
                .json(&body),
            None => self.c.get(url),
        };
        let r = req.header("cookie", &self.cookie).send().await?;
        let status = r.status();
        let op = r
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = r.bytes().await?;
        Ok((status, op, body.to_vec()))
    }
}

/// The walk reads each result through the JSON API, which `demo` serves only when asked (§6 ¶2).
const RESULTS_API: &[&str] = &["--results-api"];

/// A worker on a thread of its own (its own runtime and HTTP client), walking 100,000 fresh
/// subjects from `first` on.
pub(crate) fn spawn_worker(
    querier: Session,
    querier_id: i64,
    approver: Session,
    first: u64,
    acks: &Arc<Mutex<Vec<Ack>>>,
    stop: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let (acks, stop) = (acks.clone(), stop.clone());
    std::thread::spawn(move || {
        rt().block_on(drive(
            querier,
            querier_id,
            approver,
            first..first + 100_000,
            acks,
            stop,
        ))
    })
}

/// One worker's loop: the whole walk for fresh subjects until the server dies or `stop`.
pub(crate) async fn drive(
    querier: Session,
    querier_id: i64,
    approver: Session,
    subjects: std::ops::Range<u64>,
    acks: Arc<Mutex<Vec<Ack>>>,
    stop: Arc<AtomicBool>,
) {
    let ack = |a: Ack| acks.lock().unwrap().push(a);
    for n in subjects {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let no = match querier
            .call(
                Some(fresh_registration(n, querier_id)),
                "/api/v1/registrations",
            )
            .await
        {
            Err(_) => return,
            Ok(None) => continue,
            Ok(Some((op, j))) => {
                let no = j["no"].as_str().unwrap().to_string();
                ack(Ack::Registered { op, no: no.clone() });
                no
            }
        };
        let decision = serde_json::json!({ "decision": "approve", "comment": "" });
        match approver
            .call(
                Some(decision),
                &format!("/api/v1/registrations/{no}/decision"),
            )
            .await
        {
            Err(_) => return,
            Ok(None) => continue,
            Ok(Some((op, _))) => ack(Ack::Approved { op, no: no.clone() }),
        }
        let items = serde_json::json!({ "items": [ITEM] });
        match querier
            .call(
                Some(items),
                &format!("/api/v1/registrations/{no}/execution"),
            )
            .await
        {
            Err(_) => return,
            // e.g. the per-account execution limit (§3): refused, nothing sent.
            Ok(None) => continue,
            Ok(Some((op, _))) => ack(Ack::Executed { op, no: no.clone() }),
        }
        match querier
            .call(None, &format!("/api/v1/registrations/{no}/results/{ITEM}"))
            .await
        {
            Err(_) => return,
            Ok(None) => continue,
            Ok(Some((op, _))) => ack(Ack::Viewed { op, no }),
        }
    }
}

fn audit_verify(data: &Path) {
    let o = bin()
        .args(["audit", "verify", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "audit verify: {}{}",
        stdout(&o),
        stderr(&o)
    );
}

pub(crate) async fn person_id(db: &mut AnyConnection, account: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM persons WHERE account = $1")
        .bind(account)
        .fetch_one(db)
        .await
        .unwrap()
}

async fn connect(data: &Path) -> AnyConnection {
    let path = data.join("querywarden.sqlite");
    connect_any(&format!("sqlite://{}", path.display())).await
}

/// A connection to the database at `url`, SQLite or PostgreSQL: the checks below are one
/// text for both, like the storage crate's statements.
pub(crate) async fn connect_any(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(url).await.unwrap()
}

#[test]
fn crash_rounds_keep_every_acknowledged_action_once_and_nothing_half_done() {
    let seed = std::env::var("QW_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0013_u64);
    eprintln!("crash rounds: QW_CRASH_SEED={seed}");
    // A seeded generator, so that a failing round can be replayed exactly.
    let mut rng = SplitMix64::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let mut kills_during_load = 0;

    for round in 0..ROUNDS {
        let mut demo = if round == 0 {
            Demo::start_in(&data, RESULTS_API)
        } else {
            Demo::start_from_nothing(&data, RESULTS_API)
        };
        let url = demo.url.clone();
        let (pairs, ids) = rt().block_on(async {
            let mut db = connect(&data).await;
            let ids = (
                person_id(&mut db, "lin.meiling").await,
                person_id(&mut db, "li.guowei").await,
            );
            let pairs = (
                (
                    Session::sign_in(&url, "lin.meiling").await,
                    Session::sign_in(&url, "chen.jianhong").await,
                ),
                (
                    Session::sign_in(&url, "li.guowei").await,
                    Session::sign_in(&url, "xu.wenjie").await,
                ),
            );
            (pairs, ids)
        });
        let stop = Arc::new(AtomicBool::new(false));
        let before = acks.lock().unwrap().len();
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let ((querier, approver), querier_id) = if w % 2 == 0 {
                    (pairs.0.clone(), ids.0)
                } else {
                    (pairs.1.clone(), ids.1)
                };
                let first = (round * WORKERS + w) * 100_000;
                spawn_worker(querier, querier_id, approver, first, &acks, &stop)
            })
            .collect();
        // The kill lands anywhere in the first seconds of load.
        let after = Duration::from_millis(300 + rng.below(2_200));
        let started = Instant::now();
        std::thread::sleep(after);
        let running = workers.iter().any(|w| !w.is_finished());
        demo.kill();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
        if running {
            kills_during_load += 1;
        }
        let acked = acks.lock().unwrap().len() - before;
        eprintln!(
            "round {round}: SIGKILL after {} ms of load, {acked} actions acknowledged",
            started.elapsed().as_millis()
        );
        audit_verify(&data);
    }
    assert_eq!(kills_during_load, ROUNDS, "every kill hit a loaded server");

    let acks = acks.lock().unwrap().clone();
    let count = |f: fn(&Ack) -> bool| acks.iter().filter(|a| f(a)).count();
    assert!(count(|a| matches!(a, Ack::Registered { .. })) > 0);
    assert!(count(|a| matches!(a, Ack::Executed { .. })) > 0);
    assert!(count(|a| matches!(a, Ack::Viewed { .. })) > 0);

    // A last start on the same data: it serves, and every "sent, no result" execution is in
    // its querier's inbox (§5: visible to the querier).
    let demo = Demo::start_from_nothing(&data, RESULTS_API);
    let url = demo.url.clone();
    let inbox_sent = rt().block_on(async {
        sent_without_result(&[
            Session::sign_in(&url, "lin.meiling").await,
            Session::sign_in(&url, "li.guowei").await,
        ])
        .await
    });
    drop(demo);
    audit_verify(&data);

    rt().block_on(async {
        check_invariants(&mut connect(&data).await, &acks, &inbox_sent).await;
    });
}

/// The executions sent without a result in the inboxes of the queriers signed in as
/// `queriers`: (registration number, item).
pub(crate) async fn sent_without_result(queriers: &[Session]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for s in queriers {
        let (_, inbox) = s
            .call(None, "/api/v1/registrations/inbox")
            .await
            .unwrap()
            .unwrap();
        for e in inbox["sent_without_result"].as_array().unwrap() {
            out.insert((
                e["no"].as_str().unwrap().to_string(),
                e["item"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// Succeeded audit records of `action`, by operation id, with their object ids.
async fn records(db: &mut AnyConnection, action: &str) -> HashMap<String, Vec<String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT request_id, object_id FROM audit_records \
         WHERE action = $1 AND outcome = 'succeeded'",
    )
    .bind(action)
    .fetch_all(db)
    .await
    .unwrap();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (op, object) in rows {
        out.entry(op).or_default().push(object);
    }
    out
}

/// How many succeeded records of `action` each object has.
fn per_object(records: &HashMap<String, Vec<String>>) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for object in records.values().flatten() {
        *out.entry(object.clone()).or_default() += 1;
    }
    out
}

/// An execution row: (execution id, registration number, item, operation id, outcome, has a
/// result).
type Execution = (i64, String, String, String, String, i64);

/// What the database holds after a load: the succeeded records of each action by operation
/// id, and the rows they stand for.
struct Stored {
    created: HashMap<String, Vec<String>>,
    approved: HashMap<String, Vec<String>>,
    sent: HashMap<String, Vec<String>>,
    received: HashMap<String, Vec<String>>,
    viewed: HashMap<String, Vec<String>>,
    /// By number: (id, state).
    registrations: HashMap<String, (i64, String)>,
    /// Approval decisions by registration id.
    approvals: HashMap<i64, usize>,
    executions: Vec<Execution>,
    views: i64,
    /// Results on an execution not received.
    orphan_results: i64,
}

impl Stored {
    /// Reads the records and rows the invariants speak of.
    async fn read(db: &mut AnyConnection) -> Stored {
        let created = records(&mut *db, "query.registration.created").await;
        let approved = records(&mut *db, "query.registration.approved").await;
        let sent = records(&mut *db, "query.sent").await;
        let received = records(&mut *db, "query.result.received").await;
        let viewed = records(&mut *db, "result.viewed").await;

        let registrations: HashMap<String, (i64, String)> =
            sqlx::query_as::<_, (String, i64, String)>(
                "SELECT reg_no, id, state FROM registrations",
            )
            .fetch_all(&mut *db)
            .await
            .unwrap()
            .into_iter()
            .map(|(no, id, state)| (no, (id, state)))
            .collect();
        let approvals: HashMap<i64, usize> = sqlx::query_as::<_, (i64, i64)>(
            "SELECT registration_id, COUNT(*) FROM registration_decisions \
         WHERE kind IN ('approve', 'approve_first') GROUP BY registration_id",
        )
        .fetch_all(&mut *db)
        .await
        .unwrap()
        .into_iter()
        .map(|(r, n)| (r, usize::try_from(n).unwrap()))
        .collect();
        // (execution id, registration number, item, operation id, outcome, has a result)
        let executions: Vec<(i64, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT e.id, r.reg_no, e.item, e.request_id, e.outcome, \
                (SELECT COUNT(*) FROM results x WHERE x.execution_id = e.id) \
         FROM executions e JOIN registrations r ON r.id = e.registration_id",
        )
        .fetch_all(&mut *db)
        .await
        .unwrap();
        let views: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM result_views")
            .fetch_one(&mut *db)
            .await
            .unwrap();
        let orphan_results: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM results x JOIN executions e ON e.id = x.execution_id \
         WHERE e.outcome <> 'received'",
        )
        .fetch_one(&mut *db)
        .await
        .unwrap();
        Stored {
            created,
            approved,
            sent,
            received,
            viewed,
            registrations,
            approvals,
            executions,
            views,
            orphan_results,
        }
    }
}

/// The invariants of the module's comment on the database `db` after the load that
/// acknowledged `acks`; `inbox_sent` is what the queriers' inboxes show as sent without a
/// result.
pub(crate) async fn check_invariants(
    db: &mut AnyConnection,
    acks: &[Ack],
    inbox_sent: &BTreeSet<(String, String)>,
) {
    let stored = Stored::read(db).await;
    every_acknowledged_action_exists_once(&stored, acks);
    every_registration_has_its_records(&stored);
    let sent_without_result = every_execution_has_its_records(&stored, inbox_sent);
    eprintln!(
        "invariants held: {} acknowledged actions, {} registrations, {} executions ({} sent without result)",
        acks.len(),
        stored.registrations.len(),
        stored.executions.len(),
        sent_without_result
    );
}

/// Every acknowledged action exists exactly once, with exactly one record.
fn every_acknowledged_action_exists_once(stored: &Stored, acks: &[Ack]) {
    let once = |map: &HashMap<String, Vec<String>>, op: &str, no: &str, what: &str| {
        assert_eq!(
            map.get(op).map(Vec::as_slice),
            Some([no.to_string()].as_slice()),
            "{what} {no} (operation {op}) acknowledged: exactly one record"
        );
    };
    for a in acks {
        match a {
            Ack::Registered { op, no } => {
                assert!(
                    stored.registrations.contains_key(no),
                    "registration {no} lost"
                );
                once(&stored.created, op, no, "registration");
            }
            Ack::Approved { op, no } => {
                let (id, state) = &stored.registrations[no];
                assert_eq!(state, "approved", "{no}");
                assert_eq!(stored.approvals.get(id), Some(&1), "{no}: one approval");
                once(&stored.approved, op, no, "approval");
            }
            Ack::Executed { op, no } => {
                let item_op = format!("{op}-{ITEM}");
                let rows: Vec<_> = stored
                    .executions
                    .iter()
                    .filter(|e| e.3 == item_op)
                    .collect();
                assert_eq!(rows.len(), 1, "{no}: one execution row");
                assert_eq!(rows[0].4, "received", "{no}: acknowledged with its result");
                assert_eq!(rows[0].5, 1, "{no}: one result");
                once(&stored.sent, &item_op, no, "query sent");
                once(&stored.received, &item_op, no, "result received");
            }
            Ack::Viewed { op, no } => once(&stored.viewed, op, no, "view"),
        }
    }
}

/// Nothing half-exists: every registration row and its records pair up one to one.
fn every_registration_has_its_records(stored: &Stored) {
    let Stored {
        created,
        approved,
        registrations,
        approvals,
        ..
    } = stored;
    let created_per = per_object(created);
    for no in registrations.keys() {
        assert_eq!(
            created_per.get(no),
            Some(&1),
            "registration {no}: its record"
        );
    }
    assert_eq!(
        created_per.len(),
        registrations.len(),
        "a creation record without its registration"
    );
    let approved_per = per_object(approved);
    for (no, (id, _)) in registrations {
        assert_eq!(
            approvals.get(id).copied().unwrap_or(0),
            approved_per.get(no).copied().unwrap_or(0),
            "registration {no}: approval decisions and approval records"
        );
    }
}

/// Nothing half-exists: every execution and its records pair up one to one, and every
/// execution sent without a result (§5) is in its querier's inbox. Returns how many were sent
/// without one.
fn every_execution_has_its_records(
    stored: &Stored,
    inbox_sent: &BTreeSet<(String, String)>,
) -> usize {
    let Stored {
        sent,
        received,
        viewed,
        executions,
        views,
        orphan_results,
        ..
    } = stored;
    let mut sent_without_result = BTreeSet::new();
    for (id, no, item, op, outcome, results) in executions {
        let sent_records = sent.get(op).map_or(0, Vec::len);
        let received_records = received.get(op).map_or(0, Vec::len);
        assert_eq!(sent_records, 1, "execution {id}: its query.sent record");
        match outcome.as_str() {
            "received" => {
                assert_eq!(*results, 1, "execution {id}: its result");
                assert_eq!(received_records, 1, "execution {id}: its received record");
            }
            // Killed between the upstream call and storing the answer (§5).
            "sent" => {
                assert_eq!(*results, 0, "execution {id}");
                assert_eq!(received_records, 0, "execution {id}");
                sent_without_result.insert((no.clone(), item.clone()));
            }
            other => panic!("execution {id}: unexpected outcome {other}"),
        }
    }
    assert_eq!(
        sent.len(),
        executions.len(),
        "a query.sent record without its execution"
    );
    assert_eq!(
        received.len(),
        executions.iter().filter(|e| e.4 == "received").count(),
        "a query.result.received record without its result"
    );
    assert_eq!(*orphan_results, 0, "a result on an execution not received");
    assert_eq!(
        usize::try_from(*views).unwrap(),
        viewed.values().map(Vec::len).sum::<usize>(),
        "result views and their records"
    );
    assert_eq!(
        &sent_without_result, inbox_sent,
        "every execution sent without a result is in its querier's inbox"
    );
    sent_without_result.len()
}
