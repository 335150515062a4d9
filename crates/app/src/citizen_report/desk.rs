//! The contact officer's desk (個人資料保護法 §13): the list of requests with their deadline
//! and the working days left, and one request. Reading either is audited (§9), and so is a
//! refusal; neither shows the subject's ID (it stays sealed until a report is produced).

use querywarden_domain::audit_event::{AuditAction, SubjectDigest};
use querywarden_domain::citizen_report::working_days_left;
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::Person;
use querywarden_domain::roc_date::taipei_date;
use querywarden_storage::{CitizenRequestRow, Store};

use super::{Refusal, Stamp, as_contact, refuse};
use crate::AppError;

/// A request as the desk shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub row: CitizenRequestRow,
    /// Working days after today up to the deadline; negative once past it.
    pub working_days_left: i32,
    /// Past the deadline and not answered.
    pub overdue: bool,
}

fn line(row: CitizenRequestRow, stamp: Stamp<'_>, cal: &HolidayCalendar) -> RequestLine {
    let today = taipei_date(stamp.now);
    let left = working_days_left(today, row.due_on, cal);
    RequestLine {
        overdue: row.answered_on.is_none() && today > row.due_on,
        working_days_left: left,
        row,
    }
}

/// Every request, newest first (role: 個人資料保護聯絡窗口).
pub async fn requests(
    store: &Store,
    cal: &HolidayCalendar,
    contact: &Person,
    stamp: Stamp<'_>,
) -> Result<Result<Vec<RequestLine>, Refusal>, AppError> {
    let action = AuditAction::CitizenRequestViewed;
    let base = match as_contact(store, stamp, action, contact, "*").await? {
        Ok(ev) => ev,
        Err(r) => return Ok(Err(r)),
    };
    let rows = store.citizen_requests().await?;
    crate::audit::record(store, &base.detail("requests", rows.len())).await?;
    Ok(Ok(rows.into_iter().map(|r| line(r, stamp, cal)).collect()))
}

/// One request (role: 個人資料保護聯絡窗口).
pub async fn request(
    store: &Store,
    cal: &HolidayCalendar,
    contact: &Person,
    request_no: &str,
    stamp: Stamp<'_>,
) -> Result<Result<RequestLine, Refusal>, AppError> {
    let action = AuditAction::CitizenRequestViewed;
    let base = match as_contact(store, stamp, action, contact, request_no).await? {
        Ok(ev) => ev,
        Err(r) => return Ok(Err(r)),
    };
    let Some(row) = store.citizen_request(request_no).await? else {
        return refuse(store, base, Refusal::UnknownRequest).await;
    };
    let mut ev = base;
    ev.subject = Some(SubjectDigest {
        key_id: row.subject_key_id.clone(),
        hex: row.subject_digest.clone(),
    });
    crate::audit::record(store, &ev).await?;
    Ok(Ok(line(row, stamp, cal)))
}
