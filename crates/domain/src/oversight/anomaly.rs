//! Anomaly rules over the period's queries (§7): off-hours and holiday queries, volume above a
//! person's own baseline or the unit's threshold, one subject queried by several people or
//! repeatedly, self-lookups, executions after the approval expired, approvals given within
//! seconds, use while a grant was suspended, and grants left unused. Each finding names its
//! rule ([`FindingRule`]); every threshold comes in as [`AnomalyThresholds`] (the app reads
//! them from `[oversight]`), and the holiday calendar as an argument. Pure.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

use super::reconciliation::Symbols;
use super::review::{Finding, FindingObject, FindingRule};
use crate::deadline::HolidayCalendar;
use crate::org::PersonId;
use crate::permission::grant::{GrantStatus, PermissionGrant};
use crate::roc_date::{RocDate, taipei_date};

/// The numbers the anomaly rules compare against.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyThresholds {
    /// Office hours in Asia/Taipei, minutes after midnight: `[start, end)`.
    pub office_start_minute: u16,
    pub office_end_minute: u16,
    /// A person's queries in the period above `factor × baseline` are flagged.
    pub volume_baseline_factor: f64,
    /// A person's queries in the period above this are flagged (the unit's threshold, unless
    /// the caller gives a unit-specific one).
    pub unit_threshold: u32,
    /// One subject queried by this many people, or by one person on this many days.
    pub repeat_subject_count: u32,
    /// An approval within this many seconds of the submission is flagged.
    pub fast_approval_seconds: i64,
    /// A grant unused for this many months is flagged.
    pub unused_grant_months: i32,
}

impl Default for AnomalyThresholds {
    fn default() -> Self {
        Self {
            office_start_minute: 8 * 60,
            office_end_minute: 18 * 60,
            volume_baseline_factor: 3.0,
            unit_threshold: 300,
            repeat_subject_count: 3,
            fast_approval_seconds: 10,
            unused_grant_months: 6,
        }
    }
}

/// One query of the period: an execution here, or a platform record that matched none.
/// A quarter holds a million of these, so the item is its number in [`Symbols`] (two bytes,
/// no allocation per query) and the rules look its code up in [`AnomalyInput::symbols`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryFact {
    pub person: PersonId,
    pub item: u16,
    /// The subject, as a position in the caller's list of distinct subjects.
    pub subject: usize,
    pub at: Timestamp,
    pub object: FindingObject,
}

/// An execution with the end of its approval's validity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionTiming {
    pub execution: i64,
    pub querier: PersonId,
    pub at: Timestamp,
    pub approval_valid_until: Option<Timestamp>,
}

impl ExecutionTiming {
    /// Run after its approval had expired (§5).
    pub fn after_approval_expired(&self) -> bool {
        self.approval_valid_until.is_some_and(|v| self.at > v)
    }
}

/// A registration's submission and approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalTiming {
    pub registration: i64,
    pub approver: PersonId,
    pub submitted_at: Timestamp,
    pub approved_at: Timestamp,
}

/// Everything the anomaly rules read for one period.
#[derive(Debug)]
pub struct AnomalyInput<'a> {
    pub queries: &'a [QueryFact],
    /// The item codes the queries' items are numbers of.
    pub symbols: &'a Symbols,
    pub executions: &'a [ExecutionTiming],
    pub approvals: &'a [ApprovalTiming],
    /// Every person's grants, any status.
    pub grants: &'a BTreeMap<PersonId, Vec<PermissionGrant>>,
    /// Queries per period each person usually makes (absent: no baseline yet, not flagged).
    pub baselines: &'a BTreeMap<PersonId, f64>,
    /// A person's unit threshold where the unit has its own (else the default).
    pub unit_thresholds: &'a BTreeMap<PersonId, u32>,
    /// Subjects (by position) who are members of staff, with the person(s) who gave that ID on
    /// their Form 1 (one, unless the records are wrong).
    pub staff_subjects: &'a HashMap<usize, Vec<PersonId>>,
    /// The last day each (person, item) was used, over all time.
    pub last_used: &'a BTreeMap<(PersonId, String), RocDate>,
    /// The period's last day: grants in force then are checked for disuse.
    pub period_last_day: RocDate,
}

