//! Dates in the ROC (民國) calendar, and the Asia/Taipei view of stored instants.
//!
//! Owns [`RocDate`] — a civil date on or after 民國 1 年 1 月 1 日 (1912-01-01) — with the
//! input forms people actually type (`114/03/05`, `1140305`, `民國114年3月5日`, full-width
//! digits …) and the forms the forms and pages print. The forms and reports are dated in the
//! ROC calendar (MISSION.md "The forms": 民國 year = Gregorian year − 1911).
//!
//! Also owns the three helpers that turn a UTC [`jiff::Timestamp`] (what storage keeps) into
//! what people in Taiwan see, and back: [`taipei_date`], [`format_taipei_datetime`],
//! [`taipei_day_start_utc`]. Nothing here reads a clock; instants come in as arguments.
//!
//! Not security-sensitive, but parse errors never echo the input (it may have been pasted
//! from anywhere), only small numbers already parsed out of it.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use jiff::civil::{Date, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, Zoned};

/// 民國 year = Gregorian year − 1911 (MISSION.md "Numbers worth knowing").
const ROC_OFFSET: i16 = 1911;
/// The largest ROC year jiff can represent (Gregorian 9999).
const MAX_ROC_YEAR: i16 = 9999 - ROC_OFFSET;
/// Longest input we look at; anything longer is not a date someone typed.
const MAX_INPUT_CHARS: usize = 64;

/// A civil date on or after 民國 1 年 1 月 1 日 (1912-01-01).
///
/// Construct with [`RocDate::parse`], [`RocDate::new`] or [`RocDate::from_civil`].
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct RocDate(Date);

/// Why a value is not an ROC date. Each variant names the rule that failed; none carries the
/// input text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RocDateError {
    #[error("未輸入日期")]
    Empty,
    #[error("日期字串過長（超過 {MAX_INPUT_CHARS} 字）")]
    TooLong,
    #[error("日期格式無法辨識；請用 114/03/05、1140305 或 民國114年3月5日 的寫法")]
    Format,
    #[error("日期早於民國元年（1912 年 1 月 1 日）；民國年須為 1 以上")]
    BeforeRoc,
    #[error("年份超出可處理範圍（最大為民國 {MAX_ROC_YEAR} 年）")]
    YearOutOfRange,
    #[error("月份應為 1 到 12，收到 {0}")]
    InvalidMonth(u32),
    /// `民國2026年3月5日`: a Western year written after 民國 would be read as AD 3937.
    #[error("「民國 {year} 年」是西元年份；民國年＝西元年－1911，請寫成 民國 {roc} 年", roc = year.saturating_sub(1911))]
    WesternYearAsRoc { year: u32 },
    /// A date the field cannot plausibly hold, such as `26/03/05` (民國 26 年, 1937) typed for
    /// this year's application date.
    #[error("日期須在 {} 到 {} 之間；若輸入的是西元年，請改用民國年（西元年－1911）", earliest.format_long(), latest.format_long())]
    OutsideWindow { earliest: RocDate, latest: RocDate },
    #[error("民國 {roc_year} 年 {month} 月沒有 {day} 日（該月共 {days_in_month} 天）")]
    InvalidDay {
        roc_year: i16,
        month: i8,
        day: u32,
        days_in_month: i8,
    },
}

