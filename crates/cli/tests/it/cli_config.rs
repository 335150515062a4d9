//! `querywarden config check`: a valid file passes; a bad value is named by its key, whether it
//! comes from the file or from a `QUERYWARDEN_*` variable.

use querywarden_testkit::binary::{command as bin, stderr, stdout};

/// `config check` on a file holding `text` verbatim, with `env` set.
fn check_file(text: &str, env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("qw.toml");
    std::fs::write(&p, text).unwrap();
    bin()
        .args(["config", "check"])
        .arg(&p)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// `config check` on `text` plus trust anchors, with `env` set.
fn check(text: &str, env: &[(&str, &str)]) -> std::process::Output {
    check_file(
        &format!("{text}\n[auth]\ntrust_anchors = \"moica.pem\"\n"),
        env,
    )
}

#[test]
fn a_valid_file_passes() {
    let o = check(
        "[server]\nlisten = \"127.0.0.1:9000\"\n[bli]\nmode = \"portal\"\n",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("127.0.0.1:9000"));
    assert!(stdout(&o).contains("Portal"));
}

#[test]
fn a_bad_value_in_the_file_is_named() {
    let o = check("[session]\nmax_failed_logins = 9\n", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("session.max_failed_logins"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_bad_environment_override_is_named() {
    let o = check("", &[("QUERYWARDEN_SERVER__LISTEN", "not-an-address")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("server.listen"), "{}", stderr(&o));
}

#[test]
fn an_environment_override_wins_over_the_file() {
    let o = check(
        "[server]\nlisten = \"127.0.0.1:9000\"\n",
        &[("QUERYWARDEN_SERVER__LISTEN", "127.0.0.1:9111")],
    );
    assert!(o.status.success());
    assert!(stdout(&o).contains("127.0.0.1:9111"));
}

#[test]
fn an_unknown_key_is_refused() {
    let o = check("[storage]\ndatadir = \"x\"\n", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("datadir"), "{}", stderr(&o));
}

#[test]
fn production_without_trust_anchors_is_refused() {
    let o = check_file("[server]\nlisten = \"127.0.0.1:9000\"\n", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("auth.trust_anchors"), "{}", stderr(&o));
}
