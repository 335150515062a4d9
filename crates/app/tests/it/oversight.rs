//! Oversight end to end (§7, §8 ¶2): a simulated quarter of registrations, portal executions
//! and the platform's usage log with planted irregularities, reconciled across an HMAC key
//! rotation into exactly the planted findings; the quarterly review concluded and closed with
//! its report to 勞工局; violation cases with the ten-day corrective report; refusals audited
//! with nothing changed; and the recertification usage count that must see today's queries.

use crate::common::{self, world_derefs_to_org};
use std::collections::BTreeMap;

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use querywarden_app::KeyRing;
use querywarden_app::auth::SignedIn;
use querywarden_app::config::OversightSettings;
use querywarden_app::execution::{self, PortalReport};
use querywarden_app::grants::StoreGrants;
use querywarden_app::oversight::review::{
    ConcludeFindingRequest, LaborBureauReport, ReviewView, close_review, conclude_finding,
    open_due_review, review_view,
};
use querywarden_app::oversight::violation::{
    FileViolationRequest, decide_report, file_violation, remind_and_escalate, submit_report,
};
use querywarden_app::permission::{Op, PermissionPolicy};
use querywarden_app::registration::{
    self, Desk, QueryPurpose, RegisterQueryRequest, RegistrationSettings, ScreenList,
};
use querywarden_bli::usage_log::ColumnMapping;
use querywarden_domain::NationalId;
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::{Person, PersonId};
use querywarden_domain::oversight::review::{FindingRule, ReviewRefusal};
use querywarden_domain::oversight::violation::{ViolationRefusal, ViolationSource};
use querywarden_domain::permission::SuspensionCause;
use querywarden_domain::permission::recertification::RecertificationItem;
use querywarden_domain::registration::RegistrationNo;
use querywarden_domain::roc_date::{RocDate, taipei_day_start_utc};
use querywarden_storage::{SessionRow, Store};
use querywarden_testkit::org::{self, Org};

const BASIS: &str = "social-assistance-44-3-1";

/// 10:00 Asia/Taipei on `d` plus `mins`.
fn at(d: Date, hour: i64, mins: i64) -> Timestamp {
    taipei_day_start_utc(RocDate::from_civil(d).unwrap())
        + SignedDuration::from_hours(hour)
        + SignedDuration::from_mins(mins)
}

/// A valid citizen ID `A2nnnnnnnC`.
fn nid(n: u32) -> String {
    org::nid("A2", n)
}

fn session_row(p: &Person) -> SessionRow {
    org::session_row(p, at(date(2026, 1, 2), 8, 0))
}

struct World {
    org: Org,
    settings: RegistrationSettings,
    grants: StoreGrants,
    screen: ScreenList,
    /// Platform usage-log rows, CSV, in the simulator's layout.
    usage: Vec<String>,
    seq: u32,
}

world_derefs_to_org!(World, mut);

impl World {
    /// The demo organisation; lin.meiling (社會救助科) and li.guowei (長青科) hold every item
    /// from 2026-01-02 through a real Form 1.
    async fn new() -> World {
        let t = at(date(2026, 1, 2), 9, 0);
        let org = Org::in_memory(t).await;
        org.grant_demo_queriers(t).await;
        org.open_sessions_for_everyone(at(date(2026, 1, 2), 8, 0))
            .await;
        World {
            grants: StoreGrants::new(org.store.clone()),
            org,
            settings: RegistrationSettings::default(),
            screen: ScreenList::new(),
            usage: Vec::new(),
            seq: 0,
        }
    }

    /// `filer` files the case `req` at `t`: its id, or the refusal.
    async fn file(
        &self,
        cal: &HolidayCalendar,
        filer: &Person,
        req: &FileViolationRequest,
        t: Timestamp,
    ) -> Result<i64, ViolationRefusal> {
        file_violation(&self.store, cal, filer, req, &op(t))
            .await
            .unwrap()
    }

    /// `who` submits `text` as the corrective report of case `id` at `t`.
    async fn report(
        &self,
        who: &Person,
        id: i64,
        text: &str,
        t: Timestamp,
    ) -> Result<(), ViolationRefusal> {
        submit_report(&self.store, who, id, text, &op(t))
            .await
            .unwrap()
    }

