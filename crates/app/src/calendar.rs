//! The office calendar deadlines are counted with (行政程序法 §48: a period whose last day is
//! a day off ends on the next office day). The seed carries the years known when it was
//! written (2027 computed, not official); the administrator loads each year's official
//! 辦公日曆表 — the 人事行政總處's CSV file (西元日期, 星期, 是否放假, 備註) — which replaces
//! that year. A load is all or nothing, and audited, refusals too. From October the
//! administrators are reminded (an inbox notice, once per person and year) while next year's
//! official table is missing.

use jiff::Timestamp;
use jiff::civil::Date;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::deadline::{DeadlineError, HolidayCalendar, OfficialDay, OfficialYear};
use querywarden_domain::org::{Person, Role};
use querywarden_domain::roc_date::{RocDate, taipei_date};
use querywarden_storage::{CalendarYearRow, Store};

use crate::AppError;

/// The notice kind of the October reminder; its object is `calendar:<year>`.
pub const MISSING_YEAR_NOTICE: &str = "calendar.next_year_missing";

/// The first month in which next year's missing table is reminded (the 人事行政總處 publishes
/// it around mid-year).
const REMIND_FROM_MONTH: i8 = 10;

/// The calendar in force: the seed, with every loaded official year in its place.
pub async fn current(store: &Store) -> Result<HolidayCalendar, AppError> {
    let mut cal = HolidayCalendar::seeded().map_err(|e| AppError::seed("holiday calendar", e))?;
    for row in store.calendar_years().await? {
        let year = OfficialYear::from_json(&row.days)
            .map_err(|e| AppError::unreadable("official calendar year", e))?;
        cal = cal.with_official(&year);
    }
    Ok(cal)
}

/// The years loaded, for the administrator's page.
pub async fn loaded_years(store: &Store) -> Result<Vec<CalendarYearRow>, AppError> {
    Ok(store.calendar_years().await?)
}

/// Why a calendar file was refused: a stable code and the first problem, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarRefusal {
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl CalendarRefusal {
    fn bad_file(e: &DeadlineError) -> Self {
        CalendarRefusal {
            code: "calendar.bad_file",
            message_zh: format!("{e}；請上傳人事行政總處公布的整年辦公日曆表（CSV），全部未匯入。"),
            message_en: format!(
                "{}; upload the whole year's official office calendar (CSV) as published; nothing was loaded.",
                e.message_en()
            ),
        }
    }
}

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarLoaded {
    pub year: i16,
    pub holidays: usize,
    pub makeup_workdays: usize,
}

/// The table's rows, read with the csv crate: a header, then `20260101,四,2,開國紀念日`
/// (是否放假: 2 closed, 0 open).
fn read_csv(text: &str) -> Result<Vec<OfficialDay>, DeadlineError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| DeadlineError::Calendar(e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.first().map(String::as_str) != Some("西元日期") || header.len() < 3 {
        return Err(DeadlineError::Calendar(
            "the first line must be the header 西元日期,星期,是否放假,備註".into(),
        ));
    }
    let mut days = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let r = record.map_err(|e| DeadlineError::Calendar(format!("row {row}: {e}")))?;
        let field = |n: usize| r.get(n).unwrap_or_default();
        let raw = field(0);
        let date = (raw.len() == 8 && raw.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("{}-{}-{}", &raw[..4], &raw[4..6], &raw[6..]))
            .and_then(|iso| iso.parse::<Date>().ok())
            .ok_or_else(|| {
                DeadlineError::Calendar(format!("row {row}: the date must be YYYYMMDD"))
            })?;
        let day_off = match field(2) {
            "2" => true,
            "0" => false,
            _ => {
                return Err(DeadlineError::Calendar(format!(
                    "row {row}: 是否放假 must be 2 (closed) or 0 (open)"
                )));
            }
        };
        days.push(OfficialDay {
            date,
            weekday: field(1).to_string(),
            day_off,
            note: field(3).to_string(),
        });
    }
    Ok(days)
}

