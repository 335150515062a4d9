//! Violations and the ten-day corrective report (§8 ¶2, 檢討報告).
//!
//! A case names the person, the rule broken and the evidence, and comes from a review finding,
//! an unannounced audit, or the permission administrator directly. The person must submit the
//! review report within ten days counted per 行政程序法 §48 ([`deadline::period_end`] with the
//! holiday calendar); reminders go out before the deadline, escalation to the supervisor and the
//! administrator after it; the administrator accepts the report or returns it. An accepted case
//! is closed: nothing more may be submitted. Pure: dates and people come in as arguments.
//!
//! [`deadline::period_end`]: crate::deadline::period_end

use jiff::civil::Date;

use crate::deadline::{HolidayCalendar, add_working_days, period_end};
use crate::org::PersonId;

/// §8 ¶2: 應於十日內提出檢討報告.
pub const REPORT_DAYS: i32 = 10;

/// Where a case came from.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum ViolationSource {
    /// A finding of a quarterly review (its id).
    ReviewFinding(i64),
    /// An unannounced audit, Form 4 (the audit's id).
    Audit(i64),
    /// Filed by the permission administrator directly.
    Administrator,
}

impl ViolationSource {
    pub fn code(self) -> &'static str {
        match self {
            Self::ReviewFinding(_) => "review",
            Self::Audit(_) => "audit",
            Self::Administrator => "administrator",
        }
    }

    pub fn reference(self) -> Option<i64> {
        match self {
            Self::ReviewFinding(id) | Self::Audit(id) => Some(id),
            Self::Administrator => None,
        }
    }

    pub fn from_parts(code: &str, reference: Option<i64>) -> Option<Self> {
        match (code, reference) {
            ("review", Some(id)) => Some(Self::ReviewFinding(id)),
            ("audit", Some(id)) => Some(Self::Audit(id)),
            ("administrator", _) => Some(Self::Administrator),
            _ => None,
        }
    }
}

crate::code_enum! {
    /// Where a case stands.
    #[derive(Copy, Clone, PartialEq, Eq, Debug)]
    pub enum CaseState {
        /// Waiting for the person's report (also after a report was returned).
        AwaitingReport = "awaiting_report", "待提出檢討報告";
        /// Report submitted; waiting for the administrator.
        ReportSubmitted = "report_submitted", "檢討報告待審";
        /// Report accepted: the case is closed.
        Accepted = "accepted", "已結案";
    }
}

/// The facts of one case the rules look at.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CaseFacts {
    pub person: PersonId,
    pub state: CaseState,
    /// Last day to submit the report.
    pub due_on: Date,
    pub reminded_on: Option<Date>,
    pub escalated_on: Option<Date>,
}

/// Why a case step is refused. Codes are stable and shared by page and API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViolationRefusal {
    #[error("僅權限管理者可開立或審查違規案件")]
    NotAdministrator,
    #[error("僅違規人本人可提出檢討報告")]
    NotThePerson,
    #[error("本案已結案，不得再提出或審查檢討報告")]
    Closed,
    #[error("本案目前沒有待審的檢討報告")]
    NoReportPending,
    #[error("本案的檢討報告已送出，正在審查中")]
    ReportPending,
    #[error("內容不得空白，且不得超過 {0} 字")]
    TextRequired(usize),
    #[error("權限管理者不得開立以自己為對象的違規案件，也不得審查自己的檢討報告")]
    SelfCase,
    #[error("查無此違規案件")]
    NotFound,
}

impl ViolationRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAdministrator => "violation.not_administrator",
            Self::NotThePerson => "violation.not_the_person",
            Self::Closed => "violation.closed",
            Self::NoReportPending => "violation.no_report_pending",
            Self::ReportPending => "violation.report_pending",
            Self::TextRequired(_) => "violation.text_required",
            Self::SelfCase => "separation_of_duties.same_person",
            Self::NotFound => "violation.not_found",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotAdministrator => {
                "only the permission administrator files or decides violation cases".into()
            }
            Self::NotThePerson => "only the person the case names submits its review report".into(),
            Self::Closed => "the case is closed; no report may be submitted or decided".into(),
            Self::NoReportPending => "the case has no report waiting for a decision".into(),
            Self::ReportPending => "a report was submitted and is being reviewed".into(),
            Self::TextRequired(n) => format!("the text must not be empty nor longer than {n} characters"),
            Self::SelfCase => {
                "separation of duties: the administrator neither files a case against nor decides the report of themselves".into()
            }
            Self::NotFound => "no such violation case".into(),
        }
    }
}

fn text_ok(text: &str, max: usize) -> Result<(), ViolationRefusal> {
    let n = text.trim().chars().count();
    if n == 0 || n > max {
        Err(ViolationRefusal::TextRequired(max))
    } else {
        Ok(())
    }
}

