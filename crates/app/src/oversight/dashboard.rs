//! What supervisors and the director see of oversight (§4 ¶2 主管督導, §8): the director's
//! dashboard (open findings, overdue reports, the reviews, the quarter's figures and the data
//! of its charts) and a supervisor's view of their unit's registrations, executions, views and
//! prints. Read-only; no personal data (people by id, subjects not at all).

use std::collections::BTreeMap;

use jiff::Timestamp;
use querywarden_domain::org::{Person, Role};
use querywarden_domain::oversight::review::ReviewPeriod;
use querywarden_domain::oversight::unannounced_audit::AuditState;
use querywarden_domain::roc_date::taipei_date;
use querywarden_storage::{ReviewRow, Store, UnitActivityRow};

use super::reconciliation::{Statistics, analyse};
use super::violation::overdue;
use crate::AppError;
use crate::config::OversightSettings;
use crate::keys::KeyRing;

/// Who may read the dashboard: the director (§8 reviews the audits), the permission
/// administrator (§7 runs the review) and the ethics office (§8 audits with the IT group).
pub fn may_read_dashboard(p: &Person) -> bool {
    p.has_role(Role::Director)
        || p.has_role(Role::PermissionAdministrator)
        || p.has_role(Role::EthicsAuditor)
}

/// The director's dashboard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Dashboard {
    pub quarter: String,
    pub open_findings: u64,
    pub open_cases: usize,
    pub overdue_reports: usize,
    /// §8: unannounced audits fully signed and waiting for the director's review (核閱).
    pub audits_awaiting_review: usize,
    #[serde(skip)]
    pub reviews: Vec<ReviewRow>,
    /// The quarter so far.
    pub figures: Statistics,
    /// Executions per month and item, and per month and unit.
    pub per_month_item: BTreeMap<String, BTreeMap<String, u32>>,
    pub per_month_unit: BTreeMap<String, BTreeMap<String, u32>>,
    /// Findings per rule code over every review.
    pub findings_by_rule: BTreeMap<String, usize>,
    /// The busiest people this quarter: (person id, queries this quarter, quarterly baseline
    /// over the year before).
    pub volumes: Vec<(i64, u32, f64)>,
}

pub async fn dashboard(
    store: &Store,
    keys: &KeyRing,
    settings: &OversightSettings,
    now: Timestamp,
) -> Result<Dashboard, AppError> {
    let period = ReviewPeriod::containing(taipei_date(now));
    let (from, to) = period.instants();
    let figures = analyse(store, keys, settings, from, to).await?.statistics;
    let reviews = store.reviews().await?;
    let mut findings_by_rule = BTreeMap::new();
    for r in &reviews {
        for f in store.findings_of(r.id).await? {
            *findings_by_rule.entry(f.finding.rule).or_default() += 1;
        }
    }
    let cases = store.violations(None).await?;
    let year_before = from
        .checked_sub(jiff::SignedDuration::from_hours(24 * 365))
        .unwrap_or(from);
    let mut per_month_item: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    let mut per_month_unit: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for (month, unit, item, n) in store.execution_counts_by_month(year_before, to).await? {
        *per_month_item
            .entry(month.clone())
            .or_default()
            .entry(item)
            .or_default() += n;
        *per_month_unit
            .entry(month)
            .or_default()
            .entry(unit)
            .or_default() += n;
    }
    let mut baseline: BTreeMap<i64, f64> = BTreeMap::new();
    for (p, _, n, _) in store.execution_counts(year_before, from).await? {
        *baseline.entry(p.get()).or_default() += f64::from(n) / 4.0;
    }
    let mut volumes: Vec<(i64, u32, f64)> = figures
        .per_person
        .iter()
        .map(|(p, n)| (*p, *n, baseline.get(p).copied().unwrap_or(0.0)))
        .collect();
    volumes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    volumes.truncate(10);
    Ok(Dashboard {
        quarter: period.quarter.to_string(),
        open_findings: store.open_finding_count().await?,
        open_cases: cases.iter().filter(|c| c.state != "accepted").count(),
        overdue_reports: cases.iter().filter(|c| overdue(c, now)).count(),
        audits_awaiting_review: store
            .unannounced_audits(Some(AuditState::AwaitingReview))
            .await?
            .len(),
        reviews,
        figures,
        per_month_item,
        per_month_unit,
        findings_by_rule,
        volumes,
    })
}

/// §4 ¶2: what a unit supervisor oversees — the unit's registrations by state and its latest
/// executions with views and prints.
#[derive(Debug, Clone)]
pub struct UnitView {
    pub unit: String,
    pub registrations_by_state: Vec<(String, u32)>,
    pub activity: Vec<UnitActivityRow>,
}

/// The supervisor's own unit(s); `None` for someone who supervises no unit.
pub async fn unit_view(store: &Store, supervisor: &Person) -> Result<Option<UnitView>, AppError> {
    if !supervisor.has_role(Role::UnitSupervisor) {
        return Ok(None);
    }
    let unit = supervisor.unit.as_str().to_string();
    Ok(Some(UnitView {
        registrations_by_state: store.unit_registration_counts(&unit).await?,
        activity: store.unit_activity(&unit, 200).await?,
        unit,
    }))
}

/// `person`'s unread oversight notices (review opened, case opened, report due, overdue,
/// submitted, decided), oldest first. Marked read with `permission::staff::mark_notice_read`.
pub async fn notices(
    store: &Store,
    person: &Person,
) -> Result<Vec<querywarden_storage::NoticeRow>, AppError> {
    Ok(store
        .unread_notices(person.id)
        .await?
        .into_iter()
        // §8: an unannounced audit's notice to its querier belongs here too.
        .filter(|n| n.kind.starts_with("oversight.") || n.kind.starts_with("audit."))
        .collect())
}
