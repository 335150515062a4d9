//! The quarterly usage review (§7, 每三個月檢核使用紀錄): what a finding is (the rule that
//! raised it, in zh-TW and English), the quarter a review covers, and the review's state
//! machine — every finding concluded (explained with a note, or a violation) before the
//! permission administrator may close it. Pure: dates and people come in as arguments.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::org::{PersonId, Role};
use crate::permission::recertification::Quarter;
use crate::roc_date::{RocDate, taipei_day_start_utc};

crate::code_enum! {
    /// The rule that raised a finding. Codes are stable: they are stored, audited and shown.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FindingRule {
        /// §5, §7: a platform usage record with no execution behind it — a query made outside the
        /// system, with no registration.
        UnregisteredQuery = "reconciliation.unregistered_query",
            "平臺有查詢紀錄，但系統無登記或執行紀錄（未登記查調）",
            "the platform logged a query with no registration or execution here";
        /// An execution recorded here with no platform usage record (a recorded query that the
        /// platform never saw, or a usage log not yet imported).
        ExecutionWithoutRecord = "reconciliation.execution_without_record",
            "系統有執行紀錄，但平臺使用紀錄中查無此筆",
            "an execution recorded here has no platform usage record";
        /// A platform record whose operator account maps to nobody known.
        UnknownOperator = "reconciliation.unknown_operator",
            "平臺紀錄的操作帳號對應不到任何人員",
            "the platform record's operator account maps to nobody";
        /// §2: a platform record by a person holding no grant for the item that day.
        WithoutGrant = "reconciliation.without_grant",
            "查詢當日未持有該查調項目的授權",
            "the person held no grant for the item that day";
        /// A query outside office hours or on a day offices are closed.
        OffHours = "anomaly.off_hours",
            "於上班時間以外或休假日查詢",
            "a query outside office hours or on a day off";
        /// More queries in the period than the configured multiple of the person's own baseline.
        VolumeAboveBaseline = "anomaly.volume_above_baseline",
            "查詢量超過本人平日基準",
            "more queries than the person's own baseline";
        /// More queries in the period than the unit's threshold.
        VolumeAboveUnitThreshold = "anomaly.volume_above_unit_threshold",
            "查詢量超過單位門檻",
            "more queries than the unit's threshold";
        /// One subject queried by several people.
        SubjectBySeveral = "anomaly.subject_by_several",
            "同一當事人被多人查詢",
            "one subject queried by several people";
        /// One subject queried by the same person on several days.
        SubjectRepeated = "anomaly.subject_repeated",
            "同一人反覆查詢同一當事人",
            "one subject queried repeatedly by the same person";
        /// §4: the querier looked themselves up.
        SelfLookup = "anomaly.self_lookup", "查詢者查詢自己的資料", "the querier looked themselves up";
        /// §5: an execution after its approval had expired.
        AfterApprovalExpired = "anomaly.after_approval_expired",
            "核准逾期後仍執行查詢",
            "executed after the approval expired";
        /// §5: an approval given within seconds of the submission (rubber-stamping).
        FastApproval = "anomaly.fast_approval",
            "送出後數秒內即核准",
            "approved within seconds of submission";
        /// §2: a query by a person whose grant for the item was suspended.
        SuspendedUse = "anomaly.suspended_use",
            "權限停權期間仍查詢",
            "a query while the person's grant was suspended";
        /// A grant not used for the configured number of months (least privilege, §9).
        UnusedGrant = "anomaly.unused_grant", "授權長期未使用", "a grant left unused for months";
    }
}

impl FindingRule {
    /// Whether the rule compares the usage log with executions (the rest are anomalies).
    pub fn is_reconciliation(self) -> bool {
        matches!(
            self,
            Self::UnregisteredQuery
                | Self::ExecutionWithoutRecord
                | Self::UnknownOperator
                | Self::WithoutGrant
        )
    }
}

/// What a finding points at. Kept as references, never personal data.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum FindingObject {
    /// A platform usage record, by its position in the reconciled input (the app turns it into
    /// the platform's record id).
    Usage(usize),
    /// An execution by its id.
    Execution(i64),
    /// A registration by its id.
    Registration(i64),
    /// A grant by its id.
    Grant(i64),
    /// A person (volume rules).
    Person(PersonId),
    /// A subject, by its position in the caller's subject list (repeated-subject rules).
    Subject(usize),
}

