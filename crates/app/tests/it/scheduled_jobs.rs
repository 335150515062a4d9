//! Scheduled jobs with several instances on one PostgreSQL database (docs/deployment.md):
//! while one instance holds the jobs' lease the others run nothing, and schedulers started
//! at once run each due job once between them — §7: the quarter just ended gets its usage
//! review opened once, not once per instance.

use jiff::Timestamp;
use querywarden_app::App;
use querywarden_app::config::RawConfig;
use querywarden_app::jobs::run_due;
use querywarden_app::permission::PermissionPolicy;
use querywarden_storage::pg_testing::TestSchema;
use querywarden_testkit::org::audit;

const SCHEDULERS: usize = 4;

/// What the schedulers' rounds counted for `job`, added up; every run must have succeeded.
fn total(rounds: &[Vec<(&'static str, Result<usize, String>)>], job: &str) -> usize {
    rounds
        .iter()
        .flatten()
        .filter(|(name, _)| *name == job)
        .map(|(name, r)| r.clone().unwrap_or_else(|e| panic!("{name}: {e}")))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_schedulers_on_one_postgres_database_run_each_due_job_once() {
    let Some(schema) = TestSchema::empty().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut raw = RawConfig::default();
    raw.server.demo = true;
    raw.storage.data_dir = dir.path().to_path_buf();
    raw.storage.url = Some(schema.url());
    let config = raw.validate().unwrap();
    // One instance makes the bureau; then every instance, that one included, is a scheduler
    // on the same database with the same keys.
    let first = App::open(config.clone()).await.unwrap();
    first.seed_demo().await.unwrap();
    let mut apps = vec![first];
    for _ in 1..SCHEDULERS {
        apps.push(App::open(config.clone()).await.unwrap());
    }

    let now = Timestamp::now();
    let policy = PermissionPolicy::default();
    // While one instance holds the lease, no scheduler runs anything, itself included.
    let held = apps[0]
        .store()
        .job_lease()
        .await
        .unwrap()
        .expect("the lease is free");
    for app in &apps {
        assert!(run_due(app, &policy, now).await.is_empty());
    }
    assert!(apps[0].store().reviews().await.unwrap().is_empty());
    held.release().await;

    // All at once: whichever gets the lease runs the round; the rest run nothing or, after
    // it, find nothing due.
    let started: Vec<_> = apps
        .iter()
        .map(|app| {
            let (app, policy) = (app.clone(), policy.clone());
            tokio::spawn(async move { run_due(&app, &policy, now).await })
        })
        .collect();
    let mut rounds = Vec::new();
    for round in started {
        rounds.push(round.await.unwrap());
    }
    assert!(
        rounds.iter().any(|r| !r.is_empty()),
        "some scheduler held the lease and ran the jobs"
    );
    assert_eq!(total(&rounds, "quarterly_review"), 1, "{rounds:?}");
    assert!(total(&rounds, "calendar_reminder") <= 1, "{rounds:?}");

    let store = apps[0].store();
    assert_eq!(store.reviews().await.unwrap().len(), 1);
    let opened = audit(store, "oversight.review.opened").await;
    assert_eq!(opened.len(), 1, "one review, one record");

    // Every scheduler again, as after restarts: nothing is due twice.
    for app in &apps {
        let again = run_due(app, &policy, Timestamp::now()).await;
        assert_eq!(total(&[again], "quarterly_review"), 0);
    }
    assert_eq!(store.reviews().await.unwrap().len(), 1);
    for app in apps {
        app.close().await;
    }
    schema.drop_now().await;
}