fn taipei_minute(at: Timestamp) -> u16 {
    // Asia/Taipei has kept UTC+8 without daylight saving since 1979.
    let z = at.to_zoned(TimeZone::fixed(Offset::constant(8)));
    u16::try_from(i32::from(z.hour()) * 60 + i32::from(z.minute())).unwrap_or(0)
}

fn months_before(date: RocDate, months: i32) -> RocDate {
    date.civil()
        .checked_sub(jiff::Span::new().months(i64::from(months.max(0))))
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(RocDate::MIN)
}

/// Runs every anomaly rule; findings come out grouped by rule, in input order within a rule.
pub fn detect(
    input: &AnomalyInput<'_>,
    t: &AnomalyThresholds,
    calendar: &HolidayCalendar,
) -> Vec<Finding> {
    let mut out = Vec::new();
    off_hours(input, t, calendar, &mut out);
    volume(input, t, &mut out);
    subjects(input, t, &mut out);
    self_lookups(input, &mut out);
    after_expiry(input, &mut out);
    fast_approvals(input, t, &mut out);
    suspended_use(input, &mut out);
    unused_grants(input, t, &mut out);
    out
}

fn off_hours(
    input: &AnomalyInput<'_>,
    t: &AnomalyThresholds,
    calendar: &HolidayCalendar,
    out: &mut Vec<Finding>,
) {
    for q in input.queries {
        let day = taipei_date(q.at);
        let minute = taipei_minute(q.at);
        let closed = !calendar.is_working_day(day.civil());
        if closed || minute < t.office_start_minute || minute >= t.office_end_minute {
            out.push(Finding {
                rule: FindingRule::OffHours,
                person: Some(q.person),
                at: Some(q.at),
                object: q.object.clone(),
                detail: if closed {
                    calendar
                        .holiday_name(day.civil())
                        .unwrap_or("weekend")
                        .to_string()
                } else {
                    format!("{:02}:{:02}", minute / 60, minute % 60)
                },
            });
        }
    }
}

fn volume(input: &AnomalyInput<'_>, t: &AnomalyThresholds, out: &mut Vec<Finding>) {
    let mut counts: BTreeMap<PersonId, u32> = BTreeMap::new();
    for q in input.queries {
        *counts.entry(q.person).or_default() += 1;
    }
    for (person, n) in counts {
        if let Some(base) = input.baselines.get(&person)
            && *base > 0.0
            && f64::from(n) > t.volume_baseline_factor * base
        {
            out.push(Finding {
                rule: FindingRule::VolumeAboveBaseline,
                person: Some(person),
                at: None,
                object: FindingObject::Person(person),
                detail: format!("{n} > {} × {base:.1}", t.volume_baseline_factor),
            });
        }
        let threshold = input
            .unit_thresholds
            .get(&person)
            .copied()
            .unwrap_or(t.unit_threshold);
        if n > threshold {
            out.push(Finding {
                rule: FindingRule::VolumeAboveUnitThreshold,
                person: Some(person),
                at: None,
                object: FindingObject::Person(person),
                detail: format!("{n} > {threshold}"),
            });
        }
    }
}

