//! Personnel changes from HR (§2): the staff CSV import (format in
//! `docs/staff-import-format.md`), the SCIM 2.0 User validation and mapping for
//! `/scim/v2/Users`, applying due changes, supervisors' view of upcoming changes, and the
//! notices a change sends to the permission administrator and the old unit's supervisor (§2).
//!
//! Security-sensitive: a change suspends or ends query grants, removes certificate bindings and
//! disables accounts. All or nothing: a CSV with any bad row imports nothing, and every bad row
//! is reported with its line number. National IDs in the CSV are checked and only their last
//! four digits kept (what sign-in compares with the card).

use std::collections::{BTreeMap, BTreeSet};

use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{Actor, AuditAction, Outcome};
use querywarden_domain::enrolment::RowError;
use querywarden_domain::org::{Account, Person, PersonId, Role, StaffStatus, Unit, UnitId};
use querywarden_domain::permission::personnel::{
    MAX_STAFF_NAME_CHARS, MAX_STAFF_TITLE_CHARS, PersonnelEffect, StaffChange, classify,
    effects_of, form1_due_before, staff_text_problem,
};
use querywarden_domain::permission::{
    AdministratorDesk, ApplicationKind, PermissionRefusal, SupervisorDesk,
};
use querywarden_domain::roc_date::{DateField, RocDate};
use querywarden_storage::{
    DisableReason, NewPerson, NoticeRow, StaffChangeRow, StaffChangeSource, Store, WriteTx,
};
use serde_json::Value;

use super::{Op, PermissionError};

/// One person's record as HR sends it, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    pub account: Account,
    /// Needed only for a new account.
    pub name: Option<String>,
    pub unit: UnitId,
    pub title: Option<String>,
    pub status: StaffStatus,
    pub effective: RocDate,
    /// Last four digits of the national ID, when HR sent it.
    pub id_last4: Option<String>,
}

/// What importing did for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffOutcome {
    /// A new account (status active), role 一般同仁.
    Created(PersonId),
    /// A change recorded; the effects (see `PersonnelEffect`) applied or scheduled.
    Changed {
        person: PersonId,
        change_id: i64,
        effects: Vec<PersonnelEffect>,
        /// Whether the staff record already took the new status (effective today or earlier).
        applied_now: bool,
    },
    /// Same status and unit as on record.
    Unchanged(PersonId),
}

/// The result of a CSV import that went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffImportReport {
    pub rows: usize,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub outcomes: Vec<(Account, StaffOutcome)>,
}

/// Why a CSV import imported nothing.
#[derive(Debug, thiserror::Error)]
pub enum StaffImportError {
    #[error("人事資料有 {} 列錯誤，未匯入任何資料", .0.len())]
    BadRows(Vec<RowError>),
    #[error(transparent)]
    Failed(#[from] PermissionError),
}

const HEADER: [&str; 7] = [
    "account",
    "national_id",
    "name",
    "unit",
    "title",
    "status",
    "effective_date",
];

fn find_unit<'a>(units: &'a [Unit], s: &str) -> Option<&'a Unit> {
    let s = s.trim();
    units.iter().find(|u| u.id.as_str() == s || u.name_zh == s)
}

/// The `staff_csv` fuzz target's entry and its seed test's: `text` read as a staff file against
/// a fixed organisation — the unit `social-affairs` (社會救助科) and the account `chen.dawen`
/// already on record with the last four ID digits `6789` — on 民國 115 年 3 月 5 日. The rows
/// it would import, or every bad row by line. Not an API.
#[doc(hidden)]
pub fn read_staff_file_against_fixture(text: &str) -> Result<usize, Vec<RowError>> {
    let unit = UnitId::new("social-affairs").map_err(|_| Vec::new())?;
    let account = Account::parse("chen.dawen").map_err(|_| Vec::new())?;
    let today = RocDate::new(115, 3, 5).map_err(|_| Vec::new())?;
    let person = Person {
        id: PersonId::new(1),
        account: account.clone(),
        name: "陳大文".into(),
        title: "科員".into(),
        unit: unit.clone(),
        roles: BTreeSet::from([Role::Querier]),
        status: StaffStatus::Active,
    };
    let units = [Unit {
        id: unit,
        name_zh: "社會救助科".into(),
        kind: querywarden_domain::org::UnitKind::BureauSection,
        parent: None,
    }];
    let persons = BTreeMap::from([(account, person)]);
    let last4s = BTreeMap::from([(PersonId::new(1), "6789".to_string())]);
    parse_staff_csv(text, &units, &persons, &last4s, today).map(|records| records.len())
}

