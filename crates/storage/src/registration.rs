//! Rows of the query register (Form 2), its decisions, executions, results in custody, prints,
//! views, destruction records and external requests (Form 3). Migration
//! `0005_registrations.sql`.
//!
//! Security-sensitive. Subjects and results arrive here already sealed ([`SealedBlob`]); this
//! module never sees them in clear and never logs them. Destroying a result sets its key and
//! ciphertext to NULL in the same statement that stamps `destroyed_at` (a CHECK constraint
//! keeps the two together).

use std::collections::BTreeSet;

use jiff::Timestamp;
use querywarden_domain::catalogue::{LegalBasisId, ServiceItemCode};
use querywarden_domain::org::{PersonId, UnitId};
use querywarden_domain::registration::{
    Origin, Parties, Registration, RegistrationId, RegistrationNo, RequestNo,
};
use querywarden_domain::roc_date::RocDate;

use crate::decode::{opt_ts, roc_text, ts};
use crate::error::StorageError;
use crate::fetch::{BindBlob, Change, Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

mod read;

#[cfg(test)]
pub(crate) use read::registrations_query;
use read::{RegKey, RequestsOf, ResultsOf};

fn items_json(items: &BTreeSet<ServiceItemCode>) -> String {
    let codes: Vec<&str> = items.iter().map(ServiceItemCode::as_str).collect();
    serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into())
}

/// Bytes sealed by the app's custody module: AES-256-GCM ciphertext and nonce, and the data
/// key wrapped under the master key `master_key_id`.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBlob {
    pub sealed: Vec<u8>,
    pub nonce: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub wrap_nonce: Vec<u8>,
    pub master_key_id: String,
}

impl std::fmt::Debug for SealedBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealedBlob({} bytes, key {})",
            self.sealed.len(),
            self.master_key_id
        )
    }
}

/// A new Form 2 row, subject already sealed.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub no: RegistrationNo,
    pub date: RocDate,
    pub created_at: Timestamp,
    pub subject_digest: String,
    pub subject_key_id: String,
    pub linked_subject_digest: Option<String>,
    pub subject: SealedBlob,
    pub items: BTreeSet<ServiceItemCode>,
    pub legal_basis: LegalBasisId,
    pub relevance: String,
    pub case_no: Option<String>,
    /// §4 ¶1: the social-welfare law cited beside a general-privacy basis.
    pub companion_basis: Option<LegalBasisId>,
    /// §4 ¶1: why the row has no case number.
    pub no_case_reason: Option<String>,
    pub parties: Parties,
    pub approving_unit: UnitId,
    pub origin: Origin,
    pub batch: Option<String>,
    pub second_approval_required: bool,
    pub findings: Vec<String>,
}

/// What a decision row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    /// The supervisor's approval when a second approval is still needed.
    ApproveFirst,
    Approve,
    Reject,
    Cancel,
}

impl DecisionKind {
    fn code(self) -> &'static str {
        match self {
            Self::ApproveFirst => "approve_first",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Cancel => "cancel",
        }
    }

    fn state_after(self) -> &'static str {
        match self {
            Self::ApproveFirst => "registered",
            Self::Approve => "approved",
            Self::Reject => "rejected",
            Self::Cancel => "cancelled",
        }
    }
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub registration: RegistrationId,
    pub person: PersonId,
    pub at: Timestamp,
    pub kind: DecisionKind,
    pub comment: Option<String>,
    pub valid_until: Option<Timestamp>,
    /// The subject digest approved (approvals only).
    pub subject_digest: Option<String>,
    /// §5 ¶1: given as 代理, in the supervisor's place…
    pub acting: bool,
    /// …of this supervisor (when the unit had one).
    pub acting_for: Option<PersonId>,
}

querywarden_domain::code_enum! {
    /// How an execution was made (MISSION.md "The external service").
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ExecutionMode {
        Connected = "connected";
        Portal = "portal";
    }
}

querywarden_domain::code_enum! {
    /// Where an execution stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ExecutionOutcome {
        /// Sent (connected mode); no result stored yet. After a crash it stays so.
        Sent = "sent";
        /// The service answered (records, or a "no data" answer); a result is stored.
        Received = "received";
        /// The call failed; nothing stored.
        Failed = "failed";
        /// Portal mode: the querier recorded running it on the portal.
        Recorded = "recorded";
        /// Sent, and the answer never came (timed out after sending, the connection broke, or an
        /// unreadable answer): BLI may have processed it. Blocks the item until resolved.
        Unknown = "unknown";
    }
}