fn subjects(input: &AnomalyInput<'_>, t: &AnomalyThresholds, out: &mut Vec<Finding>) {
    // One sorted list of (subject, person, day, time) instead of a set per subject and per
    // subject and person: a quarter of a million queries costs 40 bytes each here, not the
    // hundreds a tree node per entry would. The findings come out as before: subjects queried
    // by several people in subject order, then repeated subjects in (subject, person) order.
    let mut rows: Vec<(usize, PersonId, RocDate, Timestamp)> = input
        .queries
        .iter()
        .map(|q| (q.subject, q.person, taipei_date(q.at), q.at))
        .collect();
    rows.sort_unstable_by_key(|a| (a.0, a.1, a.2));
    let limit = usize::try_from(t.repeat_subject_count.max(2)).unwrap_or(usize::MAX);
    let mut repeated = Vec::new();
    for by_subject in rows.chunk_by(|a, b| a.0 == b.0) {
        let Some(&(subject, ..)) = by_subject.first() else {
            continue;
        };
        let first_at = by_subject.iter().map(|r| r.3).min();
        let mut people = 0;
        for by_person in by_subject.chunk_by(|a, b| a.1 == b.1) {
            people += 1;
            let days = by_person.chunk_by(|a, b| a.2 == b.2).count();
            if days >= limit
                && let Some(&(_, person, ..)) = by_person.first()
            {
                repeated.push(Finding {
                    rule: FindingRule::SubjectRepeated,
                    person: Some(person),
                    at: first_at,
                    object: FindingObject::Subject(subject),
                    detail: format!("{days} days"),
                });
            }
        }
        if people >= limit {
            out.push(Finding {
                rule: FindingRule::SubjectBySeveral,
                person: None,
                at: first_at,
                object: FindingObject::Subject(subject),
                detail: format!("{people} people"),
            });
        }
    }
    out.append(&mut repeated);
}

fn self_lookups(input: &AnomalyInput<'_>, out: &mut Vec<Finding>) {
    for q in input.queries {
        if input
            .staff_subjects
            .get(&q.subject)
            .is_some_and(|who| who.contains(&q.person))
        {
            out.push(Finding {
                rule: FindingRule::SelfLookup,
                person: Some(q.person),
                at: Some(q.at),
                object: q.object.clone(),
                detail: input.symbols.item_code(q.item).to_string(),
            });
        }
    }
}

fn after_expiry(input: &AnomalyInput<'_>, out: &mut Vec<Finding>) {
    for e in input.executions {
        if e.after_approval_expired() {
            out.push(Finding {
                rule: FindingRule::AfterApprovalExpired,
                person: Some(e.querier),
                at: Some(e.at),
                object: FindingObject::Execution(e.execution),
                detail: String::new(),
            });
        }
    }
}

fn fast_approvals(input: &AnomalyInput<'_>, t: &AnomalyThresholds, out: &mut Vec<Finding>) {
    for a in input.approvals {
        let secs = a.approved_at.duration_since(a.submitted_at).as_secs();
        if secs < t.fast_approval_seconds {
            out.push(Finding {
                rule: FindingRule::FastApproval,
                person: Some(a.approver),
                at: Some(a.approved_at),
                object: FindingObject::Registration(a.registration),
                detail: format!("{secs} s"),
            });
        }
    }
}

fn suspended_use(input: &AnomalyInput<'_>, out: &mut Vec<Finding>) {
    for q in input.queries {
        let day = taipei_date(q.at);
        let Some(gs) = input.grants.get(&q.person) else {
            continue;
        };
        let item = input.symbols.item_code(q.item);
        let mine = || gs.iter().filter(|g| g.item.as_str() == item);
        let in_force = mine().any(|g| g.in_force_on(day));
        let suspended = mine().any(|g| {
            g.status == GrantStatus::Suspended && g.suspended_from.is_some_and(|s| s <= day)
        });
        if suspended && !in_force {
            out.push(Finding {
                rule: FindingRule::SuspendedUse,
                person: Some(q.person),
                at: Some(q.at),
                object: q.object.clone(),
                detail: item.to_string(),
            });
        }
    }
}

