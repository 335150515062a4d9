//! Scheduled work the rules ask for without anyone pressing a button: personnel changes that
//! reach their effective date (§2), recertification rounds past their deadline, idle accounts
//! (資通系統防護基準 1-1-3), query results past their keeping period (§6, crypto-shredding),
//! certificate revocation lists (§3), the quarterly usage review (§7, opened once per
//! quarter: the quarter is unique in storage, so a restart never opens it twice),
//! corrective-report reminders (§8 ¶2), the subjects of Forms 2 and 3 past the record's
//! keeping period (§6), and the optional daily e-mail digest of what waits. Each job is its
//! own use case with its own audit records; a failing job is reported and the others still
//! run.

use jiff::Timestamp;

use crate::App;
use crate::permission::{self, Op, PermissionPolicy};

/// One job's outcome: its name and how many things it changed, or why it failed.
pub type JobOutcome = (&'static str, Result<usize, String>);

/// Runs every due job once; each outcome is also counted in the metrics
/// (`querywarden_job_runs_total`), so operators see a job that keeps failing.
///
/// With several instances on one database only the one holding the jobs' lease runs a
/// round; the others return no outcome at all, so no job runs twice at once.
pub async fn run_due(app: &App, policy: &PermissionPolicy, now: Timestamp) -> Vec<JobOutcome> {
    let lease = match app.store().job_lease().await {
        Ok(Some(lease)) => lease,
        Ok(None) => return Vec::new(),
        Err(e) => {
            let outcome: JobOutcome = ("job_lease", Err(e.to_string()));
            app.metrics().observe_job(outcome.0, &outcome.1, now);
            return vec![outcome];
        }
    };
    let outcomes = run_each(app, policy, now).await;
    lease.release().await;
    for (job, outcome) in &outcomes {
        app.metrics().observe_job(job, outcome, now);
    }
    outcomes
}

async fn run_each(app: &App, policy: &PermissionPolicy, now: Timestamp) -> Vec<JobOutcome> {
    let op = Op::new(now, crate::new_request_id());
    let store = app.store();
    vec![
        (
            "staff_changes",
            permission::staff::apply_due_staff_changes(store, &op)
                .await
                .map_err(|e| e.to_string()),
        ),
        (
            "recertification_deadlines",
            permission::recertification::close_overdue_recertifications(store, &op)
                .await
                .map_err(|e| e.to_string()),
        ),
        (
            "idle_accounts",
            permission::recertification::disable_idle_accounts(store, policy, &op)
                .await
                .map(|v| v.len())
                .map_err(|e| e.to_string()),
        ),
        (
            "result_destruction",
            crate::execution::destroy_due(store, now, &op.request_id)
                .await
                .map(|r| r.destroyed.len())
                .map_err(|e| e.to_string()),
        ),
        (
            // §6: subjects kept for Forms 2 and 3 past the record's own keeping period.
            "subject_destruction",
            crate::custody::subjects::destroy_expired_subjects(
                store,
                app.keys(),
                now,
                &op.request_id,
            )
            .await
            .map(|r| r.count())
            .map_err(|e| e.to_string()),
        ),
        (
            // §3: revocation lists from the configured addresses, and those imported by
            // `querywarden crl import` meanwhile, put in force.
            "crl_refresh",
            crate::enrolment::crl::refresh(app, now, &op.request_id)
                .await
                .map_err(|e| e.to_string()),
        ),
        (
            "quarterly_review",
            crate::oversight::review::open_due_review(
                store,
                app.keys(),
                &app.config().oversight,
                &op,
            )
            .await
            .map_err(|e| e.to_string()),
        ),
        (
            "corrective_reports",
            corrective_reports(store, &op)
                .await
                .map_err(|e| e.to_string()),
        ),
        (
            "calendar_reminder",
            crate::calendar::remind_missing_year(store, now)
                .await
                .map_err(|e| e.to_string()),
        ),
        (
            // 個人資料保護法 §13 I: citizens' requests near or past their deadline.
            "citizen_request_deadlines",
            citizen_request_deadlines(store, &op)
                .await
                .map_err(|e| e.to_string()),
        ),
        (
            // The optional daily e-mail digest of what waits (off unless `[mail]` is on);
            // claimed per person and day, so a restart or a second instance never sends it
            // twice, and a failed one is tried again on the next run.
            "mail_digest",
            crate::mail::send_due_digests(app, now, &op.request_id)
                .await
                .map_err(|e| e.to_string()),
        ),
    ]
}

/// 個人資料保護法 §13 I: reminders and escalations of citizens' access requests.
async fn citizen_request_deadlines(
    store: &querywarden_storage::Store,
    op: &Op,
) -> Result<usize, crate::AppError> {
    let calendar = crate::calendar::current(store).await?;
    crate::citizen_report::deadlines::remind_and_escalate(store, &calendar, op).await
}

/// §8 ¶2: reminders and escalations of corrective reports.
async fn corrective_reports(
    store: &querywarden_storage::Store,
    op: &Op,
) -> Result<usize, crate::AppError> {
    let calendar = crate::calendar::current(store).await?;
    crate::oversight::violation::remind_and_escalate(store, &calendar, op).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    #[tokio::test]
    async fn the_jobs_run_on_a_fresh_demo_and_change_nothing_that_is_not_due() {
        let dir = tempfile::tempdir().unwrap();
        let mut raw = RawConfig::default();
        raw.server.demo = true;
        raw.storage.data_dir = dir.path().to_path_buf();
        let app = App::open(raw.validate().unwrap()).await.unwrap();
        app.seed_demo().await.unwrap();
        let now = Timestamp::now();
        let outcomes = run_due(&app, &PermissionPolicy::default(), now).await;
        assert_eq!(outcomes.len(), 11);
        // 行政程序法 §48: from October the demo's one administrator is told, once, that next
        // year's official calendar is missing.
        let calendar_due = crate::calendar::missing_next_year(
            &querywarden_domain::deadline::HolidayCalendar::seeded().unwrap(),
            querywarden_domain::roc_date::taipei_date(now),
        )
        .is_some();
        for (name, r) in outcomes {
            // §7: the quarter just ended is due its review, once.
            let expected = usize::from(
                name == "quarterly_review" || (name == "calendar_reminder" && calendar_due),
            );
            assert_eq!(r, Ok(expected), "{name}");
        }
        // Run again, as after a restart: the review is not opened twice.
        let again = run_due(&app, &PermissionPolicy::default(), Timestamp::now()).await;
        assert!(again.iter().all(|(_, r)| *r == Ok(0)), "{again:?}");
        assert_eq!(app.store().reviews().await.unwrap().len(), 1);
        // A year later every demo account has been idle for longer than 90 days.
        let later = Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365);
        let outcomes = run_due(&app, &PermissionPolicy::default(), later).await;
        let idle = outcomes
            .iter()
            .find(|(n, _)| *n == "idle_accounts")
            .unwrap();
        assert!(matches!(idle.1, Ok(n) if n > 0), "{outcomes:?}");
        app.close().await;
    }

    #[tokio::test]
    async fn the_destruction_job_shreds_a_result_once_its_keeping_period_is_over() {
        use crate::auth::SignedIn;
        use crate::registration;
        use querywarden_domain::org::Account;
        use querywarden_storage::SessionRow;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = querywarden_bli::simulator::spawn(Default::default(), listener)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut raw = RawConfig::default();
        raw.server.demo = true;
        raw.storage.data_dir = dir.path().to_path_buf();
        raw.bli.base_url = sim.base_url();
        let app = App::open(raw.validate().unwrap()).await.unwrap();
        app.seed_demo().await.unwrap();
        let now = Timestamp::now();
        crate::demo_grants::grant_demo_queriers(
            app.store(),
            app.keys(),
            &PermissionPolicy::default(),
            now,
            "t",
        )
        .await
        .unwrap();
        let person = |a: &str| {
            let app = app.clone();
            let a = a.to_string();
            async move {
                app.store()
                    .person_by_account(&Account::parse(&a).unwrap())
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        let lin = person("lin.meiling").await;
        let chen = person("chen.jianhong").await;
        let session = SessionRow {
            token_hash: "tok-lin".into(),
            person: lin.id,
            csrf_token: "csrf".into(),
            created_at: now,
            last_seen_at: now,
            locked: false,
            ended: false,
            cert_fingerprint: "fp".into(),
            client_addr: None,
        };
        let mut tx = app.store().begin().await.unwrap();
        tx.insert_session(&session).await.unwrap();
        tx.commit().await.unwrap();
        let desk = app.desk();
        let form = crate::testing::form2_for_wang(lin.id);
        let no = registration::register(&desk, &lin, &form, now, "r")
            .await
            .unwrap()
            .unwrap()
            .no;
        let cap = registration::approver_of(&desk, &chen, no)
            .await
            .unwrap()
            .unwrap();
        registration::approve(&desk, cap, None, now, "r")
            .await
            .unwrap()
            .unwrap();
        let who = SignedIn {
            session,
            person: lin.clone(),
        };
        crate::execution::execute_connected(
            &desk,
            app.connector().unwrap(),
            &who,
            no,
            None,
            now,
            "r",
        )
        .await
        .unwrap()
        .unwrap();
        let outcome = |o: Vec<JobOutcome>| {
            o.into_iter()
                .find(|(n, _)| *n == "result_destruction")
                .unwrap()
                .1
        };
        let policy = PermissionPolicy::default();
        assert_eq!(outcome(run_due(&app, &policy, now).await), Ok(0));
        let later = now + jiff::SignedDuration::from_hours(24 * 400);
        assert_eq!(outcome(run_due(&app, &policy, later).await), Ok(1));
        assert_eq!(outcome(run_due(&app, &policy, later).await), Ok(0));
        let c = querywarden_domain::catalogue::ServiceItemCode::parse("C0101").unwrap();
        let seen = crate::execution::view_result(&desk, &lin, no, &c, later, "r")
            .await
            .unwrap();
        assert_eq!(seen.unwrap_err().code(), "result.destroyed");
        app.close().await;
    }
}
