//! Permission use cases (§2, Form 1 資料查詢者權限申請表): applications and their approval
//! chain, grants, the approver's inbox and the administrator's overview. Personnel changes
//! (CSV, SCIM) are in [`staff`], quarterly recertification and idle accounts in
//! [`recertification`].
//!
//! Security-sensitive. Each use case is one transaction with its audit record(s) inside; each
//! refusal is audited with its rule code (STYLE rules 3 and 5). The rules themselves live in
//! `querywarden_domain::permission`; this module loads what they need, asks them, and stores the
//! answer. Acting on a step needs an [`ApproverAtStep`], which only [`approver_at_step`] hands
//! out; the administrator's overview needs an [`AdministratorDesk`]; supervisors' views need a
//! [`SupervisorDesk`].
//!
//! # For the web layer
//!
//! The web layer reaches all of this only through [`App::permissions`](crate::App::permissions)
//! ([`service`]), never the store. Every function takes the [`Store`], the acting person's id
//! (from the session), an [`Op`] (clock reading, operation id, client address) and parsed
//! domain input, and returns
//! `Result<_, PermissionError>`: [`PermissionError::Refused`] carries a stable code and a zh-TW
//! message safe to show; the others are internal (log, show the operation id).

pub mod recertification;
pub mod service;
pub mod staff;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::catalogue::{ServiceItem, ServiceItemCode};
use querywarden_domain::org::{Account, Person, PersonId, Role, UnitId};
use querywarden_domain::permission::recertification::{RecertificationPolicy, reminder_date};
use querywarden_domain::permission::{
    self as rules, AdministratorDesk, ApplicationForm, ApplicationId, ApplicationState,
    ApproverAtStep, GrantStatus, Participant, PermissionApplication, PermissionGrant,
    PermissionRefusal, Roster, Step, StepDecision, SupervisorDesk,
};
use querywarden_domain::roc_date::{RocDate, taipei_date};
use querywarden_storage::{NewGrant, StorageError, Store};

use crate::keys::KeyRing;
use crate::new_request_id;

pub use service::{ApplicantAct, PermissionService};

/// The settings of this area. Defaults: no deputy, reminders after 3 working days, the
/// recertification defaults (6 months unused, 90 days idle, 10 working days to answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionPolicy {
    /// 代理人: handles the permission administrator's own applications (MISSION.md "Roles").
    pub deputy_administrator: Option<Account>,
    /// A pending step is flagged for a reminder after this many working days.
    pub reminder_working_days: i32,
    pub recertification: RecertificationPolicy,
}

impl Default for PermissionPolicy {
    fn default() -> Self {
        Self {
            deputy_administrator: None,
            reminder_working_days: 3,
            recertification: RecertificationPolicy::default(),
        }
    }
}

/// One operation: when it happens, its id (shown to the user, in the log and the audit record)
/// and the client's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub now: Timestamp,
    pub request_id: String,
    pub client_addr: Option<String>,
}

impl Op {
    pub fn new(now: Timestamp, request_id: impl Into<String>) -> Op {
        Op {
            now,
            request_id: request_id.into(),
            client_addr: None,
        }
    }

    /// An operation the system starts by itself, now.
    pub fn system() -> Op {
        Op::new(Timestamp::now(), new_request_id())
    }

    /// Today in Asia/Taipei: the date rules are judged on.
    pub fn today(&self) -> RocDate {
        taipei_date(self.now)
    }

    fn event(&self, action: AuditAction, actor: Option<Actor>) -> AuditEvent {
        let mut e = AuditEvent::system(self.now, action, self.request_id.clone());
        e.actor = actor;
        e.client_addr = self.client_addr.clone();
        e
    }
}

crate::error::use_case_error!(
    /// Why a permission use case did not happen.
    pub PermissionError(PermissionRefusal),
    "permission"
);

/// Staff records by id.
pub(crate) type PersonsById = BTreeMap<PersonId, Person>;

/// The organisation as the walk up the units needs it on `today` (§2 Form 1, §5 ¶1 Form 2):
/// units and parents, supervisors, the deputies whose period covers `today`, the director,
/// and who is absent (not in service, or the account disabled). Also the staff records and
/// the disabled accounts it was made from.
pub(crate) async fn unit_roster(
    store: &Store,
    today: RocDate,
) -> Result<(Roster, PersonsById, BTreeSet<PersonId>), StorageError> {
    let persons: PersonsById = store.persons_by_id().await?;
    let disabled: BTreeSet<PersonId> = store.disabled_accounts().await?.into_keys().collect();
    let inactive = persons
        .values()
        .filter(|p| !rules::in_service(p.status) || disabled.contains(&p.id))
        .map(|p| p.id)
        .collect();
    let roster = Roster {
        director: persons
            .values()
            .find(|p| p.has_role(Role::Director))
            .map(|p| p.id),
        inactive,
        ..units_on(store, today).await?
    };
    Ok((roster, persons, disabled))
}

