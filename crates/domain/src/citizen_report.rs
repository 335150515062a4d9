//! A citizen's access report (個人資料保護法 §3, §10, §13): the request, its deadline, and the
//! §10 withholding marks.
//!
//! Owns the rules that do not need storage: how identity must have been checked before a
//! request is recorded, the fifteen-day decision period with its single fifteen-day extension
//! (§13, counted per 行政程序法 §48 by [`period_end`]), a supervisor's "disclose from DATE"
//! mark on a registration, and which audit actions a report lists ([`EntryKind`]). Pure: dates
//! come in, decisions go out. Messages never carry the subject's data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::audit_event::AuditAction;
use crate::deadline::{HolidayCalendar, add_working_days, period_end};
use crate::roc_date::RocDate;

/// 個人資料保護法 §13 I: the agency decides within fifteen days.
pub const DECISION_DAYS: i32 = 15;
/// 個人資料保護法 §13 I: extendable once, by no more than fifteen days, with the reason given.
pub const EXTENSION_DAYS: i32 = 15;
/// Longest free text kept for "what is asked" and reasons.
pub const MAX_TEXT_CHARS: usize = 500;

/// Why a citizen-report action is refused. Messages never carry the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CitizenReportError {
    #[error("未確認申請人身分：請選擇「臨櫃出示國民身分證」或「以本人自然人憑證簽章之申請」")]
    NoIdentityCheck,
    #[error("請填寫申請查詢之內容")]
    NothingAsked,
    #[error("文字過長（最多 500 字）")]
    TooLong,
    #[error("延長決定期間須敘明理由")]
    ExtensionWithoutReason,
    #[error("決定期間僅得延長一次")]
    SecondExtension,
    #[error("暫不揭露須敘明理由")]
    WithholdingWithoutReason,
    #[error("暫不揭露須填寫揭露日期")]
    WithholdingWithoutDate,
    #[error("揭露日期須晚於今日")]
    WithholdingDateNotFuture,
    #[error("此申請已答復")]
    AlreadyAnswered,
    #[error("以自然人憑證簽章之申請，須附申請書原文及其簽章（PKCS#7）")]
    SignatureMissing,
    #[error("申請書簽章驗證失敗，無法確認申請人身分")]
    SignatureInvalid,
    #[error("簽章之自然人憑證非當事人本人所有")]
    CardNotSubjects,
}

impl CitizenReportError {
    /// Stable code for machines and the audit trail.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoIdentityCheck => "citizen_report.no_identity_check",
            Self::NothingAsked => "citizen_report.nothing_asked",
            Self::TooLong => "citizen_report.too_long",
            Self::ExtensionWithoutReason => "citizen_report.extension_without_reason",
            Self::SecondExtension => "citizen_report.second_extension",
            Self::WithholdingWithoutReason => "citizen_report.withholding_without_reason",
            Self::WithholdingWithoutDate => "citizen_report.withholding_without_date",
            Self::WithholdingDateNotFuture => "citizen_report.withholding_date_not_future",
            Self::AlreadyAnswered => "citizen_report.already_answered",
            Self::SignatureMissing => "citizen_report.signature_missing",
            Self::SignatureInvalid => "citizen_report.signature_invalid",
            Self::CardNotSubjects => "citizen_report.card_not_subjects",
        }
    }

    /// English message, for the English UI.
    pub fn message_en(&self) -> String {
        match self {
            Self::NoIdentityCheck => "the requester's identity was not checked: choose \"in person with the national ID card\" or \"request signed with the citizen's own MOICA certificate\"",
            Self::NothingAsked => "say what the citizen asks for",
            Self::TooLong => "text is too long (at most 500 characters)",
            Self::ExtensionWithoutReason => "an extension of the decision period needs a reason",
            Self::SecondExtension => "the decision period can be extended only once",
            Self::WithholdingWithoutReason => "withholding an entry needs a reason",
            Self::WithholdingWithoutDate => "withholding an entry needs the date it is disclosed",
            Self::WithholdingDateNotFuture => "the disclosure date must be after today",
            Self::AlreadyAnswered => "this request has already been answered",
            Self::SignatureMissing => "a request signed with a MOICA certificate needs the signed text and its PKCS#7 signature",
            Self::SignatureInvalid => "the request's signature does not verify, so the requester's identity is not established",
            Self::CardNotSubjects => "the signing certificate is not the data subject's own",
        }
        .into()
    }
}

