//! The execution decision (§3, §5): may this person run this registration's query, for these
//! items, now? One pure function, [`may_execute`], returns an [`ExecutionPermit`] or a
//! [`Refusal`] naming the failed condition.
//!
//! Security-sensitive: this is the gate in front of the BLI service. An [`ExecutionPermit`]
//! has private fields and no public constructor, so the only way to obtain one is to pass
//! every condition here; the app layer's connector call and portal recording both require it.
//!
//! Conditions, each refused with its own reason:
//! 1. the session was authenticated with the person's own certificate (§3) and is live and not
//!    locked;
//! 2. the person executing is the registration's querier (資料查詢者);
//! 3. the registration is approved (§5: approval before the query runs);
//! 4. the approval has not expired;
//! 5. at least one item is asked for, every one registered on the row;
//! 6. none of them has been executed before (one execution per item; an attempt that
//!    definitely failed upstream does not count);
//! 7. none of them awaits the outcome of an earlier attempt (sent, outcome unknown, until the
//!    usage log or the querier's statement resolves it);
//! 8. the querier holds an active grant for each item today (§2);
//! 9. the subject is the one approved (its keyed digest equals the approved digest).

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::catalogue::ServiceItemCode;
use crate::national_id::NationalId;
use crate::org::PersonId;
use crate::registration::{Registration, RegistrationId, RegistrationNo, RegistrationState};

/// What the session behind the request is, re-read at the moment of execution.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SessionFacts {
    /// Signed in with a citizen certificate (proof of possession), not a password alone.
    pub certificate_authenticated: bool,
    /// The session exists and has not ended or timed out.
    pub live: bool,
    /// §3: the screen is locked.
    pub locked: bool,
}

/// Everything [`may_execute`] looks at. Nothing else decides.
#[derive(Clone, Copy, Debug)]
pub struct ExecutionRequest<'a> {
    pub now: Timestamp,
    pub executor: PersonId,
    pub session: SessionFacts,
    /// Items for which the executor holds an active grant today (the grants).
    pub active_items: &'a BTreeSet<ServiceItemCode>,
    pub registration: &'a Registration,
    /// The items to execute now.
    pub items: &'a BTreeSet<ServiceItemCode>,
    /// The subject as decrypted for this execution.
    pub subject: &'a NationalId,
    /// Its keyed digest under the key the approval was recorded with.
    pub subject_digest_now: &'a str,
}

/// Why an execution is refused. The code goes into the audit record.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum Refusal {
    #[error("此次登入未使用自然人憑證，不得查調（§3）")]
    NotCertificateSession,
    #[error("登入階段已結束、逾時或螢幕已鎖定，請重新解鎖後再試（§3）")]
    SessionNotUsable,
    #[error("只有本登記指定的資料查詢者可以執行查調")]
    NotTheQuerier,
    #[error("此登記尚未經單位主管核准（§5），目前狀態：{0}")]
    NotApproved(&'static str),
    #[error("核准已逾有效期間，請重新登記")]
    ApprovalExpired,
    #[error("未選擇要查調的項目")]
    NoItems,
    #[error("查調項目 {0} 不在本登記核准的項目內")]
    ItemNotRegistered(ServiceItemCode),
    #[error("查調項目 {0} 已執行過；每項核准僅能執行一次")]
    AlreadyExecuted(ServiceItemCode),
    #[error(
        "查調項目 {0} 前次查詢已送出、結果尚未確認（執行中或逾時）；須待結果確認、平臺使用紀錄勾稽或查詢者說明後才能再查"
    )]
    OutcomeUnknown(ServiceItemCode),
    #[error("資料查詢者今日沒有查調項目 {0} 的有效權限（§2）")]
    NoActiveGrant(ServiceItemCode),
    #[error("受查詢人資料與核准時不一致，已拒絕執行並通報")]
    SubjectChanged,
}

impl Refusal {
    /// Stable code (audit records, API bodies).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotCertificateSession => "policy.session_not_certificate",
            Self::SessionNotUsable => "policy.session_not_usable",
            Self::NotTheQuerier => "policy.not_querier",
            Self::NotApproved(_) => "policy.not_approved",
            Self::ApprovalExpired => "policy.approval_expired",
            Self::NoItems => "policy.no_items",
            Self::ItemNotRegistered(_) => "policy.item_not_registered",
            Self::AlreadyExecuted(_) => "policy.already_executed",
            Self::OutcomeUnknown(_) => "policy.outcome_unknown",
            Self::NoActiveGrant(_) => "policy.no_grant",
            Self::SubjectChanged => "policy.subject_changed",
        }
    }
}

