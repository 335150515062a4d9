//! Citizens' access requests and §10 withholding marks (個人資料保護法 §10, §13), and the
//! search of the audit trail by subject that a citizen's report is built from.
//!
//! Security-sensitive: subjects are stored as keyed digests plus a sealed blob; the trail is
//! searched by digest only.

use jiff::civil::Date;
use querywarden_domain::org::PersonId;
use querywarden_domain::roc_date::RocDate;
use sqlx::Row;

use crate::audit::StoredAuditRecord;
use crate::error::{StorageError, classify};
use crate::registration::SealedBlob;
use crate::sqlite::{Store, WriteTx};

/// A request to record.
#[derive(Debug, Clone)]
pub struct NewCitizenRequest {
    pub request_no: String,
    pub received_on: RocDate,
    pub created_at: String,
    pub recorded_by: PersonId,
    pub subject_digest: String,
    pub subject_key_id: String,
    pub subject: SealedBlob,
    pub identity_check: String,
    pub asked: String,
    pub due_on: RocDate,
    /// §10: SHA-256 of the citizen's own certificate that signed the request, if signed.
    pub signer_sha256: Option<String>,
}

/// A request as stored (the sealed subject is read separately when needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenRequestRow {
    pub id: i64,
    pub request_no: String,
    pub received_on: RocDate,
    pub recorded_by: PersonId,
    pub subject_digest: String,
    pub subject_key_id: String,
    pub identity_check: String,
    pub asked: String,
    pub due_on: RocDate,
    pub extension_reason: Option<String>,
    pub previous_due_on: Option<RocDate>,
    pub answered_on: Option<RocDate>,
    /// §13: when the deadline reminder and the escalation went out (each once).
    pub reminded_on: Option<RocDate>,
    pub escalated_on: Option<RocDate>,
    pub signer_sha256: Option<String>,
}

/// A §10 withholding mark, with the registration's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithholdingRow {
    pub registration_id: i64,
    pub registration_no: String,
    pub disclose_on: RocDate,
    pub reason: String,
    pub marked_by: PersonId,
    pub marked_at: String,
}

fn iso(d: RocDate) -> String {
    d.civil().to_string()
}

fn roc(s: &str) -> Result<RocDate, StorageError> {
    s.parse::<Date>()
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .ok_or_else(|| StorageError::Decode(format!("date {s}")))
}

const REQUEST_COLUMNS: &str = "id, request_no, received_on, recorded_by, subject_hmac, \
     hmac_key_id, identity_check, asked, due_on, extension_reason, previous_due_on, answered_on, reminded_on, escalated_on, \
     signer_sha256";

fn request_from_row(r: &crate::DbRow) -> Result<CitizenRequestRow, StorageError> {
    let opt_date = |col: &str| -> Result<Option<RocDate>, StorageError> {
        let v: Option<String> = r.try_get(col).map_err(classify)?;
        v.as_deref().map(roc).transpose()
    };
    Ok(CitizenRequestRow {
        id: r.try_get("id").map_err(classify)?,
        request_no: r.try_get("request_no").map_err(classify)?,
        received_on: roc(&r.try_get::<String, _>("received_on").map_err(classify)?)?,
        recorded_by: PersonId::new(r.try_get("recorded_by").map_err(classify)?),
        subject_digest: r.try_get("subject_hmac").map_err(classify)?,
        subject_key_id: r.try_get("hmac_key_id").map_err(classify)?,
        identity_check: r.try_get("identity_check").map_err(classify)?,
        asked: r.try_get("asked").map_err(classify)?,
        due_on: roc(&r.try_get::<String, _>("due_on").map_err(classify)?)?,
        extension_reason: r.try_get("extension_reason").map_err(classify)?,
        previous_due_on: opt_date("previous_due_on")?,
        answered_on: opt_date("answered_on")?,
        reminded_on: opt_date("reminded_on")?,
        escalated_on: opt_date("escalated_on")?,
        signer_sha256: r.try_get("signer_sha256").map_err(classify)?,
    })
}