crate::code_enum! {
    @serde
    /// How the requester proved to be the data subject (§10 is the subject's own right).
    #[derive(Copy, Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
    pub enum IdentityCheck {
        /// 臨櫃出示國民身分證: in person at the counter with the national ID card.
        InPersonIdCard = "in_person_id_card", "臨櫃出示國民身分證";
        /// 以本人自然人憑證（MOICA）簽章之申請: a request signed with the citizen's own certificate.
        MoicaSigned = "moica_signed", "以本人自然人憑證簽章之申請";
    }
}

impl IdentityCheck {
    /// Parses a form or CLI value; a missing or unknown value is a request without an
    /// identity check, which §10 does not allow us to answer.
    pub fn parse(s: Option<&str>) -> Result<IdentityCheck, CitizenReportError> {
        Self::parse_code(s.map(str::trim).unwrap_or_default())
            .ok_or(CitizenReportError::NoIdentityCheck)
    }
}

impl fmt::Display for IdentityCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

fn required_text(s: &str, empty: CitizenReportError) -> Result<String, CitizenReportError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(empty);
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(CitizenReportError::TooLong);
    }
    Ok(t.to_string())
}

/// A checked request, ready to be recorded (the subject's ID is checked by [`crate::NationalId`]
/// and sealed by the app layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenRequest {
    pub identity: IdentityCheck,
    pub asked: String,
    pub received: RocDate,
    pub deadline: Deadline,
}

impl CitizenRequest {
    /// §10, §13: identity checked, something asked; the deadline runs from the day received.
    pub fn new(
        identity: Option<&str>,
        asked: &str,
        received: RocDate,
        cal: &HolidayCalendar,
    ) -> Result<CitizenRequest, CitizenReportError> {
        let identity = IdentityCheck::parse(identity)?;
        let asked = required_text(asked, CitizenReportError::NothingAsked)?;
        Ok(CitizenRequest {
            identity,
            asked,
            received,
            deadline: Deadline::starting(received, cal),
        })
    }
}

/// The §13 decision period: fifteen days from receipt, extended at most once by fifteen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub due: RocDate,
    pub extension: Option<Extension>,
}

/// The one extension allowed, with its reason (§13 I: 以書面通知請求人 with the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub reason: String,
    /// The deadline before the extension.
    pub previous_due: RocDate,
}

fn end_of(start: RocDate, days: i32, cal: &HolidayCalendar) -> RocDate {
    // `period_end` only moves forward within the calendar; a date it cannot represent as ROC
    // falls back to the start, which only happens at the end of the representable range.
    RocDate::from_civil(period_end(start.civil(), days, cal)).unwrap_or(start)
}

impl Deadline {
    /// §13 I and 行政程序法 §48: the day received is not counted; a last day that is a day off
    /// moves to the next working day.
    pub fn starting(received: RocDate, cal: &HolidayCalendar) -> Deadline {
        Deadline {
            due: end_of(received, DECISION_DAYS, cal),
            extension: None,
        }
    }

    /// §13 I: one extension of fifteen days, counted from the end of the first period.
    pub fn extend(
        &self,
        reason: &str,
        cal: &HolidayCalendar,
    ) -> Result<Deadline, CitizenReportError> {
        if self.extension.is_some() {
            return Err(CitizenReportError::SecondExtension);
        }
        let reason = required_text(reason, CitizenReportError::ExtensionWithoutReason)?;
        Ok(Deadline {
            due: end_of(self.due, EXTENSION_DAYS, cal),
            extension: Some(Extension {
                reason,
                previous_due: self.due,
            }),
        })
    }

    /// Past the last day and not answered: overdue.
    pub fn overdue(&self, today: RocDate) -> bool {
        today > self.due
    }
}

/// §10: a request signed with a MOICA card proves the requester is the subject only if the
/// card is the subject's own. The card carries the last four digits of the national ID
/// (MOICA's Subject Directory Attributes), so those must equal the subject's; a card that
/// states none cannot prove anything and is refused the same way.
pub fn card_is_subjects(
    subject: &crate::NationalId,
    card_last4: Option<&str>,
) -> Result<(), CitizenReportError> {
    match card_last4 {
        Some(l4) if l4 == subject.last4() => Ok(()),
        _ => Err(CitizenReportError::CardNotSubjects),
    }
}

/// Working days left before the §13 deadline: the working days after `today` up to and
/// including `due` (0 on the last day itself); once past it, minus the working days since.
pub fn working_days_left(today: RocDate, due: RocDate, cal: &HolidayCalendar) -> i32 {
    let count = |from: jiff::civil::Date, to: jiff::civil::Date| {
        let mut n = 0;
        let mut d = from;
        while d < to {
            let next = add_working_days(d, 1, cal);
            if next == d || next > to {
                break;
            }
            n += 1;
            d = next;
        }
        n
    };
    if today <= due {
        count(today.civil(), due.civil())
    } else {
        -count(due.civil(), today.civil())
    }
}

