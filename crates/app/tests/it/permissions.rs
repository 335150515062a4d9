//! Query permissions (§2, Form 1) end to end against the in-memory store and the demo
//! organisation: the whole chain, every separation-of-duties rule, personnel changes by CSV and
//! SCIM, and a recertification round.
//!
//! Who signs in the demo: lin.meiling (社會救助科) applies; chen.jianhong (社會救助科科長)
//! consents; wu.zhiming (資訊小組, 權限管理者) approves with the effective date; 資訊小組 has no
//! supervisor of its own, so zhang.shuhui (秘書室主任, its parent unit's supervisor and the
//! 權限管理單位主管) countersigns. li.guowei is configured as the administrator's deputy.

use crate::common::world_derefs_to_org;
use std::collections::BTreeSet;

use jiff::{Span, Timestamp};
use querywarden_app::permission::recertification::{
    close_recertification, decide_recertification, disable_idle_accounts, enable_account,
    open_recertification,
};
use querywarden_app::permission::staff::{
    StaffImportError, StaffOutcome, apply_due_staff_changes, import_staff_csv, mark_notice_read,
    scim_put_user, unread_notices, upcoming_staff_changes,
};
use querywarden_app::permission::{
    self, GrantFilter, InboxEntry, Op, PermissionError, PermissionPolicy, approver_at_step,
    decide_step,
};
use querywarden_domain::NationalId;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::{Account, PersonId, StaffStatus, UnitId};
use querywarden_domain::permission::recertification::RecertificationDecision;
use querywarden_domain::permission::{
    AdministratorDesk, ApplicationForm, ApplicationId, ApplicationKind, ApplicationState,
    Confirmations, GrantStatus, PermissionApplication, Step, StepDecision, SuspensionCause,
};
use querywarden_domain::roc_date::RocDate;
use querywarden_domain::testing::{approve, approve_from};
use querywarden_testkit::org::{self, Org, audit, audit_all};
use serde_json::json;

/// Monday 2026-03-02, 10:00 in Taipei.
fn monday() -> Timestamp {
    "2026-03-02T02:00:00Z".parse().unwrap()
}

fn op_at(t: Timestamp) -> Op {
    Op::new(t, "test-op")
}

fn op() -> Op {
    op_at(monday())
}

fn days_later(n: i64) -> Op {
    op_at(monday().checked_add(Span::new().hours(24 * n)).unwrap())
}

fn day(y: i16, m: i8, d: i8) -> RocDate {
    RocDate::new(y, m, d).unwrap()
}

fn item(s: &str) -> ServiceItemCode {
    ServiceItemCode::parse(s).unwrap()
}

/// The demo organisation; li.guowei is configured as the administrator's deputy.
struct World {
    org: Org,
    policy: PermissionPolicy,
}

world_derefs_to_org!(World);

impl World {
    async fn new() -> World {
        World {
            org: Org::in_memory(monday()).await,
            policy: PermissionPolicy {
                deputy_administrator: Some(Account::parse("li.guowei").unwrap()),
                ..PermissionPolicy::default()
            },
        }
    }

    /// The person id of `account` as the store has it now (SCIM may have added them).
    async fn id(&self, account: &str) -> PersonId {
        org::person(&self.store, account).await.id
    }

    async fn apply(
        &self,
        who: &str,
        kind: ApplicationKind,
        items: &[&str],
    ) -> PermissionApplication {
        self.try_apply(self.id(who).await, kind, items)
            .await
            .unwrap()
    }

    /// `person` applies for `items`, refused or not.
    async fn try_apply(
        &self,
        person: PersonId,
        kind: ApplicationKind,
        items: &[&str],
    ) -> Result<PermissionApplication, PermissionError> {
        permission::create_application(&self.store, &self.keys, person, form(kind, items), &op())
            .await
    }

    async fn submit(
        &self,
        who: &str,
        app: ApplicationId,
    ) -> Result<PermissionApplication, PermissionError> {
        permission::submit_application(&self.store, self.id(who).await, app, &op()).await
    }

    async fn act(
        &self,
        who: &str,
        app: ApplicationId,
        decision: StepDecision,
    ) -> Result<PermissionApplication, PermissionError> {
        self.act_on(who, app, decision, &op()).await
    }

    async fn act_on(
        &self,
        who: &str,
        app: ApplicationId,
        decision: StepDecision,
        op: &Op,
    ) -> Result<PermissionApplication, PermissionError> {
        let cap = approver_at_step(&self.store, &self.policy, self.id(who).await, app, op).await?;
        Ok(decide_step(&self.store, &cap, decision, op).await?.0)
    }

    /// Runs a New application for `who` through the whole chain, effective `from`.
    async fn granted(&self, who: &str, items: &[&str], from: RocDate) -> PermissionApplication {
        let app = self.submitted(who, ApplicationKind::New, items).await;
        self.approved_through_the_chain(app.id, from).await
    }

    /// `who` applies for `items` and submits the application.
    async fn submitted(
        &self,
        who: &str,
        kind: ApplicationKind,
        items: &[&str],
    ) -> PermissionApplication {
        let app = self.apply(who, kind, items).await;
        self.submit(who, app.id).await.unwrap();
        app
    }

