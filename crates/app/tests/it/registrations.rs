//! Query registration, approval, execution and custody (§4–§6, Forms 2 and 3), path by path
//! and refusal by refusal, against a real database file and the BLI simulator on a real
//! socket.

use crate::common::{self, world_derefs_to_org};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use querywarden_app::auth::SignedIn;
use querywarden_app::execution::{self, ItemOutcome, PortalDocument, PortalReport, ResultContent};
use querywarden_app::registration::{
    self, ApproverOf, Denied, Desk, FixedGrants, PersonChoice, QueryPurpose, RegisterBatchRequest,
    RegisterQueryRequest, RegistrationSettings, ScreenList,
};
use querywarden_app::request;
use querywarden_bli::simulator::{self, SimulatorConfig, SimulatorHandle};
use querywarden_bli::{
    BliRecords, Connector, ConnectorError, HttpConnector, HttpConnectorConfig, QueryRequest,
};
use querywarden_domain::NationalId;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::{Account, Person, PersonId};
use querywarden_domain::registration::{
    Registration, RegistrationNo, RegistrationState, RequestNo,
};
use querywarden_storage::{AuditFilter, ExecutionOutcome, ResultRow, SessionRow};
use querywarden_testkit::org::{self, Org, audit, contains, t0};

const BASIS: &str = "social-assistance-44-3-1";

fn item(s: &str) -> ServiceItemCode {
    ServiceItemCode::parse(s).unwrap()
}

fn items(list: &[&str]) -> BTreeSet<ServiceItemCode> {
    list.iter().map(|s| item(s)).collect()
}

/// A valid citizen ID `A1nnnnnnnC`.
fn nid(n: u32) -> String {
    org::nid("A1", n)
}

/// The demo organisation on disk; lin.meiling and li.guowei hold fixed grants; BLI is the
/// simulator on a real socket.
struct World {
    org: Org,
    settings: RegistrationSettings,
    grants: FixedGrants,
    screen: ScreenList,
    sim: SimulatorHandle,
    bli: HttpConnector,
}

world_derefs_to_org!(World);

const ACCOUNTS: [&str; 9] = [
    "lin.meiling",
    "chen.jianhong",
    "huang.yating",
    "li.guowei",
    "xu.wenjie",
    "cai.peiling",
    "zheng.zhihao",
    "wu.zhiming",
    "yang.shuling",
];

impl World {
    async fn new() -> World {
        Self::with_sim(SimulatorConfig::default()).await
    }

    async fn with_sim(config: SimulatorConfig) -> World {
        let org = Org::on_disk(t0()).await;
        org.open_sessions(&ACCOUNTS, t0()).await;
        let mut grants = BTreeMap::new();
        grants.insert(
            org.p("lin.meiling").id,
            items(&["C0101", "B0101", "B0201", "N0101"]),
        );
        grants.insert(
            org.p("li.guowei").id,
            querywarden_domain::catalogue::seed_service_items()
                .into_iter()
                .map(|i| i.code)
                .collect(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = simulator::spawn(config, listener).await.unwrap();
        let mut cfg = HttpConnectorConfig::new(sim.base_url());
        cfg.max_retries = 0;
        cfg.breaker_threshold = 0;
        let bli = HttpConnector::new(cfg).unwrap();
        World {
            org,
            settings: RegistrationSettings::default(),
            grants: FixedGrants(grants),
            screen: ScreenList::new(),
            sim,
            bli,
        }
    }

    /// huang.yating files the batch `batch` (Form 2 for a list of subjects).
    async fn batch(
        &self,
        batch: &RegisterBatchRequest,
    ) -> Result<Vec<registration::Registered>, Denied> {
        registration::register_batch(&self.desk(), self.p("huang.yating"), batch, t0(), "b")
            .await
            .unwrap()
    }

    /// `who` opens registration `no`'s page.
    async fn view(
        &self,
        who: &str,
        no: RegistrationNo,
    ) -> Result<registration::RegistrationView, Denied> {
        registration::registration_view(&self.desk(), self.p(who), no, t0(), "req-view")
            .await
            .unwrap()
    }

    /// What waits for `who` at `at`.
    async fn inbox(&self, who: &str, at: Timestamp) -> registration::Inbox {
        registration::inbox(&self.desk(), self.p(who), at)
            .await
            .unwrap()
    }

    /// Every registration stored.
    async fn registrations(&self) -> Vec<Registration> {
        self.store.registrations(&Default::default()).await.unwrap()
    }

    /// Registration `no` as stored.
    async fn row(&self, no: RegistrationNo) -> Registration {
        self.store.registration_by_no(no).await.unwrap().unwrap()
    }

    /// The stored C0101 result of registration `no`.
    async fn c0101_result(&self, no: RegistrationNo) -> ResultRow {
        let r = self.row(no).await;
        self.store
            .result_of(r.id, &item("C0101"))
            .await
            .unwrap()
            .unwrap()
    }

    fn desk(&self) -> Desk<'_, FixedGrants> {
        common::desk(&self.org, &self.settings, &self.grants, &self.screen)
    }

    fn signed_in(&self, account: &str) -> SignedIn {
        let p = self.p(account).clone();
        SignedIn {
            session: session_row(&p, "fp-card", false),
            person: p,
        }
    }

    fn form(
        &self,
        subject: &str,
        querier: &str,
        its: &[&str],
        relevance: &str,
    ) -> RegisterQueryRequest {
        RegisterQueryRequest {
            subject_name: "王大同".into(),
            subject_id: subject.into(),
            linked_id: None,
            purpose: QueryPurpose {
                items: its.iter().map(|s| s.to_string()).collect(),
                legal_basis: BASIS.into(),
                relevance: relevance.into(),
                case_no: Some("115社助字第12號".into()),
                companion_basis: None,
                no_case_reason: None,
                needer: None,
                querier: self.p(querier).id.into(),
            },
        }
    }

    async fn register(
        &self,
        applicant: &str,
        form: &RegisterQueryRequest,
    ) -> Result<RegistrationNo, Denied> {
        registration::register(&self.desk(), self.p(applicant), form, t0(), "req-reg")
            .await
            .unwrap()
            .map(|r| r.no)
    }

    /// `who` as the approver of `no`, or why not.
    async fn approver_of(&self, who: &str, no: RegistrationNo) -> Result<ApproverOf, Denied> {
        registration::approver_of(&self.desk(), self.p(who), no)
            .await
            .unwrap()
    }

    async fn approve(&self, who: &str, no: RegistrationNo) -> Result<RegistrationState, Denied> {
        let cap = self.approver_of(who, no).await?;
        registration::approve(&self.desk(), cap, Some("同意"), t0(), "req-ok")
            .await
            .unwrap()
    }

    /// lin registers C0101 of `subject` for herself; it waits for approval.
    async fn lin_registers(&self, subject: &str, relevance: &str) -> RegistrationNo {
        self.register(
            "lin.meiling",
            &self.form(subject, "lin.meiling", &["C0101"], relevance),
        )
        .await
        .unwrap()
    }

    /// lin registers (for herself) and chen approves.
    async fn approved(&self, subject: &str, its: &[&str], relevance: &str) -> RegistrationNo {
        let no = self
            .register(
                "lin.meiling",
                &self.form(subject, "lin.meiling", its, relevance),
            )
            .await
            .unwrap();
        self.approve("chen.jianhong", no).await.unwrap();
        no
    }

    async fn execute(
        &self,
        account: &str,
        no: RegistrationNo,
        at: Timestamp,
    ) -> Result<execution::ExecutionReport, Denied> {
        execution::execute_connected(
            &self.desk(),
            &self.bli,
            &self.signed_in(account),
            no,
            None,
            at,
            "req-exec",
        )
        .await
        .unwrap()
    }

    /// `account` prints the C0101 result of `no`.
    async fn print(
        &self,
        account: &str,
        no: RegistrationNo,
        reason: Option<&str>,
        at: Timestamp,
        request_id: &str,
    ) -> Result<execution::ResultView, Denied> {
        execution::print_result(
            &self.desk(),
            self.p(account),
            no,
            &item("C0101"),
            reason,
            at,
            request_id,
        )
        .await
        .unwrap()
    }
}

fn session_row(p: &Person, fingerprint: &str, locked: bool) -> SessionRow {
    SessionRow {
        locked,
        cert_fingerprint: fingerprint.into(),
        ..org::session_row(p, t0())
    }
}

/// Whether an item's outcome is BLI's answer: records, or none for the subject.
fn answered(outcome: &ItemOutcome) -> bool {
    matches!(
        outcome,
        ItemOutcome::Received { .. } | ItemOutcome::NoData { .. }
    )
}

fn code<T: std::fmt::Debug>(r: Result<T, Denied>) -> &'static str {
    r.unwrap_err().code()
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn register_approve_execute_connected_view_and_print_with_the_result_sealed_at_rest() {
    let w = World::new().await;
    let subject = nid(1_234_567);
    let no = w
        .approved(
            &subject,
            &["C0101", "B0101", "N0101"],
            "低收入戶資格審查，需核對申請人投保薪資與給付紀錄",
        )
        .await;
    assert_eq!(no.to_string(), "115-000001");
    let report = w
        .execute("lin.meiling", no, t0() + SignedDuration::from_hours(1))
        .await
        .unwrap();
    assert_eq!(report.items.len(), 3);
    for r in &report.items {
        assert!(answered(&r.outcome), "{r:?}");
    }
    // The simulator saw exactly three queries, for exactly this subject.
    let log = w.sim.usage_log().entries();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|e| e.subject_id == subject));

    let view = execution::view_result(
        &w.desk(),
        w.p("lin.meiling"),
        no,
        &item("C0101"),
        t0(),
        "req-v",
    )
    .await
    .unwrap()
    .unwrap();
    let expected = simulator::expected_records(
        &NationalId::parse(&subject).unwrap(),
        querywarden_bli::BliItem::C0101,
        SimulatorConfig::default().as_of,
    );
    match (&view.content, expected) {
        (ResultContent::Records(r), Ok(e)) => assert_eq!(r, &e),
        (ResultContent::NoData { .. }, Err(_)) => {}
        (c, e) => panic!("{c:?} vs {e:?}"),
    }
    assert!(view.watermark.contains("林美玲"), "{}", view.watermark);
    assert!(view.watermark.contains("民國 115 年 3 月 2 日"));
    assert!(view.watermark.contains("115-000001"));
    assert_eq!(
        view.subject_id_masked,
        NationalId::parse(&subject).unwrap().masked()
    );

    let print = w
        .print("lin.meiling", no, None, t0(), "req-p")
        .await
        .unwrap();
    assert_eq!(print.print_no, Some(1));
    assert!(print.watermark.contains("列印第 1 份"));
    // §6 ¶2: one copy by default; the second needs a reason.
    let again = w
        .print(
            "lin.meiling",
            no,
            Some("會辦單位另需一份歸檔"),
            t0(),
            "req-p",
        )
        .await
        .unwrap();
    assert_eq!(again.print_no, Some(2));

    // At rest: no clear ID or name anywhere in the database files, and the audit trail has
    // the subject only as its HMAC.
    let bytes = w.db_bytes();
    assert!(
        !contains(&bytes, &subject),
        "national ID in clear in the database"
    );
    assert!(!contains(&bytes, "王大同"), "name in clear in the database");
    let digest = w
        .keys
        .subject_digest(&NationalId::parse(&subject).unwrap())
        .hex;
    let sent = w.audit("query.sent").await;
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter()
            .all(|r| r.subject_hmac.as_deref() == Some(digest.as_str()))
    );
    assert_eq!(w.audit("query.result.received").await.len(), 3);
    assert_eq!(w.audit("result.viewed").await.len(), 1);
    assert_eq!(w.audit("result.printed").await.len(), 2);
    querywarden_app::audit::verify(&w.store, &w.keys)
        .await
        .unwrap();
}

#[tokio::test]
async fn registration_numbers_run_per_roc_year() {
    let w = World::new().await;
    let a = w
        .approved(&nid(1), &["C0101"], "第一案：低收入戶資格審查")
        .await;
    let b = w
        .approved(&nid(2), &["C0101"], "第二案：中低收入戶年度複查")
        .await;
    assert_eq!(
        (a.to_string().as_str(), b.to_string().as_str()),
        ("115-000001", "115-000002")
    );
}

#[tokio::test]
async fn a_colleague_registers_for_a_querier_of_the_same_unit_and_all_three_parties_are_kept() {
    let w = World::new().await;
    // §5 ¶2: huang (no query rights) needs data; lin queries; chen approves.
    let mut form = w.form(
        &nid(77),
        "lin.meiling",
        &["C0101"],
        "急難救助申請案，需確認申請人目前投保狀況",
    );
    form.purpose.needer = None;
    let no = w.register("huang.yating", &form).await.unwrap();
    let r = w.row(no).await;
    assert_eq!(r.parties.applicant, w.p("huang.yating").id);
    assert_eq!(r.parties.needer, w.p("huang.yating").id);
    assert_eq!(r.parties.querier, w.p("lin.meiling").id);
    // The colleague cannot execute; the querier can, after approval.
    assert_eq!(
        code(w.execute("lin.meiling", no, t0()).await),
        "policy.not_approved"
    );
    w.approve("chen.jianhong", no).await.unwrap();
    assert_eq!(
        code(w.execute("huang.yating", no, t0()).await),
        "policy.not_querier"
    );
    w.execute("lin.meiling", no, t0()).await.unwrap();
    // The needer sees the result; the supervisor does not.
    assert!(
        execution::view_result(
            &w.desk(),
            w.p("huang.yating"),
            no,
            &item("C0101"),
            t0(),
            "v"
        )
        .await
        .unwrap()
        .is_ok()
    );
    assert_eq!(
        code(
            execution::view_result(
                &w.desk(),
                w.p("chen.jianhong"),
                no,
                &item("C0101"),
                t0(),
                "v"
            )
            .await
            .unwrap()
        ),
        "registration.not_allowed"
    );
    let created = w.audit("query.registration.created").await;
    let e = String::from_utf8(created[0].entry.clone()).unwrap();
    assert!(e.contains("\"delegated\":true"), "{e}");
}

