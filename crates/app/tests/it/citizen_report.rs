//! A citizen's access report (個人資料保護法 §10, §13): the trail a subject left across units,
//! Form 3 and key rotations is reported exactly, §10 withholding hides a registration until its
//! date, and each entry's proof verifies offline against the signed checkpoint.
//!
//! The trail is written the way the registration and execution use cases write it (rows plus
//! audit records carrying the subject digest), so the report is tested on what it reads.

use crate::common::world_derefs_to_org;
use jiff::{SignedDuration, Timestamp};
use querywarden_app::audit::export::verify_export;
use querywarden_app::auth::AuthContext;
use querywarden_app::citizen_report::{self, CitizenReport, RequestInput, Stamp};
use querywarden_app::config::RawAudit;
use querywarden_app::{KeyRing, custody};
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::catalogue::{LegalBasisId, ServiceItemCode};
use querywarden_domain::citizen_report::{EntryKind, StaffShown};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::Person;
use querywarden_domain::registration::{Origin, Parties, RegistrationNo, RequestNo};
use querywarden_domain::roc_date::{RocDate, taipei_date};
use querywarden_storage::{NewQueryRequest, NewRegistration};
use querywarden_testkit::org::{self, Org, audit, audit_all, t0};

const BASIS: &str = "social-assistance-44-3-1";

fn at(hours: i64) -> Timestamp {
    t0() + SignedDuration::from_hours(hours)
}

/// A valid citizen ID `A1nnnnnnnC`.
fn nid(n: u32) -> NationalId {
    NationalId::parse(&org::nid("A1", n)).unwrap()
}

struct World {
    org: Org,
    cal: HolidayCalendar,
    regs: u32,
}

world_derefs_to_org!(World, mut);

impl World {
    async fn new() -> World {
        World {
            org: Org::on_disk(t0()).await,
            cal: HolidayCalendar::seeded().unwrap(),
            regs: 0,
        }
    }

    fn by(&self, a: &str) -> Actor {
        Actor {
            person: self.p(a).id,
            role: None,
        }
    }

    /// A registration filed by `account` in their unit, with its creation record, as
    /// `registration::insert_one` writes it.
    async fn register(&mut self, account: &str, subject: &NationalId, when: Timestamp) -> String {
        self.regs += 1;
        let no = RegistrationNo::new(115, self.regs).unwrap();
        let p = self.p(account).clone();
        let digest = self.keys.subject_digest(subject);
        let sealed = custody::seal(&self.keys, b"{}", &format!("subject:{no}")).unwrap();
        let mut tx = self.store.begin().await.unwrap();
        tx.insert_registration(&NewRegistration {
            no,
            date: taipei_date(when),
            created_at: when,
            subject_digest: digest.hex.clone(),
            subject_key_id: digest.key_id.clone(),
            linked_subject_digest: None,
            subject: sealed,
            items: [ServiceItemCode::parse("C0101").unwrap()].into(),
            legal_basis: LegalBasisId::new(BASIS).unwrap(),
            relevance: "低收入戶資格審查".into(),
            case_no: Some("115社助字第12號".into()),
            companion_basis: None,
            no_case_reason: None,
            parties: Parties {
                applicant: p.id,
                needer: p.id,
                querier: p.id,
            },
            approving_unit: p.unit.clone(),
            origin: Origin::Internal,
            batch: None,
            second_approval_required: false,
            findings: vec![],
        })
        .await
        .unwrap();
        let mut e = AuditEvent::system(when, AuditAction::RegistrationCreated, "r")
            .by(self.by(account))
            .on("registration", no.to_string());
        e.subject = Some(digest);
        tx.append_audit(&e).await.unwrap();
        tx.commit().await.unwrap();
        no.to_string()
    }

    /// `contact` extends request `no` at t0, giving `reason`: the new due date.
    async fn extend(
        &self,
        contact: &Person,
        no: &str,
        reason: &str,
    ) -> Result<RocDate, citizen_report::Refusal> {
        citizen_report::extend(&self.store, &self.cal, contact, no, reason, stamp(t0()))
            .await
            .unwrap()
    }

