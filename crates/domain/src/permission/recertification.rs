//! Periodic recertification (定期複核) of grants, idle-account disabling, and step reminders.
//!
//! Beyond the rules (as midPoint and Teleport Access Lists do): every quarter each supervisor
//! confirms, person by person and item by item, that each active grant is still needed, seeing
//! how often it was used; grants not confirmed by the deadline are suspended; items unused for
//! six months are proposed for removal. §9 / 資通系統防護基準 1-1-3: accounts unused for N days
//! (default 90) are disabled until the administrator re-enables them.
//!
//! Owns [`Quarter`], [`RecertificationRound`], [`RecertificationItem`], [`RecertificationPolicy`]
//! and the pure decisions on them. Usage counts and dates come in as arguments.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Span;
use serde::{Deserialize, Serialize};

use super::PermissionRefusal;
use super::grant::{GrantId, PermissionGrant};
use crate::catalogue::ServiceItemCode;
use crate::deadline::{HolidayCalendar, add_working_days};
use crate::org::PersonId;
use crate::roc_date::RocDate;

/// The numbers of recertification and account hygiene.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecertificationPolicy {
    /// Items not used for this many months are proposed for removal (default 6).
    pub unused_months: i32,
    /// Accounts not used for this many days are disabled (default 90).
    pub idle_account_days: i32,
    /// Working days a supervisor has to answer a round (default 10).
    pub response_working_days: i32,
}

impl Default for RecertificationPolicy {
    fn default() -> Self {
        Self {
            unused_months: 6,
            idle_account_days: 90,
            response_working_days: 10,
        }
    }
}

/// A calendar quarter (季), e.g. 2026 Q1 = 民國 115 年第 1 季.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Quarter {
    year: i16,
    q: i8,
}

/// Why a text is not a quarter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("季別應寫成 2026-Q1 的形式")]
pub struct QuarterError;

impl Quarter {
    /// The quarter `date` falls in.
    pub fn of(date: RocDate) -> Quarter {
        let d = date.civil();
        Quarter {
            year: d.year(),
            q: (d.month() - 1) / 3 + 1,
        }
    }

    /// `2026-Q1`.
    pub fn parse(s: &str) -> Result<Quarter, QuarterError> {
        let (y, q) = s.trim().split_once("-Q").ok_or(QuarterError)?;
        let year: i16 = y.parse().map_err(|_| QuarterError)?;
        let q: i8 = q.parse().map_err(|_| QuarterError)?;
        if !(1912..=9999).contains(&year) || !(1..=4).contains(&q) {
            return Err(QuarterError);
        }
        Ok(Quarter { year, q })
    }

    /// `115 年第 1 季`.
    pub fn name_zh(self) -> String {
        format!("{} 年第 {} 季", self.year - 1911, self.q)
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.q)
    }
}

crate::declare::storage_id!(
    /// A recertification round's storage id.
    RoundId
);

/// One supervisor's round for one quarter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecertificationRound {
    pub id: RoundId,
    pub supervisor: PersonId,
    pub quarter: Quarter,
    pub opened_on: RocDate,
    /// Last day to confirm.
    pub deadline: RocDate,
    pub closed_on: Option<RocDate>,
}

crate::code_enum! {
    /// The supervisor's answer for one grant.
    #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RecertificationDecision {
        /// 仍需使用: keep.
        Confirmed = "confirmed";
        /// 不再需要: suspended when the round closes.
        NotNeeded = "not_needed";
    }
}

/// How much a grant was used: count over the last quarter and the last use ever seen.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub struct GrantUsage {
    pub uses_last_quarter: u32,
    pub last_used: Option<RocDate>,
}

/// One line of a round: a grant, its use, the proposal, and the supervisor's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecertificationItem {
    pub grant: GrantId,
    pub person: PersonId,
    pub item: ServiceItemCode,
    pub uses_last_quarter: u32,
    pub last_used: Option<RocDate>,
    /// Unused for [`RecertificationPolicy::unused_months`]: proposed for removal.
    pub propose_removal: bool,
    pub decision: Option<RecertificationDecision>,
}

fn months_before(date: RocDate, months: i32) -> RocDate {
    date.civil()
        .checked_sub(Span::new().months(i64::from(months.max(0))))
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(RocDate::MIN)
}

fn days_before(date: RocDate, days: i32) -> RocDate {
    date.civil()
        .checked_sub(Span::new().days(i64::from(days.max(0))))
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(RocDate::MIN)
}