/// §8 ¶2: the last day to submit the report of a case opened (notified) on `opened_on`.
pub fn report_due(opened_on: Date, calendar: &HolidayCalendar) -> Date {
    period_end(opened_on, REPORT_DAYS, calendar)
}

/// Checks a new case: filed by an administrator against someone else, with the rule and the
/// evidence written down.
pub fn check_filing(
    administrator: PersonId,
    person: PersonId,
    rule: &str,
    evidence: &str,
) -> Result<(), ViolationRefusal> {
    if administrator == person {
        return Err(ViolationRefusal::SelfCase);
    }
    text_ok(rule, 200)?;
    text_ok(evidence, 2000)
}

/// Checks a report submission: by the person the case names, while it waits for one.
pub fn check_submission(
    case: &CaseFacts,
    by: PersonId,
    report: &str,
) -> Result<(), ViolationRefusal> {
    if case.state == CaseState::Accepted {
        return Err(ViolationRefusal::Closed);
    }
    if by != case.person {
        return Err(ViolationRefusal::NotThePerson);
    }
    if case.state == CaseState::ReportSubmitted {
        return Err(ViolationRefusal::ReportPending);
    }
    text_ok(report, 5000)
}

/// Checks the administrator's decision on a submitted report (a return needs a note).
pub fn check_decision(
    case: &CaseFacts,
    by: PersonId,
    return_note: Option<&str>,
) -> Result<(), ViolationRefusal> {
    if case.state == CaseState::Accepted {
        return Err(ViolationRefusal::Closed);
    }
    if by == case.person {
        return Err(ViolationRefusal::SelfCase);
    }
    if case.state != CaseState::ReportSubmitted {
        return Err(ViolationRefusal::NoReportPending);
    }
    match return_note {
        Some(note) => text_ok(note, 1000),
        None => Ok(()),
    }
}

/// What the scheduler owes a case today.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum CaseNotice {
    /// Remind the person: the deadline is near (once).
    Reminder,
    /// Tell the supervisor and the administrator: the deadline passed with no report (once).
    Escalation,
}

/// Working days before the deadline when the reminder goes out.
pub const REMINDER_WORKING_DAYS_BEFORE: i32 = 3;

