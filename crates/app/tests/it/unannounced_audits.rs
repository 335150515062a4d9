//! Unannounced audits, Form 4 (§8), against a real database file: an audit from opening to
//! the director's review, and every refusal — refused, audited, nothing changed.

use crate::common::world_derefs_to_org;
use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use querywarden_app::execution::{self, PortalReport};
use querywarden_app::oversight::unannounced_audit::{
    self as audits, AuditError, AuditSettings, OpenAuditRequest,
};
use querywarden_app::permission::Op;
use querywarden_app::registration::{
    self, Desk, FixedGrants, QueryPurpose, RegisterQueryRequest, RegistrationSettings, ScreenList,
};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::oversight::unannounced_audit::{
    AuditId, AuditState, SamplingMethod, SignOffStep, UnannouncedAudit, director_chair, draw_sample,
};
use querywarden_domain::registration::RegistrationNo;
use querywarden_domain::roc_date::taipei_day_start_utc;
use querywarden_testkit::org::{self, Org, contains, t0};

const BASIS: &str = "social-assistance-44-3-1";
const PDF: &[u8] = b"%PDF-1.7\n%supporting document: case file 115-social-12\n%%EOF";

/// 10:00 Asia/Taipei on day `d` of April 2026 (民國 115 年 4 月).
fn april(d: i8) -> Timestamp {
    jiff::civil::date(2026, 4, d)
        .at(2, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
}

fn op(at: Timestamp) -> Op {
    Op::new(at, "req-audit")
}

fn nid(n: u32) -> String {
    org::nid("A1", n)
}

struct World {
    org: Org,
    settings: AuditSettings,
    /// lin.meiling's executed registrations, in order.
    cases: Vec<RegistrationNo>,
}

world_derefs_to_org!(World);

impl World {
    /// The demo organisation; lin.meiling (社會救助科) registers, chen.jianhong approves, and
    /// lin records four portal executions in March 2026.
    async fn new() -> World {
        let org = Org::on_disk(t0()).await;
        org.open_sessions(&["lin.meiling"], t0()).await;
        let (store, keys) = (&org.store, &org.keys);
        let lin = org.p("lin.meiling").clone();
        let item = ServiceItemCode::parse("C0101").unwrap();
        let grants = FixedGrants([(lin.id, BTreeSet::from([item.clone()]))].into());
        let reg_settings = RegistrationSettings::default();
        let screen = ScreenList::new();
        let desk = Desk {
            store,
            keys,
            settings: &reg_settings,
            grants: &grants,
            screen: &screen,
        };
        let mut cases = Vec::new();
        for n in 0..4u32 {
            let form = RegisterQueryRequest {
                subject_name: "王大同".into(),
                subject_id: nid(1_000 + n),
                linked_id: None,
                purpose: QueryPurpose {
                    items: vec!["C0101".into()],
                    legal_basis: BASIS.into(),
                    relevance: format!("低收入戶資格審查第 {n} 案，需核對申請人之投保資料與薪資"),
                    case_no: Some(format!("115社助字第{n}號")),
                    companion_basis: None,
                    no_case_reason: None,
                    needer: None,
                    querier: lin.id.into(),
                },
            };
            let at = t0() + SignedDuration::from_hours(i64::from(n) * 24);
            let reg = registration::register(&desk, &lin, &form, at, "r")
                .await
                .unwrap()
                .unwrap();
            let cap = registration::approver_of(&desk, org.p("chen.jianhong"), reg.no)
                .await
                .unwrap()
                .unwrap();
            registration::approve(&desk, cap, Some("同意"), at, "a")
                .await
                .unwrap()
                .unwrap();
            let who = org::signed_in(&lin, t0());
            let report = PortalReport {
                items: Some(BTreeSet::from([item.clone()])),
                queried_at: Some(at),
                ..Default::default()
            };
            execution::record_portal_execution(&desk, &who, reg.no, &report, at, "x")
                .await
                .unwrap()
                .unwrap();
            cases.push(reg.no);
        }
        World {
            org,
            settings: AuditSettings {
                max_attachment_bytes: 1024,
            },
            cases,
        }
    }

    /// Form 4 for lin.meiling's March, audited by the IT group's wu.zhiming.
    fn form(&self) -> OpenAuditRequest {
        OpenAuditRequest {
            period_from: "115/3/1".into(),
            period_to: "115/3/31".into(),
            audit_date: "115/4/1".into(),
            querier: "lin.meiling".into(),
            auditing_unit: "it-group".into(),
            auditing_unit_phone: "07-3368333#2101".into(),
            auditors: vec!["wu.zhiming".into()],
            documents_deadline: "115/4/10".into(),
            cases: 2,
            method: "uniform".into(),
            weights: BTreeMap::new(),
            seed: Some(42),
        }
    }

    async fn open(&self) -> AuditId {
        audits::open_audit(
            &self.store,
            self.p("wu.zhiming"),
            &self.form(),
            &op(april(1)),
        )
        .await
        .unwrap()
        .id
    }

    async fn attach(
        &self,
        who: &str,
        id: AuditId,
        case: RegistrationNo,
        name: &str,
        bytes: &[u8],
        at: Timestamp,
    ) -> Result<audits::DocumentLine, AuditError> {
        audits::attach_document(
            &self.store,
            &self.keys,
            &self.settings,
            self.p(who),
            id,
            &case.to_string(),
            name,
            bytes,
            &op(at),
        )
        .await
    }

    /// §8: `who` writes the opinion on one sampled case on `at`.
    async fn case_opinion(
        &self,
        who: &str,
        id: AuditId,
        case: &str,
        conforms: bool,
        text: &str,
        at: Timestamp,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::record_case_opinion(&self.store, self.p(who), id, case, conforms, text, &op(at))
            .await
    }

    /// §8: `who` writes the overall opinion on `at`.
    async fn overall_opinion(
        &self,
        who: &str,
        id: AuditId,
        violation_found: bool,
        text: &str,
        at: Timestamp,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::record_overall_opinion(&self.store, self.p(who), id, violation_found, text, &op(at))
            .await
    }

    /// Form 4's sign-off `step`, by `who` on `at`.
    async fn sign_off(
        &self,
        who: &str,
        id: AuditId,
        step: SignOffStep,
        at: Timestamp,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::sign_off(&self.store, self.p(who), id, step, &op(at)).await
    }

    /// The director's review, or `who`'s attempt at one, on `at`.
    async fn review(
        &self,
        who: &str,
        id: AuditId,
        comment: &str,
        at: Timestamp,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::review(&self.store, self.p(who), id, comment, &op(at)).await
    }

    async fn refusals(&self, code: &str) -> usize {
        let mut n = 0;
        for action in [
            "oversight.audit.created",
            "oversight.audit.document_attached",
            "oversight.audit.documents_submitted",
            "oversight.finding.recorded",
            "oversight.audit.signed_off",
            "oversight.audit.viewed",
        ] {
            n += self
                .audit(action)
                .await
                .iter()
                .filter(|r| r.outcome == format!("refused:{code}"))
                .count();
        }
        n
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, AuditError>) -> &'static str {
    r.unwrap_err().code()
}

/// §8: wu.zhiming opens the audit; the seeded draw repeats from the same candidates, and the
/// querier — nobody else — is told now, exactly once.
async fn open_and_tell_only_the_querier(w: &World) -> UnannouncedAudit {
    let lin = w.p("lin.meiling").id;
    assert!(
        w.store.unread_notices(lin).await.unwrap().is_empty(),
        "nobody tells the querier before the audit opens"
    );
    let audit = audits::open_audit(&w.store, w.p("wu.zhiming"), &w.form(), &op(april(1)))
        .await
        .unwrap();
    assert_eq!(audit.state, AuditState::Documents);
    assert_eq!(audit.seed, 42);
    assert_eq!(audit.cases.len(), 2);
    // Anyone holding the seed repeats the draw from the same candidates.
    let candidates = w
        .store
        .audit_candidates(lin, taipei_day_start_utc(audit.plan.period_from), april(1))
        .await
        .unwrap();
    assert_eq!(candidates.len(), 4);
    let again = draw_sample(&candidates, 2, SamplingMethod::Uniform, 42);
    let drawn: Vec<_> = audit.cases.iter().map(|c| c.registration).collect();
    assert_eq!(drawn, again);

    let notices = w.store.unread_notices(lin).await.unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].kind, "audit.opened");
    assert_eq!(notices[0].object, format!("unannounced_audit:{}", audit.id));
    for other in ["chen.jianhong", "huang.yating"] {
        assert!(
            w.store
                .unread_notices(w.p(other).id)
                .await
                .unwrap()
                .is_empty()
        );
    }
    audit
}