/// Parses and checks the whole file; every bad row is reported.
fn parse_staff_csv(
    text: &str,
    units: &[Unit],
    persons: &BTreeMap<Account, Person>,
    last4s: &BTreeMap<PersonId, String>,
    today: RocDate,
) -> Result<Vec<StaffRecord>, Vec<RowError>> {
    // A broken quote stops the reading: after it, no row is where it seems.
    let rows = querywarden_bli::csv_reader::read_rows(text)
        .map_err(|e| vec![RowError::new(e.line, e.fault.message_zh())])?;
    let mut rows = rows.into_iter();
    match rows.next() {
        Some(h)
            if h.line == 1 && h.fields.iter().map(|x| x.trim()).collect::<Vec<_>>() == HEADER => {}
        _ => {
            return Err(vec![RowError::new(
                1,
                "第一列須為欄位名稱：account,national_id,name,unit,title,status,effective_date",
            )]);
        }
    }
    let mut file = StaffFile {
        units,
        persons,
        last4s,
        today,
        seen: BTreeSet::new(),
        ids: BTreeMap::new(),
    };
    let mut errors = Vec::new();
    let mut records = Vec::new();
    for row in rows {
        let line = row.line;
        if let [only] = row.fields.as_slice()
            && only.trim().is_empty()
        {
            continue;
        }
        if row.fields.len() != HEADER.len() {
            errors.push(RowError::new(line, "欄位數應為 7"));
            continue;
        }
        let f: Vec<&str> = row.fields.iter().map(|x| x.trim()).collect();
        match file.row(&f) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => {}
            Err(problems) => errors.push(RowError::new(line, problems.join("；"))),
        }
    }
    errors.sort_by_key(|e| e.line);
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// A staff file being read: the organisation it is checked against, and what earlier rows
/// already claimed (§2: one account once, one national ID for one member of staff).
struct StaffFile<'a> {
    units: &'a [Unit],
    persons: &'a BTreeMap<Account, Person>,
    last4s: &'a BTreeMap<PersonId, String>,
    today: RocDate,
    seen: BTreeSet<Account>,
    ids: BTreeMap<NationalId, Account>,
}

/// One row's columns, each parsed on its own so that every problem of the row is reported.
struct StaffColumns<'a> {
    account: Option<Account>,
    id: Option<NationalId>,
    unit: Option<&'a Unit>,
    status: Option<StaffStatus>,
    effective: Option<RocDate>,
}

impl<'a> StaffFile<'a> {
    /// One data row (seven trimmed fields): its record, or every problem found in it.
    fn row(&mut self, f: &[&str]) -> Result<Option<StaffRecord>, Vec<String>> {
        let mut problems: Vec<String> = Vec::new();
        let c = self.columns(f, &mut problems);
        // §2: one national ID, one member of staff.
        if let (Some(id), Some(a)) = (&c.id, &c.account)
            && let Some(other) = self.ids.insert(id.clone(), a.clone())
            && other != *a
        {
            problems.push("同一身分證統一編號出現在兩個帳號".into());
        }
        if let Some(a) = &c.account {
            if !self.seen.insert(a.clone()) {
                problems.push("同一帳號在檔案中出現兩次".into());
            }
            match self.persons.get(a) {
                Some(p) => self.check_known(p, &c, &mut problems),
                None => check_new(&c, f[2], &mut problems),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let (Some(account), Some(unit), Some(status), Some(effective)) =
            (c.account, c.unit, c.status, c.effective)
        else {
            return Ok(None);
        };
        Ok(Some(StaffRecord {
            account,
            name: Some(f[2].to_string()).filter(|s| !s.is_empty()),
            unit: unit.id.clone(),
            title: Some(f[4].to_string()).filter(|s| !s.is_empty()),
            status,
            effective,
            id_last4: c.id.map(|i| i.last4().to_string()),
        }))
    }

    fn columns(&self, f: &[&str], problems: &mut Vec<String>) -> StaffColumns<'a> {
        let account = Account::parse(f[0]).ok();
        if account.is_none() {
            problems.push("帳號格式不正確".into());
        }
        let id = if f[1].is_empty() {
            None
        } else {
            let id = NationalId::parse(f[1]).ok();
            if id.is_none() {
                problems.push("身分證統一編號不正確".into());
            }
            id
        };
        let unit = find_unit(self.units, f[3]);
        if unit.is_none() {
            problems.push("單位不存在".into());
        }
        let status = StaffStatus::parse_code(f[5]);
        if status.is_none() {
            problems.push("狀態應為 active、transferred、on_leave 或 left".into());
        }
        // The same window as Form 1's effective date: a year either side of today.
        let effective = match RocDate::parse_field(f[6], DateField::Effective, self.today) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(format!("生效日期：{e}"));
                None
            }
        };
        for (what, value, max) in [
            ("姓名", f[2], MAX_STAFF_NAME_CHARS),
            ("職稱", f[4], MAX_STAFF_TITLE_CHARS),
        ] {
            if let Some(p) = staff_text_problem(value, max) {
                problems.push(format!("{what}{}", p.message_zh()));
            }
        }
        StaffColumns {
            account,
            id,
            unit,
            status,
            effective,
        }
    }

    /// A row for someone already on record: the ID must be theirs, and the change one the
    /// rules allow (§2).
    fn check_known(&self, p: &Person, c: &StaffColumns<'_>, problems: &mut Vec<String>) {
        if let (Some(id), Some(l4)) = (&c.id, self.last4s.get(&p.id))
            && id.last4() != l4
        {
            problems.push("身分證統一編號與帳號不符".into());
        }
        if let (Some(u), Some(s)) = (c.unit, c.status) {
            let change = StaffChange {
                person: p.id,
                from_status: p.status,
                to_status: s,
                from_unit: p.unit.clone(),
                to_unit: u.id.clone(),
                effective: c.effective.unwrap_or(RocDate::MIN),
            };
            if let Err(r @ PermissionRefusal::InvalidTransition { .. }) = classify(&change) {
                problems.push(r.to_string());
            }
        }
    }
}

/// A row for a new account: it must start active, with a name and a national ID.
fn check_new(c: &StaffColumns<'_>, name: &str, problems: &mut Vec<String>) {
    if c.status.is_some() && c.status != Some(StaffStatus::Active) {
        problems.push("新帳號的狀態須為 active".into());
    }
    if name.is_empty() {
        problems.push("新帳號須填姓名".into());
    }
    if c.id.is_none() {
        problems.push("新帳號須填身分證統一編號".into());
    }
}

