//! Personnel changes (人事異動) and what they do to query rights (§2).
//!
//! Owns [`StaffChange`] (a status/unit change with its effective date, from HR: CSV or SCIM)
//! and [`effects_of`], which turns it into the list of [`PersonnelEffect`]s the application
//! layer carries out in one transaction. Pure: nothing is applied here.
//!
//! §2: a job change or leaving must be applied for before it happens, so a transfer or leave
//! suspends every grant from its effective date until a new application is approved; leaving
//! ends them, removes the certificate binding and disables the account (never deletes it).

use serde::{Deserialize, Serialize};

use super::PermissionRefusal;
use super::grant::{GrantId, PermissionGrant, SuspensionCause};
use crate::org::{PersonId, StaffStatus, UnitId};
use crate::roc_date::RocDate;

/// One change of a person's employment, effective on a date (which may be in the future: the
/// system shows supervisors their staff's upcoming changes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffChange {
    pub person: PersonId,
    pub from_status: StaffStatus,
    pub to_status: StaffStatus,
    pub from_unit: UnitId,
    pub to_unit: UnitId,
    /// First day of the new status.
    pub effective: RocDate,
}

crate::code_enum! {
    /// What kind of change this is, once classified.
    #[derive(Copy, Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ChangeKind {
        /// To another unit or job (職務異動), including "active" in a different unit.
        Transfer = "transfer";
        /// 留職停薪或長期請假.
        Leave = "leave";
        /// Back to active in the same unit after a leave or transfer; grants stay suspended.
        Return = "return";
        /// 離職.
        Departure = "departure";
    }
}

/// One thing to do because of a personnel change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum PersonnelEffect {
    /// Update the staff record (status and unit) — on the effective date.
    UpdateStaffRecord { status: StaffStatus, unit: UnitId },
    /// Suspend these grants from `from`.
    SuspendGrants {
        grants: Vec<GrantId>,
        from: RocDate,
        cause: SuspensionCause,
    },
    /// End these grants on `on` (exclusive end date).
    EndGrants { grants: Vec<GrantId>, on: RocDate },
    /// §5: open query registrations of the person are cancelled from `from`.
    CancelOpenRegistrations { from: RocDate },
    /// Tell the permission administrator (§2, §7).
    NotifyAdministrator,
    /// Tell the supervisor of this (the old) unit.
    NotifySupervisor { unit: UnitId },
    /// §2: rights come back only through a new Form 1 (職務異動 or 新增權限).
    RequireNewApplication,
    /// §3: the card no longer opens this account.
    RemoveCertificateBinding,
    /// The account is disabled (never deleted: history stays).
    DisableAccount,
}

impl PersonnelEffect {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UpdateStaffRecord { .. } => "update_staff_record",
            Self::SuspendGrants { .. } => "suspend_grants",
            Self::EndGrants { .. } => "end_grants",
            Self::CancelOpenRegistrations { .. } => "cancel_open_registrations",
            Self::NotifyAdministrator => "notify_administrator",
            Self::NotifySupervisor { .. } => "notify_supervisor",
            Self::RequireNewApplication => "require_new_application",
            Self::RemoveCertificateBinding => "remove_certificate_binding",
            Self::DisableAccount => "disable_account",
        }
    }
}

/// Classifies a change. `Left` is final (a rehire is a new record set up by the
/// administrator); a change of nothing is [`PermissionRefusal::NoChange`] (an import skips it).
pub fn classify(change: &StaffChange) -> Result<ChangeKind, PermissionRefusal> {
    use StaffStatus::*;
    let moved = change.from_unit != change.to_unit;
    match (change.from_status, change.to_status) {
        (Left, Left) => Err(PermissionRefusal::NoChange),
        (Left, to) => Err(PermissionRefusal::InvalidTransition {
            from: Left.name_zh(),
            to: to.name_zh(),
        }),
        (_, Left) => Ok(ChangeKind::Departure),
        (from, to) if from == to && !moved => Err(PermissionRefusal::NoChange),
        (_, Transferred) => Ok(ChangeKind::Transfer),
        (_, OnLeave) => Ok(ChangeKind::Leave),
        (_, Active) if moved => Ok(ChangeKind::Transfer),
        (_, Active) => Ok(ChangeKind::Return),
    }
}

/// The effects of `change` on a person whose grants are `grants` (that person's).
pub fn effects_of(
    change: &StaffChange,
    grants: &[PermissionGrant],
) -> Result<Vec<PersonnelEffect>, PermissionRefusal> {
    let kind = classify(change)?;
    let mut out = vec![PersonnelEffect::UpdateStaffRecord {
        status: change.to_status,
        unit: change.to_unit.clone(),
    }];
    let current: Vec<&PermissionGrant> = grants
        .iter()
        .filter(|g| g.person == change.person && g.is_current())
        .collect();
    match kind {
        ChangeKind::Departure => {
            let ending: Vec<GrantId> = current.iter().map(|g| g.id).collect();
            if !ending.is_empty() {
                out.push(PersonnelEffect::EndGrants {
                    grants: ending,
                    on: change.effective,
                });
            }
            out.push(PersonnelEffect::CancelOpenRegistrations {
                from: change.effective,
            });
            out.push(PersonnelEffect::RemoveCertificateBinding);
            out.push(PersonnelEffect::DisableAccount);
            out.push(PersonnelEffect::NotifyAdministrator);
            out.push(PersonnelEffect::NotifySupervisor {
                unit: change.from_unit.clone(),
            });
        }
        ChangeKind::Transfer | ChangeKind::Leave => {
            let cause = if kind == ChangeKind::Leave {
                SuspensionCause::OnLeave
            } else {
                SuspensionCause::Transferred
            };
            // Grants already suspended earlier stay as they are.
            let suspending: Vec<GrantId> = current
                .iter()
                .filter(|g| g.suspended_from.is_none_or(|s| s > change.effective))
                .map(|g| g.id)
                .collect();
            if !suspending.is_empty() {
                out.push(PersonnelEffect::SuspendGrants {
                    grants: suspending,
                    from: change.effective,
                    cause,
                });
            }
            out.push(PersonnelEffect::CancelOpenRegistrations {
                from: change.effective,
            });
            out.push(PersonnelEffect::NotifyAdministrator);
            out.push(PersonnelEffect::NotifySupervisor {
                unit: change.from_unit.clone(),
            });
            out.push(PersonnelEffect::RequireNewApplication);
        }
        ChangeKind::Return => {
            out.push(PersonnelEffect::NotifyAdministrator);
            out.push(PersonnelEffect::RequireNewApplication);
        }
    }
    Ok(out)
}

