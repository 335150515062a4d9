//! The official office calendars (辦公日曆表) the administrator loaded, one row per year
//! (行政程序法 §48 counts periods in office days). Stored as the seed calendar's JSON; the
//! domain reads and checks it.

use jiff::Timestamp;
use querywarden_domain::org::PersonId;

use crate::decode::{decode, ts};
use crate::error::StorageError;
use crate::fetch::{Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

/// A loaded year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarYearRow {
    pub year: i16,
    /// The year as the seed calendar's JSON.
    pub days: String,
    pub loaded_at: Timestamp,
    pub loaded_by: Option<PersonId>,
}

impl WriteTx {
    /// Stores (or replaces) the official calendar of `year`.
    pub async fn put_calendar_year(
        &mut self,
        year: i16,
        days: &str,
        at: Timestamp,
        by: Option<PersonId>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO holiday_calendar_years (year, days, loaded_at, loaded_by) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (year) DO UPDATE SET days = excluded.days, \
             loaded_at = excluded.loaded_at, loaded_by = excluded.loaded_by",
        )
        .bind(i64::from(year))
        .bind(days)
        .bind(at.to_string())
        .bind(by.map(PersonId::get))
        .execute_in(self)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Every loaded year, oldest first.
    pub async fn calendar_years(&self) -> Result<Vec<CalendarYearRow>, StorageError> {
        sqlx::query_as(
            "SELECT year, days, loaded_at, loaded_by FROM holiday_calendar_years ORDER BY year",
        )
        .all(
            &self.reader,
            |(year, days, at, by): (i64, String, String, Option<i64>)| {
                Ok(CalendarYearRow {
                    year: decode("year", i16::try_from(year))?,
                    days,
                    loaded_at: ts(&at)?,
                    loaded_by: by.map(PersonId::new),
                })
            },
        )
        .await
    }
}
