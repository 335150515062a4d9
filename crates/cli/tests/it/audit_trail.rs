//! `querywarden audit verify` against a trail edited behind the application's back: every
//! kind of tampering is found and the first bad record named.

use std::path::Path;

use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use sqlx::Connection;

use querywarden_app::App;
use querywarden_app::config::RawConfig;
use querywarden_testkit::binary::{command as bin, stdout};
use querywarden_testkit::org::seeded_app;
use querywarden_testkit::{rt, trail};

const RECORDS: i64 = 60;

/// A data directory with an initialised organisation, `RECORDS` more records and checkpoints
/// every 10 records.
fn trail(dir: &Path) {
    rt().block_on(async {
        let app = seeded_app(dir, |raw| raw.audit.checkpoint_every_records = 10).await;
        let subject = NationalId::parse("A123456789").unwrap();
        for n in 0..RECORDS {
            let mut tx = app.store().begin().await.unwrap();
            let mut e = AuditEvent::system(
                jiff::Timestamp::now(),
                AuditAction::ResultViewed,
                format!("op-{n}"),
            )
            .on("registration", format!("115-{n:06}"));
            if n % 3 == 0 {
                e.subject = Some(app.keys().subject_digest(&subject));
            }
            tx.append_audit(&e).await.unwrap();
            tx.commit().await.unwrap();
            app.checkpoint_if_due(false).await.unwrap();
        }
        app.close().await;
    });
}

fn verify(dir: &Path) -> (Option<i32>, String) {
    let o = bin()
        .args(["audit", "verify", "--data"])
        .arg(dir)
        .output()
        .unwrap();
    (o.status.code(), stdout(&o))
}

/// Runs SQL against the database file directly, as an intruder would (triggers dropped).
fn tamper(dir: &Path, sql: &[&str]) {
    let path = dir.join("querywarden.sqlite");
    rt().block_on(async {
        let mut c = trail::connect(&path).await;
        for t in [
            "audit_records_no_update",
            "audit_records_no_delete",
            "audit_checkpoints_no_update",
            "audit_checkpoints_no_delete",
        ] {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}"))
                .execute(&mut c)
                .await
                .unwrap();
        }
        for s in sql {
            sqlx::query(s).execute(&mut c).await.unwrap();
        }
        c.close().await.unwrap();
    });
}

fn fresh() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    trail(dir.path());
    dir
}

/// A fresh installation's trail after `sql`, verified: it must fail (exit 1). Its output.
fn tampered_trail(sql: &[&str]) -> String {
    let dir = fresh();
    tamper(dir.path(), sql);
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(1), "{out}");
    out
}

#[test]
fn an_untouched_trail_verifies_with_counts_and_rate() {
    let dir = fresh();
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(0), "{out}");
    let total = RECORDS as u64 + 2;
    assert!(out.contains(&format!("{total} 筆紀錄")), "{out}");
    assert!(out.contains("個查核點"), "{out}");
    assert!(out.contains("records/s"), "{out}");
}

#[test]
fn an_edited_entry_is_found() {
    let out = tampered_trail(&[
        "UPDATE audit_records SET entry = CAST(replace(CAST(entry AS TEXT), 'result.viewed', 'result.viewd') AS BLOB) WHERE seq = 17",
    ]);
    assert!(out.contains("first bad record: 17"), "{out}");
}

#[test]
fn an_edited_search_column_is_found() {
    let out = tampered_trail(&["UPDATE audit_records SET actor_person_id = 3 WHERE seq = 23"]);
    assert!(out.contains("first bad record: 23"), "{out}");
    assert!(out.contains("actor_person_id"), "{out}");
}

#[test]
fn a_deleted_record_is_found() {
    let out = tampered_trail(&["DELETE FROM audit_records WHERE seq = 30"]);
    assert!(out.contains("first bad record: 30"), "{out}");
}

#[test]
fn a_deleted_and_renumbered_tail_is_found() {
    let dir = fresh();
    // Remove record 40 and shift the later ones down so there is no gap.
    tamper(
        dir.path(),
        &[
            "DELETE FROM audit_records WHERE seq = 40",
            "UPDATE audit_records SET seq = seq - 1 WHERE seq > 40",
        ],
    );
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("first bad record: 40"), "{out}");
}

#[test]
fn reordered_records_are_found() {
    let out = tampered_trail(&[
        "UPDATE audit_records SET seq = -1 WHERE seq = 12",
        "UPDATE audit_records SET seq = 12 WHERE seq = 13",
        "UPDATE audit_records SET seq = 13 WHERE seq = -1",
    ]);
    assert!(out.contains("first bad record: 12"), "{out}");
}

#[test]
fn a_rewritten_chain_is_caught_by_the_signed_checkpoints() {
    let dir = fresh();
    // An intruder who edits record 5 and recomputes every chain hash after it still cannot
    // re-sign the checkpoints.
    let path = dir.path().join("querywarden.sqlite");
    tamper(dir.path(), &[]);
    rt().block_on(async {
        let mut c = trail::connect(&path).await;
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, entry FROM audit_records ORDER BY seq")
                .fetch_all(&mut c)
                .await
                .unwrap();
        let mut prev = querywarden_ledger::chain::GENESIS;
        for (seq, mut entry) in rows {
            if seq == 5 {
                entry = String::from_utf8(entry)
                    .unwrap()
                    .replace("op-2", "op-X")
                    .into_bytes();
            }
            let h = querywarden_ledger::chain::chain_hash(&prev, &entry);
            sqlx::query("UPDATE audit_records SET entry = ?, chain_hash = ? WHERE seq = ?")
                .bind(&entry)
                .bind(h.as_slice())
                .bind(seq)
                .execute(&mut c)
                .await
                .unwrap();
            prev = h;
        }
        c.close().await.unwrap();
    });
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(1), "{out}");
    // Checkpoint #1 covers the two set-up records; #2 is the first to cover record 5.
    assert!(
        out.contains("checkpoint #2 (size 12): root mismatch"),
        "{out}"
    );
}

