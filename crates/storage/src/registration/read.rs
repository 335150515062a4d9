//! The register's reads, each written once: one function per read, generic over where it runs
//! (the read pool, or a use case's write transaction when the decision must not race), with
//! the rows mapped by `sqlx::FromRow` records and turned into domain values in one place.
//! `Store` and `WriteTx` expose them through one-line methods; a second backend supplies the
//! same functions with its own SQL.

use std::collections::BTreeSet;

use querywarden_domain::catalogue::{LegalBasisId, ServiceItemCode};
use querywarden_domain::org::{PersonId, UnitId};
use querywarden_domain::registration::{
    Origin, Parties, Registration, RegistrationId, RegistrationNo, RegistrationState, RequestNo,
};
use sqlx::AnyExecutor;

use super::{
    ExecutionMode, ExecutionOutcome, ExecutionRow, NewQueryRequest, QueryRequestRow, RequestState,
    RequestSubjectRow, ResultRow, SealedBlob,
};
use crate::decode::{coded, decode, opt_ts, roc, roc_text, ts, unfold_rows};
use crate::error::{StorageError, classify};
use crate::fetch::Fetch;

pub(super) fn items_from_json(s: &str) -> Result<BTreeSet<ServiceItemCode>, StorageError> {
    let codes: Vec<String> = decode("items", serde_json::from_str(s))?;
    codes
        .iter()
        .map(|c| decode("item", ServiceItemCode::parse(c)))
        .collect()
}

/// The five columns of a sealed blob (named alike in every table that holds one); all NULL
/// or emptied once destroyed.
#[derive(sqlx::FromRow)]
pub(super) struct SealedColumns {
    sealed: Option<Vec<u8>>,
    nonce: Option<Vec<u8>>,
    wrapped_key: Option<Vec<u8>>,
    wrap_nonce: Option<Vec<u8>>,
    master_key_id: Option<String>,
}

