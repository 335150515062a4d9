//! The lived-in demo (`querywarden demo` without `--empty`): a quarter of history written
//! through the use cases, so the audit trail verifies, and every state it promises exists.

use std::path::Path;

use querywarden_testkit::Demo;
use querywarden_testkit::binary::{command as bin, stdout};

/// Counts rows of the demo's database (read-only; the demo is stopped first).
fn count(data: &Path, sql: &str) -> i64 {
    let path = data.join("querywarden.sqlite");
    let c =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn the_first_demo_run_writes_a_quarter_of_history_that_verifies_and_has_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let records = {
        let demo = Demo::start_lived_in(&data);
        let url = demo.url.clone();
        querywarden_testkit::rt().block_on(async move {
            let home = reqwest::get(format!("{url}/")).await.unwrap();
            assert_eq!(home.status(), 200);
        });
        drop(demo);
        count(&data, "SELECT COUNT(*) FROM audit_records")
    };
    assert!(records > 100, "a quarter of work is audited: {records}");

    let o = bin()
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Registrations in every state: filed and waiting, approved (waiting or lapsed),
    // rejected, cancelled, run.
    for state in ["registered", "approved", "rejected", "cancelled"] {
        let n = count(
            &data,
            &format!("SELECT COUNT(*) FROM registrations WHERE state = '{state}'"),
        );
        assert!(n >= 1, "no registration {state}");
    }
    let approved_unrun = count(
        &data,
        "SELECT COUNT(*) FROM registrations r WHERE state = 'approved' AND NOT EXISTS \
         (SELECT 1 FROM executions e WHERE e.registration_id = r.id)",
    );
    assert!(
        approved_unrun >= 2,
        "one waiting to run, one whose approval lapsed"
    );
    assert!(count(&data, "SELECT COUNT(*) FROM executions") >= 20);
    assert!(count(&data, "SELECT COUNT(*) FROM result_views") >= 10);
    // Prints and destructions (§6), with a printed copy confirmed destroyed.
    assert!(count(&data, "SELECT COUNT(*) FROM result_prints") >= 3);
    assert!(count(&data, "SELECT COUNT(*) FROM result_destructions") >= 3);
    assert!(
        count(
            &data,
            "SELECT COUNT(*) FROM result_prints WHERE copy_destroyed_at IS NOT NULL"
        ) >= 1
    );
    assert!(
        count(
            &data,
            "SELECT COUNT(*) FROM results WHERE destroyed_at IS NULL"
        ) >= 5,
        "results still kept"
    );
    // §7: a completed quarterly review; §8: an audit in progress and a violation whose
    // ten-day deadline is still running.
    assert_eq!(
        count(
            &data,
            "SELECT COUNT(*) FROM oversight_reviews WHERE state = 'closed'"
        ),
        1
    );
    assert!(
        count(
            &data,
            "SELECT COUNT(*) FROM unannounced_audits WHERE reviewed_at IS NULL"
        ) >= 1
    );
    let today = querywarden_domain::roc_date::taipei_date(jiff::Timestamp::now())
        .civil()
        .to_string();
    assert_eq!(
        count(
            &data,
            &format!(
                "SELECT COUNT(*) FROM violations WHERE state = 'awaiting_report' AND due_on >= '{today}'"
            )
        ),
        1
    );
    // §2: a personnel change recorded ahead of its date.
    assert!(
        count(
            &data,
            &format!("SELECT COUNT(*) FROM staff_status_changes WHERE effective_date > '{today}'")
        ) >= 1
    );
    // Several units worked: the social-assistance and the elderly-welfare sections.
    assert!(
        count(
            &data,
            "SELECT COUNT(DISTINCT approving_unit) FROM registrations"
        ) >= 2
    );

    // A second start reuses the data: nothing is written twice.
    let demo = Demo::start_lived_in(&data);
    drop(demo);
    let again = count(&data, "SELECT COUNT(*) FROM registrations");
    assert_eq!(again, 38);
}
