//! What waits for each person (the home page's worklist), role by role: the supervisor's
//! registrations to approve, the querier's approved queries to run before the approval
//! expires, Form 1 steps for the supervisor and then the administrator, the administrator's
//! open quarterly review, the ten-day corrective report of a person who broke the rules and
//! the administrator's decision on it — each with its deadline and the working days left on
//! the office calendar, oldest first, and nothing for anyone it is not waiting for.

use crate::common::{self, world_derefs_to_org};
use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use querywarden_app::config::OversightSettings;
use querywarden_app::grants::StoreGrants;
use querywarden_app::oversight::review::open_due_review;
use querywarden_app::oversight::violation::{FileViolationRequest, file_violation, submit_report};
use querywarden_app::permission::{self, Op, PermissionPolicy, approver_at_step, decide_step};
use querywarden_app::registration::{
    self, Desk, QueryPurpose, RegisterQueryRequest, RegistrationSettings, ScreenList,
};
use querywarden_app::worklist::{Concerning, Task, WorkItem, Worklist, worklist};
use querywarden_domain::NationalId;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::oversight::violation::ViolationSource;
use querywarden_domain::permission::{ApplicationForm, ApplicationKind, Confirmations, Step};
use querywarden_domain::registration::RegistrationNo;
use querywarden_domain::roc_date::{RocDate, taipei_day_start_utc};
use querywarden_domain::testing::approve;
use querywarden_testkit::org::{self, Org};

/// `hour`:00 Asia/Taipei on `d`.
fn at(d: Date, hour: i64) -> Timestamp {
    taipei_day_start_utc(RocDate::from_civil(d).unwrap()) + SignedDuration::from_hours(hour)
}

fn roc(d: Date) -> RocDate {
    RocDate::from_civil(d).unwrap()
}

fn op(t: Timestamp) -> Op {
    Op::new(t, "worklist-test")
}

/// The demo organisation on 2026-03-02 (a Monday); lin.meiling and li.guowei hold every item.
struct World {
    org: Org,
    policy: PermissionPolicy,
    settings: RegistrationSettings,
    grants: StoreGrants,
    screen: ScreenList,
}

world_derefs_to_org!(World);

impl World {
    async fn new() -> World {
        let t = at(date(2026, 3, 2), 8);
        let org = Org::in_memory(t).await;
        org.grant_demo_queriers(t).await;
        World {
            grants: StoreGrants::new(org.store.clone()),
            org,
            policy: PermissionPolicy::default(),
            settings: RegistrationSettings::default(),
            screen: ScreenList::new(),
        }
    }

    fn desk(&self) -> Desk<'_, StoreGrants> {
        common::desk(&self.org, &self.settings, &self.grants, &self.screen)
    }

    async fn list(&self, account: &str, now: Timestamp) -> Worklist {
        worklist(&self.store, &self.policy, self.p(account), now)
            .await
            .unwrap()
    }

    /// lin.meiling registers a query at `t` for subject number `n`.
    async fn register(&self, n: u32, t: Timestamp) -> RegistrationNo {
        let form = RegisterQueryRequest {
            subject_name: "王大同".into(),
            subject_id: org::nid("A2", n),
            linked_id: None,
            purpose: QueryPurpose {
                items: vec!["C0101".into()],
                legal_basis: "social-assistance-44-3-1".into(),
                relevance: format!("第 {n} 號低收入戶申請案，須查核投保資料以核算家庭總收入"),
                case_no: None,
                companion_basis: None,
                no_case_reason: Some("受理初審階段，尚未分案編號".into()),
                needer: None,
                querier: self.p("lin.meiling").id.into(),
            },
        };
        registration::register(&self.desk(), self.p("lin.meiling"), &form, t, "r")
            .await
            .unwrap()
            .unwrap()
            .no
    }

    async fn approve(&self, no: RegistrationNo, t: Timestamp) {
        let chen = self.p("chen.jianhong").clone();
        let cap = registration::approver_of(&self.desk(), &chen, no)
            .await
            .unwrap()
            .unwrap();
        registration::approve(&self.desk(), cap, None, t, "r")
            .await
            .unwrap()
            .unwrap();
    }
}

