//! Form 3's sign-offs and its delivery (§5 ¶3, 查調資料申請表): the requesting office's own
//! supervisor consents before the request reaches the bureau (申請人單位主管核章); the
//! responsible unit reviews it with an opinion, accepting or refusing; the assigned querier
//! and the using unit's supervisor sign the request itself (資料查詢者、使用單位主管核章);
//! delivery (登錄送達) waits until every subject's query has run or been closed with a
//! reason, and closes the request.
//!
//! Owns [`Stage`] (where a request stands, derived from its facts), [`Form3Facts`], and the
//! pure checks [`check_consent`], [`check_review`], [`check_sign`], [`check_close_subject`]
//! and [`check_delivery`]. Who the office's supervisor and the using unit's supervisor are
//! comes from the one walk up the units ([`crate::permission::Roster::supervisor_signers`]).
//! Pure: no storage, no clock.

use super::RegistrationError;
use crate::org::{PersonId, UnitId};
use crate::permission::Roster;
use crate::permission::acting::Signer;

/// The responsible unit's review, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    Pending,
    Accepted,
    Rejected,
}

crate::code_enum! {
    /// Who signs what on Form 3 besides the applicant.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum SignOff {
        /// 申請人單位主管: the requesting office's supervisor consents before the bureau sees it.
        ApplicantSupervisor = "applicant_supervisor";
        /// 資料查詢者: the querier the responsible unit assigned.
        Querier = "querier";
        /// 使用單位主管: the supervisor of the unit that queries (the responsible unit).
        UsingUnitSupervisor = "using_unit_supervisor";
    }
}

crate::code_enum! {
    /// Where a request stands.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Stage {
        /// 待申請單位主管核章.
        AwaitingConsent = "awaiting_consent";
        /// 待業務權責單位審查.
        AwaitingReview = "submitted";
        /// 不受理 (by the office's supervisor or the responsible unit), with the reason.
        Rejected = "rejected";
        /// 已受理: queries, the querier's and the using unit's supervisor's signatures under way.
        InProgress = "accepted";
        /// 已送達，結案.
        Closed = "closed";
    }
}

/// What is recorded of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form3Facts {
    pub applicant: PersonId,
    pub requesting_unit: UnitId,
    pub responsible_unit: UnitId,
    pub review: Review,
    pub assigned_querier: Option<PersonId>,
    /// The sign-offs given: (which, by whom).
    pub signed: Vec<(SignOff, PersonId)>,
    pub delivered: bool,
}

impl Form3Facts {
    pub fn signed_by(&self, which: SignOff) -> Option<PersonId> {
        self.signed
            .iter()
            .find(|(w, _)| *w == which)
            .map(|(_, p)| *p)
    }

    /// Where the request stands.
    pub fn stage(&self) -> Stage {
        match self.review {
            Review::Rejected => Stage::Rejected,
            Review::Accepted if self.delivered => Stage::Closed,
            Review::Accepted => Stage::InProgress,
            Review::Pending if self.signed_by(SignOff::ApplicantSupervisor).is_some() => {
                Stage::AwaitingReview
            }
            Review::Pending => Stage::AwaitingConsent,
        }
    }

    /// §5 ¶3: the requesting office's supervisor, their deputy while they are absent, or the
    /// supervisor above — within the office's own line: never the applicant, and never the
    /// bureau's director (who stands above the bureau's units, not the district office's).
    pub fn applicant_supervisor(&self, roster: &Roster) -> Option<Signer> {
        let own = roster.supervisors.get(&self.requesting_unit).copied();
        roster
            .supervisor_signers(&self.requesting_unit, |p| p == self.applicant)
            .into_iter()
            .filter(|s| roster.director != Some(s.person) || own == Some(s.person))
            .find(|s| !roster.inactive.contains(&s.person))
    }

