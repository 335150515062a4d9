//! The official office calendar (行政程序法 §48): the administrator loads a year's 辦公日曆表,
//! all or nothing and audited (refusals too); the loaded year replaces the computed one in the
//! calendar deadlines count with; from October the administrators are reminded, once, while
//! next year's table is missing.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use querywarden_app::calendar::{self, MISSING_YEAR_NOTICE};
use querywarden_domain::org::Role;
use querywarden_testkit::Org;

use crate::common::{portal_app, signed_in};

/// 2026-10-05 10:00 Asia/Taipei: October, 2027's table not yet loaded.
fn october() -> Timestamp {
    "2026-10-05T02:00:00Z".parse().unwrap()
}

const WEEKDAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];

/// 2027's table as published: weekends off, 2027-02-08 (Monday) off, 2027-02-20 (Saturday)
/// a make-up working day.
fn table_2027() -> String {
    let mut out = String::from("\u{feff}西元日期,星期,是否放假,備註\n");
    let mut d = Date::new(2027, 1, 1).unwrap();
    while d.year() == 2027 {
        let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
        let (off, note) = match (d.month(), d.day()) {
            (2, 8) => (true, "春節"),
            (2, 20) => (false, "補行上班"),
            _ => (weekend, ""),
        };
        out.push_str(&format!(
            "{},{},{},{}\n",
            d.strftime("%Y%m%d"),
            WEEKDAYS[usize::from(d.weekday().to_monday_zero_offset().unsigned_abs())],
            if off { 2 } else { 0 },
            note
        ));
        d = d.tomorrow().unwrap();
    }
    out
}

/// The outcomes of the calendar loads on record, newest first.
async fn loads(org: &Org) -> Vec<String> {
    org.outcomes("admin.calendar.imported").await
}

#[tokio::test]
async fn a_loaded_year_replaces_the_computed_one_and_stops_the_reminder() {
    let org = Org::on_disk(october()).await;
    let store = &org.store;
    let admin = org.p("wu.zhiming").clone();
    assert!(admin.has_role(Role::PermissionAdministrator));
    let clerk = org.p("lin.meiling").clone();

    // October, 2027 computed only: the administrator is told once, however often the job runs.
    assert_eq!(
        calendar::remind_missing_year(store, october())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        calendar::remind_missing_year(store, october())
            .await
            .unwrap(),
        0
    );
    let notices = store.notices_of(admin.id).await.unwrap();
    assert_eq!(
        notices
            .iter()
            .filter(|n| n.kind == MISSING_YEAR_NOTICE && n.object == "calendar:2027")
            .count(),
        1
    );
    assert!(store.notices_of(clerk.id).await.unwrap().is_empty());

    // Someone else, and a table with a day missing: refused, recorded, nothing loaded.
    let r = calendar::import_csv(store, Some(&clerk), &table_2027(), october(), "r1")
        .await
        .unwrap();
    assert_eq!(r.unwrap_err().code, "calendar.not_administrator");
    let short: String = table_2027()
        .lines()
        .take(300)
        .map(|l| format!("{l}\n"))
        .collect();
    let r = calendar::import_csv(store, Some(&admin), &short, october(), "r2")
        .await
        .unwrap();
    let refusal = r.unwrap_err();
    assert_eq!(refusal.code, "calendar.bad_file");
    assert!(
        refusal.message_zh.contains("全部未匯入"),
        "{}",
        refusal.message_zh
    );
    assert!(calendar::loaded_years(store).await.unwrap().is_empty());
    assert_eq!(
        loads(&org).await,
        vec![
            "refused:calendar.bad_file".to_string(),
            "refused:calendar.not_administrator".to_string()
        ]
    );
    let before = calendar::current(store).await.unwrap();
    assert!(!before.is_official(2027));
    // The seed computed 2027-02-09 as a 春節 day off.
    assert!(!before.is_working_day(Date::new(2027, 2, 9).unwrap()));

    // The whole table: loaded, recorded, and the calendar counts with it.
    let loaded = calendar::import_csv(store, Some(&admin), &table_2027(), october(), "r3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (loaded.year, loaded.holidays, loaded.makeup_workdays),
        (2027, 1, 1)
    );
    assert_eq!(loads(&org).await[0], "succeeded");
    let cal = calendar::current(store).await.unwrap();
    assert!(cal.is_official(2027));
    assert!(!cal.is_working_day(Date::new(2027, 2, 8).unwrap()));
    assert!(cal.is_working_day(Date::new(2027, 2, 9).unwrap()));
    assert!(cal.is_working_day(Date::new(2027, 2, 20).unwrap()));
    let years = calendar::loaded_years(store).await.unwrap();
    assert_eq!(years.len(), 1);
    assert_eq!(years[0].loaded_by, Some(admin.id));

    // Nothing more to remind of this year; next October, 2028 is missing.
    assert_eq!(
        calendar::remind_missing_year(store, october())
            .await
            .unwrap(),
        0
    );
    let next_october: Timestamp = "2027-10-04T02:00:00Z".parse().unwrap();
    assert_eq!(
        calendar::remind_missing_year(store, next_october)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn the_ten_day_report_counts_with_the_loaded_official_year_and_says_when_it_runs_past_the_loaded_years()
 {
    use querywarden_app::oversight::door::FileByAccount;
    use querywarden_app::permission::Op;

    let dir = tempfile::tempdir().unwrap();
    let app = portal_app(&dir).await;
    // Friday 2027-01-29, 10:00 Asia/Taipei: the tenth day is Monday 2027-02-08.
    let friday: Timestamp = "2027-01-29T02:00:00Z".parse().unwrap();
    let wu = signed_in(&app, "wu.zhiming", friday).await;
    let file = |request_id: &'static str, at: Timestamp| {
        let (app, wu) = (&app, &wu);
        async move {
            let id = app
                .oversight()
                .file_violation(
                    wu,
                    FileByAccount {
                        account: "lin.meiling",
                        rule: "§5 查調前未經主管核准".into(),
                        evidence: "115 年第 4 季使用紀錄勾稽：無登記之查詢 1 筆".into(),
                        suspend_grants: false,
                    },
                    &Op::new(at, request_id),
                )
                .await
                .unwrap()
                .unwrap();
            app.oversight()
                .case_for(&wu.person, id, &Op::new(at, "read"))
                .await
                .unwrap()
                .unwrap()
                .case
                .due_on
        }
    };
    let tuesday = Date::new(2027, 2, 9).unwrap();
    // The seed computed 2027-02-09 as a 春節 day off: the deadline cannot end on it.
    let computed = file("v1", friday).await;
    assert_ne!(computed, tuesday);
    // The official table: 2027-02-08 off, 2027-02-09 an office day — the ten days end then.
    calendar::import_csv(app.store(), Some(&wu.person), &table_2027(), friday, "load")
        .await
        .unwrap()
        .unwrap();
    let official = file("v2", friday).await;
    assert_eq!(official, tuesday);
    assert_eq!(app.deadline_beyond_calendar(official).await.unwrap(), None);

    // Opened on 2027-12-28, the report is due in 2028, a year no table lists: the deadline
    // says it was counted with weekends only.
    let december: Timestamp = "2027-12-28T02:00:00Z".parse().unwrap();
    let due = file("v3", december).await;
    assert_eq!(due.year(), 2028);
    assert_eq!(app.deadline_beyond_calendar(due).await.unwrap(), Some(2028));
}
