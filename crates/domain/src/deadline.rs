//! Periods and working days: the §8 "within ten days" deadline and reminder dates.
//!
//! Owns [`HolidayCalendar`] (the central-government office calendar, from
//! `seed/tw-gov-holidays.json`) and the two date computations built on it: [`period_end`]
//! (行政程序法 §48) and [`add_working_days`]. Pure: dates come in, dates go out.
//!
//! MISSION.md "Numbers worth knowing": a period is counted per 行政程序法 §48 — the first day
//! is not counted; a period whose last day is a Saturday, Sunday or holiday ends on the next
//! working day. For years the calendar does not cover, only weekends are days off (use
//! [`HolidayCalendar::covers`] to warn when that happens).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};
use serde::Deserialize;

/// Why a holiday calendar could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error("假日曆資料格式有誤：{0}")]
    Calendar(String),
}

impl DeadlineError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Calendar(_) => "deadline.calendar",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::Calendar(detail) => format!("holiday calendar data is invalid: {detail}"),
        }
    }
}

/// Which days government offices are closed: weekends, plus listed holidays, minus listed
/// make-up working days (補行上班).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HolidayCalendar {
    /// Weekday (or any) days off, with their names.
    holidays: BTreeMap<Date, String>,
    /// Saturdays or Sundays that are working days (補班).
    makeup_workdays: BTreeSet<Date>,
    /// Years the source lists; outside them only weekends count as days off.
    years: BTreeSet<i16>,
    /// Years taken from the official 辦公日曆表 (loaded by the administrator, or a seed year
    /// marked confirmed); the others were computed from the rules.
    official: BTreeSet<i16>,
}

#[derive(Deserialize)]
struct YearSeed {
    year: i16,
    /// `C`: taken from the official table; anything else was computed.
    #[serde(default)]
    confidence: String,
    holidays: Vec<DaySeed>,
    #[serde(default)]
    makeup_workdays: Vec<DaySeed>,
}

/// A listed day: either `{"date": "2026-01-01", "name": …}` or a bare `"2026-01-01"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum DaySeed {
    Entry {
        date: String,
        #[serde(default)]
        name: String,
    },
    Bare(String),
}

impl DaySeed {
    fn into_parts(self) -> Result<(Date, String), DeadlineError> {
        let (date, name) = match self {
            Self::Entry { date, name } => (date, name),
            Self::Bare(date) => (date, String::new()),
        };
        // jiff's serde feature is not enabled in the workspace; parse the ISO date here.
        let date = date
            .parse::<Date>()
            .map_err(|e| DeadlineError::Calendar(format!("bad date: {e}")))?;
        Ok((date, name))
    }
}

const HOLIDAYS_JSON: &str = include_str!("../seed/tw-gov-holidays.json");

impl HolidayCalendar {
    /// The embedded calendar: 2026 (official) and 2027 (computed; see the seed's notes).
    pub fn seeded() -> Result<Self, DeadlineError> {
        Self::from_json(HOLIDAYS_JSON)
    }

    /// Reads the format of `seed/tw-gov-holidays.json`: an array of
    /// `{year, holidays: [{date, name, …}], makeup_workdays: [...]}`.
    pub fn from_json(json: &str) -> Result<Self, DeadlineError> {
        let years: Vec<YearSeed> =
            serde_json::from_str(json).map_err(|e| DeadlineError::Calendar(e.to_string()))?;
        let mut cal = HolidayCalendar::default();
        for y in years {
            cal.years.insert(y.year);
            if y.confidence == "C" {
                cal.official.insert(y.year);
            }
            for h in y.holidays {
                let (date, name) = h.into_parts()?;
                cal.holidays.insert(date, name);
            }
            for m in y.makeup_workdays {
                let (date, _) = m.into_parts()?;
                if cal.holidays.contains_key(&date) {
                    return Err(DeadlineError::Calendar(format!(
                        "{date} is listed both as a holiday and as a make-up working day"
                    )));
                }
                cal.makeup_workdays.insert(date);
            }
        }
        Ok(cal)
    }

