//! Violation cases and corrective reports (§8 ¶2): filing a case (from a review finding, an
//! unannounced audit, or by the administrator directly), the person's review report (檢討報告)
//! within ten days per 行政程序法 §48, the administrator's acceptance or return, and the
//! scheduler's reminders and escalations. Each use case is one transaction with its audit
//! record; every refusal is audited with its rule code and changes nothing.

use jiff::Timestamp;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::{Person, PersonId, Role};
pub use querywarden_domain::oversight::violation::ViolationSource;
use querywarden_domain::oversight::violation::{
    CaseFacts, CaseNotice, CaseState, ViolationRefusal, check_decision, check_filing,
    check_submission, notice_due, report_due,
};
use querywarden_domain::permission::SuspensionCause;
use querywarden_domain::permission::grant::PermissionGrant;
use querywarden_domain::roc_date::taipei_date;
pub use querywarden_storage::ViolationRow;
use querywarden_storage::{NewViolation, Store, WriteTx};

use crate::AppError;
use crate::permission::Op;

/// A use case's answer: done, or refused by a rule (already audited).
pub type Decided<T> = Result<Result<T, ViolationRefusal>, AppError>;

/// What the filer writes.
#[derive(Debug, Clone)]
pub struct FileViolationRequest {
    pub person: PersonId,
    /// The rule broken, in words (e.g. "§5 未經登記即查調").
    pub rule: String,
    /// The evidence: references, never personal data.
    pub evidence: String,
    /// Suspend the person's grants until the report is accepted (recorded with the case).
    pub suspend_grants: bool,
    pub source: ViolationSource,
}

pub(crate) fn event(op: &Op, action: AuditAction, actor: Option<Actor>) -> AuditEvent {
    let mut e = AuditEvent::system(op.now, action, op.request_id.clone());
    e.actor = actor;
    e.client_addr = op.client_addr.clone();
    e
}

pub(crate) fn acting(person: &Person, role: Role) -> Option<Actor> {
    Some(Actor {
        person: person.id,
        role: Some(role),
    })
}

async fn refused<T>(store: &Store, ev: AuditEvent, r: ViolationRefusal) -> Decided<T> {
    crate::audit::record_refusal(store, ev, r.code()).await?;
    Ok(Err(r))
}

fn facts(v: &ViolationRow) -> Result<CaseFacts, AppError> {
    Ok(CaseFacts {
        person: v.case.person,
        state: CaseState::parse_code(&v.state).ok_or(AppError::Inconsistent {
            what: "unknown violation state",
        })?,
        due_on: v.case.due_on,
        reminded_on: v.reminded_on,
        escalated_on: v.escalated_on,
    })
}

/// Who may file from which source: §7 the permission administrator (review findings and
/// direct cases); §8 for an audit also the ethics office, which audits with the IT group.
fn may_file(filer: &Person, source: ViolationSource) -> bool {
    filer.has_role(Role::PermissionAdministrator)
        || (matches!(source, ViolationSource::Audit(_)) && filer.has_role(Role::EthicsAuditor))
}

/// The role a case is filed in: the administrator's, or (§8, from an unannounced audit) the
/// auditor's own.
fn filer_role(filer: &Person) -> Role {
    [Role::PermissionAdministrator, Role::EthicsAuditor]
        .into_iter()
        .find(|r| filer.has_role(*r))
        .unwrap_or(Role::PermissionAdministrator)
}

/// Files a case inside an open transaction (the review's conclusion uses it too): the case,
/// its notice to the person, its audit record. Checks are the caller's.
pub(crate) async fn insert_case(
    tx: &mut WriteTx,
    filer: &Person,
    req: &FileViolationRequest,
    grants: &[PermissionGrant],
    calendar: &HolidayCalendar,
    op: &Op,
) -> Result<(i64, jiff::civil::Date), AppError> {
    let due_on = report_due(op.today().civil(), calendar);
    let id = tx
        .insert_violation(&NewViolation {
            person: req.person,
            rule: req.rule.trim().to_string(),
            evidence: req.evidence.trim().to_string(),
            source: req.source.code().to_string(),
            source_ref: req.source.reference(),
            opened_by: filer.id,
            opened_at: op.now,
            due_on,
            suspend_grants: req.suspend_grants,
        })
        .await?;
    if req.suspend_grants {
        // §8 ¶2: the person corrects at once; the administrator may stop their queries until
        // the review report is accepted.
        let today = op.today();
        for g in grants.iter().filter(|g| g.in_force_on(today)) {
            if tx
                .suspend_grant(g.id, today, SuspensionCause::ViolationPending, op.now)
                .await?
            {
                tx.append_audit(
                    &event(
                        op,
                        AuditAction::GrantSuspended,
                        acting(filer, filer_role(filer)),
                    )
                    .on("permission_grant", g.id.get().to_string())
                    .detail("cause", SuspensionCause::ViolationPending.code())
                    .detail("suspended_from", today.civil().to_string())
                    .detail("violation", id),
                )
                .await?;
            }
        }
    }
    tx.insert_notice(
        req.person,
        "oversight.violation_opened",
        &format!("violation:{id}"),
        op.now,
    )
    .await?;
    tx.append_audit(
        &event(
            op,
            AuditAction::ViolationOpened,
            acting(filer, filer_role(filer)),
        )
        .on("violation", id.to_string())
        .detail("person", req.person.get())
        .detail("source", req.source.code())
        .detail("source_ref", req.source.reference())
        .detail("due_on", due_on.to_string())
        .detail("suspend_grants", req.suspend_grants),
    )
    .await?;
    Ok((id, due_on))
}

