//! Load benchmark: the real `querywarden demo` binary (its BLI simulator in-process, zero
//! latency, no faults) driven through the JSON API by K concurrent clients acting for N
//! queriers, each walking register → approve → execute → view; throughput and p50/p95/p99
//! per step, and the server's RSS from `/proc/<pid>/status`. In the same run, on the same
//! disk: a bare SQLite one-row commit loop (WAL, `synchronous=FULL`, as the store) and the
//! simulator alone under the same K clients — the two ceilings the figures are read against.
//!
//! `cargo bench -p querywarden-cli --bench load` with, optionally,
//! `QW_LOAD_QUERIERS` (N, default 1000), `QW_LOAD_CLIENTS` (K, default 50), `QW_LOAD_SECS`
//! (default 10), `QW_LOAD_SEED_REGISTRATIONS` (M, default 0: after the load, M registrations
//! are copied into the database directly and the RSS is read again after a restart and a
//! short load), `QW_LOAD_DIR` (where the data goes; default the system's temp dir),
//! `QW_LOAD_HEAPTRACK` (a file prefix: the measured server runs under `heaptrack -o`, and is
//! stopped with SIGTERM so that the trace ends cleanly; read it with `heaptrack_print`),
//! `QW_LOAD_POSTGRES` (a PostgreSQL server's URL, e.g. `postgres://postgres@127.0.0.1:5432/test`:
//! the same run then measures the same walk on PostgreSQL too, see below).
//!
//! With `QW_LOAD_POSTGRES`: a fresh schema on that server (`qw_load_…`, dropped at the end);
//! beside the bare SQLite loop, a bare PostgreSQL one (one connection, `BEGIN; INSERT` of a
//! 200-byte row`; COMMIT`, the server's own `synchronous_commit`); and after the whole SQLite
//! leg, the fixture as it was before that leg's load (a `VACUUM INTO` copy taken right after
//! it was written, so both legs start from the same data) moved into the schema with the real
//! `querywarden copy`, and the walk, the RSS and the statement counts again on `querywarden
//! serve` over the schema. The arrangements differ, and the report says which is which: the
//! SQLite leg runs `demo`, whose simulator is in the server's process; `demo` cannot take a
//! `storage.url`, so the PostgreSQL leg runs `serve` with a configuration (the demo's keys and
//! CA, `bli.mode = "connected"`) and a simulator, also at zero latency, in the benchmark's own
//! process, beside the clients.
//!
//! Fixture, not under test: the N queriers, their grants (copies of the demo querier's
//! Form 1 grants) and the sessions of the queriers and of their supervisor are written into
//! the database directly before the server starts, because the per-account rate limits of
//! §3 (60 executions and 20 sign-ins a minute) would otherwise cap the run, and a sign-in
//! needs a card. Everything measured goes through the HTTP API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark harness that cannot set itself up should stop loudly"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use querywarden_app::auth::{digest, random_token};
use querywarden_bli::simulator::{self, SimulatorConfig};
use querywarden_bli::{BliItem, wire};
use querywarden_testkit::{fresh_registration, fresh_subject_id};
use sqlx::Connection;

const ITEM: &str = "C0101";

/// Every client of the run comes from 127.0.0.1, so the per-address execution limit of §3
/// (600 a minute by default) would cap the executions at 10 a second; the run raises it to the
/// most the configuration allows (a million a minute), as an operator behind one proxy
/// address would. The per-account limits stay (the N queriers keep each account under them).
const LIMIT_VAR: &str = "QUERYWARDEN_LIMITS__EXECUTION_PER_ADDRESS";
const LIMIT: &str = "1000000";

struct Settings {
    queriers: usize,
    clients: usize,
    secs: u64,
    seed_registrations: u64,
    dir: PathBuf,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            queriers: env_or("QW_LOAD_QUERIERS", 1000),
            clients: env_or("QW_LOAD_CLIENTS", 50),
            secs: env_or("QW_LOAD_SECS", 10),
            seed_registrations: env_or("QW_LOAD_SEED_REGISTRATIONS", 0),
            dir: std::env::var_os("QW_LOAD_DIR").map_or_else(std::env::temp_dir, PathBuf::from),
        }
    }
}

/// Latencies in microseconds, summarised once.
#[derive(Default, Clone)]
struct Latencies(Vec<u32>);