/// A Form 2 the desk refuses: who files it, the form, and the rule the refusal names.
type RefusedForm = (&'static str, RegisterQueryRequest, &'static str);

/// The forms refused for what they say (§4): the subject, the items, the legal basis, and a
/// relevance that is empty, a placeholder or copied from the previous case.
fn forms_refused_for_their_content(w: &World, ok: &str) -> Vec<RefusedForm> {
    vec![
        (
            "lin.meiling",
            RegisterQueryRequest {
                subject_id: "A123456788".into(),
                ..w.form(&nid(1), "lin.meiling", &["C0101"], ok)
            },
            "registration.subject_id",
        ),
        (
            "lin.meiling",
            RegisterQueryRequest {
                subject_name: " ".into(),
                ..w.form(&nid(1), "lin.meiling", &["C0101"], ok)
            },
            "registration.subject_name",
        ),
        (
            "lin.meiling",
            w.form(&nid(1), "lin.meiling", &[], ok),
            "registration.no_items",
        ),
        (
            "lin.meiling",
            w.form(&nid(1), "lin.meiling", &["X1"], ok),
            "registration.item_code",
        ),
        (
            "lin.meiling",
            w.form(&nid(1), "lin.meiling", &["T0101"], ok),
            "registration.item_not_granted",
        ),
        (
            "lin.meiling",
            {
                let mut form = w.form(&nid(1), "lin.meiling", &["C0101"], ok);
                form.purpose.legal_basis = "no-such-law-1".into();
                form
            },
            "registration.legal_basis",
        ),
        (
            "lin.meiling",
            w.form(&nid(1), "lin.meiling", &["C0101"], ""),
            "registration.relevance.empty",
        ),
        (
            "lin.meiling",
            w.form(&nid(1), "lin.meiling", &["C0101"], "同上"),
            "registration.relevance.placeholder",
        ),
        (
            "lin.meiling",
            w.form(&nid(1), "lin.meiling", &["C0101"], "test"),
            "registration.relevance.placeholder",
        ),
        (
            "lin.meiling",
            w.form(&nid(1), "lin.meiling", &["C0101"], "..."),
            "registration.relevance.placeholder",
        ),
        (
            "lin.meiling",
            w.form(
                &nid(1),
                "lin.meiling",
                &["C0101"],
                "前一案的關聯性說明：身障補助複查",
            ),
            "registration.relevance.copied",
        ),
    ]
}

/// The forms refused for who files them or whom they name (delegation, Form 3 for outside
/// units, the querier's role, a tampered querier or needer), their case number or their link.
fn forms_refused_for_their_parties_case_or_link(w: &World, ok: &str) -> Vec<RefusedForm> {
    vec![
        (
            "xu.wenjie",
            w.form(&nid(1), "lin.meiling", &["C0101"], ok),
            "registration.delegation_unit",
        ),
        (
            "cai.peiling",
            w.form(&nid(1), "lin.meiling", &["C0101"], ok),
            "registration.external_use_form3",
        ),
        (
            "huang.yating",
            w.form(&nid(1), "huang.yating", &["C0101"], ok),
            "registration.querier_role",
        ),
        // A querier or needer named by text that is no person's id (a form's select
        // tampered with), or by an id that names nobody: refused here, so the page and
        // the API refuse alike.
        (
            "lin.meiling",
            {
                let mut form = w.form(&nid(1), "lin.meiling", &["C0101"], ok);
                form.purpose.querier = PersonChoice::Text("somebody".into());
                form
            },
            "registration.querier_role",
        ),
        (
            "lin.meiling",
            {
                let mut form = w.form(&nid(1), "lin.meiling", &["C0101"], ok);
                form.purpose.querier = PersonChoice::Id(PersonId::new(987_654));
                form
            },
            "registration.querier_role",
        ),
        (
            "lin.meiling",
            {
                let mut form = w.form(&nid(1), "lin.meiling", &["C0101"], ok);
                form.purpose.needer = Some(PersonChoice::Text("x1".into()));
                form
            },
            "registration.not_allowed",
        ),
        (
            "lin.meiling",
            {
                let mut form = w.form(&nid(1), "lin.meiling", &["C0101"], ok);
                form.purpose.needer = Some(w.p("xu.wenjie").id.into());
                form
            },
            "registration.delegation_unit",
        ),
        (
            "lin.meiling",
            {
                let mut form = w.form(&nid(1), "lin.meiling", &["C0101"], ok);
                form.purpose.case_no = Some("x".repeat(41));
                form
            },
            "registration.case_no",
        ),
        (
            "lin.meiling",
            RegisterQueryRequest {
                linked_id: Some(nid(9)),
                ..w.form(&nid(1), "lin.meiling", &["C0101"], ok)
            },
            "registration.linked_id",
        ),
    ]
}

#[tokio::test]
async fn every_registration_refusal_names_its_rule_and_is_audited() {
    let w = World::new().await;
    let ok = "低收入戶資格審查，需核對申請人投保薪資";
    w.approved(&nid(5), &["C0101"], "前一案的關聯性說明：身障補助複查")
        .await;
    let cases = [
        forms_refused_for_their_content(&w, ok),
        forms_refused_for_their_parties_case_or_link(&w, ok),
    ]
    .concat();
    let n = cases.len();
    for (who, form, want) in cases {
        assert_eq!(code(w.register(who, &form).await), want, "{who}");
    }
    let refused = w
        .audit("query.registration.created")
        .await
        .into_iter()
        .filter(|r| r.outcome.starts_with("refused:"))
        .count();
    assert_eq!(refused, n);
    // None was registered.
    assert_eq!(w.registrations().await.len(), 1);
}

#[tokio::test]
async fn a_privacy_law_basis_needs_a_welfare_law_beside_it_and_no_case_number_needs_a_reason() {
    let w = World::new().await;
    let ok = "申請人申請低收入戶資格，須查核其投保薪資以核算家庭總收入";
    let form = |basis: &str, companion: Option<&str>| {
        let mut form = w.form(&nid(1), "lin.meiling", &["C0101"], ok);
        form.purpose.legal_basis = basis.into();
        form.purpose.companion_basis = companion.map(Into::into);
        form
    };
    let refusals = [
        form("personal-data-protection-15", None),
        form(
            "personal-data-protection-16",
            Some("personal-data-protection-15"),
        ),
    ];
    for f in &refusals {
        assert_eq!(
            code(w.register("lin.meiling", f).await),
            "registration.legal_basis.privacy_alone"
        );
    }
    let no_case = |reason: Option<&str>| {
        let mut form = w.form(
            &nid(2),
            "lin.meiling",
            &["C0101"],
            "急難救助申請，須查核申請人目前投保狀況以判斷是否失業",
        );
        form.purpose.case_no = None;
        form.purpose.no_case_reason = reason.map(Into::into);
        form
    };
    for reason in [None, Some("   "), Some("無")] {
        assert_eq!(
            code(w.register("lin.meiling", &no_case(reason)).await),
            "registration.case_no.reason_required",
            "{reason:?}"
        );
    }
    // Each refusal is audited with its rule; nothing was registered.
    let refused: Vec<String> = w
        .audit("query.registration.created")
        .await
        .into_iter()
        .map(|r| r.outcome)
        .filter(|o| o.starts_with("refused:"))
        .collect();
    assert_eq!(refused.len(), 5, "{refused:?}");
    assert!(refused.iter().any(|o| o.ends_with("privacy_alone")));
    assert!(refused.iter().any(|o| o.ends_with("reason_required")));
    assert!(w.registrations().await.is_empty());

    // With a welfare law beside it, and with a stated reason, both are registered.
    let with_companion = form(
        "personal-data-protection-16",
        Some("social-assistance-44-3-1"),
    );
    assert!(w.register("lin.meiling", &with_companion).await.is_ok());
    let created = w.audit("query.registration.created").await;
    let last = created.iter().rfind(|r| !r.outcome.starts_with("refused:"));
    assert!(
        last.is_some_and(|r| String::from_utf8_lossy(&r.entry).contains("social-assistance-44-3-1")),
        "the companion basis is in the audit record"
    );
    let stated = w
        .register(
            "lin.meiling",
            &no_case(Some("急難救助當日受理，尚未編案號")),
        )
        .await;
    assert!(stated.is_ok(), "{stated:?}");
}

#[tokio::test]
async fn a_foreign_resident_may_be_registered_with_old_and_new_numbers_linked() {
    let w = World::new().await;
    let new = (0..10)
        .map(|c| format!("A80000001{c}"))
        .find(|s| NationalId::parse(s).is_ok())
        .unwrap();
    let mut form = w.form(
        "AC01234567",
        "lin.meiling",
        &["C0101"],
        "外籍配偶生活扶助申請，確認就業情形",
    );
    form.linked_id = Some(new);
    let no = w.register("lin.meiling", &form).await.unwrap();
    let (id, linked) =
        registration::reveal_national_id(&w.desk(), w.p("lin.meiling"), no, t0(), "r")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(id.expose_whole(), "AC01234567");
    assert!(linked.is_some());
}

#[tokio::test]
async fn only_the_needers_supervisor_approves_and_never_a_party() {
    let w = World::new().await;
    let no = w
        .lin_registers(&nid(3), "老人福利申請，查核家庭成員收入")
        .await;
    for (who, want) in [
        ("lin.meiling", "approval.separation_of_duties"),
        ("xu.wenjie", "approval.not_supervisor"),
        ("huang.yating", "approval.not_supervisor"),
        ("zheng.zhihao", "approval.not_supervisor"),
    ] {
        let r = w.approver_of(who, no).await;
        assert_eq!(code(r), want, "{who}");
    }
    // A supervisor who filed for himself cannot approve his own registration.
    let own = w
        .register(
            "chen.jianhong",
            &w.form(
                &nid(4),
                "lin.meiling",
                &["C0101"],
                "科長交辦之急難救助案，確認投保",
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        code(w.approver_of("chen.jianhong", own).await),
        "approval.separation_of_duties"
    );
    // Rejection needs a comment; then the registration is closed to execution.
    let cap = w.approver_of("chen.jianhong", no).await.unwrap();
    assert_eq!(
        code(
            registration::reject(&w.desk(), cap, "  ", t0(), "r")
                .await
                .unwrap()
        ),
        "approval.comment_required"
    );
    let cap = w.approver_of("chen.jianhong", no).await.unwrap();
    registration::reject(&w.desk(), cap, "關聯性說明不足", t0(), "r")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        code(w.execute("lin.meiling", no, t0()).await),
        "policy.not_approved"
    );
    assert_eq!(
        code(w.approve("chen.jianhong", no).await),
        "registration.wrong_state"
    );
    assert_eq!(w.audit("query.registration.rejected").await.len(), 2);
}

#[tokio::test]
async fn each_execution_condition_false_alone_is_refused_audited_and_sends_nothing() {
    let w = World::new().await;
    let rel = |n: u32| format!("第 {n} 案：中低收入戶資格審查，核對投保資料");
    // Not approved.
    let pending = w.lin_registers(&nid(10), &rel(1)).await;
    assert_eq!(
        code(w.execute("lin.meiling", pending, t0()).await),
        "policy.not_approved"
    );
    // Not the querier.
    let no = w.approved(&nid(11), &["C0101", "B0101"], &rel(2)).await;
    assert_eq!(
        code(w.execute("chen.jianhong", no, t0()).await),
        "policy.not_querier"
    );
    // Expired (7 days by default).
    assert_eq!(
        code(
            w.execute("lin.meiling", no, t0() + SignedDuration::from_hours(24 * 7))
                .await
        ),
        "policy.approval_expired"
    );
    // Item not registered.
    let other = lin_runs(&w, &w.bli, no, Some(&["N0101"]), t0(), "x").await;
    assert_eq!(code(other), "policy.item_not_registered");
    // Locked session, and a session without a certificate.
    let token = org::session_row(w.p("lin.meiling"), t0()).token_hash;
    let mut tx = w.store.begin().await.unwrap();
    tx.set_session_locked(&token, true, t0()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        code(w.execute("lin.meiling", no, t0()).await),
        "policy.session_not_usable"
    );
    let mut tx = w.store.begin().await.unwrap();
    tx.set_session_locked(&token, false, t0()).await.unwrap();
    tx.commit().await.unwrap();
    w.sql(&format!(
        "UPDATE sessions SET cert_fingerprint = '' WHERE token_hash = '{token}'"
    ));
    assert_eq!(
        code(w.execute("lin.meiling", no, t0()).await),
        "policy.session_not_certificate"
    );
    w.sql(&format!(
        "UPDATE sessions SET cert_fingerprint = 'fp-card' WHERE token_hash = '{token}'"
    ));
    // No active grant today.
    let no_grants = FixedGrants::default();
    let desk = Desk {
        grants: &no_grants,
        ..w.desk()
    };
    let r = execution::execute_connected(
        &desk,
        &w.bli,
        &w.signed_in("lin.meiling"),
        no,
        None,
        t0(),
        "x",
    )
    .await
    .unwrap();
    assert_eq!(code(r), "policy.no_grant");
    // Subject swapped after approval: another registration's sealed subject copied over.
    let third = w.approved(&nid(12), &["C0101"], &rel(3)).await;
    w.sql(&format!(
        "UPDATE registrations SET subject_sealed = (SELECT subject_sealed FROM registrations WHERE reg_no = '{no}'), \
         subject_nonce = (SELECT subject_nonce FROM registrations WHERE reg_no = '{no}'), \
         wrapped_key = (SELECT wrapped_key FROM registrations WHERE reg_no = '{no}'), \
         wrap_nonce = (SELECT wrap_nonce FROM registrations WHERE reg_no = '{no}') WHERE reg_no = '{third}'"
    ));
    assert_eq!(
        code(w.execute("lin.meiling", third, t0()).await),
        "policy.subject_changed"
    );
    w.sql(&format!(
        "UPDATE registrations SET subject_hmac = 'ff' WHERE reg_no = '{no}'"
    ));
    assert_eq!(
        code(w.execute("lin.meiling", no, t0()).await),
        "policy.subject_changed"
    );

    // Nothing reached BLI, and every refusal is in the trail with its reason.
    assert!(w.sim.usage_log().entries().is_empty());
    let refused = w.audit("query.execution.refused").await;
    assert_eq!(refused.len(), 9);
    assert!(
        refused
            .iter()
            .all(|r| r.outcome.starts_with("refused:policy."))
    );
}