/// What one transaction needs to apply staff records.
struct StaffContext {
    persons: BTreeMap<Account, Person>,
    grants: BTreeMap<PersonId, Vec<querywarden_domain::permission::PermissionGrant>>,
    /// §2, §7: who is told of a change — the permission administrator(s)…
    administrators: Vec<PersonId>,
    /// …and the supervisor of the old unit (or of the nearest unit above it that has one).
    supervisors: BTreeMap<UnitId, PersonId>,
    parents: BTreeMap<UnitId, Option<UnitId>>,
}

impl StaffContext {
    /// The supervisor of `unit`, or of the nearest parent unit that has one.
    fn supervisor_of(&self, unit: &UnitId) -> Option<PersonId> {
        let mut at = Some(unit.clone());
        // The depth bound keeps a (mis-configured) cycle of parents from looping.
        for _ in 0..16 {
            let u = at?;
            if let Some(p) = self.supervisors.get(&u) {
                return Some(*p);
            }
            at = self.parents.get(&u).cloned().flatten();
        }
        None
    }

    /// Who the effects say must be told of `change` (never the person who changed).
    fn recipients(&self, change: &StaffChange, effects: &[PersonnelEffect]) -> BTreeSet<PersonId> {
        let mut out = BTreeSet::new();
        for e in effects {
            match e {
                PersonnelEffect::NotifyAdministrator => out.extend(self.administrators.iter()),
                PersonnelEffect::NotifySupervisor { unit } => out.extend(self.supervisor_of(unit)),
                _ => {}
            }
        }
        out.remove(&change.person);
        out
    }
}

async fn staff_context(store: &Store) -> Result<StaffContext, PermissionError> {
    let persons: BTreeMap<Account, Person> = store
        .persons()
        .await?
        .into_iter()
        .map(|p| (p.account.clone(), p))
        .collect();
    let mut grants: BTreeMap<PersonId, Vec<_>> = BTreeMap::new();
    for g in store.all_grants().await? {
        grants.entry(g.person).or_default().push(g);
    }
    let administrators = persons
        .values()
        .filter(|p| p.has_role(Role::PermissionAdministrator))
        .map(|p| p.id)
        .collect();
    let parents = store
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id, u.parent))
        .collect();
    Ok(StaffContext {
        persons,
        grants,
        administrators,
        supervisors: store.unit_supervisors().await?,
        parents,
    })
}

/// Creates the people of `run` (none of them on record yet) inside `tx`, as
/// [`apply_record`] creates one — status active, role 一般同仁, HR's last four ID digits,
/// one audit record each — in multi-row statements. Returns their ids in order.
async fn create_people(
    tx: &mut WriteTx,
    run: &[StaffRecord],
    source: StaffChangeSource,
    by: Option<Actor>,
    op: &Op,
) -> Result<Vec<PersonId>, PermissionError> {
    let people: Vec<(NewPerson, Option<String>)> = run
        .iter()
        .map(|rec| (new_staff_member(rec), rec.id_last4.clone()))
        .collect();
    let ids = tx.insert_persons(&people, &op.now.to_string()).await?;
    let events: Vec<_> = run
        .iter()
        .zip(&ids)
        .map(|(rec, id)| creation_event(rec, *id, source, by, op))
        .collect();
    tx.append_audit_batch(&events).await?;
    Ok(ids)
}

/// A new account from HR's record: active, role 一般同仁.
fn new_staff_member(rec: &StaffRecord) -> NewPerson {
    NewPerson {
        account: rec.account.clone(),
        name: rec.name.clone().unwrap_or_default(),
        title: rec.title.clone().unwrap_or_default(),
        unit: rec.unit.clone(),
        roles: [Role::Staff].into(),
        status: StaffStatus::Active,
    }
}

/// The audit record of an account created from HR's record.
fn creation_event(
    rec: &StaffRecord,
    id: PersonId,
    source: StaffChangeSource,
    by: Option<Actor>,
    op: &Op,
) -> querywarden_domain::audit_event::AuditEvent {
    op.event(AuditAction::StaffStatusChanged, by)
        .on("person", id.to_string())
        .detail("source", source.code())
        .detail("created", true)
        .detail("unit", rec.unit.as_str())
}

