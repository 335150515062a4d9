//! Grants (授權): the effective-dated result of an approved Form 1, one per service item, and
//! the one question every query check asks — [`holds_grant`].
//!
//! Owns [`PermissionGrant`], [`GrantStatus`], [`SuspensionCause`] and [`plan_for_approval`]
//! (what an approved application of each kind does to a person's grants). Security-sensitive:
//! [`holds_grant`] fails closed on inconsistent data.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{ApplicationId, ApplicationKind};
use crate::catalogue::ServiceItemCode;
use crate::org::PersonId;
use crate::roc_date::RocDate;

crate::declare::storage_id!(
    /// A grant's storage id.
    GrantId
);

crate::code_enum! {
    /// 授權狀態.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum GrantStatus {
        /// 有效 (from `effective_from`).
        Active = "active", "有效";
        /// 停權 from `suspended_from` (a personnel change, or not confirmed in recertification)
        /// until a new application is approved.
        Suspended = "suspended", "停權";
        /// 終止 from `effective_to`.
        Ended = "ended", "終止";
    }
}

crate::code_enum! {
    /// Why a grant was suspended.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum SuspensionCause {
        /// §2: 職務異動.
        Transferred = "transferred", "職務異動";
        /// §2: 留職停薪或長期請假.
        OnLeave = "on_leave", "留職停薪或長期請假";
        /// Not confirmed by the supervisor in the quarterly recertification.
        NotRecertified = "not_recertified", "未於期限內複核確認";
        /// §8 ¶2: a violation case, until its review report (檢討報告) is accepted.
        ViolationPending = "violation_pending", "違規案件檢討報告核定前停權";
    }
}

/// 查調權限授權: one person's right to one service item over a period, and the application it
/// came from.
///
/// Dates: in force on day `d` when `effective_from <= d`, `d < effective_to` (exclusive: the
/// first day the grant no longer applies) and `d < suspended_from`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionGrant {
    pub id: GrantId,
    pub person: PersonId,
    pub item: ServiceItemCode,
    pub effective_from: RocDate,
    /// First day no longer in force (exclusive); set when the grant is ended.
    pub effective_to: Option<RocDate>,
    /// The Form 1 that granted it.
    pub application: ApplicationId,
    pub status: GrantStatus,
    /// First day of a suspension.
    pub suspended_from: Option<RocDate>,
    pub suspension_cause: Option<SuspensionCause>,
}

impl PermissionGrant {
    /// Whether this grant lets its holder query its item on `date`.
    pub fn in_force_on(&self, date: RocDate) -> bool {
        if date < self.effective_from {
            return false;
        }
        if let Some(to) = self.effective_to
            && date >= to
        {
            return false;
        }
        if let Some(from) = self.suspended_from
            && date >= from
        {
            return false;
        }
        match self.status {
            GrantStatus::Active => true,
            // A suspension without its date is inconsistent: fail closed.
            GrantStatus::Suspended => self.suspended_from.is_some(),
            GrantStatus::Ended => self.effective_to.is_some(),
        }
    }

    /// Not ended: active (now or later) or suspended.
    pub fn is_current(&self) -> bool {
        self.status != GrantStatus::Ended
    }

    /// Active with no end and no suspension scheduled.
    pub fn is_clean_active(&self) -> bool {
        self.status == GrantStatus::Active
            && self.effective_to.is_none()
            && self.suspended_from.is_none()
    }
}

/// The items a person may query on `date`, given their grants (pass one person's grants).
pub fn active_items(grants: &[PermissionGrant], date: RocDate) -> BTreeSet<ServiceItemCode> {
    grants
        .iter()
        .filter(|g| g.in_force_on(date))
        .map(|g| g.item.clone())
        .collect()
}

/// §2, §5: does this person hold an active grant for `item` on `date`? (Pass one person's
/// grants.) This is what query execution asks.
pub fn holds_grant(grants: &[PermissionGrant], item: &ServiceItemCode, date: RocDate) -> bool {
    grants
        .iter()
        .any(|g| &g.item == item && g.in_force_on(date))
}

/// What an approved application does to the applicant's grants from `effective_from`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GrantPlan {
    /// Items to grant from the effective date.
    pub create: BTreeSet<ServiceItemCode>,
    /// Current grants to end on the effective date.
    pub end: Vec<GrantId>,
}

/// Form 1 request types, as effects on the person's `current` grants (one person's):
///
/// - 新增權限: grant the requested items not already held cleanly active; a suspended grant
///   for a requested item is ended and granted afresh.
/// - 註銷權限: end the grants of the requested items, or every current grant if none is named.
/// - 異動查調項目: the requested items become the whole set: end the others (and suspended
///   ones), grant what is missing.
/// - 職務異動: end every current grant and grant the requested items afresh.
pub fn plan_for_approval(
    kind: ApplicationKind,
    items: &BTreeSet<ServiceItemCode>,
    current: &[PermissionGrant],
) -> GrantPlan {
    let current: Vec<&PermissionGrant> = current.iter().filter(|g| g.is_current()).collect();
    let held_clean: BTreeSet<&ServiceItemCode> = current
        .iter()
        .filter(|g| g.is_clean_active())
        .map(|g| &g.item)
        .collect();
    let mut plan = GrantPlan::default();
    match kind {
        ApplicationKind::New | ApplicationKind::ChangeItems => {
            for g in &current {
                let listed = items.contains(&g.item);
                // A new application replaces the listed items not held clean; a change of
                // items also ends every item it no longer lists.
                let ends = if kind == ApplicationKind::ChangeItems {
                    !listed || !g.is_clean_active()
                } else {
                    listed && !g.is_clean_active()
                };
                if ends {
                    plan.end.push(g.id);
                }
            }
            plan.create = items
                .iter()
                .filter(|i| !held_clean.contains(i))
                .cloned()
                .collect();
        }
        ApplicationKind::Revoke => {
            plan.end = current
                .iter()
                .filter(|g| items.is_empty() || items.contains(&g.item))
                .map(|g| g.id)
                .collect();
        }
        ApplicationKind::JobChange => {
            plan.end = current.iter().map(|g| g.id).collect();
            plan.create = items.clone();
        }
    }
    plan
}