/// The organisation as a registration's or a request's chain needs it on `today` (§5 ¶1,
/// §2 Form 3): units and parents, supervisors, the deputies in force, the director, and which
/// of the people holding those posts cannot act. The same walk as [`unit_roster`] gives, read
/// without the staff list: every decision reads it, and a staff of thousands made each
/// decision cost as much as the staff was large. `inactive` names only post holders, the only
/// people the walk asks about.
pub(crate) async fn chain_roster(store: &Store, today: RocDate) -> Result<Roster, StorageError> {
    let holders = store.post_holders().await?;
    Ok(Roster {
        director: holders.iter().find(|h| h.director).map(|h| h.person),
        inactive: holders
            .iter()
            .filter(|h| !rules::in_service(h.status) || h.disabled)
            .map(|h| h.person)
            .collect(),
        ..units_on(store, today).await?
    })
}

/// The units, their parents, their supervisors and the deputies in force on `today`: the part
/// of a roster both [`unit_roster`] and [`chain_roster`] read the same way.
async fn units_on(store: &Store, today: RocDate) -> Result<Roster, StorageError> {
    Ok(Roster {
        parents: store
            .units()
            .await?
            .into_iter()
            .map(|u| (u.id, u.parent))
            .collect(),
        supervisors: store.unit_supervisors().await?,
        unit_deputies: store
            .unit_deputy_terms()
            .await?
            .into_iter()
            .filter(|(_, t)| t.in_force(today))
            .map(|(u, t)| (u, t.person))
            .collect(),
        ..Roster::default()
    })
}

/// The organisation as loaded for one decision.
pub(crate) struct World {
    pub persons: BTreeMap<PersonId, Person>,
    pub disabled: BTreeSet<PersonId>,
    pub roster: Roster,
}

impl World {
    /// The organisation on `today` (the day decides which deputy terms are in force).
    pub(crate) async fn load(
        store: &Store,
        policy: &PermissionPolicy,
        today: RocDate,
    ) -> Result<World, PermissionError> {
        let (mut roster, persons, disabled) = unit_roster(store, today).await?;
        let with_role =
            |r: Role| -> Vec<&Person> { persons.values().filter(|p| p.has_role(r)).collect() };
        // §7: one permission administrator; prefer one who can act.
        let admins = with_role(Role::PermissionAdministrator);
        let admin = admins
            .iter()
            .find(|p| rules::in_service(p.status) && !disabled.contains(&p.id))
            .or(admins.first())
            .copied();
        let deputy = policy
            .deputy_administrator
            .as_ref()
            .and_then(|a| persons.values().find(|p| &p.account == a))
            .map(|p| p.id);
        roster.administrator = admin.map(|p| p.id);
        roster.administrator_unit = admin.map(|p| p.unit.clone());
        roster.deputy = deputy;
        roster.admin_supervisors = with_role(Role::PermissionAdminSupervisor)
            .iter()
            .map(|p| p.id)
            .collect();
        Ok(World {
            persons,
            disabled,
            roster,
        })
    }

    pub(crate) fn participant(&self, id: PersonId) -> Result<Participant, PermissionError> {
        let p = self
            .persons
            .get(&id)
            .ok_or(PermissionError::NotFound("人員"))?;
        Ok(Participant::from_person(p, self.disabled.contains(&id)))
    }
}

pub(crate) use crate::error::refused;

fn actor(person: PersonId, role: Option<Role>) -> Option<Actor> {
    Some(Actor { person, role })
}

async fn load_application(
    store: &Store,
    id: ApplicationId,
) -> Result<PermissionApplication, PermissionError> {
    store
        .application(id)
        .await?
        .ok_or(PermissionError::NotFound("申請表"))
}

/// Loads application `id` for a use case acting on it; a missing one is refused and audited
/// like any other refusal (`permission.not_found`) under `action`.
async fn load_for_action(
    store: &Store,
    op: &Op,
    action: AuditAction,
    by: PersonId,
    role: Option<Role>,
    id: ApplicationId,
) -> Result<PermissionApplication, PermissionError> {
    match store.application(id).await? {
        Some(app) => Ok(app),
        None => {
            let ev = application_event(op, action, by, role, id);
            crate::audit::record_rule_refusal(store, ev, "permission.not_found").await?;
            Err(PermissionError::NotFound("申請表"))
        }
    }
}

