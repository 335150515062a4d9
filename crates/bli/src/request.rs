//! [`QueryRequest`]: one question to BLI (who asks which item about whom).
//!
//! Security-sensitive: it holds the subject's [`NationalId`], whose `Debug` is masked. It can
//! only be built by [`QueryRequest::new`], which validates the other fields, so the app layer
//! can guard its construction behind an `ExecutionPermit`.

use querywarden_domain::NationalId;

use crate::item::BliItem;

/// One query to BLI.
///
/// `#[non_exhaustive]` forbids struct-literal construction outside this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryRequest {
    /// Correlates our ledger, the `X-Request-Id` header and the platform's usage log.
    pub request_id: String,
    pub item: BliItem,
    pub subject: NationalId,
    /// The bureau's agency code on the platform (機關代碼).
    pub agency_code: String,
    /// The querier's platform account (查詢者帳號).
    pub operator_account: String,
}

/// A field of a [`QueryRequest`] is unusable. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("查詢請求欄位「{field}」不正確：應為 1–{max} 個可見 ASCII 字元")]
pub struct QueryRequestError {
    pub field: &'static str,
    pub max: usize,
}

impl QueryRequest {
    /// Validates `request_id` (1–128) and `agency_code` / `operator_account` (1–64) as
    /// printable ASCII without spaces, which keeps them safe in a header and a CSV cell.
    pub fn new(
        request_id: impl Into<String>,
        item: BliItem,
        subject: NationalId,
        agency_code: impl Into<String>,
        operator_account: impl Into<String>,
    ) -> Result<Self, QueryRequestError> {
        let request_id = token("request_id", request_id.into(), 128)?;
        let agency_code = token("agency_code", agency_code.into(), 64)?;
        let operator_account = token("operator_account", operator_account.into(), 64)?;
        Ok(Self {
            request_id,
            item,
            subject,
            agency_code,
            operator_account,
        })
    }
}

fn token(field: &'static str, value: String, max: usize) -> Result<String, QueryRequestError> {
    let ok = !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(value)
    } else {
        Err(QueryRequestError { field, max })
    }
}
