//! Scheduled work the rules ask for without anyone pressing a button: personnel changes that
//! reach their effective date (§2), recertification rounds past their deadline, idle accounts
//! (資通系統防護基準 1-1-3). Each job is its own use case with its own audit records; a failing
//! job is reported and the others still run.

use jiff::Timestamp;

use crate::App;
use crate::permission::{self, Op, PermissionPolicy};

/// One job's outcome: its name and how many things it changed, or why it failed.
pub type JobOutcome = (&'static str, Result<usize, String>);

/// Runs every due job once.
pub async fn run_due(app: &App, policy: &PermissionPolicy, now: Timestamp) -> Vec<JobOutcome> {
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
    ]
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
        let outcomes = run_due(&app, &PermissionPolicy::default(), Timestamp::now()).await;
        assert_eq!(outcomes.len(), 3);
        for (name, r) in outcomes {
            assert_eq!(r, Ok(0), "{name}");
        }
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
}