/// Audits refusal `r` of an applicant's act, then answers it. §9: someone who is not the
/// applicant and never signed the form is answered as if it did not exist, so form ids
/// cannot be probed; the record keeps the real reason.
async fn refused_to_applicant<T>(
    store: &Store,
    event: AuditEvent,
    r: PermissionRefusal,
    app: &PermissionApplication,
    by: PersonId,
) -> Result<T, PermissionError> {
    let stranger = r == PermissionRefusal::NotApplicant && !app.steps.iter().any(|s| s.by == by);
    match refused(store, event, r).await {
        Err(PermissionError::Refused(_)) if stranger => Err(PermissionError::NotFound("申請表")),
        other => other,
    }
}

/// Whether `viewer` may see application `app`: the applicant, anyone who signed it, the person
/// its pending step waits for, or the administrator's desk.
fn sees_application(
    world: &World,
    app: &PermissionApplication,
    viewer: PersonId,
) -> Result<bool, PermissionError> {
    if app.applicant == viewer || app.steps.iter().any(|s| s.by == viewer) {
        return Ok(true);
    }
    let designated = rules::designated_approver(app, &world.roster).ok();
    Ok(designated == Some(viewer)
        || rules::administrator_desk(&world.participant(viewer)?, &world.roster).is_ok())
}

fn application_event(
    op: &Op,
    action: AuditAction,
    by: PersonId,
    role: Option<Role>,
    app_id: ApplicationId,
) -> AuditEvent {
    op.event(action, actor(by, role))
        .on("permission_application", app_id.to_string())
}

/// Writes a new Form 1 as a draft (草稿), numbered `民國年-序號` by application date. Unit,
/// title and name are taken from the staff record; the national ID is kept only as HMAC and
/// masked form. Refused: disabled account, missing fields, unknown item, ID not matching the
/// staff record.
pub async fn create_application(
    store: &Store,
    keys: &KeyRing,
    applicant: PersonId,
    form: ApplicationForm,
    op: &Op,
) -> Result<PermissionApplication, PermissionError> {
    let person = store
        .person(applicant)
        .await?
        .ok_or(PermissionError::NotFound("人員"))?;
    let disabled = store.account_disabled(applicant).await?;
    let who = Participant::from_person(&person, disabled);
    let catalogue = store.service_items().await?;
    let last4 = store.person_id_last4(applicant).await?;
    let event = op
        .event(
            AuditAction::ApplicationCreated,
            actor(applicant, Some(Role::Querier)),
        )
        .on("permission_application", "-")
        .detail("kind", form.kind.code());
    if let Err(r) = rules::check_form(&form, &who, &catalogue, last4.as_deref()) {
        return refused(store, event, r).await;
    }
    let digest = keys.subject_digest(&form.national_id);
    let today = op.today();
    let mut app = PermissionApplication {
        id: ApplicationId::new(0),
        form_number: rules::FormNumber::new(today.roc_year(), 1)
            .map_err(|_| PermissionError::NotFound("表單編號"))?,
        application_date: today,
        applicant,
        kind: form.kind,
        unit: person.unit.clone(),
        title: person.title.clone(),
        name: person.name.clone(),
        reason: form.reason,
        national_id_masked: form.national_id.masked(),
        national_id_digest: digest.clone(),
        phone: form.phone,
        email: form.email,
        egov_account: form.egov_account,
        items: form.items,
        confirmations: form.confirmations,
        state: ApplicationState::Draft,
        round: 0,
        step_since: None,
        steps: vec![],
    };
    let mut tx = store.begin().await?;
    app.form_number = tx.next_form_number(today.roc_year()).await?;
    app.id = tx.insert_application(&app, op.now).await?;
    let mut event = event
        .on("permission_application", app.id.to_string())
        .detail("form_number", app.form_number.to_string())
        .detail("items", items_json(&app.items));
    event.subject = Some(digest);
    tx.append_audit(&event).await?;
    tx.commit().await?;
    Ok(app)
}

fn items_json(items: &BTreeSet<ServiceItemCode>) -> serde_json::Value {
    serde_json::Value::from(
        items
            .iter()
            .map(|i| i.as_str().to_string())
            .collect::<Vec<_>>(),
    )
}

