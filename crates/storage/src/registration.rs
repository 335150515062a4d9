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
    Origin, Parties, Registration, RegistrationId, RegistrationNo, RegistrationState, RequestNo,
};
use querywarden_domain::roc_date::RocDate;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::{StorageError, classify};
use crate::sqlite::{Store, WriteTx};

fn decode<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Result<T, StorageError> {
    r.map_err(|e| StorageError::Decode(format!("{what}: {e}")))
}

fn ts(s: &str) -> Result<Timestamp, StorageError> {
    decode("timestamp", s.parse::<Timestamp>())
}

fn date(s: &str) -> Result<RocDate, StorageError> {
    let d = decode("date", s.parse::<jiff::civil::Date>())?;
    decode("date", RocDate::from_civil(d))
}

fn get<'r, T>(row: &'r SqliteRow, col: &str) -> Result<T, StorageError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(col).map_err(classify)
}

fn items_json(items: &BTreeSet<ServiceItemCode>) -> String {
    let codes: Vec<&str> = items.iter().map(ServiceItemCode::as_str).collect();
    serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into())
}

fn items_from_json(s: &str) -> Result<BTreeSet<ServiceItemCode>, StorageError> {
    let codes: Vec<String> = decode("items", serde_json::from_str(s))?;
    codes
        .iter()
        .map(|c| decode("item", ServiceItemCode::parse(c)))
        .collect()
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

fn sealed_from(row: &SqliteRow, prefix: &str) -> Result<Option<SealedBlob>, StorageError> {
    let col = |c: &str| format!("{prefix}{c}");
    let sealed: Option<Vec<u8>> = get(row, &col("sealed"))?;
    let nonce: Option<Vec<u8>> = get(row, &col("nonce"))?;
    let wrapped_key: Option<Vec<u8>> = get(row, "wrapped_key")?;
    let wrap_nonce: Option<Vec<u8>> = get(row, "wrap_nonce")?;
    let master_key_id: Option<String> = get(row, "master_key_id")?;
    Ok(
        match (sealed, nonce, wrapped_key, wrap_nonce, master_key_id) {
            (
                Some(sealed),
                Some(nonce),
                Some(wrapped_key),
                Some(wrap_nonce),
                Some(master_key_id),
            ) => Some(SealedBlob {
                sealed,
                nonce,
                wrapped_key,
                wrap_nonce,
                master_key_id,
            }),
            _ => None,
        },
    )
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

/// How an execution was made (MISSION.md "The external service").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionMode {
    Connected,
    Portal,
}

impl ExecutionMode {
    pub fn code(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Portal => "portal",
        }
    }
}

/// Where an execution stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// Sent (connected mode); no result stored yet. After a crash it stays so.
    Sent,
    /// The service answered (records, or a "no data" answer); a result is stored.
    Received,
    /// The call failed; nothing stored.
    Failed,
    /// Portal mode: the querier recorded running it on the portal.
    Recorded,
    /// Sent, and the answer never came (timed out after sending, the connection broke, or an
    /// unreadable answer): BLI may have processed it. Blocks the item until resolved.
    Unknown,
}

impl ExecutionOutcome {
    pub fn code(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Received => "received",
            Self::Failed => "failed",
            Self::Recorded => "recorded",
            Self::Unknown => "unknown",
        }
    }

    fn parse(s: &str) -> Result<Self, StorageError> {
        Ok(match s {
            "sent" => Self::Sent,
            "received" => Self::Received,
            "failed" => Self::Failed,
            "recorded" => Self::Recorded,
            "unknown" => Self::Unknown,
            other => return Err(StorageError::Decode(format!("execution outcome {other}"))),
        })
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

/// Form 3 state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    Submitted,
    Accepted,
    Rejected,
}