#[tokio::test]
async fn an_item_runs_once_and_a_second_run_is_refused() {
    let w = World::new().await;
    let no = w
        .approved(
            &nid(20),
            &["C0101", "B0101"],
            "特殊境遇家庭扶助申請，查核就業",
        )
        .await;
    let first = lin_runs_c0101(&w, &w.bli, no, "a").await.unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(
        code(lin_runs_c0101(&w, &w.bli, no, "b").await),
        "policy.already_executed"
    );
    // The other item is still open, once.
    let rest = w.execute("lin.meiling", no, t0()).await.unwrap();
    assert_eq!(
        rest.items
            .iter()
            .map(|i| i.item.as_str())
            .collect::<Vec<_>>(),
        vec!["B0101"]
    );
    assert_eq!(
        code(w.execute("lin.meiling", no, t0()).await),
        "policy.no_items"
    );
    assert_eq!(w.sim.usage_log().entries().len(), 2);
    // Cancelling after execution is refused.
    assert_eq!(
        code(
            registration::cancel(&w.desk(), w.p("lin.meiling"), no, t0(), "c")
                .await
                .unwrap()
        ),
        "registration.wrong_state"
    );
}

/// Never answers: stands for a crash while the query is out.
struct Hanging;

impl Connector for Hanging {
    fn query(
        &self,
        _req: &QueryRequest,
    ) -> impl Future<Output = Result<BliRecords, ConnectorError>> + Send {
        std::future::pending()
    }
}

#[tokio::test]
async fn a_crash_between_sending_and_storing_leaves_the_execution_sent_with_no_result() {
    let w = World::new().await;
    let no = w
        .approved(&nid(30), &["C0101"], "身心障礙者生活補助複查，核對收入")
        .await;
    let who = w.signed_in("lin.meiling");
    let desk = w.desk();
    let run = execution::execute_connected(&desk, &Hanging, &who, no, None, t0(), "crash");
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), run)
            .await
            .is_err()
    );
    let r = w.row(no).await;
    let execs = w.store.executions_of(r.id).await.unwrap();
    assert_eq!(execs.len(), 1);
    assert_eq!(execs[0].outcome, ExecutionOutcome::Sent);
    assert!(execs[0].result_at.is_none());
    assert_eq!(w.audit("query.sent").await.len(), 1);
    assert!(w.audit("query.result.received").await.is_empty());
    // Visible to the querier; not runnable again; nothing to view.
    let inbox = w.inbox("lin.meiling", t0()).await;
    assert_eq!(inbox.sent_without_result.len(), 1);
    let again = lin_runs_c0101(&w, &w.bli, no, "again").await;
    // §5: it may have reached BLI, so it is not sent again until its outcome is known.
    assert_eq!(code(again), "policy.outcome_unknown");
    assert_eq!(
        code(
            execution::view_result(&w.desk(), w.p("lin.meiling"), no, &item("C0101"), t0(), "v")
                .await
                .unwrap()
        ),
        "result.none"
    );
}

#[tokio::test]
async fn an_error_answer_is_recorded_as_failed_and_leaves_the_item_open() {
    let w = World::with_sim(SimulatorConfig {
        error_rate: 1.0,
        ..Default::default()
    })
    .await;
    let no = w
        .approved(&nid(31), &["C0101"], "兒少保護個案，確認家長就業狀況")
        .await;
    for attempt in 1..=2 {
        let report = w.execute("lin.meiling", no, t0()).await.unwrap();
        assert!(
            matches!(
                report.items[0].outcome,
                ItemOutcome::Failed {
                    code: "bli.refused",
                    ..
                }
            ),
            "{report:?}"
        );
        let r = w.row(no).await;
        let execs = w.store.executions_of(r.id).await.unwrap();
        assert_eq!(execs.len(), attempt);
        assert!(execs.iter().all(|e| e.outcome == ExecutionOutcome::Failed));
        // §5: nothing was processed, so the approval is not used up.
        assert!(r.executed_items.is_empty() && r.awaiting_outcome.is_empty());
        // Each attempt is on the trail.
        assert_eq!(w.audit("query.sent").await.len(), attempt);
        assert_eq!(w.audit("query.failed").await.len(), attempt);
    }
}

/// Fails the way it is told to, once per entry, then asks the real connector: `Before` fails
/// without sending anything, `After` sends (the simulator logs it) and then loses the answer.
enum Step {
    Before(ConnectorError),
    After(ConnectorError),
}

struct Scripted<'a> {
    inner: &'a HttpConnector,
    steps: Mutex<Vec<Step>>,
}

impl<'a> Scripted<'a> {
    fn new(inner: &'a HttpConnector, mut steps: Vec<Step>) -> Self {
        steps.reverse();
        Scripted {
            inner,
            steps: Mutex::new(steps),
        }
    }
}

impl Connector for Scripted<'_> {
    fn query(
        &self,
        req: &QueryRequest,
    ) -> impl Future<Output = Result<BliRecords, ConnectorError>> + Send {
        let step = self.steps.lock().unwrap().pop();
        let inner = self.inner;
        let req = req.clone();
        async move {
            match step {
                Some(Step::Before(e)) => Err(e),
                Some(Step::After(e)) => {
                    let _ = inner.query(&req).await;
                    Err(e)
                }
                None => inner.query(&req).await,
            }
        }
    }
}

/// lin runs every item of `no` through `c` at `at`.
async fn run_with(
    w: &World,
    c: &impl Connector,
    no: RegistrationNo,
    at: Timestamp,
) -> Result<execution::ExecutionReport, Denied> {
    lin_runs(w, c, no, None, at, "req-run").await
}

#[tokio::test]
async fn a_refused_connection_then_a_retry_within_the_approval_gets_the_result() {
    let w = World::new().await;
    let no = w
        .approved(&nid(32), &["C0101"], "低收入戶資格審查，核對投保薪資")
        .await;
    let c = Scripted::new(
        &w.bli,
        vec![Step::Before(ConnectorError::Unavailable(
            querywarden_bli::UnavailableCause::Connect,
        ))],
    );
    let first = run_with(&w, &c, no, t0()).await.unwrap();
    assert!(
        matches!(
            first.items[0].outcome,
            ItemOutcome::Failed {
                code: "bli.unavailable",
                ..
            }
        ),
        "{first:?}"
    );
    assert!(w.sim.usage_log().entries().is_empty());
    let second = run_with(&w, &c, no, t0() + SignedDuration::from_mins(5))
        .await
        .unwrap();
    assert!(answered(&second.items[0].outcome), "{second:?}");
    // Now it is used up: exactly one successful execution.
    assert_eq!(
        code(run_with(&w, &c, no, t0() + SignedDuration::from_mins(6)).await),
        "policy.no_items"
    );
    let r = w.row(no).await;
    let outcomes: Vec<_> = w
        .store
        .executions_of(r.id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        outcomes,
        vec![ExecutionOutcome::Failed, ExecutionOutcome::Received]
    );
    assert_eq!(w.audit("query.sent").await.len(), 2);
    // Past the approval's validity a failed item cannot be retried either.
    let no2 = w
        .approved(&nid(33), &["C0101"], "中低收入戶資格複查，確認就業狀況")
        .await;
    let c = Scripted::new(
        &w.bli,
        vec![Step::Before(ConnectorError::Refused {
            status: 500,
            code: "internal_error".into(),
        })],
    );
    run_with(&w, &c, no2, t0()).await.unwrap();
    let late = t0() + SignedDuration::from_hours(24 * 365);
    assert_eq!(
        code(run_with(&w, &c, no2, late).await),
        "policy.approval_expired"
    );
}

/// lin runs C0101 alone on `no` through `c` at t0, under request id `op`.
async fn lin_runs_c0101(
    w: &World,
    c: &impl Connector,
    no: RegistrationNo,
    op: &str,
) -> Result<execution::ExecutionReport, Denied> {
    lin_runs(w, c, no, Some(&["C0101"]), t0(), op).await
}

/// lin runs `its` of `no` (every item when `None`) through `c` at `at`, under request id `op`.
async fn lin_runs(
    w: &World,
    c: &impl Connector,
    no: RegistrationNo,
    its: Option<&[&str]>,
    at: Timestamp,
    op: &str,
) -> Result<execution::ExecutionReport, Denied> {
    execution::execute_connected(
        &w.desk(),
        c,
        &w.signed_in("lin.meiling"),
        no,
        its.map(items).as_ref(),
        at,
        op,
    )
    .await
    .unwrap()
}

/// §5: `who` states, in words, what happened to item `it` of `no` whose outcome is unknown.
async fn state_outcome(
    w: &World,
    no: RegistrationNo,
    who: &str,
    it: &str,
    text: &str,
) -> Result<(), Denied> {
    execution::outcome::record_statement(
        &w.desk(),
        w.p(who),
        no,
        &item(it),
        text,
        t0() + SignedDuration::from_mins(30),
        "s",
    )
    .await
    .unwrap()
}

/// Only the querier states, with words, for an item that waits; the refusals are audited,
/// the statement clears the wait and stays out of the trail.
async fn the_querier_states_what_happened(w: &World, no: RegistrationNo) {
    assert_eq!(
        code(state_outcome(w, no, "chen.jianhong", "C0101", "未收到結果").await),
        "registration.not_allowed"
    );
    assert_eq!(
        code(state_outcome(w, no, "lin.meiling", "C0101", "   ").await),
        "execution.statement"
    );
    assert_eq!(
        code(state_outcome(w, no, "lin.meiling", "B0101", "未收到結果").await),
        "execution.nothing_awaiting"
    );
    assert_eq!(
        w.outcomes("query.outcome.resolved")
            .await
            .iter()
            .filter(|o| o.starts_with("refused:"))
            .count(),
        3
    );
    let text = "畫面逾時，入口網站查無此次結果";
    state_outcome(w, no, "lin.meiling", "C0101", text)
        .await
        .unwrap();
    let r = w.row(no).await;
    assert!(r.awaiting_outcome.is_empty());
    let resolved = w.audit("query.outcome.resolved").await;
    let ok = resolved.iter().find(|e| e.outcome == "succeeded").unwrap();
    assert!(!format!("{ok:?}").contains("查無此次結果"));
}

#[tokio::test]
async fn a_timeout_waits_until_the_querier_states_what_happened_then_may_run_again() {
    let w = World::new().await;
    let no = w
        .approved(
            &nid(34),
            &["C0101", "B0101"],
            "身心障礙者生活補助，核對收入",
        )
        .await;
    let c = Scripted::new(&w.bli, vec![Step::After(ConnectorError::Timeout)]);
    let first = lin_runs_c0101(&w, &c, no, "t1").await.unwrap();
    assert!(
        matches!(
            first.items[0].outcome,
            ItemOutcome::Unknown {
                code: "bli.timeout",
                ..
            }
        ),
        "{first:?}"
    );
    assert_eq!(w.audit("query.outcome.unknown").await.len(), 1);
    let r = w.row(no).await;
    assert_eq!(r.awaiting_outcome, items(&["C0101"]));
    // Retry refused, audited; the other item still runs (default = what may run now).
    assert_eq!(
        code(lin_runs_c0101(&w, &c, no, "t2").await),
        "policy.outcome_unknown"
    );
    assert!(
        w.outcomes("query.execution.refused")
            .await
            .contains(&"refused:policy.outcome_unknown".to_string())
    );
    let rest = run_with(&w, &c, no, t0()).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].item, item("B0101"));
    the_querier_states_what_happened(&w, no).await;
    // Then the item may run again, once.
    let again = run_with(&w, &c, no, t0() + SignedDuration::from_hours(1))
        .await
        .unwrap();
    assert!(answered(&again.items[0].outcome), "{again:?}");
    assert_eq!(
        code(state_outcome(&w, no, "lin.meiling", "C0101", "再說明一次").await),
        "execution.nothing_awaiting"
    );
}

#[tokio::test]
async fn the_platform_usage_log_resolves_a_timed_out_query() {
    let w = World::new().await;
    let no = w
        .approved(&nid(35), &["C0101"], "中低收入老人生活津貼，核對年金")
        .await;
    let c = Scripted::new(&w.bli, vec![Step::After(ConnectorError::Timeout)]);
    run_with(&w, &c, no, t0()).await.unwrap();
    let retry = lin_runs_c0101(&w, &c, no, "retry").await;
    assert_eq!(code(retry), "policy.outcome_unknown");
    // The simulator logged the query it received; the administrator imports the log.
    let csv = w.sim.usage_log().to_csv();
    let report = querywarden_app::usage_log::import(
        &w.store,
        &w.keys,
        &querywarden_bli::usage_log::ColumnMapping::default(),
        None,
        &csv,
        t0() + SignedDuration::from_hours(2),
        "imp",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.resolved, 1);
    let resolved = w.audit("query.outcome.resolved").await;
    assert_eq!(resolved.len(), 1);
    assert!(resolved[0].actor_person_id.is_none(), "{:?}", resolved[0]);
    let r = w.row(no).await;
    let execs = w.store.executions_of(r.id).await.unwrap();
    // The platform's own outcome for that request (the simulator answers this subject with
    // "no data").
    assert_eq!(execs[0].resolution.as_deref(), Some("usage_log:not_found"));
    assert!(r.awaiting_outcome.is_empty());
    let again = run_with(&w, &c, no, t0() + SignedDuration::from_hours(3))
        .await
        .unwrap();
    assert!(answered(&again.items[0].outcome), "{again:?}");
}

