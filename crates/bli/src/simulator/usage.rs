//! The simulated platform's own usage log: who asked which item about whom, when, and what
//! came back; exported as CSV and JSON Lines.
//!
//! Security-sensitive: like the real platform's record, it holds the subject's whole national
//! ID in clear. It lives only in the simulator's memory and its admin export; querywarden
//! stores only what it imports, under its own rules (`crate::usage_log`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::item::BliItem;
use crate::usage_log::{EXPORT_HEADER, write_csv_row};

/// One row of the simulator's usage log.
#[derive(Clone, PartialEq, Eq)]
pub struct UsageEntry {
    /// Unique per row and per simulator run, e.g. `SIM-18f3a2b4c5d-00000042`.
    pub record_id: String,
    pub at: jiff::Timestamp,
    pub agency_code: String,
    pub operator_account: String,
    pub item: BliItem,
    /// The whole national ID, in clear (this is the platform's own record).
    pub subject_id: String,
    pub request_id: Option<String>,
    /// `ok`, `not_found`, `not_insured`, `refused`, `error`, `timeout`, `malformed` or `reset`.
    pub outcome: String,
}

impl std::fmt::Debug for UsageEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked: String = self
            .subject_id
            .char_indices()
            .map(|(i, c)| if (3..7).contains(&i) { '*' } else { c })
            .collect();
        f.debug_struct("UsageEntry")
            .field("record_id", &self.record_id)
            .field("at", &self.at)
            .field("agency_code", &self.agency_code)
            .field("operator_account", &self.operator_account)
            .field("item", &self.item)
            .field("subject_id", &masked)
            .field("request_id", &self.request_id)
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// A shared handle on the log; clones see the same rows.
#[derive(Debug, Clone)]
pub struct UsageLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    prefix: String,
    next: AtomicU64,
    rows: Mutex<Vec<UsageEntry>>,
}

impl UsageLog {
    pub(crate) fn new() -> Self {
        let started = jiff::Timestamp::now().as_millisecond();
        Self {
            inner: Arc::new(Inner {
                prefix: format!("SIM-{started:x}"),
                next: AtomicU64::new(1),
                rows: Mutex::new(Vec::new()),
            }),
        }
    }

    fn rows(&self) -> MutexGuard<'_, Vec<UsageEntry>> {
        self.inner
            .rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends a row and returns its record id.
    pub(crate) fn record(
        &self,
        agency_code: &str,
        operator_account: &str,
        item: BliItem,
        subject_id: &str,
        request_id: &str,
        outcome: &str,
    ) -> String {
        let n = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let record_id = format!("{}-{n:08}", self.inner.prefix);
        self.rows().push(UsageEntry {
            record_id: record_id.clone(),
            at: jiff::Timestamp::now(),
            agency_code: agency_code.to_owned(),
            operator_account: operator_account.to_owned(),
            item,
            subject_id: subject_id.to_owned(),
            request_id: (!request_id.is_empty()).then(|| request_id.to_owned()),
            outcome: outcome.to_owned(),
        });
        record_id
    }

    /// A copy of every row, oldest first.
    pub fn entries(&self) -> Vec<UsageEntry> {
        self.rows().clone()
    }

    pub fn len(&self) -> usize {
        self.rows().len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows().is_empty()
    }

    /// CSV with a header line, CRLF line ends; the format `usage_log::parse_csv` reads with
    /// `ColumnMapping::default()`.
    pub fn to_csv(&self) -> String {
        let rows = self.rows();
        let mut out = String::with_capacity(64 + rows.len() * 120);
        write_csv_row(&mut out, &EXPORT_HEADER);
        for r in rows.iter() {
            let at = r.at.to_string();
            write_csv_row(
                &mut out,
                &[
                    &r.record_id,
                    &at,
                    &r.agency_code,
                    &r.operator_account,
                    r.item.code(),
                    &r.subject_id,
                    r.request_id.as_deref().unwrap_or(""),
                    &r.outcome,
                ],
            );
        }
        out
    }

    /// JSON Lines: one object per row with the CSV's field names.
    pub fn to_jsonl(&self) -> String {
        let rows = self.rows();
        let mut out = String::with_capacity(rows.len() * 200);
        for r in rows.iter() {
            let line = serde_json::json!({
                "record_id": r.record_id,
                "at": r.at.to_string(),
                "agency_code": r.agency_code,
                "operator_account": r.operator_account,
                "item": r.item.code(),
                "subject_id": r.subject_id,
                "request_id": r.request_id,
                "outcome": r.outcome,
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
        out
    }
}