/// What an applicant's own action on their Form 1 starts from (amend, submit): the application
/// (a refusal to load it is audited), the applicant as a participant, the catalogue, and the
/// action's audit event.
async fn applicant_action(
    store: &Store,
    applicant: PersonId,
    id: ApplicationId,
    action: AuditAction,
    op: &Op,
) -> Result<
    (
        PermissionApplication,
        Participant,
        Vec<ServiceItem>,
        AuditEvent,
    ),
    PermissionError,
> {
    let app = load_for_action(store, op, action, applicant, Some(Role::Querier), id).await?;
    let person = store
        .person(applicant)
        .await?
        .ok_or(PermissionError::NotFound("人員"))?;
    let who = Participant::from_person(&person, store.account_disabled(applicant).await?);
    let catalogue = store.service_items().await?;
    let event = application_event(op, action, applicant, Some(Role::Querier), id);
    Ok((app, who, catalogue, event))
}

/// Amends a draft, or an application returned with the administrator's note (退回補正), before
/// (re)submission. Audited as `permission.application.created` with `amended: true`.
pub async fn amend_application(
    store: &Store,
    keys: &KeyRing,
    applicant: PersonId,
    id: ApplicationId,
    form: ApplicationForm,
    op: &Op,
) -> Result<PermissionApplication, PermissionError> {
    let (mut app, who, catalogue, event) =
        applicant_action(store, applicant, id, AuditAction::ApplicationCreated, op).await?;
    let last4 = store.person_id_last4(applicant).await?;
    let event = event.detail("amended", true);
    let check = rules::may_amend(&app, &who)
        .and_then(|()| rules::check_form(&form, &who, &catalogue, last4.as_deref()));
    if let Err(r) = check {
        return refused_to_applicant(store, event, r, &app, applicant).await;
    }
    let digest = keys.subject_digest(&form.national_id);
    app.kind = form.kind;
    app.reason = form.reason;
    app.national_id_masked = form.national_id.masked();
    app.national_id_digest = digest.clone();
    app.phone = form.phone;
    app.email = form.email;
    app.egov_account = form.egov_account;
    app.items = form.items;
    app.confirmations = form.confirmations;
    let mut tx = store.begin().await?;
    if !tx.update_application_form(&app, op.now).await? {
        return Err(PermissionError::Conflict);
    }
    let mut event = event.detail("items", items_json(&app.items));
    event.subject = Some(digest);
    tx.append_audit(&event).await?;
    tx.commit().await?;
    Ok(app)
}

/// The applicant signs and sends the Form 1 to their unit supervisor (also a resubmission of
/// a returned application, which starts a new round). Refused: not the applicant, disabled,
/// double submission, confirmations missing, no items, unknown item.
pub async fn submit_application(
    store: &Store,
    applicant: PersonId,
    id: ApplicationId,
    op: &Op,
) -> Result<PermissionApplication, PermissionError> {
    let (mut app, who, catalogue, event) =
        applicant_action(store, applicant, id, AuditAction::ApplicationSubmitted, op).await?;
    let event = event.detail("form_number", app.form_number.to_string());
    let state = match rules::submit(&app, &who, &catalogue) {
        Ok(s) => s,
        Err(r) => return refused_to_applicant(store, event, r, &app, applicant).await,
    };
    let mut tx = store.begin().await?;
    let round = app.round + 1;
    if !tx
        .set_application_state(
            id,
            &app.state,
            app.round,
            &state,
            round,
            Some(op.now),
            op.now,
        )
        .await?
    {
        // §2: a double submission that raced past the check.
        return Err(PermissionError::Conflict);
    }
    tx.append_audit(&event.detail("round", round)).await?;
    tx.commit().await?;
    app.state = state;
    app.round = round;
    app.step_since = Some(op.now);
    Ok(app)
}

/// The check that hands out the capability to decide an application's pending step: only the
/// person designated for it, and never against separation of duties (MISSION.md "Roles").
/// A refusal is audited.
pub async fn approver_at_step(
    store: &Store,
    policy: &PermissionPolicy,
    person: PersonId,
    id: ApplicationId,
    op: &Op,
) -> Result<ApproverAtStep, PermissionError> {
    let app = load_for_action(
        store,
        op,
        AuditAction::ApplicationApproved,
        person,
        None,
        id,
    )
    .await?;
    let world = World::load(store, policy, op.today()).await?;
    let who = world.participant(person)?;
    match rules::check_approver(&app, &who, &world.roster) {
        Ok(cap) => Ok(cap),
        Err(r) => {
            let role = app.state.pending_step().map(Step::role);
            let event = application_event(op, AuditAction::ApplicationApproved, person, role, id)
                .detail("step", app.state.pending_step().map_or("-", Step::code));
            let hidden = !sees_application(&world, &app, person)?;
            match refused(store, event, r).await {
                // §9: not theirs to see: answered as if it did not exist (the record keeps
                // the real reason).
                Err(PermissionError::Refused(_)) if hidden => {
                    Err(PermissionError::NotFound("申請表"))
                }
                other => other,
            }
        }
    }
}