/// Unused for `months`: last used on or before the cutoff, or never used by a grant that has
/// been in force since the cutoff. A grant younger than that is never proposed.
pub fn propose_removal(
    effective_from: RocDate,
    last_used: Option<RocDate>,
    today: RocDate,
    months: i32,
) -> bool {
    let cutoff = months_before(today, months);
    match last_used {
        Some(d) => d <= cutoff,
        None => effective_from <= cutoff,
    }
}

/// The lines of a new round: every grant of the supervisor's staff in force today (pass only
/// those people's grants), with usage from `usage` (missing = never used).
pub fn items_for_round(
    grants: &[PermissionGrant],
    usage: &BTreeMap<GrantId, GrantUsage>,
    today: RocDate,
    policy: &RecertificationPolicy,
) -> Vec<RecertificationItem> {
    grants
        .iter()
        .filter(|g| g.in_force_on(today))
        .map(|g| {
            let u = usage.get(&g.id).copied().unwrap_or_default();
            RecertificationItem {
                grant: g.id,
                person: g.person,
                item: g.item.clone(),
                uses_last_quarter: u.uses_last_quarter,
                last_used: u.last_used,
                propose_removal: propose_removal(
                    g.effective_from,
                    u.last_used,
                    today,
                    policy.unused_months,
                ),
                decision: None,
            }
        })
        .collect()
}

/// Opens a round: one per supervisor per quarter; the deadline is `response_working_days`
/// working days after opening.
pub fn round_deadline(
    opened_on: RocDate,
    policy: &RecertificationPolicy,
    calendar: &HolidayCalendar,
) -> RocDate {
    RocDate::from_civil(add_working_days(
        opened_on.civil(),
        policy.response_working_days,
        calendar,
    ))
    .unwrap_or(opened_on)
}

/// May `supervisor` record a decision on `grant` in `round` now?
pub fn check_decision(
    round: &RecertificationRound,
    items: &[RecertificationItem],
    supervisor: PersonId,
    grant: GrantId,
) -> Result<(), PermissionRefusal> {
    if round.closed_on.is_some() {
        return Err(PermissionRefusal::RoundClosed);
    }
    if round.supervisor != supervisor {
        return Err(PermissionRefusal::NotRoundOwner);
    }
    if !items.iter().any(|i| i.grant == grant) {
        return Err(PermissionRefusal::NotInRound);
    }
    Ok(())
}

/// Closing a round: allowed once the deadline has passed, or earlier when every line has an
/// answer. Returns the grants to suspend: every line not confirmed.
pub fn close_round(
    round: &RecertificationRound,
    items: &[RecertificationItem],
    today: RocDate,
) -> Result<Vec<GrantId>, PermissionRefusal> {
    if round.closed_on.is_some() {
        return Err(PermissionRefusal::RoundClosed);
    }
    let all_answered = items.iter().all(|i| i.decision.is_some());
    if today <= round.deadline && !all_answered {
        return Err(PermissionRefusal::RoundDeadlineNotReached(
            round.deadline.format_short(),
        ));
    }
    Ok(items
        .iter()
        .filter(|i| i.decision != Some(RecertificationDecision::Confirmed))
        .map(|i| i.grant)
        .collect())
}

/// An account's last activity, for idle-account disabling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountActivity {
    pub person: PersonId,
    /// Last sign-in, or the account's creation if never signed in.
    pub last_active: RocDate,
    pub already_disabled: bool,
}

/// Accounts idle for more than `idle_account_days` and not yet disabled.
pub fn idle_accounts(
    accounts: &[AccountActivity],
    today: RocDate,
    policy: &RecertificationPolicy,
) -> Vec<PersonId> {
    let cutoff = days_before(today, policy.idle_account_days);
    accounts
        .iter()
        .filter(|a| !a.already_disabled && a.last_active < cutoff)
        .map(|a| a.person)
        .collect()
}

/// The day a pending step's reminder is due: `working_days` working days after it started
/// waiting ("each step has a reminder after N working days").
pub fn reminder_date(
    waiting_since: RocDate,
    working_days: i32,
    calendar: &HolidayCalendar,
) -> RocDate {
    RocDate::from_civil(add_working_days(
        waiting_since.civil(),
        working_days,
        calendar,
    ))
    .unwrap_or(waiting_since)
}

/// Whether the reminder for a step waiting since `waiting_since` is due on `today`.
pub fn reminder_due(
    waiting_since: RocDate,
    working_days: i32,
    calendar: &HolidayCalendar,
    today: RocDate,
) -> bool {
    today >= reminder_date(waiting_since, working_days, calendar)
}