    /// An office day: not a listed holiday, and not a weekend unless listed as 補行上班.
    pub fn is_working_day(&self, d: Date) -> bool {
        if self.makeup_workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains_key(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The listed name of a holiday, if `d` is one.
    pub fn holiday_name(&self, d: Date) -> Option<&str> {
        self.holidays.get(&d).map(String::as_str)
    }

    /// Whether the calendar lists `year`; outside it, only weekends are known days off.
    pub fn covers(&self, year: i16) -> bool {
        self.years.contains(&year)
    }

    /// Whether `year` comes from the official 辦公日曆表 rather than from a computation.
    pub fn is_official(&self, year: i16) -> bool {
        self.official.contains(&year)
    }

    /// The calendar with `year` replaced by the official table: its days off and make-up
    /// working days are the table's, whatever the seed computed.
    pub fn with_official(mut self, table: &OfficialYear) -> Self {
        self.holidays.retain(|d, _| d.year() != table.year);
        self.makeup_workdays.retain(|d| d.year() != table.year);
        self.holidays
            .extend(table.holidays.iter().map(|(d, n)| (*d, n.clone())));
        self.makeup_workdays
            .extend(table.makeup_workdays.iter().copied());
        self.years.insert(table.year);
        self.official.insert(table.year);
        self
    }

    /// 行政程序法 §48: a deadline counted past the years the calendar lists is counted with
    /// weekends only; the year it falls in, so that the page can say so.
    pub fn uncovered_year(&self, d: Date) -> Option<i16> {
        (!self.covers(d.year())).then_some(d.year())
    }
}

/// One day of the official 辦公日曆表 as the 人事行政總處 publishes it (CSV: 西元日期, 星期,
/// 是否放假, 備註): the date, the weekday as printed, whether offices are closed, the note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialDay {
    pub date: Date,
    pub weekday: String,
    pub day_off: bool,
    pub note: String,
}

/// A whole year of the official office calendar, checked: every day of one year once, each
/// weekday as printed agreeing with the date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialYear {
    pub year: i16,
    /// Weekdays (Monday–Friday) offices are closed, with the table's note.
    pub holidays: BTreeMap<Date, String>,
    /// Saturdays and Sundays offices are open (補行上班).
    pub makeup_workdays: BTreeSet<Date>,
}

const WEEKDAYS_ZH: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];

impl OfficialYear {
    /// Checks the table's days. The whole year or nothing: a missing, repeated or foreign
    /// day, or a weekday that does not match its date, refuses the table.
    pub fn from_days(days: &[OfficialDay]) -> Result<OfficialYear, DeadlineError> {
        let first = days
            .first()
            .ok_or_else(|| DeadlineError::Calendar("the table has no days".into()))?;
        let year = first.date.year();
        let mut seen = BTreeSet::new();
        let mut holidays = BTreeMap::new();
        let mut makeup_workdays = BTreeSet::new();
        for (i, d) in days.iter().enumerate() {
            let row = i + 2;
            if d.date.year() != year {
                return Err(DeadlineError::Calendar(format!(
                    "row {row}: {} is not in {year}",
                    d.date
                )));
            }
            if !seen.insert(d.date) {
                return Err(DeadlineError::Calendar(format!(
                    "row {row}: {} is listed twice",
                    d.date
                )));
            }
            let expected =
                WEEKDAYS_ZH[usize::from(d.date.weekday().to_monday_zero_offset().unsigned_abs())];
            if d.weekday.trim() != expected {
                return Err(DeadlineError::Calendar(format!(
                    "row {row}: {} is a 星期{expected}, the table says 星期{}",
                    d.date,
                    d.weekday.trim()
                )));
            }
            let weekend = matches!(d.date.weekday(), Weekday::Saturday | Weekday::Sunday);
            match (weekend, d.day_off) {
                (false, true) => {
                    let name = if d.note.trim().is_empty() {
                        "放假".to_string()
                    } else {
                        d.note.trim().to_string()
                    };
                    holidays.insert(d.date, name);
                }
                (true, false) => {
                    makeup_workdays.insert(d.date);
                }
                _ => {}
            }
        }
        let days_in_year = first.date.days_in_year();
        if seen.len() != usize::try_from(days_in_year).unwrap_or(0) {
            return Err(DeadlineError::Calendar(format!(
                "the table lists {} days of {year}, which has {days_in_year}",
                seen.len()
            )));
        }
        Ok(OfficialYear {
            year,
            holidays,
            makeup_workdays,
        })
    }

