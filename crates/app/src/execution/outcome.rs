//! Queries whose outcome is unknown (§5 with an unreliable upstream): an attempt that timed
//! out after sending may have been processed by BLI, so its item may not run again until the
//! outcome is resolved — by the platform's usage log (the reconciliation finds the attempt's
//! request id there) or by the querier's recorded statement. Each resolution is audited
//! (`query.outcome.resolved`), each refusal too.
//!
//! Security-relevant: resolving frees the item for another query under the same approval, so
//! only the registration's querier may state, and only for an attempt that awaits its outcome.
//! The statement is kept with the attempt, never in the audit trail (it is free text).

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::audit_event::{AuditAction, AuditEvent, Outcome};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::{Person, Role};
use querywarden_domain::registration::{RegistrationError, RegistrationNo};
use querywarden_storage::{ExecutionOutcome, ExecutionRow, Store};

use crate::AppError;
use crate::audit::record_refusal;
use crate::registration::{Decided, Denied, Desk, GrantSource, actor, event, stored_digest};

/// A `sent` attempt with no answer after this long is not in flight any more (the connector
/// gives up long before): it is a crash between sending and storing, and is resolved like an
/// unknown one.
pub const SENT_STALE_AFTER: SignedDuration = SignedDuration::from_mins(10);

/// The longest statement kept.
pub const STATEMENT_MAX_CHARS: usize = 500;

/// Whether `e` waits for its outcome to be resolved at `now`.
pub fn awaits_resolution(e: &ExecutionRow, now: Timestamp) -> bool {
    e.awaits_outcome()
        && (e.outcome == ExecutionOutcome::Unknown
            || e.sent_at.checked_add(SENT_STALE_AFTER).unwrap_or(e.sent_at) <= now)
}

/// The querier's statement on an attempt whose outcome is unknown (e.g. "no result shown;
/// the portal has no record of it"): recorded with the attempt, and the item may run again.
pub async fn record_statement<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &Person,
    no: RegistrationNo,
    item: &ServiceItemCode,
    statement: &str,
    now: Timestamp,
    request_id: &str,
) -> Decided<()> {
    let base = event(
        now,
        AuditAction::QueryOutcomeResolved,
        request_id,
        actor(who.id, Role::Querier),
        "registration",
        no.to_string(),
    )
    .detail("item", item.as_str())
    .detail("resolution", "querier_statement");
    let Some(reg) = desk.store.registration_by_no(no).await? else {
        let d = Denied::NotFound;
        record_refusal(desk.store, base, d.code()).await?;
        return Ok(Err(d));
    };
    let mut base = base;
    base.subject = Some(stored_digest(&reg));
    let refuse = |d: Denied| async {
        record_refusal(desk.store, base.clone(), d.code()).await?;
        Ok::<_, AppError>(Err(d))
    };
    // §5 ¶2: the querier ran it and answers for it.
    if reg.parties.querier != who.id {
        return refuse(RegistrationError::NotAllowed.into()).await;
    }
    let text = statement.trim();
    if text.is_empty() || text.chars().count() > STATEMENT_MAX_CHARS {
        return refuse(Denied::Statement {
            max: STATEMENT_MAX_CHARS,
        })
        .await;
    }
    let Some(attempt) = desk
        .store
        .executions_of(reg.id)
        .await?
        .into_iter()
        .find(|e| &e.item == item && awaits_resolution(e, now))
    else {
        return refuse(Denied::NothingAwaiting(item.clone())).await;
    };
    let mut tx = desk.store.begin().await?;
    if !tx
        .resolve_execution(
            attempt.id,
            now,
            Some(who.id),
            "querier_statement",
            Some(text),
        )
        .await?
    {
        drop(tx);
        return refuse(Denied::NothingAwaiting(item.clone())).await;
    }
    let ev = base
        .detail("execution", attempt.id)
        .detail("was", attempt.outcome.code())
        .detail("statement_chars", text.chars().count());
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// The reconciliation's part (§7): every attempt awaiting its outcome whose request id the
/// imported platform usage log holds is resolved (`usage_log:<platform outcome>`): the
/// platform saw it, so what happened is known and the item may run again. Returns how many
/// were resolved. Attempts the log does not hold keep waiting (the log may be incomplete).
pub async fn resolve_from_usage_log(
    store: &Store,
    now: Timestamp,
    request_id: &str,
) -> Result<usize, AppError> {
    let mut resolved = 0;
    for attempt in store.executions_awaiting_outcome().await? {
        if !awaits_resolution(&attempt, now) {
            continue;
        }
        let Some(platform) = store
            .platform_outcome_of_request(&attempt.request_id)
            .await?
        else {
            continue;
        };
        let Some(reg) = store.registration(attempt.registration).await? else {
            continue;
        };
        let how = format!("usage_log:{platform}");
        let mut tx = store.begin().await?;
        if !tx
            .resolve_execution(attempt.id, now, None, &how, None)
            .await?
        {
            continue;
        }
        let mut ev = AuditEvent::system(now, AuditAction::QueryOutcomeResolved, request_id)
            .on("registration", reg.no.to_string())
            .outcome(Outcome::Succeeded)
            .detail("item", attempt.item.as_str())
            .detail("execution", attempt.id)
            .detail("was", attempt.outcome.code())
            .detail("resolution", how.as_str());
        ev.subject = Some(stored_digest(&reg));
        tx.append_audit(&ev).await?;
        tx.commit().await?;
        resolved += 1;
    }
    Ok(resolved)
}