    /// `admin` accepts the report of case `id` at `t`, or returns it with `note`.
    async fn decide(
        &self,
        admin: &Person,
        id: i64,
        note: Option<&str>,
        t: Timestamp,
    ) -> Result<(), ViolationRefusal> {
        decide_report(&self.store, admin, id, note, &op(t))
            .await
            .unwrap()
    }

    /// `who` concludes review finding `finding` with `req` at `t`: the case it opened, if any.
    async fn conclude(
        &self,
        who: &Person,
        finding: i64,
        req: &ConcludeFindingRequest,
        t: Timestamp,
    ) -> Result<Option<i64>, ReviewRefusal> {
        conclude_finding(&self.store, who, finding, req, &op(t))
            .await
            .unwrap()
    }

    fn desk(&self) -> Desk<'_, StoreGrants> {
        common::desk(&self.org, &self.settings, &self.grants, &self.screen)
    }

    fn supervisor_of(querier: &str) -> &'static str {
        if querier == "lin.meiling" {
            "chen.jianhong"
        } else {
            "xu.wenjie"
        }
    }

    /// Registered at `t`, approved five minutes later by the querier's supervisor, run on the
    /// portal ten minutes after `t`.
    async fn query(
        &mut self,
        querier: &str,
        subject: &str,
        item: &str,
        t: Timestamp,
    ) -> RegistrationNo {
        self.seq += 1;
        let form = RegisterQueryRequest {
            subject_name: "王大同".into(),
            subject_id: subject.into(),
            linked_id: None,
            purpose: QueryPurpose {
                items: vec![item.into()],
                legal_basis: BASIS.into(),
                relevance: format!(
                    "第 {} 號低收入戶申請案，須查核投保資料以核算家庭總收入",
                    self.seq
                ),
                case_no: None,
                companion_basis: None,
                no_case_reason: Some("受理初審階段，尚未分案編號".into()),
                needer: None,
                querier: self.p(querier).id.into(),
            },
        };
        let no = registration::register(&self.desk(), self.p(querier), &form, t, "r")
            .await
            .unwrap()
            .unwrap()
            .no;
        let approver = self.p(Self::supervisor_of(querier)).clone();
        let cap = registration::approver_of(&self.desk(), &approver, no)
            .await
            .unwrap()
            .unwrap();
        registration::approve(
            &self.desk(),
            cap,
            None,
            t + SignedDuration::from_mins(5),
            "r",
        )
        .await
        .unwrap()
        .unwrap();
        let who = SignedIn {
            session: session_row(self.p(querier)),
            person: self.p(querier).clone(),
        };
        let ran = t + SignedDuration::from_mins(10);
        let report = PortalReport {
            queried_at: Some(ran),
            ..PortalReport::default()
        };
        execution::record_portal_execution(&self.desk(), &who, no, &report, ran, "r")
            .await
            .unwrap()
            .unwrap();
        no
    }

    /// A row of the platform's usage log.
    fn platform(&mut self, operator: &str, subject: &str, item: &str, t: Timestamp) {
        self.seq += 1;
        self.usage.push(format!(
            "PLAT-{:06},{},KSSA0001,{operator},{item},{subject},,ok",
            self.seq, t
        ));
    }

    /// A registered query and its platform row two minutes after it ran (the operator
    /// account alternates between the Form 1 e-government account and the sign-in account).
    async fn query_seen(&mut self, querier: &str, subject: &str, item: &str, t: Timestamp) {
        self.query(querier, subject, item, t).await;
        let operator = if self.seq.is_multiple_of(2) {
            format!("demo-{querier}")
        } else {
            querier.to_string()
        };
        self.platform(&operator, subject, item, t + SignedDuration::from_mins(12));
    }

    async fn import_usage(&self, now: Timestamp) {
        let csv = format!(
            "record_id,at,agency_code,operator_account,item,subject_id,request_id,outcome\n{}\n",
            self.usage.join("\n")
        );
        querywarden_app::usage_log::import(
            &self.store,
            &self.keys,
            &ColumnMapping::default(),
            None,
            &csv,
            now,
            "import",
        )
        .await
        .unwrap()
        .unwrap();
    }

    async fn audit_records(&self) -> u64 {
        self.store.audit_extent().await.unwrap().0
    }

    /// chen (as a supervisor at `t`) opens this quarter's recertification at `opened`.
    async fn chen_recertifies(&self, t: Timestamp, opened: Timestamp) -> Vec<RecertificationItem> {
        let policy = PermissionPolicy::default();
        let chen = self.p("chen.jianhong").id;
        let desk = querywarden_app::permission::supervisor_desk(&self.store, &policy, chen, &op(t))
            .await
            .unwrap();
        querywarden_app::permission::recertification::open_recertification(
            &self.store,
            &policy,
            &desk,
            &op(opened),
        )
        .await
        .unwrap()
        .1
    }
}