/// One finding: the rule, whom it concerns and when, and what it points at, with a short
/// detail in numbers (no personal data).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Finding {
    pub rule: FindingRule,
    pub person: Option<PersonId>,
    pub at: Option<Timestamp>,
    pub object: FindingObject,
    pub detail: String,
}

/// The days a quarterly review covers: the quarter containing a date, `[start, end)`.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct ReviewPeriod {
    pub quarter: Quarter,
    pub start: RocDate,
    /// First day after the quarter.
    pub end: RocDate,
}

impl ReviewPeriod {
    /// The quarter that contains `date`.
    pub fn containing(date: RocDate) -> ReviewPeriod {
        let d = date.civil();
        let first_month = (d.month() - 1) / 3 * 3 + 1;
        let start = Date::new(d.year(), first_month, 1).unwrap_or(d);
        let end = start
            .checked_add(jiff::Span::new().months(3))
            .unwrap_or(Date::MAX);
        ReviewPeriod {
            quarter: Quarter::of(date),
            start: RocDate::from_civil(start).unwrap_or(date),
            end: RocDate::from_civil(end).unwrap_or(date),
        }
    }

    /// §7: the quarter just ended on `today` (the one a review opened today covers).
    pub fn previous_to(today: RocDate) -> ReviewPeriod {
        let this = Self::containing(today);
        let before = this
            .start
            .civil()
            .yesterday()
            .ok()
            .and_then(|d| RocDate::from_civil(d).ok())
            .unwrap_or(this.start);
        Self::containing(before)
    }

    /// The instants `[from, to)` of the period in Asia/Taipei.
    pub fn instants(&self) -> (Timestamp, Timestamp) {
        (
            taipei_day_start_utc(self.start),
            taipei_day_start_utc(self.end),
        )
    }
}

crate::code_enum! {
    /// A review's state.
    #[derive(Copy, Clone, PartialEq, Eq, Debug)]
    pub enum ReviewState {
        Open = "open";
        Closed = "closed";
    }
}

/// How the administrator concluded a finding.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Conclusion {
    /// 已說明: explained, with the administrator's note.
    Explained(String),
    /// 違規: a violation case was opened (its id).
    Violation(i64),
}

impl Conclusion {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Explained(_) => "explained",
            Self::Violation(_) => "violation",
        }
    }
}

/// Why a review step is refused. Codes are stable and shared by page and API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("僅權限管理者可辦理使用紀錄檢核")]
    NotAdministrator,
    #[error("本季檢核已結案，不得再修改")]
    Closed,
    #[error("尚有 {0} 項發現未作成結論，不得結案")]
    FindingsOpen(usize),
    #[error("此項發現已作成結論")]
    AlreadyConcluded,
    #[error("說明不得空白，且不得超過 1000 字")]
    NoteRequired,
    #[error("查無此項檢核或發現")]
    NotFound,
    #[error("本季檢核已經開啟")]
    AlreadyOpen,
}

impl ReviewRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAdministrator => "review.not_administrator",
            Self::Closed => "review.closed",
            Self::FindingsOpen(_) => "review.findings_open",
            Self::AlreadyConcluded => "review.finding_concluded",
            Self::NoteRequired => "review.note_required",
            Self::NotFound => "review.not_found",
            Self::AlreadyOpen => "review.already_open",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotAdministrator => {
                "only the permission administrator runs the usage review".into()
            }
            Self::Closed => "this quarter's review is closed and can no longer change".into(),
            Self::FindingsOpen(n) => {
                format!("{n} finding(s) have no conclusion yet; the review cannot close")
            }
            Self::AlreadyConcluded => "this finding already has a conclusion".into(),
            Self::NoteRequired => {
                "the note must not be empty nor longer than 1000 characters".into()
            }
            Self::NotFound => "no such review or finding".into(),
            Self::AlreadyOpen => "this quarter's review is already open".into(),
        }
    }
}

/// §7: the permission administrator runs the review. A capability: only
/// [`ReviewerDesk::for_person`] makes one.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ReviewerDesk(PersonId);

