//! The BLI platform's usage records as imported (§7 reconciliation). No personal data in
//! clear: the subject is an HMAC plus its masked form.

use querywarden_domain::org::PersonId;

use crate::error::{StorageError, classify};
use crate::sqlite::{Store, WriteTx};

/// One platform usage record, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformUsageRow {
    pub platform_record_id: String,
    pub at: String,
    pub agency_code: String,
    pub operator_account: String,
    pub item: String,
    pub subject_hmac: String,
    pub hmac_key_id: String,
    pub subject_masked: String,
    pub request_id: Option<String>,
    pub outcome: String,
}

impl WriteTx {
    pub async fn insert_usage_import(
        &mut self,
        imported_at: &str,
        imported_by: Option<i64>,
        file_sha256: &str,
        rows_in_file: u64,
    ) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO usage_log_imports (imported_at, imported_by, file_sha256, rows_in_file, rows_added) \
             VALUES (?, ?, ?, ?, 0) RETURNING id",
        )
        .bind(imported_at)
        .bind(imported_by)
        .bind(file_sha256)
        .bind(rows_in_file as i64)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(id)
    }

    /// Inserts the rows not seen before; returns how many were new.
    pub async fn insert_usage_rows(
        &mut self,
        import_id: i64,
        rows: &[PlatformUsageRow],
    ) -> Result<u64, StorageError> {
        let mut added = 0;
        for r in rows {
            let res = sqlx::query(
                "INSERT INTO platform_usage_records (platform_record_id, at, agency_code, operator_account, \
                 item, subject_hmac, hmac_key_id, subject_masked, request_id, outcome, import_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform_record_id) DO NOTHING",
            )
            .bind(&r.platform_record_id)
            .bind(&r.at)
            .bind(&r.agency_code)
            .bind(&r.operator_account)
            .bind(&r.item)
            .bind(&r.subject_hmac)
            .bind(&r.hmac_key_id)
            .bind(&r.subject_masked)
            .bind(&r.request_id)
            .bind(&r.outcome)
            .bind(import_id)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
            added += res.rows_affected();
        }
        sqlx::query("UPDATE usage_log_imports SET rows_added = ? WHERE id = ?")
            .bind(added as i64)
            .bind(import_id)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
        Ok(added)
    }
}

impl WriteTx {
    /// §7 with §4: records that the subject of platform record `platform_record_id` is the
    /// member of staff `person` (recognised at import). Recording it twice changes nothing.
    pub async fn link_usage_staff_subject(
        &mut self,
        platform_record_id: &str,
        person: PersonId,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO usage_staff_subjects (platform_record_id, person_id) VALUES (?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(platform_record_id)
        .bind(person.get())
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(())
    }
}

impl Store {
    /// The digests (key id, hex) of usage records whose subject is a member of staff, with
    /// the person: with [`Store::applicant_digests`], what a self-lookup is recognised by
    /// whichever key each side was digested under.
    pub async fn usage_staff_digests(
        &self,
    ) -> Result<Vec<(String, String, PersonId)>, StorageError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT DISTINCT u.hmac_key_id, u.subject_hmac, s.person_id \
             FROM usage_staff_subjects s \
             JOIN platform_usage_records u ON u.platform_record_id = s.platform_record_id",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(k, h, p)| (k, h, PersonId::new(p)))
            .collect())
    }

    pub async fn usage_record_count(&self) -> Result<u64, StorageError> {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM platform_usage_records")
            .fetch_one(&self.reader)
            .await
            .map_err(classify)?;
        Ok(n as u64)
    }

    /// Usage records of one subject (by HMAC), oldest first.
    pub async fn usage_records_for_subject(
        &self,
        subject_hmac: &str,
    ) -> Result<Vec<PlatformUsageRow>, StorageError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT platform_record_id, at, agency_code, operator_account, item, subject_hmac, \
             hmac_key_id, subject_masked, request_id, outcome FROM platform_usage_records \
             WHERE subject_hmac = ? ORDER BY at",
        )
        .bind(subject_hmac)
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, agency, op, item, hmac, key, masked, req, outcome)| PlatformUsageRow {
                    platform_record_id: id,
                    at,
                    agency_code: agency,
                    operator_account: op,
                    item,
                    subject_hmac: hmac,
                    hmac_key_id: key,
                    subject_masked: masked,
                    request_id: req,
                    outcome,
                },
            )
            .collect())
    }
}
