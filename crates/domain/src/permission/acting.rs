//! Who signs in a unit supervisor's place (代理): the one walk up the units that Form 1's
//! supervisor step (§2) and Form 2's approval (§5 ¶1) share.
//!
//! Owns [`DeputyTerm`] (a 代理人 registered for a period, or standing when the period is
//! open), [`Signer`] (a person who may sign for a unit's supervisor, and whether they act as
//! 代理), [`Roster::supervisor_signers`] (the candidates in order) and
//! [`Roster::acting_supervisor`] (the first who can act now). Pure: the day a deputy term is
//! in force on comes in as an argument.
//!
//! Security-sensitive: this decides who may approve a query. The rule, per unit from the
//! party's own unit upwards:
//!
//! 1. If the unit's supervisor is a party (the one who needs the data, the querier or the
//!    applicant), neither they nor their deputy — their own subordinate — signs: go up.
//! 2. Otherwise the supervisor signs, unless their absence is registered (not in service, or
//!    the account disabled); then the unit's deputy in force signs, as 代理.
//! 3. With neither available, the parent unit; at the top, the director (局長).
//!
//! Never the person themself: a party is never a candidate.

use std::collections::BTreeSet;

use super::Roster;
use crate::org::{PersonId, UnitId};
use crate::roc_date::RocDate;

/// A 代理人 registered for a unit's supervisor. An open end (`None`) means from always or
/// until further notice; the units CSV registers standing deputies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeputyTerm {
    pub person: PersonId,
    pub from: Option<RocDate>,
    pub until: Option<RocDate>,
}

impl DeputyTerm {
    /// Whether the term covers `on` (both ends inclusive).
    pub fn in_force(&self, on: RocDate) -> bool {
        self.from.is_none_or(|f| f <= on) && self.until.is_none_or(|u| on <= u)
    }
}

/// Why a deputy term cannot be registered. The message never names the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeputyTermError {
    #[error("代理期間的結束日不得早於開始日")]
    PeriodReversed,
    #[error("代理期間已結束")]
    PeriodOver,
    #[error("代理人不得為單位主管本人")]
    SupervisorThemself,
    #[error("代理人須為在職且屬於同一單位的人員")]
    NotInUnit,
    #[error("只有該單位主管或權限管理者可以登記代理人")]
    NotAllowed,
}

impl DeputyTermError {
    /// Stable code for machines.
    pub fn code(self) -> &'static str {
        match self {
            Self::PeriodReversed => "acting.period_reversed",
            Self::PeriodOver => "acting.period_over",
            Self::SupervisorThemself => "acting.supervisor_themself",
            Self::NotInUnit => "acting.not_in_unit",
            Self::NotAllowed => "acting.not_allowed",
        }
    }

    /// English message, for the English UI.
    pub fn message_en(self) -> &'static str {
        match self {
            Self::PeriodReversed => "the acting period ends before it starts",
            Self::PeriodOver => "the acting period is already over",
            Self::SupervisorThemself => "the deputy cannot be the supervisor themself",
            Self::NotInUnit => "the deputy must be in service in the same unit",
            Self::NotAllowed => {
                "only the unit's supervisor or the permission administrator registers a deputy"
            }
        }
    }
}

/// §5 ¶1: checks a deputy term before it is registered: a real period that has not ended by
/// `today`, a deputy who is not the supervisor and works, in service, in the unit.
pub fn check_deputy_term(
    term: &DeputyTerm,
    supervisor: Option<PersonId>,
    deputy_unit: &UnitId,
    deputy_in_service: bool,
    unit: &UnitId,
    today: RocDate,
) -> Result<(), DeputyTermError> {
    if let (Some(f), Some(u)) = (term.from, term.until)
        && u < f
    {
        return Err(DeputyTermError::PeriodReversed);
    }
    if term.until.is_some_and(|u| u < today) {
        return Err(DeputyTermError::PeriodOver);
    }
    if supervisor == Some(term.person) {
        return Err(DeputyTermError::SupervisorThemself);
    }
    if deputy_unit != unit || !deputy_in_service {
        return Err(DeputyTermError::NotInUnit);
    }
    Ok(())
}