/// What happened to the applicant's grants when an application was finally approved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrantChanges {
    pub created: Vec<querywarden_domain::permission::GrantId>,
    pub ended: Vec<querywarden_domain::permission::GrantId>,
}

/// Decides the step the capability is for: approve (the administrator with an effective date;
/// the countersigner may replace a date that has passed), refuse with a reason, or — the
/// administrator only — "other" with a note (returned to the applicant). The countersign
/// approves the application and creates/ends grants per its kind, all in one transaction.
pub async fn decide_step(
    store: &Store,
    approver: &ApproverAtStep,
    decision: StepDecision,
    op: &Op,
) -> Result<(PermissionApplication, GrantChanges), PermissionError> {
    let mut app = load_application(store, approver.application()).await?;
    let step = approver.step();
    let transition = match rules::decide(&app, approver, decision, op.today(), op.now) {
        Ok(t) => t,
        Err(r) => {
            let event = application_event(
                op,
                AuditAction::ApplicationApproved,
                approver.person(),
                Some(step.role()),
                app.id,
            )
            .detail("step", step.code());
            return refused(store, event, r).await;
        }
    };
    let action = match &transition.state {
        ApplicationState::Approved { .. } => AuditAction::ApplicationApproved,
        ApplicationState::Refused { .. } => AuditAction::ApplicationRejected,
        ApplicationState::Returned { .. } => AuditAction::ApplicationReturned,
        _ => AuditAction::ApplicationStepApproved,
    };
    let current = store.grants_of(app.applicant).await?;
    let mut changes = GrantChanges::default();
    let mut tx = store.begin().await?;
    let step_since = transition.state.pending_step().map(|_| op.now);
    if !tx
        .set_application_state(
            app.id,
            &app.state,
            app.round,
            &transition.state,
            app.round,
            step_since,
            op.now,
        )
        .await?
    {
        return Err(PermissionError::Conflict);
    }
    tx.insert_application_step(app.id, &transition.record)
        .await?;
    let mut event = application_event(op, action, approver.person(), Some(step.role()), app.id)
        .detail("step", step.code())
        .detail("outcome", transition.record.outcome.code())
        .detail("round", app.round)
        .detail("form_number", app.form_number.to_string());
    if let Some(d) = transition.record.effective_from {
        event = event.detail("effective_from", d.civil().to_string());
    }
    tx.append_audit(&event).await?;
    if let ApplicationState::Approved { effective_from } = transition.state {
        // §2: the approved Form 1 becomes grants, one per item, from the effective date.
        let plan = rules::plan_for_approval(app.kind, &app.items, &current);
        for g in &plan.end {
            if tx.end_grant(*g, effective_from, op.now).await? {
                changes.ended.push(*g);
                tx.append_audit(
                    &op.event(
                        AuditAction::GrantEnded,
                        actor(approver.person(), Some(step.role())),
                    )
                    .on("permission_grant", g.to_string())
                    .detail("application", app.id.get())
                    .detail("person", app.applicant.get())
                    .detail("effective_to", effective_from.civil().to_string()),
                )
                .await?;
            }
        }
        // §2: whoever holds a query grant is a 資料查詢者 (the registration desk asks for the
        // role); without this an installation that starts empty never has a querier.
        if !plan.create.is_empty() {
            tx.add_person_role(app.applicant, querywarden_domain::org::Role::Querier)
                .await?;
        }
        for item in &plan.create {
            let id = tx
                .insert_grant(
                    &NewGrant {
                        person: app.applicant,
                        item: item.clone(),
                        effective_from,
                        application: app.id,
                    },
                    op.now,
                )
                .await?;
            changes.created.push(id);
            tx.append_audit(
                &op.event(
                    AuditAction::GrantCreated,
                    actor(approver.person(), Some(step.role())),
                )
                .on("permission_grant", id.to_string())
                .detail("application", app.id.get())
                .detail("person", app.applicant.get())
                .detail("item", item.as_str())
                .detail("effective_from", effective_from.civil().to_string()),
            )
            .await?;
        }
    }
    tx.commit().await?;
    app.steps.push(transition.record);
    app.state = transition.state;
    app.step_since = step_since;
    Ok((app, changes))
}

