//! Retention of query results (§6: filed with the case and destroyed when the retention period
//! ends) and the decision which results are due for destruction on a date.
//!
//! Security-relevant: the destruction job acts on [`due_for_destruction`]. Registrations,
//! approvals and audit records are not destroyed by it: they are kept at least
//! [`RECORDS_KEPT_YEARS`] years (MISSION.md "Numbers worth knowing"). Pure: dates in, ids out.

use std::collections::BTreeMap;

use jiff::Span;

use crate::catalogue::LegalBasisId;
use crate::roc_date::RocDate;

/// Registrations, approvals and audit records are kept at least this long.
pub const RECORDS_KEPT_YEARS: u32 = 5;

/// How long results are kept. A case-type rule wins over a legal-basis rule, which wins over
/// the default.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RetentionPolicy {
    /// Days a result is kept when no rule below applies.
    pub default_days: u32,
    pub by_legal_basis: BTreeMap<LegalBasisId, u32>,
    /// Keyed by case type (e.g. `low_income_review`).
    pub by_case_type: BTreeMap<String, u32>,
}

impl Default for RetentionPolicy {
    /// One year unless configured: long enough for a yearly review cycle; a deployment sets
    /// the periods its records schedule (檔案保存年限) gives.
    fn default() -> Self {
        Self {
            default_days: 365,
            by_legal_basis: BTreeMap::new(),
            by_case_type: BTreeMap::new(),
        }
    }
}

/// Which rule set the period, and the last day the result may be kept.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RetentionDecision {
    /// `case_type:<t>`, `legal_basis:<id>` or `default`.
    pub rule: String,
    pub days: u32,
    /// Kept through this day; destroyed on the day after or later.
    pub destroy_after: RocDate,
}

/// The retention of a result received on `received`.
pub fn retention_for(
    policy: &RetentionPolicy,
    basis: &LegalBasisId,
    case_type: Option<&str>,
    received: RocDate,
) -> RetentionDecision {
    let (rule, days) =
        if let Some((t, d)) = case_type.and_then(|t| policy.by_case_type.get_key_value(t)) {
            (format!("case_type:{t}"), *d)
        } else if let Some(d) = policy.by_legal_basis.get(basis) {
            (format!("legal_basis:{basis}"), *d)
        } else {
            ("default".to_string(), policy.default_days)
        };
    let destroy_after = received
        .civil()
        .checked_add(Span::new().days(i64::from(days)))
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(RocDate::MAX);
    RetentionDecision {
        rule,
        days,
        destroy_after,
    }
}

/// A stored result as the destruction job sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HeldResult {
    pub id: i64,
    pub destroy_after: RocDate,
    pub destroyed: bool,
}

/// The results, not yet destroyed, whose keeping period ended before `today`.
pub fn due_for_destruction(results: &[HeldResult], today: RocDate) -> Vec<i64> {
    results
        .iter()
        .filter(|r| !r.destroyed && r.destroy_after < today)
        .map(|r| r.id)
        .collect()
}

/// The last day a record dated `date` (a Form 2 row, a Form 3 request) must be kept: the
/// same day [`RECORDS_KEPT_YEARS`] years later (29 February → 28 February).
pub fn record_kept_through(date: RocDate) -> RocDate {
    date.civil()
        .checked_add(Span::new().years(i64::from(RECORDS_KEPT_YEARS)))
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(RocDate::MAX)
}

/// §6: records dated before the returned day have outlived their keeping period on `today`
/// (their [`record_kept_through`] is before `today`), so the sealed subject name and national
/// ID kept for them are due for destruction. The digest and masked form stay.
pub fn subject_destruction_cutoff(today: RocDate) -> RocDate {
    let step = |d: RocDate, forward: bool| {
        let c = d.civil();
        let next = if forward { c.tomorrow() } else { c.yesterday() };
        next.ok().and_then(|n| RocDate::from_civil(n).ok())
    };
    // Start near the answer, then settle on the first date whose keeping runs through today
    // or later (`record_kept_through` never decreases; 29 February makes it skip a day).
    let mut cutoff = today
        .civil()
        .checked_sub(Span::new().years(i64::from(RECORDS_KEPT_YEARS)))
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(RocDate::MIN);
    while record_kept_through(cutoff) < today {
        match step(cutoff, true) {
            Some(n) => cutoff = n,
            None => break,
        }
    }
    while let Some(prev) = step(cutoff, false).filter(|p| record_kept_through(*p) >= today) {
        cutoff = prev;
    }
    cutoff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> RocDate {
        RocDate::new(y, m, day).unwrap()
    }

    #[test]
    fn case_type_beats_legal_basis_beats_default() {
        let basis = LegalBasisId::new("social-assistance-44-3-1").unwrap();
        let mut p = RetentionPolicy::default();
        let r = retention_for(&p, &basis, None, d(115, 1, 1));
        assert_eq!(
            (r.rule.as_str(), r.destroy_after),
            ("default", d(116, 1, 1))
        );
        p.by_legal_basis.insert(basis.clone(), 30);
        let r = retention_for(&p, &basis, Some("x"), d(115, 1, 1));
        assert_eq!(r.rule, "legal_basis:social-assistance-44-3-1");
        assert_eq!(r.destroy_after, d(115, 1, 31));
        p.by_case_type.insert("x".into(), 10);
        let r = retention_for(&p, &basis, Some("x"), d(115, 1, 1));
        assert_eq!((r.rule.as_str(), r.days), ("case_type:x", 10));
        assert_eq!(r.destroy_after, d(115, 1, 11));
    }

    #[test]
    fn a_record_is_kept_five_years_and_its_subject_is_due_the_day_after() {
        assert_eq!(record_kept_through(d(110, 3, 5)), d(115, 3, 5));
        assert_eq!(record_kept_through(d(109, 2, 29)), d(114, 2, 28));
        // On 115-03-05 a row of 110-03-05 is still kept; on 115-03-06 it is not.
        let cutoff = subject_destruction_cutoff(d(115, 3, 5));
        assert!(
            d(110, 3, 5) >= cutoff && d(110, 3, 4) < cutoff,
            "{cutoff:?}"
        );
        let cutoff = subject_destruction_cutoff(d(115, 3, 6));
        assert_eq!(cutoff, d(110, 3, 6));
        // The cutoff agrees with the keeping rule on every day around a leap day.
        let mut day = d(113, 2, 20).civil();
        for _ in 0..20 {
            let today = RocDate::from_civil(day).unwrap();
            let cutoff = subject_destruction_cutoff(today);
            let mut r = d(108, 2, 1).civil();
            for _ in 0..60 {
                let rec = RocDate::from_civil(r).unwrap();
                assert_eq!(
                    rec < cutoff,
                    record_kept_through(rec) < today,
                    "record {rec:?} today {today:?}"
                );
                r = r.tomorrow().unwrap();
            }
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn due_means_past_the_last_day_and_not_yet_destroyed() {
        let held = [
            HeldResult {
                id: 1,
                destroy_after: d(115, 3, 1),
                destroyed: false,
            },
            HeldResult {
                id: 2,
                destroy_after: d(115, 3, 2),
                destroyed: false,
            },
            HeldResult {
                id: 3,
                destroy_after: d(115, 1, 1),
                destroyed: true,
            },
        ];
        assert_eq!(due_for_destruction(&held, d(115, 3, 1)), Vec::<i64>::new());
        assert_eq!(due_for_destruction(&held, d(115, 3, 2)), vec![1]);
        assert_eq!(due_for_destruction(&held, d(115, 4, 1)), vec![1, 2]);
    }
}