    /// The year in the format of `seed/tw-gov-holidays.json` (what storage keeps).
    pub fn to_json(&self) -> String {
        let holidays: Vec<serde_json::Value> = self
            .holidays
            .iter()
            .map(|(d, n)| serde_json::json!({"date": d.to_string(), "name": n}))
            .collect();
        let makeup: Vec<String> = self.makeup_workdays.iter().map(|d| d.to_string()).collect();
        serde_json::json!({
            "year": self.year,
            "confidence": "C",
            "holidays": holidays,
            "makeup_workdays": makeup,
        })
        .to_string()
    }

    /// Reads back [`OfficialYear::to_json`].
    pub fn from_json(json: &str) -> Result<OfficialYear, DeadlineError> {
        let y: YearSeed =
            serde_json::from_str(json).map_err(|e| DeadlineError::Calendar(e.to_string()))?;
        let mut holidays = BTreeMap::new();
        for h in y.holidays {
            let (date, name) = h.into_parts()?;
            holidays.insert(date, name);
        }
        let mut makeup_workdays = BTreeSet::new();
        for m in y.makeup_workdays {
            makeup_workdays.insert(m.into_parts()?.0);
        }
        Ok(OfficialYear {
            year: y.year,
            holidays,
            makeup_workdays,
        })
    }
}

/// The next day, or `d` itself at the end of the representable calendar (keeps loops total).
fn next_day(d: Date) -> Date {
    d.tomorrow().unwrap_or(d)
}

/// First working day on or after `d`.
fn roll_forward(mut d: Date, cal: &HolidayCalendar) -> Date {
    while !cal.is_working_day(d) {
        let next = next_day(d);
        if next == d {
            break;
        }
        d = next;
    }
    d
}

/// Last day of a period of `days` calendar days beginning on `start` (行政程序法 §48).
///
/// §48 II: the day the period starts (e.g. the day the finding is notified) is not counted,
/// so the last day is `start + days`. §48 IV: if that day is a Saturday, Sunday or other day
/// off, the period ends on the next working day. Negative `days` count as 0.
pub fn period_end(start: Date, days: i32, cal: &HolidayCalendar) -> Date {
    let last = start
        .checked_add(jiff::Span::new().days(i64::from(days.max(0))))
        .unwrap_or(Date::MAX);
    roll_forward(last, cal)
}

