//! Operating the database (several instances on one database): `querywarden migrate` applies pending migrations
//! explicitly and records them in a trail that exists; with `storage.auto_migrate = false`
//! nothing else changes the schema and an older one is refused; a schema newer than the
//! build is refused by `serve`; a database that cannot be opened stops `serve` with its
//! location named and a non-zero exit status.

use std::path::Path;

use querywarden_testkit::binary::{command as bin, stderr, stdout};
use querywarden_testkit::{rt, trail};
use sqlx::Connection;

fn run_in(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = bin();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Runs SQL against the database file directly.
fn sql(data: &Path, statements: &[String]) {
    rt().block_on(async {
        let mut c = trail::connect(&data.join("querywarden.sqlite")).await;
        for s in statements {
            sqlx::query(s).execute(&mut c).await.unwrap();
        }
        c.close().await.unwrap();
    });
}

fn count(data: &Path, query: &str) -> i64 {
    trail::count(&data.join("querywarden.sqlite"), query)
}

/// Makes the database one migration older than this build: the newest SQLite migration is
/// undone (the objects it creates dropped, the columns it adds removed) and its row deleted,
/// as a database written by the previous release would be.
fn undo_newest_migration(data: &Path) -> i64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../storage/migrations/sqlite");
    let newest = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .max()
        .unwrap();
    let version: i64 = newest.file_name().unwrap().to_string_lossy()[..4]
        .parse()
        .unwrap();
    assert_eq!(version, querywarden_storage::newest_known_version());
    // Comments may hold semicolons: they go before the text is split into statements.
    let text: String = std::fs::read_to_string(&newest)
        .unwrap()
        .lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut undo = Vec::new();
    for statement in text.split(';') {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let upper: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
        let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
        match upper.as_slice() {
            ["CREATE", "UNIQUE", "INDEX", ..] | ["CREATE", "INDEX", ..] => {
                let at = upper.iter().position(|w| *w == "INDEX").unwrap();
                let name = words[at + 1..]
                    .iter()
                    .find(|w| !["IF", "NOT", "EXISTS"].contains(&w.to_uppercase().as_str()))
                    .unwrap();
                undo.push(format!("DROP INDEX IF EXISTS {name}"));
            }
            ["CREATE", kind @ ("TABLE" | "VIEW" | "TRIGGER"), ..] => {
                let name = words[2..]
                    .iter()
                    .find(|w| !["IF", "NOT", "EXISTS"].contains(&w.to_uppercase().as_str()))
                    .unwrap()
                    .trim_end_matches('(');
                undo.push(format!("DROP {kind} IF EXISTS {name}"));
            }
            ["ALTER", "TABLE", _, "ADD", "COLUMN", ..] => {
                undo.push(format!("ALTER TABLE {} DROP COLUMN {}", words[2], words[5]));
            }
            [] => {}
            other => panic!(
                "teach undo_newest_migration to undo this statement of {}: {other:?}",
                newest.display()
            ),
        }
    }
    assert!(!undo.is_empty(), "{} undoes nothing", newest.display());
    // Dropped in reverse order: what was created last may depend on what came before.
    undo.reverse();
    undo.push(format!(
        "DELETE FROM _sqlx_migrations WHERE version = {version}"
    ));
    sql(data, &undo);
    version
}

