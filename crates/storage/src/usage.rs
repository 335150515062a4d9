//! The BLI platform's usage records as imported (§7 reconciliation). No personal data in
//! clear: the subject is an HMAC plus its masked form.

use jiff::Timestamp;
use querywarden_domain::org::PersonId;

use crate::decode::opt_ts;
use crate::error::StorageError;
use crate::fetch::{Execute, Fetch};
use crate::oversight::OperatorUsageRow;
use crate::sqlite::{Store, WriteTx};

/// One platform usage record, ready to store (and read back as stored).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
             VALUES ($1, $2, $3, $4, 0) RETURNING id",
        )
        .bind(imported_at)
        .bind(imported_by)
        .bind(file_sha256)
        .bind(rows_in_file as i64)
        .one_in(self).await?;
        Ok(id)
    }

    /// Inserts the rows not seen before; returns how many were new. The rows go in bounded
    /// batches of [`USAGE_INSERT_BATCH`], one multi-row statement each, all inside this one
    /// transaction: a hundred thousand rows are two hundred statements, not a hundred
    /// thousand round trips to the connection's worker, and the import stays all or nothing.
    pub async fn insert_usage_rows(
        &mut self,
        import_id: i64,
        rows: &[PlatformUsageRow],
    ) -> Result<u64, StorageError> {
        let mut added = 0;
        for batch in rows.chunks(USAGE_INSERT_BATCH) {
            let mut qb = crate::builder::QueryBuilder::new(
                "INSERT INTO platform_usage_records (platform_record_id, at, agency_code, \
                 operator_account, item, subject_hmac, hmac_key_id, subject_masked, request_id, \
                 outcome, import_id) ",
            );
            qb.push_values(batch, |mut b, r| {
                b.push_bind(&r.platform_record_id)
                    .push_bind(&r.at)
                    .push_bind(&r.agency_code)
                    .push_bind(&r.operator_account)
                    .push_bind(&r.item)
                    .push_bind(&r.subject_hmac)
                    .push_bind(&r.hmac_key_id)
                    .push_bind(&r.subject_masked)
                    .push_bind(&r.request_id)
                    .push_bind(&r.outcome)
                    .push_bind(import_id);
            });
            qb.push(" ON CONFLICT (platform_record_id) DO NOTHING");
            let res = qb.build().execute_in(self).await?;
            added += res.rows_affected();
        }
        sqlx::query("UPDATE usage_log_imports SET rows_added = $1 WHERE id = $2")
            .bind(added as i64)
            .bind(import_id)
            .execute_in(self)
            .await?;
        Ok(added)
    }
}

/// The statement of [`Store::usage_by_operator`] for `pairs` (operator account, item) pairs,
/// with or without the bound on the last use: `$1`/`$2` the counted span, `$3` the bound if
/// any, then the pairs two by two as a `VALUES` list (columns `column1`, `column2` on SQLite
/// and PostgreSQL alike, so one SQL text serves both).
pub(crate) fn usage_by_operator_sql(last_bound: bool, pairs: usize) -> String {
    let first_pair = if last_bound { 4 } else { 3 };
    let last_bound = if last_bound { " AND u.at < $3" } else { "" };
    let values: Vec<String> = (0..pairs.max(1))
        .map(|n| {
            let a = first_pair + 2 * n;
            format!("(${a}, ${})", a + 1)
        })
        .collect();
    format!(
        "SELECT j.column1, j.column2, \
         (SELECT count(*) FROM platform_usage_records u WHERE u.operator_account = j.column1 \
          AND u.item = j.column2 AND u.at >= $1 AND u.at < $2), \
         (SELECT max(u.at) FROM platform_usage_records u WHERE u.operator_account = j.column1 \
          AND u.item = j.column2{last_bound}) \
         FROM (VALUES {}) AS j",
        values.join(", ")
    )
}

/// Operator pairs asked per statement of [`Store::usage_by_operator`]: two bound values a
/// pair keeps a statement well below SQLite's 32,766 and PostgreSQL's 65,535 values.
const OPERATOR_PAIRS_PER_STATEMENT: usize = 4_000;

/// Rows per multi-row INSERT of an import: 11 bound values a row keeps a batch at 5,500
/// values, well below SQLite's limit of 32,766 per statement.
pub const USAGE_INSERT_BATCH: usize = 500;

impl WriteTx {
    /// §7 with §4: records that the subject of platform record `platform_record_id` is the
    /// member of staff `person` (recognised at import). Recording it twice changes nothing.
    pub async fn link_usage_staff_subject(
        &mut self,
        platform_record_id: &str,
        person: PersonId,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO usage_staff_subjects (platform_record_id, person_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(platform_record_id)
        .bind(person.get())
        .execute_in(self)
        .await?;
        Ok(())
    }
}

impl Store {
    /// §7 usage by operator: for each (operator account, item) asked, how many platform
    /// records fall in `[count_from, count_to)` and the last one before `last_before` (any, if
    /// `None`). One statement; each pair is two searches of the index on (operator account,
    /// item, time) from migration 0024, so the cost follows the pairs asked, not the log.
    /// (Text comparison on the stored instants.)
    pub async fn usage_by_operator(
        &self,
        pairs: &[(String, String)],
        count_from: Timestamp,
        count_to: Timestamp,
        last_before: Option<Timestamp>,
    ) -> Result<Vec<OperatorUsageRow>, StorageError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(OPERATOR_PAIRS_PER_STATEMENT) {
            let sql = usage_by_operator_sql(last_before.is_some(), chunk.len());
            let mut q = sqlx::query_as::<_, (String, String, i64, Option<String>)>(&sql)
                .bind(count_from.to_string())
                .bind(count_to.to_string());
            if let Some(t) = last_before {
                q = q.bind(t.to_string());
            }
            for (account, item) in chunk {
                q = q.bind(account).bind(item);
            }
            let found: Vec<_> = q
                .all(&self.reader, |(operator_account, item, count, last)| {
                    Ok(OperatorUsageRow {
                        operator_account,
                        item,
                        count: u32::try_from(count).unwrap_or(u32::MAX),
                        last_at: opt_ts(last)?,
                    })
                })
                .await?;
            rows.extend(found);
        }
        Ok(rows)
    }

    /// The digests (key id, hex) of usage records whose subject is a member of staff, with
    /// the person: with [`Store::applicant_digests`], what a self-lookup is recognised by
    /// whichever key each side was digested under.
    pub async fn usage_staff_digests(
        &self,
    ) -> Result<Vec<(String, String, PersonId)>, StorageError> {
        sqlx::query_as(
            "SELECT DISTINCT u.hmac_key_id, u.subject_hmac, s.person_id \
             FROM usage_staff_subjects s \
             JOIN platform_usage_records u ON u.platform_record_id = s.platform_record_id",
        )
        .all(&self.reader, |(k, h, p)| Ok((k, h, PersonId::new(p))))
        .await
    }

    pub async fn usage_record_count(&self) -> Result<u64, StorageError> {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM platform_usage_records")
            .one(&self.reader)
            .await?;
        Ok(n as u64)
    }

    /// Usage records of one subject (by HMAC), oldest first.
    pub async fn usage_records_for_subject(
        &self,
        subject_hmac: &str,
    ) -> Result<Vec<PlatformUsageRow>, StorageError> {
        sqlx::query_as(
            "SELECT platform_record_id, at, agency_code, operator_account, item, subject_hmac, \
             hmac_key_id, subject_masked, request_id, outcome FROM platform_usage_records \
             WHERE subject_hmac = $1 ORDER BY at",
        )
        .bind(subject_hmac)
        .all(&self.reader, Ok)
        .await
    }
}
