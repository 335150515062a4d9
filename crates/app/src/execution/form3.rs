//! Running every approved item of a Form 3 request in one action (§5 ¶3): the assigned
//! querier runs all the request's approved, not yet executed registrations at once.
//!
//! Security-sensitive. Nothing here decides whether a query may run: each registration goes
//! through [`execute_connected`] (or [`record_portal_execution`]) on its own, so each gets
//! its own policy check and [`querywarden_domain::policy::ExecutionPermit`], its own
//! executions and audit records, and its own request id towards BLI. An upstream failure or
//! time-out of one is that item's outcome and the others still run.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use querywarden_bli::Connector;
use querywarden_domain::audit_event::AuditAction;
use querywarden_domain::org::Role;
use querywarden_domain::registration::{RegistrationNo, RegistrationState, RequestNo};
use querywarden_storage::RegistrationFilter;

use super::{ExecutionReport, PortalReport, execute_connected, record_portal_execution};
use crate::audit::record_refusal;
use crate::auth::SignedIn;
use crate::registration::{
    Decided, Denied, Desk, GrantSource, actor, event, roster_on, runnable_items,
};

/// What the querier reports for a portal-mode run of the whole request (§5: the queries
/// were run on the portal; where the paper results are filed).
#[derive(Debug, Clone, Default)]
pub struct PortalNote {
    pub note: Option<String>,
    pub paper_case_no: Option<String>,
}

/// What became of one registration of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRun {
    pub no: RegistrationNo,
    /// The execution's report (per item: received, no data, failed, unknown, recorded), or
    /// why the policy refused it (already audited).
    pub answer: Result<ExecutionReport, Denied>,
}

/// §5 ¶3: `who` runs every approved, unexpired registration of request `no` they are the
/// querier of, with the items each still has to run. With `connector` the queries go to
/// BLI (connected mode); without, the querier's portal report is recorded for each.
///
/// Refused (and audited once, on the request) when the request does not exist or `who` may
/// not see it (answered alike, §9), or when nothing is left for `who` to run.
pub async fn execute_request<G: GrantSource, C: Connector>(
    desk: &Desk<'_, G>,
    connector: Option<&C>,
    who: &SignedIn,
    no: RequestNo,
    portal: &PortalNote,
    now: Timestamp,
    request_id: &str,
) -> Decided<Vec<RegistrationRun>> {
    let started = Instant::now();
    let ev = event(
        now,
        AuditAction::ExecutionRefused,
        request_id,
        actor(who.person.id, Role::Querier),
        "request",
        no.to_string(),
    );
    let Some(r) = desk.store.request_by_no(no).await? else {
        record_refusal(desk.store, ev, Denied::NotFound.code()).await?;
        return Ok(Err(Denied::NotFound));
    };
    let facts = crate::request::facts_of(&r, &desk.store.request_sign_offs(r.id).await?);
    let roster = roster_on(desk.store, now).await?;
    if !crate::request::may_see_request(&who.person, &r, &facts, &roster) {
        record_refusal(desk.store, ev, Denied::NotFound.code()).await?;
        return Ok(Err(Denied::NotFound));
    }
    let mut regs = desk
        .store
        .registrations(&RegistrationFilter {
            request: Some(r.id),
            ..Default::default()
        })
        .await?;
    regs.sort_by_key(|g| g.no);
    // §5: only what is approved, still valid, and has items left; the policy re-checks each.
    let due: Vec<RegistrationNo> = regs
        .iter()
        .filter(|g| {
            g.parties.querier == who.person.id
                && matches!(g.state, RegistrationState::Approved { valid_until, .. } if now < valid_until)
                && !runnable_items(g).is_empty()
        })
        .map(|g| g.no)
        .collect();
    if due.is_empty() {
        record_refusal(desk.store, ev, Denied::NothingToExecute.code()).await?;
        return Ok(Err(Denied::NothingToExecute));
    }
    let mut runs = Vec::with_capacity(due.len());
    for g in due {
        // Each registration is its own execution towards BLI: its own request id, and the
        // time it actually runs.
        let own_id = format!("{request_id}-{g}");
        let elapsed = SignedDuration::try_from(started.elapsed()).unwrap_or(SignedDuration::ZERO);
        let at = now.checked_add(elapsed).unwrap_or(now);
        let answer = match connector {
            Some(c) => execute_connected(desk, c, who, g, None, at, &own_id).await?,
            None => {
                let report = PortalReport {
                    items: None,
                    queried_at: Some(at),
                    note: portal.note.clone(),
                    paper_case_no: portal.paper_case_no.clone(),
                    documents: Vec::new(),
                };
                record_portal_execution(desk, who, g, &report, at, &own_id).await?
            }
        };
        runs.push(RegistrationRun { no: g, answer });
    }
    Ok(Ok(runs))
}