/// Applies one record inside `tx`: creates the person, or records the change and carries out
/// its effects (date-bound ones now if due, otherwise by [`apply_due_staff_changes`]).
async fn apply_record(
    tx: &mut WriteTx,
    ctx: &StaffContext,
    rec: &StaffRecord,
    source: StaffChangeSource,
    by: Option<Actor>,
    op: &Op,
) -> Result<StaffOutcome, PermissionError> {
    let Some(person) = ctx.persons.get(&rec.account) else {
        let id = tx
            .insert_person(&new_staff_member(rec), &op.now.to_string())
            .await?;
        if let Some(l4) = &rec.id_last4 {
            tx.set_person_id_last4(id, l4).await?;
        }
        tx.append_audit(&creation_event(rec, id, source, by, op))
            .await?;
        return Ok(StaffOutcome::Created(id));
    };
    let change = StaffChange {
        person: person.id,
        from_status: person.status,
        to_status: rec.status,
        from_unit: person.unit.clone(),
        to_unit: rec.unit.clone(),
        effective: rec.effective,
    };
    // HR's last four ID digits are kept whatever else the row says (an "unchanged" row too):
    // card binding checks the card against them.
    if let Some(l4) = &rec.id_last4 {
        tx.set_person_id_last4(person.id, l4).await?;
    }
    let grants = ctx.grants.get(&person.id).map(Vec::as_slice).unwrap_or(&[]);
    let effects = match effects_of(&change, grants) {
        Ok(e) => e,
        Err(PermissionRefusal::NoChange) => return Ok(StaffOutcome::Unchanged(person.id)),
        Err(r) => return Err(PermissionError::Refused(r)),
    };
    // The same future change sent again (a re-imported file, a repeated SCIM push) is already
    // recorded with its notices: once is enough.
    if tx.pending_staff_change_exists(&change).await? {
        return Ok(StaffOutcome::Unchanged(person.id));
    }
    let title = rec.title.clone().unwrap_or_else(|| person.title.clone());
    let change_id = tx
        .insert_staff_change(&change, &title, source, by.map(|a| a.person), op.now)
        .await?;
    // Grants: suspension and ending carry their own dates, so they are recorded now.
    record_grant_effects(tx, person.id, &effects, change_id, by, op).await?;
    let (notified, form1_due) =
        notify_staff_change(tx, ctx, person.id, &change, &effects, op).await?;
    let applied_now = rec.effective <= op.today();
    tx.append_audit(
        &op.event(AuditAction::StaffStatusChanged, by)
            .on("person", person.id.to_string())
            .detail("source", source.code())
            .detail("staff_change", change_id)
            .detail("from_status", change.from_status.code())
            .detail("to_status", change.to_status.code())
            .detail("from_unit", change.from_unit.as_str())
            .detail("to_unit", change.to_unit.as_str())
            .detail("effective", change.effective.civil().to_string())
            .detail(
                "effects",
                Value::from(effects.iter().map(|e| e.code()).collect::<Vec<_>>()),
            )
            .detail(
                "notified",
                Value::from(notified.iter().map(|p| p.get()).collect::<Vec<_>>()),
            )
            .detail("form1_requested", form1_due.map(|(k, _)| k.code())),
    )
    .await?;
    if applied_now {
        apply_on_effective_date(tx, change_id, &change, &title, &effects, by, op).await?;
    }
    Ok(StaffOutcome::Changed {
        person: person.id,
        change_id,
        effects,
        applied_now,
    })
}