/// A new execution row.
#[derive(Debug, Clone)]
pub struct NewExecution {
    pub registration: RegistrationId,
    pub item: ServiceItemCode,
    pub querier: PersonId,
    pub mode: ExecutionMode,
    pub request_id: String,
    pub sent_at: Timestamp,
    pub outcome: ExecutionOutcome,
    pub portal_queried_at: Option<Timestamp>,
    pub portal_note: Option<String>,
    pub paper_case_no: Option<String>,
}

/// An execution as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRow {
    pub id: i64,
    pub registration: RegistrationId,
    pub item: ServiceItemCode,
    pub querier: PersonId,
    pub mode: ExecutionMode,
    pub request_id: String,
    pub sent_at: Timestamp,
    pub result_at: Option<Timestamp>,
    pub outcome: ExecutionOutcome,
    pub failure_code: Option<String>,
    pub portal_queried_at: Option<Timestamp>,
    pub portal_note: Option<String>,
    pub paper_case_no: Option<String>,
    /// When an unknown (or stale sent) attempt was resolved, and how:
    /// `usage_log:<platform outcome>` or `querier_statement`.
    pub resolved_at: Option<Timestamp>,
    pub resolution: Option<String>,
}

impl ExecutionRow {
    /// Sent with no answer and not resolved: the item waits (§5).
    pub fn awaits_outcome(&self) -> bool {
        self.resolved_at.is_none()
            && matches!(
                self.outcome,
                ExecutionOutcome::Sent | ExecutionOutcome::Unknown
            )
    }
}

/// A result to store.
#[derive(Debug, Clone)]
pub struct NewResult {
    pub execution: i64,
    pub registration: RegistrationId,
    pub item: ServiceItemCode,
    pub received_at: Timestamp,
    /// `records`, `not_found`, `not_insured` or `portal_document`.
    pub kind: String,
    pub content_type: String,
    pub sealed: SealedBlob,
    pub retention_rule: String,
    pub destroy_after: RocDate,
}

/// A result's metadata, and its sealed content unless destroyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub id: i64,
    pub execution: i64,
    pub registration: RegistrationId,
    pub item: ServiceItemCode,
    pub received_at: Timestamp,
    pub kind: String,
    pub content_type: String,
    pub sealed: Option<SealedBlob>,
    pub retention_rule: String,
    pub destroy_after: RocDate,
    pub destroyed_at: Option<Timestamp>,
}

/// A print for the case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintRow {
    pub id: i64,
    pub result: i64,
    pub print_no: i64,
    pub printed_by: PersonId,
    pub printed_at: Timestamp,
    pub copy_destroyed_at: Option<Timestamp>,
}

/// A destruction record (kept after the data is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionRow {
    pub result: i64,
    pub destroyed_at: Timestamp,
    pub rule: String,
    pub destroyed_by: Option<PersonId>,
    pub prints_outstanding: i64,
}

/// Filters for listing registrations; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct RegistrationFilter {
    pub approving_unit: Option<UnitId>,
    pub querier: Option<PersonId>,
    pub party: Option<PersonId>,
    /// `registered`, `approved`, `rejected`, `cancelled`.
    pub state: Option<&'static str>,
    pub request: Option<i64>,
    pub subject_digest: Option<String>,
}

querywarden_domain::code_enum! {
    /// Form 3 state.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RequestState {
        Submitted = "submitted";
        Accepted = "accepted";
        Rejected = "rejected";
    }
}

/// A new Form 3 request (subjects are added with [`WriteTx::insert_request_subject`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQueryRequest {
    pub no: RequestNo,
    pub created_at: Timestamp,
    pub date: RocDate,
    pub requesting_unit: UnitId,
    pub applicant: PersonId,
    pub applicant_title: String,
    pub phone: String,
    pub fax: Option<String>,
    pub responsible_unit: UnitId,
    pub legal_basis: LegalBasisId,
    pub relevance: String,
    pub items: BTreeSet<ServiceItemCode>,
    pub subject_count: usize,
}

/// A Form 3 request as stored: as filed, and how it was reviewed and delivered since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequestRow {
    pub id: i64,
    pub request: NewQueryRequest,
    pub state: RequestState,
    pub reviewed_by: Option<PersonId>,
    pub reviewed_at: Option<Timestamp>,
    pub opinion: Option<String>,
    pub assigned_querier: Option<PersonId>,
    /// `in_system` or `official_document`.
    pub delivery: Option<String>,
    pub document_no: Option<String>,
    pub delivered_at: Option<Timestamp>,
}

