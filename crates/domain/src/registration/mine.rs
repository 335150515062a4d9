//! "My registrations" (我的查調登記): where each of a person's Form 2 rows and Form 3
//! requests stands, in words the person understands, with the list's filters and paging.
//!
//! Owns [`Standing`] (pending, approved, refused with the reason, cancelled, executed,
//! expired, destroyed), [`registration_standing`] (a Form 2 row's standing at an instant),
//! [`MineFilter`] (state, date range, page) and [`MineFilter::page_of`] (newest first). Pure:
//! the instant and the results' destruction come in as arguments.

use jiff::Timestamp;

use super::{Registration, RegistrationState};
use crate::roc_date::RocDate;

/// Rows per page of the list.
pub const PAGE_SIZE: usize = 20;

crate::code_enum! {
    /// Where a registration or request stands, as its applicant sees it.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
    pub enum Standing {
        /// 待核: waiting for an approval, a sign-off or the responsible unit's review.
        Pending = "pending";
        /// 已核准: approved and still valid, not yet (fully) run.
        Approved = "approved";
        /// 未核准: refused, with the reason.
        Refused = "refused";
        /// 已撤銷: withdrawn by a party, or cancelled by a personnel change.
        Cancelled = "cancelled";
        /// 已查調: run; its results are kept.
        Executed = "executed";
        /// 已逾期: approved but never run within the approval's validity.
        Expired = "expired";
        /// 已銷毀: run, and every result destroyed at the end of its keeping period (§6).
        Destroyed = "destroyed";
    }
}

/// A Form 2 row's standing at `now`. `results_destroyed` is `Some(true)` when it has results
/// and every one is destroyed, `Some(false)` when some are still kept, `None` when it has
/// none.
pub fn registration_standing(
    reg: &Registration,
    now: Timestamp,
    results_destroyed: Option<bool>,
) -> Standing {
    match &reg.state {
        RegistrationState::Registered { .. } => Standing::Pending,
        RegistrationState::Rejected { .. } => Standing::Refused,
        RegistrationState::Cancelled { .. } => Standing::Cancelled,
        RegistrationState::Approved { valid_until, .. } => {
            if !reg.executed_items.is_empty() {
                match results_destroyed {
                    Some(true) => Standing::Destroyed,
                    _ => Standing::Executed,
                }
            } else if now >= *valid_until {
                Standing::Expired
            } else {
                Standing::Approved
            }
        }
    }
}

/// Why a filter cannot be used. Never carries the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MineFilterError {
    #[error("狀態篩選不正確")]
    State,
    #[error("日期區間的結束日不得早於開始日")]
    Range,
    #[error("頁碼須為 1 以上的整數")]
    Page,
    #[error("日期格式不正確，請以民國年填寫，例如 115/3/5")]
    Date,
}

impl MineFilterError {
    pub fn code(self) -> &'static str {
        match self {
            Self::State => "mine.state",
            Self::Range => "mine.range",
            Self::Page => "mine.page",
            Self::Date => "mine.date",
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            Self::State => "unknown state filter",
            Self::Range => "the date range ends before it starts",
            Self::Page => "the page must be a whole number from 1",
            Self::Date => "the date is not valid; write it in the ROC calendar, e.g. 115/3/5",
        }
    }
}

/// The list's filters: a state, a range of filing dates (both ends inclusive), a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MineFilter {
    state: Option<Standing>,
    from: Option<RocDate>,
    until: Option<RocDate>,
    page: usize,
}