/// The querier attaches a supporting document to `case`: sealed at rest, name included, and
/// the auditor reads it back whole.
async fn the_querier_attaches_a_sealed_document(w: &World, id: AuditId, case: RegistrationNo) {
    let doc = w
        .attach("lin.meiling", id, case, "公文掃描.pdf", PDF, april(3))
        .await
        .unwrap();
    assert_eq!(doc.content_type, "application/pdf");
    assert!(
        !contains(&w.db_bytes(), b"supporting document: case file"),
        "the document is sealed at rest"
    );
    assert!(
        !contains(&w.db_bytes(), "公文掃描".as_bytes()),
        "so is its name"
    );
    let view = audits::audit_for(&w.store, &w.keys, w.p("wu.zhiming"), id, &op(april(3)))
        .await
        .unwrap();
    assert_eq!(view.documents.len(), 1);
    assert_eq!(view.documents[0].file_name, "公文掃描.pdf");
    assert_eq!(view.querier_supervisor, Some(w.p("chen.jianhong").id));
    assert_eq!(view.auditing_supervisor, Some(w.p("zhang.shuhui").id));
    let opened = audits::document_for(
        &w.store,
        &w.keys,
        w.p("wu.zhiming"),
        id,
        doc.id,
        &op(april(3)),
    )
    .await
    .unwrap();
    assert_eq!(opened.bytes, PDF);
}