/// One subject of a Form 3 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSubjectRow {
    pub id: i64,
    pub request: i64,
    pub position: i64,
    pub subject_digest: String,
    pub subject_key_id: String,
    pub sealed: SealedBlob,
    pub registration: Option<RegistrationId>,
    /// §6: once the record's keeping period ended the sealed subject is destroyed and only
    /// the masked name and ID remain: `(name, national ID)`.
    pub destroyed: Option<(String, String)>,
}

/// A subject the destruction job looks at (§6): a Form 2 row or a Form 3 subject whose
/// sealed name and ID are still held, with the record's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSubject {
    /// The registration's or the request subject row's id.
    pub id: i64,
    /// `registration:<no>` or `request:<no>:<position>` (the custody AAD's object).
    pub reg_no: String,
    pub date: RocDate,
    pub sealed: SealedBlob,
}

/// The masked forms kept after a subject is destroyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedSubject {
    pub name: String,
    pub id: String,
    pub linked_id: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Writes

impl WriteTx {
    /// The next number of `kind` (`registration` or `request`) in `roc_year`: 1, 2, 3…
    pub async fn next_number(&mut self, kind: &str, roc_year: i16) -> Result<u32, StorageError> {
        let (n,): (i64,) = sqlx::query_as(
            "INSERT INTO number_counters (kind, roc_year, last_seq) VALUES ($1, $2, 1) \
             ON CONFLICT (kind, roc_year) DO UPDATE SET last_seq = number_counters.last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(kind)
        .bind(i64::from(roc_year))
        .one_in(self)
        .await?;
        u32::try_from(n).map_err(|_| StorageError::Decode("counter overflow".into()))
    }

    pub async fn insert_registration(
        &mut self,
        r: &NewRegistration,
    ) -> Result<RegistrationId, StorageError> {
        let findings =
            serde_json::to_string(&r.findings).map_err(|e| StorageError::Decode(e.to_string()))?;
        let request = match r.origin {
            Origin::Internal => None,
            Origin::Form3(id) => Some(id),
        };
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO registrations (reg_no, reg_date, created_at, subject_hmac, hmac_key_id, \
             linked_subject_hmac, subject_sealed, subject_nonce, wrapped_key, wrap_nonce, \
             master_key_id, items, legal_basis_id, relevance, case_no, applicant_id, needer_id, \
             querier_id, approving_unit, request_id, batch_id, state, second_approval_required, \
             findings, companion_legal_basis_id, no_case_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, 'registered', $22, $23, $24, $25) RETURNING id",
        )
        .bind(r.no.to_string())
        .bind(roc_text(r.date))
        .bind(r.created_at.to_string())
        .bind(&r.subject_digest)
        .bind(&r.subject_key_id)
        .bind(&r.linked_subject_digest)
        .bind_blob(&r.subject)
        .bind(items_json(&r.items))
        .bind(r.legal_basis.as_str())
        .bind(&r.relevance)
        .bind(&r.case_no)
        .bind(r.parties.applicant.get())
        .bind(r.parties.needer.get())
        .bind(r.parties.querier.get())
        .bind(r.approving_unit.as_str())
        .bind(request)
        .bind(&r.batch)
        .bind(i64::from(r.second_approval_required))
        .bind(findings)
        .bind(r.companion_basis.as_ref().map(LegalBasisId::as_str))
        .bind(&r.no_case_reason)
        .one_in(self).await?;
        Ok(RegistrationId::new(id))
    }