fn unused_grants(input: &AnomalyInput<'_>, t: &AnomalyThresholds, out: &mut Vec<Finding>) {
    let cutoff = months_before(input.period_last_day, t.unused_grant_months);
    for (person, gs) in input.grants {
        for g in gs {
            if !g.in_force_on(input.period_last_day) || g.effective_from > cutoff {
                continue;
            }
            let last = input.last_used.get(&(*person, g.item.as_str().to_string()));
            if last.is_none_or(|d| *d <= cutoff) {
                out.push(Finding {
                    rule: FindingRule::UnusedGrant,
                    person: Some(*person),
                    at: None,
                    object: FindingObject::Grant(g.id.get()),
                    detail: g.item.as_str().to_string(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn cal() -> HolidayCalendar {
        HolidayCalendar::seeded().unwrap()
    }

    fn q(person: i64, subject: usize, at: &str, n: i64) -> QueryFact {
        QueryFact {
            person: PersonId::new(person),
            // C0101, the one item `Data::new` interns.
            item: 0,
            subject,
            at: ts(at),
            object: FindingObject::Execution(n),
        }
    }

    fn grant(
        id: i64,
        person: i64,
        from: RocDate,
        suspended_from: Option<RocDate>,
    ) -> PermissionGrant {
        crate::testing::grant(id, PersonId::new(person), "C0101", from, suspended_from)
    }

    struct Data {
        queries: Vec<QueryFact>,
        symbols: Symbols,
        executions: Vec<ExecutionTiming>,
        approvals: Vec<ApprovalTiming>,
        grants: BTreeMap<PersonId, Vec<PermissionGrant>>,
        baselines: BTreeMap<PersonId, f64>,
        unit_thresholds: BTreeMap<PersonId, u32>,
        staff: HashMap<usize, Vec<PersonId>>,
        last_used: BTreeMap<(PersonId, String), RocDate>,
    }

    impl Data {
        fn new(queries: Vec<QueryFact>) -> Data {
            let mut symbols = Symbols::default();
            symbols.item("C0101");
            Data {
                queries,
                symbols,
                executions: vec![],
                approvals: vec![],
                grants: BTreeMap::new(),
                baselines: BTreeMap::new(),
                unit_thresholds: BTreeMap::new(),
                staff: HashMap::new(),
                last_used: BTreeMap::new(),
            }
        }

        fn run(&self) -> Vec<FindingRule> {
            let input = AnomalyInput {
                queries: &self.queries,
                symbols: &self.symbols,
                executions: &self.executions,
                approvals: &self.approvals,
                grants: &self.grants,
                baselines: &self.baselines,
                unit_thresholds: &self.unit_thresholds,
                staff_subjects: &self.staff,
                last_used: &self.last_used,
                period_last_day: RocDate::new(115, 3, 31).unwrap(),
            };
            detect(&input, &AnomalyThresholds::default(), &cal())
                .into_iter()
                .map(|f| f.rule)
                .collect()
        }
    }

    #[test]
    fn office_hours_on_a_working_day_raise_nothing() {
        // Tuesday 2026-03-03 10:00 in Taipei.
        assert!(
            Data::new(vec![q(1, 0, "2026-03-03T02:00:00Z", 1)])
                .run()
                .is_empty()
        );
    }

    #[test]
    fn evenings_weekends_and_holidays_are_off_hours() {
        for at in [
            "2026-03-03T11:30:00Z", // Tuesday 19:30
            "2026-03-02T23:59:00Z", // Tuesday 07:59
            "2026-03-07T02:00:00Z", // Saturday 10:00
            "2026-02-27T02:00:00Z", // Friday 2/27, 和平紀念日 observed
        ] {
            assert_eq!(
                Data::new(vec![q(1, 0, at, 1)]).run(),
                vec![FindingRule::OffHours],
                "{at}"
            );
        }
    }

    #[test]
    fn volume_above_the_baseline_or_the_unit_threshold_is_flagged() {
        let queries: Vec<_> = (0..7)
            .map(|i| q(1, i, "2026-03-03T02:00:00Z", i as i64))
            .collect();
        let mut d = Data::new(queries);
        d.baselines.insert(PersonId::new(1), 3.0);
        assert!(d.run().is_empty(), "7 is not above 3 × 3");
        d.baselines.insert(PersonId::new(1), 2.0);
        assert_eq!(d.run(), vec![FindingRule::VolumeAboveBaseline]);
        d.baselines.clear();
        d.unit_thresholds.insert(PersonId::new(1), 6);
        assert_eq!(d.run(), vec![FindingRule::VolumeAboveUnitThreshold]);
    }

    #[test]
    fn one_subject_by_three_people_or_on_three_days_by_one_is_flagged() {
        let several = Data::new(vec![
            q(1, 5, "2026-03-03T02:00:00Z", 1),
            q(2, 5, "2026-03-03T03:00:00Z", 2),
            q(3, 5, "2026-03-04T02:00:00Z", 3),
        ]);
        assert_eq!(several.run(), vec![FindingRule::SubjectBySeveral]);
        let repeated = Data::new(vec![
            q(1, 5, "2026-03-03T02:00:00Z", 1),
            q(1, 5, "2026-03-04T02:00:00Z", 2),
            q(1, 5, "2026-03-05T02:00:00Z", 3),
        ]);
        assert_eq!(repeated.run(), vec![FindingRule::SubjectRepeated]);
        // Several items on one day are one occasion.
        let same_day = Data::new(vec![
            q(1, 5, "2026-03-03T02:00:00Z", 1),
            q(1, 5, "2026-03-03T02:00:01Z", 2),
            q(1, 5, "2026-03-03T02:00:02Z", 3),
        ]);
        assert!(same_day.run().is_empty());
    }

    #[test]
    fn a_querier_looking_up_themselves_is_flagged() {
        let mut d = Data::new(vec![q(4, 9, "2026-03-03T02:00:00Z", 1)]);
        d.staff.insert(9, vec![PersonId::new(4)]);
        assert_eq!(d.run(), vec![FindingRule::SelfLookup]);
        d.staff.insert(9, vec![PersonId::new(5)]);
        assert!(
            d.run().is_empty(),
            "looking up a colleague is not a self-lookup"
        );
    }

    #[test]
    fn late_executions_and_fast_approvals_are_flagged() {
        let mut d = Data::new(vec![]);
        d.executions = vec![
            ExecutionTiming {
                execution: 1,
                querier: PersonId::new(1),
                at: ts("2026-03-10T02:00:00Z"),
                approval_valid_until: Some(ts("2026-03-09T02:00:00Z")),
            },
            ExecutionTiming {
                execution: 2,
                querier: PersonId::new(1),
                at: ts("2026-03-08T02:00:00Z"),
                approval_valid_until: Some(ts("2026-03-09T02:00:00Z")),
            },
        ];
        d.approvals = vec![
            ApprovalTiming {
                registration: 1,
                approver: PersonId::new(2),
                submitted_at: ts("2026-03-03T02:00:00Z"),
                approved_at: ts("2026-03-03T02:00:04Z"),
            },
            ApprovalTiming {
                registration: 2,
                approver: PersonId::new(2),
                submitted_at: ts("2026-03-03T02:00:00Z"),
                approved_at: ts("2026-03-03T02:05:00Z"),
            },
        ];
        assert_eq!(
            d.run(),
            vec![FindingRule::AfterApprovalExpired, FindingRule::FastApproval]
        );
    }

    #[test]
    fn use_while_suspended_and_grants_left_unused_are_flagged() {
        let mut d = Data::new(vec![q(1, 0, "2026-03-03T02:00:00Z", 1)]);
        let from = RocDate::new(114, 1, 1).unwrap();
        d.grants.insert(
            PersonId::new(1),
            vec![grant(1, 1, from, Some(RocDate::new(115, 3, 1).unwrap()))],
        );
        assert_eq!(d.run(), vec![FindingRule::SuspendedUse]);
        let mut idle = Data::new(vec![]);
        idle.grants
            .insert(PersonId::new(2), vec![grant(2, 2, from, None)]);
        assert_eq!(idle.run(), vec![FindingRule::UnusedGrant]);
        idle.last_used.insert(
            (PersonId::new(2), "C0101".into()),
            RocDate::new(115, 1, 5).unwrap(),
        );
        assert!(idle.run().is_empty(), "used in January");
        let mut young = Data::new(vec![]);
        young.grants.insert(
            PersonId::new(3),
            vec![grant(3, 3, RocDate::new(115, 2, 1).unwrap(), None)],
        );
        assert!(young.run().is_empty(), "a young grant is not idle");
    }
}
