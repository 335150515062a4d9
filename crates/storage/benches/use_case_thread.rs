//! Two ways to run the *execute* use case's statements on SQLite, on the same disk, with the
//! same file settings (WAL, `synchronous=FULL`) and the same K concurrent tasks:
//!
//! - **statement by statement** (today's store): sqlx-sqlite, every statement an `await` that
//!   hands it to the connection's worker thread and waits for the answer; reads on a read
//!   pool, writes on one connection shared as today's group commit shares it (a savepoint per
//!   use case inside the open transaction, whoever commits next commits everything released);
//! - **the whole use case on the database's thread**: rusqlite on one thread that owns the
//!   connection; a task sends the step (reads and the first write transaction; later the
//!   second) as one message and awaits one answer; the thread group-commits every step
//!   queued behind the first (one savepoint each, one `COMMIT`).
//!
//! The statements are those the server runs for `POST /api/v1/registrations/{no}/execution`
//! (counted from its sqlx log, BENCHMARKS.md), on tables of the same shape: the caller's
//! session, person and disablement, the use case's own session re-read and the grants, then
//! two write transactions — "sent" with its audit record before the upstream call (§5), the
//! sealed result with its record after it — each audit record reading the chain head first.
//! The upstream call itself is left out (zero latency).
//!
//! `cargo bench -p querywarden-storage --bench use_case_thread`; `QW_BENCH_CLIENTS` (K,
//! default 50), `QW_BENCH_SECS` (per way, default 5), `QW_BENCH_DIR` (default the temp dir).
//! Prints use cases per second, p50/p99 of a whole use case, commits per second and the
//! process's CPU time per use case (user and system, from `/proc/self/stat`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark harness that cannot set itself up should stop loudly"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tokio::sync::{Mutex, oneshot};

const PEOPLE: i64 = 1000;
const RESULT_BYTES: usize = 1200;

const SCHEMA: &str = "
CREATE TABLE sessions (token TEXT PRIMARY KEY, person INTEGER NOT NULL, last_seen TEXT NOT NULL,
    locked INTEGER NOT NULL, certificate TEXT NOT NULL);
CREATE TABLE persons (id INTEGER PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL,
    unit TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE person_roles (person INTEGER NOT NULL, role TEXT NOT NULL, PRIMARY KEY (person, role));
CREATE TABLE disablements (person INTEGER PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE grants (person INTEGER NOT NULL, item TEXT NOT NULL, valid_until TEXT NOT NULL,
    PRIMARY KEY (person, item));
CREATE TABLE registrations (no INTEGER PRIMARY KEY, querier INTEGER NOT NULL, state TEXT NOT NULL,
    subject BLOB NOT NULL, valid_until TEXT NOT NULL);
CREATE TABLE executions (id INTEGER PRIMARY KEY, registration INTEGER NOT NULL, item TEXT NOT NULL,
    state TEXT NOT NULL, sent_at TEXT NOT NULL, result BLOB);
CREATE INDEX executions_registration ON executions (registration, item);
CREATE TABLE audit_records (seq INTEGER PRIMARY KEY, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,
    body TEXT NOT NULL);
";

// --- the statements, one dialect for both ways ($N placeholders) ---
const SESSION: &str =
    "SELECT person, last_seen, locked, certificate FROM sessions WHERE token = $1";
const PERSON: &str = "SELECT p.id, p.account, p.name, p.unit, p.status, r.role FROM persons p \
     LEFT JOIN person_roles r ON r.person = p.id WHERE p.id = $1";
const DISABLED: &str = "SELECT at FROM disablements WHERE person = $1";
const GRANTS: &str = "SELECT item, valid_until FROM grants WHERE person = $1";
const REGISTRATION: &str =
    "SELECT no, querier, state, subject, valid_until FROM registrations WHERE no = $1";
const EXECUTED: &str = "SELECT id, state FROM executions WHERE registration = $1 AND item = $2";
const TOUCH: &str = "UPDATE sessions SET last_seen = $1 WHERE token = $2";
const SENT: &str = "INSERT INTO executions (registration, item, state, sent_at) \
     VALUES ($1, 'C0101', 'sent', $2) RETURNING id";
const RECEIVED: &str = "UPDATE executions SET state = 'received', result = $1 WHERE id = $2";
const HEAD: &str = "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1";
const APPEND: &str =
    "INSERT INTO audit_records (seq, prev_hash, hash, body) VALUES ($1, $2, $3, $4)";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn token(p: i64) -> String {
    format!(
        "{:064x}",
        p.cast_unsigned().wrapping_mul(0x9E37_79B9_7F4A_7C15)
    )
}

fn audit_body(what: &str, n: u64) -> String {
    format!(
        "{{\"action\":\"{what}\",\"operation_id\":\"op-{n:016x}\",\"actor\":{},\"object\":\
         \"registration:{n}\",\"subject\":\"{:064x}\",\"at\":\"2026-11-30T23:00:00Z\"}}",
        n % 1000,
        n
    )
}

fn chain(prev: &[u8], body: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(body.as_bytes());
    h.finalize().to_vec()
}

fn fill(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("PRAGMA journal_mode=WAL;").unwrap();
    c.execute_batch(SCHEMA).unwrap();
    c.execute_batch("BEGIN").unwrap();
    for p in 0..PEOPLE {
        c.execute(
            "INSERT INTO sessions VALUES (?1, ?2, '2026-11-30T23:00:00Z', 0, 'cert-serial-0001')",
            rusqlite::params![token(p), p],
        )
        .unwrap();
        c.execute(
            "INSERT INTO persons VALUES (?1, ?2, '林美玲', 'social-assistance', 'active')",
            rusqlite::params![p, format!("querier.{p}")],
        )
        .unwrap();
        c.execute(
            "INSERT INTO person_roles VALUES (?1, 'querier')",
            rusqlite::params![p],
        )
        .unwrap();
        for item in ["C0101", "B0201", "B0301"] {
            c.execute(
                "INSERT INTO grants VALUES (?1, ?2, '2027-12-31')",
                rusqlite::params![p, item],
            )
            .unwrap();
        }
    }
    c.execute(
        "INSERT INTO audit_records VALUES (0, zeroblob(32), zeroblob(32), '{}')",
        [],
    )
    .unwrap();
    c.execute_batch("COMMIT").unwrap();
}

/// One registration per use case, added before the run (the execution reads it).
fn registrations(path: &Path, n: i64) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("BEGIN").unwrap();
    for no in 0..n {
        c.execute(
            "INSERT INTO registrations VALUES (?1, ?2, 'approved', zeroblob(96), '2026-12-31')",
            rusqlite::params![no, no % PEOPLE],
        )
        .unwrap();
    }
    c.execute_batch("COMMIT").unwrap();
}

/// Clock ticks of user and system CPU time of this process.
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit(')').next().unwrap();
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    (f[11].parse().unwrap(), f[12].parse().unwrap())
}