    /// Records a decision and moves the registration to the state it leads to.
    pub async fn record_decision(&mut self, d: &NewDecision) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO registration_decisions (registration_id, person_id, at, kind, comment, \
             valid_until, subject_hmac, acting, acting_for) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(d.registration.get())
        .bind(d.person.get())
        .bind(d.at.to_string())
        .bind(d.kind.code())
        .bind(&d.comment)
        .bind(d.valid_until.map(|t| t.to_string()))
        .bind(&d.subject_digest)
        .bind(i64::from(d.acting))
        .bind(d.acting_for.map(PersonId::get))
        .execute_in(self).await?;
        sqlx::query("UPDATE registrations SET state = $1 WHERE id = $2")
            .bind(d.kind.state_after())
            .bind(d.registration.get())
            .execute_in(self)
            .await?;
        Ok(())
    }

    /// Inserts an execution attempt. A second live attempt of the same item of the same
    /// registration (sent, received, recorded, or unknown and unresolved) is refused by the
    /// database (`StorageError::Constraint`): §5, one execution per item; failed and resolved
    /// attempts do not count.
    pub async fn insert_execution(&mut self, e: &NewExecution) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO executions (registration_id, item, querier_id, mode, request_id, sent_at, \
             outcome, portal_queried_at, portal_note, paper_case_no, result_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(e.registration.get())
        .bind(e.item.as_str())
        .bind(e.querier.get())
        .bind(e.mode.code())
        .bind(&e.request_id)
        .bind(e.sent_at.to_string())
        .bind(e.outcome.code())
        .bind(e.portal_queried_at.map(|t| t.to_string()))
        .bind(&e.portal_note)
        .bind(&e.paper_case_no)
        .bind((e.outcome == ExecutionOutcome::Recorded).then(|| e.sent_at.to_string()))
        .one_in(self)
        .await?;
        Ok(id)
    }

    /// Marks a sent execution answered or failed. Returns false if it was not `sent`.
    pub async fn finish_execution(
        &mut self,
        execution: i64,
        at: Timestamp,
        outcome: ExecutionOutcome,
        failure_code: Option<&str>,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE executions SET result_at = $1, outcome = $2, failure_code = $3 \
             WHERE id = $4 AND outcome = 'sent'",
        )
        .bind(at.to_string())
        .bind(outcome.code())
        .bind(failure_code)
        .bind(execution)
        .changed_in(self)
        .await
    }

    /// §6: destroys a Form 2 row's sealed subject (ciphertext and wrapped data key emptied),
    /// keeping the digest and the masked forms. False if already destroyed.
    pub async fn destroy_registration_subject(
        &mut self,
        id: RegistrationId,
        at: Timestamp,
        masked: &MaskedSubject,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            // The emptied blob is bound ($6): `x''` is a bit string to PostgreSQL.
            "UPDATE registrations SET subject_sealed = $6, subject_nonce = $6, \
             wrapped_key = $6, wrap_nonce = $6, subject_destroyed_at = $1, \
             subject_name_masked = $2, subject_id_masked = $3, linked_id_masked = $4 \
             WHERE id = $5 AND subject_destroyed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(&masked.name)
        .bind(&masked.id)
        .bind(&masked.linked_id)
        .bind(id.get())
        .bind(Vec::<u8>::new())
        .changed_in(self)
        .await
    }

    /// §6: the same for one subject of a Form 3 request.
    pub async fn destroy_request_subject(
        &mut self,
        row: i64,
        at: Timestamp,
        masked: &MaskedSubject,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE query_request_subjects SET sealed = $5, nonce = $5, wrapped_key = $5, \
             wrap_nonce = $5, destroyed_at = $1, name_masked = $2, id_masked = $3 \
             WHERE id = $4 AND destroyed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(&masked.name)
        .bind(&masked.id)
        .bind(row)
        .bind(Vec::<u8>::new())
        .changed_in(self)
        .await
    }

    /// Resolves an attempt whose outcome is unknown (or a sent one left without answer):
    /// the item may run again. `by` is `None` when the reconciliation resolved it. False if
    /// the attempt was not awaiting its outcome.
    pub async fn resolve_execution(
        &mut self,
        execution: i64,
        at: Timestamp,
        by: Option<PersonId>,
        resolution: &str,
        note: Option<&str>,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE executions SET resolved_at = $1, resolved_by = $2, resolution = $3, \
             resolution_note = $4 WHERE id = $5 AND resolved_at IS NULL \
             AND outcome IN ('sent', 'unknown')",
        )
        .bind(at.to_string())
        .bind(by.map(PersonId::get))
        .bind(resolution)
        .bind(note)
        .bind(execution)
        .changed_in(self)
        .await
    }

    pub async fn insert_result(&mut self, r: &NewResult) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO results (execution_id, registration_id, item, received_at, kind, \
             content_type, sealed, nonce, wrapped_key, wrap_nonce, master_key_id, \
             retention_rule, destroy_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             RETURNING id",
        )
        .bind(r.execution)
        .bind(r.registration.get())
        .bind(r.item.as_str())
        .bind(r.received_at.to_string())
        .bind(&r.kind)
        .bind(&r.content_type)
        .bind_blob(&r.sealed)
        .bind(&r.retention_rule)
        .bind(roc_text(r.destroy_after))
        .one_in(self).await?;
        Ok(id)
    }

    pub async fn insert_view(
        &mut self,
        result: i64,
        viewer: PersonId,
        at: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO result_views (result_id, viewer_id, at) VALUES ($1, $2, $3)")
            .bind(result)
            .bind(viewer.get())
            .bind(at.to_string())
            .execute_in(self)
            .await?;
        Ok(())
    }

    /// How many prints of `result` were made, read inside this transaction.
    pub async fn prints_made(&mut self, result: i64) -> Result<i64, StorageError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM result_prints WHERE result_id = $1")
                .bind(result)
                .one_in(self)
                .await?;
        Ok(n)
    }

    /// Records a print, with the reason given for one beyond the limit; returns its number
    /// (1, 2, 3… per result).
    pub async fn insert_print(
        &mut self,
        result: i64,
        by: PersonId,
        at: Timestamp,
        reason: Option<&str>,
    ) -> Result<i64, StorageError> {
        let (n,): (i64,) = sqlx::query_as(
            "INSERT INTO result_prints (result_id, print_no, printed_by, printed_at, reason) \
             VALUES ($1, (SELECT coalesce(max(print_no), 0) + 1 FROM result_prints \
             WHERE result_id = $1), $2, $3, $4) RETURNING print_no",
        )
        .bind(result)
        .bind(by.get())
        .bind(at.to_string())
        .bind(reason)
        .one_in(self)
        .await?;
        Ok(n)
    }

    /// The querier confirms a printed copy was destroyed. False if unknown or already so.
    pub async fn confirm_print_destroyed(
        &mut self,
        result: i64,
        print_no: i64,
        by: PersonId,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE result_prints SET copy_destroyed_at = $1, copy_destroyed_by = $2 \
             WHERE result_id = $3 AND print_no = $4 AND copy_destroyed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(by.get())
        .bind(result)
        .bind(print_no)
        .changed_in(self)
        .await
    }

    /// Crypto-shredding: deletes the wrapped data key and the ciphertext of a result and
    /// writes the destruction record. False if already destroyed.
    pub async fn destroy_result(
        &mut self,
        result: i64,
        at: Timestamp,
        rule: &str,
        by: Option<PersonId>,
    ) -> Result<bool, StorageError> {
        let destroyed = sqlx::query(
            "UPDATE results SET sealed = NULL, nonce = NULL, wrapped_key = NULL, \
             wrap_nonce = NULL, master_key_id = NULL, destroyed_at = $1 \
             WHERE id = $2 AND destroyed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(result)
        .changed_in(self)
        .await?;
        if !destroyed {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO result_destructions (result_id, destroyed_at, rule, destroyed_by, \
             prints_outstanding) VALUES ($1, $2, $3, $4, (SELECT count(*) FROM result_prints \
             WHERE result_id = $1 AND copy_destroyed_at IS NULL))",
        )
        .bind(result)
        .bind(at.to_string())
        .bind(rule)
        .bind(by.map(PersonId::get))
        .execute_in(self)
        .await?;
        Ok(true)
    }

    pub async fn insert_request(&mut self, r: &NewQueryRequest) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO query_requests (request_no, created_at, request_date, requesting_unit, \
             applicant_id, applicant_title, phone, fax, responsible_unit, legal_basis_id, \
             relevance, items, subject_count, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'submitted') RETURNING id",
        )
        .bind(r.no.to_string())
        .bind(r.created_at.to_string())
        .bind(roc_text(r.date))
        .bind(r.requesting_unit.as_str())
        .bind(r.applicant.get())
        .bind(&r.applicant_title)
        .bind(&r.phone)
        .bind(&r.fax)
        .bind(r.responsible_unit.as_str())
        .bind(r.legal_basis.as_str())
        .bind(&r.relevance)
        .bind(items_json(&r.items))
        .bind(i64::try_from(r.subject_count).unwrap_or(i64::MAX))
        .one_in(self).await?;
        Ok(id)
    }

    pub async fn insert_request_subject(
        &mut self,
        request: i64,
        position: i64,
        subject_digest: &str,
        subject_key_id: &str,
        sealed: &SealedBlob,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO query_request_subjects (request_id, position, subject_hmac, hmac_key_id, \
             sealed, nonce, wrapped_key, wrap_nonce, master_key_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(request)
        .bind(position)
        .bind(subject_digest)
        .bind(subject_key_id)
        .bind_blob(sealed)
        .execute_in(self)
        .await?;
        Ok(())
    }

    /// Records the review of a submitted request. False if it was not `submitted`.
    pub async fn review_request(
        &mut self,
        request: i64,
        state: RequestState,
        by: PersonId,
        at: Timestamp,
        opinion: &str,
        querier: Option<PersonId>,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE query_requests SET state = $1, reviewed_by = $2, reviewed_at = $3, opinion = $4, \
             assigned_querier = $5 WHERE id = $6 AND state = 'submitted'",
        )
        .bind(state.code())
        .bind(by.get())
        .bind(at.to_string())
        .bind(opinion)
        .bind(querier.map(PersonId::get))
        .bind(request)
        .changed_in(self)
.await
    }

    pub async fn link_request_subject(
        &mut self,
        subject_row: i64,
        registration: RegistrationId,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE query_request_subjects SET registration_id = $1 WHERE id = $2")
            .bind(registration.get())
            .bind(subject_row)
            .execute_in(self)
            .await?;
        Ok(())
    }

    /// How the results go back to the requester: `in_system` or `official_document`.
    pub async fn set_request_delivery(
        &mut self,
        request: i64,
        delivery: &str,
        document_no: Option<&str>,
        at: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE query_requests SET delivery = $1, document_no = $2, delivered_at = $3 WHERE id = $4",
        )
        .bind(delivery)
        .bind(document_no)
        .bind(at.to_string())
        .bind(request)
        .execute_in(self).await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Reads: each is one function of `read`, run here on the read pool or, for decisions that
