//! Shared helpers: run the binary, spawn a demo server and wait for its URL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_querywarden"));
    c.env_remove("QUERYWARDEN_LOG");
    c
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running `querywarden demo`, killed on drop.
pub struct Demo {
    pub child: Child,
    pub url: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A data directory that already holds the demo CA and cards (RSA key generation takes
/// seconds in debug builds, so it is done once per test binary and copied).
pub fn demo_template() -> &'static Path {
    static TEMPLATE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let demo = spawn_demo(&dir.path().join("data"));
            drop(demo);
            dir
        })
        .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A demo on a fresh database whose demo CA comes from the shared template.
pub fn spawn_demo_fast(data: &Path) -> Demo {
    spawn_demo_fast_with(data, &[])
}

/// [`spawn_demo_fast`] with extra `demo` arguments (e.g. `--bli-mode portal`).
pub fn spawn_demo_fast_with(data: &Path, extra: &[&str]) -> Demo {
    copy_dir(&demo_template().join("data/demo-ca"), &data.join("demo-ca"));
    spawn_demo_with(data, extra)
}

pub fn spawn_demo(data: &Path) -> Demo {
    spawn_demo_with(data, &[])
}

/// [`spawn_demo`] with extra `demo` arguments.
pub fn spawn_demo_args(data: &Path, extra: &[&str]) -> Demo {
    spawn_demo_with(data, extra)
}

/// A lived-in demo (a quarter of history on first run) whose demo CA comes from the shared
/// template; every other helper starts the bare organisation (`--empty`), which is what
/// their tests count on.
pub fn spawn_demo_lived(data: &Path) -> Demo {
    copy_dir(&demo_template().join("data/demo-ca"), &data.join("demo-ca"));
    spawn(data, &[])
}

fn spawn_demo_with(data: &Path, extra: &[&str]) -> Demo {
    let mut args = vec!["--empty"];
    args.extend_from_slice(extra);
    spawn(data, &args)
}

fn spawn(data: &Path, extra: &[&str]) -> Demo {
    let mut child = bin()
        .args(["demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if line.contains("URL")
                && let Some(rest) = line.split("http://").nth(1)
            {
                let _ = tx.send(format!("http://{}", rest.trim_end_matches('/')));
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(180))
        .expect("demo printed no URL");
    let demo = Demo { child, url };
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if reqwest::blocking_get_ok(&format!("{}/healthz", demo.url)) {
            return demo;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("demo did not become healthy");
}

/// Tiny blocking helpers over the async client, so tests read top to bottom.
pub mod reqwest {
    pub fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    pub fn blocking_get_ok(url: &str) -> bool {
        rt().block_on(async {
            ::reqwest::get(url)
                .await
                .is_ok_and(|r| r.status().is_success())
        })
    }
}