impl SealedColumns {
    fn into_blob(self) -> Option<SealedBlob> {
        Some(SealedBlob {
            sealed: self.sealed?,
            nonce: self.nonce?,
            wrapped_key: self.wrapped_key?,
            wrap_nonce: self.wrap_nonce?,
            master_key_id: self.master_key_id?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Registrations

/// A registration's row with its decisions and live executions folded in (see
/// [`crate::decode::unfold`]), so that loading one — or a list — is one statement (every
/// statement is a round trip to the connection's worker thread; the execution use case loads
/// one under the write lock).
const REG_COLUMNS: &str = "id, reg_no, reg_date, created_at, subject_hmac, hmac_key_id, items, \
     legal_basis_id, relevance, case_no, applicant_id, needer_id, querier_id, approving_unit, \
     request_id, batch_id, state, second_approval_required, findings, \
     coalesce((SELECT string_agg(CASE WHEN d.person_id IS NULL THEN '~' ELSE length(CAST(d.person_id AS TEXT)) || ':' || CAST(d.person_id AS TEXT) END || \
          CASE WHEN d.at IS NULL THEN '~' ELSE length(d.at) || ':' || d.at END || \
          CASE WHEN d.kind IS NULL THEN '~' ELSE length(d.kind) || ':' || d.kind END || \
          CASE WHEN d.comment IS NULL THEN '~' ELSE length(d.comment) || ':' || d.comment END || \
          CASE WHEN d.valid_until IS NULL THEN '~' ELSE length(d.valid_until) || ':' || d.valid_until END || \
          CASE WHEN d.subject_hmac IS NULL THEN '~' ELSE length(d.subject_hmac) || ':' || d.subject_hmac END, \
          '' ORDER BY d.id) \
        FROM registration_decisions d WHERE d.registration_id = registrations.id), '') AS decisions, \
     coalesce((SELECT string_agg(CASE WHEN e.item IS NULL THEN '~' ELSE length(e.item) || ':' || e.item END || \
          CASE WHEN e.outcome IS NULL THEN '~' ELSE length(e.outcome) || ':' || e.outcome END, \
          '' ORDER BY e.id) \
        FROM executions e WHERE e.registration_id = registrations.id \
        AND e.resolved_at IS NULL AND e.outcome IN ('sent', 'received', 'recorded', 'unknown')), '') AS executed";

#[derive(sqlx::FromRow)]
struct RegistrationRecord {
    id: i64,
    reg_no: String,
    reg_date: String,
    created_at: String,
    subject_hmac: String,
    hmac_key_id: String,
    items: String,
    legal_basis_id: String,
    relevance: String,
    case_no: Option<String>,
    applicant_id: i64,
    needer_id: i64,
    querier_id: i64,
    approving_unit: String,
    request_id: Option<i64>,
    batch_id: Option<String>,
    state: String,
    second_approval_required: i64,
    findings: String,
    /// Folded: `person, at, kind, comment, valid_until, subject digest` a decision, in order.
    decisions: String,
    /// Folded: `item, outcome` of each live attempt.
    executed: String,
}

/// A decision as folded into [`REG_COLUMNS`]: person, at, kind, comment, valid until,
/// subject digest.
type DecisionFields = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl RegistrationRecord {
    fn into_registration(self) -> Result<Registration, StorageError> {
        let decisions: Vec<DecisionFields> =
            unfold_rows("decisions", &self.decisions, 6, |mut f| {
                Ok((
                    f.int("decision by")?,
                    f.text("decision at")?,
                    f.text("decision kind")?,
                    f.opt(),
                    f.opt(),
                    f.opt(),
                ))
            })?;
        // The live attempts (at most one per item, by the partial unique index of 0015): done
        // ones count as executed; a sent or unknown one awaits its outcome.
        let executed: Vec<(String, String)> =
            unfold_rows("executed items", &self.executed, 2, |mut f| {
                Ok((f.text("item")?, f.text("outcome")?))
            })?;
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
        let mut last = None;
        for (person, at, kind, comment, valid_until, digest) in decisions {
            let person = PersonId::new(person);
            let at = ts(&at)?;
            if kind == "approve_first" {
                first_approval = Some((person, at));
            }
            last = Some((person, at, kind, comment, valid_until, digest));
        }
        let mut approved_subject_digest = None;
        let state = match (self.state.as_str(), last) {
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
            id: RegistrationId::new(self.id),
            no: decode("registration no", RegistrationNo::parse(&self.reg_no))?,
            date: roc(&self.reg_date)?,
            created_at: ts(&self.created_at)?,
            subject_digest: self.subject_hmac,
            subject_key_id: self.hmac_key_id,
            items: items_from_json(&self.items)?,
            legal_basis: decode("legal basis", LegalBasisId::new(self.legal_basis_id))?,
            relevance: self.relevance,
            case_no: self.case_no,
            parties: Parties {
                applicant: PersonId::new(self.applicant_id),
                needer: PersonId::new(self.needer_id),
                querier: PersonId::new(self.querier_id),
            },
            approving_unit: decode("unit", UnitId::new(self.approving_unit))?,
            origin: self.request_id.map_or(Origin::Internal, Origin::Form3),
            state,
            second_approval_required: self.second_approval_required != 0,
            findings: decode("findings", serde_json::from_str(&self.findings))?,
            executed_items,
            awaiting_outcome,
            approved_subject_digest,
            batch: self.batch_id,
        })
    }
}

/// Which registration to load.
pub(super) enum RegKey<'a> {
    Id(RegistrationId),
    No(&'a RegistrationNo),
}

pub(super) async fn registration<'e>(
    db: impl AnyExecutor<'e>,
    key: RegKey<'_>,
) -> Result<Option<Registration>, StorageError> {
    let select = |clause: &str| format!("SELECT {REG_COLUMNS} FROM registrations WHERE {clause}");
    let decode = RegistrationRecord::into_registration;
    match key {
        RegKey::Id(id) => {
            let sql = select("id = $1");
            sqlx::query_as(&sql)
                .bind(id.get())
                .optional(db, decode)
                .await
        }
        RegKey::No(no) => {
            let sql = select("reg_no = $1");
            sqlx::query_as(&sql)
                .bind(no.to_string())
                .optional(db, decode)
                .await
        }
    }
}

/// Registrations matching `f`, oldest first.
pub(super) async fn registrations<'e>(
    db: impl AnyExecutor<'e>,
    f: &super::RegistrationFilter,
) -> Result<Vec<Registration>, StorageError> {
    registrations_query(f)
        .build_query_as::<RegistrationRecord>()
        .all(db, RegistrationRecord::into_registration)
        .await
}

/// The statement of [`registrations`]. Only the conditions given are written into it, so
/// each can use its index (`?1 IS NULL OR …` would make SQLite scan the register).
pub(crate) fn registrations_query(
    f: &super::RegistrationFilter,
) -> crate::builder::QueryBuilder<'static> {
    let mut qb = crate::builder::QueryBuilder::new(format!(
        "SELECT {REG_COLUMNS} FROM registrations WHERE 1 = 1"
    ));
    if let Some(u) = &f.approving_unit {
        qb.push(" AND approving_unit = ")
            .push_bind(u.as_str().to_string());
    }
    if let Some(p) = f.querier {
        qb.push(" AND querier_id = ").push_bind(p.get());
    }
    if let Some(p) = f.party {
        qb.push(" AND (applicant_id = ")
            .push_bind(p.get())
            .push(" OR needer_id = ")
            .push_bind(p.get())
            .push(" OR querier_id = ")
            .push_bind(p.get())
            .push(")");
    }
    if let Some(s) = f.state {
        qb.push(" AND state = ").push_bind(s);
    }
    if let Some(r) = f.request {
        qb.push(" AND request_id = ").push_bind(r);
    }
    if let Some(d) = &f.subject_digest {
        qb.push(" AND subject_hmac = ").push_bind(d.clone());
    }
    qb.push(" ORDER BY id");
    qb
}