/// Suspension and ending of grants carry their own dates, so they are recorded when the change
/// is, each with its audit record (§2).
async fn record_grant_effects(
    tx: &mut WriteTx,
    person: PersonId,
    effects: &[PersonnelEffect],
    change_id: i64,
    by: Option<Actor>,
    op: &Op,
) -> Result<(), PermissionError> {
    for e in effects {
        match e {
            PersonnelEffect::SuspendGrants {
                grants,
                from,
                cause,
            } => {
                for g in grants {
                    if tx.suspend_grant(*g, *from, *cause, op.now).await? {
                        tx.append_audit(
                            &op.event(AuditAction::GrantSuspended, by)
                                .on("permission_grant", g.to_string())
                                .detail("person", person.get())
                                .detail("cause", cause.code())
                                .detail("suspended_from", from.civil().to_string())
                                .detail("staff_change", change_id),
                        )
                        .await?;
                    }
                }
            }
            PersonnelEffect::EndGrants { grants, on } => {
                for g in grants {
                    if tx.end_grant(*g, *on, op.now).await? {
                        tx.append_audit(
                            &op.event(AuditAction::GrantEnded, by)
                                .on("permission_grant", g.to_string())
                                .detail("person", person.get())
                                .detail("effective_to", on.civil().to_string())
                                .detail("staff_change", change_id),
                        )
                        .await?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The notices a recorded change owes; returns who was told and which Form 1 was asked for.
async fn notify_staff_change(
    tx: &mut WriteTx,
    ctx: &StaffContext,
    person: PersonId,
    change: &StaffChange,
    effects: &[PersonnelEffect],
    op: &Op,
) -> Result<(BTreeSet<PersonId>, Option<(ApplicationKind, RocDate)>), PermissionError> {
    // §2: the permission administrator and the old unit's supervisor are told, in this same
    // transaction, so a recorded change always has its notices (see `unread_notices`).
    let kind = format!(
        "staff_change.{}",
        classify(change).map(|k| k.code()).unwrap_or("change")
    );
    let object = format!("person:{}", person.get());
    let notified = ctx.recipients(change, effects);
    for to in &notified {
        tx.insert_notice(*to, &kind, &object, op.now).await?;
    }
    // §2 ¶2: a transfer or departure announced ahead is applied for before it happens: the
    // person is asked for the Form 1 that fits, due before the day it takes effect. A repeated
    // import never reaches here (`pending_staff_change_exists` above), so it is asked once.
    let form1_due = form1_due_before(change, op.today());
    if let Some((form1_kind, before)) = form1_due {
        tx.insert_notice(
            person,
            &format!("staff_change.file_form1_{}", form1_kind.code()),
            &format!("form1_before:{}", before.civil()),
            op.now,
        )
        .await?;
    }
    Ok((notified, form1_due))
}

/// The effects bound to the effective date itself: the staff record, and on leaving the
/// certificate binding, the account and live sessions.
async fn apply_on_effective_date(
    tx: &mut WriteTx,
    change_id: i64,
    change: &StaffChange,
    title: &str,
    effects: &[PersonnelEffect],
    by: Option<Actor>,
    op: &Op,
) -> Result<(), PermissionError> {
    tx.update_person_job(change.person, change.to_status, &change.to_unit, title)
        .await?;
    crate::enrolment::units::end_roles_on_change(
        tx,
        change.person,
        change.to_status,
        &change.to_unit,
        by,
        op,
    )
    .await?;
    for e in effects {
        match e {
            // §2: whoever moves or leaves no longer needs the data their open lookups were for.
            PersonnelEffect::CancelOpenRegistrations { .. } => {
                for r in tx.open_registrations_of(change.person).await? {
                    tx.record_decision(&querywarden_storage::NewDecision {
                        registration: r.id,
                        person: change.person,
                        at: op.now,
                        kind: querywarden_storage::DecisionKind::Cancel,
                        comment: Some("人事異動自動註銷 / cancelled by a personnel change".into()),
                        valid_until: None,
                        subject_digest: None,
                        acting: false,
                        acting_for: None,
                    })
                    .await?;
                    let mut ev = op
                        .event(AuditAction::RegistrationCancelled, by)
                        .on("registration", r.no.to_string())
                        .detail("reason", "staff_change")
                        .detail("staff_change", change_id);
                    ev.subject = Some(querywarden_domain::audit_event::SubjectDigest {
                        key_id: r.subject_key_id.clone(),
                        hex: r.subject_digest.clone(),
                    });
                    tx.append_audit(&ev).await?;
                }
            }
            PersonnelEffect::RemoveCertificateBinding => {
                tx.remove_certificate_binding(change.person).await?;
            }
            PersonnelEffect::DisableAccount => {
                let newly = tx
                    .disable_account(
                        change.person,
                        DisableReason::Left,
                        by.map(|a| a.person),
                        op.now,
                    )
                    .await?;
                // Already disabled (e.g. idle): its sessions were ended then.
                if !newly {
                    continue;
                }
                tx.end_live_sessions(change.person, "account_disabled", op.now)
                    .await?;
                tx.append_audit(
                    &op.event(AuditAction::AccountDisabled, by)
                        .on("person", change.person.to_string())
                        .detail("reason", DisableReason::Left.code())
                        .detail("staff_change", change_id),
                )
                .await?;
            }
            _ => {}
        }
    }
    tx.mark_staff_change_applied(change_id, op.now).await?;
    Ok(())
}

/// Imports the staff CSV (format: `docs/staff-import-format.md`). Any bad row: nothing is
/// imported and every bad row is reported with its line number (the refusal is audited).
/// Otherwise one transaction applies every row, with one `admin.staff.imported` record and
/// one record per change and per grant touched.
pub async fn import_staff_csv(
    store: &Store,
    desk: &AdministratorDesk,
    text: &str,
    op: &Op,
) -> Result<StaffImportReport, StaffImportError> {
    let units = store.units().await.map_err(PermissionError::from)?;
    let ctx = staff_context(store).await?;
    let last4s = store
        .person_id_last4s()
        .await
        .map_err(PermissionError::from)?;
    let by = Some(Actor {
        person: desk.person(),
        role: Some(Role::PermissionAdministrator),
    });
    let event = super::as_desk(
        desk,
        op.event(AuditAction::StaffImported, by)
            .on("staff_import", "csv"),
    );
    let records = match parse_staff_csv(text, &units, &ctx.persons, &last4s, op.today()) {
        Ok(r) => r,
        Err(errors) => {
            let mut tx = store.begin().await.map_err(PermissionError::from)?;
            tx.append_audit(
                &event
                    .outcome(Outcome::Refused("staff_import.bad_rows".into()))
                    .detail("bad_rows", errors.len()),
            )
            .await
            .map_err(PermissionError::from)?;
            tx.commit().await.map_err(PermissionError::from)?;
            return Err(StaffImportError::BadRows(errors));
        }
    };
    let mut tx = store.begin().await.map_err(PermissionError::from)?;
    let mut outcomes = Vec::new();
    // New accounts are created in bounded batches (§2, all or nothing in this one
    // transaction): each run of consecutive new people is one multi-row write of the people,
    // their roles and their audit records; changes to people on record go one by one, in the
    // file's order, as before.
    let mut rest: &[StaffRecord] = &records;
    while !rest.is_empty() {
        let new_run = rest
            .iter()
            .take_while(|r| !ctx.persons.contains_key(&r.account))
            .count();
        if new_run > 0 {
            let (run, tail) = rest.split_at(new_run);
            let ids = create_people(&mut tx, run, StaffChangeSource::Csv, by, op).await?;
            outcomes.extend(
                run.iter()
                    .zip(ids)
                    .map(|(r, id)| (r.account.clone(), StaffOutcome::Created(id))),
            );
            rest = tail;
            continue;
        }
        let (rec, tail) = rest.split_at(1);
        for rec in rec {
            let o = apply_record(&mut tx, &ctx, rec, StaffChangeSource::Csv, by, op).await?;
            outcomes.push((rec.account.clone(), o));
        }
        rest = tail;
    }
    let count = |f: fn(&StaffOutcome) -> bool| outcomes.iter().filter(|(_, o)| f(o)).count();
    let report = StaffImportReport {
        rows: records.len(),
        created: count(|o| matches!(o, StaffOutcome::Created(_))),
        changed: count(|o| matches!(o, StaffOutcome::Changed { .. })),
        unchanged: count(|o| matches!(o, StaffOutcome::Unchanged(_))),
        outcomes,
    };
    tx.append_audit(
        &event
            .detail("rows", report.rows)
            .detail("created", report.created)
            .detail("changed", report.changed)
            .detail("unchanged", report.unchanged),
    )
    .await
    .map_err(PermissionError::from)?;
    tx.commit().await.map_err(PermissionError::from)?;
    Ok(report)
}

/// §2: a SCIM request refused before it changed anything — no or a wrong bearer token, a
/// wrong media type, an unreadable or oversize body, a user that fails validation — is
/// audited with its code like every other refusal.
pub async fn scim_refused(
    store: &Store,
    code: &str,
    account: Option<&str>,
    op: &Op,
) -> Result<(), PermissionError> {
    let event = op
        .event(AuditAction::StaffStatusChanged, None)
        .on("scim_user", account.unwrap_or("-"))
        .detail("source", "scim")
        .outcome(Outcome::Refused(code.to_string()));
    crate::audit::record(store, &event).await?;
    Ok(())
}

/// Applies, on or after their effective date, the changes recorded earlier for a future date
/// (staff record; on leaving, the certificate binding and the account). For a daily job.
pub async fn apply_due_staff_changes(store: &Store, op: &Op) -> Result<usize, PermissionError> {
    let due = store.due_staff_changes(op.today()).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    for row in &due {
        // The effects are recomputed from the change itself; grants were handled when it was
        // recorded, so they are not passed again.
        let effects = effects_of(&row.change, &[]).unwrap_or_default();
        apply_on_effective_date(
            &mut tx,
            row.id,
            &row.change,
            &row.to_title,
            &effects,
            None,
            op,
        )
        .await?;
    }
    tx.append_audit(
        &op.event(AuditAction::StaffStatusChanged, None)
            .on("staff_changes", "due")
            .detail("applied", due.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(due.len())
}

/// §2 "apply before the change": the recorded changes of a supervisor's staff effective today
/// or later, by date.
pub async fn upcoming_staff_changes(
    store: &Store,
    desk: &SupervisorDesk,
    today: RocDate,
) -> Result<Vec<(Person, StaffChangeRow)>, PermissionError> {
    let persons: BTreeMap<PersonId, Person> = store.persons_by_id().await?;
    Ok(store
        .staff_changes_from(today)
        .await?
        .into_iter()
        .filter(|r| {
            r.change.person != desk.person()
                && (desk.units().contains(&r.change.from_unit)
                    || desk.units().contains(&r.change.to_unit))
        })
        .filter_map(|r| persons.get(&r.change.person).cloned().map(|p| (p, r)))
        .collect())
}

/// §2: `person`'s unread notices of personnel changes (the administrator's and the old
/// supervisor's), oldest first.
pub async fn unread_notices(
    store: &Store,
    person: PersonId,
) -> Result<Vec<NoticeRow>, PermissionError> {
    // The personnel-change notices only: oversight's notices (reviews, violation cases) are
    // shown on the oversight page.
    Ok(store
        .unread_notices(person)
        .await?
        .into_iter()
        // …and the October reminder that next year's office calendar is missing.
        .filter(|n| n.kind.starts_with("staff_change.") || n.kind.starts_with("calendar."))
        .collect())
}

/// `person` marks one of their notices read. Someone else's notice, or one already read, is
/// [`PermissionError::NotFound`] (nothing is changed). Not audited: reading a notice changes
/// nobody's rights, and the change it reports was audited when it was recorded.
pub async fn mark_notice_read(
    store: &Store,
    person: PersonId,
    notice: i64,
    op: &Op,
) -> Result<(), PermissionError> {
    let event = op
        .event(AuditAction::NoticeRead, Some(Actor { person, role: None }))
        .on("notice", notice.to_string());
    let mut tx = store.begin().await?;
    if !tx.mark_notice_read(notice, person, op.now).await? {
        // Someone else's notice and one that does not exist read alike (§9); audited.
        drop(tx);
        crate::audit::record_refusal(store, event, "permission.not_found").await?;
        return Err(PermissionError::NotFound("通知"));
    }
    tx.append_audit(&event).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SCIM 2.0 (RFC 7643 / RFC 7644) Users.

/// The core User schema.
pub const SCIM_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise extension: `department` carries the unit (its id or its Chinese name).
pub const SCIM_ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// querywarden's extension: `status` (active, transferred, on_leave, left) and
/// `effectiveDate` (ISO or ROC date). Without it: `active: true` → active, `false` → left,
/// effective today.
pub const SCIM_STAFF: &str = "urn:querywarden:params:scim:schemas:extension:staff:1.0:User";

/// A SCIM error (RFC 7644 §3.12): HTTP status, `scimType` and a detail safe to return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SCIM {status} {scim_type}: {detail}")]
pub struct ScimError {
    pub status: u16,
    /// `invalidSyntax`, `invalidValue`, `noTarget`, …
    pub scim_type: &'static str,
    pub detail: String,
}

impl ScimError {
    fn invalid(detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            scim_type: "invalidValue",
            detail: detail.into(),
        }
    }

    fn syntax(detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            scim_type: "invalidSyntax",
            detail: detail.into(),
        }
    }

    /// The response body (`application/scim+json`).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": self.status.to_string(),
            "scimType": self.scim_type,
            "detail": self.detail,
        })
    }
}

/// Validates a SCIM User resource and maps it to a [`StaffRecord`]. `today` is the default
/// effective date. Nothing in the payload is echoed back in errors.
pub fn validate_scim_user(
    payload: &Value,
    units: &[Unit],
    existing_unit: impl Fn(&Account) -> Option<UnitId>,
    today: RocDate,
) -> Result<StaffRecord, ScimError> {
    let obj = payload
        .as_object()
        .ok_or_else(|| ScimError::syntax("body must be a JSON object (a SCIM User)"))?;
    check_scim_schemas(obj)?;
    let account = obj
        .get("userName")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid("userName is required"))
        .and_then(|s| {
            Account::parse(s).map_err(|_| ScimError::invalid("userName is not a valid account"))
        })?;
    let active = obj
        .get("active")
        .ok_or_else(|| ScimError::invalid("active is required"))?
        .as_bool()
        .ok_or_else(|| ScimError::invalid("active must be a boolean"))?;
    let name = match scim_string(
        obj.get("name").and_then(|n| n.get("formatted")),
        "name.formatted",
    )? {
        Some(n) => Some(n),
        None => scim_string(obj.get("displayName"), "displayName")?,
    };
    let title = scim_string(obj.get("title"), "title")?;
    for (what, value, max) in [
        ("name", &name, MAX_STAFF_NAME_CHARS),
        ("title", &title, MAX_STAFF_TITLE_CHARS),
    ] {
        if let Some(p) = value.as_deref().and_then(|v| staff_text_problem(v, max)) {
            return Err(ScimError::invalid(format!("{what} {}", p.message_en())));
        }
    }
    let department = match obj.get(SCIM_ENTERPRISE) {
        Some(ext) => {
            if !ext.is_object() {
                return Err(ScimError::invalid(
                    "the enterprise extension must be an object",
                ));
            }
            scim_string(ext.get("department"), "department")?
        }
        None => None,
    };
    let unit = match department {
        Some(d) => find_unit(units, &d)
            .map(|u| u.id.clone())
            .ok_or_else(|| ScimError::invalid("department is not a known unit"))?,
        None => existing_unit(&account).ok_or_else(|| {
            ScimError::invalid("department (enterprise extension) is required for a new user")
        })?,
    };
    let (status, effective) = scim_staff_status(obj, active, today)?;
    // An account that may sign in is active; every other status is not.
    if active != (status == StaffStatus::Active) {
        return Err(ScimError::invalid("active contradicts status"));
    }
    Ok(StaffRecord {
        account,
        name,
        unit,
        title,
        status,
        effective,
        id_last4: None,
    })
}

/// The SCIM schemas a User must list (RFC 7643 §3): the core User schema, only the extensions
/// this service reads, and every extension attribute's schema among them.
fn check_scim_schemas(obj: &serde_json::Map<String, Value>) -> Result<(), ScimError> {
    let schemas: Vec<&str> = obj
        .get("schemas")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::syntax("schemas is required"))?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| ScimError::syntax("schemas must be strings"))
        })
        .collect::<Result<_, _>>()?;
    if !schemas.contains(&SCIM_USER) {
        return Err(ScimError::invalid(format!(
            "schemas must include {SCIM_USER}"
        )));
    }
    for s in &schemas {
        if *s != SCIM_USER && *s != SCIM_ENTERPRISE && *s != SCIM_STAFF {
            return Err(ScimError::invalid("schemas lists an unsupported schema"));
        }
    }
    for key in obj.keys() {
        if key.starts_with("urn:") && !schemas.contains(&key.as_str()) {
            return Err(ScimError::invalid(
                "an extension attribute is present but its schema is not listed in schemas",
            ));
        }
    }
    Ok(())
}

