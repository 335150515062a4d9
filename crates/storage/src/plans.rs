//! The hot reads use an index: each statement's `EXPLAIN QUERY PLAN` is read back from SQLite
//! and no step may scan one of the tables that grow with use (the register, its executions,
//! the platform's usage log, the audit trail, the staff). The reconciliation's scans must also
//! come out in their order from the index, without a sort.

use sqlx::Row;

use crate::AuditFilter;
use crate::registration::RegistrationFilter;
use crate::sqlite::Store;

/// A SQLite store whatever `QUERYWARDEN_TEST_BACKEND` says: the plans read are SQLite's.
async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("qw.sqlite")).await.unwrap();
    (store, dir)
}

/// Tables that grow with use: a step that scans one of them is the failure these tests catch.
const BIG: &[&str] = &[
    "registrations",
    "executions",
    "platform_usage_records",
    "audit_records",
    "persons",
    "person_roles",
    "registration_decisions",
    "r",
    "e",
    "u",
    "d",
];

async fn plan(store: &Store, sql: &str) -> Vec<String> {
    // Unbound parameters are NULL to SQLite; the plan does not depend on them.
    sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(&store.reader)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("detail"))
        .collect()
}

fn assert_no_scan_of_a_big_table(what: &str, plan: &[String]) {
    for step in plan {
        if let Some(rest) = step.strip_prefix("SCAN ") {
            let table = rest.split_whitespace().next().unwrap_or("");
            assert!(
                !BIG.contains(&table),
                "{what}: a scan of {table} in {plan:#?}"
            );
        }
    }
}

fn assert_uses(what: &str, plan: &[String], index: &str) {
    assert!(
        plan.iter().any(|s| s.contains(index)),
        "{what}: {index} not used in {plan:#?}"
    );
}

#[tokio::test]
async fn the_reconciliation_scans_read_by_index_in_index_order() {
    let (store, _dir) = sqlite_store().await;
    let p = plan(&store, crate::oversight::EXECUTION_SCAN).await;
    assert_no_scan_of_a_big_table("execution scan", &p);
    assert_uses("execution scan", &p, "executions_ran_at");
    assert!(
        !p.iter().any(|s| s.contains("TEMP B-TREE")),
        "execution scan sorts: {p:#?}"
    );
    let p = plan(&store, crate::oversight::USAGE_SCAN).await;
    assert_no_scan_of_a_big_table("usage scan", &p);
    assert_uses("usage scan", &p, "platform_usage_records_at");
    assert!(
        !p.iter().any(|s| s.contains("TEMP B-TREE")),
        "usage scan sorts: {p:#?}"
    );
}

#[tokio::test]
async fn the_registration_inbox_reads_by_index() {
    let (store, _dir) = sqlite_store().await;
    // What the inbox asks: the registrations waiting for a decision, and a person's own.
    let waiting = RegistrationFilter {
        state: Some("registered"),
        ..Default::default()
    };
    let p = plan(
        &store,
        crate::registration::registrations_query(&waiting).sql(),
    )
    .await;
    assert_no_scan_of_a_big_table("waiting registrations", &p);
    assert_uses("waiting registrations", &p, "registrations_state");
    let mine = RegistrationFilter {
        party: Some(querywarden_domain::org::PersonId::new(7)),
        ..Default::default()
    };
    let p = plan(
        &store,
        crate::registration::registrations_query(&mine).sql(),
    )
    .await;
    assert_no_scan_of_a_big_table("a person's registrations", &p);
    for index in [
        "registrations_applicant",
        "registrations_needer",
        "registrations_querier",
    ] {
        assert_uses("a person's registrations", &p, index);
    }
}

#[tokio::test]
async fn the_audit_search_by_actor_and_time_reads_by_index() {
    let (store, _dir) = sqlite_store().await;
    let by_actor = AuditFilter {
        actor_person_id: Some(7),
        from: Some("2026-01-01T00:00:00Z".into()),
        until: Some("2026-04-01T00:00:00Z".into()),
        limit: 50,
        ..Default::default()
    };
    let p = plan(&store, by_actor.search_query().sql()).await;
    assert_no_scan_of_a_big_table("audit search by actor and time", &p);
    assert_uses("audit search by actor and time", &p, "audit_records_actor");
    let by_time = AuditFilter {
        from: Some("2026-01-01T00:00:00Z".into()),
        until: Some("2026-04-01T00:00:00Z".into()),
        limit: 50,
        ..Default::default()
    };
    let p = plan(&store, by_time.search_query().sql()).await;
    assert_no_scan_of_a_big_table("audit search by time", &p);
    assert_uses("audit search by time", &p, "audit_records_at");
}

#[tokio::test]
async fn usage_by_operator_reads_by_index() {
    let (store, _dir) = sqlite_store().await;
    for bounded in [true, false] {
        let p = plan(&store, &crate::usage::usage_by_operator_sql(bounded, 3)).await;
        assert_no_scan_of_a_big_table("usage by operator", &p);
        assert_uses("usage by operator", &p, "platform_usage_records_operator");
    }
}

#[tokio::test]
async fn the_holders_of_posts_on_the_chain_are_read_without_the_staff_list() {
    let (store, _dir) = sqlite_store().await;
    let p = plan(&store, crate::org::POST_HOLDERS).await;
    assert_no_scan_of_a_big_table("post holders", &p);
    assert_uses("post holders", &p, "person_roles_by_role");
}