#[test]
fn migrate_applies_pending_migrations_once_and_records_them_in_an_existing_trail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let newest = querywarden_storage::newest_known_version();

    // A new database: every migration applied, nothing to record them in.
    let o = run_in(&["migrate", "--data", &data_arg], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("applied"), "{out}");
    assert!(out.contains(&format!("version {newest}")), "{out}");
    assert!(out.contains(&format!("{newest:04} ")), "{out}");
    assert!(!out.contains("recorded in the audit trail"), "{out}");
    // Run again: nothing to do.
    let o = run_in(&["migrate", "--data", &data_arg], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("the schema is current (version {newest})")),
        "{out}"
    );
    assert!(out.contains(&data_arg), "the location is named: {out}");

    // The first opening by the application starts the trail.
    let o = run_in(&["audit", "verify", "--data", &data_arg], &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let records = count(&data, "SELECT count(*) FROM audit_records");
    assert!(records > 0);

    // The previous release's schema: with auto_migrate off, no command changes it…
    let undone = undo_newest_migration(&data);
    let off = [("QUERYWARDEN_STORAGE__AUTO_MIGRATE", "false")];
    let o = run_in(&["audit", "verify", "--data", &data_arg], &off);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("querywarden migrate"), "{err}");
    assert!(
        err.contains(&format!("this build needs version {newest}")),
        "{err}"
    );
    assert!(err.contains(&data_arg), "the location is named: {err}");
    assert_eq!(
        count(
            &data,
            &format!("SELECT count(*) FROM _sqlx_migrations WHERE version = {undone}")
        ),
        0
    );

    // …until `migrate` applies it, once, and says so in the trail.
    let o = run_in(&["migrate", "--data", &data_arg], &off);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("applied 1 migration(s)"), "{out}");
    assert!(out.contains(&format!("{undone:04} ")), "{out}");
    assert!(out.contains("recorded in the audit trail"), "{out}");
    assert_eq!(
        count(
            &data,
            "SELECT count(*) FROM audit_records WHERE action = 'system.schema_migrated'"
        ),
        1
    );
    assert_eq!(
        count(&data, "SELECT count(*) FROM audit_records"),
        records + 1
    );
    let o = run_in(&["audit", "verify", "--data", &data_arg], &off);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

pub(crate) fn serve_config(dir: &Path, data: &Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("querywarden.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\
             [storage]\ndata_dir = \"{}\"\n{extra}\n\
             [auth]\ntrust_anchors = \"{}\"\n",
            data.display(),
            dir.join("moica.pem").display()
        ),
    )
    .unwrap();
    path
}

/// `serve --config config` stops with status 2; what it wrote to stderr.
pub(crate) fn serve_refused(config: &Path) -> String {
    let o = bin()
        .args(["serve", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    stderr(&o)
}

#[test]
fn serve_refuses_a_schema_newer_than_it_knows_and_names_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let o = run_in(&["migrate", "--data", &data_arg], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // What a newer build would have left.
    sql(
        &data,
        &["INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
           VALUES (9999, 'from a newer build', 1, x'00', 0)"
            .to_string()],
    );
    let config = serve_config(dir.path(), &data, "");
    let err = serve_refused(&config);
    let newest = querywarden_storage::newest_known_version();
    assert!(err.contains("schema version 9999"), "{err}");
    assert!(err.contains(&format!("knows up to {newest}")), "{err}");
    assert!(err.contains(&data_arg), "the location is named: {err}");
    // `migrate` does not "migrate" it either, and leaves it as it was.
    let o = run_in(&["migrate", "--data", &data_arg], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("schema version 9999"), "{}", stderr(&o));
    assert_eq!(
        count(
            &data,
            "SELECT count(*) FROM _sqlx_migrations WHERE version = 9999"
        ),
        1
    );
}

#[test]
fn serve_with_auto_migrate_off_refuses_a_database_that_was_never_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = serve_config(dir.path(), &data, "auto_migrate = false");
    let err = serve_refused(&config);
    assert!(err.contains("querywarden migrate"), "{err}");
    assert!(err.contains("schema is at version 0"), "{err}");
    // Refused before anything was written: no database appeared.
    assert!(!data.join("querywarden.sqlite").exists());
}

#[test]
fn a_data_directory_that_cannot_be_created_stops_serve_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A file where a directory should be: refused even for root.
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let data = file.join("data");
    let config = serve_config(dir.path(), &data, "");
    let err = serve_refused(&config);
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("cannot open the database"), "{err}");
}

#[test]
fn a_database_that_cannot_be_opened_stops_serve_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A directory where the database file should be.
    std::fs::create_dir_all(data.join("querywarden.sqlite")).unwrap();
    let config = serve_config(dir.path(), &data, "");
    let err = serve_refused(&config);
    assert!(
        err.contains(&format!(
            "cannot open the database at {}",
            data.join("querywarden.sqlite").display()
        )),
        "{err}"
    );
}