/// The applicant withdraws (撤回) a draft, a returned application, or one pending before the
/// last step.
pub async fn withdraw_application(
    store: &Store,
    applicant: PersonId,
    id: ApplicationId,
    op: &Op,
) -> Result<PermissionApplication, PermissionError> {
    let mut app = load_for_action(
        store,
        op,
        AuditAction::ApplicationWithdrawn,
        applicant,
        Some(Role::Querier),
        id,
    )
    .await?;
    let person = store
        .person(applicant)
        .await?
        .ok_or(PermissionError::NotFound("人員"))?;
    // Withdrawing is allowed even for a disabled account: it only gives something up.
    let who = Participant::from_person(&person, false);
    let event = application_event(
        op,
        AuditAction::ApplicationWithdrawn,
        applicant,
        Some(Role::Querier),
        id,
    )
    .detail("from_state", app.state.code());
    let state = match rules::withdraw(&app, &who) {
        Ok(s) => s,
        Err(r) => return refused_to_applicant(store, event, r, &app, applicant).await,
    };
    let mut tx = store.begin().await?;
    if !tx
        .set_application_state(id, &app.state, app.round, &state, app.round, None, op.now)
        .await?
    {
        return Err(PermissionError::Conflict);
    }
    tx.append_audit(&event).await?;
    tx.commit().await?;
    app.state = state;
    app.step_since = None;
    Ok(app)
}

/// One line of an approver's inbox (待簽核).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    pub application: PermissionApplication,
    pub step: Step,
    /// When the step started waiting.
    pub waiting_since: Option<Timestamp>,
    /// The day the reminder is due ([`PermissionPolicy::reminder_working_days`] working days).
    pub reminder_on: Option<RocDate>,
    pub reminder_due: bool,
}

/// The applications waiting for `person` to decide, oldest first, with reminder flags.
pub async fn inbox(
    store: &Store,
    policy: &PermissionPolicy,
    person: PersonId,
    today: RocDate,
) -> Result<Vec<InboxEntry>, PermissionError> {
    let world = World::load(store, policy, today).await?;
    let calendar = crate::calendar::current(store).await?;
    let mut out = Vec::new();
    for app in store.pending_applications().await? {
        if rules::designated_approver(&app, &world.roster) != Ok(person) {
            continue;
        }
        let Some(step) = app.state.pending_step() else {
            continue;
        };
        let reminder_on = app
            .step_since
            .map(|t| reminder_date(taipei_date(t), policy.reminder_working_days, &calendar));
        out.push(InboxEntry {
            step,
            waiting_since: app.step_since,
            reminder_due: reminder_on.is_some_and(|d| today >= d),
            reminder_on,
            application: app,
        });
    }
    Ok(out)
}

/// Every pending step whose reminder is due, with the person it waits for (for a daily
/// reminder job). Steps nobody can act on are listed with `None`.
pub async fn due_reminders(
    store: &Store,
    policy: &PermissionPolicy,
    today: RocDate,
) -> Result<Vec<(Option<PersonId>, InboxEntry)>, PermissionError> {
    let world = World::load(store, policy, today).await?;
    let calendar = crate::calendar::current(store).await?;
    let mut out = Vec::new();
    for app in store.pending_applications().await? {
        let (Some(step), Some(since)) = (app.state.pending_step(), app.step_since) else {
            continue;
        };
        let on = reminder_date(taipei_date(since), policy.reminder_working_days, &calendar);
        if today >= on {
            let who = rules::designated_approver(&app, &world.roster).ok();
            out.push((
                who,
                InboxEntry {
                    step,
                    waiting_since: Some(since),
                    reminder_on: Some(on),
                    reminder_due: true,
                    application: app,
                },
            ));
        }
    }
    Ok(out)
}

/// Who a pending sign-off waits for, as a waiting step names them: the person, their name,
/// and whether they sign as 代理.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Awaited {
    pub signer: querywarden_domain::permission::acting::Signer,
    pub name: String,
}