// must not race, inside the use case's write transaction.

impl WriteTx {
    /// The registration, read inside this transaction (for decisions that must not race).
    pub async fn registration_by_no(
        &mut self,
        no: RegistrationNo,
    ) -> Result<Option<Registration>, StorageError> {
        read::registration(&mut *self.tx, RegKey::No(&no)).await
    }

    pub async fn registration(
        &mut self,
        id: RegistrationId,
    ) -> Result<Option<Registration>, StorageError> {
        read::registration(&mut *self.tx, RegKey::Id(id)).await
    }

    /// Open registrations — filed or approved, nothing executed yet — in which `person` is a
    /// party (applicant, needer or querier). §2: a transfer or leave cancels them.
    pub async fn open_registrations_of(
        &mut self,
        person: PersonId,
    ) -> Result<Vec<Registration>, StorageError> {
        read::open_registrations_of(&mut *self.tx, person)
            .await
            .map_err(|e| self.noted(e))
    }

    /// The sealed subject, read inside this transaction.
    pub async fn registration_subject(
        &mut self,
        id: RegistrationId,
    ) -> Result<Option<SealedBlob>, StorageError> {
        read::registration_subject(&mut *self.tx, id).await
    }

    /// The relevance texts of `querier`'s latest `limit` registrations outside `exclude_batch`.
    pub async fn recent_relevance(
        &mut self,
        querier: PersonId,
        limit: u32,
        exclude_batch: Option<&str>,
    ) -> Result<Vec<String>, StorageError> {
        read::recent_relevance(&mut *self.tx, querier, limit, exclude_batch).await
    }