fn of(list: &Worklist, task: Task) -> Vec<&WorkItem> {
    list.items.iter().filter(|i| i.task == task).collect()
}

#[tokio::test]
async fn the_supervisor_sees_registrations_to_approve_and_the_querier_what_to_run_before_expiry() {
    let w = World::new().await;
    let monday = date(2026, 3, 2);
    let first = w.register(1, at(monday, 9)).await;
    let second = w.register(2, at(monday, 10)).await;

    // §5: both wait for lin's supervisor, oldest first, with no deadline set by the rules.
    let chen = w.list("chen.jianhong", at(monday, 11)).await;
    let approve = of(&chen, Task::ApproveRegistration);
    assert_eq!(approve.len(), 2);
    assert_eq!(approve[0].concerning, Concerning::Registration(first));
    assert_eq!(approve[1].concerning, Concerning::Registration(second));
    assert!(approve[0].since < approve[1].since);
    assert_eq!(approve[0].due, None);
    assert_eq!(approve[0].working_days_left, None);
    assert_eq!(chen.count(Task::ApproveRegistration), 2);
    // Not for the applicant, a colleague, or another unit's supervisor.
    for other in ["lin.meiling", "huang.yating", "xu.wenjie"] {
        let list = w.list(other, at(monday, 11)).await;
        assert_eq!(list.count(Task::ApproveRegistration), 0, "{other}");
    }

    // Approved at noon on Monday: valid seven days, so lin runs it by Monday 3/9, five
    // working days after today (3/3, 3/4, 3/5, 3/6, 3/9).
    w.approve(first, at(monday, 12)).await;
    let lin = w.list("lin.meiling", at(monday, 13)).await;
    let run = of(&lin, Task::ExecuteRegistration);
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].concerning, Concerning::Registration(first));
    assert_eq!(run[0].due, Some(roc(date(2026, 3, 9))));
    assert_eq!(run[0].working_days_left, Some(5));
    assert_eq!(run[0].since, at(monday, 12));
    // On Friday, one working day is left; on the day itself, none.
    let friday = w.list("lin.meiling", at(date(2026, 3, 6), 9)).await;
    assert_eq!(
        of(&friday, Task::ExecuteRegistration)[0].working_days_left,
        Some(1)
    );
    let last_day = w.list("lin.meiling", at(date(2026, 3, 9), 9)).await;
    assert_eq!(
        of(&last_day, Task::ExecuteRegistration)[0].working_days_left,
        Some(0)
    );
    // Once the approval has expired there is nothing left to run.
    let expired = w.list("lin.meiling", at(date(2026, 3, 9), 13)).await;
    assert_eq!(expired.count(Task::ExecuteRegistration), 0);
    // The supervisor still has the second one; nobody else runs lin's query.
    assert_eq!(
        w.list("chen.jianhong", at(monday, 13))
            .await
            .count(Task::ApproveRegistration),
        1
    );
    assert_eq!(
        w.list("li.guowei", at(monday, 13))
            .await
            .count(Task::ExecuteRegistration),
        0
    );
}

fn form1(items: &[&str]) -> ApplicationForm {
    ApplicationForm {
        kind: ApplicationKind::New,
        reason: "辦理低收入戶及中低收入戶資格審查".into(),
        national_id: NationalId::parse("A123456789").unwrap(),
        phone: "07-7344800".into(),
        email: "someone@example.org".into(),
        egov_account: "egov-user".into(),
        items: items
            .iter()
            .map(|i| ServiceItemCode::parse(i).unwrap())
            .collect(),
        confirmations: Confirmations {
            read_pdpa_and_rules: true,
            has_certificate_and_reader: true,
        },
    }
}