/// The `n`-th working day after `start` (`start` itself not counted); `n <= 0` gives `start`.
/// For reminders ("remind after 3 working days").
pub fn add_working_days(start: Date, n: i32, cal: &HolidayCalendar) -> Date {
    let mut d = start;
    let mut left = n;
    while left > 0 {
        let next = next_day(d);
        if next == d {
            break;
        }
        d = next;
        if cal.is_working_day(d) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod official_tests {
    use super::*;

    /// The days of `year` as the official table lists them: weekends off, plus `off`
    /// weekdays, minus `open` weekend days.
    fn table(year: i16, off: &[(i8, i8)], open: &[(i8, i8)]) -> Vec<OfficialDay> {
        let mut d = Date::new(year, 1, 1).unwrap();
        let mut out = Vec::new();
        while d.year() == year {
            let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
            let md = (d.month(), d.day());
            let day_off = (weekend && !open.contains(&md)) || off.contains(&md);
            out.push(OfficialDay {
                date: d,
                weekday: WEEKDAYS_ZH
                    [usize::from(d.weekday().to_monday_zero_offset().unsigned_abs())]
                .to_string(),
                day_off,
                note: if off.contains(&md) {
                    "節日".into()
                } else {
                    String::new()
                },
            });
            d = d.tomorrow().unwrap();
        }
        out
    }

    #[test]
    fn an_official_table_replaces_the_computed_year() {
        let seeded = HolidayCalendar::seeded().unwrap();
        assert!(seeded.is_official(2026) && !seeded.is_official(2027));
        // 2027-02-08 (Monday) off, 2027-02-20 (Saturday) a make-up working day.
        let y = OfficialYear::from_days(&table(2027, &[(2, 8)], &[(2, 20)])).unwrap();
        assert_eq!(y.holidays.len(), 1);
        let cal = seeded.with_official(&OfficialYear::from_json(&y.to_json()).unwrap());
        assert!(cal.is_official(2027));
        let d = |m, day| Date::new(2027, m, day).unwrap();
        assert!(!cal.is_working_day(d(2, 8)));
        assert!(cal.is_working_day(d(2, 20)));
        // The computed 春節 days are gone: the official table is the only source for 2027.
        assert!(cal.is_working_day(d(2, 9)));
        assert_eq!(cal.uncovered_year(d(3, 1)), None);
        assert_eq!(
            cal.uncovered_year(Date::new(2030, 1, 2).unwrap()),
            Some(2030)
        );
    }

    #[test]
    fn an_incomplete_or_wrong_table_is_refused_whole() {
        let mut days = table(2027, &[], &[]);
        assert!(
            OfficialYear::from_days(&days[..364]).is_err(),
            "a day missing"
        );
        let mut twice = days.clone();
        twice[1] = twice[0].clone();
        assert!(OfficialYear::from_days(&twice).is_err(), "a day twice");
        days[3].weekday = "日".into();
        let e = OfficialYear::from_days(&days).unwrap_err();
        assert!(e.to_string().contains("row 5"), "{e}");
        assert!(OfficialYear::from_days(&[]).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> HolidayCalendar {
        HolidayCalendar::seeded().unwrap()
    }

    #[test]
    fn seed_loads_2026_and_2027() {
        let c = cal();
        assert!(c.covers(2026) && c.covers(2027) && !c.covers(2028));
        assert_eq!(
            c.holiday_name(date(2026, 2, 17)),
            Some("春節（農曆正月初一）")
        );
        assert!(!c.is_working_day(date(2026, 1, 1)));
        assert!(c.is_working_day(date(2026, 1, 2)));
        assert!(!c.is_working_day(date(2026, 1, 3)), "Saturday");
        assert!(!c.is_working_day(date(2026, 1, 4)), "Sunday");
    }

    #[test]
    fn days_off_in_2026_match_the_official_total_of_120() {
        let c = cal();
        let mut d = date(2026, 1, 1);
        let mut off = 0;
        while d.year() == 2026 {
            if !c.is_working_day(d) {
                off += 1;
            }
            d = d.tomorrow().unwrap();
        }
        assert_eq!(off, 120);
    }

    #[test]
    fn ten_days_ending_in_lunar_new_year_move_past_the_whole_break() {
        // Finding notified Friday 2026-02-06; day 10 is Monday 2/16 (除夕). 春節 2026 runs
        // Sat 2/14 – Sun 2/22 (9 days), so the period ends Monday 2/23.
        assert_eq!(period_end(date(2026, 2, 6), 10, &cal()), date(2026, 2, 23));
    }

    #[test]
    fn first_day_is_not_counted() {
        // Tuesday 2026-03-03 + 10 = Friday 3/13, a working day.
        assert_eq!(period_end(date(2026, 3, 3), 10, &cal()), date(2026, 3, 13));
        assert_eq!(period_end(date(2026, 3, 3), 0, &cal()), date(2026, 3, 3));
        assert_eq!(period_end(date(2026, 3, 3), -4, &cal()), date(2026, 3, 3));
    }

    #[test]
    fn last_day_on_a_weekend_moves_to_monday() {
        // Wednesday 2026-03-04 + 10 = Saturday 3/14 → Monday 3/16.
        assert_eq!(period_end(date(2026, 3, 4), 10, &cal()), date(2026, 3, 16));
        // Thursday 2026-03-05 + 10 = Sunday 3/15 → Monday 3/16.
        assert_eq!(period_end(date(2026, 3, 5), 10, &cal()), date(2026, 3, 16));
    }

    #[test]
    fn long_weekends_of_2026() {
        let c = cal();
        // Day 10 = Friday 4/3 (兒童節 substitute); 4/4–4/6 off → Tuesday 4/7.
        assert_eq!(period_end(date(2026, 3, 24), 10, &c), date(2026, 4, 7));
        // Day 10 = Friday 9/25 (中秋節); Sat, Sun, Monday 9/28 (教師節) off → Tuesday 9/29.
        assert_eq!(period_end(date(2026, 9, 15), 10, &c), date(2026, 9, 29));
        // Day 10 = Friday 10/9 (國慶日 substitute) → Monday 10/12.
        assert_eq!(period_end(date(2026, 9, 29), 10, &c), date(2026, 10, 12));
        // Day 10 = Friday 12/25 (行憲紀念日) → Monday 12/28.
        assert_eq!(period_end(date(2026, 12, 15), 10, &c), date(2026, 12, 28));
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let c = cal();
        // Finding on Thursday 2026-04-02, the day before the 4-day 兒童節/清明 break.
        assert_eq!(add_working_days(date(2026, 4, 2), 1, &c), date(2026, 4, 7));
        assert_eq!(add_working_days(date(2026, 4, 2), 3, &c), date(2026, 4, 9));
        // Finding on Friday 2026-02-13, before the 9-day 春節 break.
        assert_eq!(
            add_working_days(date(2026, 2, 13), 1, &c),
            date(2026, 2, 23)
        );
        assert_eq!(
            add_working_days(date(2026, 2, 13), 0, &c),
            date(2026, 2, 13)
        );
        // Starting on a day off: the next working day is the first.
        assert_eq!(
            add_working_days(date(2026, 2, 14), 1, &c),
            date(2026, 2, 23)
        );
        // Ten working days from Monday 2026-03-02: Monday 3/16.
        assert_eq!(
            add_working_days(date(2026, 3, 2), 10, &c),
            date(2026, 3, 16)
        );
    }

    #[test]
    fn makeup_workdays_are_honoured() {
        let json = r#"[{"year": 2030, "holidays": [{"date": "2030-01-02", "name": "x"}],
                        "makeup_workdays": [{"date": "2030-01-05"}, "2030-01-06"]}]"#;
        let c = HolidayCalendar::from_json(json).unwrap();
        assert!(!c.is_working_day(date(2030, 1, 2)));
        assert!(c.is_working_day(date(2030, 1, 5)), "make-up Saturday");
        assert!(c.is_working_day(date(2030, 1, 6)));
        // Tuesday 2030-01-01 + 1 = Wednesday 1/2 (listed off) → Thursday 1/3.
        assert_eq!(period_end(date(2030, 1, 1), 1, &c), date(2030, 1, 3));
        // Thursday 1/3 + 2 = Saturday 1/5, a make-up working day: the period ends there.
        assert_eq!(period_end(date(2030, 1, 3), 2, &c), date(2030, 1, 5));
    }

    #[test]
    fn bad_calendars_are_errors_not_panics() {
        for bad in [
            "",
            "{}",
            "[{\"year\": 2026}]",
            "[{\"year\": 2026, \"holidays\": [{\"date\": \"2026-02-30\"}]}]",
            "[{\"year\": 2026, \"holidays\": [\"2026-01-01\"], \"makeup_workdays\": [\"2026-01-01\"]}]",
        ] {
            let err = HolidayCalendar::from_json(bad).unwrap_err();
            assert_eq!(err.code(), "deadline.calendar");
        }
    }

    #[test]
    fn years_outside_the_calendar_count_weekends_only() {
        let c = cal();
        // 2030-01-01 is a Tuesday and not listed (only 2026–2027 are).
        assert!(c.is_working_day(date(2030, 1, 1)));
        assert_eq!(period_end(Date::MAX, 10, &c), Date::MAX);
        assert_eq!(add_working_days(Date::MAX, 3, &c), Date::MAX);
    }
}