#[tokio::test]
async fn twenty_concurrent_executions_of_one_item_give_exactly_one_success() {
    let w = Arc::new(World::new().await);
    let no = w
        .approved(&nid(36), &["C0101"], "急難救助個案，確認最近投保")
        .await;
    let mut runs = tokio::task::JoinSet::new();
    for i in 0..20 {
        let w = Arc::clone(&w);
        runs.spawn(async move {
            lin_runs_c0101(&w, &w.bli, no, &format!("c{i}"))
                .await
                .map_err(|d| d.code())
        });
    }
    let results = runs.join_all().await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for r in &results {
        // Refused while the winner is out (sent) or after it came back (executed).
        if let Err(code) = r {
            assert!(
                ["policy.already_executed", "policy.outcome_unknown"].contains(code),
                "{code}"
            );
        }
    }
    assert_eq!(w.sim.usage_log().entries().len(), 1);
}

#[tokio::test]
async fn portal_mode_records_the_reported_execution_and_keeps_the_document_in_custody() {
    let w = World::new().await;
    let no = w
        .approved(
            &nid(40),
            &["C0101", "B0101"],
            "國民年金給付查核，入口網站查詢",
        )
        .await;
    let pdf = b"%PDF-1.7 portal result for the case".to_vec();
    let report = PortalReport {
        items: Some(items(&["C0101"])),
        queried_at: Some(t0() + SignedDuration::from_mins(5)),
        note: Some("入口網站查詢".into()),
        paper_case_no: None,
        documents: vec![PortalDocument {
            item: item("C0101"),
            content_type: "application/pdf".into(),
            bytes: pdf.clone(),
        }],
    };
    let who = w.signed_in("lin.meiling");
    let at = t0() + SignedDuration::from_mins(10);
    let done = execution::record_portal_execution(&w.desk(), &who, no, &report, at, "p")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.items[0].outcome, ItemOutcome::Recorded);
    assert_eq!(
        code(
            execution::record_portal_execution(&w.desk(), &who, no, &report, at, "p")
                .await
                .unwrap()
        ),
        "policy.already_executed"
    );
    // Same permit rules: another person cannot record it.
    let other = PortalReport {
        items: Some(items(&["B0101"])),
        ..Default::default()
    };
    assert_eq!(
        code(
            execution::record_portal_execution(
                &w.desk(),
                &w.signed_in("huang.yating"),
                no,
                &other,
                at,
                "p"
            )
            .await
            .unwrap()
        ),
        // §9: huang may not even see the row: answered as a number that does not exist
        // (the trail keeps `policy.not_querier`).
        "registration.not_found"
    );
    assert!(
        w.outcomes("query.execution.refused")
            .await
            .iter()
            .any(|o| o == "refused:policy.not_querier")
    );
    let view = execution::view_result(&w.desk(), w.p("lin.meiling"), no, &item("C0101"), at, "v")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        view.content,
        ResultContent::Document {
            content_type: "application/pdf".into(),
            bytes: pdf
        }
    );
    assert!(!contains(&w.db_bytes(), "portal result for the case"));
    assert!(
        w.sim.usage_log().entries().is_empty(),
        "portal mode never calls the connector"
    );
}