/// The documents close, the auditor finds every case conforming, and the four sign-offs
/// follow in Form 4's order.
async fn opinions_without_violation_and_the_four_sign_offs(w: &World, audit: &UnannouncedAudit) {
    audits::submit_documents(&w.store, w.p("lin.meiling"), audit.id, &op(april(4)))
        .await
        .unwrap();
    for c in &audit.cases {
        let text = "登記、核准在查調之前，用途相符";
        w.case_opinion(
            "wu.zhiming",
            audit.id,
            &c.no.to_string(),
            true,
            text,
            april(5),
        )
        .await
        .unwrap();
    }
    let a = w
        .overall_opinion(
            "wu.zhiming",
            audit.id,
            false,
            "抽查案件均符合規定",
            april(5),
        )
        .await
        .unwrap();
    assert_eq!(a.state, AuditState::SigningOff(SignOffStep::Querier));
    assert_eq!(a.overall.as_ref().map(|o| o.violation_found), Some(false));
    for (step, who) in [
        (SignOffStep::Querier, "lin.meiling"),
        (SignOffStep::Auditor, "wu.zhiming"),
        (SignOffStep::QuerierSupervisor, "chen.jianhong"),
        (SignOffStep::AuditingSupervisor, "zhang.shuhui"),
    ] {
        w.sign_off(who, audit.id, step, april(6)).await.unwrap();
    }
}