/// A request by its number (on the read pool or in a write transaction).
async fn citizen_request_by_no<'e>(
    db: impl sqlx::AnyExecutor<'e>,
    request_no: &str,
) -> Result<Option<CitizenRequestRow>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM citizen_requests WHERE request_no = $1"
    ))
    .bind(request_no)
    .fetch_optional(db)
    .await
    .map_err(classify)?;
    row.as_ref().map(request_from_row).transpose()
}

fn withholding_from_row(r: &crate::DbRow) -> Result<WithholdingRow, StorageError> {
    Ok(WithholdingRow {
        registration_id: r.try_get("registration_id").map_err(classify)?,
        registration_no: r.try_get("reg_no").map_err(classify)?,
        disclose_on: roc(&r.try_get::<String, _>("disclose_on").map_err(classify)?)?,
        reason: r.try_get("reason").map_err(classify)?,
        marked_by: PersonId::new(r.try_get("marked_by").map_err(classify)?),
        marked_at: r.try_get("marked_at").map_err(classify)?,
    })
}

const WITHHOLDING_SELECT: &str = "SELECT w.registration_id, r.reg_no, w.disclose_on, w.reason, \
     w.marked_by, w.marked_at FROM withholding_marks w JOIN registrations r ON r.id = w.registration_id";