    /// The result, read inside this transaction.
    pub async fn result(&mut self, id: i64) -> Result<Option<ResultRow>, StorageError> {
        Ok(read::results(&mut *self.tx, ResultsOf::Id(id))
            .await?
            .into_iter()
            .next())
    }

    /// The request, read inside this transaction.
    pub async fn request_by_no(
        &mut self,
        no: RequestNo,
    ) -> Result<Option<QueryRequestRow>, StorageError> {
        Ok(read::requests(&mut *self.tx, RequestsOf::No(&no))
            .await?
            .into_iter()
            .next())
    }

    pub async fn request_subjects(
        &mut self,
        request: i64,
    ) -> Result<Vec<RequestSubjectRow>, StorageError> {
        read::request_subjects(&mut *self.tx, request).await
    }
}

impl Store {
    pub async fn registration_by_no(
        &self,
        no: RegistrationNo,
    ) -> Result<Option<Registration>, StorageError> {
        read::registration(&self.reader, RegKey::No(&no)).await
    }

    pub async fn registration(
        &self,
        id: RegistrationId,
    ) -> Result<Option<Registration>, StorageError> {
        read::registration(&self.reader, RegKey::Id(id)).await
    }

    pub async fn registration_subject(
        &self,
        id: RegistrationId,
    ) -> Result<Option<SealedBlob>, StorageError> {
        read::registration_subject(&self.reader, id).await
    }