    /// §5 ¶3: the using (responsible) unit's supervisor who signs the request: the one who
    /// approves its rows, by the same walk; never the querier or the applicant.
    pub fn using_unit_supervisor(&self, roster: &Roster) -> Option<Signer> {
        let querier = self.assigned_querier;
        roster.acting_supervisor(&self.responsible_unit, |p| {
            p == self.applicant || Some(p) == querier
        })
    }
}

impl Form3Facts {
    /// §5 ¶3: the sign-offs the request waits for now, each with whom it waits for (by the
    /// same walk as [`check_consent`] and [`check_sign`], so the page names whoever the
    /// sign-off will accept): the office supervisor's consent before review; the querier's
    /// and the using unit's supervisor's while in progress. A sign-off nobody can give now
    /// is left out.
    pub fn awaited_sign_offs(&self, roster: &Roster) -> Vec<(SignOff, Signer)> {
        let unsigned = |w: SignOff| self.signed_by(w).is_none();
        match self.stage() {
            Stage::AwaitingConsent => self
                .applicant_supervisor(roster)
                .map(|s| (SignOff::ApplicantSupervisor, s))
                .into_iter()
                .collect(),
            Stage::InProgress => {
                let querier = self.assigned_querier.map(|person| Signer {
                    person,
                    acting: false,
                    acting_for: None,
                });
                [
                    querier.map(|s| (SignOff::Querier, s)),
                    self.using_unit_supervisor(roster)
                        .map(|s| (SignOff::UsingUnitSupervisor, s)),
                ]
                .into_iter()
                .flatten()
                .filter(|(w, _)| unsigned(*w))
                .collect()
            }
            _ => Vec::new(),
        }
    }
}

fn need_stage(facts: &Form3Facts, stage: Stage) -> Result<(), RegistrationError> {
    let now = facts.stage();
    if now != stage {
        return Err(RegistrationError::WrongState(now.code()));
    }
    Ok(())
}

/// §5 ¶3: may `actor` give (or refuse) the office supervisor's consent now?
pub fn check_consent(
    facts: &Form3Facts,
    actor: PersonId,
    roster: &Roster,
) -> Result<Signer, RegistrationError> {
    if actor == facts.applicant {
        return Err(RegistrationError::ApproverIsParty);
    }
    need_stage(facts, Stage::AwaitingConsent)?;
    match facts.applicant_supervisor(roster) {
        Some(s) if s.person == actor => Ok(s),
        Some(_) => Err(RegistrationError::NotTheSupervisor),
        None => Err(RegistrationError::NoSupervisor),
    }
}

/// §5 ¶3: the responsible unit reviews only a consented request, and its opinion is required
/// whether it accepts or refuses.
pub fn check_review(facts: &Form3Facts, opinion: &str) -> Result<(), RegistrationError> {
    need_stage(facts, Stage::AwaitingReview)?;
    if opinion.trim().is_empty() {
        return Err(RegistrationError::CommentRequired);
    }
    Ok(())
}

/// §5 ¶3: may `actor` sign the request now, and as what? The assigned querier signs as
/// querier; the using unit's supervisor (or their deputy, 代理) as supervisor; each once.
pub fn check_sign(
    facts: &Form3Facts,
    actor: PersonId,
    roster: &Roster,
) -> Result<(SignOff, Signer), RegistrationError> {
    need_stage(facts, Stage::InProgress)?;
    let which = if facts.assigned_querier == Some(actor) {
        (
            SignOff::Querier,
            Signer {
                person: actor,
                acting: false,
                acting_for: None,
            },
        )
    } else {
        match facts.using_unit_supervisor(roster) {
            Some(s) if s.person == actor => (SignOff::UsingUnitSupervisor, s),
            _ => return Err(RegistrationError::NotAllowed),
        }
    };
    if facts.signed_by(which.0).is_some() {
        return Err(RegistrationError::AlreadySigned);
    }
    Ok(which)
}

/// How far one subject's query got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectProgress {
    /// Every item of its registration has run.
    Run,
    /// Closed without a query, with a reason.
    Closed,
    /// Neither yet.
    Open,
}