    /// `contact` records `input` at t0 (`auth` checks any signature), refused or not.
    async fn record_request(
        &self,
        auth: Option<&AuthContext>,
        contact: &Person,
        input: &RequestInput,
    ) -> Result<String, citizen_report::Refusal> {
        citizen_report::record_request(
            &self.store,
            &self.keys,
            auth,
            &self.cal,
            contact,
            input,
            stamp(t0()),
        )
        .await
        .unwrap()
    }

    /// A record on a registration carrying the subject, as execution and custody write them.
    async fn touch(&self, account: &str, action: AuditAction, no: &str, s: &NationalId, h: i64) {
        let mut e = AuditEvent::system(at(h), action, "r")
            .by(self.by(account))
            .on("registration", no)
            .detail("result", 1);
        e.subject = Some(self.keys.subject_digest(s));
        let mut tx = self.store.begin().await.unwrap();
        tx.append_audit(&e).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// A Form 3 request from 鹽埕區公所 listing `subjects`; its record carries no subject (it
    /// lists several), as `request::file` writes it.
    async fn form3(&self, subjects: &[&NationalId]) -> String {
        let no = RequestNo::new(115, 1).unwrap();
        let p = self.p("cai.peiling");
        let mut tx = self.store.begin().await.unwrap();
        let id = tx
            .insert_request(&NewQueryRequest {
                no,
                created_at: at(5),
                date: taipei_date(at(5)),
                requesting_unit: p.unit.clone(),
                applicant: p.id,
                applicant_title: "課員".into(),
                phone: "07-5512345".into(),
                fax: None,
                responsible_unit: self.p("li.guowei").unit.clone(),
                legal_basis: LegalBasisId::new(BASIS).unwrap(),
                relevance: "急難救助審核".into(),
                items: [ServiceItemCode::parse("C0101").unwrap()].into(),
                subject_count: subjects.len(),
            })
            .await
            .unwrap();
        for (i, s) in subjects.iter().enumerate() {
            let d = self.keys.subject_digest(s);
            let sealed = custody::seal(&self.keys, b"{}", &format!("rs:{i}")).unwrap();
            tx.insert_request_subject(id, i as i64 + 1, &d.hex, &d.key_id, &sealed)
                .await
                .unwrap();
        }
        let e = AuditEvent::system(at(5), AuditAction::RequestCreated, "r")
            .by(self.by("cai.peiling"))
            .on("request", no.to_string())
            .detail("subjects", subjects.len());
        tx.append_audit(&e).await.unwrap();
        tx.commit().await.unwrap();
        no.to_string()
    }

    async fn refused(&self, action: &str) -> Vec<String> {
        let mut all = self.outcomes(action).await;
        all.retain(|o| o.starts_with("refused:"));
        all
    }
}

fn stamp(now: Timestamp) -> Stamp<'static> {
    Stamp {
        now,
        request_id: "req-cr",
    }
}

fn roc(y: i16, m: i8, d: i8) -> RocDate {
    RocDate::from_civil(jiff::civil::date(y, m, d)).unwrap()
}

/// The registrations a subject's trail leaves, in the order the report lists them.
struct Trail {
    r1: String,
    r2: String,
    r3: String,
    req: String,
    withheld: String,
}

/// The trail: three units (社會救助科, 老人福利科 and, after a key rotation, 資訊小組), a Form 3
/// request from 鹽埕區公所, another subject's noise, and a registration to be withheld.
async fn leave_the_trail(w: &mut World, subject: &NationalId, other: &NationalId) -> Trail {
    let r1 = w.register("lin.meiling", subject, at(0)).await;
    w.touch("lin.meiling", AuditAction::QuerySent, &r1, subject, 1)
        .await;
    w.touch("lin.meiling", AuditAction::ResultPrinted, &r1, subject, 2)
        .await;
    w.touch("lin.meiling", AuditAction::ResultPrinted, &r1, subject, 3)
        .await;
    let r2 = w.register("li.guowei", subject, at(4)).await;
    w.touch("li.guowei", AuditAction::ResultViewed, &r2, subject, 4)
        .await;
    let req = w.form3(&[other, subject]).await;
    let noise = w.register("lin.meiling", other, at(6)).await;
    w.touch("lin.meiling", AuditAction::ResultPrinted, &noise, other, 6)
        .await;
    w.keys = KeyRing::rotate(&w.key_dir(), at(7)).unwrap();
    let r3 = w.register("wu.zhiming", subject, at(8)).await;
    let withheld = w.register("lin.meiling", subject, at(9)).await;
    w.touch(
        "lin.meiling",
        AuditAction::ResultPrinted,
        &withheld,
        subject,
        9,
    )
    .await;
    Trail {
        r1,
        r2,
        r3,
        req,
        withheld,
    }
}