#[tokio::test]
async fn every_view_is_audited_including_refused_ones() {
    let w = World::new().await;
    let no = w
        .approved(&nid(50), &["C0101"], "低收入戶新申請案，查核家庭成員")
        .await;
    w.execute("lin.meiling", no, t0()).await.unwrap();
    for _ in 0..3 {
        execution::view_result(&w.desk(), w.p("lin.meiling"), no, &item("C0101"), t0(), "v")
            .await
            .unwrap()
            .unwrap();
    }
    for who in [
        "chen.jianhong",
        "li.guowei",
        "wu.zhiming",
        "zheng.zhihao",
        "cai.peiling",
    ] {
        let r = execution::view_result(&w.desk(), w.p(who), no, &item("C0101"), t0(), "v")
            .await
            .unwrap();
        // Those who see the row (its approver, the ethics office) are refused the result;
        // the others cannot learn that it exists (§9). The trail keeps the reason for all.
        let want = if matches!(who, "chen.jianhong" | "zheng.zhihao") {
            "registration.not_allowed"
        } else {
            "registration.not_found"
        };
        assert_eq!(code(r), want, "{who}");
    }
    assert_eq!(
        w.outcomes("result.viewed")
            .await
            .iter()
            .filter(|o| *o == "refused:registration.not_allowed")
            .count(),
        5
    );
    let viewed = w.audit("result.viewed").await;
    assert_eq!(viewed.len(), 8);
    assert_eq!(
        viewed.iter().filter(|r| r.outcome == "succeeded").count(),
        3
    );
    let res = w.c0101_result(no).await;
    assert_eq!(w.store.views_of(res.id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_destroyed_result_can_never_be_shown_again_and_its_record_stays() {
    let mut w = World::new().await;
    w.settings.retention.default_days = 30;
    let no = w
        .approved(&nid(60), &["C0101"], "急難救助個案，確認最近投保")
        .await;
    w.execute("lin.meiling", no, t0()).await.unwrap();
    w.print("lin.meiling", no, None, t0(), "p").await.unwrap();
    // Expiring inbox within 14 days of the end.
    let near = t0() + SignedDuration::from_hours(24 * 20);
    let inbox = w.inbox("lin.meiling", near).await;
    assert_eq!(inbox.results_expiring.len(), 1);
    // Not due on its last day.
    let last_day = t0() + SignedDuration::from_hours(24 * 30);
    assert!(
        execution::destroy_due(&w.store, last_day, "job")
            .await
            .unwrap()
            .destroyed
            .is_empty()
    );
    let after = t0() + SignedDuration::from_hours(24 * 31);
    let report = execution::destroy_due(&w.store, after, "job")
        .await
        .unwrap();
    assert_eq!(report.destroyed, vec![(no, item("C0101"))]);
    assert_eq!(report.prints_outstanding, 1);
    assert!(
        execution::destroy_due(&w.store, after, "job")
            .await
            .unwrap()
            .destroyed
            .is_empty()
    );
    for who in ["lin.meiling"] {
        let r = execution::view_result(&w.desk(), w.p(who), no, &item("C0101"), after, "v")
            .await
            .unwrap();
        assert_eq!(code(r), "result.destroyed");
        let r = w.print(who, no, None, after, "v").await;
        assert_eq!(code(r), "result.destroyed");
    }
    let row = w.c0101_result(no).await;
    assert!(row.sealed.is_none() && row.destroyed_at.is_some());
    let record = w.store.destruction_of(row.id).await.unwrap().unwrap();
    assert_eq!(record.rule, "retention:default");
    assert_eq!(record.prints_outstanding, 1);
    assert_eq!(w.audit("result.destroyed").await.len(), 1);
    // The querier confirms the printed copy destroyed.
    execution::confirm_print_destroyed(
        &w.desk(),
        w.p("lin.meiling"),
        no,
        &item("C0101"),
        1,
        after,
        "c",
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        w.store.prints_of(row.id).await.unwrap()[0]
            .copy_destroyed_at
            .is_some()
    );
    // The registration itself stays (kept ≥ 5 years), subject still readable to its parties.
    assert!(w.view("lin.meiling", no).await.is_ok());
}

#[tokio::test]
async fn a_batch_is_all_or_nothing_with_errors_by_line() {
    let w = World::new().await;
    let base = RegisterBatchRequest {
        csv: String::new(),
        purpose: QueryPurpose {
            items: vec!["C0101".into()],
            legal_basis: BASIS.into(),
            relevance: "115 年度低收入戶總清查，核對全體列冊戶投保資料".into(),
            case_no: None,
            companion_basis: None,
            no_case_reason: Some("尚未立案，先行查核資格".into()),
            needer: None,
            querier: w.p("lin.meiling").id.into(),
        },
    };
    let bad = RegisterBatchRequest {
        csv: format!(
            "姓名,身分證字號\n王一,{}\n王二,A123456788\n\n王三,{}\n,{}\n",
            nid(101),
            nid(101),
            nid(103)
        ),
        ..base.clone()
    };
    match w.batch(&bad).await {
        Err(Denied::Batch(errors)) => {
            let lines: Vec<(usize, &str)> =
                errors.iter().map(|e| (e.line, e.error.code())).collect();
            assert_eq!(
                lines,
                vec![
                    (3, "registration.subject_id"),
                    (5, "registration.relevance.copied"),
                    (6, "registration.subject_name")
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(w.registrations().await.is_empty());
    let good = RegisterBatchRequest {
        csv: format!(
            "王一,{}\n\"王, 二\",{}\n王三,{}\n",
            nid(101),
            nid(102),
            nid(103)
        ),
        ..base.clone()
    };
    let done = w.batch(&good).await.unwrap();
    assert_eq!(done.len(), 3);
    assert_eq!(done[2].no.to_string(), "115-000003");
    // The same reason in a new batch is a copy of the last one.
    let again = RegisterBatchRequest {
        csv: format!("王四,{}\n", nid(104)),
        ..base
    };
    assert_eq!(code(w.batch(&again).await), "registration.relevance.copied");
}

#[tokio::test]
async fn snooping_checks_block_ask_for_a_second_approver_warn_and_alert() {
    let mut w = World::new().await;
    let lin_id = NationalId::parse(&nid(900)).unwrap();
    let huang_id = NationalId::parse(&nid(901)).unwrap();
    let vip = NationalId::parse(&nid(902)).unwrap();
    w.screen = ScreenList::new()
        .with_staff(&w.keys, &lin_id, w.p("lin.meiling").id)
        .with_staff(&w.keys, &huang_id, w.p("huang.yating").id)
        .with_restricted(&w.keys, &vip);
    // The querier herself: blocked.
    let r = w
        .register(
            "lin.meiling",
            &w.form(
                lin_id.expose_whole(),
                "lin.meiling",
                &["C0101"],
                "查詢自己的投保資料以便比對",
            ),
        )
        .await;
    assert_eq!(code(r), "snooping.subject_is_party");
    // A colleague: a second approver is needed.
    let no = w
        .lin_registers(huang_id.expose_whole(), "同仁家屬申請急難救助，需查核")
        .await;
    assert_eq!(
        w.approve("chen.jianhong", no).await.unwrap().code(),
        "awaiting_second_approval"
    );
    assert_eq!(
        code(w.execute("lin.meiling", no, t0()).await),
        "policy.not_approved"
    );
    assert_eq!(
        code(w.approve("chen.jianhong", no).await),
        "approval.second_approver"
    );
    assert_eq!(w.approve("xu.wenjie", no).await.unwrap().code(), "approved");
    w.execute("lin.meiling", no, t0()).await.unwrap();
    // Same surname as the querier: a warning the approver sees.
    let mut form = w.form(
        &nid(903),
        "lin.meiling",
        &["C0101"],
        "低收入戶申請，與承辦人同姓之個案",
    );
    form.subject_name = "林小華".into();
    let same = w.register("lin.meiling", &form).await.unwrap();
    let view = w.view("chen.jianhong", same).await.unwrap();
    assert_eq!(
        view.registration.findings,
        vec!["snooping.same_surname".to_string()]
    );
    assert_eq!(view.findings.len(), 1);
    // Restricted list: allowed, flagged for the ethics office.
    w.lin_registers(vip.expose_whole(), "特別注意名單個案之補助審查")
        .await;
    let created = w.audit("query.registration.created").await;
    assert!(
        created
            .iter()
            .any(|r| String::from_utf8_lossy(&r.entry).contains("\"ethics_alert\":true"))
    );
}

#[tokio::test]
async fn revealing_the_whole_id_is_for_entitled_people_and_audited() {
    let w = World::new().await;
    let subject = nid(70);
    let no = w
        .approved(&subject, &["C0101"], "老人保護個案，確認子女就業")
        .await;
    let view = w.view("chen.jianhong", no).await.unwrap();
    assert_eq!(
        view.subject_id_masked,
        NationalId::parse(&subject).unwrap().masked()
    );
    let (id, _) = registration::reveal_national_id(&w.desk(), w.p("chen.jianhong"), no, t0(), "r")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(id.expose_whole(), subject);
    assert_eq!(
        code(
            registration::reveal_national_id(&w.desk(), w.p("xu.wenjie"), no, t0(), "r")
                .await
                .unwrap()
        ),
        // Answered like a number that does not exist (no probing); audited as not allowed.
        "registration.not_found"
    );
    let revealed = w.audit("subject.national_id.revealed").await;
    assert_eq!(revealed.len(), 2);
    assert!(
        revealed
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.entry).contains(&subject))
    );
}

#[tokio::test]
async fn inboxes_show_what_waits_for_each_role() {
    let w = World::new().await;
    let pending = w.lin_registers(&nid(80), "待核准案：低收入戶申請").await;
    let ready = w
        .approved(&nid(81), &["C0101"], "已核准案：中低收入戶申請")
        .await;
    let chen = w.inbox("chen.jianhong", t0()).await;
    assert_eq!(
        chen.to_approve.iter().map(|s| s.no).collect::<Vec<_>>(),
        vec![pending]
    );
    let xu = w.inbox("xu.wenjie", t0()).await;
    assert!(xu.to_approve.is_empty());
    let lin = w.inbox("lin.meiling", t0()).await;
    assert_eq!(
        lin.to_execute.iter().map(|s| s.no).collect::<Vec<_>>(),
        vec![ready]
    );
    let later = w
        .inbox("lin.meiling", t0() + SignedDuration::from_hours(24 * 8))
        .await;
    assert!(
        later.to_execute.is_empty(),
        "expired approvals leave the inbox"
    );
}

/// This module's Form 3: C0101 and B0101 for `subjects`.
fn form3(subjects: &[(&str, String)], declared: usize) -> request::FileRequestInput {
    common::form3(&["C0101", "B0101"], subjects, declared)
}

/// Form 3 filed by 鹽埕區公所's cai: the count is checked against the list, bad rows are named
/// by position, staff may not file, a placeholder reason is refused; then it is filed with no
/// national ID in clear.
async fn the_district_office_files_form3(w: &World, subjects: &[(&str, String)]) -> RequestNo {
    let cai = w.p("cai.peiling");
    assert_eq!(
        code(
            request::file_request(&w.desk(), cai, &form3(subjects, 3), t0(), "f")
                .await
                .unwrap()
        ),
        "request.subject_count"
    );
    let bad = [("張三", nid(3001)), ("李四", "A123456788".to_string())];
    match request::file_request(&w.desk(), cai, &form3(&bad, 2), t0(), "f")
        .await
        .unwrap()
    {
        Err(Denied::Batch(e)) => assert_eq!(e[0].line, 2),
        other => panic!("{other:?}"),
    }
    let staff = w.p("huang.yating");
    assert_eq!(
        code(
            request::file_request(&w.desk(), staff, &form3(subjects, 2), t0(), "f")
                .await
                .unwrap()
        ),
        "request.not_external"
    );
    let mut no_reason = form3(subjects, 2);
    no_reason.relevance = "無".into();
    assert_eq!(
        code(
            request::file_request(&w.desk(), cai, &no_reason, t0(), "f")
                .await
                .unwrap()
        ),
        "registration.relevance.placeholder"
    );
    let rno = request::file_request(&w.desk(), cai, &form3(subjects, 2), t0(), "f")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rno.to_string(), "R115-000001");
    assert!(!contains(&w.db_bytes(), nid(3001)));
    rno
}

/// §5 ¶3: the district office's supervisor yang consents to the request.
async fn the_district_office_consents(w: &World, rno: RequestNo) {
    request::consent_request(
        &w.desk(),
        w.p("yang.shuling"),
        rno,
        request::Consent::Give,
        t0(),
        "c",
    )
    .await
    .unwrap()
    .unwrap();
}

/// The bureau's reviewer li accepts the request with `comment`, naming himself querier: one
/// registration per subject.
async fn li_accepts(w: &World, rno: RequestNo, comment: &str) -> Vec<registration::Registered> {
    let li = w.p("li.guowei");
    request::accept_request(&w.desk(), li, rno, &li.id.into(), comment, t0(), "a")
        .await
        .unwrap()
        .unwrap()
}

/// §5 ¶3: the bureau's reviewer li sees the request only once the district office's
/// supervisor consented.
async fn the_bureau_sees_it_once_consented(w: &World, rno: RequestNo) {
    let inbox = w.inbox("li.guowei", t0()).await;
    assert!(inbox.requests_to_review.is_empty());
    the_district_office_consents(w, rno).await;
    let inbox = w.inbox("li.guowei", t0()).await;
    assert_eq!(inbox.requests_to_review.len(), 1);
}

/// The reviewer of the responsible unit accepts it, naming himself querier: others cannot
/// decide it, a rejection needs a reason, a wrongly named querier is refused and audited, and
/// once accepted it cannot be rejected. One registration per subject.
async fn the_reviewer_accepts_it(w: &World, rno: RequestNo) -> Vec<RegistrationNo> {
    let li = w.p("li.guowei");
    assert_eq!(
        code(
            request::reject_request(&w.desk(), w.p("lin.meiling"), rno, "不受理", t0(), "r")
                .await
                .unwrap()
        ),
        // §9: not hers to see: answered as a number that does not exist.
        "registration.not_found"
    );
    assert_eq!(
        code(
            request::reject_request(&w.desk(), li, rno, " ", t0(), "r")
                .await
                .unwrap()
        ),
        "approval.comment_required"
    );
    for querier in [
        PersonChoice::Text("nobody".into()),
        PersonChoice::Id(PersonId::new(987_654)),
    ] {
        let refused = request::accept_request(&w.desk(), li, rno, &querier, "受理", t0(), "a")
            .await
            .unwrap();
        assert_eq!(code(refused), "registration.querier_role", "{querier:?}");
    }
    let accepted = w.audit("query.request.accepted").await;
    assert_eq!(
        accepted
            .iter()
            .filter(|r| r.outcome == "refused:registration.querier_role")
            .count(),
        2
    );
    let regs = li_accepts(w, rno, "符合老人福利法規定，受理").await;
    assert_eq!(regs.len(), 2);
    assert_eq!(
        code(
            request::reject_request(&w.desk(), li, rno, "x", t0(), "r")
                .await
                .unwrap()
        ),
        "registration.wrong_state"
    );
    regs.iter().map(|r| r.no).collect()
}

/// Each registration: applicant the reviewer, needer the requester, approved by xu (not by
/// li, §4 separation of duties), then run by li.
async fn each_registration_is_approved_by_xu_and_run(w: &World, regs: &[RegistrationNo]) {
    for &no in regs {
        let row = w.row(no).await;
        assert_eq!(row.parties.needer, w.p("cai.peiling").id);
        assert_eq!(row.approving_unit.as_str(), "elderly-welfare");
        assert_eq!(
            code(w.approve("li.guowei", no).await),
            "approval.separation_of_duties"
        );
        w.approve("xu.wenjie", no).await.unwrap();
        w.execute("li.guowei", no, t0()).await.unwrap();
    }
}

/// The delivery of the request's result by `who`, in the system or by official document.
async fn deliver(
    w: &World,
    who: &str,
    rno: RequestNo,
    how: request::Delivery,
) -> Result<(), Denied> {
    request::record_delivery(&w.desk(), w.p(who), rno, &how, t0(), "d")
        .await
        .unwrap()
}

/// §5 ¶3: the querier and the using unit's supervisor sign the request before delivery;
/// delivered is closed, and the requester cannot record a delivery.
async fn delivered_once_after_both_signatures(w: &World, rno: RequestNo) {
    assert_eq!(
        code(deliver(w, "li.guowei", rno, request::Delivery::InSystem).await),
        "request.signatures_missing"
    );
    for who in ["li.guowei", "xu.wenjie"] {
        request::sign_request(&w.desk(), w.p(who), rno, t0(), "s")
            .await
            .unwrap()
            .unwrap();
    }
    let document = request::Delivery::OfficialDocument("高市社老字第1150000123號".into());
    deliver(w, "li.guowei", rno, document).await.unwrap();
    assert_eq!(
        code(deliver(w, "li.guowei", rno, request::Delivery::InSystem).await),
        "registration.wrong_state"
    );
    assert_eq!(
        code(deliver(w, "cai.peiling", rno, request::Delivery::InSystem).await),
        "registration.not_allowed"
    );
    let stored = w.store.request_by_no(rno).await.unwrap().unwrap();
    assert_eq!(
        stored.document_no.as_deref(),
        Some("高市社老字第1150000123號")
    );
}

#[tokio::test]
async fn a_district_office_request_is_reviewed_queried_and_returned_view_only() {
    let w = World::new().await;
    let cai = w.p("cai.peiling").clone();
    let subjects = [("張三", nid(3001)), ("李四", nid(3002))];
    let rno = the_district_office_files_form3(&w, &subjects).await;
    the_bureau_sees_it_once_consented(&w, rno).await;
    let regs = the_reviewer_accepts_it(&w, rno).await;
    each_registration_is_approved_by_xu_and_run(&w, &regs).await;
    // Back to the requester, view-only and audited; the district office sees its result.
    let view = execution::view_result(&w.desk(), &cai, regs[0], &item("C0101"), t0(), "v")
        .await
        .unwrap()
        .unwrap();
    assert!(view.watermark.contains("蔡佩玲"));
    delivered_once_after_both_signatures(&w, rno).await;
    assert_eq!(w.audit("result.delivered").await.len(), 4);
    assert_eq!(w.audit("query.request.signed").await.len(), 2);
    assert_eq!(w.audit("query.request.consented").await.len(), 1);
    // The one acceptance, beside the two refusals of a wrongly named querier above.
    let accepted = w.audit("query.request.accepted").await;
    assert_eq!(
        accepted.iter().filter(|r| r.outcome == "succeeded").count(),
        1,
        "{:?}",
        accepted.iter().map(|r| &r.outcome).collect::<Vec<_>>()
    );
    assert_eq!(accepted.len(), 3);
}

#[tokio::test]
async fn a_rejected_request_creates_nothing() {
    let w = World::new().await;
    let rno = request::file_request(
        &w.desk(),
        w.p("cai.peiling"),
        &form3(&[("王五", nid(3003))], 1),
        t0(),
        "f",
    )
    .await
    .unwrap()
    .unwrap();
    the_district_office_consents(&w, rno).await;
    request::reject_request(
        &w.desk(),
        w.p("li.guowei"),
        rno,
        "未敘明法令依據與關聯性，不予受理",
        t0(),
        "r",
    )
    .await
    .unwrap()
    .unwrap();
    assert!(w.registrations().await.is_empty());
    let stored = w.store.request_by_no(rno).await.unwrap().unwrap();
    assert_eq!(stored.state, querywarden_storage::RequestState::Rejected);
    assert!(stored.opinion.unwrap().contains("不予受理"));
}

// ---------------------------------------------------------------------------------------
// Model test: no sequence of calls by any mix of the demo roles gets data out without an
// approved, unexpired, unexecuted registration for that subject and item.

/// Records what reaches the "service".
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(String, String, String)>>>);

impl Connector for Recorder {
    fn query(
        &self,
        req: &QueryRequest,
    ) -> impl Future<Output = Result<BliRecords, ConnectorError>> + Send {
        self.0.lock().unwrap().push((
            req.request_id.clone(),
            req.subject.expose_whole().to_string(),
            req.item.code().to_string(),
        ));
        let answer =
            simulator::expected_records(&req.subject, req.item, SimulatorConfig::default().as_of);
        async move { answer }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Register {
        applicant: usize,
        querier: usize,
        subject: usize,
        items: usize,
    },
    Approve {
        who: usize,
        reg: usize,
    },
    Reject {
        who: usize,
        reg: usize,
    },
    Cancel {
        who: usize,
        reg: usize,
    },
    Execute {
        who: usize,
        reg: usize,
        item: Option<usize>,
    },
    Portal {
        who: usize,
        reg: usize,
    },
    View {
        who: usize,
        reg: usize,
        item: usize,
    },
    Wait {
        days: i64,
    },
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        // Queriers are lin (index 0) or li (3) most of the time, so that registrations succeed.
        5 => (0..8usize, prop_oneof![4 => Just(0usize), 4 => Just(3usize), 1 => 0..8usize], 0..2usize, 0..3usize)
            .prop_map(|(applicant, querier, subject, items)| Op::Register { applicant, querier, subject, items }),
        3 => (0..8usize, 0..6usize).prop_map(|(who, reg)| Op::Approve { who, reg }),
        1 => (0..8usize, 0..6usize).prop_map(|(who, reg)| Op::Reject { who, reg }),
        1 => (0..8usize, 0..6usize).prop_map(|(who, reg)| Op::Cancel { who, reg }),
        4 => (0..8usize, 0..6usize, proptest::option::of(0..2usize)).prop_map(|(who, reg, item)| Op::Execute { who, reg, item }),
        1 => (0..8usize, 0..6usize).prop_map(|(who, reg)| Op::Portal { who, reg }),
        2 => (0..8usize, 0..6usize, 0..2usize).prop_map(|(who, reg, item)| Op::View { who, reg, item }),
        1 => (0..5i64).prop_map(|days| Op::Wait { days }),
    ]
}

/// The model's view of a registration the app accepted.
struct ModelReg {
    no: RegistrationNo,
    subject: String,
    items: BTreeSet<String>,
    querier: PersonId,
    needer: PersonId,
    applicant: PersonId,
    supervisor: Option<PersonId>,
    approved_at: Option<Timestamp>,
    closed: bool,
    executed: BTreeSet<String>,
    with_result: BTreeSet<String>,
}

/// The item sets a model registration asks for, and the single items an execution or a view
/// names.
const ITEM_SETS: [&[&str]; 3] = [&["C0101"], &["B0101"], &["C0101", "B0101"]];
const ITEM_CODES: [&str; 2] = ["C0101", "B0101"];

/// The model run against the app: the world, what reached the "service", and the model's
/// view of each registration the app accepted, on the model's clock.
struct Model {
    w: World,
    rec: Recorder,
    subjects: [String; 2],
    supervisors: BTreeMap<querywarden_domain::org::UnitId, PersonId>,
    regs: Vec<ModelReg>,
    now: Timestamp,
    seen_calls: usize,
}

impl Model {
    async fn new() -> Model {
        let w = World::new().await;
        let supervisors = w.store.unit_supervisors().await.unwrap();
        Model {
            w,
            rec: Recorder::default(),
            subjects: [nid(5001), nid(5002)],
            supervisors,
            regs: Vec::new(),
            now: t0(),
            seen_calls: 0,
        }
    }

    /// §4 registration: when the app accepts it, the querier holds the role, is in the
    /// applicant's unit and is granted every item asked for.
    async fn register(
        &mut self,
        k: usize,
        applicant: usize,
        querier: usize,
        subject: usize,
        set: usize,
    ) {
        let w = &self.w;
        let a = w.p(ACCOUNTS[applicant]).clone();
        let q = w.p(ACCOUNTS[querier]).clone();
        let mut form = w.form(
            &self.subjects[subject],
            ACCOUNTS[querier],
            ITEM_SETS[set],
            &format!("模型測試第 {k} 案：低收入戶資格審查"),
        );
        form.subject_name = "王大同".into();
        let r = registration::register(&w.desk(), &a, &form, self.now, &format!("op{k}"))
            .await
            .unwrap();
        if let Ok(done) = r {
            assert!(q.has_role(querywarden_domain::org::Role::Querier));
            assert_eq!(a.unit, q.unit);
            let granted = &w.grants.0[&q.id];
            assert!(ITEM_SETS[set].iter().all(|i| granted.contains(&item(i))));
            self.regs.push(ModelReg {
                no: done.no,
                subject: self.subjects[subject].clone(),
                items: ITEM_SETS[set].iter().map(|s| s.to_string()).collect(),
                querier: q.id,
                needer: a.id,
                applicant: a.id,
                supervisor: self.supervisors.get(&a.unit).copied(),
                approved_at: None,
                closed: false,
                executed: BTreeSet::new(),
                with_result: BTreeSet::new(),
            });
        }
    }

    /// §4 approval or rejection: only the needer's supervisor, never a party, only while open.
    async fn decide(&mut self, rid: &str, who: usize, reg: usize, approve: bool) {
        let w = &self.w;
        let p = w.p(ACCOUNTS[who]).clone();
        let m = &mut self.regs[reg];
        let cap = registration::approver_of(&w.desk(), &p, m.no)
            .await
            .unwrap();
        let Ok(cap) = cap else { return };
        assert_eq!(Some(p.id), m.supervisor);
        assert!(p.id != m.querier && p.id != m.needer && p.id != m.applicant);
        assert!(m.approved_at.is_none() && !m.closed);
        if approve {
            registration::approve(&w.desk(), cap, None, self.now, rid)
                .await
                .unwrap()
                .unwrap();
            m.approved_at = Some(self.now);
        } else {
            registration::reject(&w.desk(), cap, "不同意", self.now, rid)
                .await
                .unwrap()
                .unwrap();
            m.closed = true;
        }
    }

    /// A cancellation: only by a party, and only before anything ran.
    async fn cancel(&mut self, rid: &str, who: usize, reg: usize) {
        let w = &self.w;
        let p = w.p(ACCOUNTS[who]).clone();
        let m = &mut self.regs[reg];
        if registration::cancel(&w.desk(), &p, m.no, self.now, rid)
            .await
            .unwrap()
            .is_ok()
        {
            assert!(p.id == m.querier || p.id == m.needer || p.id == m.applicant);
            assert!(m.executed.is_empty());
            m.closed = true;
            m.approved_at = None;
        }
    }

    /// §5 connected execution: when it runs, it is the querier's, approved, unexpired, open,
    /// each item once, and only this registration's subject and items reach the service; a
    /// refused one reaches nothing.
    async fn execute(&mut self, rid: &str, who: usize, reg: usize, it: Option<usize>) {
        let w = &self.w;
        let s = w.signed_in(ACCOUNTS[who]);
        let m = &mut self.regs[reg];
        let wanted = it.map(|i| items(&[ITEM_CODES[i]]));
        let r = execution::execute_connected(
            &w.desk(),
            &self.rec,
            &s,
            m.no,
            wanted.as_ref(),
            self.now,
            rid,
        )
        .await
        .unwrap();
        let calls = self.rec.0.lock().unwrap().clone();
        let new_calls = &calls[self.seen_calls..];
        self.seen_calls = calls.len();
        match r {
            Ok(report) => {
                let approved = m.approved_at.expect("executed without approval");
                assert!(
                    self.now < approved + SignedDuration::from_hours(24 * 7),
                    "executed after expiry"
                );
                assert_eq!(s.person.id, m.querier);
                assert!(!m.closed);
                assert_eq!(new_calls.len(), report.items.len());
                for i in &report.items {
                    assert!(m.items.contains(i.item.as_str()));
                    assert!(m.executed.insert(i.item.to_string()), "executed twice");
                    m.with_result.insert(i.item.to_string());
                }
                for (req, subj, code) in new_calls {
                    assert_eq!(subj, &m.subject, "wrong subject sent");
                    assert!(req.starts_with(rid) && m.items.contains(code));
                }
            }
            Err(_) => assert!(
                new_calls.is_empty(),
                "a refused execution reached the service"
            ),
        }
    }

    /// A portal execution recorded: the querier's, approved and unexpired, each item once.
    async fn portal(&mut self, rid: &str, who: usize, reg: usize) {
        let w = &self.w;
        let s = w.signed_in(ACCOUNTS[who]);
        let m = &mut self.regs[reg];
        let r = execution::record_portal_execution(
            &w.desk(),
            &s,
            m.no,
            &PortalReport::default(),
            self.now,
            rid,
        )
        .await
        .unwrap();
        if let Ok(report) = r {
            let approved = m.approved_at.expect("recorded without approval");
            assert!(self.now < approved + SignedDuration::from_hours(24 * 7));
            assert_eq!(s.person.id, m.querier);
            for i in &report.items {
                assert!(m.executed.insert(i.item.to_string()), "recorded twice");
            }
        }
    }

    /// §6 viewing a result: only the querier or the needer, and only a result that ran.
    async fn view(&self, rid: &str, who: usize, reg: usize, i: usize) {
        let w = &self.w;
        let p = w.p(ACCOUNTS[who]).clone();
        let m = &self.regs[reg];
        let r = execution::view_result(&w.desk(), &p, m.no, &item(ITEM_CODES[i]), self.now, rid)
            .await
            .unwrap();
        if r.is_ok() {
            assert!(
                p.id == m.querier || p.id == m.needer,
                "result shown to a third party"
            );
            assert!(
                m.with_result.contains(ITEM_CODES[i]),
                "a result with no execution"
            );
        }
    }
}

async fn run_model(ops: Vec<Op>) {
    let mut model = Model::new().await;
    for (k, op) in ops.into_iter().enumerate() {
        let rid = format!("op{k}");
        let known = |reg: usize| reg < model.regs.len();
        match op {
            Op::Register {
                applicant,
                querier,
                subject,
                items: set,
            } => model.register(k, applicant, querier, subject, set).await,
            Op::Approve { who, reg } if known(reg) => model.decide(&rid, who, reg, true).await,
            Op::Reject { who, reg } if known(reg) => model.decide(&rid, who, reg, false).await,
            Op::Cancel { who, reg } if known(reg) => model.cancel(&rid, who, reg).await,
            Op::Execute { who, reg, item: it } if known(reg) => {
                model.execute(&rid, who, reg, it).await;
            }
            Op::Portal { who, reg } if known(reg) => model.portal(&rid, who, reg).await,
            Op::View { who, reg, item: i } if known(reg) => model.view(&rid, who, reg, i).await,
            Op::Wait { days } => model.now += SignedDuration::from_hours(24 * days),
            _ => {}
        }
    }
    // Every call that reached the service belongs to a registration the model approved.
    let calls = model.rec.0.lock().unwrap().clone();
    let executed: usize = model.regs.iter().map(|m| m.with_result.len()).sum();
    assert_eq!(calls.len(), executed);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, ..Default::default() })]
    #[test]
    fn no_sequence_of_calls_gets_data_out_without_an_approved_unexpired_unexecuted_registration(
        ops in proptest::collection::vec(op(), 1..50)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run_model(ops));
    }
}