/// §2, §5 ¶1: whom each application's pending step waits for today, and whether they sign
/// as 代理 — the rule the approval itself applies (`designated_signer`); `None` when the
/// application waits for nobody (not pending) or nobody can act.
pub async fn waiting_for(
    store: &Store,
    policy: &PermissionPolicy,
    apps: &[PermissionApplication],
    today: RocDate,
) -> Result<Vec<Option<Awaited>>, PermissionError> {
    if apps.iter().all(|a| a.state.pending_step().is_none()) {
        return Ok(vec![None; apps.len()]);
    }
    let world = World::load(store, policy, today).await?;
    Ok(apps
        .iter()
        .map(|a| {
            let signer = rules::designated_signer(a, &world.roster).ok()?;
            let name = world.persons.get(&signer.person)?.name.clone();
            Some(Awaited { signer, name })
        })
        .collect())
}

/// A person's own applications, oldest first.
pub async fn applications_of(
    store: &Store,
    person: PersonId,
) -> Result<Vec<PermissionApplication>, PermissionError> {
    Ok(store.applications_of(person).await?)
}

/// One application, for someone entitled to see it: the applicant, anyone who signed it, the
/// person its pending step waits for, or the administrator's desk.
pub async fn application_for_viewer(
    store: &Store,
    policy: &PermissionPolicy,
    viewer: PersonId,
    id: ApplicationId,
    op: &Op,
) -> Result<PermissionApplication, PermissionError> {
    let app = load_for_action(store, op, AuditAction::AccessRefused, viewer, None, id).await?;
    if app.applicant == viewer || app.steps.iter().any(|s| s.by == viewer) {
        return Ok(app);
    }
    let world = World::load(store, policy, taipei_date(Timestamp::now())).await?;
    if sees_application(&world, &app, viewer)? {
        return Ok(app);
    }
    // §9: not theirs to see: answered as if it did not exist; the trail keeps the reason.
    let ev = application_event(op, AuditAction::AccessRefused, viewer, None, id);
    crate::audit::record_rule_refusal(store, ev, "permission.not_visible").await?;
    Err(PermissionError::NotFound("申請表"))
}

/// §7: an act at the administrator's desk by the deputy is recorded as 代理, naming the absent
/// administrator acted for.
pub(crate) fn as_desk(desk: &AdministratorDesk, event: AuditEvent) -> AuditEvent {
    match desk.acting_for() {
        Some(admin) => event
            .detail("acting_as", "代理")
            .detail("acting_for", admin.get()),
        None => event,
    }
}

/// The capability for the administrator's overview, staff imports and account re-enabling.
/// A refusal (`permission.not_administrator`, a deputy out of scope) is audited.
pub async fn administrator_desk(
    store: &Store,
    policy: &PermissionPolicy,
    person: PersonId,
    op: &Op,
) -> Result<AdministratorDesk, PermissionError> {
    let world = World::load(store, policy, op.today()).await?;
    match rules::administrator_desk(&world.participant(person)?, &world.roster) {
        Ok(desk) => Ok(desk),
        Err(r) => refused(store, desk_refused(op, person, "administrator"), r).await,
    }
}

/// The capability for a supervisor's views of their staff (upcoming changes, recertification).
/// A refusal (`permission.not_supervisor`) is audited.
pub async fn supervisor_desk(
    store: &Store,
    policy: &PermissionPolicy,
    person: PersonId,
    op: &Op,
) -> Result<SupervisorDesk, PermissionError> {
    let world = World::load(store, policy, op.today()).await?;
    match rules::supervisor_desk(&world.participant(person)?, &world.roster) {
        Ok(desk) => Ok(desk),
        Err(r) => refused(store, desk_refused(op, person, "supervisor"), r).await,
    }
}

fn desk_refused(op: &Op, person: PersonId, desk: &str) -> AuditEvent {
    op.event(AuditAction::AccessRefused, actor(person, None))
        .on("desk", desk)
}

/// A grant with its holder, for lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantView {
    pub grant: PermissionGrant,
    pub account: Account,
    pub name: String,
    pub unit: UnitId,
    /// In force on the day the list was made.
    pub in_force: bool,
}

/// Filters of the administrator's overview; `None` = any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    pub unit: Option<UnitId>,
    pub item: Option<ServiceItemCode>,
    pub status: Option<GrantStatus>,
}

fn view(
    g: PermissionGrant,
    persons: &BTreeMap<PersonId, Person>,
    today: RocDate,
) -> Option<GrantView> {
    let p = persons.get(&g.person)?;
    Some(GrantView {
        in_force: g.in_force_on(today),
        account: p.account.clone(),
        name: p.name.clone(),
        unit: p.unit.clone(),
        grant: g,
    })
}

