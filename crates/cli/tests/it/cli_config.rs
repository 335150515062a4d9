//! `querywarden config check`: a valid file passes; a bad value is named by its key, whether it
//! comes from the file or from a `QUERYWARDEN_*` variable.

use querywarden_testkit::binary::{command as bin, stderr, stdout};

fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let p = dir.path().join("qw.toml");
    std::fs::write(
        &p,
        format!("{text}\n[auth]\ntrust_anchors = \"moica.pem\"\n"),
    )
    .unwrap();
    p
}

#[test]
fn a_valid_file_passes() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "[server]\nlisten = \"127.0.0.1:9000\"\n[bli]\nmode = \"portal\"\n",
    );
    let o = bin().args(["config", "check"]).arg(&p).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("127.0.0.1:9000"));
    assert!(stdout(&o).contains("Portal"));
}

#[test]
fn a_bad_value_in_the_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "[session]\nmax_failed_logins = 9\n");
    let o = bin().args(["config", "check"]).arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("session.max_failed_logins"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_bad_environment_override_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "");
    let o = bin()
        .args(["config", "check"])
        .arg(&p)
        .env("QUERYWARDEN_SERVER__LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("server.listen"), "{}", stderr(&o));
}

#[test]
fn an_environment_override_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "[server]\nlisten = \"127.0.0.1:9000\"\n");
    let o = bin()
        .args(["config", "check"])
        .arg(&p)
        .env("QUERYWARDEN_SERVER__LISTEN", "127.0.0.1:9111")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(stdout(&o).contains("127.0.0.1:9111"));
}

#[test]
fn an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "[storage]\ndatadir = \"x\"\n");
    let o = bin().args(["config", "check"]).arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("datadir"), "{}", stderr(&o));
}

#[test]
fn production_without_trust_anchors_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("qw.toml");
    std::fs::write(&p, "[server]\nlisten = \"127.0.0.1:9000\"\n").unwrap();
    let o = bin().args(["config", "check"]).arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("auth.trust_anchors"), "{}", stderr(&o));
}