/// A SCIM string attribute: absent or null is none; anything but a non-empty string is refused.
fn scim_string(v: Option<&Value>, what: &str) -> Result<Option<String>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(_) => Err(ScimError::invalid(format!(
            "{what} must be a non-empty string"
        ))),
    }
}

/// The staff extension's status and effective date; without it, `active` alone says which,
/// effective today.
fn scim_staff_status(
    obj: &serde_json::Map<String, Value>,
    active: bool,
    today: RocDate,
) -> Result<(StaffStatus, RocDate), ScimError> {
    Ok(match obj.get(SCIM_STAFF) {
        Some(ext) => {
            let ext = ext
                .as_object()
                .ok_or_else(|| ScimError::invalid("the staff extension must be an object"))?;
            let status = match scim_string(ext.get("status"), "status")? {
                Some(s) => StaffStatus::parse_code(&s).ok_or_else(|| {
                    ScimError::invalid("status must be active, transferred, on_leave or left")
                })?,
                None if active => StaffStatus::Active,
                None => StaffStatus::Left,
            };
            let effective = match scim_string(ext.get("effectiveDate"), "effectiveDate")? {
                Some(d) => RocDate::parse_field(&d, DateField::Effective, today).map_err(|e| {
                    ScimError::invalid(format!("effectiveDate: {}", e.message_en()))
                })?,
                None => today,
            };
            (status, effective)
        }
        None if active => (StaffStatus::Active, today),
        None => (StaffStatus::Left, today),
    })
}