/// Someone who may sign for a unit's supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signer {
    pub person: PersonId,
    /// Signs as 代理 (the unit's deputy, in the supervisor's place).
    pub acting: bool,
    /// The supervisor acted for, when the unit has one.
    pub acting_for: Option<PersonId>,
}

impl Roster {
    /// The candidates to sign for `unit`'s supervisor, in order (see the module doc), never a
    /// party and without repeats. Absence is not applied here: callers skip the absent (and,
    /// for Form 1, whoever already signed) with [`Roster::inactive`].
    pub fn supervisor_signers(
        &self,
        unit: &UnitId,
        is_party: impl Fn(PersonId) -> bool,
    ) -> Vec<Signer> {
        let mut out: Vec<Signer> = Vec::new();
        let mut push = |s: Signer| {
            if !is_party(s.person) && !out.iter().any(|o| o.person == s.person) {
                out.push(s);
            }
        };
        let mut seen = BTreeSet::new();
        let mut cur = Some(unit.clone());
        while let Some(u) = cur {
            if !seen.insert(u.clone()) {
                break; // a cycle in bad data must not loop forever
            }
            let supervisor = self.supervisors.get(&u).copied();
            // Rule 1: a supervisor who is a party passes the unit's signature upwards.
            if !supervisor.is_some_and(&is_party) {
                if let Some(s) = supervisor {
                    push(Signer {
                        person: s,
                        acting: false,
                        acting_for: None,
                    });
                }
                if let Some(d) = self.unit_deputies.get(&u) {
                    push(Signer {
                        person: *d,
                        acting: true,
                        acting_for: supervisor,
                    });
                }
            }
            cur = self.parents.get(&u).cloned().flatten();
        }
        if let Some(d) = self.director {
            push(Signer {
                person: d,
                acting: false,
                acting_for: None,
            });
        }
        out
    }