/// `who` marks registration `withheld` as withheld until 2026-06-01 for `reason`, at 10:00.
async fn mark_until_june(
    w: &World,
    who: &Person,
    withheld: &str,
    reason: &str,
) -> Result<(), citizen_report::Refusal> {
    citizen_report::withhold(
        &w.store,
        who,
        withheld,
        Some(roc(2026, 6, 1)),
        reason,
        stamp(at(10)),
    )
    .await
    .unwrap()
}

/// §10: the approving unit's supervisor marks `withheld` until 2026-06-01; a date and a reason
/// are both required, another unit's supervisor may not, and only the ethics office sees marks.
async fn withhold_until_june(w: &World, withheld: &str) {
    let chen = w.p("chen.jianhong").clone();
    let no_reason = mark_until_june(w, &chen, withheld, " ").await;
    assert_eq!(
        no_reason.unwrap_err().code(),
        "citizen_report.withholding_without_reason"
    );
    let not_theirs = mark_until_june(w, w.p("li.guowei"), withheld, "家暴案件").await;
    assert_eq!(not_theirs.unwrap_err().code(), "citizen_report.not_allowed");
    mark_until_june(w, &chen, withheld, "家暴案件偵辦中")
        .await
        .unwrap();
    assert_eq!(
        w.refused("citizen_report.withholding.marked").await.len(),
        2,
        "both refusals are audited"
    );
    // The ethics office sees every mark; nobody else does.
    let marks = citizen_report::withholdings(&w.store, w.p("zheng.zhihao"), stamp(at(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].registration_no, withheld);
    assert_eq!(marks[0].reason, "家暴案件偵辦中");
    let denied = citizen_report::withholdings(&w.store, w.p("lin.meiling"), stamp(at(10)))
        .await
        .unwrap();
    assert_eq!(denied.unwrap_err().code(), "citizen_report.not_allowed");
}

/// §13: the personal-data contact 張淑惠 records, at `now`, the subject's request made in
/// person with an ID card and received on `received`.
async fn the_subject_asks_in_person(
    w: &World,
    subject: &NationalId,
    asked: &str,
    received: RocDate,
    now: Timestamp,
) -> String {
    citizen_report::record_request(
        &w.store,
        &w.keys,
        None,
        &w.cal,
        w.p("zhang.shuhui"),
        &RequestInput {
            national_id: subject.expose_whole().to_string(),
            identity_check: Some("in_person_id_card".into()),
            asked: asked.into(),
            received,
            signed: None,
        },
        stamp(now),
    )
    .await
    .unwrap()
    .unwrap()
}

/// The contact officer produces the report on request `no` at `now`.
async fn report_at(w: &World, no: &str, shown: StaffShown, now: Timestamp) -> CitizenReport {
    citizen_report::produce_report(
        &w.store,
        &w.keys,
        &RawAudit::default(),
        w.p("zhang.shuhui"),
        no,
        shown,
        stamp(now),
    )
    .await
    .unwrap()
    .unwrap()
}

fn registration_object(no: &str) -> String {
    format!("registration {no}")
}

/// Before the §10 date: exactly the trail, due fifteen days on, the withheld registration and
/// its print left out without the citizen being told, units only.
fn assert_the_trail_without_the_withheld(report: &CitizenReport, t: &Trail) {
    assert_eq!(report.due_on, roc(2026, 3, 18));
    let got: Vec<(EntryKind, String, String)> = report
        .entries
        .iter()
        .map(|e| (e.kind, e.object.clone(), e.unit.clone()))
        .collect();
    let reg = |n: &str| registration_object(n);
    let expected = vec![
        (
            EntryKind::Registration,
            reg(&t.r1),
            "社會救助科".to_string(),
        ),
        (EntryKind::Execution, reg(&t.r1), "社會救助科".to_string()),
        (EntryKind::Print, reg(&t.r1), "社會救助科".to_string()),
        (EntryKind::Print, reg(&t.r1), "社會救助科".to_string()),
        (
            EntryKind::Registration,
            reg(&t.r2),
            "老人福利科".to_string(),
        ),
        (EntryKind::View, reg(&t.r2), "老人福利科".to_string()),
        (
            EntryKind::Form3Request,
            format!("request {}", t.req),
            "高雄市鹽埕區公所".to_string(),
        ),
        (EntryKind::Registration, reg(&t.r3), "資訊小組".to_string()),
    ];
    assert_eq!(got, expected);
    assert_eq!(
        report.withheld, 2,
        "the withheld registration and its print"
    );
    // §10: what the citizen receives does not say that anything was withheld.
    let sent = serde_json::to_value(report).unwrap();
    assert!(sent.get("withheld").is_none(), "{sent}");
    assert!(
        !sent.to_string().contains(&t.withheld),
        "the withheld number is not in it"
    );
    assert!(
        report.entries.iter().all(|e| e.staff.is_none()),
        "unit only by default"
    );
    assert_eq!(report.entries[0].legal_basis.as_deref(), Some(BASIS));
    assert_eq!(report.entries[0].items, vec!["C0101".to_string()]);
    assert!(
        report.entries[0]
            .at
            .starts_with("民國 115 年 3 月 2 日 10:00"),
        "{}",
        report.entries[0].at
    );
}

/// The proofs: one export per entry, each verifies offline against the appendix's signed
/// checkpoint, and an altered entry does not.
fn assert_each_entry_proves_itself(report: &CitizenReport, keys: &KeyRing) {
    assert_eq!(report.appendix.entries.len(), report.entries.len());
    for (e, p) in report.entries.iter().zip(&report.appendix.entries) {
        assert_eq!(e.seq, p.seq);
        let ok = verify_export(&p.export, &report.appendix.checkpoint, keys.verifiers()).unwrap();
        assert_eq!(ok.records, 1);
    }
    let altered = report.appendix.entries[2]
        .export
        .replace("result.printed", "result.viewed");
    assert_ne!(altered, report.appendix.entries[2].export);
    assert!(verify_export(&altered, &report.appendix.checkpoint, keys.verifiers()).is_err());
}

/// On the §10 disclosure date the withheld registration and its print are listed again, here
/// with staff names; producing the report is audited each time.
async fn on_the_disclosure_date_the_withheld_is_listed(w: &World, no: &str, withheld: &str) {
    let later = "2026-06-01T01:00:00Z".parse().unwrap();
    let report = report_at(w, no, StaffShown::NameAndUnit, later).await;
    assert_eq!(report.withheld, 0);
    assert_eq!(report.entries.len(), 10);
    let tail: Vec<_> = report.entries[8..]
        .iter()
        .map(|e| (e.kind, e.object.clone()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (EntryKind::Registration, registration_object(withheld)),
            (EntryKind::Print, registration_object(withheld))
        ]
    );
    assert_eq!(
        report.entries[0].staff.as_deref(),
        Some(w.p("lin.meiling").name.as_str())
    );
    let produced = audit(&w.store, "citizen_report.produced").await;
    assert_eq!(produced.len(), 2, "producing a report is audited each time");
}

#[tokio::test]
async fn the_report_lists_exactly_the_subjects_trail_and_a_withheld_registration_only_after_its_date()
 {
    let mut w = World::new().await;
    let subject = nid(1_234_567);
    let other = nid(7_654_321);
    let trail = leave_the_trail(&mut w, &subject, &other).await;
    withhold_until_june(&w, &trail.withheld).await;
    let asked = "本人勞保資料被查詢之紀錄";
    let no = the_subject_asks_in_person(&w, &subject, asked, roc(2026, 3, 3), at(24)).await;

    let report = report_at(&w, &no, StaffShown::UnitOnly, at(25)).await;
    assert_the_trail_without_the_withheld(&report, &trail);
    assert_each_entry_proves_itself(&report, &w.keys);
    on_the_disclosure_date_the_withheld_is_listed(&w, &no, &trail.withheld).await;

    // Answering is recorded once, with the date.
    let contact = w.p("zhang.shuhui").clone();
    let answered = citizen_report::answer(&w.store, &contact, &no, stamp(at(26)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answered, roc(2026, 3, 3));
    let again = citizen_report::answer(&w.store, &contact, &no, stamp(at(27)))
        .await
        .unwrap();
    assert_eq!(again.unwrap_err().code(), "citizen_report.already_answered");
}

#[tokio::test]
async fn bad_requests_and_a_second_extension_are_refused_audited_and_change_nothing() {
    let w = World::new().await;
    let contact = w.p("zhang.shuhui").clone();
    let input = |id: &str, check: Option<&str>| RequestInput {
        national_id: id.into(),
        identity_check: check.map(str::to_string),
        asked: "查詢紀錄".into(),
        received: roc(2026, 3, 4),
        signed: None,
    };
    let good = nid(1_111_111);
    let cases = [
        (
            input("A123456788", Some("moica_signed")),
            "national_id.check_digit",
        ),
        (
            input(good.expose_whole(), None),
            "citizen_report.no_identity_check",
        ),
    ];
    for (i, want) in cases {
        let r = w.record_request(None, &contact, &i).await;
        assert_eq!(r.unwrap_err().code(), want);
    }
    let not_contact = w
        .record_request(
            None,
            w.p("lin.meiling"),
            &input(good.expose_whole(), Some("in_person_id_card")),
        )
        .await;
    assert_eq!(
        not_contact.unwrap_err().code(),
        "citizen_report.not_allowed"
    );
    assert_eq!(w.refused("citizen_report.request.recorded").await.len(), 3);

    let no = w
        .record_request(
            None,
            &contact,
            &input(good.expose_whole(), Some("in_person_id_card")),
        )
        .await
        .unwrap();
    let blank = w.extend(&contact, &no, "").await;
    assert_eq!(
        blank.unwrap_err().code(),
        "citizen_report.extension_without_reason"
    );
    // Wednesday 3/4 + 15 = Thursday 3/19; + 15 = Friday 4/3, a holiday → Tuesday 4/7.
    let due = w.extend(&contact, &no, "須調閱多個單位紀錄").await.unwrap();
    assert_eq!(due, roc(2026, 4, 7));
    let second = w.extend(&contact, &no, "再延").await;
    assert_eq!(
        second.unwrap_err().code(),
        "citizen_report.second_extension"
    );
    let row = w.store.citizen_request(&no).await.unwrap().unwrap();
    assert_eq!(row.due_on, roc(2026, 4, 7));
    assert_eq!(row.previous_due_on, Some(roc(2026, 3, 19)));
    assert_eq!(w.refused("citizen_report.request.extended").await.len(), 2);
    // The national ID is never in the trail in clear.
    let all = audit_all(&w.store).await;
    assert!(
        all.iter()
            .all(|r| !String::from_utf8_lossy(&r.entry).contains(good.expose_whole()))
    );
}

/// Trust material of a demo CA, as a deployment's MOICA anchors and CRL would be.
fn demo_trust() -> (
    querywarden_pki::demo_ca::DemoCa,
    querywarden_app::auth::AuthContext,
) {
    use querywarden_pki::{RevocationList, TrustAnchors};
    let ca = querywarden_pki::demo_ca::DemoCa::generate(t0()).unwrap();
    let anchors = TrustAnchors::from_pem_bundle(ca.anchors_pem().as_bytes()).unwrap();
    let crl = RevocationList::from_der_or_pem(&ca.crl(&[], t0()).unwrap()).unwrap();
    let config = querywarden_app::config::RawConfig::default()
        .validate()
        .unwrap();
    let ctx = querywarden_app::auth::AuthContext::new(&config, anchors, vec![crl]).unwrap();
    (ca, ctx)
}

#[tokio::test]
async fn a_request_signed_with_the_subjects_own_card_is_accepted_and_any_other_is_refused() {
    use base64::Engine;
    use querywarden_pki::SignatureFormat;
    let w = World::new().await;
    let (ca, ctx) = demo_trust();
    let contact = w.p("zhang.shuhui").clone();
    let subject = nid(2_345_678);
    let own = ca.issue_citizen("王小明", subject.last4(), t0()).unwrap();
    let someone_else = ca.issue_citizen("李大同", "0001", t0()).unwrap();
    let text = "本人王小明請求查詢本人勞保資料被查調之紀錄。";
    let sign = |card: &querywarden_pki::demo_ca::DemoCard, what: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(card.sign(what.as_bytes(), SignatureFormat::Pkcs7).unwrap())
    };
    let input = |signed: Option<citizen_report::SignedRequest>| RequestInput {
        national_id: subject.expose_whole().into(),
        identity_check: Some("moica_signed".into()),
        asked: "查詢紀錄".into(),
        received: roc(2026, 3, 2),
        signed,
    };
    let signed = |text: &str, signature: String| {
        Some(citizen_report::SignedRequest {
            text: text.into(),
            signature,
        })
    };
    let mut tampered = base64::engine::general_purpose::STANDARD
        .decode(sign(&own, text))
        .unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let cases = [
        (input(None), "citizen_report.signature_missing"),
        (
            input(signed(text, sign(&someone_else, text))),
            "citizen_report.card_not_subjects",
        ),
        (
            // Signed text altered after signing.
            input(signed(&text.replace("王小明", "王大明"), sign(&own, text))),
            "citizen_report.signature_invalid",
        ),
        (
            input(signed(
                text,
                base64::engine::general_purpose::STANDARD.encode(&tampered),
            )),
            "citizen_report.signature_invalid",
        ),
        (
            input(signed(text, "not base64 at all!".into())),
            "citizen_report.signature_invalid",
        ),
    ];
    for (i, want) in cases {
        let r = w.record_request(Some(&ctx), &contact, &i).await;
        assert_eq!(r.unwrap_err().code(), want);
    }
    // Without trust anchors a signature cannot be checked, so it is not taken on trust.
    let unverifiable = w
        .record_request(None, &contact, &input(signed(text, sign(&own, text))))
        .await;
    assert_eq!(
        unverifiable.unwrap_err().code(),
        "citizen_report.signature_invalid"
    );
    assert_eq!(w.refused("citizen_report.request.recorded").await.len(), 6);
    assert!(w.store.citizen_requests().await.unwrap().is_empty());

    let no = w
        .record_request(Some(&ctx), &contact, &input(signed(text, sign(&own, text))))
        .await
        .unwrap();
    let row = w.store.citizen_request(&no).await.unwrap().unwrap();
    assert_eq!(row.identity_check, "moica_signed");
    assert_eq!(
        row.signer_sha256.as_deref(),
        Some(own.citizen().unwrap().fingerprint_sha256.as_str())
    );
}

/// The daily deadline job (§13: fifteen days to answer) run at 10:00 Asia/Taipei on 2026-`m`-`d`;
/// how many notices it sent.
async fn the_deadline_job_on(w: &World, m: i8, d: i8) -> usize {
    use querywarden_app::citizen_report::deadlines::remind_and_escalate;
    use querywarden_app::permission::Op;
    let on = Op::new(
        format!("2026-{m:02}-{d:02}T02:00:00Z").parse().unwrap(),
        "job",
    );
    remind_and_escalate(&w.store, &w.cal, &on).await.unwrap()
}

#[tokio::test]
async fn the_deadline_job_reminds_the_officer_once_and_escalates_once_when_missed() {
    use querywarden_app::citizen_report::deadlines::{ESCALATION, REMINDER};
    let w = World::new().await;
    let contact = w.p("zhang.shuhui").clone();
    // Wednesday 3/4 + 15 = Thursday 3/19.
    let no =
        the_subject_asks_in_person(&w, &nid(3_456_789), "查詢紀錄", roc(2026, 3, 4), t0()).await;
    let director = w
        .store
        .persons()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.account.as_str() == "zhou.wenhua")
        .unwrap();
    let object = format!("citizen_request:{no}");
    let kinds = async |id| {
        w.store
            .notices_of(id)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.object == object)
            .map(|n| n.kind)
            .collect::<Vec<_>>()
    };
    // Friday 3/13: four working days left (3/16–3/19), nothing yet.
    assert_eq!(the_deadline_job_on(&w, 3, 13).await, 0);
    // Monday 3/16: three left, the officer is reminded — once.
    assert_eq!(the_deadline_job_on(&w, 3, 16).await, 1);
    assert_eq!(the_deadline_job_on(&w, 3, 17).await, 0);
    assert_eq!(kinds(contact.id).await, vec![REMINDER.to_string()]);
    // The last day itself is not late.
    assert_eq!(the_deadline_job_on(&w, 3, 19).await, 0);
    // Friday 3/20, unanswered: the officer, who heads 秘書室 herself, and the director.
    assert_eq!(the_deadline_job_on(&w, 3, 20).await, 2);
    assert_eq!(the_deadline_job_on(&w, 3, 23).await, 0);
    let mut got = kinds(contact.id).await;
    got.sort();
    assert_eq!(got, vec![REMINDER.to_string(), ESCALATION.to_string()]);
    assert_eq!(kinds(director.id).await, vec![ESCALATION.to_string()]);
    // Shown in the notices of the oversight page, where both already look.
    let shown = querywarden_app::oversight::dashboard::notices(&w.store, &director)
        .await
        .unwrap();
    assert!(
        shown
            .iter()
            .any(|n| n.kind == ESCALATION && n.object == object)
    );
    for action in [
        "citizen_report.request.reminded",
        "citizen_report.request.escalated",
    ] {
        let n = audit(&w.store, action).await.len();
        assert_eq!(n, 1, "{action}");
    }
}

