//! Fixtures for the tests and benchmarks of this crate and of the crates above it (feature
//! `testing`): one registration every §5 condition holds for, so that each test states only
//! what it changes, and the small pieces several suites would otherwise each write again.

// Fixed literals known to be valid; a test fixture that fails to build them should stop the test.
#![allow(clippy::expect_used)]

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use crate::audit_event::{AuditAction, AuditEvent};
use crate::catalogue::{LegalBasisId, ServiceItemCode};
use crate::org::{PersonId, UnitId};
use crate::permission::grant::{GrantId, GrantStatus, PermissionGrant};
use crate::permission::{ApplicationId, StepDecision};
use crate::registration::{
    Origin, Parties, Registration, RegistrationId, RegistrationNo, RegistrationState,
};
use crate::roc_date::RocDate;

/// Registration 115-7 of items C0101 and B0101 for subject digest `abc` (key `h1`), filed by
/// person 3 for querier 1 and approved by person 2 at `approved_at`, valid for seven days,
/// nothing run yet.
pub fn approved_registration(approved_at: Timestamp) -> Registration {
    let item = |s: &str| ServiceItemCode::parse(s).expect("a catalogue code");
    Registration {
        id: RegistrationId::new(7),
        no: RegistrationNo::new(115, 7).expect("a registration number"),
        date: RocDate::new(115, 3, 1).expect("a date"),
        created_at: approved_at,
        subject_digest: "abc".into(),
        subject_key_id: "h1".into(),
        items: [item("C0101"), item("B0101")].into(),
        legal_basis: LegalBasisId::new("social-assistance-44-3-1").expect("a basis id"),
        relevance: "低收入戶資格審查".into(),
        case_no: None,
        parties: Parties {
            applicant: PersonId::new(3),
            needer: PersonId::new(3),
            querier: PersonId::new(1),
        },
        approving_unit: UnitId::new("social-assistance").expect("a unit id"),
        origin: Origin::Internal,
        state: RegistrationState::Approved {
            by: PersonId::new(2),
            at: approved_at,
            valid_until: approved_at + SignedDuration::from_hours(24 * 7),
        },
        second_approval_required: false,
        findings: vec![],
        executed_items: BTreeSet::new(),
        awaiting_outcome: BTreeSet::new(),
        approved_subject_digest: Some("abc".into()),
        batch: None,
    }
}

/// A unit id known to be valid.
pub fn unit(s: &str) -> UnitId {
    UnitId::new(s).expect("a unit id")
}

/// Person `n`.
pub fn person(n: i64) -> PersonId {
    PersonId::new(n)
}

/// Grant `id` of `item` to `person` in force from `from` under application 1, active, or
/// suspended from `suspended_from` if given.
pub fn grant(
    id: i64,
    person: PersonId,
    item: &str,
    from: RocDate,
    suspended_from: Option<RocDate>,
) -> PermissionGrant {
    PermissionGrant {
        id: GrantId::new(id),
        person,
        item: ServiceItemCode::parse(item).expect("a catalogue code"),
        effective_from: from,
        effective_to: None,
        application: ApplicationId::new(1),
        status: if suspended_from.is_some() {
            GrantStatus::Suspended
        } else {
            GrantStatus::Active
        },
        suspended_from,
        suspension_cause: None,
    }
}

/// A Form 1 step approved as it stands: no later effective date, no comment.
pub fn approve() -> StepDecision {
    StepDecision::Approve {
        effective_from: None,
        comment: String::new(),
    }
}

/// A Form 1 step approved with its grants in force from `d`, noted "同意".
pub fn approve_from(d: RocDate) -> StepDecision {
    StepDecision::Approve {
        effective_from: Some(d),
        comment: "同意".into(),
    }
}

/// Audit record `n` of a long trail, as the audit benchmarks append it: a system-made
/// `ResultViewed` with operation id `op-<n as 16 hex digits>` on a registration, item C0101.
pub fn audit_event(n: u64) -> AuditEvent {
    AuditEvent::system(
        Timestamp::now(),
        AuditAction::ResultViewed,
        format!("op-{n:016x}"),
    )
    .on("registration", format!("115-{:06}", n % 1_000_000))
    .detail("item", "C0101")
}

/// This process's peak resident memory (`VmHWM` of `/proc/self/status`) in KiB, 0 where
/// that file cannot be read: the memory figure the benchmarks report.
pub fn peak_resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
