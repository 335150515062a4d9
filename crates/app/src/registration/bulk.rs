//! Bulk approval (§5): a supervisor works through the approval inbox at once — sees each
//! waiting registration with what the decision rests on (the subject's name and masked ID,
//! the querier, the legal basis and the relevance), ticks several and approves them, or
//! rejects them with one reason.
//!
//! Security-sensitive. Bulk work changes nothing about the rule: every ticked registration
//! goes through [`decide`] on its own — its own capability check, its own transaction, its
//! own audit record — so one refused item (the supervisor is a party, it was withdrawn
//! meanwhile) is refused and audited alone and the others are still decided. The queue
//! shows personal data, so each row shown is audited as a read (§9).

use std::collections::BTreeSet;

use jiff::Timestamp;
use querywarden_domain::audit_event::AuditAction;
use querywarden_domain::catalogue::{LegalBasisId, ServiceItemCode};
use querywarden_domain::org::{Person, Role};
use querywarden_domain::registration::{
    self as reg, ApprovalStep, Parties, RegistrationError, RegistrationNo, RegistrationState,
};
use querywarden_domain::roc_date::RocDate;
use querywarden_domain::snooping;
use querywarden_storage::RegistrationFilter;

use super::{
    Decided, Decision, Denied, Desk, GrantSource, actor, decide, event, on_registration, roster_on,
    shown_subject,
};
use crate::AppError;
use crate::audit::record_refusal;

/// Most registrations one bulk decision may carry: a page of the inbox, not the whole
/// history of a unit (each is still checked and audited one by one).
pub const MAX_BULK_DECISIONS: usize = 100;

/// One registration waiting for this approver, with what the decision rests on (§5: the
/// subject, the querier, the legal basis and the relevance). The national ID is masked.
#[derive(Debug, Clone)]
pub struct AwaitingDecision {
    pub no: RegistrationNo,
    pub date: RocDate,
    pub subject_name: String,
    pub subject_id_masked: String,
    pub items: BTreeSet<ServiceItemCode>,
    pub legal_basis: LegalBasisId,
    pub relevance: String,
    pub case_no: Option<String>,
    pub parties: Parties,
    /// The snooping findings, for the approver (a page names them in its language).
    pub findings: Vec<snooping::SnoopingRule>,
    /// Which approval this would be (the supervisor's, or the second approval).
    pub step: ApprovalStep,
    /// §5 ¶1: the approver would decide as 代理, in the supervisor's place.
    pub acting: bool,
}

/// The registrations `person` may decide now, oldest first, each with its subject shown
/// masked. §9: every row shows personal data, so every row is audited as a read of its
/// registration (`query.registration.viewed`, `via: approval_queue`), in one transaction.
pub async fn awaiting_decision<G: GrantSource>(
    desk: &Desk<'_, G>,
    person: &Person,
    now: Timestamp,
    request_id: &str,
) -> Result<Vec<AwaitingDecision>, AppError> {
    let roster = roster_on(desk.store, now).await?;
    let mut pending = desk
        .store
        .registrations(&RegistrationFilter {
            state: Some("registered"),
            ..Default::default()
        })
        .await?;
    pending.sort_by_key(|r| r.no);
    let mut out = Vec::new();
    let mut reads = Vec::new();
    for r in &pending {
        let Ok((step, signer)) = reg::check_approver(r, person, &roster) else {
            continue;
        };
        let subject = shown_subject(desk.store, desk.keys, r).await?;
        let ev = on_registration(
            now,
            AuditAction::RegistrationViewed,
            request_id,
            actor(person.id, Role::UnitSupervisor),
            r,
        )
        .detail("via", "approval_queue");
        reads.push(ev);
        out.push(AwaitingDecision {
            no: r.no,
            date: r.date,
            subject_name: subject.name,
            subject_id_masked: subject.id_masked,
            items: r.items.clone(),
            legal_basis: r.legal_basis.clone(),
            relevance: r.relevance.clone(),
            case_no: r.case_no.clone(),
            parties: r.parties,
            findings: r
                .findings
                .iter()
                .filter_map(|c| snooping::SnoopingRule::parse_code(c))
                .collect(),
            step,
            acting: signer.acting,
        });
    }
    if !reads.is_empty() {
        let mut tx = desk.store.begin().await?;
        for ev in &reads {
            tx.append_audit(ev).await?;
        }
        tx.commit().await?;
    }
    Ok(out)
}

/// What became of one registration of a bulk decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDecision {
    pub no: RegistrationNo,
    /// The state it reached, or why it was refused (already audited).
    pub answer: Result<RegistrationState, Denied>,
}

/// §5: `person` approves (or rejects, with one reason for all) each of `nos` — each through
/// [`decide`], so each is its own decision with its own audit record and one refusal does
/// not stop the others. A number given twice counts once. The bulk action itself is refused
/// (and audited once) when nothing is chosen, when more than [`MAX_BULK_DECISIONS`] are, or
/// when a rejection carries no reason — before any registration is touched.
pub async fn decide_many<G: GrantSource>(
    desk: &Desk<'_, G>,
    person: &Person,
    nos: &[RegistrationNo],
    decision: Decision<'_>,
    now: Timestamp,
    request_id: &str,
) -> Decided<Vec<ItemDecision>> {
    let mut seen = BTreeSet::new();
    let chosen: Vec<RegistrationNo> = nos.iter().copied().filter(|n| seen.insert(*n)).collect();
    let refusal = if chosen.is_empty() {
        Some(Denied::NoneChosen)
    } else if chosen.len() > MAX_BULK_DECISIONS {
        Some(Denied::TooMany {
            max: MAX_BULK_DECISIONS,
        })
    } else {
        match decision {
            Decision::Reject(reason) if reason.trim().is_empty() => {
                Some(RegistrationError::CommentRequired.into())
            }
            _ => None,
        }
    };
    if let Some(d) = refusal {
        let action = match decision {
            Decision::Approve(_) => AuditAction::RegistrationApproved,
            Decision::Reject(_) => AuditAction::RegistrationRejected,
        };
        let ev = event(
            now,
            action,
            request_id,
            actor(person.id, Role::Staff),
            "registration",
            "bulk",
        )
        .detail("chosen", chosen.len());
        record_refusal(desk.store, ev, d.code()).await?;
        return Ok(Err(d));
    }
    let mut out = Vec::with_capacity(chosen.len());
    for no in chosen {
        let answer = decide(desk, person, no, decision, now, request_id).await?;
        out.push(ItemDecision { no, answer });
    }
    Ok(Ok(out))
}