    /// §5 ¶1: the first of [`Roster::supervisor_signers`] who can act now, skipping the
    /// absent. A deputy appears only after their own supervisor, so they sign only while the
    /// supervisor is absent.
    pub fn acting_supervisor(
        &self,
        unit: &UnitId,
        is_party: impl Fn(PersonId) -> bool,
    ) -> Option<Signer> {
        self.supervisor_signers(unit, is_party)
            .into_iter()
            .find(|s| !self.inactive.contains(&s.person))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::testing::{person as p, unit};

    // 社會救助科 (sup 1, deputy 2, staff 3) under 局本部 (sup 9); 局長 10.
    fn roster() -> Roster {
        let mut parents = BTreeMap::new();
        parents.insert(unit("social-assistance"), Some(unit("bureau")));
        parents.insert(unit("bureau"), None);
        parents.insert(unit("elderly-welfare"), None);
        Roster {
            parents,
            supervisors: [(unit("social-assistance"), p(1)), (unit("bureau"), p(9))].into(),
            director: Some(p(10)),
            unit_deputies: [(unit("social-assistance"), p(2))].into(),
            ..Roster::default()
        }
    }

    fn signer(person: i64, acting_for: Option<i64>) -> Signer {
        Signer {
            person: p(person),
            acting: acting_for.is_some(),
            acting_for: acting_for.map(p),
        }
    }

    #[test]
    fn the_supervisor_the_deputy_the_parent_and_the_director_sign_in_that_order() {
        struct Case {
            what: &'static str,
            unit: &'static str,
            parties: &'static [i64],
            absent: &'static [i64],
            deputy: bool,
            expect: Option<Signer>,
        }
        let cases = [
            Case {
                what: "the supervisor, present, signs",
                unit: "social-assistance",
                parties: &[3],
                absent: &[],
                deputy: true,
                expect: Some(signer(1, None)),
            },
            Case {
                what: "the supervisor absent: the deputy signs as 代理",
                unit: "social-assistance",
                parties: &[3],
                absent: &[1],
                deputy: true,
                expect: Some(signer(2, Some(1))),
            },
            Case {
                what: "supervisor absent, no deputy in force: the parent unit's supervisor",
                unit: "social-assistance",
                parties: &[3],
                absent: &[1],
                deputy: false,
                expect: Some(signer(9, None)),
            },
            Case {
                what: "supervisor and deputy both absent: the parent unit's supervisor",
                unit: "social-assistance",
                parties: &[3],
                absent: &[1, 2],
                deputy: true,
                expect: Some(signer(9, None)),
            },
            Case {
                what: "the supervisor needs the data: the parent, never their own deputy",
                unit: "social-assistance",
                parties: &[1, 3],
                absent: &[],
                deputy: true,
                expect: Some(signer(9, None)),
            },
            Case {
                what: "the deputy is a party: the supervisor still signs",
                unit: "social-assistance",
                parties: &[2],
                absent: &[],
                deputy: true,
                expect: Some(signer(1, None)),
            },
            Case {
                what: "the deputy is a party and the supervisor absent: the parent",
                unit: "social-assistance",
                parties: &[2],
                absent: &[1],
                deputy: true,
                expect: Some(signer(9, None)),
            },
            Case {
                what: "everyone above absent: the director",
                unit: "social-assistance",
                parties: &[3],
                absent: &[1, 2, 9],
                deputy: true,
                expect: Some(signer(10, None)),
            },
            Case {
                what: "a unit with no supervisor at the top: the director",
                unit: "elderly-welfare",
                parties: &[3],
                absent: &[],
                deputy: true,
                expect: Some(signer(10, None)),
            },
            Case {
                what: "nobody left: no signer",
                unit: "elderly-welfare",
                parties: &[3],
                absent: &[10],
                deputy: true,
                expect: None,
            },
            Case {
                what: "the director needs the data: never the director",
                unit: "elderly-welfare",
                parties: &[10],
                absent: &[],
                deputy: true,
                expect: None,
            },
        ];
        for c in cases {
            let mut r = roster();
            r.inactive = c.absent.iter().map(|n| p(*n)).collect();
            if !c.deputy {
                r.unit_deputies.clear();
            }
            let parties: BTreeSet<PersonId> = c.parties.iter().map(|n| p(*n)).collect();
            let got = r.acting_supervisor(&unit(c.unit), |x| parties.contains(&x));
            assert_eq!(got, c.expect, "{}", c.what);
            if let Some(s) = got {
                assert!(!parties.contains(&s.person), "{}: a party signs", c.what);
            }
        }
    }

    #[test]
    fn a_deputy_term_is_in_force_only_within_its_period() {
        let d = |y, m, dd| RocDate::new(y, m, dd).unwrap();
        let term = DeputyTerm {
            person: p(2),
            from: Some(d(115, 3, 1)),
            until: Some(d(115, 3, 10)),
        };
        assert!(!term.in_force(d(115, 2, 28)));
        assert!(term.in_force(d(115, 3, 1)));
        assert!(term.in_force(d(115, 3, 10)));
        assert!(!term.in_force(d(115, 3, 11)));
        let standing = DeputyTerm {
            person: p(2),
            from: None,
            until: None,
        };
        assert!(standing.in_force(d(100, 1, 1)));
    }

    #[test]
    fn a_deputy_term_must_be_a_real_period_for_a_colleague_of_the_unit() {
        let d = |y, m, dd| RocDate::new(y, m, dd).unwrap();
        let today = d(115, 3, 5);
        let sa = unit("social-assistance");
        let term = |from, until| DeputyTerm {
            person: p(2),
            from: Some(from),
            until: Some(until),
        };
        let ok = term(d(115, 3, 5), d(115, 3, 9));
        assert_eq!(
            check_deputy_term(&ok, Some(p(1)), &sa, true, &sa, today),
            Ok(())
        );
        let cases = [
            (
                term(d(115, 3, 9), d(115, 3, 5)),
                Some(p(1)),
                &sa,
                true,
                "acting.period_reversed",
            ),
            (
                term(d(115, 3, 1), d(115, 3, 4)),
                Some(p(1)),
                &sa,
                true,
                "acting.period_over",
            ),
            (ok, Some(p(2)), &sa, true, "acting.supervisor_themself"),
            (ok, Some(p(1)), &unit("bureau"), true, "acting.not_in_unit"),
            (ok, Some(p(1)), &sa, false, "acting.not_in_unit"),
        ];
        for (t, sup, deputy_unit, in_service, code) in cases {
            assert_eq!(
                check_deputy_term(&t, sup, deputy_unit, in_service, &sa, today)
                    .map_err(|e| e.code()),
                Err(code)
            );
        }
    }
}