/// The director has something to do: the audit waits for his review until he gives it.
async fn the_director_reviews(w: &World, id: AuditId) {
    let chair = director_chair(w.p("zhou.wenhua")).unwrap();
    let waiting = audits::awaiting_review(&w.store, &chair).await.unwrap();
    assert_eq!(waiting.iter().map(|a| a.id).collect::<Vec<_>>(), vec![id]);
    let reviewed = w
        .review("zhou.wenhua", id, "准予備查", april(7))
        .await
        .unwrap();
    assert_eq!(reviewed.state, AuditState::Reviewed);
    assert_eq!(
        reviewed.review.as_ref().and_then(|r| r.comment.clone()),
        Some("准予備查".into())
    );
    assert!(
        audits::awaiting_review(&w.store, &chair)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(reviewed.sign_offs.len(), 4);
}

#[tokio::test]
async fn an_audit_goes_from_opening_to_the_directors_review_and_is_then_read_only() {
    let w = World::new().await;
    let audit = open_and_tell_only_the_querier(&w).await;
    let case = audit.cases[0].no;
    the_querier_attaches_a_sealed_document(&w, audit.id, case).await;
    opinions_without_violation_and_the_four_sign_offs(&w, &audit).await;
    the_director_reviews(&w, audit.id).await;

    // Read-only now, whoever tries.
    let before = w.store.unannounced_audit(audit.id).await.unwrap();
    assert_eq!(
        code(
            w.sign_off("lin.meiling", audit.id, SignOffStep::Querier, april(8))
                .await
        ),
        "audit.read_only"
    );
    assert_eq!(
        code(
            w.attach("lin.meiling", audit.id, case, "b.pdf", PDF, april(8))
                .await
        ),
        "audit.read_only"
    );
    assert_eq!(
        code(w.review("zhou.wenhua", audit.id, "", april(8)).await),
        "audit.read_only"
    );
    assert_eq!(w.store.unannounced_audit(audit.id).await.unwrap(), before);
    assert_eq!(w.refusals("audit.read_only").await, 3);

    // Each step left its record.
    let succeeded = |rs: Vec<querywarden_storage::StoredAuditRecord>| {
        rs.iter().filter(|r| r.outcome == "succeeded").count()
    };
    assert_eq!(succeeded(w.audit("oversight.audit.created").await), 1);
    assert_eq!(
        succeeded(w.audit("oversight.audit.document_attached").await),
        1
    );
    assert_eq!(succeeded(w.audit("oversight.finding.recorded").await), 3);
    assert_eq!(succeeded(w.audit("oversight.audit.signed_off").await), 5);
    assert_eq!(succeeded(w.audit("oversight.audit.viewed").await), 1);
    // The database refuses a change to a reviewed record even behind the application's back.
    let c = rusqlite::Connection::open(w.db()).unwrap();
    assert!(
        c.execute(
            "UPDATE unannounced_audits SET overall_text = 'x' WHERE id = ?1",
            [audit.id.get()]
        )
        .is_err()
    );
}

#[tokio::test]
async fn a_weighted_draw_takes_the_weighted_cases_first() {
    let w = World::new().await;
    let mut form = w.form();
    form.method = "weighted".into();
    form.seed = None;
    form.weights = [(w.cases[1].to_string(), 3), (w.cases[3].to_string(), 1)].into();
    let audit = audits::open_audit(&w.store, w.p("zheng.zhihao"), &form, &op(april(1)))
        .await
        .unwrap();
    let drawn: BTreeSet<_> = audit.cases.iter().map(|c| c.no).collect();
    assert_eq!(drawn, BTreeSet::from([w.cases[1], w.cases[3]]));
    let record = &w.audit("oversight.audit.created").await[0];
    let entry = String::from_utf8(record.entry.clone()).unwrap();
    assert!(
        entry.contains(&format!("\"seed\":\"{}\"", audit.seed)),
        "the seed is in the trail"
    );
    assert!(entry.contains("\"seed_source\":\"system\""));
    // Anyone can repeat the draw from what the audit recorded; a tampered order fails.
    let zheng = w.p("zheng.zhihao").clone();
    let repeats = async || {
        audits::audit_for(&w.store, &w.keys, &zheng, audit.id, &op(april(1)))
            .await
            .unwrap()
            .draw_repeats
    };
    assert!(repeats().await);
    w.sql(&format!(
        "UPDATE unannounced_audit_cases SET position = 100 WHERE audit_id = {0} AND position = 1;
         UPDATE unannounced_audit_cases SET position = 1 WHERE audit_id = {0} AND position = 2;
         UPDATE unannounced_audit_cases SET position = 2 WHERE audit_id = {0} AND position = 100;",
        audit.id
    ));
    assert!(!repeats().await);
}

#[tokio::test]
async fn opening_is_refused_and_audited_for_outsiders_bad_fields_and_auditors_who_are_parties() {
    let w = World::new().await;
    let zheng = w.p("zheng.zhihao").id;
    // chen.jianhong (the querier's own supervisor) also made an ethics auditor.
    w.sql(&format!(
        "INSERT INTO person_roles (person_id, role) VALUES ({}, 'ethics_auditor')",
        w.p("chen.jianhong").id
    ));
    type Row = (
        &'static str,
        &'static str,
        fn(&mut OpenAuditRequest),
        &'static str,
    );
    let table: Vec<Row> = vec![
        ("a querier", "lin.meiling", |_| {}, "audit.not_audit_office"),
        (
            "the director",
            "zhou.wenhua",
            |_| {},
            "audit.not_audit_office",
        ),
        (
            "a bad date",
            "wu.zhiming",
            |f| f.audit_date = "115/13/1".into(),
            "audit.date",
        ),
        (
            "an unknown auditor",
            "wu.zhiming",
            |f| f.auditors = vec!["nobody.here".into()],
            "audit.unknown_person",
        ),
        (
            "an auditor without an auditing role",
            "wu.zhiming",
            |f| f.auditors = vec!["huang.yating".into()],
            "audit.auditor_role",
        ),
        (
            "a business section as the auditing unit",
            "wu.zhiming",
            |f| f.auditing_unit = "social-work".into(),
            "audit.auditing_unit",
        ),
        (
            "the period after the audit date",
            "wu.zhiming",
            |f| f.period_to = "115/4/30".into(),
            "audit.period",
        ),
        (
            "the administrator auditing himself",
            "wu.zhiming",
            |f| f.querier = "wu.zhiming".into(),
            "audit.party.self",
        ),
        (
            "an auditor of the querier's own unit",
            "wu.zhiming",
            |f| f.auditors = vec!["chen.jianhong".into()],
            "audit.party.own_unit",
        ),
        (
            "a querier with nothing in the period",
            "wu.zhiming",
            |f| {
                f.period_from = "115/1/1".into();
                f.period_to = "115/1/31".into();
            },
            "audit.no_cases",
        ),
        (
            "an unknown sampling method",
            "wu.zhiming",
            |f| f.method = "favourites".into(),
            "audit.sampling",
        ),
    ];
    for (name, opener, edit, want) in table {
        let mut form = w.form();
        edit(&mut form);
        let got = audits::open_audit(&w.store, w.p(opener), &form, &op(april(1))).await;
        assert_eq!(code(got), want, "{name}");
        assert!(w.refusals(want).await >= 1, "{name} is audited");
    }
    // An auditor who approved one of the cases (the approval moved to zheng.zhihao).
    w.sql(&format!(
        "UPDATE registration_decisions SET person_id = {} WHERE id = (SELECT min(id) FROM registration_decisions)",
        zheng.get()
    ));
    let mut form = w.form();
    form.auditing_unit = "ethics".into();
    form.auditors = vec!["zheng.zhihao".into()];
    assert_eq!(
        code(audits::open_audit(&w.store, w.p("zheng.zhihao"), &form, &op(april(1))).await),
        "audit.party.approver"
    );
    assert_eq!(w.refusals("audit.party.approver").await, 1);
    // Nothing was opened, nobody was told.
    assert!(w.store.unannounced_audits(None).await.unwrap().is_empty());
    assert!(
        w.store
            .unread_notices(w.p("lin.meiling").id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// One misfiled attachment: what it is, who attaches it, to which case, its name and bytes,
/// when, and the refusal it gets.
type Misfiled<'a> = (
    &'a str,
    &'a str,
    RegistrationNo,
    &'a str,
    Vec<u8>,
    Timestamp,
    &'a str,
);

/// The attachments the desk refuses: the wrong type, too large, a path in the name, after the
/// documents deadline (115/4/10), by the auditor, and to a case not sampled.
fn misfiled_attachments(
    case: RegistrationNo,
    not_sampled: RegistrationNo,
) -> Vec<Misfiled<'static>> {
    let big = [PDF, &[b' '; 1024]].concat();
    vec![
        (
            "wrong type",
            "lin.meiling",
            case,
            "notes.pdf",
            b"just text".to_vec(),
            april(2),
            "audit.attachment.type",
        ),
        (
            "too large",
            "lin.meiling",
            case,
            "a.pdf",
            big,
            april(2),
            "audit.attachment.too_large",
        ),
        (
            "a path in the name",
            "lin.meiling",
            case,
            "../../etc/a.pdf",
            PDF.to_vec(),
            april(2),
            "audit.attachment.path",
        ),
        (
            "after the deadline",
            "lin.meiling",
            case,
            "a.pdf",
            PDF.to_vec(),
            april(11),
            "audit.deadline_passed",
        ),
        (
            "by the auditor",
            "wu.zhiming",
            case,
            "a.pdf",
            PDF.to_vec(),
            april(2),
            "audit.not_querier",
        ),
        (
            "a case not sampled",
            "lin.meiling",
            not_sampled,
            "a.pdf",
            PDF.to_vec(),
            april(2),
            "audit.case_not_sampled",
        ),
    ]
}

#[tokio::test]
async fn attachments_of_the_wrong_type_too_large_with_a_path_late_or_by_another_are_refused() {
    let w = World::new().await;
    let id = w.open().await;
    let audit = w.store.unannounced_audit(id).await.unwrap().unwrap();
    let case = audit.cases[0].no;
    let not_sampled = *w
        .cases
        .iter()
        .find(|c| audit.cases.iter().all(|s| s.no != **c))
        .unwrap();
    for (name, who, c, file, bytes, at, want) in misfiled_attachments(case, not_sampled) {
        assert_eq!(
            code(w.attach(who, id, c, file, &bytes, at).await),
            want,
            "{name}"
        );
        assert_eq!(w.refusals(want).await, 1, "{name} is audited once");
    }
    assert!(w.store.audit_documents(id).await.unwrap().is_empty());
    // Whatever is typed as the case, the trail only ever names a registration number.
    let typed = nid(4_242_424);
    let got = audits::attach_document(
        &w.store,
        &w.keys,
        &w.settings,
        w.p("lin.meiling"),
        id,
        &typed,
        "a.pdf",
        PDF,
        &op(april(2)),
    )
    .await;
    assert_eq!(code(got), "audit.case_not_sampled");
    assert!(!contains(&w.db_bytes(), typed.as_bytes()));
    // An upload too large for the web layer to read is refused and audited the same way.
    assert_eq!(
        code(
            audits::refuse_oversized_document(
                &w.store,
                &w.settings,
                w.p("lin.meiling"),
                id,
                &op(april(2))
            )
            .await
        ),
        "audit.attachment.too_large"
    );
    assert_eq!(w.refusals("audit.attachment.too_large").await, 2);
    // After the querier closes the documents, nothing more is attached.
    audits::submit_documents(&w.store, w.p("lin.meiling"), id, &op(april(3)))
        .await
        .unwrap();
    assert_eq!(
        code(
            w.attach("lin.meiling", id, case, "a.pdf", PDF, april(3))
                .await
        ),
        "audit.documents_closed"
    );
    assert!(w.store.audit_documents(id).await.unwrap().is_empty());
}

/// Before the opinions open and by anyone not entitled: opinions wait for the documents
/// (deadline 115/4/10, not submitted), then open only for this audit's auditors; sign-offs
/// and the review are not open; §9: someone who may not read the audit cannot learn that it
/// exists, while the trail keeps the reason. None of it changes the audit.
async fn everything_out_of_turn_before_the_opinions_is_refused(
    w: &World,
    audit: &UnannouncedAudit,
    case: &str,
) {
    let id = audit.id;
    assert_eq!(
        code(
            w.case_opinion("wu.zhiming", id, case, true, "符合", april(5))
                .await
        ),
        "audit.opinions_not_open"
    );
    assert_eq!(
        code(
            w.case_opinion("zheng.zhihao", id, case, true, "符合", april(11))
                .await
        ),
        "audit.not_assigned_auditor"
    );
    assert_eq!(
        code(
            w.overall_opinion("wu.zhiming", id, false, "符合", april(11))
                .await
        ),
        "audit.opinions_not_open"
    );
    assert_eq!(
        code(
            w.sign_off("lin.meiling", id, SignOffStep::Querier, april(11))
                .await
        ),
        "audit.sign_off.not_open"
    );
    assert_eq!(
        code(w.review("zhou.wenhua", id, "", april(11)).await),
        "audit.not_awaiting_review"
    );
    let hidden_before = w.refusals("audit.not_visible").await;
    assert_eq!(
        code(audits::audit_for(&w.store, &w.keys, w.p("huang.yating"), id, &op(april(11))).await),
        "audit.not_found"
    );
    assert_eq!(
        code(
            w.sign_off("huang.yating", id, SignOffStep::Querier, april(11))
                .await
        ),
        "audit.not_found"
    );
    assert_eq!(w.refusals("audit.not_visible").await, hidden_before + 2);
    assert_eq!(
        w.store.unannounced_audit(id).await.unwrap().unwrap(),
        *audit
    );
}

/// The auditor finds a violation on 4/11: the overall opinion waits for every case's opinion,
/// and once written (§8 ¶2) it opens its violation case itself — one, against the querier
/// audited, from this audit, with the ten days counted from the day it was written down
/// (2026-04-11, a Saturday: 行政程序法 §48 moves the tenth day, 04-21, to no later day). The
/// refused attempt opens none, nor does a retried request.
async fn a_violation_found_opens_exactly_one_case(w: &World, audit: &UnannouncedAudit) {
    let id = audit.id;
    let case = audit.cases[0].no.to_string();
    w.case_opinion("wu.zhiming", id, &case, true, "符合", april(11))
        .await
        .unwrap();
    assert_eq!(
        code(
            w.overall_opinion("wu.zhiming", id, true, "違規", april(11))
                .await
        ),
        "audit.cases_without_opinion"
    );
    let second = audit.cases[1].no.to_string();
    w.case_opinion("wu.zhiming", id, &second, false, "查調後未歸檔", april(11))
        .await
        .unwrap();
    let a = w
        .overall_opinion("wu.zhiming", id, true, "一件違反第六點", april(11))
        .await
        .unwrap();
    assert_eq!(a.overall.as_ref().map(|o| o.violation_found), Some(true));
    let lin = w.p("lin.meiling").id;
    let cases = w.store.violations(Some(lin)).await.unwrap();
    assert_eq!(cases.len(), 1, "{cases:?}");
    let case = &cases[0];
    assert_eq!(case.case.source, "audit");
    assert_eq!(case.case.source_ref, Some(id.get()));
    assert_eq!(case.case.opened_by, w.p("wu.zhiming").id);
    assert_eq!(case.state, "awaiting_report");
    assert!(case.case.due_on > jiff::civil::date(2026, 4, 11));
    assert!(!case.case.evidence.contains("查調後未歸檔"));
    let opened = w.audit("oversight.violation.opened").await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].outcome, "succeeded");
    assert_eq!(opened[0].object_id, case.id.to_string());
    // Recorded again (a retried request): refused, since the sign-offs have begun.
    assert_eq!(
        code(
            w.overall_opinion("wu.zhiming", id, true, "違規", april(11))
                .await
        ),
        "audit.opinions_not_open"
    );
    assert_eq!(w.store.violations(Some(lin)).await.unwrap().len(), 1);
}