/// §8 ¶2: opens a case against `req.person`; the ten days count from today.
pub async fn file_violation(
    store: &Store,
    calendar: &HolidayCalendar,
    filer: &Person,
    req: &FileViolationRequest,
    op: &Op,
) -> Decided<i64> {
    let ev = event(
        op,
        AuditAction::ViolationOpened,
        acting(filer, Role::PermissionAdministrator),
    )
    .on("violation", "-")
    .detail("source", req.source.code());
    if !may_file(filer, req.source) {
        return refused(store, ev, ViolationRefusal::NotAdministrator).await;
    }
    if let Err(r) = check_filing(filer.id, req.person, &req.rule, &req.evidence) {
        return refused(store, ev, r).await;
    }
    if store.person(req.person).await?.is_none() {
        return refused(store, ev, ViolationRefusal::NotFound).await;
    }
    let grants = store.grants_of(req.person).await?;
    let mut tx = store.begin().await?;
    let (id, _) = insert_case(&mut tx, filer, req, &grants, calendar, op).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// §8 ¶2: the person submits the review report (late is still accepted, and shown late).
pub async fn submit_report(
    store: &Store,
    person: &Person,
    case: i64,
    report: &str,
    op: &Op,
) -> Decided<()> {
    let ev = event(
        op,
        AuditAction::CorrectiveReportSubmitted,
        acting(person, Role::Staff),
    )
    .on("violation", case.to_string());
    let Some(v) = store.violation(case).await? else {
        return refused(store, ev, ViolationRefusal::NotFound).await;
    };
    if let Err(r) = check_submission(&facts(&v)?, person.id, report) {
        if !may_view_case(person, &v) {
            // §9: a case one may not read is answered like one that does not exist; the
            // record keeps the real reason.
            crate::audit::record_refusal(store, ev, r.code()).await?;
            return Ok(Err(ViolationRefusal::NotFound));
        }
        return refused(store, ev, r).await;
    }
    let late = op.today().civil() > v.case.due_on;
    let mut tx = store.begin().await?;
    if !tx
        .submit_violation_report(case, report.trim(), op.now)
        .await?
    {
        drop(tx);
        return refused(store, ev, ViolationRefusal::ReportPending).await;
    }
    tx.insert_notice(
        v.case.opened_by,
        "oversight.report_submitted",
        &format!("violation:{case}"),
        op.now,
    )
    .await?;
    tx.append_audit(&ev.detail("late", late)).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// The administrator accepts the report (the case closes) or returns it with a note (the
/// person submits again).
pub async fn decide_report(
    store: &Store,
    admin: &Person,
    case: i64,
    return_note: Option<&str>,
    op: &Op,
) -> Decided<()> {
    let action = if return_note.is_some() {
        AuditAction::CorrectiveReportReturned
    } else {
        AuditAction::CorrectiveReportAccepted
    };
    let ev = event(op, action, acting(admin, Role::PermissionAdministrator))
        .on("violation", case.to_string());
    if !admin.has_role(Role::PermissionAdministrator) {
        return refused(store, ev, ViolationRefusal::NotAdministrator).await;
    }
    let Some(v) = store.violation(case).await? else {
        return refused(store, ev, ViolationRefusal::NotFound).await;
    };
    if let Err(r) = check_decision(&facts(&v)?, admin.id, return_note) {
        return refused(store, ev, r).await;
    }
    let mut tx = store.begin().await?;
    if !tx
        .decide_violation_report(case, admin.id, op.now, return_note.map(str::trim))
        .await?
    {
        drop(tx);
        return refused(store, ev, ViolationRefusal::NoReportPending).await;
    }
    // §8 ¶2: accepted, the grants this case suspended are in force again — unless another
    // open case of the person still asks for the suspension.
    let other_suspending = store
        .violations(Some(v.case.person))
        .await?
        .iter()
        .any(|o| o.id != case && o.case.suspend_grants && o.state != CaseState::Accepted.code());
    if return_note.is_none() && v.case.suspend_grants && !other_suspending {
        for g in tx.lift_violation_suspensions(v.case.person, op.now).await? {
            tx.append_audit(
                &event(
                    op,
                    AuditAction::GrantReinstated,
                    acting(admin, Role::PermissionAdministrator),
                )
                .on("permission_grant", g.to_string())
                .detail("violation", case),
            )
            .await?;
        }
    }
    let kind = if return_note.is_some() {
        "oversight.report_returned"
    } else {
        "oversight.report_accepted"
    };
    tx.insert_notice(v.case.person, kind, &format!("violation:{case}"), op.now)
        .await?;
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// The scheduler's job: reminders before the deadline to the person, escalation after it to
/// the person's unit supervisor and every permission administrator; each once per case.
/// Returns how many notices went out.
pub async fn remind_and_escalate(
    store: &Store,
    calendar: &HolidayCalendar,
    op: &Op,
) -> Result<usize, AppError> {
    let today = op.today().civil();
    let persons = store.persons().await?;
    let supervisors = store.unit_supervisors().await?;
    let admins: Vec<PersonId> = persons
        .iter()
        .filter(|p| p.has_role(Role::PermissionAdministrator))
        .map(|p| p.id)
        .collect();
    let mut sent = 0;
    for v in store.violations(None).await? {
        let Some(notice) = notice_due(&facts(&v)?, today, calendar) else {
            continue;
        };
        let object = format!("violation:{}", v.id);
        let mut tx = store.begin().await?;
        let (action, recipients): (AuditAction, Vec<PersonId>) = match notice {
            CaseNotice::Reminder => (AuditAction::CorrectiveReportReminded, vec![v.case.person]),
            CaseNotice::Escalation => {
                let mut r = vec![v.case.person];
                if let Some(unit) = persons
                    .iter()
                    .find(|p| p.id == v.case.person)
                    .map(|p| &p.unit)
                    && let Some(s) = supervisors.get(unit)
                {
                    r.push(*s);
                }
                r.extend(admins.iter().copied());
                r.sort();
                r.dedup();
                (AuditAction::CorrectiveReportEscalated, r)
            }
        };
        let kind = match notice {
            CaseNotice::Reminder => "oversight.report_due_soon",
            CaseNotice::Escalation => "oversight.report_overdue",
        };
        for r in &recipients {
            tx.insert_notice(*r, kind, &object, op.now).await?;
        }
        tx.mark_violation_notice(v.id, notice == CaseNotice::Escalation, today)
            .await?;
        tx.append_audit(
            &event(op, action, None)
                .on("violation", v.id.to_string())
                .detail("due_on", v.case.due_on.to_string())
                .detail("recipients", recipients.len()),
        )
        .await?;
        tx.commit().await?;
        sent += recipients.len();
    }
    Ok(sent)
}

/// Cases of one person (their own view) or all (the administrator's, the director's and the
/// ethics office's, as [`may_view_case`] allows); newest first.
pub async fn cases(store: &Store, viewer: &Person) -> Result<Vec<ViolationRow>, AppError> {
    let who = if viewer.has_role(Role::PermissionAdministrator)
        || viewer.has_role(Role::Director)
        || viewer.has_role(Role::EthicsAuditor)
    {
        None
    } else {
        Some(viewer.id)
    };
    Ok(store.violations(who).await?)
}

/// One case for `viewer`. §9: it names a staff member and the rule broken, so each read is
/// audited (`oversight.violation.viewed`), and so is each refusal; a case `viewer` may not
/// read is answered like one that does not exist, so case numbers cannot be probed.
pub async fn case_for(store: &Store, viewer: &Person, case: i64, op: &Op) -> Decided<ViolationRow> {
    let ev = event(
        op,
        AuditAction::ViolationViewed,
        acting(viewer, Role::Staff),
    )
    .on("violation", case.to_string());
    let Some(v) = store.violation(case).await? else {
        return refused(store, ev, ViolationRefusal::NotFound).await;
    };
    if !may_view_case(viewer, &v) {
        crate::audit::record_refusal(store, ev, "violation.not_visible").await?;
        return Ok(Err(ViolationRefusal::NotFound));
    }
    crate::audit::record(store, &ev).await?;
    Ok(Ok(v))
}

/// Who may read a case: the person it names, the permission administrator, the director and
/// the ethics office.
pub fn may_view_case(viewer: &Person, v: &ViolationRow) -> bool {
    viewer.id == v.case.person
        || viewer.has_role(Role::PermissionAdministrator)
        || viewer.has_role(Role::Director)
        || viewer.has_role(Role::EthicsAuditor)
}

/// Whether `today` is past the case's deadline with no report in.
pub fn overdue(v: &ViolationRow, now: Timestamp) -> bool {
    v.state == CaseState::AwaitingReport.code() && taipei_date(now).civil() > v.case.due_on
}
