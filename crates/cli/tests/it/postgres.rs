//! The PostgreSQL backend from the operator's side: `storage.url` names the database; a
//! server that does not answer stops `serve` naming it without its password; `querywarden
//! copy` moves a bureau from the embedded SQLite file to PostgreSQL with its audit trail
//! intact, and the instance then runs on the copy.

use querywarden_storage::pg_testing::TestSchema;
use querywarden_testkit::binary::{command as bin, run, stderr, stdout};
use querywarden_testkit::{Demo, rt};

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