/// Form 4's sign-offs out of order or by the wrong person are refused, audited, and leave the
/// audit unsigned.
async fn sign_offs_out_of_turn_change_nothing(w: &World, id: AuditId) {
    let before = w.store.unannounced_audit(id).await.unwrap().unwrap();
    let tries = [
        (
            SignOffStep::Auditor,
            "wu.zhiming",
            "audit.sign_off.out_of_order",
        ),
        (
            SignOffStep::QuerierSupervisor,
            "chen.jianhong",
            "audit.sign_off.out_of_order",
        ),
        // huang may not even read it: answered as an audit that does not exist (§9).
        (SignOffStep::Querier, "huang.yating", "audit.not_found"),
        (
            SignOffStep::Querier,
            "wu.zhiming",
            "audit.sign_off.not_signer",
        ),
        (
            SignOffStep::Querier,
            "zhang.shuhui",
            "audit.sign_off.not_signer",
        ),
    ];
    for (step, who, want) in tries {
        assert_eq!(
            code(w.sign_off(who, id, step, april(12)).await),
            want,
            "{step:?} by {who}"
        );
    }
    assert_eq!(w.refusals("audit.sign_off.out_of_order").await, 2);
    assert_eq!(w.refusals("audit.sign_off.not_signer").await, 2);
    assert_eq!(
        w.store.unannounced_audit(id).await.unwrap().unwrap(),
        before
    );
    assert!(
        w.store
            .unannounced_audit(id)
            .await
            .unwrap()
            .unwrap()
            .sign_offs
            .is_empty()
    );
}