/// A person's own grants (all statuses), with whether each is in force `today`.
pub async fn my_grants(
    store: &Store,
    person: PersonId,
    today: RocDate,
) -> Result<Vec<GrantView>, PermissionError> {
    let p = store
        .person(person)
        .await?
        .ok_or(PermissionError::NotFound("人員"))?;
    let persons = BTreeMap::from([(p.id, p)]);
    Ok(store
        .grants_of(person)
        .await?
        .into_iter()
        .filter_map(|g| view(g, &persons, today))
        .collect())
}

/// The administrator's overview of all grants, filtered by unit (the holder's current unit),
/// item and status.
pub async fn grant_overview(
    store: &Store,
    _desk: &AdministratorDesk,
    filter: &GrantFilter,
    today: RocDate,
) -> Result<Vec<GrantView>, PermissionError> {
    let persons: BTreeMap<PersonId, Person> = store.persons_by_id().await?;
    Ok(store
        .all_grants()
        .await?
        .into_iter()
        .filter(|g| filter.item.as_ref().is_none_or(|i| &g.item == i))
        .filter(|g| filter.status.is_none_or(|s| g.status == s))
        .filter_map(|g| view(g, &persons, today))
        .filter(|v| filter.unit.as_ref().is_none_or(|u| &v.unit == u))
        .collect())
}

/// §2, §5: does `person` hold an active grant for `item` on `date`? (For the query check.)
pub async fn holds_grant(
    store: &Store,
    person: PersonId,
    item: &ServiceItemCode,
    date: RocDate,
) -> Result<bool, PermissionError> {
    Ok(rules::holds_grant(
        &store.grants_of(person).await?,
        item,
        date,
    ))
}

#[cfg(test)]
mod tests {
    use querywarden_domain::permission::acting::DeputyTerm;
    use querywarden_storage::DisableReason;

    use super::*;

    /// The chain's own read gives the walk exactly what the whole roster gives it: the same
    /// units, supervisors, deputies and director, and the same verdict on every post holder
    /// who cannot act.
    #[tokio::test]
    async fn the_chain_roster_is_the_whole_roster_restricted_to_post_holders() {
        let store = Store::open_in_memory().await.unwrap();
        let now = jiff::Timestamp::from_second(1_764_000_000).unwrap();
        assert!(crate::demo::initialise(&store, now, "r1").await.unwrap());
        assert!(crate::demo::seed_demo(&store, now, "r2").await.unwrap());
        let today = querywarden_domain::roc_date::taipei_date(now);
        let supervisors = store.unit_supervisors().await.unwrap();
        let (unit, supervisor) = supervisors
            .iter()
            .next()
            .map(|(u, p)| (u.clone(), *p))
            .unwrap();
        let persons = store.persons().await.unwrap();
        let staff = persons
            .iter()
            .find(|p| !supervisors.values().any(|s| *s == p.id) && !p.has_role(Role::Director))
            .unwrap()
            .id;
        // A supervisor whose account is disabled, a plain staff member disabled too, and a
        // deputy in force.
        let mut tx = store.begin().await.unwrap();
        for p in [supervisor, staff] {
            tx.disable_account(p, DisableReason::Left, None, now)
                .await
                .unwrap();
        }
        let deputy = persons
            .iter()
            .find(|p| p.id != supervisor && p.id != staff)
            .unwrap()
            .id;
        tx.set_deputy_term(
            &unit,
            &DeputyTerm {
                person: deputy,
                from: None,
                until: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let (whole, _, _) = unit_roster(&store, today).await.unwrap();
        let chain = chain_roster(&store, today).await.unwrap();
        assert_eq!(chain.parents, whole.parents);
        assert_eq!(chain.supervisors, whole.supervisors);
        assert_eq!(chain.unit_deputies, whole.unit_deputies);
        assert_eq!(chain.unit_deputies.get(&unit), Some(&deputy));
        assert!(chain.director.is_some());
        assert_eq!(chain.director, whole.director);
        assert!(chain.inactive.contains(&supervisor));
        assert!(whole.inactive.contains(&staff));
        assert!(!chain.inactive.contains(&staff), "not a post holder");
        let holders: BTreeSet<PersonId> = whole
            .supervisors
            .values()
            .chain(whole.unit_deputies.values())
            .chain(whole.director.iter())
            .copied()
            .collect();
        let expected: BTreeSet<PersonId> = whole.inactive.intersection(&holders).copied().collect();
        assert_eq!(chain.inactive, expected);
    }
}