struct Figures {
    done: u64,
    secs: f64,
    latencies: Vec<Duration>,
    commits: u64,
    user: u64,
    system: u64,
}

impl Figures {
    fn print(&self, way: &str) {
        let mut l = self.latencies.clone();
        l.sort();
        let pct = |p: f64| {
            l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        let per = |ticks: u64| ticks as f64 * 10_000.0 / self.done.max(1) as f64;
        println!(
            "{way}: {} use cases in {:.1} s = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms; {} commits \
             ({:.0}/s, {:.1} use-case steps each); CPU per use case {:.0} µs user + {:.0} µs system",
            self.done,
            self.secs,
            self.done as f64 / self.secs,
            pct(0.50),
            pct(0.99),
            self.commits,
            self.commits as f64 / self.secs,
            2.0 * self.done as f64 / self.commits.max(1) as f64,
            per(self.user),
            per(self.system),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Statement by statement (sqlx), with today's group commit.

struct Group {
    conn: SqliteConnection,
    open: bool,
    pending: Vec<oneshot::Sender<()>>,
}

struct Sqlx {
    reader: SqlitePool,
    group: Arc<Mutex<Group>>,
    commits: AtomicU64,
}

impl Sqlx {
    async fn open(path: &Path) -> Sqlx {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let conn = SqliteConnection::connect_with(&options).await.unwrap();
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .unwrap();
        Sqlx {
            reader,
            group: Arc::new(Mutex::new(Group {
                conn,
                open: false,
                pending: Vec::new(),
            })),
            commits: AtomicU64::new(0),
        }
    }

    /// One write transaction: join the group's, a savepoint, `write`, the audit append,
    /// release, then wait for whoever commits next.
    async fn write_step(&self, what: &str, n: u64, execution: Option<i64>) -> i64 {
        let (done, acknowledged) = oneshot::channel();
        let id;
        {
            let mut g = self.group.lock().await;
            if !g.open {
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut g.conn)
                    .await
                    .unwrap();
                g.open = true;
            }
            sqlx::query("SAVEPOINT uc")
                .execute(&mut g.conn)
                .await
                .unwrap();
            id = match execution {
                None => {
                    let (id,): (i64,) = sqlx::query_as(SENT)
                        .bind(n as i64)
                        .bind("2026-11-30T23:00:00Z")
                        .fetch_one(&mut g.conn)
                        .await
                        .unwrap();
                    id
                }
                Some(id) => {
                    sqlx::query(RECEIVED)
                        .bind(vec![7u8; RESULT_BYTES])
                        .bind(id)
                        .execute(&mut g.conn)
                        .await
                        .unwrap();
                    id
                }
            };
            let (seq, prev): (i64, Vec<u8>) =
                sqlx::query_as(HEAD).fetch_one(&mut g.conn).await.unwrap();
            let body = audit_body(what, n);
            sqlx::query(APPEND)
                .bind(seq + 1)
                .bind(&prev)
                .bind(chain(&prev, &body))
                .bind(&body)
                .execute(&mut g.conn)
                .await
                .unwrap();
            sqlx::query("RELEASE uc")
                .execute(&mut g.conn)
                .await
                .unwrap();
            g.pending.push(done);
        }
        {
            let mut g = self.group.lock().await;
            if g.open && !g.pending.is_empty() {
                sqlx::query("COMMIT").execute(&mut g.conn).await.unwrap();
                self.commits.fetch_add(1, Ordering::Relaxed);
                g.open = false;
                for w in g.pending.drain(..) {
                    let _ = w.send(());
                }
            }
        }
        acknowledged.await.unwrap();
        id
    }

    async fn execute(&self, n: u64) {
        let p = (n % PEOPLE as u64) as i64;
        let t = token(p);
        // Authentication, then the use case's own reads.
        sqlx::query(SESSION)
            .bind(&t)
            .fetch_one(&self.reader)
            .await
            .unwrap();
        sqlx::query(PERSON)
            .bind(p)
            .fetch_all(&self.reader)
            .await
            .unwrap();
        sqlx::query(DISABLED)
            .bind(p)
            .fetch_optional(&self.reader)
            .await
            .unwrap();
        sqlx::query(SESSION)
            .bind(&t)
            .fetch_one(&self.reader)
            .await
            .unwrap();
        sqlx::query(GRANTS)
            .bind(p)
            .fetch_all(&self.reader)
            .await
            .unwrap();
        sqlx::query(REGISTRATION)
            .bind(n as i64)
            .fetch_one(&self.reader)
            .await
            .unwrap();
        sqlx::query(EXECUTED)
            .bind(n as i64)
            .bind("C0101")
            .fetch_optional(&self.reader)
            .await
            .unwrap();
        sqlx::query(TOUCH)
            .bind("2026-11-30T23:00:01Z")
            .bind(&t)
            .execute(&mut self.group.lock().await.conn)
            .await
            .unwrap();
        let id = self.write_step("query.sent", n, None).await;
        // (the upstream call)
        self.write_step("query.result.received", n, Some(id)).await;
    }
}

// ---------------------------------------------------------------------------------------
// The whole step on the database's own thread (rusqlite), group-committed there.

enum Step {
    /// Authentication, the use case's reads and "sent"; answers the execution's id.
    Send(u64, oneshot::Sender<i64>),
    /// The sealed result.
    Receive(u64, i64, oneshot::Sender<i64>),
}

fn writer_thread(path: PathBuf, rx: std::sync::mpsc::Receiver<Step>, commits: Arc<AtomicU64>) {
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;")
        .unwrap();
    while let Ok(first) = rx.recv() {
        // Everything queued behind the first step joins its transaction (group commit).
        let mut steps = vec![first];
        while steps.len() < 256
            && let Ok(s) = rx.try_recv()
        {
            steps.push(s);
        }
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        let mut answers = Vec::with_capacity(steps.len());
        for step in steps {
            c.execute_batch("SAVEPOINT uc").unwrap();
            let (what, n, id, reply) = match step {
                Step::Send(n, reply) => {
                    let p = (n % PEOPLE as u64) as i64;
                    let t = token(p);
                    let mut s = c.prepare_cached(SESSION).unwrap();
                    let _: i64 = s.query_row([&t], |r| r.get(0)).unwrap();
                    let mut s = c.prepare_cached(PERSON).unwrap();
                    let _ = s.query_map([p], |r| r.get::<_, String>(1)).unwrap().count();
                    let mut s = c.prepare_cached(DISABLED).unwrap();
                    let _ = s.query_map([p], |r| r.get::<_, String>(0)).unwrap().count();
                    let mut s = c.prepare_cached(SESSION).unwrap();
                    let _: i64 = s.query_row([&t], |r| r.get(0)).unwrap();
                    let mut s = c.prepare_cached(GRANTS).unwrap();
                    let _ = s.query_map([p], |r| r.get::<_, String>(0)).unwrap().count();
                    let mut s = c.prepare_cached(REGISTRATION).unwrap();
                    let _: i64 = s.query_row([n as i64], |r| r.get(0)).unwrap();
                    let mut s = c.prepare_cached(EXECUTED).unwrap();
                    let _ = s
                        .query_map(rusqlite::params![n as i64, "C0101"], |r| r.get::<_, i64>(0))
                        .unwrap()
                        .count();
                    let mut s = c.prepare_cached(TOUCH).unwrap();
                    s.execute(["2026-11-30T23:00:01Z", &t]).unwrap();
                    let mut s = c.prepare_cached(SENT).unwrap();
                    let id: i64 = s
                        .query_row(rusqlite::params![n as i64, "2026-11-30T23:00:00Z"], |r| {
                            r.get(0)
                        })
                        .unwrap();
                    ("query.sent", n, id, reply)
                }
                Step::Receive(n, id, reply) => {
                    let mut s = c.prepare_cached(RECEIVED).unwrap();
                    s.execute(rusqlite::params![vec![7u8; RESULT_BYTES], id])
                        .unwrap();
                    ("query.result.received", n, id, reply)
                }
            };
            let mut s = c.prepare_cached(HEAD).unwrap();
            let (seq, prev): (i64, Vec<u8>) =
                s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            let body = audit_body(what, n);
            let mut s = c.prepare_cached(APPEND).unwrap();
            s.execute(rusqlite::params![seq + 1, prev, chain(&prev, &body), body])
                .unwrap();
            c.execute_batch("RELEASE uc").unwrap();
            answers.push((reply, id));
        }
        c.execute_batch("COMMIT").unwrap();
        commits.fetch_add(1, Ordering::Relaxed);
        for (reply, id) in answers {
            let _ = reply.send(id);
        }
    }
}

struct OwnThread {
    tx: std::sync::mpsc::Sender<Step>,
    commits: Arc<AtomicU64>,
}

impl OwnThread {
    async fn execute(&self, n: u64) {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Step::Send(n, reply)).unwrap();
        let id = answer.await.unwrap();
        // (the upstream call)
        let (reply, answer) = oneshot::channel();
        self.tx.send(Step::Receive(n, id, reply)).unwrap();
        answer.await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------

/// K tasks, each running use cases back to back for `secs`; every use case has its own
/// registration number (`next`).
async fn drive<F, Fut>(clients: usize, secs: u64, run: F) -> (u64, f64, Vec<Duration>)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let run = Arc::new(run);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let run = run.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut l = Vec::new();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                run(n).await;
                l.push(t.elapsed());
            }
            l
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len() as u64, started.elapsed().as_secs_f64(), all)
}

fn main() {
    let clients: usize = env_or("QW_BENCH_CLIENTS", 50);
    let secs: u64 = env_or("QW_BENCH_SECS", 5);
    let dir = std::env::var_os("QW_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let work = tempfile::Builder::new()
        .prefix("qw-use-case-")
        .tempdir_in(&dir)
        .unwrap();
    // Enough registrations for the fastest way's run.
    let room = 30_000 * secs as i64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "execute use case, {clients} tasks, {secs} s per way, {} cores, data in {}",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        work.path().display()
    );

    for (i, way) in [
        "statement by statement (sqlx)",
        "on the database's thread (rusqlite)",
    ]
    .iter()
    .enumerate()
    {
        let path = work.path().join(format!("way{i}.sqlite"));
        fill(&path);
        registrations(&path, room);
        let before = cpu_ticks();
        let (done, secs_taken, latencies, commits) = if i == 0 {
            let store = Arc::new(rt.block_on(Sqlx::open(&path)));
            let s = store.clone();
            let (done, t, l) = rt.block_on(drive(clients, secs, move |n| {
                let s = s.clone();
                async move { s.execute(n).await }
            }));
            (done, t, l, store.commits.load(Ordering::Relaxed))
        } else {
            let (tx, rx) = std::sync::mpsc::channel();
            let commits = Arc::new(AtomicU64::new(0));
            let c = commits.clone();
            let p = path.clone();
            let writer = std::thread::spawn(move || writer_thread(p, rx, c));
            let own = Arc::new(OwnThread {
                tx,
                commits: commits.clone(),
            });
            let o = own.clone();
            let (done, t, l) = rt.block_on(drive(clients, secs, move |n| {
                let o = o.clone();
                async move { o.execute(n).await }
            }));
            let commits = own.commits.load(Ordering::Relaxed);
            drop(own);
            writer.join().unwrap();
            (done, t, l, commits)
        };
        let after = cpu_ticks();
        Figures {
            done,
            secs: secs_taken,
            latencies,
            commits,
            user: after.0 - before.0,
            system: after.1 - before.1,
        }
        .print(way);
    }
}