/// §5 ¶3: a subject is closed without a query — by the assigned querier or a reviewer of the
/// responsible unit, while the request is in progress, only if it has neither run nor been
/// closed, and with a reason (at least 4 characters).
pub fn check_close_subject(
    facts: &Form3Facts,
    progress: SubjectProgress,
    reason: &str,
) -> Result<(), RegistrationError> {
    need_stage(facts, Stage::InProgress)?;
    if progress != SubjectProgress::Open {
        return Err(RegistrationError::SubjectNotOpen);
    }
    if reason.trim().chars().count() < 4 {
        return Err(RegistrationError::CloseReasonRequired);
    }
    Ok(())
}

/// §5 ¶3: delivery (登錄送達) is refused until every subject's query has run or been closed,
/// and until the querier and the using unit's supervisor have signed; it then closes the
/// request.
pub fn check_delivery(
    facts: &Form3Facts,
    subjects: &[SubjectProgress],
) -> Result<(), RegistrationError> {
    need_stage(facts, Stage::InProgress)?;
    let open = subjects
        .iter()
        .filter(|s| **s == SubjectProgress::Open)
        .count();
    if open > 0 {
        return Err(RegistrationError::SubjectsOpen(open));
    }
    if facts.signed_by(SignOff::Querier).is_none()
        || facts.signed_by(SignOff::UsingUnitSupervisor).is_none()
    {
        return Err(RegistrationError::SignaturesMissing);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::testing::{person as p, unit};

    // District office: applicant 1, its supervisor 2. Elderly welfare: querier 3, supervisor
    // 4, deputy 5. The director 10.
    fn roster() -> Roster {
        let parents: BTreeMap<UnitId, Option<UnitId>> = [
            (unit("district-yancheng"), None),
            (unit("elderly-welfare"), None),
        ]
        .into();
        Roster {
            parents,
            supervisors: [
                (unit("district-yancheng"), p(2)),
                (unit("elderly-welfare"), p(4)),
            ]
            .into(),
            unit_deputies: [(unit("elderly-welfare"), p(5))].into(),
            director: Some(p(10)),
            ..Roster::default()
        }
    }

    fn facts() -> Form3Facts {
        Form3Facts {
            applicant: p(1),
            requesting_unit: unit("district-yancheng"),
            responsible_unit: unit("elderly-welfare"),
            review: Review::Pending,
            assigned_querier: None,
            signed: vec![],
            delivered: false,
        }
    }

    fn code<T>(r: Result<T, RegistrationError>) -> Result<(), &'static str> {
        r.map(|_| ()).map_err(|e| e.code())
    }

    #[test]
    fn the_office_supervisor_consents_before_the_bureau_reviews() {
        let mut f = facts();
        let r = roster();
        assert_eq!(f.stage(), Stage::AwaitingConsent);
        assert_eq!(
            code(check_review(&f, "受理")),
            Err("registration.wrong_state")
        );
        assert_eq!(
            code(check_consent(&f, p(1), &r)),
            Err("approval.separation_of_duties")
        );
        assert_eq!(
            code(check_consent(&f, p(4), &r)),
            Err("approval.not_supervisor")
        );
        assert_eq!(check_consent(&f, p(2), &r).map(|s| s.person), Ok(p(2)));
        // The office's supervisor absent and no one above in the office: nobody — never the
        // bureau's director.
        let mut absent = r.clone();
        absent.inactive.insert(p(2));
        assert_eq!(
            code(check_consent(&f, p(10), &absent)),
            Err("registration.no_supervisor")
        );
        f.signed.push((SignOff::ApplicantSupervisor, p(2)));
        assert_eq!(f.stage(), Stage::AwaitingReview);
        assert_eq!(
            code(check_consent(&f, p(2), &r)),
            Err("registration.wrong_state")
        );
        // The review needs its opinion, accepting or refusing.
        assert_eq!(
            code(check_review(&f, "  ")),
            Err("approval.comment_required")
        );
        assert_eq!(code(check_review(&f, "符合規定，受理")), Ok(()));
    }

    #[test]
    fn the_querier_and_the_using_units_supervisor_sign_and_delivery_waits_for_every_subject() {
        let mut f = facts();
        let r = roster();
        f.signed.push((SignOff::ApplicantSupervisor, p(2)));
        f.review = Review::Accepted;
        f.assigned_querier = Some(p(3));
        assert_eq!(f.stage(), Stage::InProgress);
        assert_eq!(
            code(check_sign(&f, p(1), &r)),
            Err("registration.not_allowed")
        );
        assert_eq!(
            code(check_sign(&f, p(5), &r)),
            Err("registration.not_allowed"),
            "the deputy only while the supervisor is absent"
        );
        assert_eq!(check_sign(&f, p(3), &r).map(|x| x.0), Ok(SignOff::Querier));
        assert_eq!(
            check_sign(&f, p(4), &r).map(|x| x.0),
            Ok(SignOff::UsingUnitSupervisor)
        );
        let mut absent = r.clone();
        absent.inactive.insert(p(4));
        assert_eq!(
            check_sign(&f, p(5), &absent).map(|(w, s)| (w, s.acting)),
            Ok((SignOff::UsingUnitSupervisor, true))
        );
        use SubjectProgress::*;
        assert_eq!(
            code(check_delivery(&f, &[Run, Open])),
            Err("request.subjects_open")
        );
        assert_eq!(
            code(check_delivery(&f, &[Run, Closed])),
            Err("request.signatures_missing")
        );
        f.signed.push((SignOff::Querier, p(3)));
        assert_eq!(
            code(check_sign(&f, p(3), &r)),
            Err("request.already_signed")
        );
        f.signed.push((SignOff::UsingUnitSupervisor, p(4)));
        assert_eq!(code(check_delivery(&f, &[Run, Closed])), Ok(()));
        // Closing a subject: only an open one, with a reason.
        assert_eq!(
            code(check_close_subject(&f, Run, "已查調")),
            Err("request.subject_not_open")
        );
        assert_eq!(
            code(check_close_subject(&f, Open, "無")),
            Err("request.close_reason")
        );
        assert_eq!(
            code(check_close_subject(&f, Open, "當事人已死亡，免查")),
            Ok(())
        );
        f.delivered = true;
        assert_eq!(f.stage(), Stage::Closed);
        assert_eq!(
            code(check_delivery(&f, &[Run, Closed])),
            Err("registration.wrong_state")
        );
    }

    #[test]
    fn the_page_names_whom_each_sign_off_waits_for_and_a_deputy_as_acting() {
        let r = roster();
        let who = |f: &Form3Facts, r: &Roster| {
            f.awaited_sign_offs(r)
                .into_iter()
                .map(|(w, s)| (w, s.person.get(), s.acting))
                .collect::<Vec<_>>()
        };
        let mut f = facts();
        // Before review: the office's supervisor, never the applicant.
        assert_eq!(who(&f, &r), [(SignOff::ApplicantSupervisor, 2, false)]);
        f.signed.push((SignOff::ApplicantSupervisor, p(2)));
        // Under review: nobody signs.
        assert_eq!(who(&f, &r), []);
        f.review = Review::Accepted;
        f.assigned_querier = Some(p(3));
        assert_eq!(
            who(&f, &r),
            [
                (SignOff::Querier, 3, false),
                (SignOff::UsingUnitSupervisor, 4, false)
            ]
        );
        // The using unit's supervisor absent: their deputy, as 代理.
        let mut absent = r.clone();
        absent.inactive.insert(p(4));
        assert_eq!(
            who(&f, &absent),
            [
                (SignOff::Querier, 3, false),
                (SignOff::UsingUnitSupervisor, 5, true)
            ]
        );
        // A sign-off given is no longer awaited.
        f.signed.push((SignOff::Querier, p(3)));
        assert_eq!(who(&f, &r), [(SignOff::UsingUnitSupervisor, 4, false)]);
    }
}
