//! Stored text back into domain values, with one error shape: every read of every module
//! reports an undecodable column the same way (`StorageError::Decode`, naming what it was).

use jiff::Timestamp;
use querywarden_domain::roc_date::RocDate;

use crate::error::StorageError;

/// Wraps a parse failure of `what` as a decode error.
pub(crate) fn decode<T, E: std::fmt::Display>(
    what: &str,
    r: Result<T, E>,
) -> Result<T, StorageError> {
    r.map_err(|e| StorageError::Decode(format!("{what}: {e}")))
}

/// An instant stored as RFC 3339 text.
pub(crate) fn ts(s: &str) -> Result<Timestamp, StorageError> {
    decode("timestamp", s.parse::<Timestamp>())
}

pub(crate) fn opt_ts(s: Option<String>) -> Result<Option<Timestamp>, StorageError> {
    s.as_deref().map(ts).transpose()
}

/// A civil date stored as `YYYY-MM-DD`.
pub(crate) fn civil(s: &str) -> Result<jiff::civil::Date, StorageError> {
    decode("date", s.parse::<jiff::civil::Date>())
}

pub(crate) fn opt_civil(s: Option<String>) -> Result<Option<jiff::civil::Date>, StorageError> {
    s.as_deref().map(civil).transpose()
}

/// A civil date stored as `YYYY-MM-DD`, as the ROC date it is.
pub(crate) fn roc(s: &str) -> Result<RocDate, StorageError> {
    decode("date", RocDate::from_civil(civil(s)?))
}