impl Latencies {
    fn push(&mut self, d: Duration) {
        self.0
            .push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
    }

    fn extend(&mut self, other: &Latencies) {
        self.0.extend_from_slice(&other.0);
    }

    fn summary(&self, secs: f64) -> String {
        let mut v = self.0.clone();
        if v.is_empty() {
            return "none".into();
        }
        v.sort_unstable();
        let at = |p: f64| {
            let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
            f64::from(v[i]) / 1000.0
        };
        format!(
            "{:>7} done, {:>8.0}/s, p50 {:>6.2} ms, p95 {:>6.2} ms, p99 {:>6.2} ms",
            v.len(),
            v.len() as f64 / secs,
            at(0.50),
            at(0.95),
            at(0.99)
        )
    }
}

/// `VmRSS` and `VmHWM` of a process, in MiB.
fn rss(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

// ---------------------------------------------------------------------------------------
// Baseline 1: the bare one-row commit loop.

fn fsync_loop(dir: &Path, secs: u64) {
    let path = dir.join("fsync-loop.sqlite");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
        .unwrap();
    let mut lat = Latencies::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    while Instant::now() < deadline {
        let t = Instant::now();
        c.execute_batch("BEGIN").unwrap();
        c.execute("INSERT INTO t (v) VALUES (zeroblob(200))", [])
            .unwrap();
        c.execute_batch("COMMIT").unwrap();
        lat.push(t.elapsed());
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "bare SQLite commit loop (WAL, synchronous=FULL, one 200-byte row per commit): {}",
        lat.summary(elapsed)
    );
    drop(c);
    let _ = std::fs::remove_file(&path);
}

// ---------------------------------------------------------------------------------------
// Baseline 2: the simulator alone, same clients.

async fn simulator_alone(clients: usize, secs: u64) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = simulator::spawn(SimulatorConfig::default(), listener)
        .await
        .unwrap();
    let endpoint = format!("{}{}", sim.base_url(), wire::QUERY_PATH);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|w| {
            let (client, endpoint) = (client.clone(), endpoint.clone());
            tokio::spawn(async move {
                let mut lat = Latencies::default();
                let mut n = w as u64;
                while Instant::now() < deadline {
                    n += clients as u64;
                    let body = serde_json::json!({
                        "request_id": format!("load-{n}"),
                        "item": BliItem::ALL[(n % 9) as usize].code(),
                        "subject_id": fresh_subject_id(n),
                        "agency_code": "LOAD",
                        "operator_account": "load",
                    });
                    let t = Instant::now();
                    let r = client.post(&endpoint).json(&body).send().await.unwrap();
                    assert!(r.status().is_success());
                    r.bytes().await.unwrap();
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Latencies::default();
    for t in tasks {
        all.extend(&t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "simulator alone ({clients} clients, zero latency): {}",
        all.summary(elapsed)
    );
    sim.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------
// The server.

struct Server {
    child: Child,
    url: String,
    /// Under heaptrack: the server's own process (the child is heaptrack's script).
    profiled: Option<u32>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(pid) = self.profiled {
            // A clean stop, so that heaptrack writes the end of its trace (what is still
            // allocated at exit); then the script finishes by itself.
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let _ = self.child.wait();
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first child of `pid` (heaptrack's script runs the server as its child).
fn child_of(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Server {
    fn start(data: &Path, log: Option<(&str, &Path)>) -> Server {
        Self::start_profiled(data, log, None)
    }

    /// `heaptrack`: a file name prefix; the server then runs under `heaptrack -o <prefix>`.
    fn start_profiled(data: &Path, log: Option<(&str, &Path)>, heaptrack: Option<&Path>) -> Server {
        let bin = env!("CARGO_BIN_EXE_querywarden");
        let mut cmd = match heaptrack {
            Some(prefix) => {
                let mut c = Command::new("heaptrack");
                c.arg("-o").arg(prefix).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.args([
            "demo",
            "--empty",
            "--results-api",
            "--listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(data)
        .env_remove("QUERYWARDEN_LOG")
        .env(LIMIT_VAR, LIMIT)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if let Some((filter, file)) = log {
            cmd.env("QUERYWARDEN_LOG", filter)
                .stderr(std::fs::File::create(file).unwrap());
        }
        let mut child = cmd.spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let url = querywarden_testkit::binary::demo_origin(out, Duration::from_secs(300));
        let profiled = heaptrack.map(|_| child_of(child.id()).expect("heaptrack runs no server"));
        Server {
            child,
            url,
            profiled,
        }
    }

    fn pid(&self) -> u32 {
        self.profiled.unwrap_or_else(|| self.child.id())
    }

    /// `querywarden serve --config CONFIG` (JSON log on stderr, read for the address it
    /// bound and then drained, or copied to `log`'s file under its filter).
    fn serve(config: &Path, log: Option<(&str, &Path)>) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_querywarden"));
        cmd.args(["serve", "--config"])
            .arg(config)
            .env_remove("QUERYWARDEN_LOG")
            .env(LIMIT_VAR, LIMIT)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut copy = None;
        if let Some((filter, file)) = log {
            // The line that names the address is needed whatever the filter.
            cmd.env(
                "QUERYWARDEN_LOG",
                format!("{filter},querywarden::commands::serve=info"),
            );
            copy = Some(std::fs::File::create(file).unwrap());
        }
        let mut child = cmd.spawn().unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Write;
            // Read to the end, so the server never blocks on a full pipe.
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if let Some(f) = copy.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                if !line.contains("querywarden serving") {
                    continue;
                }
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    let f = v.get("fields").unwrap_or(&v);
                    let _ = tx.send(format!(
                        "{}://{}",
                        f["scheme"].as_str().unwrap_or("http"),
                        f["listen"].as_str().unwrap_or_default()
                    ));
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("serve logged no address");
        Server {
            child,
            url,
            profiled: None,
        }
    }
}

/// A session cookie and CSRF token written straight into the store (the fixture).
#[derive(Clone)]
struct Credentials {
    cookie: String,
    csrf: String,
    person: i64,
}

fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

/// Adds `n` queriers like the demo's lin.meiling (same unit, roles and grants) and a
/// session for each and for their supervisor chen.jianhong. Returns (queriers, supervisor).
fn seed_people(db: &Path, n: usize) -> (Vec<Credentials>, Credentials) {
    let mut c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    let tx = c.transaction().unwrap();
    let person = |account: &str| -> i64 {
        tx.query_row(
            "SELECT id FROM persons WHERE account = ?1",
            [account],
            |r| r.get(0),
        )
        .unwrap()
    };
    let lin = person("lin.meiling");
    let chen = person("chen.jianhong");
    let session = |person: i64| -> Credentials {
        let token = random_token().unwrap();
        let csrf = random_token().unwrap();
        let now = now_text();
        tx.execute(
            "INSERT INTO sessions (token_hash, person_id, csrf_token, created_at, last_seen_at, \
             locked, client_addr, cert_fingerprint) VALUES (?1, ?2, ?3, ?4, ?4, 0, '127.0.0.1', \
             'load-benchmark-fixture')",
            rusqlite::params![digest(&token), person, csrf, now],
        )
        .unwrap();
        Credentials {
            cookie: format!("qw_session={token}"),
            csrf,
            person,
        }
    };
    let mut queriers = Vec::with_capacity(n);
    for i in 0..n {
        tx.execute(
            "INSERT INTO persons (account, name, title, unit_id, status, created_at) \
             SELECT ?1, '負載' || ?2, title, unit_id, status, created_at FROM persons WHERE id = ?3",
            rusqlite::params![format!("load.q{i}"), i.to_string(), lin],
        )
        .unwrap();
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO person_roles (person_id, role) SELECT ?1, role FROM person_roles \
             WHERE person_id = ?2",
            rusqlite::params![id, lin],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO permission_grants (person_id, item, effective_from, effective_to, \
             application_id, status, suspended_from, suspension_cause, created_at, updated_at) \
             SELECT ?1, item, effective_from, effective_to, application_id, status, \
             suspended_from, suspension_cause, created_at, updated_at FROM permission_grants \
             WHERE person_id = ?2",
            rusqlite::params![id, lin],
        )
        .unwrap();
        queriers.push(session(id));
    }
    let supervisor = session(chen);
    tx.commit().unwrap();
    (queriers, supervisor)
}

/// Copies the newest registration `m` times under fresh numbers (years 100–114, so they
/// never meet the numbers of this year), for the memory figure at scale.
fn seed_registrations(db: &Path, m: u64) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    let columns: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('registrations')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .filter(|n: &String| n != "id" && n != "reg_no")
        .collect();
    let list = columns.join(", ");
    c.execute(
        &format!(
            "WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < ?1) \
             INSERT INTO registrations (reg_no, {list}) \
             SELECT printf('%03d-%06d', 100 + n / 999999, 1 + n % 999999), {list} \
             FROM k, (SELECT * FROM registrations ORDER BY id DESC LIMIT 1)"
        ),
        [i64::try_from(m).unwrap()],
    )
    .unwrap();
}

#[derive(Default)]
struct Steps {
    register: Latencies,
    approve: Latencies,
    execute: Latencies,
    view: Latencies,
    refused: u64,
    rate_limited: u64,
}

impl Steps {
    fn absorb(&mut self, o: &Steps) {
        self.register.extend(&o.register);
        self.approve.extend(&o.approve);
        self.execute.extend(&o.execute);
        self.view.extend(&o.view);
        self.refused += o.refused;
        self.rate_limited += o.rate_limited;
    }
}

/// One request; `Some(body)` for a 2xx received whole.
async fn call(
    c: &reqwest::Client,
    url: String,
    who: &Credentials,
    body: Option<serde_json::Value>,
    steps: &mut Steps,
) -> Option<serde_json::Value> {
    let req = match body {
        Some(b) => c.post(url).header("x-csrf-token", &who.csrf).json(&b),
        None => c.get(url),
    };
    let r = req.header("cookie", &who.cookie).send().await.unwrap();
    let status = r.status();
    let bytes = r.bytes().await.unwrap();
    if status.is_success() {
        serde_json::from_slice(&bytes).ok()
    } else {
        if status.as_u16() == 429 {
            steps.rate_limited += 1;
        } else {
            // The first refusal is shown: a walk the server refuses throughout measures nothing.
            if steps.refused == 0 {
                let text = String::from_utf8_lossy(&bytes);
                eprintln!(
                    "first refusal: {status} {}",
                    text.chars().take(300).collect::<String>()
                );
            }
            steps.refused += 1;
        }
        None
    }
}

/// Drives the walk with `clients` clients for `secs` seconds, printing the server's RSS and
/// the registrations so far every `sample` seconds.
async fn load(
    url: &str,
    pid: u32,
    queriers: &[Credentials],
    supervisor: &Credentials,
    clients: usize,
    secs: u64,
    first_subject: u64,
) -> (Steps, f64) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let registered = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let queriers = Arc::new(queriers.to_vec());
    let tasks: Vec<_> = (0..clients)
        .map(|w| {
            let (client, url, queriers, supervisor, registered) = (
                client.clone(),
                url.to_string(),
                queriers.clone(),
                supervisor.clone(),
                registered.clone(),
            );
            tokio::spawn(async move {
                let mut steps = Steps::default();
                let mut i = w;
                while Instant::now() < deadline {
                    let who = &queriers[i % queriers.len()];
                    let n = first_subject + i as u64;
                    i += clients;
                    let body = fresh_registration(n, who.person);
                    let t = Instant::now();
                    let Some(j) = call(
                        &client,
                        format!("{url}/api/v1/registrations"),
                        who,
                        Some(body),
                        &mut steps,
                    )
                    .await
                    else {
                        continue;
                    };
                    steps.register.push(t.elapsed());
                    registered.fetch_add(1, Ordering::Relaxed);
                    let no = j["no"].as_str().unwrap().to_string();
                    let t = Instant::now();
                    let decision = serde_json::json!({ "decision": "approve", "comment": "" });
                    let path = format!("{url}/api/v1/registrations/{no}/decision");
                    if call(&client, path, &supervisor, Some(decision), &mut steps)
                        .await
                        .is_none()
                    {
                        continue;
                    }
                    steps.approve.push(t.elapsed());
                    let t = Instant::now();
                    let items = serde_json::json!({ "items": [ITEM] });
                    let path = format!("{url}/api/v1/registrations/{no}/execution");
                    if call(&client, path, who, Some(items), &mut steps)
                        .await
                        .is_none()
                    {
                        continue;
                    }
                    steps.execute.push(t.elapsed());
                    let t = Instant::now();
                    let path = format!("{url}/api/v1/registrations/{no}/results/{ITEM}");
                    if call(&client, path, who, None, &mut steps).await.is_none() {
                        continue;
                    }
                    steps.view.push(t.elapsed());
                }
                steps
            })
        })
        .collect();
    let sampler = {
        let registered = registered.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                if Instant::now() >= deadline {
                    break;
                }
                let (now, peak) = rss(pid);
                println!(
                    "  t={:>4.0} s  registrations this run {:>8}  server RSS {now:.1} MiB (peak {peak:.1})",
                    started.elapsed().as_secs_f64(),
                    registered.load(Ordering::Relaxed)
                );
            }
        })
    };
    let mut all = Steps::default();
    for t in tasks {
        all.absorb(&t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    sampler.abort();
    (all, elapsed)
}

fn report(backend: &str, steps: &Steps, elapsed: f64, clients: usize) {
    println!("HTTP API on {backend}, {clients} clients, {elapsed:.1} s:");
    println!("  register  {}", steps.register.summary(elapsed));
    println!("  approve   {}", steps.approve.summary(elapsed));
    println!("  execute   {}", steps.execute.summary(elapsed));
    println!("  view      {}", steps.view.summary(elapsed));
    println!(
        "  refused {} (other than rate limits), rate-limited (429) {}",
        steps.refused, steps.rate_limited
    );
}

/// Counts the SQL statements each request of one sequential walk runs, from the server's
/// `sqlx::query` debug log (one line per statement; each request ends with its own log
/// line naming its path).
async fn count_statements(
    log: &Path,
    start: impl FnOnce(Option<(&str, &Path)>) -> Server,
    querier: &Credentials,
    supervisor: &Credentials,
) {
    let server = start(Some(("warn,sqlx::query=debug,querywarden_web=info", log)));
    let log = log.to_path_buf();
    let url = server.url.clone();
    let c = reqwest::Client::new();
    let mut steps = Steps::default();
    let body = serde_json::json!({
        "subject_name": "測試甲",
        "subject_id": fresh_subject_id(9_999_999),
        "items": [ITEM],
        "legal_basis": "social-assistance-44-3-1",
        "relevance": "",
        "case_no": "115社助字第1號",
        "querier": querier.person,
    });
    // A first walk warms the caches; the second is counted.
    for round in 0..2 {
        let start_mark = std::fs::metadata(&log).map_or(0, |m| m.len());
        let mut b = body.clone();
        b["subject_id"] = fresh_subject_id(9_999_990 + round).into();
        b["relevance"] =
            format!("計數第 {round} 回：申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入")
                .into();
        let j = call(
            &c,
            format!("{url}/api/v1/registrations"),
            querier,
            Some(b),
            &mut steps,
        )
        .await
        .expect("register");
        let no = j["no"].as_str().unwrap().to_string();
        let decision = serde_json::json!({ "decision": "approve", "comment": "" });
        call(
            &c,
            format!("{url}/api/v1/registrations/{no}/decision"),
            supervisor,
            Some(decision),
            &mut steps,
        )
        .await
        .expect("approve");
        call(
            &c,
            format!("{url}/api/v1/registrations/{no}/execution"),
            querier,
            Some(serde_json::json!({ "items": [ITEM] })),
            &mut steps,
        )
        .await
        .expect("execute");
        call(
            &c,
            format!("{url}/api/v1/registrations/{no}/results/{ITEM}"),
            querier,
            None,
            &mut steps,
        )
        .await
        .expect("view");
        if round == 0 {
            continue;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let text = std::fs::read_to_string(&log).unwrap();
        let text = &text[usize::try_from(start_mark).unwrap()..];
        println!("SQL statements per request (sqlx::query log, second walk):");
        let show = std::env::var_os("QW_LOAD_SHOW_STATEMENTS").is_some();
        let mut statements = Vec::new();
        for line in text.lines() {
            if line.contains("sqlx::query") {
                statements.push(field(line, "summary"));
            } else if line.contains("request") && line.contains("path") {
                println!("  {:>3}  {}", statements.len(), field(line, "path"));
                if show {
                    for st in &statements {
                        println!("         {st}");
                    }
                }
                statements.clear();
            }
        }
    }
    drop(server);
}

/// A field of a log line, JSON (`"name":"value"`) or text (`name=value`).
fn field(line: &str, name: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
        let f = v.get("fields").unwrap_or(&v);
        return match &f[name] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    }
    // The text format colours its fields (ANSI escapes) even into a file.
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let Some(rest) = plain.split(&format!("{name}=")).nth(1) else {
        return "?".into();
    };
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or_default().to_string(),
        None => rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// The PostgreSQL leg (`QW_LOAD_POSTGRES`).

/// A schema of the run's own on the PostgreSQL server, dropped by [`PgSchema::drop_now`].
struct PgSchema {
    server: String,
    name: String,
    /// The server's URL with the schema alone on its `search_path` (a `storage.url`).
    url: String,
}

impl PgSchema {
    async fn create(server: &str) -> PgSchema {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("qw_load_{}_{nanos}", std::process::id());
        let mut c = sqlx::PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("QW_LOAD_POSTGRES: no server at {server}: {e}"));
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
        let url = format!(
            "{server}{}options=-c%20search_path%3D{name}&application_name={name}",
            if server.contains('?') { '&' } else { '?' }
        );
        PgSchema {
            server: server.to_string(),
            name,
            url,
        }
    }

    /// Drops the schema and everything in it, ending any connection still open on it.
    async fn drop_now(self) {
        let mut c = sqlx::PgConnection::connect(&self.server).await.unwrap();
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&self.name)
        .execute(&mut c)
        .await
        .unwrap();
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
}

/// Baseline 1 on PostgreSQL: one connection, one 200-byte row per transaction
/// (`BEGIN; INSERT; COMMIT`, as the SQLite loop), the server's own `synchronous_commit`.
async fn pg_commit_loop(url: &str, secs: u64) {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let synchronous: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut c)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE commit_loop (id BIGSERIAL PRIMARY KEY, v BYTEA NOT NULL)")
        .execute(&mut c)
        .await
        .unwrap();
    let row = vec![0_u8; 200];
    let mut lat = Latencies::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    while Instant::now() < deadline {
        let t = Instant::now();
        sqlx::query("BEGIN").execute(&mut c).await.unwrap();
        sqlx::query("INSERT INTO commit_loop (v) VALUES ($1)")
            .bind(&row)
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("COMMIT").execute(&mut c).await.unwrap();
        lat.push(t.elapsed());
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "bare PostgreSQL commit loop (one connection, synchronous_commit={synchronous}, one 200-byte row per commit): {}",
        lat.summary(elapsed)
    );
    sqlx::query("DROP TABLE commit_loop")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
}

/// The walk on PostgreSQL: the fixture (`pristine`, the SQLite file as it was before the
/// SQLite leg's load) moved into `schema` by `querywarden copy`, then `serve` on it with the
/// installation in `data` (its keys and demo CA) and a simulator in this process. Its
/// configuration and log go beside `pristine`.
fn postgres_leg(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    data: &Path,
    pristine: &Path,
    schema: &PgSchema,
    queriers: &[Credentials],
    supervisor: &Credentials,
) {
    let work = pristine.parent().unwrap();
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_querywarden"))
        .args(["copy", "--from"])
        .arg(format!("sqlite:{}", pristine.display()))
        .args(["--to", &schema.url, "--data"])
        .arg(data)
        .env_remove("QUERYWARDEN_LOG")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "querywarden copy: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    println!(
        "fixture copied to PostgreSQL schema {} with `querywarden copy` in {:.1} s",
        schema.name,
        t.elapsed().as_secs_f64()
    );
    let sim = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        simulator::spawn(SimulatorConfig::default(), listener)
            .await
            .unwrap()
    });
    let config = querywarden_testkit::binary::instance_config(
        &work.join("postgres.toml"),
        data,
        &schema.url,
        &sim.base_url(),
    );
    let server = Server::serve(&config, None);
    let walk = Walk {
        queriers,
        supervisor,
        clients: s.clients,
        secs: s.secs,
        first_subject: 0,
    };
    measured_leg(
        rt,
        &server,
        &walk,
        POSTGRES_LEG,
        "after start (PostgreSQL)",
        "the load (PostgreSQL)",
    );
    drop(server);
    rt.block_on(count_statements(
        &work.join("statements-postgres.log"),
        |log| Server::serve(&config, log),
        &queriers[0],
        supervisor,
    ));
    rt.block_on(sim.shutdown()).unwrap();
}

/// One leg's walk: who walks, with how many clients, for how long, from which subject on.
struct Walk<'a> {
    queriers: &'a [Credentials],
    supervisor: &'a Credentials,
    clients: usize,
    secs: u64,
    first_subject: u64,
}

/// One measured leg on a server just started: a second to settle, its RSS idle, the walk,
/// the report under `leg`, and its RSS after the load. Every leg is measured the same way, so
/// the figures of the legs compare; `idle` and `after` complete the two RSS lines as the
/// report words them for this leg.
fn measured_leg(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    walk: &Walk<'_>,
    leg: &str,
    idle: &str,
    after: &str,
) {
    std::thread::sleep(Duration::from_secs(1));
    let (idle_mib, _) = rss(server.pid());
    println!("server RSS idle {idle}: {idle_mib:.1} MiB");
    let (steps, elapsed) = rt.block_on(load(
        &server.url,
        server.pid(),
        walk.queriers,
        walk.supervisor,
        walk.clients,
        walk.secs,
        walk.first_subject,
    ));
    report(leg, &steps, elapsed, walk.clients);
    let (now, peak) = rss(server.pid());
    println!("server RSS after {after}: {now:.1} MiB (peak {peak:.1})");
}

/// How each leg runs, in the report.
const SQLITE_LEG: &str = "SQLite (`demo`, its simulator in-process)";
const POSTGRES_LEG: &str = "PostgreSQL (`serve`, the simulator in the benchmark's process)";

fn main() {
    let s = Settings::from_env();
    let work = tempfile::Builder::new()
        .prefix("qw-load-")
        .tempdir_in(&s.dir)
        .unwrap();
    let data = work.path().join("data");
    println!(
        "querywarden load benchmark: {} queriers, {} clients, {} s; {} cores; data in {}",
        s.queriers,
        s.clients,
        s.secs,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        work.path().display()
    );

    fsync_loop(work.path(), 3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let postgres = std::env::var("QW_LOAD_POSTGRES")
        .ok()
        .map(|server| rt.block_on(PgSchema::create(&server)));
    if let Some(schema) = &postgres {
        rt.block_on(pg_commit_loop(&schema.url, 3));
    }
    rt.block_on(simulator_alone(s.clients, 3));

    // First start creates the data (demo organisation, CA, grants); then the fixture.
    drop(Server::start(&data, None));
    let db = data.join("querywarden.sqlite");
    let (queriers, supervisor) = seed_people(&db, s.queriers);
    // The fixture as it is before any load, for the PostgreSQL leg: both legs start from the
    // same data.
    let pristine = work.path().join("pristine.sqlite");
    if postgres.is_some() {
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute("VACUUM INTO ?1", [pristine.display().to_string()])
            .unwrap();
    }

    let heaptrack = std::env::var_os("QW_LOAD_HEAPTRACK").map(PathBuf::from);
    let server = Server::start_profiled(&data, None, heaptrack.as_deref());
    let walk = Walk {
        queriers: &queriers,
        supervisor: &supervisor,
        clients: s.clients,
        secs: s.secs,
        first_subject: 0,
    };
    measured_leg(&rt, &server, &walk, SQLITE_LEG, "after start", "the load");
    drop(server);

    rt.block_on(count_statements(
        &data.join("statements.log"),
        |log| Server::start(&data, log),
        &queriers[0],
        &supervisor,
    ));

    if s.seed_registrations > 0 {
        let t = Instant::now();
        seed_registrations(&db, s.seed_registrations);
        let total: i64 = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM registrations", [], |r| r.get(0))
            .unwrap();
        println!(
            "copied {} registrations into the database in {:.1} s ({total} in all)",
            s.seed_registrations,
            t.elapsed().as_secs_f64()
        );
        let server = Server::start(&data, None);
        let walk = Walk {
            queriers: &queriers,
            supervisor: &supervisor,
            clients: s.clients,
            secs: s.secs.min(10),
            first_subject: 5_000_000,
        };
        measured_leg(
            &rt,
            &server,
            &walk,
            SQLITE_LEG,
            &format!("with {total} registrations"),
            "that load",
        );
    }

    if let Some(schema) = postgres {
        let leg = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            postgres_leg(&rt, &s, &data, &pristine, &schema, &queriers, &supervisor);
        }));
        // The schema goes even when the leg fails.
        rt.block_on(schema.drop_now());
        if let Err(panic) = leg {
            std::panic::resume_unwind(panic);
        }
    }
}
