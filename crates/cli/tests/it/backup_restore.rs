//! Backup while serving, restore into a fresh directory: the trail verifies and the records
//! are all there; without its keys a backup restores nothing.

use querywarden_testkit::binary::{run, run_ok, stderr, stdout};
use querywarden_testkit::browser::login;
use querywarden_testkit::{Demo, rt};

/// The counts line both commands print ("稽核紀錄 audit records N, …").
fn counts(out: &str) -> String {
    out.lines()
        .find(|l| l.contains("audit records"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, c)| c.trim().to_string())
        .unwrap_or_default()
}

#[test]
fn a_backup_taken_while_serving_restores_into_a_fresh_directory_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = Demo::start_in(&data, &[]);
    let url = demo.url.clone();
    rt().block_on(async {
        let r = login(&url, "lin.meiling", "demo-password-115", "").await;
        assert_eq!(r.status(), 303);
    });
    let file = dir.path().join("backup.sqlite");
    let data_arg = data.display().to_string();
    let file_arg = file.display().to_string();
    let o = run(&["backup", "--data", &data_arg, "--out", &file_arg]);
    assert!(o.status.success(), "{}", stderr(&o));
    let backed_up = counts(&stdout(&o));
    assert!(!backed_up.is_empty(), "{}", stdout(&o));
    // A second backup never overwrites the first.
    let o = run(&["backup", "--data", &data_arg, "--out", &file_arg]);
    assert!(!o.status.success());
    drop(demo);

    // Without its keys, the backup restores nothing (a new key ring could open nothing).
    let fresh = dir.path().join("fresh");
    let fresh_arg = fresh.display().to_string();
    let o = run(&["restore", "--data", &fresh_arg, "--from", &file_arg]);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert!(!fresh.join("querywarden.sqlite").exists());
    assert!(!fresh.join("keys").exists());

    // With the keys restored apart first, it restores, verifies, and holds every record.
    std::fs::create_dir_all(fresh.join("keys")).unwrap();
    for e in std::fs::read_dir(data.join("keys")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), fresh.join("keys").join(e.file_name())).unwrap();
    }
    let o = run_ok(&["restore", "--data", &fresh_arg, "--from", &file_arg]);
    let out = stdout(&o);
    assert!(out.contains("audit trail verified"), "{out}");
    assert_eq!(counts(&out), backed_up);
    // A restore never overwrites a database.
    let o = run(&["restore", "--data", &fresh_arg, "--from", &file_arg]);
    assert!(!o.status.success());
    run_ok(&["audit", "verify", "--data", &fresh_arg]);
}