/// §2 ¶2: a transfer or departure announced for a later day must be applied for **before**
/// it happens, so the person is asked to file the Form 1 that fits — 職務異動 for a transfer,
/// 註銷權限 for leaving — before `change.effective`. Nothing for a change already in effect,
/// a leave or a return (those need no Form 1 of their own before the date).
pub fn form1_due_before(
    change: &StaffChange,
    today: RocDate,
) -> Option<(super::ApplicationKind, RocDate)> {
    if change.effective <= today {
        return None;
    }
    match classify(change).ok()? {
        ChangeKind::Transfer => Some((super::ApplicationKind::JobChange, change.effective)),
        ChangeKind::Departure => Some((super::ApplicationKind::Revoke, change.effective)),
        ChangeKind::Leave | ChangeKind::Return => None,
    }
}

/// Longest staff name HR may send (a Chinese name is 2–4 characters; a foreign resident's
/// romanised name is longer, but never this long).
pub const MAX_STAFF_NAME_CHARS: usize = 50;
/// Longest job title (職稱).
pub const MAX_STAFF_TITLE_CHARS: usize = 50;

/// Why a staff name or title from HR is refused, if it is: too long, or carrying a control
/// character (a NUL or a line break would end up on Form 1 and in every list).
pub fn staff_text_problem(value: &str, max_chars: usize) -> Option<StaffTextProblem> {
    if value.chars().count() > max_chars {
        return Some(StaffTextProblem::TooLong(max_chars));
    }
    if value.chars().any(char::is_control) {
        return Some(StaffTextProblem::ControlCharacter);
    }
    None
}

/// See [`staff_text_problem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffTextProblem {
    TooLong(usize),
    ControlCharacter,
}

impl StaffTextProblem {
    pub fn message_zh(self) -> String {
        match self {
            Self::TooLong(n) => format!("超過 {n} 字"),
            Self::ControlCharacter => "含有控制字元".into(),
        }
    }

    pub fn message_en(self) -> String {
        match self {
            Self::TooLong(n) => format!("is longer than {n} characters"),
            Self::ControlCharacter => "contains a control character".into(),
        }
    }
}

#[cfg(test)]
mod staff_text_tests {
    use super::*;

    #[test]
    fn a_scheduled_transfer_or_departure_asks_for_the_form_1_before_the_date() {
        use super::super::ApplicationKind;
        let day = |m, d| RocDate::new(115, m, d).unwrap();
        let unit = |s: &str| UnitId::new(s).unwrap();
        let change = |to_status, to_unit: &str, effective| StaffChange {
            person: PersonId::new(1),
            from_status: StaffStatus::Active,
            to_status,
            from_unit: unit("social-assistance"),
            to_unit: unit(to_unit),
            effective,
        };
        let today = day(3, 5);
        let cases = [
            (
                StaffStatus::Active,
                "elderly-welfare",
                day(3, 20),
                Some((ApplicationKind::JobChange, day(3, 20))),
            ),
            (
                StaffStatus::Transferred,
                "social-assistance",
                day(3, 6),
                Some((ApplicationKind::JobChange, day(3, 6))),
            ),
            (
                StaffStatus::Left,
                "social-assistance",
                day(4, 1),
                Some((ApplicationKind::Revoke, day(4, 1))),
            ),
            // Already in effect: too late to file before it.
            (StaffStatus::Left, "social-assistance", day(3, 5), None),
            (StaffStatus::Active, "elderly-welfare", day(3, 1), None),
            // A leave needs no Form 1 of its own.
            (StaffStatus::OnLeave, "social-assistance", day(3, 20), None),
        ];
        for (to, to_unit, eff, expected) in cases {
            assert_eq!(
                form1_due_before(&change(to, to_unit, eff), today),
                expected,
                "{to:?} {to_unit} {eff:?}"
            );
        }
    }

    #[test]
    fn staff_names_and_titles_have_a_length_limit_and_no_control_characters() {
        assert_eq!(staff_text_problem("林美玲", MAX_STAFF_NAME_CHARS), None);
        assert_eq!(
            staff_text_problem(&"林".repeat(51), MAX_STAFF_NAME_CHARS),
            Some(StaffTextProblem::TooLong(50))
        );
        assert_eq!(
            staff_text_problem("林\0美玲", MAX_STAFF_NAME_CHARS),
            Some(StaffTextProblem::ControlCharacter)
        );
    }
}