#[test]
fn an_edited_checkpoint_root_is_found() {
    let out =
        tampered_trail(&["UPDATE audit_checkpoints SET root = zeroblob(32) WHERE number = 2"]);
    assert!(out.contains("#2"), "{out}");
}

#[test]
fn an_edited_checkpoint_signature_is_found() {
    let out = tampered_trail(&[
        "UPDATE audit_checkpoints SET note = replace(note, char(10) || '— ', char(10) || '— x') WHERE number = 3",
    ]);
    assert!(out.contains("#3"), "{out}");
}

#[test]
fn a_deleted_checkpoint_is_found() {
    let out = tampered_trail(&["DELETE FROM audit_checkpoints WHERE number = 2"]);
    assert!(out.contains("#3"), "{out}");
}

#[test]
fn records_newer_than_the_newest_checkpoint_are_reported_not_failed() {
    let dir = fresh();
    rt().block_on(async {
        let mut raw = RawConfig::default();
        raw.storage.data_dir = dir.path().to_path_buf();
        raw.server.demo = true;
        let app = App::open(raw.validate().unwrap()).await.unwrap();
        let mut tx = app.store().begin().await.unwrap();
        tx.append_audit(&AuditEvent::system(
            jiff::Timestamp::now(),
            AuditAction::ConfigurationChanged,
            "late",
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
        app.close().await;
    });
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("newer than the newest checkpoint"), "{out}");
}

#[test]
fn search_by_subject_finds_exactly_that_persons_records_and_is_itself_audited() {
    let dir = fresh();
    let o = bin()
        .args([
            "audit",
            "search",
            "--subject",
            "A123456789",
            "--limit",
            "100",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    let hits = out.lines().filter(|l| l.contains("result.viewed")).count();
    assert_eq!(hits as i64, (RECORDS + 2) / 3);
    assert!(!out.contains("A123456789"));
    let o = bin()
        .args([
            "audit",
            "search",
            "--action",
            "audit_trail.searched",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(stdout(&o).contains("audit_trail.searched"));
    // The search's own record does not hold the ID in clear.
    let db = std::fs::read(dir.path().join("querywarden.sqlite")).unwrap();
    let wal = std::fs::read(dir.path().join("querywarden.sqlite-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(10).any(|w| w == b"A123456789"));
    }
}

fn held_checkpoint(dir: &Path) -> String {
    let o = bin()
        .args(["audit", "checkpoint", "--data"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success());
    stdout(&o)
}

fn export(dir: &Path, from: u64, to: u64) -> std::path::PathBuf {
    let out = dir.join(format!("export-{from}-{to}.jsonl"));
    let o = bin()
        .args([
            "audit",
            "export",
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
            "--out",
        ])
        .arg(&out)
        .arg("--data")
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stdout(&o));
    out
}

fn verify_offline(
    dir: &Path,
    export: &Path,
    held: &Path,
    vkey: Option<&str>,
) -> (Option<i32>, String) {
    let mut c = bin();
    c.args(["audit", "verify", "--export"])
        .arg(export)
        .arg("--checkpoint")
        .arg(held);
    match vkey {
        Some(k) => c.args(["--vkey", k]),
        None => c.arg("--data").arg(dir),
    };
    let o = c.output().unwrap();
    (o.status.code(), stdout(&o))
}

#[test]
fn an_export_verifies_offline_against_an_older_checkpoint_held_elsewhere() {
    let dir = fresh();
    // The Labor Affairs Bureau keeps this checkpoint from a quarterly report…
    let held = dir.path().join("held.note");
    let note = held_checkpoint(dir.path());
    std::fs::write(&held, &note).unwrap();
    // …the log grows, and later an auditor exports a range and checks it against the copy.
    trail(dir.path());
    let file = export(dir.path(), 10, 40);
    let (code, out) = verify_offline(dir.path(), &file, &held, None);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("31 筆紀錄"), "{out}");

    // Only the public key is needed offline.
    let keyring: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("keys/keyring.json")).unwrap(),
    )
    .unwrap();
    let vkey = keyring["audit_signing"][0]["vkey"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, out) = verify_offline(dir.path(), &file, &held, Some(&vkey));
    assert_eq!(code, Some(0), "{out}");

    // An edited record in the export is named.
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen("op-15", "op-99", 1);
    assert_ne!(edited, text);
    let bad = dir.path().join("edited.jsonl");
    std::fs::write(&bad, edited).unwrap();
    let (code, out) = verify_offline(dir.path(), &bad, &held, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("first bad record"), "{out}");

    // A key nobody trusts proves nothing.
    let other = fresh();
    let other_keyring: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(other.path().join("keys/keyring.json")).unwrap(),
    )
    .unwrap();
    let other_vkey = other_keyring["audit_signing"][0]["vkey"].as_str().unwrap();
    let (code, out) = verify_offline(dir.path(), &file, &held, Some(other_vkey));
    assert_eq!(code, Some(1), "{out}");

    // A checkpoint of another log does not vouch for this export.
    let foreign = dir.path().join("foreign.note");
    std::fs::write(&foreign, held_checkpoint(other.path())).unwrap();
    let (code, out) = verify_offline(dir.path(), &file, &foreign, None);
    assert_eq!(code, Some(1), "{out}");
}