/// Permission to execute one registration's query for some items, now. Only [`may_execute`]
/// makes one; it cannot be cloned, so it is used once. `querywarden_bli::QueryRequest` is built
/// only from a permit, so this value is the one way to reach BLI (§5).
///
/// Its fields are private, so no other crate can forge one from another:
///
/// ```compile_fail
/// use querywarden_domain::policy::ExecutionPermit;
/// fn forge(p: &ExecutionPermit) -> ExecutionPermit {
///     ExecutionPermit { ..*p }
/// }
/// ```
///
/// nor copy one:
///
/// ```compile_fail
/// use querywarden_domain::policy::ExecutionPermit;
/// fn copy(p: &ExecutionPermit) -> ExecutionPermit {
///     p.clone()
/// }
/// ```
#[derive(Debug)]
pub struct ExecutionPermit {
    registration: RegistrationId,
    no: RegistrationNo,
    querier: PersonId,
    items: BTreeSet<ServiceItemCode>,
    subject: NationalId,
    subject_digest: String,
    issued_at: Timestamp,
}

impl ExecutionPermit {
    pub fn registration(&self) -> RegistrationId {
        self.registration
    }

    pub fn registration_no(&self) -> RegistrationNo {
        self.no
    }

    pub fn querier(&self) -> PersonId {
        self.querier
    }

    pub fn items(&self) -> &BTreeSet<ServiceItemCode> {
        &self.items
    }

    /// The approved subject, for the upstream query only.
    pub fn subject(&self) -> &NationalId {
        &self.subject
    }

    pub fn subject_digest(&self) -> &str {
        &self.subject_digest
    }

    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// Whether this permit covers `item`.
    pub fn covers(&self, item: &ServiceItemCode) -> bool {
        self.items.contains(item)
    }
}