/// Open registrations — filed or approved, nothing executed yet — in which `person` is a
/// party (applicant, needer or querier), in one statement.
pub(super) async fn open_registrations_of<'e>(
    db: impl AnyExecutor<'e>,
    person: PersonId,
) -> Result<Vec<Registration>, StorageError> {
    let sql = format!(
        "SELECT {REG_COLUMNS} FROM registrations WHERE \
         (applicant_id = $1 OR needer_id = $1 OR querier_id = $1) \
         AND state IN ('registered', 'approved') \
         AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.registration_id = registrations.id \
         AND e.outcome <> 'failed') ORDER BY id"
    );
    sqlx::query_as::<_, RegistrationRecord>(&sql)
        .bind(person.get())
        .all(db, RegistrationRecord::into_registration)
        .await
}

/// The sealed subject of a Form 2 row, unless destroyed.
pub(super) async fn registration_subject<'e>(
    db: impl AnyExecutor<'e>,
    id: RegistrationId,
) -> Result<Option<SealedBlob>, StorageError> {
    let row = sqlx::query_as(
        "SELECT subject_sealed AS sealed, subject_nonce AS nonce, wrapped_key, wrap_nonce, \
         master_key_id FROM registrations WHERE id = $1 AND subject_destroyed_at IS NULL",
    )
    .bind(id.get())
    .optional(db, |c: SealedColumns| Ok(c.into_blob()))
    .await?;
    Ok(row.flatten())
}

/// The relevance texts of `querier`'s latest `limit` registrations outside `exclude_batch`.
pub(super) async fn recent_relevance<'e>(
    db: impl AnyExecutor<'e>,
    querier: PersonId,
    limit: u32,
    exclude_batch: Option<&str>,
) -> Result<Vec<String>, StorageError> {
    sqlx::query_as(
        "SELECT relevance FROM registrations WHERE querier_id = $1 \
         AND (CAST($2 AS TEXT) IS NULL OR batch_id IS NULL OR batch_id <> $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(querier.get())
    .bind(exclude_batch)
    .bind(i64::from(limit))
    .all(db, |(r,)| Ok(r))
    .await
}

// ---------------------------------------------------------------------------------------
// Executions

pub(super) const EXECUTION_COLUMNS: &str = "id, registration_id, item, querier_id, mode, \
     request_id, sent_at, result_at, outcome, failure_code, portal_queried_at, portal_note, \
     paper_case_no, resolved_at, resolution";

#[derive(sqlx::FromRow)]
pub(super) struct ExecutionRecord {
    id: i64,
    registration_id: i64,
    item: String,
    querier_id: i64,
    mode: String,
    request_id: String,
    sent_at: String,
    result_at: Option<String>,
    outcome: String,
    failure_code: Option<String>,
    portal_queried_at: Option<String>,
    portal_note: Option<String>,
    paper_case_no: Option<String>,
    resolved_at: Option<String>,
    resolution: Option<String>,
}

impl TryFrom<ExecutionRecord> for ExecutionRow {
    type Error = StorageError;

    fn try_from(r: ExecutionRecord) -> Result<Self, StorageError> {
        Ok(ExecutionRow {
            id: r.id,
            registration: RegistrationId::new(r.registration_id),
            item: decode("item", ServiceItemCode::parse(&r.item))?,
            querier: PersonId::new(r.querier_id),
            mode: coded("execution mode", &r.mode, ExecutionMode::parse_code)?,
            request_id: r.request_id,
            sent_at: ts(&r.sent_at)?,
            result_at: opt_ts(r.result_at)?,
            outcome: coded(
                "execution outcome",
                &r.outcome,
                ExecutionOutcome::parse_code,
            )?,
            failure_code: r.failure_code,
            portal_queried_at: opt_ts(r.portal_queried_at)?,
            portal_note: r.portal_note,
            paper_case_no: r.paper_case_no,
            resolved_at: opt_ts(r.resolved_at)?,
            resolution: r.resolution,
        })
    }
}

/// Executions matching `condition` (over the `executions` table), oldest first.
pub(super) async fn executions_where<'e>(
    db: impl AnyExecutor<'e>,
    condition: &str,
    registration: Option<RegistrationId>,
) -> Result<Vec<ExecutionRow>, StorageError> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE {condition} ORDER BY id");
    let mut q = sqlx::query_as::<_, ExecutionRecord>(&sql);
    if let Some(r) = registration {
        q = q.bind(r.get());
    }
    q.all(db, ExecutionRow::try_from).await
}