impl RocDateError {
    /// Stable code for machines (API error bodies, CLI output).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "roc_date.empty",
            Self::TooLong => "roc_date.too_long",
            Self::Format => "roc_date.format",
            Self::BeforeRoc => "roc_date.before_roc",
            Self::YearOutOfRange => "roc_date.year_range",
            Self::InvalidMonth(_) => "roc_date.invalid_month",
            Self::WesternYearAsRoc { .. } => "roc_date.western_year_as_roc",
            Self::OutsideWindow { .. } => "roc_date.outside_window",
            Self::InvalidDay { .. } => "roc_date.invalid_day",
        }
    }

    /// English message, for the English UI.
    pub fn message_en(&self) -> String {
        match self {
            Self::Empty => "no date given".into(),
            Self::TooLong => format!("date text is too long (over {MAX_INPUT_CHARS} characters)"),
            Self::Format => {
                "unrecognised date format; write 114/03/05, 1140305, 民國114年3月5日 or 2025-03-05"
                    .into()
            }
            Self::BeforeRoc => {
                "date is before ROC year 1 (1912-01-01); the ROC year must be 1 or more".into()
            }
            Self::YearOutOfRange => format!("year out of range (at most ROC {MAX_ROC_YEAR})"),
            Self::InvalidMonth(m) => format!("month must be 1 to 12, got {m}"),
            Self::WesternYearAsRoc { year } => format!(
                "\"ROC {year}\" is a Western year; the ROC year is the Western year minus 1911 (ROC {})",
                year.saturating_sub(1911)
            ),
            Self::OutsideWindow { earliest, latest } => format!(
                "the date must be between {} and {}; for a Western year, subtract 1911 to get the ROC year",
                earliest.0, latest.0
            ),
            Self::InvalidDay {
                roc_year,
                month,
                day,
                days_in_month,
            } => {
                format!("ROC {roc_year}-{month:02} has no day {day} (it has {days_in_month} days)")
            }
        }
    }
}

impl RocDate {
    /// 民國 1 年 1 月 1 日, the earliest representable date.
    pub const MIN: RocDate = RocDate(Date::constant(1912, 1, 1));
    /// 9999-12-31 (民國 8088 年), the latest date jiff represents.
    pub const MAX: RocDate = RocDate(Date::MAX);

    /// Wraps a Gregorian civil date; dates before 1912 have no ROC year.
    pub fn from_civil(d: Date) -> Result<RocDate, RocDateError> {
        if d.year() < 1912 {
            return Err(RocDateError::BeforeRoc);
        }
        Ok(RocDate(d))
    }

    /// From ROC year, month, day.
    pub fn new(roc_year: i16, month: i8, day: i8) -> Result<RocDate, RocDateError> {
        Self::from_roc_parts(
            i32::from(roc_year),
            u32::try_from(month).unwrap_or(0),
            u32::try_from(day).unwrap_or(0),
        )
    }

    /// The Gregorian civil date.
    pub fn civil(self) -> Date {
        self.0
    }

    /// 民國 year (≥ 1).
    pub fn roc_year(self) -> i16 {
        self.0.year() - ROC_OFFSET
    }

    pub fn month(self) -> i8 {
        self.0.month()
    }

    pub fn day(self) -> i8 {
        self.0.day()
    }

    /// Parses the forms people type. Surrounding whitespace is ignored, full-width digits and
    /// punctuation are folded to ASCII. Accepted:
    ///
    /// - `114/03/05`, `114/3/5`, `114-03-05`, `114.03.05` (1–3 digit ROC year);
    /// - `1140305` (7 digits) and `990305` (6 digits, 2-digit ROC year);
    /// - `民國114年3月5日`, `民國 114 年 3 月 5 日`, `114年3月5日` (also `中華民國…`);
    /// - a 4-digit year without `民國` is Gregorian: `2025-03-05`, `2025/3/5`, `2025年3月5日`.
    ///
    /// Because of the last rule, ROC years of 1000 or more (AD 2911 on) must carry `民國`; and
    /// `民國` before a year of 1912 or more is a Western year typed by mistake, refused with
    /// [`RocDateError::WesternYearAsRoc`]. A field that knows which dates it can hold uses
    /// [`RocDate::parse_within`].
    pub fn parse(s: &str) -> Result<RocDate, RocDateError> {
        if s.chars().count() > MAX_INPUT_CHARS {
            return Err(RocDateError::TooLong);
        }
        let folded: String = s.chars().map(fold_char).collect();
        let mut rest = folded.trim();
        if rest.is_empty() {
            return Err(RocDateError::Empty);
        }
        let explicit_roc = if let Some(r) = rest.strip_prefix("中華民國") {
            rest = r;
            true
        } else if let Some(r) = rest.strip_prefix("民國") {
            rest = r;
            true
        } else {
            false
        };
        let rest = rest.trim_start();
        // A minus sign before the year: someone tried 民國 −1. Say so rather than "format".
        if rest.starts_with('-') && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
            return Err(RocDateError::BeforeRoc);
        }