fn op(t: Timestamp) -> Op {
    Op::new(t, "op")
}

/// lin.meiling's own national ID as her Form 1 carries it (the demo invents it from the last
/// four digits on record).
async fn own_id(w: &World, account: &str) -> String {
    let last4 = w
        .store
        .person_id_last4(w.p(account).id)
        .await
        .unwrap()
        .unwrap_or_else(|| "6789".into());
    (0..10_000)
        .map(|n| format!("A1{n:04}{last4}"))
        .find(|s| NationalId::parse(s).is_ok())
        .unwrap()
}

fn working_days(from: Date, to: Date) -> Vec<Date> {
    let cal = HolidayCalendar::seeded().unwrap();
    let mut d = from;
    let mut out = Vec::new();
    while d < to {
        if cal.is_working_day(d) {
            out.push(d);
        }
        d = d.tomorrow().unwrap();
    }
    out
}

/// The ordinary quarter: hundreds of queries in two units, each seen on the platform, plus
/// the planted query at 20:00 (registered, executed, seen). This much of the platform log is
/// imported on 2/11, before the key rotation.
async fn an_ordinary_quarter_with_an_off_hours_query(w: &mut World) {
    let days = working_days(date(2026, 1, 5), date(2026, 2, 27));
    let its = ["C0101", "B0101", "N0101"];
    for i in 0..220u32 {
        let querier = if i.is_multiple_of(2) {
            "lin.meiling"
        } else {
            "li.guowei"
        };
        let d = days[(i as usize) % days.len()];
        let t = at(d, 9, i64::from(i % 30) * 5);
        w.query_seen(querier, &nid(1000 + i), its[(i % 3) as usize], t)
            .await;
    }
    w.query_seen(
        "lin.meiling",
        &nid(5000),
        "C0101",
        at(date(2026, 2, 10), 20, 0),
    )
    .await;
    w.import_usage(at(date(2026, 2, 11), 18, 0)).await;
    w.usage.clear();
}

/// The rows planted after the first import: li queries one subject on three days; lin looks
/// herself up and queries twice on the portal with no registration.
async fn plant_a_repeated_subject_a_self_lookup_and_unregistered_queries(w: &mut World) {
    for d in [date(2026, 2, 2), date(2026, 2, 9), date(2026, 2, 24)] {
        w.query_seen("li.guowei", &nid(6000), "B0101", at(d, 10, 0))
            .await;
    }
    // The registration desk refuses a self-lookup (§4), so it can only happen on the portal,
    // outside the system: unregistered and a self-lookup. It is imported after the key
    // rotation: her Form 1 keeps her ID only as a digest under the old key, the platform's
    // row is digested under the new one.
    let me = own_id(w, "lin.meiling").await;
    w.platform(
        "demo-lin.meiling",
        &me,
        "C0101",
        at(date(2026, 2, 11), 9, 30),
    );
    w.platform(
        "demo-lin.meiling",
        &nid(9001),
        "C0101",
        at(date(2026, 2, 11), 10, 0),
    );
    w.platform(
        "demo-lin.meiling",
        &nid(9002),
        "N0101",
        at(date(2026, 2, 12), 10, 30),
    );
}

