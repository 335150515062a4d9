//! Storage of Form 3's sign-offs and closed subjects (§5 ¶3): the office supervisor's consent,
//! the querier's and the using unit's supervisor's signatures, and subjects closed without a
//! query with their reason.

use std::collections::BTreeMap;

use jiff::Timestamp;
use querywarden_domain::org::PersonId;
use querywarden_domain::registration::form3::SignOff;

use sqlx::AnyExecutor;

use crate::decode::{coded, ts};
use crate::error::StorageError;
use crate::fetch::{Change, Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

/// One sign-off as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOffRow {
    pub which: SignOff,
    pub person: PersonId,
    pub at: Timestamp,
    /// Signed as 代理, in the supervisor's place.
    pub acting: bool,
    pub acting_for: Option<PersonId>,
}

/// A subject closed without a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedSubjectRow {
    pub position: i64,
    pub by: PersonId,
    pub at: Timestamp,
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct SignOffRecord {
    role: String,
    person_id: i64,
    at: String,
    acting: i64,
    acting_for: Option<i64>,
}

impl TryFrom<SignOffRecord> for SignOffRow {
    type Error = StorageError;

    fn try_from(r: SignOffRecord) -> Result<Self, StorageError> {
        Ok(SignOffRow {
            which: coded("sign-off", &r.role, SignOff::parse_code)?,
            person: PersonId::new(r.person_id),
            at: ts(&r.at)?,
            acting: r.acting != 0,
            acting_for: r.acting_for.map(PersonId::new),
        })
    }
}

#[derive(sqlx::FromRow)]
struct OpenSignOffRecord {
    request_id: i64,
    #[sqlx(flatten)]
    sign_off: SignOffRecord,
}

#[derive(sqlx::FromRow)]
struct ClosedRecord {
    position: i64,
    closed_by: Option<i64>,
    closed_at: Option<String>,
    closed_reason: Option<String>,
}

impl TryFrom<ClosedRecord> for ClosedSubjectRow {
    type Error = StorageError;

    fn try_from(r: ClosedRecord) -> Result<Self, StorageError> {
        Ok(ClosedSubjectRow {
            position: r.position,
            by: PersonId::new(r.closed_by.unwrap_or_default()),
            at: ts(r.closed_at.as_deref().unwrap_or_default())?,
            reason: r.closed_reason.unwrap_or_default(),
        })
    }
}

/// The sign-offs of request `id`, oldest first (on the read pool or in a write transaction).
async fn sign_offs<'e>(db: impl AnyExecutor<'e>, id: i64) -> Result<Vec<SignOffRow>, StorageError> {
    sqlx::query_as::<_, SignOffRecord>(
        "SELECT role, person_id, at, acting, acting_for FROM query_request_signoffs \
         WHERE request_id = $1 ORDER BY at",
    )
    .bind(id)
    .all(db, SignOffRow::try_from)
    .await
}

/// The subjects of request `id` closed without a query.
async fn closed_subjects<'e>(
    db: impl AnyExecutor<'e>,
    id: i64,
) -> Result<Vec<ClosedSubjectRow>, StorageError> {
    sqlx::query_as::<_, ClosedRecord>(
        "SELECT position, closed_by, closed_at, closed_reason FROM query_request_subjects \
         WHERE request_id = $1 AND closed_at IS NOT NULL ORDER BY position",
    )
    .bind(id)
    .all(db, ClosedSubjectRow::try_from)
    .await
}

impl Store {
    /// The sign-offs of request `id`, oldest first.
    pub async fn request_sign_offs(&self, id: i64) -> Result<Vec<SignOffRow>, StorageError> {
        sign_offs(&self.reader, id).await
    }

    /// The subjects of request `id` closed without a query.
    pub async fn closed_request_subjects(
        &self,
        id: i64,
    ) -> Result<Vec<ClosedSubjectRow>, StorageError> {
        closed_subjects(&self.reader, id).await
    }

    /// The sign-offs of every request still open (submitted or accepted), by request id, in
    /// one statement: a person's worklist checks each open request's signatures without a
    /// query per request.
    pub async fn open_request_sign_offs(
        &self,
    ) -> Result<BTreeMap<i64, Vec<SignOffRow>>, StorageError> {
        let rows: Vec<(i64, SignOffRow)> = sqlx::query_as(
            "SELECT s.request_id, s.role, s.person_id, s.at, s.acting, s.acting_for \
             FROM query_request_signoffs s JOIN query_requests r ON r.id = s.request_id \
             WHERE r.state IN ('submitted', 'accepted') ORDER BY s.request_id, s.at",
        )
        .all(&self.reader, |r: OpenSignOffRecord| {
            Ok((r.request_id, SignOffRow::try_from(r.sign_off)?))
        })
        .await?;
        let mut out: BTreeMap<i64, Vec<SignOffRow>> = BTreeMap::new();
        for (request, row) in rows {
            out.entry(request).or_default().push(row);
        }
        Ok(out)
    }
}

impl WriteTx {
    /// The sign-offs of request `id`, as the transaction sees them.
    pub async fn request_sign_offs(&mut self, id: i64) -> Result<Vec<SignOffRow>, StorageError> {
        sign_offs(&mut *self.tx, id)
            .await
            .map_err(|e| self.noted(e))
    }

    /// The subjects of request `id` closed without a query, as the transaction sees them.
    pub async fn closed_request_subjects(
        &mut self,
        id: i64,
    ) -> Result<Vec<ClosedSubjectRow>, StorageError> {
        closed_subjects(&mut *self.tx, id)
            .await
            .map_err(|e| self.noted(e))
    }
    /// Records a sign-off; a second of the same kind is refused by the database
    /// (`StorageError::Constraint`).
    pub async fn insert_request_sign_off(
        &mut self,
        request: i64,
        row: &SignOffRow,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO query_request_signoffs (request_id, role, person_id, at, acting, acting_for) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(request)
        .bind(row.which.code())
        .bind(row.person.get())
        .bind(row.at.to_string())
        .bind(i64::from(row.acting))
        .bind(row.acting_for.map(PersonId::get))
        .execute_in(self).await?;
        Ok(())
    }

    /// Closes subject `position` of request `request` without a query; false if it does not
    /// exist or is already closed.
    pub async fn close_request_subject(
        &mut self,
        request: i64,
        position: i64,
        by: PersonId,
        at: Timestamp,
        reason: &str,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE query_request_subjects SET closed_at = $1, closed_by = $2, closed_reason = $3 \
             WHERE request_id = $4 AND position = $5 AND closed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(by.get())
        .bind(reason)
        .bind(request)
        .bind(position)
        .changed_in(self)
        .await
    }
}