    /// The sealed subjects of `ids` (destroyed ones left out), each with its registration's
    /// number, handed to `visit` as they are read: one statement for any number of them.
    pub async fn scan_registration_subjects(
        &self,
        ids: &[RegistrationId],
        visit: impl FnMut(RegistrationId, &str, SealedBlob),
    ) -> Result<(), StorageError> {
        read::scan_registration_subjects(&self.reader, ids, visit).await
    }

    pub async fn recent_relevance(
        &self,
        querier: PersonId,
        limit: u32,
        exclude_batch: Option<&str>,
    ) -> Result<Vec<String>, StorageError> {
        read::recent_relevance(&self.reader, querier, limit, exclude_batch).await
    }

    /// Registrations matching `f`, oldest first.
    pub async fn registrations(
        &self,
        f: &RegistrationFilter,
    ) -> Result<Vec<Registration>, StorageError> {
        read::registrations(&self.reader, f).await
    }

    pub async fn executions_of(
        &self,
        registration: RegistrationId,
    ) -> Result<Vec<ExecutionRow>, StorageError> {
        read::executions_where(&self.reader, "registration_id = $1", Some(registration)).await
    }

    /// Every attempt awaiting its outcome (sent or unknown, unresolved), oldest first: what
    /// the usage-log reconciliation tries to resolve.
    pub async fn executions_awaiting_outcome(&self) -> Result<Vec<ExecutionRow>, StorageError> {
        read::executions_where(
            &self.reader,
            "resolved_at IS NULL AND outcome IN ('sent', 'unknown')",
            None,
        )
        .await
    }

    /// The masked forms kept for a Form 2 row whose subject was destroyed (§6), if it was.
    pub async fn destroyed_subject(
        &self,
        id: RegistrationId,
    ) -> Result<Option<MaskedSubject>, StorageError> {
        sqlx::query_as(
            "SELECT subject_name_masked, subject_id_masked, linked_id_masked FROM registrations \
             WHERE id = $1 AND subject_destroyed_at IS NOT NULL",
        )
        .bind(id.get())
        .optional(
            &self.reader,
            |(name, nid, linked): (Option<String>, Option<String>, _)| {
                Ok(MaskedSubject {
                    name: name.unwrap_or_default(),
                    id: nid.unwrap_or_default(),
                    linked_id: linked,
                })
            },
        )
        .await
    }

    /// Form 2 rows dated before `before` whose sealed subject is still held and none of
    /// whose results is still held (§6: a result keeps its subject readable to its end).
    pub async fn registration_subjects_held_before(
        &self,
        before: RocDate,
    ) -> Result<Vec<HeldSubject>, StorageError> {
        let held = read::held_subjects(
            &self.reader,
            "SELECT r.id, r.reg_no, r.reg_date, CAST(NULL AS BIGINT) AS position, r.subject_sealed AS sealed, \
             r.subject_nonce AS nonce, r.wrapped_key, r.wrap_nonce, r.master_key_id \
             FROM registrations r WHERE r.subject_destroyed_at IS NULL AND r.reg_date < $1 \
             AND NOT EXISTS (SELECT 1 FROM results x WHERE x.registration_id = r.id \
             AND x.destroyed_at IS NULL) ORDER BY r.id",
            before,
        )
        .await?;
        Ok(held.into_iter().map(|(h, _)| h).collect())
    }

    /// Subjects of Form 3 requests dated before `before`, reviewed (not still waiting), whose
    /// sealed subject is still held. `reg_no` carries the request number; `id` the row.
    pub async fn request_subjects_held_before(
        &self,
        before: RocDate,
    ) -> Result<Vec<(HeldSubject, i64)>, StorageError> {
        let held = read::held_subjects(
            &self.reader,
            "SELECT s.id, q.request_no AS reg_no, q.request_date AS reg_date, s.position, \
             s.sealed, s.nonce, s.wrapped_key, s.wrap_nonce, s.master_key_id \
             FROM query_request_subjects s JOIN query_requests q ON q.id = s.request_id \
             WHERE s.destroyed_at IS NULL AND q.state <> 'submitted' AND q.request_date < $1 \
             ORDER BY s.id",
            before,
        )
        .await?;
        Ok(held
            .into_iter()
            .map(|(h, position)| (h, position.unwrap_or_default()))
            .collect())
    }