impl RequestState {
    pub fn code(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Result<Self, StorageError> {
        Ok(match s {
            "submitted" => Self::Submitted,
            "accepted" => Self::Accepted,
            "rejected" => Self::Rejected,
            other => return Err(StorageError::Decode(format!("request state {other}"))),
        })
    }
}

/// A new Form 3 request (subjects are added with [`WriteTx::insert_request_subject`]).
#[derive(Debug, Clone)]
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

/// A Form 3 request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequestRow {
    pub id: i64,
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
// Loading (shared by Store reads and reads inside a WriteTx)

/// A registration's row with its decisions and executed items folded in as JSON, so loading
/// one is one statement, not three (every statement is a round trip to the connection's
/// worker thread; the execution use case loads one under the write lock).
const REG_COLUMNS: &str = "id, reg_no, reg_date, created_at, subject_hmac, hmac_key_id, items, \
     legal_basis_id, relevance, case_no, applicant_id, needer_id, querier_id, approving_unit, \
     request_id, batch_id, state, second_approval_required, findings, \
     (SELECT json_group_array(json_array(d.person_id, d.at, d.kind, d.comment, d.valid_until, \
        d.subject_hmac) ORDER BY d.id) \
      FROM registration_decisions d WHERE d.registration_id = registrations.id) AS decisions, \
     (SELECT json_group_array(json_array(e.item, e.outcome)) FROM executions e \
      WHERE e.registration_id = registrations.id AND e.resolved_at IS NULL \
        AND e.outcome IN ('sent', 'received', 'recorded', 'unknown')) AS executed";

/// A decision as folded into [`REG_COLUMNS`]: person, at, kind, comment, valid until,
/// subject digest.
type DecisionJson = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// (person, at, kind, comment, valid_until, subject digest) of a decision row.
type DecisionTuple = (
    PersonId,
    Timestamp,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn load_registration(row: SqliteRow) -> Result<Registration, StorageError> {
    let id: i64 = get(&row, "id")?;
    let no: String = get(&row, "reg_no")?;
    let state_code: String = get(&row, "state")?;
    let request: Option<i64> = get(&row, "request_id")?;
    let findings: String = get(&row, "findings")?;
    let decisions: Vec<DecisionJson> = decode(
        "decisions",
        serde_json::from_str(&get::<String>(&row, "decisions")?),
    )?;
    // The live attempts (at most one per item, by the partial unique index of 0015): done
    // ones count as executed; a sent or unknown one awaits its outcome.
    let executed: Vec<(String, String)> = decode(
        "executed items",
        serde_json::from_str(&get::<String>(&row, "executed")?),
    )?;
    let mut executed_items = BTreeSet::new();
    let mut awaiting_outcome = BTreeSet::new();
    for (item, outcome) in executed {
        let item = decode("item", ServiceItemCode::parse(&item))?;
        if matches!(outcome.as_str(), "received" | "recorded") {
            executed_items.insert(item);
        } else {
            awaiting_outcome.insert(item);
        }
    }
    let mut first_approval = None;
    let mut last: Option<DecisionTuple> = None;
    for (person, at, kind, comment, valid_until, digest) in decisions {
        let person = PersonId::new(person);
        let at = ts(&at)?;
        if kind == "approve_first" {
            first_approval = Some((person, at));
        }
        last = Some((person, at, kind, comment, valid_until, digest));
    }
    let mut approved_subject_digest = None;
    let state = match (state_code.as_str(), last) {
        ("registered", _) => RegistrationState::Registered { first_approval },
        ("approved", Some((by, at, k, _, Some(until), digest))) if k == "approve" => {
            approved_subject_digest = digest;
            RegistrationState::Approved {
                by,
                at,
                valid_until: ts(&until)?,
            }
        }
        ("rejected", Some((by, at, k, comment, _, _))) if k == "reject" => {
            RegistrationState::Rejected {
                by,
                at,
                comment: comment.unwrap_or_default(),
            }
        }
        ("cancelled", Some((by, at, k, _, _, _))) if k == "cancel" => {
            RegistrationState::Cancelled { by, at }
        }
        (other, _) => {
            return Err(StorageError::Decode(format!(
                "registration state {other} without its decision"
            )));
        }
    };
    Ok(Registration {
        id: RegistrationId(id),
        no: decode("registration no", RegistrationNo::parse(&no))?,
        date: date(&get::<String>(&row, "reg_date")?)?,
        created_at: ts(&get::<String>(&row, "created_at")?)?,
        subject_digest: get(&row, "subject_hmac")?,
        subject_key_id: get(&row, "hmac_key_id")?,
        items: items_from_json(&get::<String>(&row, "items")?)?,
        legal_basis: decode(
            "legal basis",
            LegalBasisId::new(get::<String>(&row, "legal_basis_id")?),
        )?,
        relevance: get(&row, "relevance")?,
        case_no: get(&row, "case_no")?,
        parties: Parties {
            applicant: PersonId::new(get(&row, "applicant_id")?),
            needer: PersonId::new(get(&row, "needer_id")?),
            querier: PersonId::new(get(&row, "querier_id")?),
        },
        approving_unit: decode("unit", UnitId::new(get::<String>(&row, "approving_unit")?))?,
        origin: request.map_or(Origin::Internal, Origin::Form3),
        state,
        second_approval_required: get::<i64>(&row, "second_approval_required")? != 0,
        findings: decode("findings", serde_json::from_str(&findings))?,
        executed_items,
        awaiting_outcome,
        approved_subject_digest,
        batch: get(&row, "batch_id")?,
    })
}

async fn registration_where(
    conn: &mut SqliteConnection,
    clause: &str,
    bind: RegKey<'_>,
) -> Result<Option<Registration>, StorageError> {
    let sql = format!("SELECT {REG_COLUMNS} FROM registrations WHERE {clause}");
    let q = sqlx::query(&sql);
    let q = match bind {
        RegKey::Id(id) => q.bind(id),
        RegKey::No(no) => q.bind(no),
    };
    let row = q.fetch_optional(&mut *conn).await.map_err(classify)?;
    match row {
        Some(row) => load_registration(row).map(Some),
        None => Ok(None),
    }
}

enum RegKey<'a> {
    Id(i64),
    No(&'a str),
}

async fn subject_of(
    conn: &mut SqliteConnection,
    id: RegistrationId,
) -> Result<Option<SealedBlob>, StorageError> {
    let row = sqlx::query(
        "SELECT subject_sealed AS sealed, subject_nonce AS nonce, wrapped_key, wrap_nonce, \
         master_key_id FROM registrations WHERE id = ? AND subject_destroyed_at IS NULL",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(classify)?;
    match row {
        Some(r) => sealed_from(&r, ""),
        None => Ok(None),
    }
}

fn execution_from(row: &SqliteRow) -> Result<ExecutionRow, StorageError> {
    let opt_ts = |c: &str| -> Result<Option<Timestamp>, StorageError> {
        get::<Option<String>>(row, c)?.map(|s| ts(&s)).transpose()
    };
    Ok(ExecutionRow {
        id: get(row, "id")?,
        registration: RegistrationId(get(row, "registration_id")?),
        item: decode("item", ServiceItemCode::parse(&get::<String>(row, "item")?))?,
        querier: PersonId::new(get(row, "querier_id")?),
        mode: match get::<String>(row, "mode")?.as_str() {
            "connected" => ExecutionMode::Connected,
            _ => ExecutionMode::Portal,
        },
        request_id: get(row, "request_id")?,
        sent_at: ts(&get::<String>(row, "sent_at")?)?,
        result_at: opt_ts("result_at")?,
        outcome: ExecutionOutcome::parse(&get::<String>(row, "outcome")?)?,
        failure_code: get(row, "failure_code")?,
        portal_queried_at: opt_ts("portal_queried_at")?,
        portal_note: get(row, "portal_note")?,
        paper_case_no: get(row, "paper_case_no")?,
        resolved_at: opt_ts("resolved_at")?,
        resolution: get(row, "resolution")?,
    })
}

const RESULT_COLUMNS: &str = "id, execution_id, registration_id, item, received_at, kind, \
     content_type, sealed, nonce, wrapped_key, wrap_nonce, master_key_id, retention_rule, \
     destroy_after, destroyed_at";

fn result_from(row: &SqliteRow) -> Result<ResultRow, StorageError> {
    Ok(ResultRow {
        id: get(row, "id")?,
        execution: get(row, "execution_id")?,
        registration: RegistrationId(get(row, "registration_id")?),
        item: decode("item", ServiceItemCode::parse(&get::<String>(row, "item")?))?,
        received_at: ts(&get::<String>(row, "received_at")?)?,
        kind: get(row, "kind")?,
        content_type: get(row, "content_type")?,
        sealed: sealed_from(row, "")?,
        retention_rule: get(row, "retention_rule")?,
        destroy_after: date(&get::<String>(row, "destroy_after")?)?,
        destroyed_at: get::<Option<String>>(row, "destroyed_at")?
            .map(|s| ts(&s))
            .transpose()?,
    })
}

const REQUEST_COLUMNS: &str = "id, request_no, created_at, request_date, requesting_unit, \
     applicant_id, applicant_title, phone, fax, responsible_unit, legal_basis_id, relevance, \
     items, subject_count, state, reviewed_by, reviewed_at, opinion, assigned_querier, \
     delivery, document_no, delivered_at";

fn request_from(row: &SqliteRow) -> Result<QueryRequestRow, StorageError> {
    let opt_ts = |c: &str| -> Result<Option<Timestamp>, StorageError> {
        get::<Option<String>>(row, c)?.map(|s| ts(&s)).transpose()
    };
    let opt_person = |c: &str| -> Result<Option<PersonId>, StorageError> {
        Ok(get::<Option<i64>>(row, c)?.map(PersonId::new))
    };
    Ok(QueryRequestRow {
        id: get(row, "id")?,
        no: decode(
            "request no",
            RequestNo::parse(&get::<String>(row, "request_no")?),
        )?,
        created_at: ts(&get::<String>(row, "created_at")?)?,
        date: date(&get::<String>(row, "request_date")?)?,
        requesting_unit: decode("unit", UnitId::new(get::<String>(row, "requesting_unit")?))?,
        applicant: PersonId::new(get(row, "applicant_id")?),
        applicant_title: get(row, "applicant_title")?,
        phone: get(row, "phone")?,
        fax: get(row, "fax")?,
        responsible_unit: decode("unit", UnitId::new(get::<String>(row, "responsible_unit")?))?,
        legal_basis: decode(
            "legal basis",
            LegalBasisId::new(get::<String>(row, "legal_basis_id")?),
        )?,
        relevance: get(row, "relevance")?,
        items: items_from_json(&get::<String>(row, "items")?)?,
        subject_count: usize::try_from(get::<i64>(row, "subject_count")?).unwrap_or(0),
        state: RequestState::parse(&get::<String>(row, "state")?)?,
        reviewed_by: opt_person("reviewed_by")?,
        reviewed_at: opt_ts("reviewed_at")?,
        opinion: get(row, "opinion")?,
        assigned_querier: opt_person("assigned_querier")?,
        delivery: get(row, "delivery")?,
        document_no: get(row, "document_no")?,
        delivered_at: opt_ts("delivered_at")?,
    })
}

fn request_subject_from(row: &SqliteRow) -> Result<RequestSubjectRow, StorageError> {
    Ok(RequestSubjectRow {
        id: get(row, "id")?,
        request: get(row, "request_id")?,
        position: get(row, "position")?,
        subject_digest: get(row, "subject_hmac")?,
        subject_key_id: get(row, "hmac_key_id")?,
        sealed: sealed_from(row, "")?
            .ok_or_else(|| StorageError::Decode("request subject without content".into()))?,
        registration: get::<Option<i64>>(row, "registration_id")?.map(RegistrationId),
        destroyed: match (
            get::<Option<String>>(row, "destroyed_at")?,
            get::<Option<String>>(row, "name_masked")?,
            get::<Option<String>>(row, "id_masked")?,
        ) {
            (Some(_), Some(name), Some(id)) => Some((name, id)),
            _ => None,
        },
    })
}

async fn recent_relevance_in(
    conn: &mut SqliteConnection,
    querier: PersonId,
    limit: u32,
    exclude_batch: Option<&str>,
) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT relevance FROM registrations WHERE querier_id = ? \
         AND (? IS NULL OR batch_id IS NULL OR batch_id <> ?) ORDER BY id DESC LIMIT ?",
    )
    .bind(querier.get())
    .bind(exclude_batch)
    .bind(exclude_batch)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?;
    Ok(rows.into_iter().map(|(r,)| r).collect())
}

// ---------------------------------------------------------------------------------------
// Writes

impl WriteTx {
    /// The next number of `kind` (`registration` or `request`) in `roc_year`: 1, 2, 3…
    pub async fn next_number(&mut self, kind: &str, roc_year: i16) -> Result<u32, StorageError> {
        let (n,): (i64,) = sqlx::query_as(
            "INSERT INTO number_counters (kind, roc_year, last_seq) VALUES (?, ?, 1) \
             ON CONFLICT (kind, roc_year) DO UPDATE SET last_seq = last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(kind)
        .bind(i64::from(roc_year))
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
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
             findings, companion_legal_basis_id, no_case_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, \
             ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?, ?) RETURNING id",
        )
        .bind(r.no.to_string())
        .bind(r.date.civil().to_string())
        .bind(r.created_at.to_string())
        .bind(&r.subject_digest)
        .bind(&r.subject_key_id)
        .bind(&r.linked_subject_digest)
        .bind(&r.subject.sealed)
        .bind(&r.subject.nonce)
        .bind(&r.subject.wrapped_key)
        .bind(&r.subject.wrap_nonce)
        .bind(&r.subject.master_key_id)
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
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(RegistrationId(id))
    }

