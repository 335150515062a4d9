//! Citizens' access requests and §10 withholding marks (個人資料保護法 §10, §13), and the
//! search of the audit trail by subject that a citizen's report is built from.
//!
//! Security-sensitive: subjects are stored as keyed digests plus a sealed blob; the trail is
//! searched by digest only.

use querywarden_domain::org::PersonId;
use querywarden_domain::roc_date::RocDate;

use crate::DbRow;
use crate::audit::{StoredAuditRecord, record_from_row};
use crate::decode::{blob, get, opt_roc, roc, roc_text};
use crate::error::StorageError;
use crate::fetch::{BindBlob, Change, Execute, Fetch};
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

const REQUEST_COLUMNS: &str = "id, request_no, received_on, recorded_by, subject_hmac, \
     hmac_key_id, identity_check, asked, due_on, extension_reason, previous_due_on, answered_on, reminded_on, escalated_on, \
     signer_sha256";

fn request_from_row(r: DbRow) -> Result<CitizenRequestRow, StorageError> {
    let date = |col: &str| roc(&get::<String>(&r, col)?);
    let opt_date = |col: &str| opt_roc(get(&r, col)?);
    Ok(CitizenRequestRow {
        id: get(&r, "id")?,
        request_no: get(&r, "request_no")?,
        received_on: date("received_on")?,
        recorded_by: PersonId::new(get(&r, "recorded_by")?),
        subject_digest: get(&r, "subject_hmac")?,
        subject_key_id: get(&r, "hmac_key_id")?,
        identity_check: get(&r, "identity_check")?,
        asked: get(&r, "asked")?,
        due_on: date("due_on")?,
        extension_reason: get(&r, "extension_reason")?,
        previous_due_on: opt_date("previous_due_on")?,
        answered_on: opt_date("answered_on")?,
        reminded_on: opt_date("reminded_on")?,
        escalated_on: opt_date("escalated_on")?,
        signer_sha256: get(&r, "signer_sha256")?,
    })
}

/// A request by its number (on the read pool or in a write transaction).
async fn citizen_request_by_no<'e>(
    db: impl sqlx::AnyExecutor<'e>,
    request_no: &str,
) -> Result<Option<CitizenRequestRow>, StorageError> {
    sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM citizen_requests WHERE request_no = $1"
    ))
    .bind(request_no)
    .optional(db, request_from_row)
    .await
}

fn withholding_from_row(r: DbRow) -> Result<WithholdingRow, StorageError> {
    Ok(WithholdingRow {
        registration_id: get(&r, "registration_id")?,
        registration_no: get(&r, "reg_no")?,
        disclose_on: roc(&get::<String>(&r, "disclose_on")?)?,
        reason: get(&r, "reason")?,
        marked_by: PersonId::new(get(&r, "marked_by")?),
        marked_at: get(&r, "marked_at")?,
    })
}

const WITHHOLDING_SELECT: &str = "SELECT w.registration_id, r.reg_no, w.disclose_on, w.reason, \
     w.marked_by, w.marked_at FROM withholding_marks w JOIN registrations r ON r.id = w.registration_id";

impl WriteTx {
    pub async fn insert_citizen_request(
        &mut self,
        r: &NewCitizenRequest,
    ) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO citizen_requests (request_no, received_on, created_at, recorded_by, \
             subject_hmac, hmac_key_id, subject_sealed, subject_nonce, wrapped_key, wrap_nonce, \
             master_key_id, identity_check, asked, due_on, signer_sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(&r.request_no)
        .bind(roc_text(r.received_on))
        .bind(&r.created_at)
        .bind(r.recorded_by.get())
        .bind(&r.subject_digest)
        .bind(&r.subject_key_id)
        .bind_blob(&r.subject)
        .bind(&r.identity_check)
        .bind(&r.asked)
        .bind(roc_text(r.due_on))
        .bind(&r.signer_sha256)
        .one_in(self)
        .await?;
        Ok(id)
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
        sqlx::query(
            "UPDATE citizen_requests SET due_on = $1, previous_due_on = $2, extension_reason = $3, \
             reminded_on = NULL WHERE id = $4 AND extension_reason IS NULL",
        )
        .bind(roc_text(due_on))
        .bind(roc_text(previous_due_on))
        .bind(reason)
        .bind(id)
        .changed_in(self)
        .await
    }

    pub async fn answer_citizen_request(
        &mut self,
        id: i64,
        on: RocDate,
        by: PersonId,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE citizen_requests SET answered_on = $1, answered_by = $2 \
             WHERE id = $3 AND answered_on IS NULL",
        )
        .bind(roc_text(on))
        .bind(by.get())
        .bind(id)
        .changed_in(self)
        .await
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
            .bind(roc_text(on))
            .bind(id)
            .execute_in(self)
            .await?;
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
        .bind(roc_text(disclose_on))
        .bind(reason)
        .bind(by.get())
        .bind(at)
        .execute_in(self).await?;
        Ok(())
    }

    pub async fn withholding_of(
        &mut self,
        registration_id: i64,
    ) -> Result<Option<WithholdingRow>, StorageError> {
        sqlx::query(&format!(
            "{WITHHOLDING_SELECT} WHERE w.registration_id = $1"
        ))
        .bind(registration_id)
        .optional(&mut *self.tx, withholding_from_row)
        .await
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
        sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM citizen_requests ORDER BY id DESC"
        ))
        .all(&self.reader, request_from_row)
        .await
    }

    /// The request's subject, sealed (opened by the custody layer).
    pub async fn citizen_request_subject(
        &self,
        id: i64,
    ) -> Result<Option<SealedBlob>, StorageError> {
        sqlx::query(
            "SELECT subject_sealed AS sealed, subject_nonce AS nonce, wrapped_key, wrap_nonce, \
             master_key_id FROM citizen_requests WHERE id = $1",
        )
        .bind(id)
        .optional(&self.reader, |r| blob(&r, ""))
        .await
    }

    /// Every withholding mark, newest first (the ethics office's list).
    pub async fn withholdings(&self) -> Result<Vec<WithholdingRow>, StorageError> {
        sqlx::query(&format!("{WITHHOLDING_SELECT} ORDER BY w.id DESC"))
            .all(&self.reader, withholding_from_row)
            .await
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
        qb.build().all(&self.reader, record_from_row).await
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
        qb.build_query_as().all(&self.reader, Ok).await
    }
}