#[tokio::test]
async fn a_form1_step_waits_for_the_supervisor_then_the_administrator_with_its_reminder_day() {
    let w = World::new().await;
    let t = at(date(2026, 3, 2), 9);
    let huang = w.p("huang.yating").id;
    let app = permission::create_application(&w.store, &w.keys, huang, form1(&["C0101"]), &op(t))
        .await
        .unwrap();
    permission::submit_application(&w.store, huang, app.id, &op(t))
        .await
        .unwrap();

    // §2: the applicant's supervisor consents first; the reminder day counts working days.
    let cal = HolidayCalendar::seeded().unwrap();
    let chen = w.list("chen.jianhong", at(date(2026, 3, 2), 10)).await;
    let steps = of(&chen, Task::DecideApplication);
    assert_eq!(steps.len(), 1);
    let Concerning::Application { id, step, .. } = &steps[0].concerning else {
        panic!("a Form 1 step: {:?}", steps[0].concerning);
    };
    assert_eq!((*id, *step), (app.id, Step::UnitSupervisor));
    let due = steps[0].due.expect("a reminder day");
    assert!(due > roc(date(2026, 3, 2)));
    assert_eq!(
        steps[0].working_days_left,
        Some(querywarden_domain::citizen_report::working_days_left(
            roc(date(2026, 3, 2)),
            due,
            &cal
        ))
    );
    assert_eq!(
        w.list("wu.zhiming", at(date(2026, 3, 2), 10))
            .await
            .count(Task::DecideApplication),
        0,
        "not the administrator's turn yet"
    );

    let cap = approver_at_step(&w.store, &w.policy, w.p("chen.jianhong").id, app.id, &op(t))
        .await
        .unwrap();
    decide_step(
        &w.store,
        &cap,
        approve(),
        &op(t + SignedDuration::from_mins(30)),
    )
    .await
    .unwrap();
    let later = at(date(2026, 3, 2), 11);
    assert_eq!(
        w.list("chen.jianhong", later)
            .await
            .count(Task::DecideApplication),
        0
    );
    let wu = w.list("wu.zhiming", later).await;
    let steps = of(&wu, Task::DecideApplication);
    assert_eq!(steps.len(), 1);
    assert!(matches!(
        steps[0].concerning,
        Concerning::Application {
            step: Step::PermissionAdministrator,
            ..
        }
    ));
    assert_eq!(w.list("huang.yating", later).await.items, Vec::new());
}