impl ReviewerDesk {
    pub fn for_person(person: PersonId, roles: &[Role]) -> Result<ReviewerDesk, ReviewRefusal> {
        if roles.contains(&Role::PermissionAdministrator) {
            Ok(ReviewerDesk(person))
        } else {
            Err(ReviewRefusal::NotAdministrator)
        }
    }

    pub fn person(self) -> PersonId {
        self.0
    }
}

/// Checks a conclusion of one finding: the review open, the finding not yet concluded, an
/// explanation with a note.
pub fn check_conclusion(
    state: ReviewState,
    already: Option<&Conclusion>,
    conclusion: &Conclusion,
) -> Result<(), ReviewRefusal> {
    if state == ReviewState::Closed {
        return Err(ReviewRefusal::Closed);
    }
    if already.is_some() {
        return Err(ReviewRefusal::AlreadyConcluded);
    }
    if let Conclusion::Explained(note) = conclusion {
        let n = note.trim().chars().count();
        if n == 0 || n > 1000 {
            return Err(ReviewRefusal::NoteRequired);
        }
    }
    Ok(())
}

/// §7: a review closes once every finding has its conclusion.
pub fn check_close(state: ReviewState, open_findings: usize) -> Result<(), ReviewRefusal> {
    if state == ReviewState::Closed {
        return Err(ReviewRefusal::Closed);
    }
    if open_findings > 0 {
        return Err(ReviewRefusal::FindingsOpen(open_findings));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> RocDate {
        RocDate::from_civil(jiff::civil::date(y, m, day)).unwrap()
    }

    #[test]
    fn rule_codes_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for r in FindingRule::ALL {
            assert!(seen.insert(r.code()));
            assert_eq!(FindingRule::parse_code(r.code()), Some(r));
            assert!(!r.name_zh().is_empty() && !r.name_en().is_empty());
        }
    }

    #[test]
    fn a_review_period_is_the_calendar_quarter() {
        let p = ReviewPeriod::containing(d(2026, 5, 17));
        assert_eq!((p.start, p.end), (d(2026, 4, 1), d(2026, 7, 1)));
        assert_eq!(p.quarter.to_string(), "2026-Q2");
        let q4 = ReviewPeriod::containing(d(2026, 12, 31));
        assert_eq!((q4.start, q4.end), (d(2026, 10, 1), d(2027, 1, 1)));
    }

    #[test]
    fn the_review_opened_in_january_covers_the_last_quarter_of_the_year_before() {
        let p = ReviewPeriod::previous_to(d(2027, 1, 4));
        assert_eq!(p.quarter.to_string(), "2026-Q4");
        assert_eq!((p.start, p.end), (d(2026, 10, 1), d(2027, 1, 1)));
    }

    #[test]
    fn only_the_permission_administrator_gets_the_reviewer_desk() {
        let p = PersonId::new(3);
        assert!(ReviewerDesk::for_person(p, &[Role::PermissionAdministrator]).is_ok());
        assert_eq!(
            ReviewerDesk::for_person(p, &[Role::Director, Role::UnitSupervisor]),
            Err(ReviewRefusal::NotAdministrator)
        );
    }

    #[test]
    fn a_finding_is_concluded_once_with_a_note_while_the_review_is_open() {
        let note = Conclusion::Explained("公文補登，已確認".into());
        assert_eq!(check_conclusion(ReviewState::Open, None, &note), Ok(()));
        assert_eq!(
            check_conclusion(ReviewState::Open, None, &Conclusion::Explained("  ".into())),
            Err(ReviewRefusal::NoteRequired)
        );
        assert_eq!(
            check_conclusion(ReviewState::Open, Some(&note), &Conclusion::Violation(1)),
            Err(ReviewRefusal::AlreadyConcluded)
        );
        assert_eq!(
            check_conclusion(ReviewState::Closed, None, &note),
            Err(ReviewRefusal::Closed)
        );
    }

    #[test]
    fn a_review_closes_only_with_every_finding_concluded_and_only_once() {
        assert_eq!(
            check_close(ReviewState::Open, 2),
            Err(ReviewRefusal::FindingsOpen(2))
        );
        assert_eq!(check_close(ReviewState::Open, 0), Ok(()));
        assert_eq!(
            check_close(ReviewState::Closed, 0),
            Err(ReviewRefusal::Closed)
        );
    }
}