// ---------------------------------------------------------------------------------------
// Results in custody

const RESULT_COLUMNS: &str = "id, execution_id, registration_id, item, received_at, kind, \
     content_type, sealed, nonce, wrapped_key, wrap_nonce, master_key_id, retention_rule, \
     destroy_after, destroyed_at";

#[derive(sqlx::FromRow)]
struct ResultRecord {
    id: i64,
    execution_id: i64,
    registration_id: i64,
    item: String,
    received_at: String,
    kind: String,
    content_type: String,
    #[sqlx(flatten)]
    sealed: SealedColumns,
    retention_rule: String,
    destroy_after: String,
    destroyed_at: Option<String>,
}

impl TryFrom<ResultRecord> for ResultRow {
    type Error = StorageError;

    fn try_from(r: ResultRecord) -> Result<Self, StorageError> {
        Ok(ResultRow {
            id: r.id,
            execution: r.execution_id,
            registration: RegistrationId::new(r.registration_id),
            item: decode("item", ServiceItemCode::parse(&r.item))?,
            received_at: ts(&r.received_at)?,
            kind: r.kind,
            content_type: r.content_type,
            sealed: r.sealed.into_blob(),
            retention_rule: r.retention_rule,
            destroy_after: roc(&r.destroy_after)?,
            destroyed_at: opt_ts(r.destroyed_at)?,
        })
    }
}

/// Which results to read.
pub(super) enum ResultsOf<'a> {
    /// One result by its id.
    Id(i64),
    /// The result of one item of a registration.
    Item(RegistrationId, &'a ServiceItemCode),
    /// Every result of a registration, in order.
    Registration(RegistrationId),
    /// Results not yet destroyed, by keeping date.
    Held,
}

pub(super) async fn results<'e>(
    db: impl AnyExecutor<'e>,
    which: ResultsOf<'_>,
) -> Result<Vec<ResultRow>, StorageError> {
    let (condition, order) = match which {
        ResultsOf::Id(_) => ("id = $1", "id"),
        ResultsOf::Item(..) => ("registration_id = $1 AND item = $2", "id"),
        ResultsOf::Registration(_) => ("registration_id = $1", "id"),
        ResultsOf::Held => ("destroyed_at IS NULL", "destroy_after, id"),
    };
    let sql = format!("SELECT {RESULT_COLUMNS} FROM results WHERE {condition} ORDER BY {order}");
    let q = sqlx::query_as::<_, ResultRecord>(&sql);
    let q = match which {
        ResultsOf::Id(id) => q.bind(id),
        ResultsOf::Item(r, item) => q.bind(r.get()).bind(item.as_str()),
        ResultsOf::Registration(r) => q.bind(r.get()),
        ResultsOf::Held => q,
    };
    q.all(db, ResultRow::try_from).await
}

// ---------------------------------------------------------------------------------------
// Form 3 requests