#[tokio::test]
async fn the_administrator_has_the_open_review_and_a_violator_the_ten_day_report() {
    let w = World::new().await;
    let cal = HolidayCalendar::seeded().unwrap();
    let admin = w.p("wu.zhiming").clone();
    let lin = w.p("lin.meiling").clone();

    // §7: on 4/1 the first quarter's review opens; the administrator has it until its due day.
    let opened = open_due_review(
        &w.store,
        &w.keys,
        &OversightSettings::default(),
        &op(at(date(2026, 4, 1), 9)),
    )
    .await
    .unwrap();
    assert_eq!(opened, 1);
    let wu = w.list("wu.zhiming", at(date(2026, 4, 1), 10)).await;
    let review = of(&wu, Task::ConcludeQuarterlyReview);
    assert_eq!(review.len(), 1);
    assert!(
        matches!(&review[0].concerning, Concerning::Review { quarter, .. } if quarter == "2026-Q1")
    );
    let stored = w.store.reviews().await.unwrap()[0].clone();
    assert_eq!(review[0].due, Some(roc(stored.due_on)));
    assert!(review[0].working_days_left.is_some_and(|n| n > 0));
    for other in ["lin.meiling", "chen.jianhong", "zhang.shuhui"] {
        assert_eq!(
            w.list(other, at(date(2026, 4, 1), 10))
                .await
                .count(Task::ConcludeQuarterlyReview),
            0,
            "{other}"
        );
    }

    // §8 ¶2: a case filed on Tuesday 3/24 is due on 4/7 (day ten, 4/3, falls in the
    // 兒童節 and 清明 days off); lin sees it with the working days left and the notice.
    let filed = at(date(2026, 3, 24), 10);
    let case = file_violation(
        &w.store,
        &cal,
        &admin,
        &FileViolationRequest {
            person: lin.id,
            rule: "§5 未經核准即查調".into(),
            evidence: "稽核第 1 號抽查結果".into(),
            suspend_grants: false,
            source: ViolationSource::Administrator,
        },
        &op(filed),
    )
    .await
    .unwrap()
    .unwrap();
    let mine = w.list("lin.meiling", at(date(2026, 3, 24), 11)).await;
    let report = of(&mine, Task::WriteCorrectiveReport);
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].concerning, Concerning::Violation(case));
    assert_eq!(report[0].due, Some(roc(date(2026, 4, 7))));
    assert_eq!(
        report[0].working_days_left,
        Some(querywarden_domain::citizen_report::working_days_left(
            roc(date(2026, 3, 24)),
            roc(date(2026, 4, 7)),
            &cal
        ))
    );
    assert!(
        mine.notices
            .iter()
            .any(|n| n.kind == "oversight.violation_opened")
    );
    // Past the deadline the days left count below zero.
    let late = w.list("lin.meiling", at(date(2026, 4, 8), 9)).await;
    assert_eq!(
        of(&late, Task::WriteCorrectiveReport)[0].working_days_left,
        Some(-1)
    );
    // Not the supervisor's, nor (before the report) the administrator's to decide.
    assert_eq!(
        w.list("chen.jianhong", at(date(2026, 3, 24), 11))
            .await
            .count(Task::WriteCorrectiveReport),
        0
    );
    assert_eq!(
        w.list("wu.zhiming", at(date(2026, 3, 24), 11))
            .await
            .count(Task::DecideCorrectiveReport),
        0
    );

    // The report is in: lin's item is gone, the administrator's decision waits.
    submit_report(
        &w.store,
        &lin,
        case,
        "已重新檢視登記程序並完成補登",
        &op(at(date(2026, 3, 30), 10)),
    )
    .await
    .unwrap()
    .unwrap();
    let after = at(date(2026, 3, 30), 11);
    assert_eq!(
        w.list("lin.meiling", after)
            .await
            .count(Task::WriteCorrectiveReport),
        0
    );
    let wu = w.list("wu.zhiming", after).await;
    let decide = of(&wu, Task::DecideCorrectiveReport);
    assert_eq!(decide.len(), 1);
    assert_eq!(decide[0].concerning, Concerning::Violation(case));
    assert_eq!(decide[0].since, at(date(2026, 3, 30), 10));
}

#[tokio::test]
async fn a_form3_request_waits_for_the_offices_consent_then_the_responsible_units_review() {
    let w = World::new().await;
    let t = at(date(2026, 3, 2), 9);
    let input = common::form3(&["C0101"], &[("張三", org::nid("A2", 3001))], 1);
    let no = querywarden_app::request::file_request(&w.desk(), w.p("cai.peiling"), &input, t, "f")
        .await
        .unwrap()
        .unwrap();

    // §5 ¶3: first the district office's supervisor consents; the bureau's reviewer waits.
    let later = at(date(2026, 3, 2), 10);
    let yang = w.list("yang.shuling", later).await;
    let sign = of(&yang, Task::SignRequest);
    assert_eq!(sign.len(), 1);
    assert_eq!(sign[0].concerning, Concerning::Request(no));
    assert_eq!(
        w.list("li.guowei", later).await.count(Task::ReviewRequest),
        0
    );
    assert_eq!(w.list("cai.peiling", later).await.items, Vec::new());

    querywarden_app::request::consent_request(
        &w.desk(),
        w.p("yang.shuling"),
        no,
        querywarden_app::request::Consent::Give,
        later,
        "c",
    )
    .await
    .unwrap()
    .unwrap();
    // The consent (a sign-off read with every open request's in one statement) moves it on.
    let after = at(date(2026, 3, 2), 11);
    assert_eq!(
        w.list("yang.shuling", after).await.count(Task::SignRequest),
        0
    );
    let li = w.list("li.guowei", after).await;
    let review = of(&li, Task::ReviewRequest);
    assert_eq!(review.len(), 1);
    assert_eq!(review[0].concerning, Concerning::Request(no));
    assert_eq!(
        w.list("xu.wenjie", after).await.count(Task::ReviewRequest),
        0,
        "the unit's reviewer, not its supervisor"
    );
}