/// Which notice (if any) a case is due today: a reminder from three working days before the
/// deadline, an escalation from the day after it, each once; nothing once a report is in.
pub fn notice_due(case: &CaseFacts, today: Date, calendar: &HolidayCalendar) -> Option<CaseNotice> {
    if case.state != CaseState::AwaitingReport {
        return None;
    }
    if today > case.due_on {
        return case
            .escalated_on
            .is_none()
            .then_some(CaseNotice::Escalation);
    }
    if case.reminded_on.is_some() {
        return None;
    }
    // The reminder day: the earliest day from which the deadline is at most three working
    // days away.
    let remind_from = (1..=40)
        .filter_map(|back| case.due_on.checked_sub(jiff::Span::new().days(back)).ok())
        .take_while(|d| add_working_days(*d, REMINDER_WORKING_DAYS_BEFORE, calendar) >= case.due_on)
        .last()
        .unwrap_or(case.due_on);
    (today >= remind_from).then_some(CaseNotice::Reminder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> HolidayCalendar {
        HolidayCalendar::seeded().unwrap()
    }

    /// §8 ¶2 with 行政程序法 §48: (opened, due, why).
    type Ymd = (i16, i8, i8);

    const TEN_DAYS: &[(Ymd, Ymd, &str)] = &[
        (
            (2026, 3, 3),
            (2026, 3, 13),
            "Tuesday + 10 = Friday, a working day",
        ),
        ((2026, 3, 4), (2026, 3, 16), "day 10 a Saturday: Monday"),
        ((2026, 3, 5), (2026, 3, 16), "day 10 a Sunday: Monday"),
        ((2026, 3, 6), (2026, 3, 16), "Friday + 10 = Monday"),
        (
            (2026, 2, 6),
            (2026, 2, 23),
            "day 10 in the nine-day 春節 break",
        ),
        ((2026, 2, 10), (2026, 2, 23), "day 10 = 春節 day off"),
        ((2026, 3, 24), (2026, 4, 7), "兒童節/清明 four-day weekend"),
        (
            (2026, 9, 15),
            (2026, 9, 29),
            "中秋節 Friday + 教師節 Monday",
        ),
        ((2026, 9, 29), (2026, 10, 12), "國慶日 observed on Friday"),
        ((2026, 12, 15), (2026, 12, 28), "行憲紀念日 Friday"),
        (
            (2026, 12, 22),
            (2027, 1, 4),
            "day 10 is New Year's Day 2027 (Friday)",
        ),
        (
            (2026, 12, 28),
            (2027, 1, 7),
            "across the new year, a working Thursday",
        ),
        (
            (2026, 12, 31),
            (2027, 1, 11),
            "New Year's Eve + 10 = Sunday 1/10: Monday",
        ),
    ];

    #[test]
    fn the_ten_day_deadline_follows_article_48_with_the_holiday_calendar() {
        let c = cal();
        for ((y, m, d), (dy, dm, dd), why) in TEN_DAYS {
            assert_eq!(
                report_due(date(*y, *m, *d), &c),
                date(*dy, *dm, *dd),
                "{why}"
            );
        }
    }

    fn case(state: CaseState) -> CaseFacts {
        CaseFacts {
            person: PersonId::new(7),
            state,
            due_on: date(2026, 3, 16),
            reminded_on: None,
            escalated_on: None,
        }
    }

    #[test]
    fn only_the_person_submits_and_only_while_a_report_is_awaited() {
        let admin = PersonId::new(1);
        let me = PersonId::new(7);
        let open = case(CaseState::AwaitingReport);
        assert_eq!(check_submission(&open, me, "已改正並檢討"), Ok(()));
        assert_eq!(
            check_submission(&open, admin, "x"),
            Err(ViolationRefusal::NotThePerson)
        );
        assert_eq!(
            check_submission(&open, me, " "),
            Err(ViolationRefusal::TextRequired(5000))
        );
        assert_eq!(
            check_submission(&case(CaseState::ReportSubmitted), me, "x"),
            Err(ViolationRefusal::ReportPending)
        );
        assert_eq!(
            check_submission(&case(CaseState::Accepted), me, "x"),
            Err(ViolationRefusal::Closed)
        );
    }

    #[test]
    fn the_administrator_decides_a_submitted_report_of_someone_else() {
        let admin = PersonId::new(1);
        let submitted = case(CaseState::ReportSubmitted);
        assert_eq!(check_decision(&submitted, admin, None), Ok(()));
        assert_eq!(
            check_decision(&submitted, admin, Some("請補充改正措施")),
            Ok(())
        );
        assert_eq!(
            check_decision(&submitted, admin, Some("")),
            Err(ViolationRefusal::TextRequired(1000))
        );
        assert_eq!(
            check_decision(&submitted, PersonId::new(7), None),
            Err(ViolationRefusal::SelfCase)
        );
        assert_eq!(
            check_decision(&case(CaseState::AwaitingReport), admin, None),
            Err(ViolationRefusal::NoReportPending)
        );
        assert_eq!(
            check_decision(&case(CaseState::Accepted), admin, None),
            Err(ViolationRefusal::Closed)
        );
    }

    #[test]
    fn nobody_files_a_case_against_themselves_and_a_case_says_what_and_why() {
        let a = PersonId::new(1);
        assert_eq!(
            check_filing(a, a, "§5", "x"),
            Err(ViolationRefusal::SelfCase)
        );
        assert_eq!(
            check_filing(a, PersonId::new(2), "", "x"),
            Err(ViolationRefusal::TextRequired(200))
        );
        assert_eq!(
            check_filing(a, PersonId::new(2), "§5 未登記查調", "平臺紀錄 SIM-1"),
            Ok(())
        );
    }

    #[test]
    fn a_reminder_goes_out_three_working_days_before_and_an_escalation_the_day_after() {
        let c = cal();
        // Due Monday 3/16: three working days before is Wednesday 3/11.
        let open = case(CaseState::AwaitingReport);
        assert_eq!(notice_due(&open, date(2026, 3, 10), &c), None);
        assert_eq!(
            notice_due(&open, date(2026, 3, 11), &c),
            Some(CaseNotice::Reminder)
        );
        assert_eq!(
            notice_due(&open, date(2026, 3, 16), &c),
            Some(CaseNotice::Reminder)
        );
        let reminded = CaseFacts {
            reminded_on: Some(date(2026, 3, 11)),
            ..open.clone()
        };
        assert_eq!(notice_due(&reminded, date(2026, 3, 12), &c), None);
        assert_eq!(
            notice_due(&reminded, date(2026, 3, 17), &c),
            Some(CaseNotice::Escalation)
        );
        let escalated = CaseFacts {
            escalated_on: Some(date(2026, 3, 17)),
            ..reminded
        };
        assert_eq!(notice_due(&escalated, date(2026, 3, 18), &c), None);
        assert_eq!(
            notice_due(&case(CaseState::ReportSubmitted), date(2026, 3, 20), &c),
            None
        );
    }

    #[test]
    fn sources_round_trip_through_their_stored_parts() {
        for s in [
            ViolationSource::ReviewFinding(4),
            ViolationSource::Audit(9),
            ViolationSource::Administrator,
        ] {
            assert_eq!(
                ViolationSource::from_parts(s.code(), s.reference()),
                Some(s)
            );
        }
        assert_eq!(ViolationSource::from_parts("audit", None), None);
    }
}
