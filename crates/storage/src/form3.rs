//! Storage of Form 3's sign-offs and closed subjects (§5 ¶3): the office supervisor's consent,
//! the querier's and the using unit's supervisor's signatures, and subjects closed without a
//! query with their reason.

use jiff::Timestamp;
use querywarden_domain::org::PersonId;
use querywarden_domain::registration::form3::SignOff;

use crate::error::{StorageError, classify};
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

fn ts(s: &str) -> Result<Timestamp, StorageError> {
    s.parse::<Timestamp>()
        .map_err(|e| StorageError::Decode(format!("timestamp {s}: {e}")))
}

type SignOffRaw = (String, i64, String, i64, Option<i64>);

fn sign_off(
    (which, person, at, acting, acting_for): SignOffRaw,
) -> Result<SignOffRow, StorageError> {
    Ok(SignOffRow {
        which: SignOff::parse_code(&which)
            .ok_or_else(|| StorageError::Decode(format!("sign-off {which}")))?,
        person: PersonId::new(person),
        at: ts(&at)?,
        acting: acting != 0,
        acting_for: acting_for.map(PersonId::new),
    })
}

const SIGN_OFFS: &str = "SELECT role, person_id, at, acting, acting_for FROM query_request_signoffs \
     WHERE request_id = ? ORDER BY at";
const CLOSED: &str = "SELECT position, closed_by, closed_at, closed_reason FROM query_request_subjects \
     WHERE request_id = ? AND closed_at IS NOT NULL ORDER BY position";

type ClosedRaw = (i64, Option<i64>, Option<String>, Option<String>);

fn closed((position, by, at, reason): ClosedRaw) -> Result<ClosedSubjectRow, StorageError> {
    Ok(ClosedSubjectRow {
        position,
        by: PersonId::new(by.unwrap_or_default()),
        at: ts(at.as_deref().unwrap_or_default())?,
        reason: reason.unwrap_or_default(),
    })
}

impl Store {
    /// The sign-offs of request `id`, oldest first.
    pub async fn request_sign_offs(&self, id: i64) -> Result<Vec<SignOffRow>, StorageError> {
        let rows: Vec<SignOffRaw> = sqlx::query_as(SIGN_OFFS)
            .bind(id)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.into_iter().map(sign_off).collect()
    }

    /// The subjects of request `id` closed without a query.
    pub async fn closed_request_subjects(
        &self,
        id: i64,
    ) -> Result<Vec<ClosedSubjectRow>, StorageError> {
        let rows: Vec<ClosedRaw> = sqlx::query_as(CLOSED)
            .bind(id)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.into_iter().map(closed).collect()
    }
}

impl WriteTx {
    /// The sign-offs of request `id`, as the transaction sees them.
    pub async fn request_sign_offs(&mut self, id: i64) -> Result<Vec<SignOffRow>, StorageError> {
        let rows: Vec<SignOffRaw> = sqlx::query_as(SIGN_OFFS)
            .bind(id)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
        rows.into_iter().map(sign_off).collect()
    }

    /// The subjects of request `id` closed without a query, as the transaction sees them.
    pub async fn closed_request_subjects(
        &mut self,
        id: i64,
    ) -> Result<Vec<ClosedSubjectRow>, StorageError> {
        let rows: Vec<ClosedRaw> = sqlx::query_as(CLOSED)
            .bind(id)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
        rows.into_iter().map(closed).collect()
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
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(request)
        .bind(row.which.code())
        .bind(row.person.get())
        .bind(row.at.to_string())
        .bind(i64::from(row.acting))
        .bind(row.acting_for.map(PersonId::get))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
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
        let r = sqlx::query(
            "UPDATE query_request_subjects SET closed_at = ?, closed_by = ?, closed_reason = ? \
             WHERE request_id = ? AND position = ? AND closed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(by.get())
        .bind(reason)
        .bind(request)
        .bind(position)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(r.rows_affected() == 1)
    }
}
