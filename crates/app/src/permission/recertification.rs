//! Quarterly recertification (定期複核) of grants by each supervisor, and idle-account
//! disabling (資通系統防護基準 1-1-3) with the administrator's re-enabling.
//!
//! Security-sensitive: closing a round suspends every grant not confirmed; disabling an account
//! ends its live sessions. Usage counts come from the executions recorded here and the imported
//! platform usage records (§7), whichever saw more.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Span;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::org::{PersonId, Role, StaffStatus};
use querywarden_domain::permission::recertification::{
    AccountActivity, GrantUsage, Quarter, RecertificationDecision, RecertificationItem,
    RecertificationRound, RoundId, check_decision, close_round, idle_accounts, items_for_round,
    round_deadline,
};
use querywarden_domain::permission::{
    AdministratorDesk, GrantId, PermissionGrant, PermissionRefusal, SupervisorDesk, SuspensionCause,
};
use querywarden_domain::roc_date::{RocDate, taipei_date, taipei_day_start_utc};
use querywarden_storage::{DisableReason, Store};

use super::{Op, PermissionError, PermissionPolicy, refused};

fn supervisor(desk: &SupervisorDesk) -> Option<Actor> {
    Some(Actor {
        person: desk.person(),
        role: Some(Role::UnitSupervisor),
    })
}

/// Usage of each (person, item) of `grants` over the quarter before `today`, and the last
/// use ever seen.
async fn usage(
    store: &Store,
    today: RocDate,
    grants: &[PermissionGrant],
) -> Result<BTreeMap<(PersonId, String), GrantUsage>, PermissionError> {
    let accounts = store.person_ids_by_account().await?;
    let quarter_ago = today
        .civil()
        .checked_sub(Span::new().months(3))
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(RocDate::MIN);
    let tomorrow = today
        .civil()
        .tomorrow()
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(today);
    let (from, to) = (
        taipei_day_start_utc(quarter_ago),
        taipei_day_start_utc(tomorrow),
    );
    // §7 usage by operator: the platform's records of each grant's operator account and item
    // (the quarter's count and the last one), read through the index by operator rather than
    // the whole imported log.
    let wanted: BTreeSet<(PersonId, &str)> =
        grants.iter().map(|g| (g.person, g.item.as_str())).collect();
    let pairs: Vec<(String, String)> = accounts
        .iter()
        .flat_map(|(account, p)| {
            wanted
                .range((*p, "")..)
                .take_while(move |(q, _)| q == p)
                .map(move |(_, item)| (account.clone(), (*item).to_string()))
        })
        .collect();
    let mut out: BTreeMap<(PersonId, String), GrantUsage> = BTreeMap::new();
    for s in store.usage_by_operator(&pairs, from, to, None).await? {
        let (Some(p), Some(last)) = (accounts.get(&s.operator_account), s.last_at) else {
            continue;
        };
        let u = out.entry((*p, s.item)).or_default();
        u.uses_last_quarter += s.count;
        let day = taipei_date(last);
        if u.last_used.is_none_or(|l| l < day) {
            u.last_used = Some(day);
        }
    }
    // The platform's log arrives only when the administrator imports it; executions recorded
    // here are known at once (a query run minutes ago counts now). Both logs record the same
    // queries, so a grant's use is the larger of the two counts and the later last use.
    let mut executed: BTreeMap<(PersonId, String), GrantUsage> = BTreeMap::new();
    for (p, item, _, last) in store.execution_counts(jiff::Timestamp::MIN, to).await? {
        executed.entry((p, item)).or_default().last_used = Some(taipei_date(last));
    }
    for (p, item, n, _) in store.execution_counts(from, to).await? {
        executed.entry((p, item)).or_default().uses_last_quarter = n;
    }
    for (key, e) in executed {
        let u = out.entry(key).or_default();
        u.uses_last_quarter = u.uses_last_quarter.max(e.uses_last_quarter);
        u.last_used = u.last_used.max(e.last_used);
    }
    Ok(out)
}