impl WriteTx {
    pub async fn insert_citizen_request(
        &mut self,
        r: &NewCitizenRequest,
    ) -> Result<i64, StorageError> {
        let row = sqlx::query(
            "INSERT INTO citizen_requests (request_no, received_on, created_at, recorded_by, \
             subject_hmac, hmac_key_id, subject_sealed, subject_nonce, wrapped_key, wrap_nonce, \
             master_key_id, identity_check, asked, due_on, signer_sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(&r.request_no)
        .bind(iso(r.received_on))
        .bind(&r.created_at)
        .bind(r.recorded_by.get())
        .bind(&r.subject_digest)
        .bind(&r.subject_key_id)
        .bind(&r.subject.sealed)
        .bind(&r.subject.nonce)
        .bind(&r.subject.wrapped_key)
        .bind(&r.subject.wrap_nonce)
        .bind(&r.subject.master_key_id)
        .bind(&r.identity_check)
        .bind(&r.asked)
        .bind(iso(r.due_on))
        .bind(&r.signer_sha256)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        row.try_get("id").map_err(classify)
    }

    /// The request, read inside this transaction.
    pub async fn citizen_request(
        &mut self,
        request_no: &str,
    ) -> Result<Option<CitizenRequestRow>, StorageError> {
        citizen_request_by_no(&mut *self.tx, request_no).await
    }

    /// §13: the one extension; refuses (no row changed) if one was already recorded.
    pub async fn extend_citizen_request(
        &mut self,
        id: i64,
        due_on: RocDate,
        previous_due_on: RocDate,
        reason: &str,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE citizen_requests SET due_on = $1, previous_due_on = $2, extension_reason = $3, \
             reminded_on = NULL WHERE id = $4 AND extension_reason IS NULL",
        )
        .bind(iso(due_on))
        .bind(iso(previous_due_on))
        .bind(reason)
        .bind(id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn answer_citizen_request(
        &mut self,
        id: i64,
        on: RocDate,
        by: PersonId,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE citizen_requests SET answered_on = $1, answered_by = $2 \
             WHERE id = $3 AND answered_on IS NULL",
        )
        .bind(iso(on))
        .bind(by.get())
        .bind(id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(done.rows_affected() == 1)
    }

    /// §13: records that the deadline reminder (or the escalation) went out today.
    pub async fn mark_citizen_request_notice(
        &mut self,
        id: i64,
        escalated: bool,
        on: RocDate,
    ) -> Result<(), StorageError> {
        let sql = if escalated {
            "UPDATE citizen_requests SET escalated_on = $1 WHERE id = $2"
        } else {
            "UPDATE citizen_requests SET reminded_on = $1 WHERE id = $2"
        };
        sqlx::query(sql)
            .bind(iso(on))
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
        Ok(())
    }

    pub async fn insert_withholding(
        &mut self,
        registration_id: i64,
        disclose_on: RocDate,
        reason: &str,
        by: PersonId,
        at: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO withholding_marks (registration_id, disclose_on, reason, marked_by, marked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(registration_id)
        .bind(iso(disclose_on))
        .bind(reason)
        .bind(by.get())
        .bind(at)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(())
    }

    pub async fn withholding_of(
        &mut self,
        registration_id: i64,
    ) -> Result<Option<WithholdingRow>, StorageError> {
        let row = sqlx::query(&format!(
            "{WITHHOLDING_SELECT} WHERE w.registration_id = $1"
        ))
        .bind(registration_id)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(classify)?;
        row.as_ref().map(withholding_from_row).transpose()
    }
}

impl Store {
    pub async fn citizen_request(
        &self,
        request_no: &str,
    ) -> Result<Option<CitizenRequestRow>, StorageError> {
        citizen_request_by_no(&self.reader, request_no).await
    }

    /// Every request, newest first (the contact officer's list).
    pub async fn citizen_requests(&self) -> Result<Vec<CitizenRequestRow>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM citizen_requests ORDER BY id DESC"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        rows.iter().map(request_from_row).collect()
    }

    /// The request's subject, sealed (opened by the custody layer).
    pub async fn citizen_request_subject(
        &self,
        id: i64,
    ) -> Result<Option<SealedBlob>, StorageError> {
        let row = sqlx::query(
            "SELECT subject_sealed, subject_nonce, wrapped_key, wrap_nonce, master_key_id \
             FROM citizen_requests WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(classify)?;
        row.map(|r| {
            Ok(SealedBlob {
                sealed: r.try_get("subject_sealed").map_err(classify)?,
                nonce: r.try_get("subject_nonce").map_err(classify)?,
                wrapped_key: r.try_get("wrapped_key").map_err(classify)?,
                wrap_nonce: r.try_get("wrap_nonce").map_err(classify)?,
                master_key_id: r.try_get("master_key_id").map_err(classify)?,
            })
        })
        .transpose()
    }

    /// Every withholding mark, newest first (the ethics office's list).
    pub async fn withholdings(&self) -> Result<Vec<WithholdingRow>, StorageError> {
        let rows = sqlx::query(&format!("{WITHHOLDING_SELECT} ORDER BY w.id DESC"))
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter().map(withholding_from_row).collect()
    }

    /// Audit records about the subject known by any of `digests` (one per HMAC key ever
    /// used): records carrying the digest, and records on Form 3 requests that list the
    /// subject. Oldest first.
    pub async fn audit_records_of_subject(
        &self,
        digests: &[String],
    ) -> Result<Vec<StoredAuditRecord>, StorageError> {
        if digests.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = crate::builder::QueryBuilder::new(format!(
            "SELECT {} FROM audit_records WHERE subject_hmac IN (",
            crate::audit::RECORD_COLUMNS
        ));
        let mut list = qb.separated(", ");
        for d in digests {
            list.push_bind(d.clone());
        }
        qb.push(") OR (object_type = 'request' AND object_id IN (SELECT q.request_no FROM query_requests q JOIN query_request_subjects s ON s.request_id = q.id WHERE s.subject_hmac IN (");
        let mut list = qb.separated(", ");
        for d in digests {
            list.push_bind(d.clone());
        }
        qb.push("))) ORDER BY seq");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(classify)?;
        rows.iter().map(crate::audit::record_from_row).collect()
    }

    /// Registration ids by number, for matching trail records to withholding marks.
    pub async fn registration_ids_by_no(
        &self,
        numbers: &[String],
    ) -> Result<Vec<(String, i64)>, StorageError> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = crate::builder::QueryBuilder::new(
            "SELECT reg_no, id FROM registrations WHERE reg_no IN (",
        );
        let mut list = qb.separated(", ");
        for n in numbers {
            list.push_bind(n.clone());
        }
        qb.push(")");
        let rows = qb.build().fetch_all(&self.reader).await.map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("reg_no").map_err(classify)?,
                    r.try_get("id").map_err(classify)?,
                ))
            })
            .collect()
    }
}