const REQUEST_COLUMNS: &str = "id, request_no, created_at, request_date, requesting_unit, \
     applicant_id, applicant_title, phone, fax, responsible_unit, legal_basis_id, relevance, \
     items, subject_count, state, reviewed_by, reviewed_at, opinion, assigned_querier, \
     delivery, document_no, delivered_at";

#[derive(sqlx::FromRow)]
struct RequestRecord {
    id: i64,
    request_no: String,
    created_at: String,
    request_date: String,
    requesting_unit: String,
    applicant_id: i64,
    applicant_title: String,
    phone: String,
    fax: Option<String>,
    responsible_unit: String,
    legal_basis_id: String,
    relevance: String,
    items: String,
    subject_count: i64,
    state: String,
    reviewed_by: Option<i64>,
    reviewed_at: Option<String>,
    opinion: Option<String>,
    assigned_querier: Option<i64>,
    delivery: Option<String>,
    document_no: Option<String>,
    delivered_at: Option<String>,
}

impl TryFrom<RequestRecord> for QueryRequestRow {
    type Error = StorageError;

    fn try_from(r: RequestRecord) -> Result<Self, StorageError> {
        Ok(QueryRequestRow {
            id: r.id,
            request: NewQueryRequest {
                no: decode("request no", RequestNo::parse(&r.request_no))?,
                created_at: ts(&r.created_at)?,
                date: roc(&r.request_date)?,
                requesting_unit: decode("unit", UnitId::new(r.requesting_unit))?,
                applicant: PersonId::new(r.applicant_id),
                applicant_title: r.applicant_title,
                phone: r.phone,
                fax: r.fax,
                responsible_unit: decode("unit", UnitId::new(r.responsible_unit))?,
                legal_basis: decode("legal basis", LegalBasisId::new(r.legal_basis_id))?,
                relevance: r.relevance,
                items: items_from_json(&r.items)?,
                subject_count: usize::try_from(r.subject_count).unwrap_or(0),
            },
            state: coded("request state", &r.state, RequestState::parse_code)?,
            reviewed_by: r.reviewed_by.map(PersonId::new),
            reviewed_at: opt_ts(r.reviewed_at)?,
            opinion: r.opinion,
            assigned_querier: r.assigned_querier.map(PersonId::new),
            delivery: r.delivery,
            document_no: r.document_no,
            delivered_at: opt_ts(r.delivered_at)?,
        })
    }
}

/// Which Form 3 requests to read.
pub(super) enum RequestsOf<'a> {
    Id(i64),
    No(&'a RequestNo),
    /// To a responsible unit and/or from an applicant and/or in a state.
    Filter(Option<&'a UnitId>, Option<PersonId>, Option<RequestState>),
}

pub(super) async fn requests<'e>(
    db: impl AnyExecutor<'e>,
    which: RequestsOf<'_>,
) -> Result<Vec<QueryRequestRow>, StorageError> {
    let mut qb = crate::builder::QueryBuilder::new(format!(
        "SELECT {REQUEST_COLUMNS} FROM query_requests WHERE 1 = 1"
    ));
    match which {
        RequestsOf::Id(id) => {
            qb.push(" AND id = ").push_bind(id);
        }
        RequestsOf::No(no) => {
            qb.push(" AND request_no = ").push_bind(no.to_string());
        }
        RequestsOf::Filter(unit, applicant, state) => {
            if let Some(u) = unit {
                qb.push(" AND responsible_unit = ")
                    .push_bind(u.as_str().to_string());
            }
            if let Some(p) = applicant {
                qb.push(" AND applicant_id = ").push_bind(p.get());
            }
            if let Some(s) = state {
                qb.push(" AND state = ").push_bind(s.code());
            }
        }
    }
    qb.push(" ORDER BY id");
    qb.build_query_as::<RequestRecord>()
        .all(db, QueryRequestRow::try_from)
        .await
}

#[derive(sqlx::FromRow)]
struct RequestSubjectRecord {
    id: i64,
    request_id: i64,
    position: i64,
    subject_hmac: String,
    hmac_key_id: String,
    #[sqlx(flatten)]
    sealed: SealedColumns,
    registration_id: Option<i64>,
    destroyed_at: Option<String>,
    name_masked: Option<String>,
    id_masked: Option<String>,
}

