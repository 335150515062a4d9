//! The doors of the administrator's and the auditor's pages, and the reads anyone may make:
//! a person without the role is refused and the refusal is on the trail (§9) before the page
//! says no; a failure of the system is an error, never "not an administrator"; the home page
//! names the staff only in the demo.

use jiff::Timestamp;
use querywarden_app::{administration, public_reads};

use crate::common::{portal_app, signed_in, trail_of};

#[tokio::test]
async fn only_the_permission_administrator_opens_the_calendar_and_a_refusal_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let app = portal_app(&dir).await;
    let now = Timestamp::now();
    let querier = signed_in(&app, "lin.meiling", Timestamp::now()).await;
    let refused =
        administration::administrator(&app, &querier, "calendar.not_administrator", now, "op-q")
            .await
            .unwrap();
    assert!(refused.is_none());
    assert_eq!(
        trail_of(&app, "access.refused", "op-q").await,
        ["refused:calendar.not_administrator"]
    );
    let admin = signed_in(&app, "wu.zhiming", Timestamp::now()).await;
    let admitted =
        administration::administrator(&app, &admin, "calendar.not_administrator", now, "op-a")
            .await
            .unwrap();
    let admin_cap = admitted.expect("the administrator is admitted");
    assert!(trail_of(&app, "access.refused", "op-a").await.is_empty());
    let overview = administration::calendar_overview(
        &app,
        &admin_cap,
        querywarden_domain::roc_date::taipei_date(now),
    )
    .await
    .unwrap();
    assert!(overview.years.is_empty(), "no official year loaded yet");
}

#[tokio::test]
async fn only_auditors_and_the_administrator_read_the_trail_and_others_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let app = portal_app(&dir).await;
    let now = Timestamp::now();
    for (account, reads) in [
        ("zheng.zhihao", true),
        ("wu.zhiming", true),
        ("lin.meiling", false),
        ("chen.jianhong", false),
    ] {
        let who = signed_in(&app, account, Timestamp::now()).await;
        let op = format!("op-{account}");
        let reader = administration::audit_reader(&app, &who, now, &op)
            .await
            .unwrap();
        assert_eq!(reader.is_some(), reads, "{account}");
        let expected: Vec<String> = if reads {
            Vec::new()
        } else {
            vec!["refused:audit.not_reader".into()]
        };
        assert_eq!(
            trail_of(&app, "access.refused", &op).await,
            expected,
            "{account}"
        );
    }
}

#[tokio::test]
async fn a_database_that_fails_is_an_error_for_the_card_binding_desk_not_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let app = portal_app(&dir).await;
    let admin = signed_in(&app, "wu.zhiming", Timestamp::now()).await;
    let querier = signed_in(&app, "lin.meiling", Timestamp::now()).await;
    let now = Timestamp::now();
    assert!(
        administration::card_binding_desk(&app, &admin, now, "op-1")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        administration::card_binding_desk(&app, &querier, now, "op-2")
            .await
            .unwrap()
            .is_none()
    );
    app.close().await;
    assert!(
        administration::card_binding_desk(&app, &admin, now, "op-3")
            .await
            .is_err(),
        "a closed database is a failure, not 'not an administrator'"
    );
}

#[tokio::test]
async fn the_staff_are_named_only_on_the_demos_start_page() {
    let dir = tempfile::tempdir().unwrap();
    let app = portal_app(&dir).await;
    let figures = public_reads::home_figures(&app).await.unwrap();
    assert!(!app.config().demo);
    assert!(public_reads::demo_start(&app).await.unwrap().is_none());
    assert!(figures.audit_records > 0, "seeding is on the trail");
    assert!(!public_reads::service_items(&app).await.unwrap().is_empty());
    assert!(!public_reads::legal_bases(&app).await.unwrap().is_empty());
    assert!(!public_reads::units(&app).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_demos_start_page_lists_every_demo_account_with_its_unit_and_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let app = querywarden_testkit::org::seeded_app(&dir.path().join("data"), |_| {}).await;
    let start = public_reads::demo_start(&app).await.unwrap().unwrap();
    let lin = start
        .accounts
        .iter()
        .find(|a| a.person.account.as_str() == "lin.meiling")
        .expect("lin.meiling is a demo account");
    assert_ne!(lin.unit_name, "social-assistance", "the unit by its name");
    assert!(start.accounts.len() >= 9);
    assert_eq!(
        start.password,
        Some(querywarden_app::demo_cards::DEMO_PASSWORD)
    );
}