/// The decision. See the module documentation for the conditions, checked in that order.
pub fn may_execute(req: &ExecutionRequest<'_>) -> Result<ExecutionPermit, Refusal> {
    // §3: own certificate, live, not locked.
    if !req.session.certificate_authenticated {
        return Err(Refusal::NotCertificateSession);
    }
    if !req.session.live || req.session.locked {
        return Err(Refusal::SessionNotUsable);
    }
    let reg = req.registration;
    // §5 ¶2: the querier runs it, even when a colleague filed it.
    if req.executor != reg.parties.querier {
        return Err(Refusal::NotTheQuerier);
    }
    // §5: approval before the query runs, for a limited time.
    let RegistrationState::Approved { valid_until, .. } = &reg.state else {
        return Err(Refusal::NotApproved(reg.state.code()));
    };
    if req.now >= *valid_until {
        return Err(Refusal::ApprovalExpired);
    }
    if req.items.is_empty() {
        return Err(Refusal::NoItems);
    }
    if let Some(i) = req.items.iter().find(|i| !reg.items.contains(*i)) {
        return Err(Refusal::ItemNotRegistered(i.clone()));
    }
    if let Some(i) = req.items.iter().find(|i| reg.executed_items.contains(*i)) {
        return Err(Refusal::AlreadyExecuted(i.clone()));
    }
    // §5: a query that may have reached BLI is not sent twice until its outcome is known.
    if let Some(i) = req.items.iter().find(|i| reg.awaiting_outcome.contains(*i)) {
        return Err(Refusal::OutcomeUnknown(i.clone()));
    }
    // §2: grants are re-checked at the moment of execution, not only at registration.
    if let Some(i) = req.items.iter().find(|i| !req.active_items.contains(*i)) {
        return Err(Refusal::NoActiveGrant(i.clone()));
    }
    // The approval binds the subject: what is sent must be what the supervisor saw.
    let approved = reg.approved_subject_digest.as_deref();
    if approved != Some(req.subject_digest_now) || reg.subject_digest != req.subject_digest_now {
        return Err(Refusal::SubjectChanged);
    }
    Ok(ExecutionPermit {
        registration: reg.id,
        no: reg.no,
        querier: reg.parties.querier,
        items: req.items.clone(),
        subject: req.subject.clone(),
        subject_digest: req.subject_digest_now.to_string(),
        issued_at: req.now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn item(s: &str) -> ServiceItemCode {
        ServiceItemCode::parse(s).unwrap()
    }

    fn t0() -> Timestamp {
        Timestamp::from_second(1_772_000_000).unwrap()
    }

    struct World {
        reg: Registration,
        grants: BTreeSet<ServiceItemCode>,
        items: BTreeSet<ServiceItemCode>,
        subject: NationalId,
        session: SessionFacts,
        executor: PersonId,
        now: Timestamp,
        digest: String,
    }

    /// Every condition true.
    fn world() -> World {
        let reg = crate::testing::approved_registration(t0());
        World {
            reg,
            grants: [item("C0101"), item("B0101"), item("N0101")].into(),
            items: [item("C0101")].into(),
            subject: NationalId::parse("A123456789").unwrap(),
            session: SessionFacts {
                certificate_authenticated: true,
                live: true,
                locked: false,
            },
            executor: PersonId::new(1),
            now: t0() + SignedDuration::from_hours(1),
            digest: "abc".into(),
        }
    }

    fn decide(w: &World) -> Result<ExecutionPermit, Refusal> {
        may_execute(&ExecutionRequest {
            now: w.now,
            executor: w.executor,
            session: w.session,
            active_items: &w.grants,
            registration: &w.reg,
            items: &w.items,
            subject: &w.subject,
            subject_digest_now: &w.digest,
        })
    }

    #[test]
    fn all_conditions_true_gives_a_permit_for_exactly_the_items() {
        let w = world();
        let p = decide(&w).unwrap();
        assert_eq!(p.registration(), RegistrationId::new(7));
        assert_eq!(p.registration_no().to_string(), "115-000007");
        assert_eq!(p.querier(), PersonId::new(1));
        assert!(p.covers(&item("C0101")) && !p.covers(&item("B0101")));
        assert_eq!(p.subject().expose_whole(), "A123456789");
        assert_eq!(p.subject_digest(), "abc");
        assert_eq!(p.issued_at(), w.now);
    }

    /// Each condition made false alone is refused with its own reason.
    #[test]
    fn each_condition_false_alone_is_refused_with_its_reason() {
        type Breaker = fn(&mut World);
        let cases: Vec<(&str, Breaker)> = vec![
            ("policy.session_not_certificate", |w| {
                w.session.certificate_authenticated = false
            }),
            ("policy.session_not_usable", |w| w.session.locked = true),
            ("policy.session_not_usable", |w| w.session.live = false),
            ("policy.not_querier", |w| w.executor = PersonId::new(3)),
            ("policy.not_querier", |w| w.executor = PersonId::new(2)),
            ("policy.not_approved", |w| {
                w.reg.state = RegistrationState::Registered {
                    first_approval: None,
                }
            }),
            ("policy.not_approved", |w| {
                w.reg.state = RegistrationState::Registered {
                    first_approval: Some((PersonId::new(2), t0())),
                }
            }),
            ("policy.not_approved", |w| {
                w.reg.state = RegistrationState::Rejected {
                    by: PersonId::new(2),
                    at: t0(),
                    comment: "x".into(),
                }
            }),
            ("policy.not_approved", |w| {
                w.reg.state = RegistrationState::Cancelled {
                    by: PersonId::new(1),
                    at: t0(),
                }
            }),
            ("policy.approval_expired", |w| {
                w.now = t0() + SignedDuration::from_hours(24 * 7)
            }),
            ("policy.approval_expired", |w| {
                w.now = t0() + SignedDuration::from_hours(24 * 30)
            }),
            ("policy.no_items", |w| w.items.clear()),
            ("policy.item_not_registered", |w| {
                w.items.insert(item("N0101"));
            }),
            ("policy.already_executed", |w| {
                w.reg.executed_items.insert(item("C0101"));
            }),
            ("policy.outcome_unknown", |w| {
                w.reg.awaiting_outcome.insert(item("C0101"));
            }),
            ("policy.no_grant", |w| {
                w.grants.remove(&item("C0101"));
            }),
            ("policy.subject_changed", |w| w.digest = "zzz".into()),
            ("policy.subject_changed", |w| {
                w.reg.approved_subject_digest = None
            }),
            ("policy.subject_changed", |w| {
                w.reg.approved_subject_digest = Some("other".into())
            }),
        ];
        for (code, brk) in cases {
            let mut w = world();
            brk(&mut w);
            let err = decide(&w).unwrap_err();
            assert_eq!(err.code(), code, "{err}");
            assert!(!err.to_string().is_empty());
        }
        // Executing another item of the same registration stays possible.
        let mut w = world();
        w.reg.executed_items.insert(item("B0101"));
        w.reg.awaiting_outcome.insert(item("B0101"));
        assert!(decide(&w).is_ok());
    }

    #[test]
    fn just_before_expiry_is_still_allowed() {
        let mut w = world();
        w.now = t0() + SignedDuration::from_hours(24 * 7) - SignedDuration::from_secs(1);
        assert!(decide(&w).is_ok());
    }
}