    /// The platform's outcome for a request id, if its usage log (as imported) has it.
    pub async fn platform_outcome_of_request(
        &self,
        request_id: &str,
    ) -> Result<Option<String>, StorageError> {
        sqlx::query_as(
            "SELECT outcome FROM platform_usage_records WHERE request_id = $1 \
             ORDER BY at LIMIT 1",
        )
        .bind(request_id)
        .optional(&self.reader, |(o,)| Ok(o))
        .await
    }

    /// The result of one item of a registration, if any (sealed content unless destroyed).
    pub async fn result_of(
        &self,
        registration: RegistrationId,
        item: &ServiceItemCode,
    ) -> Result<Option<ResultRow>, StorageError> {
        Ok(
            read::results(&self.reader, ResultsOf::Item(registration, item))
                .await?
                .into_iter()
                .next(),
        )
    }

    pub async fn results_of(
        &self,
        registration: RegistrationId,
    ) -> Result<Vec<ResultRow>, StorageError> {
        read::results(&self.reader, ResultsOf::Registration(registration)).await
    }

    /// Results not yet destroyed, with their keeping dates (for the destruction job and the
    /// "expiring" inbox).
    pub async fn results_held(&self) -> Result<Vec<ResultRow>, StorageError> {
        read::results(&self.reader, ResultsOf::Held).await
    }

    pub async fn prints_of(&self, result: i64) -> Result<Vec<PrintRow>, StorageError> {
        sqlx::query_as(
            "SELECT id, result_id, print_no, printed_by, printed_at, copy_destroyed_at \
             FROM result_prints WHERE result_id = $1 ORDER BY print_no",
        )
        .bind(result)
        .all(
            &self.reader,
            |(id, result, print_no, by, at, destroyed): (_, _, _, _, String, _)| {
                Ok(PrintRow {
                    id,
                    result,
                    print_no,
                    printed_by: PersonId::new(by),
                    printed_at: ts(&at)?,
                    copy_destroyed_at: opt_ts(destroyed)?,
                })
            },
        )
        .await
    }

    /// How many times a result has been viewed, and by whom (in order).
    pub async fn views_of(&self, result: i64) -> Result<Vec<(PersonId, Timestamp)>, StorageError> {
        sqlx::query_as("SELECT viewer_id, at FROM result_views WHERE result_id = $1 ORDER BY id")
            .bind(result)
            .all(&self.reader, |(p, at): (_, String)| {
                Ok((PersonId::new(p), ts(&at)?))
            })
            .await
    }

    pub async fn destruction_of(
        &self,
        result: i64,
    ) -> Result<Option<DestructionRow>, StorageError> {
        sqlx::query_as(
            "SELECT result_id, destroyed_at, rule, destroyed_by, prints_outstanding \
             FROM result_destructions WHERE result_id = $1",
        )
        .bind(result)
        .optional(
            &self.reader,
            |(r, at, rule, by, outstanding): (_, String, _, Option<i64>, _)| {
                Ok(DestructionRow {
                    result: r,
                    destroyed_at: ts(&at)?,
                    rule,
                    destroyed_by: by.map(PersonId::new),
                    prints_outstanding: outstanding,
                })
            },
        )
        .await
    }

    pub async fn request_by_no(
        &self,
        no: RequestNo,
    ) -> Result<Option<QueryRequestRow>, StorageError> {
        Ok(read::requests(&self.reader, RequestsOf::No(&no))
            .await?
            .into_iter()
            .next())
    }

    pub async fn request(&self, id: i64) -> Result<Option<QueryRequestRow>, StorageError> {
        Ok(read::requests(&self.reader, RequestsOf::Id(id))
            .await?
            .into_iter()
            .next())
    }

    /// Requests to a responsible unit (and/or from an applicant, and/or in a state).
    pub async fn requests(
        &self,
        responsible_unit: Option<&UnitId>,
        applicant: Option<PersonId>,
        state: Option<RequestState>,
    ) -> Result<Vec<QueryRequestRow>, StorageError> {
        read::requests(
            &self.reader,
            RequestsOf::Filter(responsible_unit, applicant, state),
        )
        .await
    }
}