/// §2: a transfer cancels the person's open lookups, audited, and leaves
/// executed ones alone.
#[tokio::test]
async fn a_transfer_cancels_the_open_registrations_of_the_person_who_moves() {
    let w = World::new().await;
    let open = w
        .approved(
            &nid(7),
            &["C0101"],
            "調職前尚未執行之查調：低收入戶資格審查",
        )
        .await;
    let now = Timestamp::now();
    let today = querywarden_domain::roc_date::taipei_date(now).format_short();
    let admin = w.p("wu.zhiming").id;
    let desk = querywarden_app::permission::administrator_desk(
        &w.store,
        &querywarden_app::permission::PermissionPolicy::default(),
        admin,
        &querywarden_app::permission::Op::new(now, "t"),
    )
    .await
    .unwrap();
    let csv = format!(
        "account,national_id,name,unit,title,status,effective_date\n\
         lin.meiling,,林美玲,elderly-welfare,社會工作師,transferred,{today}\n"
    );
    let op = querywarden_app::permission::Op::new(now, "staff-import");
    querywarden_app::permission::staff::import_staff_csv(&w.store, &desk, &csv, &op)
        .await
        .unwrap();
    let r = w.row(open).await;
    assert!(
        matches!(r.state, RegistrationState::Cancelled { .. }),
        "{:?}",
        r.state
    );
    let cancelled = audit(&w.store, "query.registration.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].object_id, open.to_string());
    assert!(
        cancelled[0].subject_hmac.is_some(),
        "the subject as its digest only"
    );
}

/// The desk the configured app opens with: its grants come from the store.
type AppDesk<'a> = Desk<'a, querywarden_app::grants::StoreGrants>;

/// Form 2 lin files for herself with no case yet (a reason given instead), on C0101.
fn a_form_without_a_case(lin: PersonId, subject: &str, relevance: &str) -> RegisterQueryRequest {
    RegisterQueryRequest {
        subject_name: "王大同".into(),
        subject_id: subject.into(),
        linked_id: None,
        purpose: QueryPurpose {
            items: vec!["C0101".into()],
            legal_basis: BASIS.into(),
            relevance: relevance.into(),
            case_no: None,
            companion_basis: None,
            no_case_reason: Some("尚未立案，先行查核資格".into()),
            needer: None,
            querier: lin.into(),
        },
    }
}

/// lin registers `subject` through the configured app's desk; the app accepts it.
async fn lin_registers(
    desk: &AppDesk<'_>,
    lin: &Person,
    subject: &str,
    relevance: &str,
    now: Timestamp,
    rid: &str,
) -> registration::Registered {
    let form = a_form_without_a_case(lin.id, subject, relevance);
    registration::register(desk, lin, &form, now, rid)
        .await
        .unwrap()
        .unwrap()
}

/// The demo app opened from `raw`, seeded, with the demo queriers granted at `now`.
async fn the_configured_demo_app(
    raw: querywarden_app::config::RawConfig,
    now: Timestamp,
) -> querywarden_app::App {
    let app = querywarden_app::App::open(raw.validate().unwrap())
        .await
        .unwrap();
    app.seed_demo().await.unwrap();
    querywarden_app::demo_grants::grant_demo_queriers(
        app.store(),
        app.keys(),
        &app.config().permission,
        now,
        "t",
    )
    .await
    .unwrap();
    app
}

/// A subject on the restricted list: registered, and the ethics office is flagged in the
/// audit record, which keeps the ID only as its digest.
async fn a_restricted_subject_alerts_the_ethics_office(
    app: &querywarden_app::App,
    lin: &Person,
    vip: &str,
    now: Timestamp,
) -> RegistrationNo {
    let relevance = "特別注意名單個案之低收入戶資格審查";
    let r = lin_registers(&app.desk(), lin, vip, relevance, now, "r1").await;
    assert_eq!(r.findings, vec!["snooping.restricted_list".to_string()]);
    assert!(!r.second_approval_required);
    let created = app
        .store()
        .audit_search(&AuditFilter {
            action: Some("query.registration.created".into()),
            object_id: Some(r.no.to_string()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    let entry = String::from_utf8_lossy(&created[0].entry).into_owned();
    assert!(entry.contains("\"ethics_alert\":true"), "{entry}");
    assert!(!entry.contains(vip));
    r.no
}

/// The ethics office sees the alert in its inbox: number, rule, time, masked ID only; nobody
/// else has the alerts list.
async fn only_the_ethics_office_sees_the_alert(
    desk: &AppDesk<'_>,
    zheng: &Person,
    chen: &Person,
    (vip_no, vip): (RegistrationNo, &str),
    now: Timestamp,
) {
    let inbox = registration::inbox(desk, zheng, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(inbox.ethics_alerts.len(), 1, "{:?}", inbox.ethics_alerts);
    let alert = &inbox.ethics_alerts[0];
    assert_eq!(alert.no, vip_no);
    assert_eq!(
        alert.rules,
        vec![querywarden_domain::snooping::SnoopingRule::RestrictedList]
    );
    assert_eq!(
        alert.at.as_microsecond(),
        now.as_microsecond(),
        "the registration time"
    );
    assert_eq!(
        alert.subject_id_masked,
        NationalId::parse(vip).unwrap().masked()
    );
    let inbox = registration::inbox(desk, chen, Timestamp::now())
        .await
        .unwrap();
    assert!(inbox.ethics_alerts.is_empty());
}

/// The snooping screen from configuration: `registration.restricted_list` and
/// `registration.staff_ids` are read by `App::open` into the screen the desk uses.
#[tokio::test]
async fn snooping_lists_from_configuration_alert_the_ethics_office_and_ask_for_a_second_approver() {
    let dir = tempfile::tempdir().unwrap();
    let vip = nid(910);
    let staff = nid(911);
    let vip_file = dir.path().join("restricted.txt");
    let staff_file = dir.path().join("staff.txt");
    std::fs::write(&vip_file, format!("# 特別注意名單\n{vip}  # 議員\n")).unwrap();
    std::fs::write(&staff_file, format!("# 人事室提供\n\n{staff}\n")).unwrap();
    let mut raw = querywarden_app::config::RawConfig::default();
    raw.storage.data_dir = dir.path().join("data");
    raw.bli.mode = querywarden_app::config::BliMode::Portal;
    raw.registration.restricted_list = Some(vip_file.clone());
    raw.registration.staff_ids = Some(staff_file);
    let now = Timestamp::now();
    let app = the_configured_demo_app(raw.clone(), now).await;
    let person = |a: &str| {
        let store = app.store().clone();
        let a = Account::parse(a).unwrap();
        async move { store.person_by_account(&a).await.unwrap().unwrap() }
    };
    let lin = person("lin.meiling").await;
    let chen = person("chen.jianhong").await;
    let desk = app.desk();

    let vip_no = a_restricted_subject_alerts_the_ethics_office(&app, &lin, &vip, now).await;

    // A member of staff (known only from the personnel file): a second approver is needed.
    let relevance = "同仁家屬申請急難救助，需查核其投保狀況";
    let r = lin_registers(&desk, &lin, &staff, relevance, now, "r2").await;
    assert!(r.second_approval_required);
    assert_eq!(r.findings, vec!["snooping.subject_is_staff".to_string()]);
    let cap = registration::approver_of(&desk, &chen, r.no)
        .await
        .unwrap()
        .unwrap();
    let state = registration::approve(&desk, cap, Some("同意"), now, "a1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.code(), "awaiting_second_approval");

    // Anyone else: no findings.
    let relevance = "低收入戶申請，須查核申請人投保薪資";
    let r = lin_registers(&desk, &lin, &nid(912), relevance, now, "r3").await;
    assert!(r.findings.is_empty() && !r.second_approval_required);

    let zheng = person("zheng.zhihao").await;
    only_the_ethics_office_sees_the_alert(&desk, &zheng, &chen, (vip_no, &vip), now).await;
    app.close().await;

    // A bad line stops start-up, naming the key and the line, never the line itself.
    std::fs::write(&vip_file, format!("{vip}\nA12345678X\n")).unwrap();
    let err = querywarden_app::App::open(raw.validate().unwrap())
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("registration.restricted_list") && shown.contains("第 2 行"),
        "{shown}"
    );
    assert!(!shown.contains("A12345678X") && !shown.contains(&vip));
}

// --- Holes found by attacking the running demo -------------------------------------------

#[tokio::test]
async fn every_refused_decision_is_audited_with_its_rule() {
    let w = World::new().await;
    let no = w
        .lin_registers(&nid(3), "老人福利申請，查核家庭成員收入")
        .await;
    let decide = |who: &'static str, no: RegistrationNo| {
        let w = &w;
        async move {
            registration::decide(
                &w.desk(),
                w.p(who),
                no,
                registration::Decision::Approve(Some("同意")),
                t0(),
                "req-decide",
            )
            .await
            .unwrap()
        }
    };
    // Self-approval, a supervisor of another unit, a non-supervisor.
    assert_eq!(
        code(decide("lin.meiling", no).await),
        "approval.separation_of_duties"
    );
    // Those two may not even see the row (§9): answered as a number that does not exist;
    // the trail keeps the rule.
    assert_eq!(
        code(decide("xu.wenjie", no).await),
        "registration.not_found"
    );
    assert_eq!(
        code(decide("huang.yating", no).await),
        "registration.not_found"
    );
    // The right supervisor approves; a second approval is refused.
    decide("chen.jianhong", no).await.unwrap();
    assert_eq!(
        code(decide("chen.jianhong", no).await),
        "registration.wrong_state"
    );
    // Approval after cancel.
    let cancelled = w.lin_registers(&nid(4), "身心障礙補助，確認就業狀況").await;
    registration::cancel(&w.desk(), w.p("lin.meiling"), cancelled, t0(), "req-cancel")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        code(decide("chen.jianhong", cancelled).await),
        "registration.wrong_state"
    );
    // A rejection without a comment, and a number that does not exist.
    let reject = registration::decide(
        &w.desk(),
        w.p("chen.jianhong"),
        cancelled,
        registration::Decision::Reject(" "),
        t0(),
        "req-reject",
    )
    .await
    .unwrap();
    assert!(reject.is_err());
    let missing = "115-999999".parse::<RegistrationNo>().unwrap();
    assert_eq!(
        code(decide("chen.jianhong", missing).await),
        "registration.not_found"
    );
    let approved = w.outcomes("query.registration.approved").await;
    let refused: Vec<&String> = approved
        .iter()
        .filter(|o| o.starts_with("refused:"))
        .collect();
    assert_eq!(refused.len(), 6, "{approved:?}");
    for want in [
        "refused:approval.separation_of_duties",
        "refused:approval.not_supervisor",
        "refused:registration.wrong_state",
        "refused:registration.not_found",
    ] {
        assert!(approved.iter().any(|o| o == want), "{want} in {approved:?}");
    }
    assert_eq!(approved.iter().filter(|o| *o == "succeeded").count(), 1);
    let rejected = w.outcomes("query.registration.rejected").await;
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].starts_with("refused:"));
}

/// A valid national ID ending in `last4` (a Form 1 must carry the digits on record).
fn nid_ending(last4: &str) -> String {
    (0..10_000)
        .map(|n| format!("A1{n:04}{last4}"))
        .find(|s| NationalId::parse(s).is_ok())
        .unwrap()
}

#[tokio::test]
async fn looking_up_your_own_record_is_refused_from_the_national_id_on_your_form_1() {
    let mut w = World::new().await;
    // A deployment that only warns about parties still refuses a self-lookup.
    w.settings.snooping.actions.insert(
        querywarden_domain::snooping::SnoopingRule::SubjectIsParty,
        querywarden_domain::snooping::SnoopingAction::Warn,
    );
    let lin = w.p("lin.meiling").id;
    let last4 = w
        .store
        .person_id_last4(lin)
        .await
        .unwrap()
        .unwrap_or("6789".into());
    let own = nid_ending(&last4);
    let form = querywarden_domain::permission::ApplicationForm {
        kind: querywarden_domain::permission::ApplicationKind::New,
        reason: "辦理社會救助業務查調".into(),
        national_id: NationalId::parse(&own).unwrap(),
        phone: "07-3373000".into(),
        email: "lin@example.invalid".into(),
        egov_account: "lin-egov".into(),
        items: items(&["C0101"]),
        confirmations: querywarden_domain::permission::Confirmations {
            read_pdpa_and_rules: true,
            has_certificate_and_reader: true,
        },
    };
    querywarden_app::permission::create_application(
        &w.store,
        &w.keys,
        lin,
        form,
        &querywarden_app::permission::Op::new(t0(), "req-form1"),
    )
    .await
    .unwrap();
    // No staff-ID file is configured (the screen is empty): the Form 1 is enough.
    let r = w
        .register(
            "lin.meiling",
            &w.form(
                &own,
                "lin.meiling",
                &["C0101"],
                "查核本人投保資料以便申請補助",
            ),
        )
        .await;
    assert_eq!(code(r), "snooping.subject_is_party");
    // A colleague looking her up is told she is staff (a second approver is needed).
    let other = w
        .register(
            "li.guowei",
            &w.form(&own, "li.guowei", &["C0101"], "急難救助個案，確認家屬投保"),
        )
        .await
        .unwrap();
    let view = registration::registration_view(&w.desk(), w.p("li.guowei"), other, t0(), "v")
        .await
        .unwrap()
        .unwrap();
    assert!(
        view.registration
            .findings
            .contains(&"snooping.subject_is_staff".to_string()),
        "{:?}",
        view.registration.findings
    );
    let refused = w.outcomes("query.registration.created").await;
    assert!(refused.contains(&"refused:snooping.subject_is_party".to_string()));
}

#[tokio::test]
async fn every_read_of_a_registration_is_audited_and_strangers_cannot_tell_it_exists() {
    let w = World::new().await;
    let subject = nid(71);
    let no = w
        .approved(&subject, &["C0101"], "老人保護個案，確認子女就業")
        .await;
    for _ in 0..3 {
        registration::registration_view(&w.desk(), w.p("lin.meiling"), no, t0(), "req-v")
            .await
            .unwrap()
            .unwrap();
    }
    let stranger = registration::registration_view(&w.desk(), w.p("xu.wenjie"), no, t0(), "v")
        .await
        .unwrap();
    let missing = "115-999999".parse::<RegistrationNo>().unwrap();
    let nothing = registration::registration_view(&w.desk(), w.p("xu.wenjie"), missing, t0(), "v")
        .await
        .unwrap();
    // The same answer for a number that exists and one that does not.
    assert_eq!(code(stranger), "registration.not_found");
    assert_eq!(code(nothing), "registration.not_found");
    let viewed = w.audit("query.registration.viewed").await;
    let got: Vec<&str> = viewed.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(got.iter().filter(|o| **o == "succeeded").count(), 3);
    assert!(got.contains(&"refused:registration.not_allowed"));
    assert!(got.contains(&"refused:registration.not_found"));
    assert!(
        viewed
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.entry).contains(&subject)),
        "the subject appears only as its digest"
    );
}