        let (year, month, day) = split_fields(rest)?;
        let y: u32 = parse_number(year, 4)?;
        let m: u32 = parse_number(month, 2)?;
        let d: u32 = parse_number(day, 2)?;
        if year.len() == 4 && !explicit_roc {
            Self::from_gregorian_parts(y, m, d)
        } else if explicit_roc && y >= 1912 {
            // Nobody means AD 3823 or later: this is a Western year with 民國 in front.
            Err(RocDateError::WesternYearAsRoc { year: y })
        } else {
            Self::from_roc_parts(i32::try_from(y).unwrap_or(i32::MAX), m, d)
        }
    }

    /// Parses as [`RocDate::parse`] does, then refuses a date outside what the field can
    /// plausibly hold, so that `26/03/05` typed for this year's date (民國 26 年 = 1937) is
    /// refused instead of being kept as 1937.
    pub fn parse_within(s: &str, window: DateWindow) -> Result<RocDate, RocDateError> {
        let date = Self::parse(s)?;
        if date < window.earliest || date > window.latest {
            return Err(RocDateError::OutsideWindow {
                earliest: window.earliest,
                latest: window.latest,
            });
        }
        Ok(date)
    }

    /// The same day `years` years later (or earlier, when negative); 2/29 becomes 2/28.
    pub fn add_years(self, years: i16) -> RocDate {
        let year = self.0.year().saturating_add(years).clamp(1912, 9999);
        let day = self.0.day().min(
            Date::new(year, self.0.month(), 1)
                .map(|d| d.days_in_month())
                .unwrap_or(28),
        );
        Date::new(year, self.0.month(), day)
            .map(RocDate)
            .unwrap_or(if years < 0 { Self::MIN } else { Self::MAX })
    }

    fn from_roc_parts(roc_year: i32, month: u32, day: u32) -> Result<RocDate, RocDateError> {
        if roc_year < 1 {
            return Err(RocDateError::BeforeRoc);
        }
        let greg = u32::try_from(roc_year + i32::from(ROC_OFFSET)).unwrap_or(u32::MAX);
        Self::from_gregorian_parts(greg, month, day)
    }

    fn from_gregorian_parts(year: u32, month: u32, day: u32) -> Result<RocDate, RocDateError> {
        if year < 1912 {
            return Err(RocDateError::BeforeRoc);
        }
        let year = i16::try_from(year)
            .ok()
            .filter(|y| *y <= 9999)
            .ok_or(RocDateError::YearOutOfRange)?;
        let month = i8::try_from(month)
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or(RocDateError::InvalidMonth(month))?;
        let first = Date::new(year, month, 1).map_err(|_| RocDateError::InvalidMonth(0))?;
        let days_in_month = first.days_in_month();
        let invalid_day = RocDateError::InvalidDay {
            roc_year: year - ROC_OFFSET,
            month,
            day,
            days_in_month,
        };
        let day = i8::try_from(day)
            .ok()
            .filter(|d| (1..=days_in_month).contains(d))
            .ok_or_else(|| invalid_day.clone())?;
        Date::new(year, month, day)
            .map(RocDate)
            .map_err(|_| invalid_day)
    }

    /// `民國 114 年 3 月 5 日`: the form printed on forms and pages.
    pub fn format_long(self) -> String {
        format!(
            "民國 {} 年 {} 月 {} 日",
            self.roc_year(),
            self.month(),
            self.day()
        )
    }

    /// `114/03/05`: the compact form for tables.
    pub fn format_short(self) -> String {
        format!(
            "{:03}/{:02}/{:02}",
            self.roc_year(),
            self.month(),
            self.day()
        )
    }

    /// `2025-03-05 (ROC 114)`: for the English UI.
    pub fn format_en(self) -> String {
        format!("{} (ROC {})", self.0, self.roc_year())
    }
}