/// Opens this quarter's round for the supervisor: one line per grant of their staff in force
/// today, with use counts and removal proposals; the deadline is the policy's working days
/// away. Refused if this quarter's round exists.
pub async fn open_recertification(
    store: &Store,
    policy: &PermissionPolicy,
    desk: &SupervisorDesk,
    op: &Op,
) -> Result<(RecertificationRound, Vec<RecertificationItem>), PermissionError> {
    let today = op.today();
    let quarter = Quarter::of(today);
    let event = op
        .event(AuditAction::RecertificationOpened, supervisor(desk))
        .on("recertification_round", quarter.to_string());
    let existing = store.recertification_rounds_of(desk.person()).await?;
    if existing.iter().any(|r| r.quarter == quarter) {
        return refused(store, event, PermissionRefusal::RoundAlreadyOpen).await;
    }
    let staff: Vec<PersonId> = store
        .persons()
        .await?
        .into_iter()
        .filter(|p| p.id != desk.person() && desk.units().contains(&p.unit))
        .map(|p| p.id)
        .collect();
    // Every grant in one read, then by person in the staff's order (not a read per person).
    let mut by_person: BTreeMap<PersonId, Vec<PermissionGrant>> = BTreeMap::new();
    for g in store.all_grants().await? {
        by_person.entry(g.person).or_default().push(g);
    }
    let mut grants = Vec::new();
    for p in &staff {
        grants.extend(by_person.remove(p).unwrap_or_default());
    }
    let use_by_item = usage(store, today, &grants).await?;
    let per_grant: BTreeMap<GrantId, GrantUsage> = grants
        .iter()
        .filter_map(|g| {
            use_by_item
                .get(&(g.person, g.item.as_str().to_string()))
                .map(|u| (g.id, *u))
        })
        .collect();
    let items = items_for_round(&grants, &per_grant, today, &policy.recertification);
    let calendar = crate::calendar::current(store).await?;
    let deadline = round_deadline(today, &policy.recertification, &calendar);
    let mut tx = store.begin().await?;
    let id = tx
        .insert_recertification_round(desk.person(), quarter, today, deadline)
        .await?;
    for i in &items {
        tx.insert_recertification_item(id, i).await?;
    }
    tx.append_audit(
        &event
            .on("recertification_round", id.get().to_string())
            .detail("quarter", quarter.to_string())
            .detail("lines", items.len())
            .detail(
                "proposed_removals",
                items.iter().filter(|i| i.propose_removal).count(),
            )
            .detail("deadline", deadline.civil().to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok((
        RecertificationRound {
            id,
            supervisor: desk.person(),
            quarter,
            opened_on: today,
            deadline,
            closed_on: None,
        },
        items,
    ))
}

/// The supervisor's own round `round`. §9: another supervisor's round is answered like one
/// that does not exist, so round ids cannot be probed; both refusals are audited under
/// `event`, the record keeping the real reason.
async fn own_round(
    store: &Store,
    desk: &SupervisorDesk,
    round: RoundId,
    event: &AuditEvent,
) -> Result<RecertificationRound, PermissionError> {
    let refusal = match store.recertification_round(round).await? {
        Some(r) if r.supervisor == desk.person() => return Ok(r),
        Some(_) => PermissionRefusal::NotRoundOwner.code(),
        None => "permission.not_found",
    };
    crate::audit::record_rule_refusal(store, event.clone(), refusal).await?;
    Err(PermissionError::NotFound("複核"))
}

/// A round with its lines (the supervisor's own rounds only).
pub async fn recertification_round(
    store: &Store,
    desk: &SupervisorDesk,
    round: RoundId,
    op: &Op,
) -> Result<(RecertificationRound, Vec<RecertificationItem>), PermissionError> {
    let event = op
        .event(AuditAction::AccessRefused, supervisor(desk))
        .on("recertification_round", round.get().to_string());
    let r = own_round(store, desk, round, &event).await?;
    let items = store.recertification_items(round).await?;
    Ok((r, items))
}

/// The supervisor's rounds, oldest first.
pub async fn recertification_rounds(
    store: &Store,
    desk: &SupervisorDesk,
) -> Result<Vec<RecertificationRound>, PermissionError> {
    Ok(store.recertification_rounds_of(desk.person()).await?)
}

/// Confirms (仍需使用) or not (不再需要) one line of an open round.
pub async fn decide_recertification(
    store: &Store,
    desk: &SupervisorDesk,
    round: RoundId,
    grant: GrantId,
    decision: RecertificationDecision,
    op: &Op,
) -> Result<(), PermissionError> {
    let event = op
        .event(AuditAction::RecertificationDecided, supervisor(desk))
        .on("recertification_round", round.get().to_string())
        .detail("grant", grant.get())
        .detail("decision", decision.code());
    let r = own_round(store, desk, round, &event).await?;
    let items = store.recertification_items(round).await?;
    if let Err(refusal) = check_decision(&r, &items, desk.person(), grant) {
        return refused(store, event, refusal).await;
    }
    let mut tx = store.begin().await?;
    if !tx
        .set_recertification_decision(round, grant, decision, op.now)
        .await?
    {
        return Err(PermissionError::Conflict);
    }
    tx.append_audit(&event).await?;
    tx.commit().await?;
    Ok(())
}

async fn close(
    store: &Store,
    r: &RecertificationRound,
    by: Option<Actor>,
    op: &Op,
) -> Result<Vec<GrantId>, PermissionError> {
    let today = op.today();
    let items = store.recertification_items(r.id).await?;
    let event = op
        .event(AuditAction::RecertificationClosed, by)
        .on("recertification_round", r.id.get().to_string());
    let suspend = match close_round(r, &items, today) {
        Ok(s) => s,
        Err(refusal) => return refused(store, event, refusal).await,
    };
    let mut tx = store.begin().await?;
    if !tx.close_recertification_round(r.id, today).await? {
        return Err(PermissionError::Conflict);
    }
    let mut suspended = Vec::new();
    for g in &suspend {
        if tx
            .suspend_grant(*g, today, SuspensionCause::NotRecertified, op.now)
            .await?
        {
            suspended.push(*g);
            tx.append_audit(
                &op.event(AuditAction::GrantSuspended, by)
                    .on("permission_grant", g.to_string())
                    .detail("cause", SuspensionCause::NotRecertified.code())
                    .detail("suspended_from", today.civil().to_string())
                    .detail("recertification_round", r.id.get()),
            )
            .await?;
        }
    }
    tx.append_audit(
        &event
            .detail("lines", items.len())
            .detail("suspended", suspended.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(suspended)
}

/// Closes the supervisor's round (after the deadline, or earlier once every line is answered);
/// every grant not confirmed is suspended from today. Returns the suspended grants.
pub async fn close_recertification(
    store: &Store,
    desk: &SupervisorDesk,
    round: RoundId,
    op: &Op,
) -> Result<Vec<GrantId>, PermissionError> {
    let event = op
        .event(AuditAction::RecertificationClosed, supervisor(desk))
        .on("recertification_round", round.get().to_string());
    let r = own_round(store, desk, round, &event).await?;
    close(store, &r, supervisor(desk), op).await
}

/// For a daily job: closes every open round whose deadline has passed (as the system).
/// Returns how many grants were suspended.
pub async fn close_overdue_recertifications(
    store: &Store,
    op: &Op,
) -> Result<usize, PermissionError> {
    let today = op.today();
    let mut n = 0;
    for p in store.persons().await? {
        for r in store.recertification_rounds_of(p.id).await? {
            if r.closed_on.is_none() && today > r.deadline {
                n += close(store, &r, None, op).await?.len();
            }
        }
    }
    Ok(n)
}

/// Disables every in-service account not used (no sign-in; or since creation) for the
/// policy's idle days, ending its sessions. Each is audited. Returns who was disabled.
pub async fn disable_idle_accounts(
    store: &Store,
    policy: &PermissionPolicy,
    op: &Op,
) -> Result<Vec<PersonId>, PermissionError> {
    let disabled = store.disabled_accounts().await?;
    let active: std::collections::BTreeSet<PersonId> = store
        .persons()
        .await?
        .into_iter()
        .filter(|p| p.status == StaffStatus::Active)
        .map(|p| p.id)
        .collect();
    let activity: Vec<AccountActivity> = store
        .account_activity()
        .await?
        .into_iter()
        .filter(|(p, _, _)| active.contains(p))
        .map(|(p, created, last)| AccountActivity {
            person: p,
            last_active: taipei_date(last.unwrap_or(created).max(created)),
            already_disabled: disabled.contains_key(&p),
        })
        .collect();
    let idle = idle_accounts(&activity, op.today(), &policy.recertification);
    if idle.is_empty() {
        return Ok(idle);
    }
    let mut tx = store.begin().await?;
    for p in &idle {
        tx.disable_account(*p, DisableReason::Idle, None, op.now)
            .await?;
        tx.end_live_sessions(*p, "account_disabled", op.now).await?;
        tx.append_audit(
            &op.event(AuditAction::AccountDisabled, None)
                .on("person", p.to_string())
                .detail("reason", DisableReason::Idle.code())
                .detail("idle_days", policy.recertification.idle_account_days),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(idle)
}

/// The administrator re-enables a disabled account. Returns whether it was disabled.
pub async fn enable_account(
    store: &Store,
    desk: &AdministratorDesk,
    person: PersonId,
    op: &Op,
) -> Result<bool, PermissionError> {
    let mut tx = store.begin().await?;
    let was = tx.enable_account(person).await?;
    if was {
        tx.append_audit(&crate::permission::as_desk(
            desk,
            op.event(
                AuditAction::AccountEnabled,
                Some(Actor {
                    person: desk.person(),
                    role: Some(Role::PermissionAdministrator),
                }),
            )
            .on("person", person.to_string()),
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(was)
}