#[tokio::test]
async fn opinions_sign_offs_and_the_review_out_of_turn_are_refused_audited_and_change_nothing() {
    let w = World::new().await;
    let id = w.open().await;
    let audit = w.store.unannounced_audit(id).await.unwrap().unwrap();
    let case = audit.cases[0].no.to_string();
    everything_out_of_turn_before_the_opinions_is_refused(&w, &audit, &case).await;
    a_violation_found_opens_exactly_one_case(&w, &audit).await;
    sign_offs_out_of_turn_change_nothing(&w, id).await;
    // The director cannot review before the four sign-offs; a supervisor cannot review at all.
    w.sign_off("lin.meiling", id, SignOffStep::Querier, april(12))
        .await
        .unwrap();
    assert_eq!(
        code(w.review("zhou.wenhua", id, "", april(12)).await),
        "audit.not_awaiting_review"
    );
    assert_eq!(
        code(w.review("chen.jianhong", id, "", april(12)).await),
        "audit.not_director"
    );
    assert_eq!(w.refusals("audit.not_director").await, 1);
}

#[tokio::test]
async fn the_audit_list_shows_each_reader_only_what_they_may_see() {
    let w = World::new().await;
    let id = w.open().await;
    for (who, sees) in [
        ("lin.meiling", true),
        ("wu.zhiming", true),
        ("zheng.zhihao", true),
        ("zhou.wenhua", true),
        ("chen.jianhong", true),
        ("huang.yating", false),
        ("li.guowei", false),
    ] {
        let list = audits::audits_for(&w.store, w.p(who)).await.unwrap();
        assert_eq!(list.iter().any(|a| a.id == id), sees, "{who}");
    }
}