/// The dates a field can plausibly hold, inclusive at both ends (for instance an application
/// date: from a year ago to today).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct DateWindow {
    earliest: RocDate,
    latest: RocDate,
}

impl DateWindow {
    /// `years_back` years before `today` to `years_ahead` years after it.
    pub fn around(today: RocDate, years_back: i16, years_ahead: i16) -> DateWindow {
        DateWindow {
            earliest: today.add_years(-years_back),
            latest: today.add_years(years_ahead),
        }
    }

    pub fn earliest(self) -> RocDate {
        self.earliest
    }

    pub fn latest(self) -> RocDate {
        self.latest
    }
}

/// Full-width digits and date punctuation to ASCII; ideographic space to a space.
fn fold_char(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '／' => '/',
        '－' | '−' | '‐' => '-',
        '．' => '.',
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Splits the text after any `民國` prefix into (year, month, day) digit strings.
fn split_fields(s: &str) -> Result<(&str, &str, &str), RocDateError> {
    if let Some((year, rest)) = s.split_once('年') {
        let (month, rest) = rest.split_once('月').ok_or(RocDateError::Format)?;
        let day = rest
            .trim_end()
            .strip_suffix('日')
            .ok_or(RocDateError::Format)?;
        return Ok((year.trim(), month.trim(), day.trim()));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        // Compact forms: YYYMMDD or YYMMDD. A 4-digit year is never compact (that would be
        // the 8-digit Gregorian form, which we do not accept: too easy to confuse).
        return match s.len() {
            7 => Ok((&s[..3], &s[3..5], &s[5..])),
            6 => Ok((&s[..2], &s[2..4], &s[4..])),
            _ => Err(RocDateError::Format),
        };
    }
    let sep = s
        .chars()
        .find(|c| !c.is_ascii_digit())
        .ok_or(RocDateError::Format)?;
    if !matches!(sep, '/' | '-' | '.') {
        return Err(RocDateError::Format);
    }
    let mut parts = s.split(sep);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d), None) => Ok((y, m, d)),
        _ => Err(RocDateError::Format),
    }
}

/// A run of 1..=`max_len` ASCII digits.
fn parse_number(s: &str, max_len: usize) -> Result<u32, RocDateError> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RocDateError::Format);
    }
    s.parse().map_err(|_| RocDateError::Format)
}

impl fmt::Display for RocDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_long())
    }
}