/// Planted: li's grants suspended from 3/2; on 3/10 he queries on the portal anyway.
async fn li_queries_after_his_grants_are_suspended(w: &mut World) {
    let li = w.p("li.guowei").id;
    let mut tx = w.store.begin().await.unwrap();
    for g in w.store.grants_of(li).await.unwrap() {
        tx.suspend_grant(
            g.id,
            RocDate::from_civil(date(2026, 3, 2)).unwrap(),
            SuspensionCause::NotRecertified,
            at(date(2026, 3, 2), 8, 0),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    w.platform(
        "demo-li.guowei",
        &nid(9003),
        "C0101",
        at(date(2026, 3, 10), 10, 0),
    );
}

/// §8 ¶2: the quarter's review opens on 4/1 with exactly the eight planted findings, no
/// national ID in clear, and a second run (a restart) opens nothing more.
async fn the_quarters_review_holds_exactly_the_planted(
    w: &World,
    settings: &OversightSettings,
) -> ReviewView {
    let opened = open_due_review(
        &w.store,
        &w.keys,
        settings,
        &op(at(date(2026, 4, 1), 10, 0)),
    )
    .await
    .unwrap();
    assert_eq!(opened, 1);
    let review = w.store.reviews().await.unwrap()[0].clone();
    assert_eq!(review.quarter, "2026-Q1");
    let view = review_view(&w.store, review.id).await.unwrap().unwrap();
    let lin = w.p("lin.meiling").id;
    let li = w.p("li.guowei").id;
    let mut got: Vec<(String, Option<PersonId>)> = view
        .findings
        .iter()
        .map(|f| (f.finding.rule.clone(), f.finding.person))
        .collect();
    got.sort();
    let mut expected: Vec<(String, Option<PersonId>)> = [
        (FindingRule::UnregisteredQuery, lin),
        (FindingRule::UnregisteredQuery, lin),
        (FindingRule::UnregisteredQuery, lin),
        (FindingRule::OffHours, lin),
        (FindingRule::SelfLookup, lin),
        (FindingRule::SubjectRepeated, li),
        (FindingRule::WithoutGrant, li),
        (FindingRule::SuspendedUse, li),
    ]
    .into_iter()
    .map(|(r, p)| (r.code().to_string(), Some(p)))
    .collect();
    expected.sort();
    assert_eq!(got, expected);
    // No national ID in clear in a finding; subjects as digests under the key they match.
    for f in &view.findings {
        assert!(!f.finding.object.contains("A2") && !f.finding.detail.contains("A2"));
    }
    assert_eq!(
        open_due_review(
            &w.store,
            &w.keys,
            settings,
            &op(at(date(2026, 4, 1), 11, 0))
        )
        .await
        .unwrap(),
        0
    );
    view
}

/// A finding concluded as explained by `note`.
fn explained(note: &str) -> ConcludeFindingRequest {
    ConcludeFindingRequest::Explain { note: note.into() }
}

/// The administrator concludes every finding at `t`: the unregistered queries as §5
/// violations (three cases), the rest explained. Only the administrator may conclude, and
/// only once.
async fn the_administrator_concludes_every_finding(w: &World, view: &ReviewView, t: Timestamp) {
    let admin = w.p("wu.zhiming").clone();
    let chen = w.p("chen.jianhong").clone();
    let first = view.findings[0].id;
    let r = w.conclude(&chen, first, &explained("說明"), t).await;
    assert_eq!(r.unwrap_err(), ReviewRefusal::NotAdministrator);
    let mut cases = 0;
    for f in &view.findings {
        let req = if f.finding.rule == FindingRule::UnregisteredQuery.code() {
            ConcludeFindingRequest::Violation {
                rule: "§5 未經登記及主管核准即查調".into(),
                evidence: format!("平臺使用紀錄 {}", f.finding.object),
                suspend_grants: false,
            }
        } else {
            explained("經查證屬實務需要，已說明")
        };
        if w.conclude(&admin, f.id, &req, t).await.unwrap().is_some() {
            cases += 1;
        }
    }
    assert_eq!(cases, 3);
    let r = w.conclude(&admin, first, &explained("再說明"), t).await;
    assert_eq!(r.unwrap_err(), ReviewRefusal::AlreadyConcluded);
}

/// Closing the review as the administrator at `t`, and the audit records it added.
async fn close_counting_records(
    w: &World,
    settings: &OversightSettings,
    review: i64,
    t: Timestamp,
) -> (Result<LaborBureauReport, ReviewRefusal>, u64) {
    let before = w.audit_records().await;
    let r = close_review(
        &w.store,
        &w.keys,
        settings,
        w.p("wu.zhiming"),
        review,
        &op(t),
    )
    .await
    .unwrap();
    (r, w.audit_records().await - before)
}

#[tokio::test]
async fn a_simulated_quarter_yields_exactly_the_planted_findings_across_a_key_rotation() {
    let mut w = World::new().await;
    an_ordinary_quarter_with_an_off_hours_query(&mut w).await;
    plant_a_repeated_subject_a_self_lookup_and_unregistered_queries(&mut w).await;
    li_queries_after_his_grants_are_suspended(&mut w).await;

    // The HMAC key rotates before the usage log is imported: registrations were digested
    // under the old key, the platform's rows under the new one.
    w.keys = KeyRing::rotate(&w.key_dir(), at(date(2026, 3, 31), 9, 0)).unwrap();
    w.import_usage(at(date(2026, 4, 1), 9, 0)).await;

    let settings = OversightSettings::default();
    let view = the_quarters_review_holds_exactly_the_planted(&w, &settings).await;
    let review = view.review.id;

    // The review: closing with findings open is refused, audited, and changes nothing.
    let t = at(date(2026, 4, 7), 10, 0);
    let (r, audited) = close_counting_records(&w, &settings, review, t).await;
    assert_eq!(r.unwrap_err(), ReviewRefusal::FindingsOpen(8));
    assert_eq!(audited, 1);
    assert_eq!(w.store.review(review).await.unwrap().unwrap().state, "open");
    the_administrator_concludes_every_finding(&w, &view, t).await;
    querywarden_app::audit::checkpoint_if_due(
        &w.store,
        &w.keys,
        &querywarden_app::config::RawAudit::default(),
        t,
        true,
    )
    .await
    .unwrap();
    let (report, _) = close_counting_records(&w, &settings, review, t).await;
    let report = report.unwrap();
    assert_eq!(report.findings, 8);
    assert_eq!(report.violations, 3);
    assert_eq!(report.explained, 5);
    // 220 + the off-hours query + three of the repeated subject (the self-lookup ran on the portal only).
    assert!(report.statistics.executions >= 224);
    assert!(report.checkpoint.as_ref().is_some_and(|c| c.size > 0));
    let lin = w.p("lin.meiling").id;
    assert_eq!(w.store.violations(Some(lin)).await.unwrap().len(), 3);
    // After closing: nothing more may change, and each refusal is audited.
    let (r, audited) = close_counting_records(&w, &settings, review, t).await;
    assert_eq!(r.unwrap_err(), ReviewRefusal::Closed);
    assert_eq!(audited, 1);
}

/// A small world for violation cases: no queries needed.
async fn case_world() -> (World, Person, Person, Person) {
    let w = World::new().await;
    let admin = w.p("wu.zhiming").clone();
    let lin = w.p("lin.meiling").clone();
    let chen = w.p("chen.jianhong").clone();
    (w, admin, lin, chen)
}

fn case_request(person: PersonId, source: ViolationSource) -> FileViolationRequest {
    FileViolationRequest {
        person,
        rule: "§6 查調結果以電子郵件傳送".into(),
        evidence: "稽核發現 2026-03-02 之寄件紀錄".into(),
        suspend_grants: false,
        source,
    }
}

#[tokio::test]
async fn a_case_filed_by_the_administrator_is_due_in_ten_days_reported_returned_and_accepted() {
    let (w, admin, lin, chen) = case_world().await;
    let cal = HolidayCalendar::seeded().unwrap();
    // Filed on Tuesday 2026-03-24: day 10 is Friday 4/3, the 兒童節 long weekend → 4/7.
    let filed = at(date(2026, 3, 24), 10, 0);
    let id = w
        .file(
            &cal,
            &admin,
            &case_request(lin.id, ViolationSource::Administrator),
            filed,
        )
        .await
        .unwrap();
    let case = w.store.violation(id).await.unwrap().unwrap();
    assert_eq!(case.case.due_on, date(2026, 4, 7));
    assert_eq!(case.state, "awaiting_report");
    assert!(
        w.store
            .unread_notices(lin.id)
            .await
            .unwrap()
            .iter()
            .any(|n| n.kind == "oversight.violation_opened")
    );
    // Refusals: the wrong person submits (who may not even read the case, so it answers
    // as one that does not exist); the administrator decides before any report.
    let before = w.audit_records().await;
    let t = at(date(2026, 3, 30), 10, 0);
    assert_eq!(
        w.report(&chen, id, "檢討報告", t).await.unwrap_err(),
        ViolationRefusal::NotFound
    );
    assert_eq!(
        w.decide(&admin, id, None, t).await.unwrap_err(),
        ViolationRefusal::NoReportPending
    );
    assert_eq!(w.audit_records().await, before + 2);
    assert_eq!(
        w.store.violation(id).await.unwrap().unwrap().state,
        "awaiting_report"
    );
    // Reported, returned with a note, reported again, accepted.
    w.report(&lin, id, "已刪除郵件並重新接受個資保護訓練", t)
        .await
        .unwrap();
    assert_eq!(
        w.report(&lin, id, "再送一次", t).await.unwrap_err(),
        ViolationRefusal::ReportPending
    );
    w.decide(&admin, id, Some("請補充改正措施與完成日期"), t)
        .await
        .unwrap();
    w.report(&lin, id, "已於 3/31 完成改正並補充說明", t)
        .await
        .unwrap();
    w.decide(&admin, id, None, t).await.unwrap();
    assert_eq!(
        w.store.violation(id).await.unwrap().unwrap().state,
        "accepted"
    );
    // A report after closing is refused, audited, nothing changed.
    let before = w.audit_records().await;
    assert_eq!(
        w.report(&lin, id, "補件", t).await.unwrap_err(),
        ViolationRefusal::Closed
    );
    assert_eq!(w.audit_records().await, before + 1);
    let after = w.store.violation(id).await.unwrap().unwrap();
    assert_eq!(
        after.report.as_deref(),
        Some("已於 3/31 完成改正並補充說明")
    );
}

#[tokio::test]
async fn cases_come_from_a_review_an_audit_or_the_administrator_and_nobody_else_files_them() {
    let (w, admin, lin, chen) = case_world().await;
    let cal = HolidayCalendar::seeded().unwrap();
    let t = at(date(2026, 3, 3), 10, 0);
    // The ethics office may file from its audit; a supervisor may not file at all.
    let ethics = w.p("zheng.zhihao").clone();
    let audit = w
        .file(
            &cal,
            &ethics,
            &case_request(lin.id, ViolationSource::Audit(42)),
            t,
        )
        .await
        .unwrap();
    let row = w.store.violation(audit).await.unwrap().unwrap();
    assert_eq!(
        (row.case.source.as_str(), row.case.source_ref),
        ("audit", Some(42))
    );
    assert_eq!(row.case.due_on, date(2026, 3, 13));
    assert_eq!(
        w.file(
            &cal,
            &chen,
            &case_request(lin.id, ViolationSource::Administrator),
            t
        )
        .await
        .unwrap_err(),
        ViolationRefusal::NotAdministrator
    );
    assert_eq!(
        w.file(
            &cal,
            &admin,
            &case_request(admin.id, ViolationSource::Administrator),
            t
        )
        .await
        .unwrap_err(),
        ViolationRefusal::SelfCase
    );
    assert_eq!(w.store.violations(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unanswered_case_is_reminded_before_its_deadline_and_escalated_after_it_once_each() {
    let (w, admin, lin, chen) = case_world().await;
    let cal = HolidayCalendar::seeded().unwrap();
    // Filed Wednesday 3/4: due Monday 3/16; reminder from Wednesday 3/11.
    let id = w
        .file(
            &cal,
            &admin,
            &case_request(lin.id, ViolationSource::Administrator),
            at(date(2026, 3, 4), 10, 0),
        )
        .await
        .unwrap();
    let run = |d: Date| {
        let store = w.store.clone();
        let cal = cal.clone();
        async move {
            remind_and_escalate(&store, &cal, &op(at(d, 7, 0)))
                .await
                .unwrap()
        }
    };
    assert_eq!(run(date(2026, 3, 10)).await, 0);
    assert_eq!(run(date(2026, 3, 11)).await, 1);
    assert_eq!(run(date(2026, 3, 12)).await, 0, "reminded once");
    // Escalation: the person, the unit's supervisor and the administrator.
    assert_eq!(run(date(2026, 3, 17)).await, 3);
    assert_eq!(run(date(2026, 3, 18)).await, 0, "escalated once");
    let kinds = |p: PersonId| {
        let store = w.store.clone();
        async move {
            store
                .unread_notices(p)
                .await
                .unwrap()
                .into_iter()
                .map(|n| n.kind)
                .collect::<Vec<_>>()
        }
    };
    assert!(
        kinds(chen.id)
            .await
            .contains(&"oversight.report_overdue".to_string())
    );
    assert!(
        kinds(admin.id)
            .await
            .contains(&"oversight.report_overdue".to_string())
    );
    let row = w.store.violation(id).await.unwrap().unwrap();
    assert_eq!(row.reminded_on, Some(date(2026, 3, 11)));
    assert_eq!(row.escalated_on, Some(date(2026, 3, 17)));
}

#[tokio::test]
async fn the_recertification_round_counts_a_query_executed_minutes_before() {
    let mut w = World::new().await;
    let t = at(date(2026, 3, 3), 9, 0);
    w.query("lin.meiling", &nid(77), "B0101", t).await;
    let lines = w
        .chen_recertifies(t, t + SignedDuration::from_mins(20))
        .await;
    let lin = w.p("lin.meiling").id;
    let used: BTreeMap<String, u32> = lines
        .iter()
        .filter(|l| l.person == lin)
        .map(|l| (l.item.as_str().to_string(), l.uses_last_quarter))
        .collect();
    assert_eq!(used.get("B0101"), Some(&1));
    assert_eq!(used.get("C0101"), Some(&0));
    let b = lines
        .iter()
        .find(|l| l.person == lin && l.item.as_str() == "B0101")
        .unwrap();
    assert_eq!(
        b.last_used,
        Some(RocDate::from_civil(date(2026, 3, 3)).unwrap())
    );
}

#[tokio::test]
async fn grants_suspended_with_a_case_are_in_force_again_once_its_report_is_accepted() {
    let (w, admin, lin, _) = case_world().await;
    let cal = HolidayCalendar::seeded().unwrap();
    let t = at(date(2026, 3, 3), 10, 0);
    let today = RocDate::from_civil(date(2026, 3, 3)).unwrap();
    let in_force = |store: Store, p: PersonId| async move {
        store
            .grants_of(p)
            .await
            .unwrap()
            .iter()
            .filter(|g| g.in_force_on(today))
            .count()
    };
    let before = in_force(w.store.clone(), lin.id).await;
    assert!(before > 0);
    let mut req = case_request(lin.id, ViolationSource::Administrator);
    req.suspend_grants = true;
    let id = w.file(&cal, &admin, &req, t).await.unwrap();
    assert_eq!(
        in_force(w.store.clone(), lin.id).await,
        0,
        "§8 ¶2: suspended at once"
    );
    w.report(&lin, id, "已改正", t).await.unwrap();
    assert_eq!(
        in_force(w.store.clone(), lin.id).await,
        0,
        "still suspended while reviewed"
    );
    w.decide(&admin, id, None, t).await.unwrap();
    assert_eq!(in_force(w.store.clone(), lin.id).await, before);
}

#[tokio::test]
async fn grants_unused_for_six_months_are_flagged_and_grants_used_since_are_not() {
    // §7 anomaly rule "grants unused for six months", through its summary query (the last
    // platform record per operator account and item) and the executions recorded here. The
    // period is 2026-Q3; the grants are in force from 2026-01-02, so the cut-off is six months
    // before 2026-09-30.
    let mut w = World::new().await;
    let lin = w.p("lin.meiling").id;
    let li = w.p("li.guowei").id;
    // Used after the cut-off, seen only on the platform (the Form 1 e-government account).
    w.platform(
        "demo-lin.meiling",
        &nid(301),
        "C0101",
        at(date(2026, 5, 11), 10, 0),
    );
    // Used, but before the cut-off: still unused for six months.
    w.platform(
        "demo-lin.meiling",
        &nid(302),
        "B0101",
        at(date(2026, 2, 2), 10, 0),
    );
    // Used after the period: not a use within it.
    w.platform(
        "demo-lin.meiling",
        &nid(303),
        "P0301",
        at(date(2026, 10, 5), 10, 0),
    );
    // Used after the cut-off under the sign-in account.
    w.platform("li.guowei", &nid(304), "B0201", at(date(2026, 6, 1), 10, 0));
    w.import_usage(at(date(2026, 10, 6), 9, 0)).await;
    // Used after the cut-off, recorded here (registered, approved, run on the portal).
    w.query("li.guowei", &nid(305), "N0101", at(date(2026, 4, 6), 10, 0))
        .await;

    let from = at(date(2026, 7, 1), 0, 0);
    let to = at(date(2026, 10, 1), 0, 0);
    let analysis = querywarden_app::oversight::reconciliation::analyse(
        &w.store,
        &w.keys,
        &OversightSettings::default(),
        from,
        to,
    )
    .await
    .unwrap();
    let mut flagged: Vec<(PersonId, String)> = analysis
        .findings
        .iter()
        .filter(|f| f.rule == FindingRule::UnusedGrant.code())
        .map(|f| (f.person.unwrap(), f.detail.clone()))
        .collect();
    flagged.sort();
    let used = [
        (lin, "C0101".to_string()),
        (li, "B0201".to_string()),
        (li, "N0101".to_string()),
    ];
    let mut expected: Vec<(PersonId, String)> = w
        .store
        .all_grants()
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.person, g.item.as_str().to_string()))
        .filter(|k| !used.contains(k))
        .collect();
    expected.sort();
    assert!(expected.contains(&(lin, "B0101".into())));
    assert!(expected.contains(&(lin, "P0301".into())));
    assert!(expected.len() >= 10, "{expected:?}");
    assert_eq!(flagged, expected);
    // Each finding names the grant it is about.
    assert!(
        analysis
            .findings
            .iter()
            .filter(|f| f.rule == FindingRule::UnusedGrant.code())
            .all(|f| f.object.starts_with("grant:"))
    );
}

#[tokio::test]
async fn the_recertification_round_counts_the_platforms_records_by_operator_account() {
    // §2 recertification with §7: a grant's use counts the platform's records of the person's
    // own account in the quarter, and its last use is the latest record ever imported.
    let mut w = World::new().await;
    w.platform(
        "lin.meiling",
        &nid(401),
        "B0101",
        at(date(2026, 2, 2), 10, 0),
    );
    w.platform(
        "lin.meiling",
        &nid(402),
        "B0101",
        at(date(2026, 2, 20), 10, 0),
    );
    // Before the quarter: not counted, but not the last use either.
    w.platform(
        "lin.meiling",
        &nid(403),
        "B0101",
        at(date(2025, 10, 1), 10, 0),
    );
    // Another account's records are not hers.
    w.platform("li.guowei", &nid(404), "C0101", at(date(2026, 2, 3), 10, 0));
    w.import_usage(at(date(2026, 3, 2), 9, 0)).await;
    let t = at(date(2026, 3, 3), 9, 0);
    let lines = w.chen_recertifies(t, t).await;
    let lin = w.p("lin.meiling").id;
    let line = |item: &str| {
        lines
            .iter()
            .find(|l| l.person == lin && l.item.as_str() == item)
            .unwrap()
    };
    assert_eq!(line("B0101").uses_last_quarter, 2);
    assert_eq!(
        line("B0101").last_used,
        Some(RocDate::from_civil(date(2026, 2, 20)).unwrap())
    );
    assert_eq!(line("C0101").uses_last_quarter, 0);
    assert_eq!(line("C0101").last_used, None);
}