/// What the SCIM endpoint should answer after a successful push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUserResult {
    pub person: PersonId,
    /// True when the user was created (HTTP 201), false when updated (200).
    pub created: bool,
    pub outcome: StaffOutcome,
    /// The SCIM representation to return.
    pub resource: Value,
}

/// `POST`/`PUT /scim/v2/Users`: validates the payload and applies it as the same status change
/// a CSV row makes, in one transaction. The caller authenticates the HR system (bearer token)
/// before calling; the change is audited as done by the system with `source: scim`.
pub async fn scim_put_user(
    store: &Store,
    payload: &Value,
    op: &Op,
) -> Result<ScimUserResult, ScimError> {
    let internal = |e: PermissionError| ScimError {
        status: 500,
        scim_type: "internal",
        detail: format!(
            "internal error; operation id {} ({})",
            op.request_id,
            e.code()
        ),
    };
    let units = store
        .units()
        .await
        .map_err(|e| internal(PermissionError::from(e)))?;
    let ctx = staff_context(store).await.map_err(internal)?;
    let checked = validate_scim_user(
        payload,
        &units,
        |a| ctx.persons.get(a).map(|p| p.unit.clone()),
        op.today(),
    )
    .and_then(|rec| {
        if !ctx.persons.contains_key(&rec.account) {
            if rec.status != StaffStatus::Active {
                return Err(ScimError::invalid("a new user must be active"));
            }
            if rec.name.is_none() {
                return Err(ScimError::invalid(
                    "name.formatted or displayName is required for a new user",
                ));
            }
        }
        Ok(rec)
    });
    let rec = match checked {
        Ok(rec) => rec,
        Err(e) => {
            let account = payload["userName"]
                .as_str()
                .and_then(|a| Account::parse(a).ok());
            scim_refused(
                store,
                &format!("scim.{}", e.scim_type),
                account.as_ref().map(Account::as_str),
                op,
            )
            .await
            .map_err(internal)?;
            return Err(e);
        }
    };
    let mut tx = store
        .begin()
        .await
        .map_err(|e| internal(PermissionError::from(e)))?;
    let outcome = match apply_record(&mut tx, &ctx, &rec, StaffChangeSource::Scim, None, op).await {
        Ok(o) => o,
        Err(PermissionError::Refused(r)) => {
            drop(tx);
            let event = op
                .event(AuditAction::StaffStatusChanged, None)
                .on("scim_user", rec.account.as_str())
                .detail("source", "scim");
            return match super::refused::<(), _>(store, event, r.clone()).await {
                // An HR system reads the detail: English first, the zh-TW text after it.
                Err(PermissionError::Refused(_)) | Ok(()) => Err(ScimError::invalid(format!(
                    "{} ({}) / {r}",
                    r.message_en(),
                    r.code()
                ))),
                Err(e) => Err(internal(e)),
            };
        }
        Err(e) => return Err(internal(e)),
    };
    tx.commit()
        .await
        .map_err(|e| internal(PermissionError::from(e)))?;
    let (person, created) = match &outcome {
        StaffOutcome::Created(p) => (*p, true),
        StaffOutcome::Changed { person, .. } | StaffOutcome::Unchanged(person) => (*person, false),
    };
    let resource = serde_json::json!({
        "schemas": [SCIM_USER, SCIM_ENTERPRISE, SCIM_STAFF],
        "id": person.get().to_string(),
        "userName": rec.account.as_str(),
        "active": rec.status == StaffStatus::Active,
        "title": rec.title,
        SCIM_ENTERPRISE: { "department": rec.unit.as_str() },
        SCIM_STAFF: { "status": rec.status.code(), "effectiveDate": rec.effective.civil().to_string() },
        "meta": { "resourceType": "User", "location": format!("/scim/v2/Users/{}", person.get()) },
    });
    Ok(ScimUserResult {
        person,
        created,
        outcome,
        resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_honour_quotes() {
        let split = |line: &str| {
            querywarden_bli::csv_reader::read_rows(line)
                .map(|rows| rows.into_iter().flat_map(|r| r.fields).collect::<Vec<_>>())
        };
        assert_eq!(split("a,b,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(split("\"a,b\",c").unwrap(), ["a,b", "c"]);
        assert_eq!(split("\"a\"\"b\",").unwrap(), ["a\"b", ""]);
        assert!(split("\"a,b").is_err());
    }

    fn staff_file(text: &str) -> Result<Vec<StaffRecord>, Vec<RowError>> {
        let units = vec![Unit {
            id: UnitId::new("social-affairs").unwrap(),
            name_zh: "社會救助科".into(),
            kind: querywarden_domain::org::UnitKind::BureauSection,
            parent: None,
        }];
        parse_staff_csv(
            text,
            &units,
            &BTreeMap::new(),
            &BTreeMap::new(),
            RocDate::new(115, 3, 5).unwrap(),
        )
    }

    const STAFF_FILE: &str = "\u{feff}account,national_id,name,unit,title,status,effective_date\r\n\
        chen.dawen,A123456789,\"陳, 大文\",social-affairs,\"科員, 約聘\",active,115/03/01\r\n";

    #[test]
    fn a_staff_file_from_excel_with_bom_crlf_and_quoted_commas_reads() {
        let records = staff_file(STAFF_FILE).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name.as_deref(), Some("陳, 大文"));
        assert_eq!(records[0].title.as_deref(), Some("科員, 約聘"));
    }

    #[test]
    fn a_short_staff_row_is_refused_by_its_line() {
        let errors =
            staff_file(&format!("{STAFF_FILE}\r\nlin.meiling,B123456780\r\n")).unwrap_err();
        assert_eq!(
            errors,
            [RowError {
                line: 4,
                reason: "欄位數應為 7".into()
            }]
        );
    }

    #[test]
    fn a_broken_quote_in_a_staff_file_names_its_line() {
        let errors = staff_file(&format!("{STAFF_FILE}lin.meiling,,\"林美玲,x\n")).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].reason.contains("引號未結束"));
    }

    // Fuzz stand-in (run in CI): the staff CSV comes from HR, so any text — broken quotes, stray
    // BOMs and CRs, multibyte names, a valid header followed by junk rows — gives records or
    // line-numbered errors, never a panic.
    proptest::proptest! {
        #[test]
        fn the_staff_csv_parser_never_panics_on_arbitrary_text(
            body in "[\"',\r\n\u{feff} a-zA-Z0-9王小明/\\-]{0,300}",
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let units = Vec::new();
            let persons = BTreeMap::new();
            let last4s = BTreeMap::new();
            let header = HEADER.join(",");
            let junk = String::from_utf8_lossy(&bytes);
            for text in [body.clone(), format!("{header}\n{body}"), format!("{header}\r\n{junk}"), junk.to_string()] {
                let _ = parse_staff_csv(&text, &units, &persons, &last4s, RocDate::new(115, 3, 5).unwrap());
            }
        }
    }
}