#[tokio::test]
async fn a_batch_saved_by_excel_with_bom_crlf_and_quoted_commas_reads_and_a_short_row_names_its_line()
 {
    let w = World::new().await;
    let good = RegisterBatchRequest {
        csv: format!("\u{feff}姓名,身分證字號\r\n\"王, 一\",{}\r\n", nid(121)),
        purpose: QueryPurpose {
            items: vec!["C0101".into()],
            legal_basis: BASIS.into(),
            relevance: "115 年度低收入戶總清查，核對全體列冊戶投保資料".into(),
            case_no: None,
            companion_basis: None,
            no_case_reason: Some("年度總清查，不另分案".into()),
            needer: None,
            querier: w.p("lin.meiling").id.into(),
        },
    };
    let short = RegisterBatchRequest {
        csv: format!("{}王二\r\n", good.csv),
        ..good.clone()
    };
    match w.batch(&short).await {
        Err(Denied::Batch(errors)) => {
            let lines: Vec<(usize, &str)> =
                errors.iter().map(|e| (e.line, e.error.code())).collect();
            assert_eq!(lines, vec![(3, "registration.subject_id")]);
        }
        other => panic!("{other:?}"),
    }
    let done = w.batch(&good).await.unwrap();
    assert_eq!(done.len(), 1);
}

#[tokio::test]
async fn a_broken_quote_in_a_batch_names_its_line_and_registers_nothing() {
    let w = World::new().await;
    let batch = RegisterBatchRequest {
        csv: format!("王一,{}\n\"王二,{}\n", nid(111), nid(112)),
        purpose: QueryPurpose {
            items: vec!["C0101".into()],
            legal_basis: BASIS.into(),
            relevance: "115 年度低收入戶總清查，核對全體列冊戶投保資料".into(),
            case_no: None,
            companion_basis: None,
            no_case_reason: Some("年度總清查，不另分案".into()),
            needer: None,
            querier: w.p("lin.meiling").id.into(),
        },
    };
    let r = w.batch(&batch).await;
    match r {
        Err(d @ Denied::BatchLineFormat { line: 2, .. }) => {
            assert_eq!(d.code(), "registration.batch_format");
            assert!(d.message_zh().contains("第 2 列"));
        }
        other => panic!("expected a format error on line 2, got {other:?}"),
    }
    assert!(
        w.audit("query.registration.created")
            .await
            .iter()
            .all(|r| r.outcome != "succeeded")
    );
}

#[tokio::test]
async fn a_results_keeping_period_follows_its_case_type_from_the_configuration() {
    let mut w = World::new().await;
    // BASIS (社會救助法第44條之3第1項) serves explicit data requests.
    w.settings
        .retention
        .by_legal_basis
        .insert(BASIS.parse().unwrap(), 90);
    w.settings
        .retention
        .by_case_type
        .insert("explicit_data_request".into(), 10);
    let no = w
        .approved(&nid(70), &["C0101"], "低收入戶資格審查，核對投保薪資")
        .await;
    w.execute("lin.meiling", no, t0()).await.unwrap();
    let res = w.c0101_result(no).await;
    assert_eq!(res.retention_rule, "case_type:explicit_data_request");
    let received = querywarden_domain::roc_date::taipei_date(t0());
    assert_eq!(
        res.destroy_after.civil(),
        received
            .civil()
            .checked_add(jiff::Span::new().days(10))
            .unwrap()
    );
    // Without a case-type rule the legal basis decides.
    w.settings.retention.by_case_type.clear();
    let no = w
        .approved(&nid(71), &["C0101"], "急難救助申請，確認家庭成員工作收入")
        .await;
    w.execute("lin.meiling", no, t0()).await.unwrap();
    let res = w.c0101_result(no).await;
    assert_eq!(res.retention_rule, format!("legal_basis:{BASIS}"));
}

#[tokio::test]
async fn the_subject_of_a_row_is_destroyed_when_the_records_keeping_period_ends() {
    let w = World::new().await;
    let subject = nid(72);
    let no = w
        .approved(&subject, &["C0101"], "急難救助個案，確認最近投保")
        .await;
    w.execute("lin.meiling", no, t0()).await.unwrap();
    let days = |n: i64| t0() + SignedDuration::from_hours(24 * n);
    let destroy = |at: Timestamp| {
        let w = &w;
        async move {
            querywarden_app::custody::subjects::destroy_expired_subjects(
                &w.store, &w.keys, at, "job",
            )
            .await
            .unwrap()
        }
    };
    // Five years are not over on the last day of the fifth year (115-03-02 → 120-03-02,
    // 1,826 days with 29 February 2028).
    assert_eq!(destroy(days(1826)).await.count(), 0);
    // Past it, a row whose result is still held waits for the result.
    let later = days(1827);
    assert_eq!(destroy(later).await.count(), 0, "result still held");
    execution::destroy_due(&w.store, later, "job")
        .await
        .unwrap();
    let report = destroy(later).await;
    assert_eq!(report.registrations, vec![no]);
    assert_eq!(destroy(later).await.count(), 0, "once only");
    // What remains: the digest (the row is still found), and the masked forms.
    let r = w.row(no).await;
    assert!(!r.subject_digest.is_empty());
    let view = registration::registration_view(&w.desk(), w.p("lin.meiling"), no, later, "v")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.subject_name, "王○同");
    assert_eq!(
        view.subject_id_masked,
        NationalId::parse(&subject).unwrap().masked()
    );
    assert_eq!(
        code(
            registration::reveal_national_id(&w.desk(), w.p("lin.meiling"), no, later, "r")
                .await
                .unwrap()
        ),
        "registration.subject_destroyed"
    );
    // The sealed bytes and their key are gone from the row.
    assert!(w.store.registration_subject(r.id).await.unwrap().is_none());
    let records = w.audit("query.subject.destroyed").await;
    assert_eq!(records.len(), 1);
    assert!(records[0].subject_hmac.is_some());
}

#[tokio::test]
async fn prints_are_numbered_and_limited_and_one_more_needs_a_reason() {
    let w = World::new().await;
    let no = w
        .approved(&nid(73), &["C0101"], "身心障礙者生活補助，核對收入")
        .await;
    w.execute("lin.meiling", no, t0()).await.unwrap();
    let print = |reason: Option<&'static str>| w.print("lin.meiling", no, reason, t0(), "p");
    assert_eq!(print(None).await.unwrap().print_no, Some(1));
    assert_eq!(code(print(None).await), "result.print_limit");
    assert_eq!(code(print(Some("  ")).await), "result.print_limit");
    let second = print(Some("原本遺失，補印歸檔")).await.unwrap();
    assert_eq!(second.print_no, Some(2));
    assert!(second.watermark.contains("列印第 2 份"));
    let printed = w.outcomes("result.printed").await;
    assert_eq!(
        printed.iter().filter(|o| *o == "succeeded").count(),
        2,
        "{printed:?}"
    );
    assert_eq!(
        printed
            .iter()
            .filter(|o| *o == "refused:result.print_limit")
            .count(),
        2
    );
    // The reason is kept with the print, not in the trail.
    let trail = format!("{:?}", w.audit("result.printed").await);
    assert!(!trail.contains("補印歸檔"));
}

