//! [`QueryRequest`]: one question to BLI (who asks which item about whom).
//!
//! Security-sensitive: it holds the subject's [`NationalId`], whose `Debug` is masked. Outside
//! tests it can only be built by [`QueryRequest::under_permit`], which takes the
//! [`ExecutionPermit`] that only `querywarden_domain::policy::may_execute` hands out (§5:
//! approval before the query runs). The subject is the permit's, i.e. exactly the approved one.
//! [`Connector::query`](crate::Connector::query) takes a `&QueryRequest`, so the connector
//! cannot be reached without a permit either.
//!
//! A request cannot be written as a struct literal outside this crate:
//!
//! ```compile_fail
//! use querywarden_bli::{BliItem, QueryRequest};
//! use querywarden_domain::NationalId;
//! let req = QueryRequest {
//!     request_id: "r".into(),
//!     item: BliItem::C0101,
//!     subject: NationalId::parse("A123456789").unwrap(),
//!     agency_code: "KHH-SOCBU".into(),
//!     operator_account: "lin.meiling".into(),
//! };
//! ```
//!
//! `QueryRequest::new`, which takes a subject without a permit, exists only in this crate's own
//! unit tests and behind the `testing` feature, which only `[dev-dependencies]` enable (the
//! simulator's and the importers' tests).

use querywarden_domain::NationalId;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::policy::ExecutionPermit;

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

/// Why a [`QueryRequest`] could not be built. Never carries the subject or a field's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryRequestError {
    /// A field is unusable in a header or a usage-log cell.
    #[error("查詢請求欄位「{field}」不正確：應為 1–{max} 個可見 ASCII 字元")]
    Field { field: &'static str, max: usize },
    /// §5: the permit was issued for other items than this one.
    #[error("執行許可未涵蓋查詢項目 {0}")]
    NotPermitted(ServiceItemCode),
    /// The item is a deployment's own catalogue entry, which BLI cannot answer (portal only).
    #[error("查詢項目 {0} 不是勞保局查調項目")]
    NotABliItem(ServiceItemCode),
}

impl QueryRequestError {
    /// The stable code of this failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Field { .. } => "bli.request_field",
            Self::NotPermitted(_) => "bli.request_not_permitted",
            Self::NotABliItem(_) => "bli.request_not_bli_item",
        }
    }
}

impl QueryRequest {
    /// The request for `item` under `permit` (§5): refused unless the permit covers `item`.
    /// Validates `request_id` (1–128) and `agency_code` / `operator_account` (1–64) as
    /// printable ASCII without spaces, which keeps them safe in a header and a CSV cell.
    pub fn under_permit(
        permit: &ExecutionPermit,
        item: &ServiceItemCode,
        request_id: impl Into<String>,
        agency_code: impl Into<String>,
        operator_account: impl Into<String>,
    ) -> Result<Self, QueryRequestError> {
        if !permit.covers(item) {
            return Err(QueryRequestError::NotPermitted(item.clone()));
        }
        let bli_item = BliItem::parse(item.as_str())
            .map_err(|_| QueryRequestError::NotABliItem(item.clone()))?;
        Self::build(
            request_id.into(),
            bli_item,
            permit.subject().clone(),
            agency_code.into(),
            operator_account.into(),
        )
    }

    /// A request without a permit, for the simulator's and importers' tests only (the
    /// `testing` feature is enabled by `[dev-dependencies]` alone).
    #[cfg(any(test, feature = "testing"))]
    pub fn new(
        request_id: impl Into<String>,
        item: BliItem,
        subject: NationalId,
        agency_code: impl Into<String>,
        operator_account: impl Into<String>,
    ) -> Result<Self, QueryRequestError> {
        Self::build(
            request_id.into(),
            item,
            subject,
            agency_code.into(),
            operator_account.into(),
        )
    }

    fn build(
        request_id: String,
        item: BliItem,
        subject: NationalId,
        agency_code: String,
        operator_account: String,
    ) -> Result<Self, QueryRequestError> {
        let request_id = token("request_id", request_id, 128)?;
        let agency_code = token("agency_code", agency_code, 64)?;
        let operator_account = token("operator_account", operator_account, 64)?;
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
        Err(QueryRequestError::Field { field, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_error_has_its_own_stable_code() {
        let item = ServiceItemCode::parse("C0101").unwrap();
        let codes = [
            QueryRequestError::Field {
                field: "request_id",
                max: 128,
            }
            .code(),
            QueryRequestError::NotPermitted(item.clone()).code(),
            QueryRequestError::NotABliItem(item).code(),
        ];
        assert_eq!(
            codes,
            [
                "bli.request_field",
                "bli.request_not_permitted",
                "bli.request_not_bli_item"
            ]
        );
    }

    /// A permit as `may_execute` hands it out: every §5 condition true, for C0101 only of a
    /// registration of C0101 and B0101.
    fn permit_for_c0101() -> ExecutionPermit {
        use jiff::{SignedDuration, Timestamp};
        use querywarden_domain::policy::{ExecutionRequest, SessionFacts, may_execute};
        let item = |s: &str| ServiceItemCode::parse(s).unwrap();
        let t0 = Timestamp::from_second(1_772_000_000).unwrap();
        let reg = querywarden_domain::testing::approved_registration(t0);
        may_execute(&ExecutionRequest {
            now: t0 + SignedDuration::from_hours(1),
            executor: querywarden_domain::org::PersonId::new(1),
            session: SessionFacts {
                certificate_authenticated: true,
                live: true,
                locked: false,
            },
            active_items: &[item("C0101"), item("B0101")].into(),
            registration: &reg,
            items: &[item("C0101")].into(),
            subject: &NationalId::parse("A123456789").unwrap(),
            subject_digest_now: "abc",
        })
        .unwrap()
    }

    #[test]
    fn a_request_under_a_permit_asks_about_the_approved_subject_for_a_permitted_item_only() {
        let permit = permit_for_c0101();
        let c0101 = ServiceItemCode::parse("C0101").unwrap();
        let req = QueryRequest::under_permit(&permit, &c0101, "req-1", "KHH-SOCBU", "lin.meiling")
            .unwrap();
        assert_eq!(req.item, BliItem::C0101);
        assert_eq!(req.subject.expose_whole(), "A123456789");
        // Registered, but not in this permit: §5 refuses it before anything is built.
        let b0101 = ServiceItemCode::parse("B0101").unwrap();
        assert_eq!(
            QueryRequest::under_permit(&permit, &b0101, "req-2", "KHH-SOCBU", "lin.meiling"),
            Err(QueryRequestError::NotPermitted(b0101))
        );
    }

    #[test]
    fn a_field_unsafe_in_a_header_is_refused_by_name() {
        let err = QueryRequest::new(
            "has space",
            BliItem::C0101,
            NationalId::parse("A123456789").unwrap(),
            "KHH-SOCBU",
            "lin.meiling",
        )
        .unwrap_err();
        assert_eq!(
            err,
            QueryRequestError::Field {
                field: "request_id",
                max: 128
            }
        );
    }
}