impl FromStr for RocDate {
    type Err = RocDateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for RocDate {
    /// The ISO civil date (`2025-03-05`): unambiguous for other programs and for storage.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RocDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Asia/Taipei from the bundled tzdb. Taiwan has had no DST since 1979, so if the lookup
/// ever failed a fixed +08:00 is right for every date the system deals with.
static TAIPEI: LazyLock<TimeZone> = LazyLock::new(|| {
    TimeZone::get("Asia/Taipei").unwrap_or_else(|_| TimeZone::fixed(Offset::constant(8)))
});

fn taipei_zoned(ts: Timestamp) -> Zoned {
    ts.to_zoned(TAIPEI.clone())
}

/// The civil date in Asia/Taipei at `ts`. Instants before 民國 1 年 saturate to
/// [`RocDate::MIN`] (storage never holds such instants; this keeps the function total).
pub fn taipei_date(ts: Timestamp) -> RocDate {
    RocDate::from_civil(taipei_zoned(ts).date()).unwrap_or(RocDate::MIN)
}

/// `民國 115 年 11 月 26 日 10:19`: an instant as people in Taiwan read it (24-hour clock).
pub fn format_taipei_datetime(ts: Timestamp) -> String {
    let z = taipei_zoned(ts);
    format!(
        "{} {:02}:{:02}",
        taipei_date(ts).format_long(),
        z.hour(),
        z.minute()
    )
}

/// The instant at which `d` begins in Asia/Taipei (e.g. for "queries made on this day").
pub fn taipei_day_start_utc(d: RocDate) -> Timestamp {
    let midnight = d.0.to_datetime(Time::midnight());
    TAIPEI
        .to_timestamp(midnight)
        .or_else(|_| Offset::constant(8).to_timestamp(midnight))
        // Unreachable for 1912..=9999 (all inside Timestamp's range); keeps the function total.
        .unwrap_or(Timestamp::MAX)
}

/// What a date typed into a form stands for, and so which dates it can plausibly hold. One
/// table for every form and command (Form 1's effective date, the staff import, Form 4's plan,
/// the audit-trail search…), so that a Western year typed where an ROC date is expected —
/// `26/03/05` meant as 2026, read as 民國 26 年 = 1937 — is refused the same way everywhere
/// (MISSION.md "The forms": dates are ROC dates).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum DateField {
    /// When a grant, a personnel change or a role takes effect (§2): at most a year back (a
    /// change filed late) and a year ahead (a transfer announced early).
    Effective,
    /// A date of an audit plan (§8, Form 4: the period audited, the audit date, the deadline
    /// for documents): two years either side.
    AuditPlan,
    /// A bound of a search over what the system holds (§7, §8): records are kept for years
    /// (§6 `RECORDS_KEPT_YEARS`), so twenty years back; a year ahead at most.
    SearchBound,
}

impl DateField {
    /// The dates the field can hold, seen from `today` (Asia/Taipei).
    pub fn window(self, today: RocDate) -> DateWindow {
        match self {
            Self::Effective => DateWindow::around(today, 1, 1),
            Self::AuditPlan => DateWindow::around(today, 2, 2),
            Self::SearchBound => DateWindow::around(today, 20, 1),
        }
    }
}

impl RocDate {
    /// [`RocDate::parse_within`] the window of `field` seen from `today`.
    pub fn parse_field(s: &str, field: DateField, today: RocDate) -> Result<RocDate, RocDateError> {
        Self::parse_within(s, field.window(today))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_field_reads_an_roc_date_and_refuses_the_western_year_read_as_roc() {
        let today = RocDate::new(115, 11, 30).unwrap();
        for field in [
            DateField::Effective,
            DateField::AuditPlan,
            DateField::SearchBound,
        ] {
            // The ROC forms and the Gregorian form of the same day agree.
            for typed in ["115/12/01", "1151201", "民國115年12月1日", "2026-12-01"] {
                assert_eq!(
                    RocDate::parse_field(typed, field, today),
                    Ok(RocDate::new(115, 12, 1).unwrap()),
                    "{field:?} {typed}"
                );
            }
            // 26/03/05 meant as 2026: 民國 26 年 is 1937, outside every field's window.
            assert!(matches!(
                RocDate::parse_field("26/03/05", field, today),
                Err(RocDateError::OutsideWindow { .. })
            ));
            assert!(matches!(
                RocDate::parse_field("民國2026年3月5日", field, today),
                Err(RocDateError::WesternYearAsRoc { year: 2026 })
            ));
        }
        // The windows differ by what the field holds.
        assert!(RocDate::parse_field("113/01/01", DateField::Effective, today).is_err());
        assert!(RocDate::parse_field("113/12/01", DateField::AuditPlan, today).is_ok());
        assert!(RocDate::parse_field("100/01/01", DateField::SearchBound, today).is_ok());
        assert!(RocDate::parse_field("117/01/01", DateField::SearchBound, today).is_err());
    }

    fn d(y: i16, m: i8, day: i8) -> RocDate {
        RocDate::new(y, m, day).unwrap()
    }

    #[test]
    fn a_western_year_after_min_guo_is_refused_rather_than_read_as_the_year_3937() {
        for input in [
            "民國2026年3月5日",
            "民國 2026 年 3 月 5 日",
            "中華民國2026/03/05",
        ] {
            let err = RocDate::parse(input).unwrap_err();
            assert_eq!(
                err,
                RocDateError::WesternYearAsRoc { year: 2026 },
                "{input}"
            );
            assert_eq!(err.code(), "roc_date.western_year_as_roc");
            assert!(err.to_string().contains("民國 115 年"), "{err}");
            assert!(err.message_en().contains("ROC 115"), "{}", err.message_en());
        }
        // A real four-digit ROC year below 1912 is still a date (if an absurd one), and the
        // field's window is what refuses it.
        assert_eq!(RocDate::parse("民國1911年1月1日").unwrap().roc_year(), 1911);
    }

    #[test]
    fn a_window_refuses_a_two_digit_year_that_meant_this_century() {
        let today = d(115, 11, 30);
        let window = DateWindow::around(today, 1, 1);
        assert_eq!(window.earliest(), d(114, 11, 30));
        assert_eq!(window.latest(), d(116, 11, 30));
        // 26/03/05 is 民國 26 年 (1937), far outside this year's window.
        let err = RocDate::parse_within("26/03/05", window).unwrap_err();
        assert_eq!(err.code(), "roc_date.outside_window");
        assert!(err.to_string().contains("民國 114 年 11 月 30 日"), "{err}");
        assert_eq!(RocDate::parse_within("115/03/05", window), Ok(d(115, 3, 5)));
        assert_eq!(
            RocDate::parse_within("2026-03-05", window),
            Ok(d(115, 3, 5))
        );
        // Both ends are inside.
        assert!(RocDate::parse_within("114/11/30", window).is_ok());
        assert!(RocDate::parse_within("116/11/30", window).is_ok());
        assert!(RocDate::parse_within("114/11/29", window).is_err());
        assert!(RocDate::parse_within("116/12/01", window).is_err());
        // A format error stays a format error.
        assert_eq!(
            RocDate::parse_within("soon", window),
            Err(RocDateError::Format)
        );
    }

    #[test]
    fn adding_years_keeps_the_day_and_turns_a_leap_day_into_february_28() {
        assert_eq!(d(113, 2, 29).add_years(1), d(114, 2, 28));
        assert_eq!(d(113, 2, 29).add_years(4), d(117, 2, 29));
        assert_eq!(d(115, 3, 5).add_years(-5), d(110, 3, 5));
        // No ROC year before 1: the year stops at 民國 1.
        assert_eq!(d(1, 6, 1).add_years(-5), d(1, 6, 1));
    }

    #[test]
    fn every_accepted_format_reads_as_the_same_day() {
        let want = d(114, 3, 5);
        for input in [
            "114/03/05",
            "114/3/5",
            "114-03-05",
            "114.03.05",
            "1140305",
            "民國114年3月5日",
            "民國 114 年 3 月 5 日",
            "114年3月5日",
            "114年03月05日",
            "中華民國114年3月5日",
            "１１４／０３／０５",
            "民國１１４年３月５日",
            "１１４０３０５",
            "  114/03/05\t",
            "\u{3000}114/03/05\u{3000}",
            "2025-03-05",
            "2025/3/5",
            "2025年3月5日",
            "民國 114 年 3 月 5 日 ",
        ] {
            assert_eq!(RocDate::parse(input), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn six_digit_compact_form_is_a_two_digit_roc_year() {
        assert_eq!(RocDate::parse("990305"), Ok(d(99, 3, 5)));
        assert_eq!(RocDate::parse("010101"), Ok(d(1, 1, 1)));
    }

    #[test]
    fn rejections_name_the_failed_rule() {
        let cases: &[(&str, &str)] = &[
            ("", "roc_date.empty"),
            ("   ", "roc_date.empty"),
            ("114/13/01", "roc_date.invalid_month"),
            ("114/00/01", "roc_date.invalid_month"),
            ("114/02/29", "roc_date.invalid_day"),
            ("114/04/31", "roc_date.invalid_day"),
            ("114/01/00", "roc_date.invalid_day"),
            ("0/01/01", "roc_date.before_roc"),
            ("000/01/01", "roc_date.before_roc"),
            ("民國0年1月1日", "roc_date.before_roc"),
            ("-1/01/01", "roc_date.before_roc"),
            ("民國-5年1月1日", "roc_date.before_roc"),
            ("1911-12-31", "roc_date.before_roc"),
            ("0000-01-01", "roc_date.before_roc"),
            ("民國9000年1月1日", "roc_date.western_year_as_roc"),
            ("民國2026年3月5日", "roc_date.western_year_as_roc"),
            ("114/03", "roc_date.format"),
            ("114/03/05/01", "roc_date.format"),
            ("114/03-05", "roc_date.format"),
            ("11403051", "roc_date.format"),
            ("11405", "roc_date.format"),
            ("114年3月5", "roc_date.format"),
            ("114年3月5日後", "roc_date.format"),
            ("abc", "roc_date.format"),
            ("114/0a/05", "roc_date.format"),
            ("114/003/05", "roc_date.format"),
            ("12345/01/01", "roc_date.format"),
            ("114 03 05", "roc_date.format"),
        ];
        for (input, code) in cases {
            let err = RocDate::parse(input).unwrap_err();
            assert_eq!(err.code(), *code, "input {input:?}: {err}");
            assert!(!err.to_string().is_empty());
            assert!(!err.message_en().is_empty());
        }
    }

    #[test]
    fn huge_input_is_refused_without_echo() {
        let big = "9".repeat(10_000);
        let err = RocDate::parse(&big).unwrap_err();
        assert_eq!(err, RocDateError::TooLong);
        assert!(!err.to_string().contains("9999999"));
        assert!(!err.message_en().contains("9999999"));
    }

    #[test]
    fn leap_days_follow_the_gregorian_calendar() {
        assert_eq!(d(113, 2, 29).civil(), jiff::civil::date(2024, 2, 29));
        let err = RocDate::new(114, 2, 29).unwrap_err();
        assert_eq!(err.code(), "roc_date.invalid_day");
        assert_eq!(
            err.to_string(),
            "民國 114 年 2 月沒有 29 日（該月共 28 天）"
        );
        // 1900 was not a leap year, 2000 was; 民國 89 = 2000.
        assert!(RocDate::new(89, 2, 29).is_ok());
        assert!(RocDate::parse("2100-02-29").is_err());
    }

    #[test]
    fn year_zero_and_negative_years_are_rejected() {
        assert_eq!(RocDate::new(0, 1, 1), Err(RocDateError::BeforeRoc));
        assert_eq!(RocDate::new(-1, 1, 1), Err(RocDateError::BeforeRoc));
        assert_eq!(RocDate::new(i16::MIN, 1, 1), Err(RocDateError::BeforeRoc));
        assert_eq!(
            RocDate::new(i16::MAX, 1, 1),
            Err(RocDateError::YearOutOfRange)
        );
        assert_eq!(RocDate::new(1, -1, 1), Err(RocDateError::InvalidMonth(0)));
        assert_eq!(
            RocDate::from_civil(jiff::civil::date(1911, 12, 31)),
            Err(RocDateError::BeforeRoc)
        );
        assert_eq!(
            RocDate::from_civil(jiff::civil::date(1912, 1, 1)),
            Ok(RocDate::MIN)
        );
    }

    #[test]
    fn output_forms() {
        let x = d(114, 3, 5);
        assert_eq!(x.format_long(), "民國 114 年 3 月 5 日");
        assert_eq!(x.format_short(), "114/03/05");
        assert_eq!(x.to_string(), "民國 114 年 3 月 5 日");
        assert_eq!(x.format_en(), "2025-03-05 (ROC 114)");
        assert_eq!(d(99, 12, 31).format_short(), "099/12/31");
        assert_eq!((x.roc_year(), x.month(), x.day()), (114_i16, 3_i8, 5_i8));
        assert_eq!("114/3/5".parse::<RocDate>(), Ok(x));
    }

    #[test]
    fn serde_writes_iso_and_reads_any_form() {
        let x = d(114, 3, 5);
        assert_eq!(serde_json::to_string(&x).unwrap(), "\"2025-03-05\"");
        for s in ["\"2025-03-05\"", "\"114/03/05\"", "\"民國114年3月5日\""] {
            assert_eq!(serde_json::from_str::<RocDate>(s).unwrap(), x);
        }
        assert!(serde_json::from_str::<RocDate>("\"114/02/29\"").is_err());
    }

    #[test]
    fn every_date_from_roc_1_to_300_round_trips() {
        // Exhaustive (about 110 000 days), on top of the property test below.
        let mut day = RocDate::MIN.civil();
        let last = jiff::civil::date(300 + 1911, 12, 31);
        let mut count = 0;
        while day <= last {
            let r = RocDate::from_civil(day).unwrap();
            assert_eq!(RocDate::parse(&r.format_short()), Ok(r));
            assert_eq!(RocDate::parse(&r.format_long()), Ok(r));
            assert_eq!(RocDate::new(r.roc_year(), r.month(), r.day()), Ok(r));
            assert_eq!(r.civil(), day);
            day = day.tomorrow().unwrap();
            count += 1;
        }
        assert_eq!(count, 109_573);
    }

    proptest! {
        #[test]
        fn short_and_long_forms_round_trip(offset in 0_i32..109_573) {
            let day = RocDate::MIN.civil().checked_add(jiff::Span::new().days(offset)).unwrap();
            let r = RocDate::from_civil(day).unwrap();
            prop_assert!((1..=300).contains(&r.roc_year()));
            prop_assert_eq!(RocDate::parse(&r.format_short()), Ok(r));
            prop_assert_eq!(RocDate::parse(&r.format_long()), Ok(r));
            prop_assert_eq!(RocDate::parse(&r.civil().to_string()), Ok(r));
            prop_assert_eq!(RocDate::from_civil(r.civil()).map(RocDate::civil), Ok(day));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = RocDate::parse(&s);
        }
    }

    #[test]
    fn taipei_day_changes_at_16_utc() {
        let before: Timestamp = "2026-11-25T15:59:59Z".parse().unwrap();
        let after: Timestamp = "2026-11-25T16:00:00Z".parse().unwrap();
        assert_eq!(taipei_date(before), d(115, 11, 25));
        assert_eq!(taipei_date(after), d(115, 11, 26));
        assert_eq!(taipei_day_start_utc(d(115, 11, 26)), after);
    }

    #[test]
    fn taipei_datetime_is_24_hour_roc() {
        let ts: Timestamp = "2026-11-26T02:19:42Z".parse().unwrap();
        assert_eq!(format_taipei_datetime(ts), "民國 115 年 11 月 26 日 10:19");
        let ts: Timestamp = "2026-01-01T15:05:00Z".parse().unwrap();
        assert_eq!(format_taipei_datetime(ts), "民國 115 年 1 月 1 日 23:05");
    }

    #[test]
    fn instants_before_roc_saturate() {
        let ts: Timestamp = "1900-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(taipei_date(ts), RocDate::MIN);
        assert_eq!(taipei_date(Timestamp::MIN), RocDate::MIN);
    }
}