impl TryFrom<RequestSubjectRecord> for RequestSubjectRow {
    type Error = StorageError;

    fn try_from(r: RequestSubjectRecord) -> Result<Self, StorageError> {
        Ok(RequestSubjectRow {
            id: r.id,
            request: r.request_id,
            position: r.position,
            subject_digest: r.subject_hmac,
            subject_key_id: r.hmac_key_id,
            sealed: r
                .sealed
                .into_blob()
                .ok_or_else(|| StorageError::Decode("request subject without content".into()))?,
            registration: r.registration_id.map(RegistrationId::new),
            destroyed: match (r.destroyed_at, r.name_masked, r.id_masked) {
                (Some(_), Some(name), Some(id)) => Some((name, id)),
                _ => None,
            },
        })
    }
}

pub(super) async fn request_subjects<'e>(
    db: impl AnyExecutor<'e>,
    request: i64,
) -> Result<Vec<RequestSubjectRow>, StorageError> {
    sqlx::query_as::<_, RequestSubjectRecord>(
        "SELECT id, request_id, position, subject_hmac, hmac_key_id, sealed, nonce, \
         wrapped_key, wrap_nonce, master_key_id, registration_id, destroyed_at, \
         name_masked, id_masked \
         FROM query_request_subjects WHERE request_id = $1 ORDER BY position",
    )
    .bind(request)
    .all(db, RequestSubjectRow::try_from)
    .await
}

// ---------------------------------------------------------------------------------------
// Subjects held (§6)

#[derive(sqlx::FromRow)]
struct HeldRecord {
    id: i64,
    reg_no: String,
    reg_date: String,
    position: Option<i64>,
    #[sqlx(flatten)]
    sealed: SealedColumns,
}

/// Subjects still held, with the record's number and date and (Form 3) their position.
pub(super) async fn held_subjects<'e>(
    db: impl AnyExecutor<'e>,
    sql: &str,
    before: querywarden_domain::roc_date::RocDate,
) -> Result<Vec<(super::HeldSubject, Option<i64>)>, StorageError> {
    let rows: Vec<Option<_>> = sqlx::query_as(sql)
        .bind(roc_text(before))
        .all(db, |r: HeldRecord| {
            let Some(sealed) = r.sealed.into_blob() else {
                return Ok(None);
            };
            let held = super::HeldSubject {
                id: r.id,
                reg_no: r.reg_no,
                date: roc(&r.reg_date)?,
                sealed,
            };
            Ok(Some((held, r.position)))
        })
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

#[derive(sqlx::FromRow)]
struct SubjectRecord {
    id: i64,
    reg_no: String,
    #[sqlx(flatten)]
    sealed: SealedColumns,
}

/// Streams the sealed subjects (with the registration number they are bound to) of the
/// registrations `ids`, a statement per [`SUBJECT_IDS_PER_STATEMENT`] ids, skipping
/// destroyed ones.
pub(super) async fn scan_registration_subjects(
    db: &sqlx::AnyPool,
    ids: &[RegistrationId],
    mut visit: impl FnMut(RegistrationId, &str, SealedBlob),
) -> Result<(), StorageError> {
    use futures_util::TryStreamExt;
    for chunk in ids.chunks(SUBJECT_IDS_PER_STATEMENT) {
        // The ids as a list of bound values (no JSON function: one SQL text for both engines).
        let mut qb = crate::builder::QueryBuilder::new(
            "SELECT id, reg_no, subject_sealed AS sealed, subject_nonce AS nonce, wrapped_key, \
             wrap_nonce, master_key_id FROM registrations \
             WHERE subject_destroyed_at IS NULL AND id IN (",
        );
        let mut list = qb.separated(", ");
        for id in chunk {
            list.push_bind(id.get());
        }
        qb.push(")");
        let mut rows = qb.build_query_as::<SubjectRecord>().fetch(db);
        while let Some(r) = rows.try_next().await.map_err(classify)? {
            if let Some(blob) = r.sealed.into_blob() {
                visit(RegistrationId::new(r.id), &r.reg_no, blob);
            }
        }
    }
    Ok(())
}

/// Ids bound per statement of [`scan_registration_subjects`]: well below SQLite's 32,766 and
/// PostgreSQL's 65,535 bound values.
const SUBJECT_IDS_PER_STATEMENT: usize = 10_000;