#[tokio::test]
async fn self_service_shows_the_subjects_report_and_audits_every_attempt_with_the_address() {
    use base64::Engine;
    use querywarden_app::citizen_report::self_service::{
        SelfServiceInput, SelfServiceLimiter, report,
    };
    use querywarden_pki::SignatureFormat;
    let mut w = World::new().await;
    let (ca, ctx) = demo_trust();
    let subject = nid(4_567_890);
    let reg = w.register("lin.meiling", &subject, at(0)).await;
    let limiter = SelfServiceLimiter::per_hour(3);
    let policy = RawAudit::default();
    let card = ca.issue_citizen("王小明", subject.last4(), t0()).unwrap();
    let flow = "f".repeat(40);
    let attempt = async |nonce: String, signature: String| {
        report(
            &w.store,
            &w.keys,
            Some(&ctx),
            &policy,
            &limiter,
            &SelfServiceInput {
                national_id: subject.expose_whole().into(),
                nonce,
                signature,
                flow_token: flow.clone(),
                client_addr: Some("192.0.2.7".into()),
            },
            at(1),
            "ss",
        )
        .await
        .unwrap()
    };
    let (nonce, _) = querywarden_app::auth::issue_nonce(&w.store, &ctx, &flow, at(1))
        .await
        .unwrap();
    let sig = base64::engine::general_purpose::STANDARD
        .encode(card.sign(nonce.as_bytes(), SignatureFormat::Pkcs7).unwrap());
    let shown = attempt(nonce.clone(), sig.clone()).await.unwrap();
    assert_eq!(shown.entries.len(), 1);
    assert_eq!(shown.entries[0].object, format!("registration {reg}"));
    assert!(
        serde_json::to_value(&shown)
            .unwrap()
            .get("withheld")
            .is_none()
    );
    // Replayed: the challenge is spent.
    let replay = attempt(nonce, sig).await.unwrap_err();
    assert_eq!(replay.code(), "citizen_report.challenge");
    // A signature over another challenge than the one presented.
    let (nonce2, _) = querywarden_app::auth::issue_nonce(&w.store, &ctx, &flow, at(1))
        .await
        .unwrap();
    let wrong = base64::engine::general_purpose::STANDARD
        .encode(card.sign(b"another text", SignatureFormat::Pkcs7).unwrap());
    assert_eq!(
        attempt(nonce2.clone(), wrong).await.unwrap_err().code(),
        "citizen_report.signature_invalid"
    );
    // The fourth attempt within the hour from this address is refused before any check.
    assert_eq!(
        attempt(nonce2, String::new()).await.unwrap_err().code(),
        "citizen_report.rate_limited"
    );
    let records = audit(&w.store, "citizen_report.self_service.viewed").await;
    assert_eq!(records.len(), 4, "shown and refused alike");
    let outcomes: Vec<&str> = records.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("refused:"))
            .count(),
        3,
        "{outcomes:?}"
    );
    for r in &records {
        let entry = String::from_utf8_lossy(&r.entry);
        assert!(entry.contains("192.0.2.7"), "the address is recorded");
        assert!(
            !entry.contains(subject.expose_whole()),
            "never the ID in clear"
        );
    }
}