    /// The accounts of `people` disabled as idle, from Monday, in one transaction.
    async fn disable(&self, people: &[PersonId]) {
        let mut tx = self.store.begin().await.unwrap();
        for &person in people {
            tx.disable_account(
                person,
                querywarden_storage::DisableReason::Idle,
                None,
                monday(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// What waits for `person` on `on`.
    async fn inbox(&self, person: PersonId, on: RocDate) -> Vec<InboxEntry> {
        permission::inbox(&self.store, &self.policy, person, on)
            .await
            .unwrap()
    }

    /// A submitted application of a 社會救助科 member through the chain: chen consents, wu
    /// approves effective `from`, zhang countersigns.
    async fn approved_through_the_chain(
        &self,
        app: ApplicationId,
        from: RocDate,
    ) -> PermissionApplication {
        self.up_to_the_countersign(app, from).await;
        self.act("zhang.shuhui", app, approve()).await.unwrap()
    }

    /// A submitted application of a 社會救助科 member: chen consents and wu approves effective
    /// `from`; it waits for the countersign.
    async fn up_to_the_countersign(&self, app: ApplicationId, from: RocDate) {
        self.act("chen.jianhong", app, approve()).await.unwrap();
        self.act("wu.zhiming", app, approve_from(from))
            .await
            .unwrap();
    }

    /// Whether `person` holds a grant of `it` on `on`, as the query check asks.
    async fn holds(&self, person: PersonId, it: &str, on: RocDate) -> bool {
        permission::holds_grant(&self.store, person, &item(it), on)
            .await
            .unwrap()
    }

    /// `person`'s administrator desk, or the refusal.
    async fn admin_desk(&self, person: PersonId) -> Result<AdministratorDesk, PermissionError> {
        permission::administrator_desk(&self.store, &self.policy, person, &op()).await
    }

    /// The trail's last 500 records, as the audit search lists them.
    async fn trail(&self) -> Vec<querywarden_storage::StoredAuditRecord> {
        audit_all(&self.store).await
    }

    async fn refusals(&self) -> Vec<String> {
        let mut v: Vec<_> = self.trail().await.into_iter().map(|r| r.outcome).collect();
        v.retain(|o| o.starts_with("refused:"));
        v
    }

    async fn actions(&self) -> Vec<String> {
        let mut v: Vec<_> = self.trail().await.into_iter().map(|r| r.action).collect();
        v.reverse();
        v
    }
}

fn form(kind: ApplicationKind, items: &[&str]) -> ApplicationForm {
    ApplicationForm {
        kind,
        reason: "辦理低收入戶及中低收入戶資格審查".into(),
        national_id: NationalId::parse("A123456789").unwrap(),
        phone: "07-7344800".into(),
        email: "someone@example.org".into(),
        egov_account: "egov-user".into(),
        items: items.iter().map(|i| item(i)).collect(),
        confirmations: Confirmations {
            read_pdpa_and_rules: true,
            has_certificate_and_reader: true,
        },
    }
}

fn refuse(reason: &str) -> StepDecision {
    StepDecision::Refuse {
        reason: reason.into(),
    }
}

fn refusal_code(r: Result<impl std::fmt::Debug, PermissionError>) -> &'static str {
    match r {
        Err(PermissionError::Refused(r)) => r.code(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// §9: a refusal to someone who may not see the form or round: answered as if it did not
/// exist (the audit record keeps the real reason).
fn hidden(r: Result<impl std::fmt::Debug, PermissionError>) {
    match r {
        Err(PermissionError::NotFound(_)) => {}
        other => panic!("expected the answer for an id that does not exist, got {other:?}"),
    }
}

/// The chain of Form 1 (§2): the unit supervisor, the permission administrator (who sets
/// the effective date, 115/3/5) and the countersign each find the application alone in their
/// inbox, reminded after 3 working days, and it leaves the inbox once they approve.
async fn each_step_finds_it_in_the_inbox_and_approves(w: &World, app: ApplicationId) {
    for (who, step, decision) in [
        ("chen.jianhong", Step::UnitSupervisor, approve()),
        (
            "wu.zhiming",
            Step::PermissionAdministrator,
            approve_from(day(115, 3, 5)),
        ),
        ("zhang.shuhui", Step::Countersign, approve()),
    ] {
        let me = w.id(who).await;
        let inbox = w.inbox(me, day(115, 3, 2)).await;
        assert_eq!(inbox.len(), 1, "{who}'s inbox");
        assert_eq!(inbox[0].step, step);
        assert!(!inbox[0].reminder_due);
        // Reminders come 3 working days after the step started waiting.
        let later = w.inbox(me, day(115, 3, 5)).await;
        assert!(later[0].reminder_due);
        w.act(who, app, decision).await.unwrap();
        assert!(w.inbox(me, day(115, 3, 2)).await.is_empty());
    }
    let done = w.store.application(app).await.unwrap().unwrap();
    assert_eq!(
        done.state,
        ApplicationState::Approved {
            effective_from: day(115, 3, 5)
        }
    );
    assert_eq!(done.steps.len(), 3);
    assert!(done.steps.iter().all(|s| s.at == monday()));
}

/// §2: grants per item from the effective date — what the query check asks — and only for
/// the items applied for.
async fn lins_grants_hold_from_the_effective_date(w: &World, lin: PersonId, app: ApplicationId) {
    for (d, want) in [(day(115, 3, 4), false), (day(115, 3, 5), true)] {
        assert_eq!(w.holds(lin, "C0101", d).await, want);
    }
    assert!(!w.holds(lin, "N0101", day(115, 3, 5)).await);
    let mine = permission::my_grants(&w.store, lin, day(115, 3, 5))
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert!(
        mine.iter()
            .all(|g| g.in_force && g.grant.application == app)
    );
}

/// The administrator's overview of grants, filtered by unit, item and status; only the
/// administrator's desk sees it.
async fn the_administrators_overview_filters_the_grants(w: &World, lin: PersonId) {
    let wu = w.id("wu.zhiming").await;
    let desk = w.admin_desk(wu).await.unwrap();
    let filter = |unit: Option<&str>, it: Option<&str>, status| GrantFilter {
        unit: unit.map(|u| UnitId::new(u).unwrap()),
        item: it.map(item),
        status,
    };
    let count = |f: GrantFilter| {
        let (store, desk) = (&w.store, &desk);
        async move {
            permission::grant_overview(store, desk, &f, day(115, 3, 5))
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(count(filter(None, None, None)).await, 2);
    assert_eq!(
        count(filter(
            Some("social-assistance"),
            Some("B0101"),
            Some(GrantStatus::Active)
        ))
        .await,
        1
    );
    assert_eq!(count(filter(Some("elderly-welfare"), None, None)).await, 0);
    assert_eq!(count(filter(None, None, Some(GrantStatus::Ended))).await, 0);
    let lin_desk = w.admin_desk(lin).await;
    assert_eq!(refusal_code(lin_desk), "permission.not_administrator");
}

/// A later revocation, through the same chain, ends both grants on its effective date.
async fn a_revocation_ends_both_grants_on_its_date(w: &World, lin: PersonId) {
    let revoke = w
        .submitted("lin.meiling", ApplicationKind::Revoke, &[])
        .await;
    w.approved_through_the_chain(revoke.id, day(115, 4, 1))
        .await;
    assert!(w.holds(lin, "C0101", day(115, 3, 31)).await);
    assert!(!w.holds(lin, "C0101", day(115, 4, 1)).await);
    assert!(
        w.store
            .grants_of(lin)
            .await
            .unwrap()
            .iter()
            .all(|g| g.status == GrantStatus::Ended)
    );
}

#[tokio::test]
async fn an_application_goes_from_applicant_to_countersign_and_becomes_grants() {
    let w = World::new().await;
    let lin = w.id("lin.meiling").await;
    let app = w
        .apply("lin.meiling", ApplicationKind::New, &["C0101", "B0101"])
        .await;
    assert_eq!(app.form_number.to_string(), "115-0001");
    assert_eq!(app.state, ApplicationState::Draft);
    assert_eq!(app.national_id_masked, "A12****789");
    assert_eq!(app.unit.as_str(), "social-assistance");
    let second = w
        .apply("lin.meiling", ApplicationKind::New, &["N0101"])
        .await;
    assert_eq!(second.form_number.to_string(), "115-0002");

    w.submit("lin.meiling", app.id).await.unwrap();
    each_step_finds_it_in_the_inbox_and_approves(&w, app.id).await;
    lins_grants_hold_from_the_effective_date(&w, lin, app.id).await;
    the_administrators_overview_filters_the_grants(&w, lin).await;
    let actions = w.actions().await;
    for a in [
        "permission.application.created",
        "permission.application.submitted",
        "permission.application.step_approved",
        "permission.application.approved",
        "permission.grant.created",
    ] {
        assert!(actions.iter().any(|x| x == a), "no {a} in {actions:?}");
    }
    a_revocation_ends_both_grants_on_its_date(&w, lin).await;
}

#[tokio::test]
async fn a_refusal_at_any_step_ends_the_application_with_its_reason() {
    let w = World::new().await;
    let chain: [(&str, StepDecision); 3] = [
        ("chen.jianhong", approve()),
        ("wu.zhiming", approve_from(day(115, 3, 5))),
        ("zhang.shuhui", approve()),
    ];
    for (stop, step) in Step::ALL.into_iter().enumerate() {
        let app = w
            .submitted("lin.meiling", ApplicationKind::New, &["C0101"])
            .await;
        for (who, d) in chain.iter().take(stop) {
            w.act(who, app.id, d.clone()).await.unwrap();
        }
        let done = w
            .act(chain[stop].0, app.id, refuse("非業務所需"))
            .await
            .unwrap();
        assert_eq!(
            done.state,
            ApplicationState::Refused {
                step,
                reason: "非業務所需".into()
            }
        );
        // The applicant sees it with the reason.
        let mine = permission::applications_of(&w.store, w.id("lin.meiling").await)
            .await
            .unwrap();
        assert!(mine.iter().any(|a| a.id == app.id && a.state == done.state));
    }
    assert!(w.store.all_grants().await.unwrap().is_empty());
    assert!(
        w.actions()
            .await
            .iter()
            .filter(|a| *a == "permission.application.rejected")
            .count()
            == 3
    );
}

#[tokio::test]
async fn other_returns_the_application_for_amendment_and_resubmission() {
    let w = World::new().await;
    let lin = w.id("lin.meiling").await;
    let app = w
        .submitted("lin.meiling", ApplicationKind::New, &["C0101"])
        .await;
    w.act("chen.jianhong", app.id, approve()).await.unwrap();
    let back = w
        .act(
            "wu.zhiming",
            app.id,
            StepDecision::Other {
                note: "請改申請 B0101".into(),
            },
        )
        .await
        .unwrap();
    assert!(matches!(back.state, ApplicationState::Returned { .. }));
    permission::amend_application(
        &w.store,
        &w.keys,
        lin,
        app.id,
        form(ApplicationKind::New, &["B0101"]),
        &op(),
    )
    .await
    .unwrap();
    let again = w.submit("lin.meiling", app.id).await.unwrap();
    assert_eq!(again.round, 2);
    w.approved_through_the_chain(app.id, day(115, 3, 2)).await;
    let items: BTreeSet<_> = w
        .store
        .grants_of(lin)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.item)
        .collect();
    assert_eq!(items, [item("B0101")].into());
}

#[tokio::test]
async fn the_applicant_may_withdraw_until_the_last_step() {
    let w = World::new().await;
    let app = w
        .submitted("lin.meiling", ApplicationKind::New, &["C0101"])
        .await;
    w.act("chen.jianhong", app.id, approve()).await.unwrap();
    let lin = w.id("lin.meiling").await;
    let huang = w.id("huang.yating").await;
    hidden(permission::withdraw_application(&w.store, huang, app.id, &op()).await);
    let gone = permission::withdraw_application(&w.store, lin, app.id, &op())
        .await
        .unwrap();
    assert_eq!(gone.state, ApplicationState::Withdrawn);
    let wu = w.id("wu.zhiming").await;
    assert!(w.inbox(wu, day(115, 3, 2)).await.is_empty());

    let app = w
        .submitted("lin.meiling", ApplicationKind::New, &["C0101"])
        .await;
    w.up_to_the_countersign(app.id, day(115, 3, 5)).await;
    assert_eq!(
        refusal_code(permission::withdraw_application(&w.store, lin, app.id, &op()).await),
        "permission.withdraw_too_late"
    );
    assert!(
        w.refusals()
            .await
            .contains(&"refused:permission.withdraw_too_late".to_string())
    );
}

#[tokio::test]
async fn separation_of_duties_holds_at_every_step_and_is_audited() {
    let w = World::new().await;
    // Nobody approves their own application: a supervisor's goes to the director.
    let chen_app = w
        .submitted("chen.jianhong", ApplicationKind::New, &["C0101"])
        .await;
    assert_eq!(
        refusal_code(w.act("chen.jianhong", chen_app.id, approve()).await),
        "sod.own_application"
    );
    let zhou = w.id("zhou.wenhua").await;
    assert_eq!(w.inbox(zhou, day(115, 3, 2)).await.len(), 1);
    w.act("zhou.wenhua", chen_app.id, approve()).await.unwrap();

    // A person who is not the approver of the step.
    let app = w
        .submitted("lin.meiling", ApplicationKind::New, &["C0101"])
        .await;
    assert_eq!(
        refusal_code(w.act("lin.meiling", app.id, approve()).await),
        "sod.own_application"
    );
    hidden(w.act("xu.wenjie", app.id, approve()).await);
    assert_eq!(
        refusal_code(w.act("wu.zhiming", app.id, approve()).await),
        "permission.wrong_approver"
    );
    w.up_to_the_countersign(app.id, day(115, 3, 5)).await;
    // The administrator does not also countersign.
    assert_eq!(
        refusal_code(w.act("wu.zhiming", app.id, approve()).await),
        "sod.two_steps"
    );

    // The administrator's own application goes to the deputy; the supervisor who consented
    // (zhang, for 資訊小組 via 秘書室) cannot also countersign: it goes to the director.
    let wu_app = w
        .submitted("wu.zhiming", ApplicationKind::New, &["C0101"])
        .await;
    w.act("zhang.shuhui", wu_app.id, approve()).await.unwrap();
    assert_eq!(
        refusal_code(
            w.act("wu.zhiming", wu_app.id, approve_from(day(115, 3, 5)))
                .await
        ),
        "sod.administrator_own_application"
    );
    let li = w.id("li.guowei").await;
    assert_eq!(w.inbox(li, day(115, 3, 2)).await.len(), 1);
    w.act("li.guowei", wu_app.id, approve_from(day(115, 3, 5)))
        .await
        .unwrap();
    assert_eq!(
        refusal_code(w.act("zhang.shuhui", wu_app.id, approve()).await),
        "sod.supervisor_countersigns"
    );
    w.act("zhou.wenhua", wu_app.id, approve()).await.unwrap();
    assert!(
        w.holds(w.id("wu.zhiming").await, "C0101", day(115, 3, 5))
            .await
    );

    // Without a deputy, the administrator's application cannot be processed at all.
    let no_deputy = PermissionPolicy::default();
    let wu_app2 = w
        .submitted("wu.zhiming", ApplicationKind::New, &["B0101"])
        .await;
    w.act("zhang.shuhui", wu_app2.id, approve()).await.unwrap();
    // li is no deputy then, so the form is not his to see; the trail keeps the reason.
    let r = approver_at_step(&w.store, &no_deputy, li, wu_app2.id, &op()).await;
    hidden(r);

    let refusals = w.refusals().await;
    for code in [
        "sod.own_application",
        "sod.two_steps",
        "sod.administrator_own_application",
        "sod.supervisor_countersigns",
        "permission.wrong_approver",
        "permission.no_deputy",
    ] {
        assert!(
            refusals.contains(&format!("refused:{code}")),
            "{code} not audited"
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_changes() {
    let w = World::new().await;
    let lin = w.id("lin.meiling").await;
    // Unknown item.
    let r = w.try_apply(lin, ApplicationKind::New, &["Z9999"]).await;
    assert_eq!(refusal_code(r), "permission.unknown_item");
    // New rights without items.
    let r = w.try_apply(lin, ApplicationKind::New, &[]).await;
    assert_eq!(refusal_code(r), "permission.items_required");
    // Confirmations missing at submission.
    let mut f = form(ApplicationKind::New, &["C0101"]);
    f.confirmations.has_certificate_and_reader = false;
    let app = permission::create_application(&w.store, &w.keys, lin, f, &op())
        .await
        .unwrap();
    assert_eq!(
        refusal_code(w.submit("lin.meiling", app.id).await),
        "permission.confirmations_missing"
    );
    // Double submission.
    let app = w
        .submitted("lin.meiling", ApplicationKind::New, &["C0101"])
        .await;
    assert_eq!(
        refusal_code(w.submit("lin.meiling", app.id).await),
        "permission.already_submitted"
    );
    // Effective date in the past.
    w.act("chen.jianhong", app.id, approve()).await.unwrap();
    assert_eq!(
        refusal_code(
            w.act("wu.zhiming", app.id, approve_from(day(115, 3, 1)))
                .await
        ),
        "permission.effective_date_in_past"
    );
    assert_eq!(
        refusal_code(w.act("wu.zhiming", app.id, approve()).await),
        "permission.effective_date_required"
    );
    // The date passes while it waits for the countersign.
    w.act("wu.zhiming", app.id, approve_from(day(115, 3, 3)))
        .await
        .unwrap();
    assert_eq!(
        refusal_code(
            w.act_on("zhang.shuhui", app.id, approve(), &days_later(3))
                .await
        ),
        "permission.effective_date_before_approval"
    );
    w.act_on(
        "zhang.shuhui",
        app.id,
        approve_from(day(115, 3, 6)),
        &days_later(3),
    )
    .await
    .unwrap();
    // A national ID that does not match the staff record.
    let mut tx = w.store.begin().await.unwrap();
    tx.set_person_id_last4(lin, "1234").await.unwrap();
    tx.commit().await.unwrap();
    let r = w.try_apply(lin, ApplicationKind::New, &["C0101"]).await;
    assert_eq!(refusal_code(r), "permission.national_id_mismatch");
    // A disabled account cannot apply.
    let huang = w.id("huang.yating").await;
    w.disable(&[huang]).await;
    let r = w.try_apply(huang, ApplicationKind::New, &["C0101"]).await;
    assert_eq!(refusal_code(r), "permission.applicant_disabled");
    assert!(w.store.applications_of(huang).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_transfer_suspends_grants_from_its_effective_date_and_supervisors_see_it_coming() {
    let w = World::new().await;
    let lin = w.id("lin.meiling").await;
    w.granted("lin.meiling", &["C0101", "B0101"], day(115, 3, 2))
        .await;
    let wu = w.id("wu.zhiming").await;
    let desk = w.admin_desk(wu).await.unwrap();
    let csv = "account,national_id,name,unit,title,status,effective_date\n\
               lin.meiling,A123456789,林美玲,elderly-welfare,社會工作師,transferred,115/03/10\n";
    let report = import_staff_csv(&w.store, &desk, csv, &op()).await.unwrap();
    assert_eq!((report.rows, report.changed), (1, 1));
    assert!(matches!(
        &report.outcomes[0].1,
        StaffOutcome::Changed {
            applied_now: false,
            ..
        }
    ));
    // Suspended from the effective date, not before.
    assert!(w.holds(lin, "C0101", day(115, 3, 9)).await);
    assert!(!w.holds(lin, "C0101", day(115, 3, 10)).await);
    let grants = w.store.grants_of(lin).await.unwrap();
    assert!(grants.iter().all(|g| g.status == GrantStatus::Suspended
        && g.suspension_cause == Some(SuspensionCause::Transferred)));
    // §2: the old supervisor sees the upcoming change.
    let chen = w.id("chen.jianhong").await;
    let chen_desk = permission::supervisor_desk(&w.store, &w.policy, chen, &op())
        .await
        .unwrap();
    let upcoming = upcoming_staff_changes(&w.store, &chen_desk, day(115, 3, 2))
        .await
        .unwrap();
    assert_eq!(upcoming.len(), 1);
    assert_eq!(upcoming[0].1.change.to_status, StaffStatus::Transferred);
    // The staff record changes on the day.
    assert_eq!(
        w.store.person(lin).await.unwrap().unwrap().unit.as_str(),
        "social-assistance"
    );
    assert_eq!(
        apply_due_staff_changes(&w.store, &days_later(8))
            .await
            .unwrap(),
        1
    );
    let p = w.store.person(lin).await.unwrap().unwrap();
    assert_eq!(
        (p.unit.as_str(), p.status),
        ("elderly-welfare", StaffStatus::Transferred)
    );
    assert_eq!(
        apply_due_staff_changes(&w.store, &days_later(9))
            .await
            .unwrap(),
        0
    );
    assert!(
        w.actions()
            .await
            .iter()
            .any(|a| a == "permission.grant.suspended")
    );

    // A new 職務異動 application restores rights in the new job (the new supervisor consents).
    let app = w
        .submitted("lin.meiling", ApplicationKind::JobChange, &["C0101"])
        .await;
    w.act_on("xu.wenjie", app.id, approve(), &days_later(8))
        .await
        .unwrap();
    w.act_on(
        "wu.zhiming",
        app.id,
        approve_from(day(115, 3, 11)),
        &days_later(8),
    )
    .await
    .unwrap();
    w.act_on("zhang.shuhui", app.id, approve(), &days_later(8))
        .await
        .unwrap();
    let items = |d| {
        let store = &w.store;
        async move {
            querywarden_domain::permission::active_items(&store.grants_of(lin).await.unwrap(), d)
        }
    };
    assert_eq!(items(day(115, 3, 11)).await, [item("C0101")].into());
}

#[tokio::test]
async fn leaving_ends_grants_and_disables_the_account() {
    let w = World::new().await;
    let lin = w.id("lin.meiling").await;
    w.granted("lin.meiling", &["C0101"], day(115, 3, 2)).await;
    let wu = w.id("wu.zhiming").await;
    let desk = w.admin_desk(wu).await.unwrap();
    let csv = "account,national_id,name,unit,title,status,effective_date\n\
               lin.meiling,,林美玲,social-assistance,社會工作師,left,2026-03-02\n";
    import_staff_csv(&w.store, &desk, csv, &op()).await.unwrap();
    let g = &w.store.grants_of(lin).await.unwrap()[0];
    assert_eq!(
        (g.status, g.effective_to),
        (GrantStatus::Ended, Some(day(115, 3, 2)))
    );
    assert!(w.store.account_disabled(lin).await.unwrap());
    assert_eq!(
        w.store.person(lin).await.unwrap().unwrap().status,
        StaffStatus::Left
    );
    // Never deleted: the applications and grants are all still there.
    assert_eq!(w.store.applications_of(lin).await.unwrap().len(), 1);
    // And the person can no longer apply.
    let r = w.try_apply(lin, ApplicationKind::New, &["C0101"]).await;
    assert_eq!(refusal_code(r), "permission.applicant_disabled");
}

#[tokio::test]
async fn a_csv_with_bad_rows_imports_nothing_and_names_every_bad_line() {
    let w = World::new().await;
    let wu = w.id("wu.zhiming").await;
    let desk = w.admin_desk(wu).await.unwrap();
    let csv = "account,national_id,name,unit,title,status,effective_date\n\
               lin.meiling,A123456789,林美玲,elderly-welfare,社會工作師,transferred,115/03/10\n\
               huang.yating,A123456788,黃雅婷,social-assistance,社會工作員,on_leave,115/03/10\n\
               new.person,F131104093,新同仁,no-such-unit,科員,active,115/03/10\n\
               xu.wenjie,,許文傑,elderly-welfare,科長,retired,115/03/10\n\
               \n\
               lin.meiling,,林美玲,elderly-welfare,社會工作師,left,115/03/10\n";
    let Err(StaffImportError::BadRows(errors)) =
        import_staff_csv(&w.store, &desk, csv, &op()).await
    else {
        panic!("expected bad rows");
    };
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 7]);
    assert!(errors[0].reason.contains("身分證統一編號"));
    assert!(
        !errors[0].reason.contains("A123456788"),
        "never echo the ID"
    );
    assert!(errors[1].reason.contains("單位不存在"));
    assert!(errors[3].reason.contains("兩次"));
    // Nothing changed — not even the good first row.
    let lin = w
        .store
        .person(w.id("lin.meiling").await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lin.unit.as_str(), "social-assistance");
    assert!(w.store.staff_changes_of(lin.id).await.unwrap().is_empty());
    assert!(
        w.refusals()
            .await
            .contains(&"refused:staff_import.bad_rows".to_string())
    );
    // A wrong header is a bad line 1.
    let Err(StaffImportError::BadRows(errors)) =
        import_staff_csv(&w.store, &desk, "a,b\n", &op()).await
    else {
        panic!("expected bad header");
    };
    assert_eq!(errors[0].line, 1);
    // A new account with a good row is created as active staff.
    let csv = "account,national_id,name,unit,title,status,effective_date\n\
               new.person,F131104093,\"新同仁, 約聘\",elderly-welfare,科員,active,115/03/02\n";
    let report = import_staff_csv(&w.store, &desk, csv, &op()).await.unwrap();
    assert_eq!(report.created, 1);
    let p = w
        .store
        .person_by_account(&Account::parse("new.person").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.name, "新同仁, 約聘");
    assert_eq!(
        w.store.person_id_last4(p.id).await.unwrap().as_deref(),
        Some("4093")
    );
}

#[tokio::test]
async fn scim_payloads_are_validated_then_mapped_to_the_same_status_change() {
    let w = World::new().await;
    let lin = w.id("lin.meiling").await;
    w.granted("lin.meiling", &["C0101"], day(115, 3, 2)).await;
    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const STAFF: &str = "urn:querywarden:params:scim:schemas:extension:staff:1.0:User";
    let bad = [
        (json!([]), "invalidSyntax"),
        (
            json!({"userName": "lin.meiling", "active": true}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": ["urn:x"], "userName": "lin.meiling", "active": true}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "Not An Account!", "active": true}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "lin.meiling"}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "lin.meiling", "active": "yes"}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "lin.meiling", "active": true, ENT: {"department": "social-assistance"}}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER, ENT], "userName": "lin.meiling", "active": true, ENT: {"department": "no-such-unit"}}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER, STAFF], "userName": "lin.meiling", "active": true, STAFF: {"status": "on_leave"}}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER, STAFF], "userName": "lin.meiling", "active": false, STAFF: {"status": "sabbatical"}}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER, STAFF], "userName": "lin.meiling", "active": false, STAFF: {"status": "on_leave", "effectiveDate": "soon"}}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER], "userName": "someone.new", "active": true}),
            "invalidValue",
        ),
        (
            json!({"schemas": [USER, ENT], "userName": "someone.new", "active": true, ENT: {"department": "elderly-welfare"}}),
            "invalidValue",
        ),
    ];
    for (payload, scim_type) in bad {
        let err = scim_put_user(&w.store, &payload, &op()).await.unwrap_err();
        assert_eq!((err.status, err.scim_type), (400, scim_type), "{payload}");
        let body = err.to_json();
        assert_eq!(
            body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert_eq!(body["status"], "400");
    }
    assert!(
        w.store.staff_changes_of(lin).await.unwrap().is_empty(),
        "nothing changed"
    );

    // On leave from 3/16, pushed by HR with the department given by its Chinese name.
    let push = json!({
        "schemas": [USER, ENT, STAFF],
        "userName": "lin.meiling",
        "active": false,
        "name": {"formatted": "林美玲"},
        ENT: {"department": "社會救助科"},
        STAFF: {"status": "on_leave", "effectiveDate": "115/03/16"}
    });
    let res = scim_put_user(&w.store, &push, &op()).await.unwrap();
    assert!(!res.created);
    assert_eq!(res.person, lin);
    assert_eq!(res.resource["active"], false);
    assert!(w.holds(lin, "C0101", day(115, 3, 13)).await);
    assert!(!w.holds(lin, "C0101", day(115, 3, 16)).await);
    assert_eq!(
        w.store.grants_of(lin).await.unwrap()[0].suspension_cause,
        Some(SuspensionCause::OnLeave)
    );
    // Pushing the same again changes nothing.
    let again = scim_put_user(&w.store, &push, &op()).await.unwrap();
    assert!(matches!(
        again.outcome,
        StaffOutcome::Changed { .. } | StaffOutcome::Unchanged(_)
    ));
    // A new user.
    let new = json!({
        "schemas": [USER, ENT], "userName": "chen.xiaoyu", "active": true,
        "displayName": "陳小雨", "title": "約聘社工", ENT: {"department": "elderly-welfare"}
    });
    let res = scim_put_user(&w.store, &new, &op()).await.unwrap();
    assert!(res.created);
    assert_eq!(res.resource["userName"], "chen.xiaoyu");
}

/// Idle accounts: nobody in the demo has signed in; after 91 days all are disabled, once,
/// and the administrator can re-enable one — wu is disabled too, so his supervisor
/// (權限管理單位主管), once re-enabled, holds the desk as well.
async fn idle_accounts_are_disabled_and_one_re_enabled(w: &World, lin: PersonId) {
    let idle = disable_idle_accounts(&w.store, &w.policy, &days_later(91))
        .await
        .unwrap();
    assert!(idle.contains(&lin));
    assert!(
        disable_idle_accounts(&w.store, &w.policy, &days_later(92))
            .await
            .unwrap()
            .is_empty()
    );
    let none_yet = disable_idle_accounts(&w.store, &w.policy, &days_later(10))
        .await
        .unwrap();
    assert!(none_yet.is_empty());
    let wu = w.id("wu.zhiming").await;
    // wu is disabled too; his supervisor (權限管理單位主管) holds the desk as well.
    assert_eq!(
        refusal_code(w.admin_desk(wu).await),
        "permission.approver_disabled"
    );
    let mut tx = w.store.begin().await.unwrap();
    tx.enable_account(w.id("zhang.shuhui").await).await.unwrap();
    tx.commit().await.unwrap();
    let zhang_desk = w.admin_desk(w.id("zhang.shuhui").await).await.unwrap();
    assert!(
        enable_account(&w.store, &zhang_desk, lin, &days_later(92))
            .await
            .unwrap()
    );
    assert!(!w.store.account_disabled(lin).await.unwrap());
    assert!(
        w.actions()
            .await
            .iter()
            .any(|a| a == "admin.account.enabled")
    );
}

#[tokio::test]
async fn a_recertification_round_suspends_what_the_supervisor_did_not_confirm() {
    let w = World::new().await;
    let lin = w.id("lin.meiling").await;
    w.granted("lin.meiling", &["C0101", "B0101", "P0301"], day(115, 3, 2))
        .await;
    let chen = w.id("chen.jianhong").await;
    let desk = permission::supervisor_desk(&w.store, &w.policy, chen, &op())
        .await
        .unwrap();
    let (round, items) = open_recertification(&w.store, &w.policy, &desk, &op())
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|i| i.person == lin && !i.propose_removal && i.uses_last_quarter == 0)
    );
    assert_eq!(round.quarter.to_string(), "2026-Q1");
    // One round per quarter.
    assert_eq!(
        refusal_code(open_recertification(&w.store, &w.policy, &desk, &op()).await),
        "recertification.already_open"
    );
    // Only the owner decides.
    let xu = w.id("xu.wenjie").await;
    let xu_desk = permission::supervisor_desk(&w.store, &w.policy, xu, &op())
        .await
        .unwrap();
    hidden(
        decide_recertification(
            &w.store,
            &xu_desk,
            round.id,
            items[0].grant,
            RecertificationDecision::Confirmed,
            &op(),
        )
        .await,
    );
    decide_recertification(
        &w.store,
        &desk,
        round.id,
        items[0].grant,
        RecertificationDecision::Confirmed,
        &op(),
    )
    .await
    .unwrap();
    decide_recertification(
        &w.store,
        &desk,
        round.id,
        items[1].grant,
        RecertificationDecision::NotNeeded,
        &op(),
    )
    .await
    .unwrap();
    assert_eq!(
        refusal_code(close_recertification(&w.store, &desk, round.id, &op()).await),
        "recertification.deadline_not_reached"
    );
    // After the deadline the round closes; the unconfirmed and the not-needed are suspended.
    let after = days_later(30);
    let suspended = close_recertification(&w.store, &desk, round.id, &after)
        .await
        .unwrap();
    assert_eq!(suspended.len(), 2);
    let today = after.today();
    let left =
        querywarden_domain::permission::active_items(&w.store.grants_of(lin).await.unwrap(), today);
    assert_eq!(left, [items[0].item.clone()].into());
    assert_eq!(
        refusal_code(
            decide_recertification(
                &w.store,
                &desk,
                round.id,
                items[2].grant,
                RecertificationDecision::Confirmed,
                &after
            )
            .await
        ),
        "recertification.closed"
    );
    idle_accounts_are_disabled_and_one_re_enabled(&w, lin).await;
}

#[tokio::test]
async fn a_staff_change_notifies_the_administrator_and_the_old_supervisor_in_its_transaction() {
    let w = World::new().await;
    let lin = w.id("lin.meiling").await;
    let wu = w.id("wu.zhiming").await;
    let chen = w.id("chen.jianhong").await;
    let desk = w.admin_desk(wu).await.unwrap();
    for p in [lin, wu, chen] {
        assert!(unread_notices(&w.store, p).await.unwrap().is_empty());
    }
    // A file with a bad row imports nothing, so nobody is told anything.
    let bad = "account,national_id,name,unit,title,status,effective_date\n\
               lin.meiling,,林美玲,elderly-welfare,社會工作師,transferred,115/03/10\n\
               huang.yating,,黃雅婷,no-such-unit,社會工作員,active,115/03/10\n";
    assert!(matches!(
        import_staff_csv(&w.store, &desk, bad, &op()).await,
        Err(StaffImportError::BadRows(_))
    ));
    assert!(unread_notices(&w.store, wu).await.unwrap().is_empty());

    // §2: lin moves to another unit; the administrator and her old supervisor are told, her
    // new unit's supervisor is not; she is asked (§2 ¶2) to file her Form 1 before the date.
    let csv = "account,national_id,name,unit,title,status,effective_date\n\
               lin.meiling,,林美玲,elderly-welfare,社會工作師,transferred,115/03/10\n";
    import_staff_csv(&w.store, &desk, csv, &op()).await.unwrap();
    let object = format!("person:{}", lin.get());
    for p in [wu, chen] {
        let n = unread_notices(&w.store, p).await.unwrap();
        assert_eq!(n.len(), 1, "{p:?}");
        assert_eq!(n[0].kind, "staff_change.transfer");
        assert_eq!(n[0].object, object);
        assert_eq!(n[0].person, p);
    }
    let own = unread_notices(&w.store, lin).await.unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].kind, "staff_change.file_form1_job_change");
    assert_eq!(own[0].object, "form1_before:2026-03-10");
    // The audit record of the change names who was told.
    let records = audit_all(&w.store).await;
    let entry = records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.entry).into_owned())
        .find(|e| e.contains("admin.staff.status_changed") && e.contains("notified"))
        .unwrap();
    let mut told = [wu.get(), chen.get()];
    told.sort_unstable();
    assert!(
        entry.contains(&format!("\"notified\":[{},{}]", told[0], told[1])),
        "{entry}"
    );

    // Each recipient marks only their own notice read, once.
    let id = unread_notices(&w.store, chen).await.unwrap()[0].id;
    assert!(matches!(
        mark_notice_read(&w.store, lin, id, &op()).await,
        Err(PermissionError::NotFound(_))
    ));
    mark_notice_read(&w.store, chen, id, &op()).await.unwrap();
    assert!(unread_notices(&w.store, chen).await.unwrap().is_empty());
    // Acknowledging is recorded, by whom and which notice.
    let read = audit(&w.store, "permission.notice.read").await;
    // lin's attempt on chen's notice is refused on the trail too.
    assert_eq!(read.len(), 2);
    assert_eq!(read[1].outcome, "refused:permission.not_found");
    assert_eq!(read[1].actor_person_id, Some(lin.get()));
    let read: Vec<_> = read
        .into_iter()
        .filter(|r| r.outcome == "succeeded")
        .collect();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].actor_person_id, Some(chen.get()));
    assert_eq!(read[0].object_id, id.to_string());
    assert!(matches!(
        mark_notice_read(&w.store, chen, id, &op()).await,
        Err(PermissionError::NotFound(_))
    ));
    assert_eq!(unread_notices(&w.store, wu).await.unwrap().len(), 1);

    // Leaving (via SCIM) tells the administrator again and the supervisor of the unit she
    // left (now elderly-welfare's); the administrator's own change is not notified to himself.
    let leave = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:querywarden:params:scim:schemas:extension:staff:1.0:User",
        ],
        "userName": "lin.meiling", "active": false,
        "urn:querywarden:params:scim:schemas:extension:staff:1.0:User": { "status": "left" },
    });
    scim_put_user(&w.store, &leave, &days_later(10))
        .await
        .unwrap();
    let n = unread_notices(&w.store, wu).await.unwrap();
    assert_eq!(n.len(), 2);
    assert_eq!(n[1].kind, "staff_change.departure");
    let wu_leave = "account,national_id,name,unit,title,status,effective_date\n\
               wu.zhiming,,吳志明,it-group,資訊管理師,on_leave,115/03/20\n";
    import_staff_csv(&w.store, &desk, wu_leave, &op())
        .await
        .unwrap();
    assert_eq!(unread_notices(&w.store, wu).await.unwrap().len(), 2);
}

#[tokio::test]
async fn staff_rows_keep_one_id_per_person_bounded_names_and_each_future_change_once() {
    let w = World::new().await;
    let wu = w.id("wu.zhiming").await;
    let desk = w.admin_desk(wu).await.unwrap();
    let long_title = "長".repeat(51);
    let csv = format!(
        "account,national_id,name,unit,title,status,effective_date\n\
         a.one,F131104093,甲同仁,elderly-welfare,科員,active,115/03/02\n\
         a.two,F131104093,乙同仁,elderly-welfare,科員,active,115/03/02\n\
         a.three,A123456789,丙\u{0}同仁,elderly-welfare,科員,active,115/03/02\n\
         a.four,B123456780,丁同仁,elderly-welfare,{long_title},active,115/03/02\n"
    );
    let Err(StaffImportError::BadRows(errors)) =
        import_staff_csv(&w.store, &desk, &csv, &op()).await
    else {
        panic!("expected bad rows");
    };
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5], "{errors:?}");
    assert!(errors[0].reason.contains("兩個帳號"));
    assert!(errors[1].reason.contains("控制字元"));
    assert!(errors[2].reason.contains("超過"));
    // A future transfer imported three times is recorded (and notified) once.
    let csv = "account,national_id,name,unit,title,status,effective_date\n\
               lin.meiling,,林美玲,elderly-welfare,社會工作師,transferred,115/03/10\n";
    let mut changed = Vec::new();
    for _ in 0..3 {
        changed.push(
            import_staff_csv(&w.store, &desk, csv, &op())
                .await
                .unwrap()
                .changed,
        );
    }
    assert_eq!(changed, [1, 0, 0]);
    let lin = w.id("lin.meiling").await;
    assert_eq!(w.store.staff_changes_of(lin).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_deputy_holds_the_desk_only_while_the_administrator_is_absent_and_as_deputy() {
    let w = World::new().await;
    let li = w.id("li.guowei").await;
    let wu = w.id("wu.zhiming").await;
    let lin = w.id("lin.meiling").await;
    // The administrator is at work: the deputy has no desk, and the refusal is audited.
    assert_eq!(
        refusal_code(w.admin_desk(li).await),
        "permission.deputy_out_of_scope"
    );
    assert!(
        w.refusals()
            .await
            .contains(&"refused:permission.deputy_out_of_scope".to_string())
    );
    // The administrator's absence is registered (account disabled): the deputy stands in.
    w.disable(&[wu, lin]).await;
    let desk = w.admin_desk(li).await.unwrap();
    assert_eq!(desk.acting_for(), Some(wu));
    assert!(enable_account(&w.store, &desk, lin, &op()).await.unwrap());
    let enabled = audit(&w.store, "admin.account.enabled").await;
    let entry = String::from_utf8_lossy(&enabled[0].entry).into_owned();
    assert!(entry.contains("代理"), "{entry}");
    assert!(
        entry.contains(&format!("\"acting_for\":{}", wu.get())),
        "{entry}"
    );
}