#[tokio::test]
async fn whole_records_through_the_api_are_off_unless_configured_and_each_call_is_a_view() {
    let mut w = World::new().await;
    let no = w
        .approved(&nid(74), &["C0101"], "中低收入老人生活津貼，核對年金")
        .await;
    w.execute("lin.meiling", no, t0()).await.unwrap();
    async fn api(w: &World, no: RegistrationNo) -> Result<execution::ResultView, Denied> {
        let api = execution::Access::view().via_api();
        execution::open_result(
            &w.desk(),
            w.p("lin.meiling"),
            no,
            &item("C0101"),
            api,
            t0(),
            "a",
        )
        .await
        .unwrap()
    }
    assert_eq!(code(api(&w, no).await), "result.api_disabled");
    w.settings.results_api = true;
    assert!(api(&w, no).await.is_ok());
    let viewed = w.audit("result.viewed").await;
    assert_eq!(viewed.len(), 2);
    assert_eq!(viewed[0].outcome, "succeeded");
    assert_eq!(viewed[1].outcome, "refused:result.api_disabled");
    assert!(
        String::from_utf8_lossy(&viewed[0].entry).contains("\"channel\":\"api\""),
        "{:?}",
        viewed[0]
    );
}

// ---------------------------------------------------------------------------------------
// Bulk work (§5): many registrations decided at once, a whole Form 3 request run at once —
// each still its own decision or execution, with its own audit record.

/// `(no, outcome)` of every record of `action`, in the order written.
async fn records(w: &World, action: &str) -> Vec<(String, String)> {
    let mut rs = w.audit(action).await;
    rs.sort_by_key(|r| r.seq);
    rs.into_iter().map(|r| (r.object_id, r.outcome)).collect()
}

/// lin registers `nid(n)` for herself on C0101 with `why` as its relevance.
async fn lin_registers_c0101(w: &World, n: u32, why: &str) -> RegistrationNo {
    let lin = "lin.meiling";
    w.register(lin, &w.form(&nid(n), lin, &["C0101"], why))
        .await
        .unwrap()
}

/// The supervisor's queue lists a, b and c with what the decision rests on — the subject
/// (name, masked ID), the querier, the basis and the relevance, never the whole ID — and
/// §9: each row shown is a read of personal data, audited. Someone who approves nothing has
/// an empty queue (and nothing read).
async fn the_queue_shows_what_each_decision_rests_on(w: &World, abc: [RegistrationNo; 3]) {
    let lin = "lin.meiling";
    let queue = registration::awaiting_decision(&w.desk(), w.p("chen.jianhong"), t0(), "q")
        .await
        .unwrap();
    assert_eq!(queue.iter().map(|q| q.no).collect::<Vec<_>>(), abc.to_vec());
    assert_eq!(queue[0].subject_name, "王大同");
    assert_eq!(
        queue[0].subject_id_masked,
        NationalId::parse(&nid(4001)).unwrap().masked()
    );
    assert_ne!(queue[0].subject_id_masked, nid(4001));
    assert_eq!(queue[1].parties.querier, w.p(lin).id);
    assert_eq!(queue[1].legal_basis.as_str(), BASIS);
    assert!(queue[1].relevance.contains("乙"));
    let reads = records(w, "query.registration.viewed").await;
    assert_eq!(reads.len(), 3);
    assert!(reads.iter().all(|(_, o)| o == "succeeded"));
    assert!(
        registration::awaiting_decision(&w.desk(), w.p(lin), t0(), "q")
            .await
            .unwrap()
            .is_empty()
    );
}

/// chen approves a, c and b at once (a given twice), c having been withdrawn: a and b
/// approved, c refused as withdrawn, each its own decision with its own audit record.
async fn chen_approves_a_withdrawn_one_among_others(w: &World, [a, b, c]: [RegistrationNo; 3]) {
    let out = registration::decide_many(
        &w.desk(),
        w.p("chen.jianhong"),
        &[a, c, b, a],
        registration::Decision::Approve(Some("同意")),
        t0(),
        "bulk",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        out.iter().map(|i| i.no).collect::<Vec<_>>(),
        vec![a, c, b],
        "a number given twice counts once, in the order given"
    );
    assert_eq!(out[0].answer.as_ref().unwrap().code(), "approved");
    assert_eq!(
        out[1].answer.as_ref().unwrap_err().code(),
        "registration.wrong_state"
    );
    assert_eq!(out[2].answer.as_ref().unwrap().code(), "approved");
    for no in [a, b] {
        let r = w.row(no).await;
        assert_eq!(r.state.code(), "approved");
    }
    let approvals = records(w, "query.registration.approved").await;
    assert_eq!(
        approvals,
        vec![
            (a.to_string(), "succeeded".to_string()),
            (
                c.to_string(),
                "refused:registration.wrong_state".to_string()
            ),
            (b.to_string(), "succeeded".to_string()),
        ]
    );
}

#[tokio::test]
async fn a_supervisor_decides_several_registrations_at_once_and_a_refused_one_does_not_stop_the_others()
 {
    let w = World::new().await;
    let lin = "lin.meiling";
    let a = lin_registers_c0101(&w, 4001, "低收入戶資格審查，需核對申請人甲之投保薪資").await;
    let b = lin_registers_c0101(&w, 4002, "中低收入戶複查，需確認申請人乙之就業狀況").await;
    let c = lin_registers_c0101(&w, 4003, "急難救助申請，需確認申請人丙是否仍有投保").await;
    // c is withdrawn while the supervisor works through the queue.
    the_queue_shows_what_each_decision_rests_on(&w, [a, b, c]).await;
    registration::cancel(&w.desk(), w.p(lin), c, t0(), "cancel")
        .await
        .unwrap()
        .unwrap();
    chen_approves_a_withdrawn_one_among_others(&w, [a, b, c]).await;

    // A querier is no approver: each item is refused on its own rule, and audited.
    let d = lin_registers_c0101(&w, 4004, "身心障礙者生活補助複查，需確認申請人丁之收入").await;
    let out = registration::decide_many(
        &w.desk(),
        w.p(lin),
        &[d],
        registration::Decision::Approve(None),
        t0(),
        "bulk-lin",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        out[0].answer.as_ref().unwrap_err().code(),
        "approval.separation_of_duties"
    );
    assert_eq!(records(&w, "query.registration.approved").await.len(), 4);
}

#[tokio::test]
async fn a_bulk_rejection_needs_its_one_reason_and_an_empty_or_oversized_choice_is_refused_whole() {
    let w = World::new().await;
    let a = lin_registers_c0101(&w, 4101, "低收入戶資格審查，需核對申請人甲之投保薪資").await;
    let b = lin_registers_c0101(&w, 4102, "中低收入戶複查，需確認申請人乙之就業狀況").await;
    let chen = w.p("chen.jianhong").clone();
    let bulk = |nos: Vec<RegistrationNo>, d: registration::Decision<'static>| {
        let desk = w.desk();
        let chen = chen.clone();
        async move {
            registration::decide_many(&desk, &chen, &nos, d, t0(), "bulk")
                .await
                .unwrap()
        }
    };
    // Rejecting without a reason: refused before anything is touched, audited once.
    assert_eq!(
        code(bulk(vec![a, b], registration::Decision::Reject("  ")).await),
        "approval.comment_required"
    );
    assert_eq!(
        code(bulk(vec![], registration::Decision::Approve(None)).await),
        "bulk.none_chosen"
    );
    let too_many: Vec<RegistrationNo> =
        (1..=u32::try_from(registration::MAX_BULK_DECISIONS).unwrap() + 1)
            .map(|n| RegistrationNo::parse(&format!("115-{n:06}")).unwrap())
            .collect();
    assert_eq!(
        code(bulk(too_many, registration::Decision::Approve(None)).await),
        "bulk.too_many"
    );
    let rejections = records(&w, "query.registration.rejected").await;
    assert_eq!(
        rejections,
        vec![(
            "bulk".to_string(),
            "refused:approval.comment_required".to_string()
        )]
    );
    assert_eq!(
        records(&w, "query.registration.approved").await,
        vec![
            ("bulk".to_string(), "refused:bulk.none_chosen".to_string()),
            ("bulk".to_string(), "refused:bulk.too_many".to_string()),
        ]
    );
    for no in [a, b] {
        let r = w.row(no).await;
        assert_eq!(r.state.code(), "registered", "nothing decided");
    }
    // With the reason: both rejected, each with its own record and its refusal notice.
    let out = bulk(
        vec![a, b],
        registration::Decision::Reject("未敘明查調項目與案件之關聯，請補正後重新登記"),
    )
    .await
    .unwrap();
    assert!(
        out.iter()
            .all(|i| i.answer.as_ref().unwrap().code() == "rejected")
    );
    let rejections = records(&w, "query.registration.rejected").await;
    assert_eq!(rejections.len(), 3);
    assert_eq!(rejections[1], (a.to_string(), "succeeded".to_string()));
    assert_eq!(rejections[2], (b.to_string(), "succeeded".to_string()));
}

/// Answers every query from the simulator's population, except that BLI is down for one
/// subject: nothing processed, so the item stays open (§5).
#[derive(Clone)]
struct DownFor(String);

impl Connector for DownFor {
    fn query(
        &self,
        req: &QueryRequest,
    ) -> impl Future<Output = Result<BliRecords, ConnectorError>> + Send {
        let answer = if req.subject.expose_whole() == self.0 {
            Err(ConnectorError::Unavailable(
                querywarden_bli::UnavailableCause::Connect,
            ))
        } else {
            simulator::expected_records(&req.subject, req.item, SimulatorConfig::default().as_of)
        };
        async move { answer }
    }
}

/// Form 3 for three subjects, filed by cai, consented and accepted by li: its three
/// registrations, none approved yet.
async fn a_form3_request_for_three_accepted(w: &World) -> (RequestNo, Vec<RegistrationNo>) {
    let subjects = [
        ("張三", nid(5001)),
        ("李四", nid(5002)),
        ("王五", nid(5003)),
    ];
    let cai = w.p("cai.peiling");
    let rno = request::file_request(&w.desk(), cai, &form3(&subjects, 3), t0(), "f")
        .await
        .unwrap()
        .unwrap();
    the_district_office_consents(w, rno).await;
    let regs = li_accepts(w, rno, "符合規定，受理").await;
    (rno, regs.iter().map(|r| r.no).collect())
}

/// §5: `who` runs every approved item of the request at once at `at`, under request id `op`,
/// against a BLI that is down for the second subject.
async fn run_form3(
    w: &World,
    rno: RequestNo,
    who: &str,
    at: Timestamp,
    op: &str,
) -> Result<Vec<execution::form3::RegistrationRun>, Denied> {
    let connector = DownFor(nid(5002));
    execution::form3::execute_request(
        &w.desk(),
        Some(&connector),
        &w.signed_in(who),
        rno,
        &execution::form3::PortalNote::default(),
        at,
        op,
    )
    .await
    .unwrap()
}

/// The first run, with two of three approved: only those run; BLI down for the second
/// subject fails its items while the first's still ran; each execution has its own records
/// under its own request id.
async fn the_first_run_runs_the_two_approved(w: &World, rno: RequestNo, nos: &[RegistrationNo]) {
    let runs = run_form3(w, rno, "li.guowei", t0(), "run-1").await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.no).collect::<Vec<_>>(),
        vec![nos[0], nos[1]],
        "only what is approved runs"
    );
    let first = runs[0].answer.as_ref().unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(first.items.iter().all(|i| answered(&i.outcome)));
    let second = runs[1].answer.as_ref().unwrap();
    assert!(
        second
            .items
            .iter()
            .all(|i| matches!(i.outcome, ItemOutcome::Failed { .. })),
        "{second:?}"
    );
    let sent = w.audit("query.sent").await;
    assert_eq!(sent.len(), 4);
    for no in [nos[0], nos[1]] {
        assert_eq!(
            sent.iter()
                .filter(|r| r.object_id == no.to_string()
                    && r.request_id.starts_with(&format!("run-1-{no}-")))
                .count(),
            2
        );
    }
    assert_eq!(w.audit("query.result.received").await.len(), 2);
    assert_eq!(w.audit("query.failed").await.len(), 2);
}

#[tokio::test]
async fn the_querier_runs_every_approved_item_of_a_form3_request_at_once_and_one_failure_does_not_stop_the_others()
 {
    let w = World::new().await;
    let (rno, nos) = a_form3_request_for_three_accepted(&w).await;
    // Nothing approved yet: nothing to run, refused and audited on the request.
    assert_eq!(
        code(run_form3(&w, rno, "li.guowei", t0(), "run-0").await),
        "request.nothing_to_execute"
    );
    // Two of three approved; the third waits.
    w.approve("xu.wenjie", nos[0]).await.unwrap();
    w.approve("xu.wenjie", nos[1]).await.unwrap();
    // Someone who may not see the request is answered as for a number that does not exist.
    assert_eq!(
        code(run_form3(&w, rno, "lin.meiling", t0(), "run-x").await),
        "registration.not_found"
    );
    the_first_run_runs_the_two_approved(&w, rno, &nos).await;

    // Later: the third approved; running again runs the third and retries the failed items,
    // never the first's executed items again.
    w.approve("xu.wenjie", nos[2]).await.unwrap();
    let later = t0() + SignedDuration::from_hours(1);
    let runs = run_form3(&w, rno, "li.guowei", later, "run-2")
        .await
        .unwrap();
    assert_eq!(
        runs.iter().map(|r| r.no).collect::<Vec<_>>(),
        vec![nos[1], nos[2]]
    );
    assert_eq!(w.audit("query.sent").await.len(), 8);
    let refused: Vec<String> = records(&w, "query.execution.refused")
        .await
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    assert_eq!(
        refused,
        vec![
            "refused:request.nothing_to_execute".to_string(),
            "refused:registration.not_found".to_string(),
        ]
    );
}