/// Working days before the §13 deadline when the contact officer is reminded.
pub const REMINDER_WORKING_DAYS_BEFORE: i32 = 3;

/// Which deadline notice an open request is due today.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum DeadlineNotice {
    /// To the contact officer: the deadline is at most three working days away.
    Reminder,
    /// To the officer and their unit's supervisor: the deadline passed unanswered.
    Escalation,
}

/// What the scheduler knows of a request to decide on a notice.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct DeadlineFacts {
    pub due: RocDate,
    pub answered: bool,
    pub reminded: bool,
    pub escalated: bool,
}

/// §13 I: a reminder from three working days before the deadline, an escalation from the
/// day after it, each once; nothing once the citizen is answered. An extension moves the
/// deadline, so a request reminded before its extension is reminded again before the new
/// one only if the caller clears `reminded` (the extension does).
pub fn notice_due(
    f: DeadlineFacts,
    today: RocDate,
    cal: &HolidayCalendar,
) -> Option<DeadlineNotice> {
    if f.answered {
        return None;
    }
    if today > f.due {
        return (!f.escalated).then_some(DeadlineNotice::Escalation);
    }
    if f.reminded {
        return None;
    }
    (working_days_left(today, f.due, cal) <= REMINDER_WORKING_DAYS_BEFORE)
        .then_some(DeadlineNotice::Reminder)
}

/// §10 exception (e.g. a child-protection or domestic-violence case where telling the subject
/// would endanger someone): a registration left out of reports until `disclose_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withholding {
    /// The first day the entry appears in reports again.
    pub disclose_on: RocDate,
    pub reason: String,
}

impl Withholding {
    /// Both a date after today and a reason are required; nothing else can be left out.
    pub fn new(
        disclose_on: Option<RocDate>,
        reason: &str,
        today: RocDate,
    ) -> Result<Withholding, CitizenReportError> {
        let disclose_on = disclose_on.ok_or(CitizenReportError::WithholdingWithoutDate)?;
        let reason = required_text(reason, CitizenReportError::WithholdingWithoutReason)?;
        if disclose_on <= today {
            return Err(CitizenReportError::WithholdingDateNotFuture);
        }
        Ok(Withholding {
            disclose_on,
            reason,
        })
    }

    /// Left out of a report produced on `today`: before the disclosure date, not on or after it.
    pub fn withholds_on(&self, today: RocDate) -> bool {
        today < self.disclose_on
    }
}

crate::code_enum! {
    /// What a report entry is about. Only these actions concern what the bureau did with the
    /// subject's data; sign-ins, searches of the trail and the like are not listed.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum EntryKind {
        /// 查調登記 (§4): registered, approved, rejected, cancelled.
        Registration = "registration", "查調登記";
        /// 附表三 request from a district office or agency (§5).
        Form3Request = "form3_request", "附表三查調申請";
        /// The query sent to the labour-insurance system, or refused before sending.
        Execution = "execution", "查調執行";
        View = "view", "檢視結果";
        Print = "print", "列印結果";
        /// The national ID shown unmasked.
        Reveal = "reveal", "顯示完整身分證號";
        Delivery = "delivery", "結果送交";
        Destruction = "destruction", "結果銷毀";
    }
}

impl EntryKind {
    pub fn from_action(a: AuditAction) -> Option<EntryKind> {
        use AuditAction as A;
        Some(match a {
            A::RegistrationCreated
            | A::RegistrationApproved
            | A::RegistrationRejected
            | A::RegistrationCancelled => Self::Registration,
            A::RequestCreated | A::RequestAccepted | A::RequestRejected => Self::Form3Request,
            A::ExecutionRefused | A::QuerySent | A::QueryResultReceived | A::QueryFailed => {
                Self::Execution
            }
            A::ResultViewed => Self::View,
            A::ResultPrinted => Self::Print,
            A::NationalIdRevealed => Self::Reveal,
            A::ResultDelivered => Self::Delivery,
            A::ResultDestroyed => Self::Destruction,
            _ => return None,
        })
    }
}

/// Whether staff appear by name or only by their unit (default: unit only, so the report
/// tells the citizen which office acted without exposing individual officers).
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffShown {
    #[default]
    UnitOnly,
    NameAndUnit,
}

#[cfg(test)]
mod tests;
