//! `querywarden citizen report --id`: the report of a recorded request, its appendix written as
//! JSON, and each entry's proof checked offline with `querywarden audit verify --export`.

use querywarden_app::citizen_report::{self, RequestInput, Stamp};
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::roc_date::taipei_date;

use querywarden_testkit::binary::{command as bin, stdout};
use querywarden_testkit::org::{person, seeded_app};
use querywarden_testkit::rt;

#[test]
fn the_report_lists_the_subjects_entries_and_each_proof_verifies_offline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let no = rt().block_on(async {
        let app = seeded_app(&data, |_| {}).await;
        let subject = NationalId::parse("A123456789").unwrap();
        let other = NationalId::parse("B123456780").unwrap();
        for (n, s) in [(1, &subject), (2, &other), (3, &subject)] {
            let mut tx = app.store().begin().await.unwrap();
            let mut e =
                AuditEvent::system(jiff::Timestamp::now(), AuditAction::ResultPrinted, "op")
                    .on("registration", format!("115-{n:06}"));
            e.subject = Some(app.keys().subject_digest(s));
            tx.append_audit(&e).await.unwrap();
            tx.commit().await.unwrap();
        }
        let contact = person(app.store(), "zhang.shuhui").await;
        let now = jiff::Timestamp::now();
        let no = citizen_report::record_request(
            app.store(),
            app.keys(),
            app.auth(),
            &HolidayCalendar::seeded().unwrap(),
            &contact,
            &RequestInput {
                national_id: subject.expose_whole().into(),
                identity_check: Some("in_person_id_card".into()),
                asked: "查詢紀錄".into(),
                received: taipei_date(now),
                signed: None,
            },
            Stamp {
                now,
                request_id: "op",
            },
        )
        .await
        .unwrap()
        .unwrap();
        app.close().await;
        no
    });
    let out = dir.path().join("report.json");
    let o = bin()
        .args(["citizen", "report", "--id", &no, "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("2 筆 entries"), "{text}");
    assert_eq!(text.matches("列印結果").count(), 2, "{text}");
    assert!(!text.contains("A123456789"));

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let held = dir.path().join("checkpoint.txt");
    std::fs::write(&held, report["appendix"]["checkpoint"].as_str().unwrap()).unwrap();
    let proofs = report["appendix"]["entries"].as_array().unwrap();
    assert_eq!(proofs.len(), 2);
    for p in proofs {
        let export = dir.path().join(format!("entry-{}.jsonl", p["seq"]));
        std::fs::write(&export, p["export"].as_str().unwrap()).unwrap();
        let v = bin()
            .args(["audit", "verify", "--export"])
            .arg(&export)
            .arg("--checkpoint")
            .arg(&held)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap();
        assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    }

    let unknown = bin()
        .args(["citizen", "report", "--id", "115-999999", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("citizen_report.unknown_request"));
}
