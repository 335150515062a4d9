//! The real `querywarden` program: run a command to its end, or serve `demo` on `127.0.0.1:0`
//! with its own data directory and the BLI simulator it starts on a port of its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::browser::Browser;

/// Where cargo put the `querywarden` binary for this test run: beside the `deps/` folder the
/// running test binary lives in (cargo builds a crate's binaries before its integration tests,
/// so this is only meaningful from `querywarden-cli`'s tests and benches).
pub fn path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's own path");
        let mut dir = exe
            .parent()
            .expect("the test binary's folder")
            .to_path_buf();
        if dir.ends_with("deps") {
            dir.pop();
        }
        let bin = dir.join(format!("querywarden{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.exists(),
            "no querywarden binary at {} (spawn it only from querywarden-cli's tests)",
            bin.display()
        );
        bin
    })
    .clone()
}

/// The program, with the log filter of the developer's shell left out.
pub fn command() -> Command {
    let mut c = Command::new(path());
    c.env_remove("QUERYWARDEN_LOG");
    c
}

/// Runs `querywarden ARGS` to its end.
pub fn run(args: &[&str]) -> Output {
    command().args(args).output().expect("querywarden runs")
}

/// Runs `querywarden ARGS` to its end; it must succeed. Its output.
pub fn run_ok(args: &[&str]) -> Output {
    let o = run(args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    o
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A current-thread runtime: the tests are plain `#[test]`s that drive HTTP with
/// `rt().block_on(…)`, so a demo's process outlives every request.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A running `querywarden demo`, killed on drop (before its temporary directory goes).
pub struct Demo {
    child: Child,
    pub url: String,
    data: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Demo {
    /// A demo on a fresh database in a temporary directory of its own.
    pub fn start() -> Demo {
        Demo::start_with(&[])
    }

    /// [`Demo::start`] with extra `demo` arguments (e.g. `--bli-mode portal`).
    pub fn start_with(extra: &[&str]) -> Demo {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut demo = Demo::start_in(&dir.path().join("data"), extra);
        demo._dir = Some(dir);
        demo
    }

    /// A demo on a fresh database in `data` (the caller keeps the directory), its demo CA
    /// copied from the shared template: RSA key generation takes seconds in debug builds.
    pub fn start_in(data: &Path, extra: &[&str]) -> Demo {
        copy_dir(&template().join("data/demo-ca"), &data.join("demo-ca"));
        Demo::start_from_nothing(data, extra)
    }

    /// A demo that makes (or reuses) everything in `data` itself, its demo CA included, on
    /// the bare organisation (`--empty`): what every test but the lived-in one counts on.
    pub fn start_from_nothing(data: &Path, extra: &[&str]) -> Demo {
        let mut args = vec!["--empty"];
        args.extend_from_slice(extra);
        Demo::spawn(data, &args)
    }

    /// The lived-in demo (a quarter of history written on its first run) in `data`, its demo
    /// CA copied from the shared template.
    pub fn start_lived_in(data: &Path) -> Demo {
        copy_dir(&template().join("data/demo-ca"), &data.join("demo-ca"));
        Demo::spawn(data, &[])
    }

    /// [`Demo::start`] with its log (stderr, at `debug`) written to `log`, for checks that
    /// personal data never reaches the log.
    pub fn start_logged(log: &Path) -> Demo {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        copy_dir(&template().join("data/demo-ca"), &data.join("demo-ca"));
        let mut demo = Demo::spawn_logged(&data, &["--empty"], Some(log));
        demo._dir = Some(dir);
        demo
    }

    fn spawn(data: &Path, extra: &[&str]) -> Demo {
        Demo::spawn_logged(data, extra, None)
    }

    fn spawn_logged(data: &Path, extra: &[&str], log: Option<&Path>) -> Demo {
        let mut cmd = command();
        cmd.args(["demo", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::piped());
        match log {
            Some(path) => {
                let file = std::fs::File::create(path).expect("the log file");
                cmd.env("QUERYWARDEN_LOG", "debug,sqlx=warn").stderr(file)
            }
            None => cmd.stderr(Stdio::null()),
        };
        let mut child = cmd.spawn().expect("querywarden demo starts");
        let out = child.stdout.take().expect("the demo's stdout");
        let url = demo_origin(out, Duration::from_secs(180));
        let demo = Demo {
            child,
            url,
            data: data.to_path_buf(),
            _dir: None,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if healthy(&demo.url) {
                return demo;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("demo did not become healthy");
    }

    /// The demo's data directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// The demo's database file (read it after [`Demo::stop`]).
    pub fn database(&self) -> PathBuf {
        self.data.join("querywarden.sqlite")
    }

    /// The demo's process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL, which must reach it, and waits for it: a crash.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL reaches the demo");
        self.child.wait().expect("the demo ends");
    }

    /// Kills the process (SIGKILL) and waits for it, if it still runs; the data directory
    /// stays.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the demo and reads every `(action, outcome)` of its trail, in order.
    pub async fn trail(&mut self) -> Vec<(String, String)> {
        self.stop();
        crate::trail::outcomes(&self.database()).await
    }

    /// `account` signed in with the demo card and the demo password.
    pub async fn sign_in(&self, account: &str) -> Browser {
        Browser::sign_in(&self.url, account).await
    }

    /// Each of `accounts` signed in, one after the other: `let [lin, chen] = …`.
    pub async fn sign_in_all<const N: usize>(&self, accounts: [&str; N]) -> [Browser; N] {
        let mut browsers = Vec::with_capacity(N);
        for account in accounts {
            browsers.push(self.sign_in(account).await);
        }
        match browsers.try_into() {
            Ok(all) => all,
            Err(_) => unreachable!("one browser for each account"),
        }
    }
}

/// A test against a fresh [`Demo`]: `accounts` signed in one after the other and handed to
/// `body` with the demo, on a current-thread runtime ([`rt`]); the demo is stopped after.
///
/// ```text
/// with_demo(["lin.meiling", "chen.jianhong"], async |demo, [lin, chen]| { … });
/// ```
pub fn with_demo<const N: usize, R>(
    accounts: [&str; N],
    body: impl AsyncFnOnce(&mut Demo, [Browser; N]) -> R,
) -> R {
    let mut demo = Demo::start();
    rt().block_on(async {
        let browsers = demo.sign_in_all(accounts).await;
        body(&mut demo, browsers).await
    })
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The origin (`http://host:port`) of a starting `querywarden demo`, read from the URL line of
/// its banner on `stdout`; a thread keeps reading to the end, so the demo never blocks on a
/// full pipe. Panics if no URL line comes within `wait`. The tests and the load benchmark
/// start the demo differently (the benchmark perhaps under heaptrack) but learn its address
/// the same way.
pub fn demo_origin(stdout: ChildStdout, wait: Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The printed address is the demo's start page; the API is at its origin.
            if line.contains("URL")
                && let Some(rest) = line.split("http://").nth(1)
            {
                let host = rest.split('/').next().unwrap_or(rest).trim();
                let _ = tx.send(format!("http://{host}"));
            }
        }
    });
    rx.recv_timeout(wait).expect("demo printed no URL")
}

fn healthy(url: &str) -> bool {
    rt().block_on(async {
        reqwest::get(format!("{url}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
    })
}

/// A running `querywarden serve --config FILE`, killed on drop.
pub struct Served {
    child: Child,
    /// `http://…` or `https://…` with the port the server bound.
    pub url: String,
}

impl Served {
    /// Starts `serve --config`, learning the scheme and port from its JSON start-up log line.
    pub fn start(config: &Path) -> Served {
        let mut child = command()
            .args(["serve", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("querywarden serve starts");
        let err = child.stderr.take().expect("the server's stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading to the end, so the server never blocks on a full pipe.
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    let _ = tx.send(Err(line));
                    continue;
                };
                let fields = v.get("fields").unwrap_or(&v);
                if fields["message"] == "querywarden serving" {
                    let _ = tx.send(Ok((
                        fields["scheme"].as_str().unwrap_or_default().to_string(),
                        fields["listen"].as_str().unwrap_or_default().to_string(),
                    )));
                }
            }
        });
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(180)) {
                Ok(Ok((scheme, addr))) => {
                    return Served {
                        child,
                        url: format!("{scheme}://{addr}"),
                    };
                }
                Ok(Err(line)) => seen.push(line),
                Err(_) => panic!("serve did not start: {seen:?}"),
            }
        }
    }
}

impl Served {
    /// Kills the process with SIGKILL, which must reach it, and waits for it: a crash.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL reaches the server");
        self.child.wait().expect("the server ends");
    }
}

/// A `serve` configuration (written to `path`) for one of several instances on the
/// database `storage_url`, with the installation in `data` made by [`Demo`]: its keys, and
/// the demo CA as the trust anchors (no DEMO signer: sign in with [`demo_card`]). The
/// instances do not migrate (`querywarden migrate` does, docs/deployment.md); queries go to
/// the BLI at `bli_url`; the JSON API serves whole results, for the tests that read them.
pub fn instance_config(path: &Path, data: &Path, storage_url: &str, bli_url: &str) -> PathBuf {
    let trust = querywarden_app::demo_cards::ensure_demo_ca(data, jiff::Timestamp::now())
        .expect("the demo CA in the data directory");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [storage]\ndata_dir = {data:?}\nurl = {storage_url:?}\nauto_migrate = false\n\
         [auth]\ntrust_anchors = {anchors:?}\ncrl_files = [{crl:?}]\n\
         [bli]\nmode = \"connected\"\nbase_url = {bli_url:?}\n\
         [registration]\nresults_api = true\n\
         [log]\nformat = \"json\"\n",
        data = data.display().to_string(),
        anchors = trust.anchors.display().to_string(),
        crl = trust.crl.display().to_string(),
    );
    std::fs::write(path, text).expect("write the instance's configuration");
    path.to_path_buf()
}

/// The demo card of `account` in the data directory `data` (made by [`Demo`]).
pub fn demo_card(data: &Path, account: &str) -> querywarden_pki::demo_ca::DemoCard {
    querywarden_app::demo_cards::load_card(data, account)
        .expect("the demo card reads")
        .unwrap_or_else(|| panic!("no demo card for {account}"))
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A data directory that already holds the demo CA and cards, made once per test binary.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<tempfile::TempDir> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            drop(Demo::start_from_nothing(&dir.path().join("data"), &[]));
            dir
        })
        .path()
}

/// Copies a directory tree (the demo CA into a fresh data directory).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's folder");
    for entry in std::fs::read_dir(from).expect("read the folder to copy") {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}