/// Loads one year's official table. `by` is the permission administrator (the page), or
/// `None` for the server's operator (the command line). The inner `Err` is a refusal, already
/// recorded.
pub async fn import_csv(
    store: &Store,
    by: Option<&Person>,
    text: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<CalendarLoaded, CalendarRefusal>, AppError> {
    let mut event =
        AuditEvent::system(now, AuditAction::CalendarImported, request_id).on("calendar", "-");
    if let Some(p) = by {
        event = event.by(Actor {
            person: p.id,
            role: Some(Role::PermissionAdministrator),
        });
    }
    let refuse = |event: AuditEvent, r: CalendarRefusal| async move {
        crate::audit::record_refusal(store, event, r.code).await?;
        Ok::<_, AppError>(Err(r))
    };
    if by.is_some_and(|p| !p.has_role(Role::PermissionAdministrator)) {
        let r = CalendarRefusal {
            code: "calendar.not_administrator",
            message_zh: "只有權限管理者可以匯入辦公日曆表".into(),
            message_en: "only the permission administrator loads the office calendar".into(),
        };
        return refuse(event, r).await;
    }
    let year = match read_csv(text).and_then(|days| OfficialYear::from_days(&days)) {
        Ok(y) => y,
        Err(e) => return refuse(event, CalendarRefusal::bad_file(&e)).await,
    };
    let loaded = CalendarLoaded {
        year: year.year,
        holidays: year.holidays.len(),
        makeup_workdays: year.makeup_workdays.len(),
    };
    let mut tx = store.begin().await?;
    tx.put_calendar_year(year.year, &year.to_json(), now, by.map(|p| p.id))
        .await?;
    let mut event = event
        .detail("year", year.year)
        .detail("holidays", loaded.holidays)
        .detail("makeup_workdays", loaded.makeup_workdays);
    event.object_id = year.year.to_string();
    tx.append_audit(&event).await?;
    tx.commit().await?;
    Ok(Ok(loaded))
}

/// 行政程序法 §48: the year `due` falls in when the calendar in force (seed and loaded
/// official years) does not list it — the deadline was then counted with weekends only, and
/// the page says so instead of passing it off as an office-calendar date.
pub async fn beyond_loaded_years(store: &Store, due: Date) -> Result<Option<i16>, AppError> {
    Ok(current(store).await?.uncovered_year(due))
}

impl crate::App {
    /// [`beyond_loaded_years`] in this application's store, for the pages that show a
    /// deadline (the ten-day review report, a review's due date).
    pub async fn deadline_beyond_calendar(&self, due: Date) -> Result<Option<i16>, AppError> {
        beyond_loaded_years(self.store(), due).await
    }
}

/// Next year, when from October on its official table is not loaded.
pub fn missing_next_year(cal: &HolidayCalendar, today: RocDate) -> Option<i16> {
    let next = today.civil().year() + 1;
    (today.month() >= REMIND_FROM_MONTH && !cal.is_official(next)).then_some(next)
}

/// The scheduler's reminder: every permission administrator gets one notice per missing
/// year (never a second, read or not). Returns how many notices were written.
pub async fn remind_missing_year(store: &Store, now: Timestamp) -> Result<usize, AppError> {
    let cal = current(store).await?;
    let Some(year) = missing_next_year(&cal, taipei_date(now)) else {
        return Ok(0);
    };
    let object = format!("calendar:{year}");
    let mut written = 0;
    let mut tx = store.begin().await?;
    for p in store.persons().await? {
        if !p.has_role(Role::PermissionAdministrator) {
            continue;
        }
        let told = store
            .notices_of(p.id)
            .await?
            .iter()
            .any(|n| n.kind == MISSING_YEAR_NOTICE && n.object == object);
        if !told {
            tx.insert_notice(p.id, MISSING_YEAR_NOTICE, &object, now)
                .await?;
            written += 1;
        }
    }
    tx.commit().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reminder_starts_in_october_and_stops_once_the_year_is_official() {
        let cal = HolidayCalendar::seeded().unwrap();
        let d = |y, m, day| RocDate::new(y, m, day).unwrap();
        assert_eq!(missing_next_year(&cal, d(115, 9, 30)), None);
        assert_eq!(missing_next_year(&cal, d(115, 10, 1)), Some(2027));
        // 2026 is official in the seed: in October 2025 nothing is missing.
        assert_eq!(missing_next_year(&cal, d(114, 10, 1)), None);
    }

    #[test]
    fn the_csv_reader_reads_the_published_form() {
        let days = read_csv("\u{feff}西元日期,星期,是否放假,備註\n20270101,五,2,開國紀念日\n20270102,六,0,補行上班\n").unwrap();
        assert_eq!(days.len(), 2);
        assert!(days[0].day_off && !days[1].day_off);
        assert_eq!(days[0].note, "開國紀念日");
        assert!(read_csv("date,weekday\n20270101,五\n").is_err());
        assert!(read_csv("西元日期,星期,是否放假,備註\n2027-01-01,五,2,\n").is_err());
        assert!(read_csv("西元日期,星期,是否放假,備註\n20270101,五,1,\n").is_err());
    }
}