impl MineFilter {
    /// Parses the filters as typed (an empty field means any; the first page by default).
    pub fn parse(
        state: Option<&str>,
        from: Option<&str>,
        until: Option<&str>,
        page: Option<&str>,
    ) -> Result<MineFilter, MineFilterError> {
        fn given(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let state = match given(state) {
            None => None,
            Some(s) => Some(Standing::parse_code(s).ok_or(MineFilterError::State)?),
        };
        let date = |s: Option<&str>| -> Result<Option<RocDate>, MineFilterError> {
            given(s)
                .map(|d| RocDate::parse(d).map_err(|_| MineFilterError::Date))
                .transpose()
        };
        let (from, until) = (date(from)?, date(until)?);
        if let (Some(f), Some(u)) = (from, until)
            && u < f
        {
            return Err(MineFilterError::Range);
        }
        let page = match given(page) {
            None => 1,
            Some(p) => p.parse::<usize>().map_err(|_| MineFilterError::Page)?,
        };
        if page == 0 {
            return Err(MineFilterError::Page);
        }
        Ok(MineFilter {
            state,
            from,
            until,
            page,
        })
    }

    pub fn state(&self) -> Option<Standing> {
        self.state
    }

    pub fn from(&self) -> Option<RocDate> {
        self.from
    }

    pub fn until(&self) -> Option<RocDate> {
        self.until
    }

    pub fn page(&self) -> usize {
        self.page
    }

    /// Whether an entry filed on `date` standing so passes the filters.
    pub fn matches(&self, standing: Standing, date: RocDate) -> bool {
        self.state.is_none_or(|s| s == standing)
            && self.from.is_none_or(|f| f <= date)
            && self.until.is_none_or(|u| date <= u)
    }

    /// The filtered entries, newest first (by `created`), cut to this page; with the count
    /// of every entry that passed the filters.
    pub fn page_of<T>(
        &self,
        entries: Vec<T>,
        key: impl Fn(&T) -> (Standing, RocDate, Timestamp),
    ) -> (Vec<T>, usize) {
        let mut kept: Vec<T> = entries
            .into_iter()
            .filter(|e| {
                let (s, d, _) = key(e);
                self.matches(s, d)
            })
            .collect();
        kept.sort_by_key(|e| std::cmp::Reverse(key(e).2));
        let total = kept.len();
        let page = kept
            .into_iter()
            .skip((self.page - 1).saturating_mul(PAGE_SIZE))
            .take(PAGE_SIZE)
            .collect();
        (page, total)
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::catalogue::ServiceItemCode;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn a_registration_stands_in_the_state_its_applicant_would_name() {
        let mut reg = super::super::tests::registration(false);
        let now = at(2_000_000);
        assert_eq!(registration_standing(&reg, now, None), Standing::Pending);
        reg.state = RegistrationState::Rejected {
            by: reg.parties.querier,
            at: now,
            comment: "無關聯".into(),
        };
        assert_eq!(registration_standing(&reg, now, None), Standing::Refused);
        let approved = RegistrationState::Approved {
            by: reg.parties.querier,
            at: at(1_000_000),
            valid_until: at(1_000_000) + SignedDuration::from_hours(24),
        };
        reg.state = approved.clone();
        assert_eq!(
            registration_standing(&reg, at(1_000_010), None),
            Standing::Approved
        );
        assert_eq!(registration_standing(&reg, now, None), Standing::Expired);
        reg.executed_items
            .insert(ServiceItemCode::parse("C0101").unwrap());
        assert_eq!(
            registration_standing(&reg, now, Some(false)),
            Standing::Executed
        );
        assert_eq!(
            registration_standing(&reg, now, Some(true)),
            Standing::Destroyed
        );
        reg.state = RegistrationState::Cancelled {
            by: reg.parties.querier,
            at: now,
        };
        assert_eq!(registration_standing(&reg, now, None), Standing::Cancelled);
    }

    #[test]
    fn the_list_filters_by_state_and_dates_and_pages_newest_first() {
        let d = |day| RocDate::new(115, 3, day).unwrap();
        // 45 entries: day 1..=15, three each; every third refused.
        let entries: Vec<(Standing, RocDate, Timestamp)> = (0..45)
            .map(|i| {
                let s = if i % 3 == 0 {
                    Standing::Refused
                } else {
                    Standing::Pending
                };
                (s, d(1 + (i / 3) as i8), at(1_000 + i))
            })
            .collect();
        let all = MineFilter::parse(None, None, None, None).unwrap();
        let (page1, total) = all.page_of(entries.clone(), |e| *e);
        assert_eq!(total, 45);
        assert_eq!(page1.len(), PAGE_SIZE);
        assert_eq!(page1[0].2, at(1_044), "newest first");
        let third = MineFilter::parse(None, None, None, Some("3")).unwrap();
        let (page3, _) = third.page_of(entries.clone(), |e| *e);
        assert_eq!(page3.len(), 5);
        assert_eq!(page3[4].2, at(1_000));
        let refused =
            MineFilter::parse(Some("refused"), Some("115/3/2"), Some("115/3/4"), None).unwrap();
        let (rows, total) = refused.page_of(entries, |e| *e);
        assert_eq!(total, 3);
        assert!(rows.iter().all(|r| r.0 == Standing::Refused));
        assert!(rows.iter().all(|r| (d(2)..=d(4)).contains(&r.1)));
    }

    #[test]
    fn bad_filters_are_refused_with_their_codes() {
        let code = |r: Result<MineFilter, MineFilterError>| r.map(|_| ()).map_err(|e| e.code());
        assert_eq!(
            code(MineFilter::parse(Some("lost"), None, None, None)),
            Err("mine.state")
        );
        assert_eq!(
            code(MineFilter::parse(
                None,
                Some("115/3/5"),
                Some("115/3/4"),
                None
            )),
            Err("mine.range")
        );
        assert_eq!(
            code(MineFilter::parse(None, None, None, Some("0"))),
            Err("mine.page")
        );
        assert_eq!(
            code(MineFilter::parse(None, None, None, Some("two"))),
            Err("mine.page")
        );
        assert_eq!(
            code(MineFilter::parse(None, Some("115/13/40"), None, None)),
            Err("mine.date")
        );
        assert_eq!(code(MineFilter::parse(Some(""), None, None, None)), Ok(()));
    }
}