    /// The registration, read inside this transaction (for decisions that must not race).
    pub async fn registration_by_no(
        &mut self,
        no: RegistrationNo,
    ) -> Result<Option<Registration>, StorageError> {
        let no = no.to_string();
        registration_where(&mut self.tx, "reg_no = ?", RegKey::No(&no)).await
    }

    /// Open registrations — filed or approved, nothing executed yet — in which `person` is a
    /// party (applicant, needer or querier). §2: a transfer or leave cancels them.
    pub async fn open_registrations_of(
        &mut self,
        person: PersonId,
    ) -> Result<Vec<Registration>, StorageError> {
        let ids: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM registrations r WHERE \
             (applicant_id = ?1 OR needer_id = ?1 OR querier_id = ?1) \
             AND state IN ('registered', 'approved') \
             AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.registration_id = r.id \
             AND e.outcome <> 'failed') \
             ORDER BY id",
        )
        .bind(person.get())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        let mut out = Vec::new();
        for (id,) in ids {
            if let Some(r) = registration_where(&mut self.tx, "id = ?", RegKey::Id(id)).await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    pub async fn registration(
        &mut self,
        id: RegistrationId,
    ) -> Result<Option<Registration>, StorageError> {
        registration_where(&mut self.tx, "id = ?", RegKey::Id(id.0)).await
    }

    /// The sealed subject, read inside this transaction.
    pub async fn registration_subject(
        &mut self,
        id: RegistrationId,
    ) -> Result<Option<SealedBlob>, StorageError> {
        subject_of(&mut self.tx, id).await
    }

    /// The relevance texts of `querier`'s latest `limit` registrations outside `exclude_batch`.
    pub async fn recent_relevance(
        &mut self,
        querier: PersonId,
        limit: u32,
        exclude_batch: Option<&str>,
    ) -> Result<Vec<String>, StorageError> {
        recent_relevance_in(&mut self.tx, querier, limit, exclude_batch).await
    }

    /// Records a decision and moves the registration to the state it leads to.
    pub async fn record_decision(&mut self, d: &NewDecision) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO registration_decisions (registration_id, person_id, at, kind, comment, \
             valid_until, subject_hmac, acting, acting_for) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(d.registration.0)
        .bind(d.person.get())
        .bind(d.at.to_string())
        .bind(d.kind.code())
        .bind(&d.comment)
        .bind(d.valid_until.map(|t| t.to_string()))
        .bind(&d.subject_digest)
        .bind(i64::from(d.acting))
        .bind(d.acting_for.map(PersonId::get))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        sqlx::query("UPDATE registrations SET state = ? WHERE id = ?")
            .bind(d.kind.state_after())
            .bind(d.registration.0)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(e.registration.0)
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
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|err| self.noted(classify(err)))?;
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
        let res = sqlx::query(
            "UPDATE executions SET result_at = ?, outcome = ?, failure_code = ? \
             WHERE id = ? AND outcome = 'sent'",
        )
        .bind(at.to_string())
        .bind(outcome.code())
        .bind(failure_code)
        .bind(execution)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(res.rows_affected() == 1)
    }

    /// §6: destroys a Form 2 row's sealed subject (ciphertext and wrapped data key emptied),
    /// keeping the digest and the masked forms. False if already destroyed.
    pub async fn destroy_registration_subject(
        &mut self,
        id: RegistrationId,
        at: Timestamp,
        masked: &MaskedSubject,
    ) -> Result<bool, StorageError> {
        let res = sqlx::query(
            "UPDATE registrations SET subject_sealed = x'', subject_nonce = x'', \
             wrapped_key = x'', wrap_nonce = x'', subject_destroyed_at = ?, \
             subject_name_masked = ?, subject_id_masked = ?, linked_id_masked = ? \
             WHERE id = ? AND subject_destroyed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(&masked.name)
        .bind(&masked.id)
        .bind(&masked.linked_id)
        .bind(id.0)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(res.rows_affected() == 1)
    }

    /// §6: the same for one subject of a Form 3 request.
    pub async fn destroy_request_subject(
        &mut self,
        row: i64,
        at: Timestamp,
        masked: &MaskedSubject,
    ) -> Result<bool, StorageError> {
        let res = sqlx::query(
            "UPDATE query_request_subjects SET sealed = x'', nonce = x'', wrapped_key = x'', \
             wrap_nonce = x'', destroyed_at = ?, name_masked = ?, id_masked = ? \
             WHERE id = ? AND destroyed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(&masked.name)
        .bind(&masked.id)
        .bind(row)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(res.rows_affected() == 1)
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
        let res = sqlx::query(
            "UPDATE executions SET resolved_at = ?, resolved_by = ?, resolution = ?, \
             resolution_note = ? WHERE id = ? AND resolved_at IS NULL \
             AND outcome IN ('sent', 'unknown')",
        )
        .bind(at.to_string())
        .bind(by.map(PersonId::get))
        .bind(resolution)
        .bind(note)
        .bind(execution)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn insert_result(&mut self, r: &NewResult) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO results (execution_id, registration_id, item, received_at, kind, \
             content_type, sealed, nonce, wrapped_key, wrap_nonce, master_key_id, \
             retention_rule, destroy_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(r.execution)
        .bind(r.registration.0)
        .bind(r.item.as_str())
        .bind(r.received_at.to_string())
        .bind(&r.kind)
        .bind(&r.content_type)
        .bind(&r.sealed.sealed)
        .bind(&r.sealed.nonce)
        .bind(&r.sealed.wrapped_key)
        .bind(&r.sealed.wrap_nonce)
        .bind(&r.sealed.master_key_id)
        .bind(&r.retention_rule)
        .bind(r.destroy_after.civil().to_string())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(id)
    }

    /// The result, read inside this transaction.
    pub async fn result(&mut self, id: i64) -> Result<Option<ResultRow>, StorageError> {
        let sql = format!("SELECT {RESULT_COLUMNS} FROM results WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(classify)?;
        row.as_ref().map(result_from).transpose()
    }

    pub async fn insert_view(
        &mut self,
        result: i64,
        viewer: PersonId,
        at: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO result_views (result_id, viewer_id, at) VALUES (?, ?, ?)")
            .bind(result)
            .bind(viewer.get())
            .bind(at.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
        Ok(())
    }

    /// How many prints of `result` were made, read inside this transaction.
    pub async fn prints_made(&mut self, result: i64) -> Result<i64, StorageError> {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM result_prints WHERE result_id = ?")
            .bind(result)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
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
             VALUES (?1, (SELECT coalesce(max(print_no), 0) + 1 FROM result_prints \
             WHERE result_id = ?1), ?2, ?3, ?4) RETURNING print_no",
        )
        .bind(result)
        .bind(by.get())
        .bind(at.to_string())
        .bind(reason)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
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
        let res = sqlx::query(
            "UPDATE result_prints SET copy_destroyed_at = ?, copy_destroyed_by = ? \
             WHERE result_id = ? AND print_no = ? AND copy_destroyed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(by.get())
        .bind(result)
        .bind(print_no)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(res.rows_affected() == 1)
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
        let res = sqlx::query(
            "UPDATE results SET sealed = NULL, nonce = NULL, wrapped_key = NULL, \
             wrap_nonce = NULL, master_key_id = NULL, destroyed_at = ? \
             WHERE id = ? AND destroyed_at IS NULL",
        )
        .bind(at.to_string())
        .bind(result)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO result_destructions (result_id, destroyed_at, rule, destroyed_by, \
             prints_outstanding) VALUES (?1, ?2, ?3, ?4, (SELECT count(*) FROM result_prints \
             WHERE result_id = ?1 AND copy_destroyed_at IS NULL))",
        )
        .bind(result)
        .bind(at.to_string())
        .bind(rule)
        .bind(by.map(PersonId::get))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(true)
    }

    pub async fn insert_request(&mut self, r: &NewQueryRequest) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO query_requests (request_no, created_at, request_date, requesting_unit, \
             applicant_id, applicant_title, phone, fax, responsible_unit, legal_basis_id, \
             relevance, items, subject_count, state) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted') RETURNING id",
        )
        .bind(r.no.to_string())
        .bind(r.created_at.to_string())
        .bind(r.date.civil().to_string())
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
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(request)
        .bind(position)
        .bind(subject_digest)
        .bind(subject_key_id)
        .bind(&sealed.sealed)
        .bind(&sealed.nonce)
        .bind(&sealed.wrapped_key)
        .bind(&sealed.wrap_nonce)
        .bind(&sealed.master_key_id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(())
    }

    /// The request, read inside this transaction.
    pub async fn request_by_no(
        &mut self,
        no: RequestNo,
    ) -> Result<Option<QueryRequestRow>, StorageError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM query_requests WHERE request_no = ?");
        let row = sqlx::query(&sql)
            .bind(no.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(classify)?;
        row.as_ref().map(request_from).transpose()
    }

    pub async fn request_subjects(
        &mut self,
        request: i64,
    ) -> Result<Vec<RequestSubjectRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, request_id, position, subject_hmac, hmac_key_id, sealed, nonce, \
             wrapped_key, wrap_nonce, master_key_id, registration_id, destroyed_at, \
             name_masked, id_masked \
             FROM query_request_subjects WHERE request_id = ? ORDER BY position",
        )
        .bind(request)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(classify)?;
        rows.iter().map(request_subject_from).collect()
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
        let res = sqlx::query(
            "UPDATE query_requests SET state = ?, reviewed_by = ?, reviewed_at = ?, opinion = ?, \
             assigned_querier = ? WHERE id = ? AND state = 'submitted'",
        )
        .bind(state.code())
        .bind(by.get())
        .bind(at.to_string())
        .bind(opinion)
        .bind(querier.map(PersonId::get))
        .bind(request)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn link_request_subject(
        &mut self,
        subject_row: i64,
        registration: RegistrationId,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE query_request_subjects SET registration_id = ? WHERE id = ?")
            .bind(registration.0)
            .bind(subject_row)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| self.noted(classify(e)))?;
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
            "UPDATE query_requests SET delivery = ?, document_no = ?, delivered_at = ? WHERE id = ?",
        )
        .bind(delivery)
        .bind(document_no)
        .bind(at.to_string())
        .bind(request)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Reads

impl Store {
    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, StorageError> {
        self.reader.acquire().await.map_err(classify)
    }

    pub async fn registration_by_no(
        &self,
        no: RegistrationNo,
    ) -> Result<Option<Registration>, StorageError> {
        let mut c = self.conn().await?;
        let no = no.to_string();
        registration_where(&mut c, "reg_no = ?", RegKey::No(&no)).await
    }

    pub async fn registration(
        &self,
        id: RegistrationId,
    ) -> Result<Option<Registration>, StorageError> {
        let mut c = self.conn().await?;
        registration_where(&mut c, "id = ?", RegKey::Id(id.0)).await
    }

    pub async fn registration_subject(
        &self,
        id: RegistrationId,
    ) -> Result<Option<SealedBlob>, StorageError> {
        let mut c = self.conn().await?;
        subject_of(&mut c, id).await
    }

    pub async fn recent_relevance(
        &self,
        querier: PersonId,
        limit: u32,
        exclude_batch: Option<&str>,
    ) -> Result<Vec<String>, StorageError> {
        let mut c = self.conn().await?;
        recent_relevance_in(&mut c, querier, limit, exclude_batch).await
    }

    /// Registrations matching `f`, oldest first.
    pub async fn registrations(
        &self,
        f: &RegistrationFilter,
    ) -> Result<Vec<Registration>, StorageError> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {REG_COLUMNS} FROM registrations WHERE \
             (?1 IS NULL OR approving_unit = ?1) AND (?2 IS NULL OR querier_id = ?2) AND \
             (?3 IS NULL OR applicant_id = ?3 OR needer_id = ?3 OR querier_id = ?3) AND \
             (?4 IS NULL OR state = ?4) AND (?5 IS NULL OR request_id = ?5) AND \
             (?6 IS NULL OR subject_hmac = ?6) ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(f.approving_unit.as_ref().map(|u| u.as_str().to_string()))
            .bind(f.querier.map(PersonId::get))
            .bind(f.party.map(PersonId::get))
            .bind(f.state)
            .bind(f.request)
            .bind(&f.subject_digest)
            .fetch_all(&mut *c)
            .await
            .map_err(classify)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(load_registration(row)?);
        }
        Ok(out)
    }

    pub async fn executions_of(
        &self,
        registration: RegistrationId,
    ) -> Result<Vec<ExecutionRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, registration_id, item, querier_id, mode, request_id, sent_at, result_at, \
             outcome, failure_code, portal_queried_at, portal_note, paper_case_no, resolved_at, \
             resolution FROM executions WHERE registration_id = ? ORDER BY id",
        )
        .bind(registration.0)
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        rows.iter().map(execution_from).collect()
    }

    /// The masked forms kept for a Form 2 row whose subject was destroyed (§6), if it was.
    pub async fn destroyed_subject(
        &self,
        id: RegistrationId,
    ) -> Result<Option<MaskedSubject>, StorageError> {
        let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT subject_name_masked, subject_id_masked, linked_id_masked FROM registrations \
             WHERE id = ? AND subject_destroyed_at IS NOT NULL",
        )
        .bind(id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(classify)?;
        Ok(row.map(|(name, nid, linked)| MaskedSubject {
            name: name.unwrap_or_default(),
            id: nid.unwrap_or_default(),
            linked_id: linked,
        }))
    }

    /// Form 2 rows dated before `before` whose sealed subject is still held and none of
    /// whose results is still held (§6: a result keeps its subject readable to its end).
    pub async fn registration_subjects_held_before(
        &self,
        before: RocDate,
    ) -> Result<Vec<HeldSubject>, StorageError> {
        let rows = sqlx::query(
            "SELECT r.id, r.reg_no, r.reg_date, r.subject_sealed AS sealed, \
             r.subject_nonce AS nonce, r.wrapped_key, r.wrap_nonce, r.master_key_id \
             FROM registrations r WHERE r.subject_destroyed_at IS NULL AND r.reg_date < ? \
             AND NOT EXISTS (SELECT 1 FROM results x WHERE x.registration_id = r.id \
             AND x.destroyed_at IS NULL) ORDER BY r.id",
        )
        .bind(before.civil().to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(sealed) = sealed_from(row, "")? else {
                continue;
            };
            out.push(HeldSubject {
                id: get(row, "id")?,
                reg_no: get(row, "reg_no")?,
                date: date(&get::<String>(row, "reg_date")?)?,
                sealed,
            });
        }
        Ok(out)
    }

    /// Subjects of Form 3 requests dated before `before`, reviewed (not still waiting), whose
    /// sealed subject is still held. `reg_no` carries the request number; `id` the row.
    pub async fn request_subjects_held_before(
        &self,
        before: RocDate,
    ) -> Result<Vec<(HeldSubject, i64)>, StorageError> {
        let rows = sqlx::query(
            "SELECT s.id, q.request_no AS reg_no, q.request_date AS reg_date, s.position, \
             s.sealed, s.nonce, s.wrapped_key, s.wrap_nonce, s.master_key_id \
             FROM query_request_subjects s JOIN query_requests q ON q.id = s.request_id \
             WHERE s.destroyed_at IS NULL AND q.state <> 'submitted' AND q.request_date < ? \
             ORDER BY s.id",
        )
        .bind(before.civil().to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(sealed) = sealed_from(row, "")? else {
                continue;
            };
            out.push((
                HeldSubject {
                    id: get(row, "id")?,
                    reg_no: get(row, "reg_no")?,
                    date: date(&get::<String>(row, "reg_date")?)?,
                    sealed,
                },
                get(row, "position")?,
            ));
        }
        Ok(out)
    }

    /// Every attempt awaiting its outcome (sent or unknown, unresolved), oldest first: what
    /// the usage-log reconciliation tries to resolve.
    pub async fn executions_awaiting_outcome(&self) -> Result<Vec<ExecutionRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, registration_id, item, querier_id, mode, request_id, sent_at, result_at, \
             outcome, failure_code, portal_queried_at, portal_note, paper_case_no, resolved_at, \
             resolution FROM executions WHERE resolved_at IS NULL \
             AND outcome IN ('sent', 'unknown') ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        rows.iter().map(execution_from).collect()
    }

    /// The platform's outcome for a request id, if its usage log (as imported) has it.
    pub async fn platform_outcome_of_request(
        &self,
        request_id: &str,
    ) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT outcome FROM platform_usage_records WHERE request_id = ? \
             ORDER BY at LIMIT 1",
        )
        .bind(request_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(classify)?;
        Ok(row.map(|(o,)| o))
    }

    /// The result of one item of a registration, if any (sealed content unless destroyed).
    pub async fn result_of(
        &self,
        registration: RegistrationId,
        item: &ServiceItemCode,
    ) -> Result<Option<ResultRow>, StorageError> {
        let sql =
            format!("SELECT {RESULT_COLUMNS} FROM results WHERE registration_id = ? AND item = ?");
        let row = sqlx::query(&sql)
            .bind(registration.0)
            .bind(item.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        row.as_ref().map(result_from).transpose()
    }

    pub async fn results_of(
        &self,
        registration: RegistrationId,
    ) -> Result<Vec<ResultRow>, StorageError> {
        let sql =
            format!("SELECT {RESULT_COLUMNS} FROM results WHERE registration_id = ? ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(registration.0)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter().map(result_from).collect()
    }

    /// Results not yet destroyed, with their keeping dates (for the destruction job and the
    /// "expiring" inbox).
    pub async fn results_held(&self) -> Result<Vec<ResultRow>, StorageError> {
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM results WHERE destroyed_at IS NULL ORDER BY destroy_after, id"
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter().map(result_from).collect()
    }

    pub async fn prints_of(&self, result: i64) -> Result<Vec<PrintRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, result_id, print_no, printed_by, printed_at, copy_destroyed_at \
             FROM result_prints WHERE result_id = ? ORDER BY print_no",
        )
        .bind(result)
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok(PrintRow {
                    id: get(r, "id")?,
                    result: get(r, "result_id")?,
                    print_no: get(r, "print_no")?,
                    printed_by: PersonId::new(get(r, "printed_by")?),
                    printed_at: ts(&get::<String>(r, "printed_at")?)?,
                    copy_destroyed_at: get::<Option<String>>(r, "copy_destroyed_at")?
                        .map(|s| ts(&s))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// How many times a result has been viewed, and by whom (in order).
    pub async fn views_of(&self, result: i64) -> Result<Vec<(PersonId, Timestamp)>, StorageError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT viewer_id, at FROM result_views WHERE result_id = ? ORDER BY id",
        )
        .bind(result)
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        rows.into_iter()
            .map(|(p, at)| Ok((PersonId::new(p), ts(&at)?)))
            .collect()
    }

    pub async fn destruction_of(
        &self,
        result: i64,
    ) -> Result<Option<DestructionRow>, StorageError> {
        let row: Option<(i64, String, String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT result_id, destroyed_at, rule, destroyed_by, prints_outstanding \
             FROM result_destructions WHERE result_id = ?",
        )
        .bind(result)
        .fetch_optional(&self.reader)
        .await
        .map_err(classify)?;
        row.map(|(r, at, rule, by, outstanding)| {
            Ok(DestructionRow {
                result: r,
                destroyed_at: ts(&at)?,
                rule,
                destroyed_by: by.map(PersonId::new),
                prints_outstanding: outstanding,
            })
        })
        .transpose()
    }

    pub async fn request_by_no(
        &self,
        no: RequestNo,
    ) -> Result<Option<QueryRequestRow>, StorageError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM query_requests WHERE request_no = ?");
        let row = sqlx::query(&sql)
            .bind(no.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        row.as_ref().map(request_from).transpose()
    }

    pub async fn request(&self, id: i64) -> Result<Option<QueryRequestRow>, StorageError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM query_requests WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?;
        row.as_ref().map(request_from).transpose()
    }

    /// Requests to a responsible unit (and/or from an applicant, and/or in a state).
    pub async fn requests(
        &self,
        responsible_unit: Option<&UnitId>,
        applicant: Option<PersonId>,
        state: Option<RequestState>,
    ) -> Result<Vec<QueryRequestRow>, StorageError> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM query_requests WHERE (?1 IS NULL OR responsible_unit = ?1) \
             AND (?2 IS NULL OR applicant_id = ?2) AND (?3 IS NULL OR state = ?3) ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(responsible_unit.map(|u| u.as_str().to_string()))
            .bind(applicant.map(PersonId::get))
            .bind(state.map(RequestState::code))
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        rows.iter().map(request_from).collect()
    }
}
