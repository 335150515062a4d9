//! Query registration use cases (§4, §5, Form 2): register (one subject, or a batch from
//! CSV), approve or reject (with the [`ApproverOf`] capability), cancel, reveal the whole
//! national ID, look at a registration, and the per-role inboxes. Execution, results and
//! Form 3 live in `execution` and `request`.
//!
//! Security-sensitive. Every use case is one transaction with its audit record inside (STYLE
//! rule 5); refusals are audited with their reason code. Subjects are sealed by `custody`
//! before they reach storage and appear in audit records only as the keyed HMAC
//! (`KeyRing::subject_digest`). Nothing here logs personal data.
//!
//! # Wiring
//! A [`Desk`] bundles what the use cases need: the store, the key ring, the
//! [`RegistrationSettings`], a [`GrantSource`] (the querier's active grants, §2) and
//! a [`SubjectScreen`] (staff and restricted-list lookups for the snooping checks).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome, SubjectDigest};
use querywarden_domain::catalogue::{LegalBasis, LegalBasisId, ServiceItemCode};
use querywarden_domain::org::{Person, PersonId, Role, UnitId};
use querywarden_domain::permission::Roster;
use querywarden_domain::permission::acting::Signer;
use querywarden_domain::policy::Refusal;
use querywarden_domain::registration::{
    self as reg, ApprovalStep, Origin, Parties, Registration, RegistrationError, RegistrationId,
    RegistrationNo, RegistrationState, Relevance, Subject,
};
use querywarden_domain::retention::RetentionPolicy;
use querywarden_domain::roc_date::{RocDate, taipei_date};
use querywarden_domain::snooping::{self, SnoopingFacts, SnoopingPolicy};
use querywarden_storage::{
    DecisionKind, NewDecision, NewRegistration, RegistrationFilter, SealedBlob, Store, WriteTx,
};

use crate::AppError;
use crate::audit::record_refusal;
use crate::custody::{self, CustodyError};

use crate::keys::KeyRing;
mod bulk;
mod reads;

pub use bulk::{
    AwaitingDecision, ItemDecision, MAX_BULK_DECISIONS, awaiting_decision, decide_many,
};
/// A refusal notice in the applicant's inbox ([`Inbox::refusals`]).
pub use querywarden_storage::NoticeRow;
pub use querywarden_storage::{ExecutionMode, ExecutionOutcome, QueryRequestRow, RequestState};
/// Storage rows the desk's answers carry (for the web layer, which does not use storage).
pub use querywarden_storage::{ExecutionRow, ResultRow};
pub use reads::{RegisterChoices, directory, pending_approver, register_choices};

// ---------------------------------------------------------------------------------------
// Settings and injected sources

/// Settings of the registration desk. Defaults follow §4–§6; a deployment may load them
/// from configuration (not wired into `Config` yet).
#[derive(Debug, Clone)]
pub struct RegistrationSettings {
    /// §5: an approval is valid this many days from the moment of approval.
    pub approval_validity_days: u32,
    /// The relevance text may not equal any of the querier's last this-many registrations'.
    pub relevance_history: u32,
    pub snooping: SnoopingPolicy,
    pub retention: RetentionPolicy,
    /// The bureau's agency code on the BLI platform.
    pub agency_code: String,
    /// Results whose keeping ends within this many days show in the "expiring" inbox.
    pub expiring_within_days: u32,
    /// Most rows a batch CSV may hold.
    pub max_batch_rows: usize,
    /// §6 ¶2: prints of one result allowed without a stated reason.
    pub print_limit: u32,
    /// §6 ¶2: whether the JSON API hands out whole result records.
    pub results_api: bool,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            approval_validity_days: 7,
            relevance_history: 5,
            snooping: SnoopingPolicy::default(),
            retention: RetentionPolicy::default(),
            agency_code: "KHH-SOCBU".into(),
            expiring_within_days: 14,
            max_batch_rows: 2000,
            // §6 ¶2: one copy for the case file; more only with a reason.
            print_limit: 1,
            results_api: false,
        }
    }
}

impl RegistrationSettings {
    pub fn approval_validity(&self) -> SignedDuration {
        SignedDuration::from_hours(24 * i64::from(self.approval_validity_days))
    }
}

/// Where the app reads a person's active query grants (§2). The grants in storage are the real one
/// (grants in storage, `holds_grant(grants, item, date)`); [`FixedGrants`] serves tests.
///
/// Contract: return the service items for which `person` holds a grant that is active on
/// `date` (Asia/Taipei civil date), i.e. not ended, not suspended by a personnel change, and
/// effective on or before `date`. An empty set means "no rights".
pub trait GrantSource: Send + Sync {
    fn active_items(
        &self,
        person: PersonId,
        date: RocDate,
    ) -> impl Future<Output = Result<BTreeSet<ServiceItemCode>, AppError>> + Send;
}

/// Grants fixed in memory (tests, demo).
#[derive(Debug, Clone, Default)]
pub struct FixedGrants(pub BTreeMap<PersonId, BTreeSet<ServiceItemCode>>);

impl GrantSource for FixedGrants {
    fn active_items(
        &self,
        person: PersonId,
        _date: RocDate,
    ) -> impl Future<Output = Result<BTreeSet<ServiceItemCode>, AppError>> + Send {
        let items = self.0.get(&person).cloned().unwrap_or_default();
        async move { Ok(items) }
    }
}

/// Who a subject is, for the snooping checks, looked up by the subject's keyed HMAC (hex,
/// under the current key): never by the ID in clear.
pub trait SubjectScreen: Send + Sync {
    /// The member of staff whose national ID has this digest, if known.
    fn staff_member(&self, subject_digest: &str) -> Option<PersonId>;
    /// Whether the subject is on the restricted list (VIPs and others).
    fn restricted(&self, subject_digest: &str) -> bool;
    /// Whether the subject is a member of staff, known by account or only by national ID
    /// (the personnel office's `registration.staff_ids` file).
    fn is_staff(&self, subject_digest: &str) -> bool {
        self.staff_member(subject_digest).is_some()
    }
}

/// A screen built from lists: staff national IDs and the restricted list, kept only as
/// digests. Staff whole IDs are not in the database today (only the last four digits for
/// sign-in), so a deployment loads them here from the personnel office's file
/// (`registration.staff_ids`, read at `App::open`); a staff ID known only from that file has
/// no account, so it triggers "subject is staff" but not "subject is a party".
#[derive(Debug, Clone, Default)]
pub struct ScreenList {
    staff: HashMap<String, Option<PersonId>>,
    restricted: HashSet<String>,
}

impl ScreenList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_staff(mut self, keys: &KeyRing, id: &NationalId, person: PersonId) -> Self {
        self.staff.insert(keys.subject_digest(id).hex, Some(person));
        self
    }

    /// A member of staff known only by national ID (kept as its digest).
    pub fn add_staff_id(&mut self, keys: &KeyRing, id: &NationalId) {
        self.staff
            .entry(keys.subject_digest(id).hex)
            .or_insert(None);
    }

    pub fn with_restricted(mut self, keys: &KeyRing, id: &NationalId) -> Self {
        self.add_restricted(keys, id);
        self
    }

    /// A national ID on the restricted list (kept as its digest).
    pub fn add_restricted(&mut self, keys: &KeyRing, id: &NationalId) {
        self.restricted.insert(keys.subject_digest(id).hex);
    }

    /// How many staff and restricted-list digests the screen holds.
    pub fn counts(&self) -> (usize, usize) {
        (self.staff.len(), self.restricted.len())
    }
}

impl SubjectScreen for ScreenList {
    fn staff_member(&self, subject_digest: &str) -> Option<PersonId> {
        self.staff.get(subject_digest).copied().flatten()
    }

    fn restricted(&self, subject_digest: &str) -> bool {
        self.restricted.contains(subject_digest)
    }

    fn is_staff(&self, subject_digest: &str) -> bool {
        self.staff.contains_key(subject_digest)
    }
}

/// What the use cases need. Cheap to build per request.
pub struct Desk<'a, G: GrantSource> {
    pub store: &'a Store,
    pub keys: &'a KeyRing,
    pub settings: &'a RegistrationSettings,
    pub grants: &'a G,
    pub screen: &'a dyn SubjectScreen,
}

// ---------------------------------------------------------------------------------------
// Refusals

/// One line of a batch that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the uploaded file.
    pub line: usize,
    pub error: RegistrationError,
}

/// Why a use case refused. `code()` is stable (API bodies, audit records); `message_zh()` is
/// safe to show (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("{0}")]
    Registration(#[from] RegistrationError),
    #[error("{0}")]
    Policy(#[from] Refusal),
    #[error("找不到此登記或申請")]
    NotFound,
    #[error("此查調結果已依保存期限銷毀，無法再檢視")]
    ResultDestroyed,
    #[error("此項目尚無查調結果")]
    NoResult,
    #[error("查調項目 {0} 無法由系統直接連線查詢，請改用入口網站模式")]
    NotConnectable(ServiceItemCode),
    #[error("批次檔有 {} 列錯誤，全部未登記", .0.len())]
    Batch(Vec<LineError>),
    #[error("批次檔格式不正確：{0}")]
    BatchFormat(&'static str),
    #[error("批次檔第 {line} 列格式不正確：{why}")]
    BatchLineFormat { line: usize, why: &'static str },
    #[error("查調項目 {0} 沒有結果不明、待說明的查詢")]
    NothingAwaiting(ServiceItemCode),
    #[error("請說明此次查詢的情形（1 至 {max} 個字），例如未收到結果、入口網站查無紀錄")]
    Statement { max: usize },
    #[error("已列印 {made} 份，達列印上限 {limit} 份；如須再印，請填寫理由（至多 500 字）")]
    PrintLimit { made: i64, limit: u32 },
    #[error("查調結果不經由 API 提供（設定 registration.results_api 未開啟），請於網頁檢視")]
    ResultsApiOff,
    #[error("此登記已逾保存年限，受查詢人姓名與完整身分證統一編號已銷毀，僅留遮蔽後資料")]
    SubjectDestroyed,
    #[error("請至少勾選一筆登記")]
    NoneChosen,
    #[error("一次至多處理 {max} 筆，請分批處理")]
    TooMany { max: usize },
    #[error("此申請沒有您可執行的已核准、未執行項目")]
    NothingToExecute,
}

impl Denied {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Registration(e) => e.code(),
            Self::Policy(r) => r.code(),
            Self::NotFound => "registration.not_found",
            Self::ResultDestroyed => "result.destroyed",
            Self::NoResult => "result.none",
            Self::NotConnectable(_) => "execution.not_connectable",
            Self::Batch(_) => "registration.batch_rows",
            Self::BatchFormat(_) | Self::BatchLineFormat { .. } => "registration.batch_format",
            Self::NothingAwaiting(_) => "execution.nothing_awaiting",
            Self::Statement { .. } => "execution.statement",
            Self::PrintLimit { .. } => "result.print_limit",
            Self::ResultsApiOff => "result.api_disabled",
            Self::SubjectDestroyed => "registration.subject_destroyed",
            Self::NoneChosen => "bulk.none_chosen",
            Self::TooMany { .. } => "bulk.too_many",
            Self::NothingToExecute => "request.nothing_to_execute",
        }
    }

    pub fn message_zh(&self) -> String {
        self.to_string()
    }
}

/// A use case's answer: `Ok(Err(denied))` is a refusal (already audited), `Err` a technical
/// failure.
pub type Decided<T> = Result<Result<T, Denied>, AppError>;

// ---------------------------------------------------------------------------------------
// Helpers shared with `execution` and `request`

pub(crate) fn actor(person: PersonId, role: Role) -> Actor {
    Actor {
        person,
        role: Some(role),
    }
}

pub(crate) fn event(
    now: Timestamp,
    action: AuditAction,
    request_id: &str,
    by: Actor,
    object_type: &str,
    object_id: impl Into<String>,
) -> AuditEvent {
    AuditEvent::system(now, action, request_id)
        .by(by)
        .on(object_type, object_id)
}

/// The event of `action` by `by` on registration `r`: its number, and its subject's digest.
pub(crate) fn on_registration(
    now: Timestamp,
    action: AuditAction,
    request_id: &str,
    by: Actor,
    r: &Registration,
) -> AuditEvent {
    let mut e = event(
        now,
        action,
        request_id,
        by,
        "registration",
        r.no.to_string(),
    );
    e.subject = Some(stored_digest(r));
    e
}

pub(crate) fn stored_digest(r: &Registration) -> SubjectDigest {
    SubjectDigest {
        key_id: r.subject_key_id.clone(),
        hex: r.subject_digest.clone(),
    }
}

pub(crate) fn subject_aad(no: RegistrationNo) -> String {
    format!("subject:{no}")
}

pub(crate) fn seal_subject(
    keys: &KeyRing,
    subject: &Subject,
    aad: &str,
) -> Result<SealedBlob, AppError> {
    let json = serde_json::json!({
        "name": subject.name(),
        "id": subject.id().expose_whole(),
        "linked": subject.linked_id().map(NationalId::expose_whole),
    });
    let bytes = serde_json::to_vec(&json).map_err(AppError::encode("sealed subject"))?;
    Ok(custody::seal(keys, &bytes, aad)?)
}

pub(crate) fn open_subject(
    keys: &KeyRing,
    blob: &SealedBlob,
    aad: &str,
) -> Result<Subject, AppError> {
    let bytes = custody::open(keys, blob, aad)?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| AppError::from(CustodyError::Open))?;
    let field = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
    Subject::parse(
        field("name").unwrap_or_default(),
        field("id").unwrap_or_default(),
        field("linked"),
    )
    .map_err(|_| AppError::from(CustodyError::Open))
}

/// The registration's subject, decrypted.
pub(crate) async fn subject_of(
    store: &Store,
    keys: &KeyRing,
    r: &Registration,
) -> Result<Subject, AppError> {
    let blob = store
        .registration_subject(r.id)
        .await?
        .ok_or_else(|| AppError::from(CustodyError::Open))?;
    open_subject(keys, &blob, &subject_aad(r.no))
}

/// The subject as shown on a page: name, masked ID and masked linked ID. After the
/// record's keeping period the sealed subject is destroyed (§6) and the masked forms kept
/// then are shown instead.
pub(crate) struct ShownSubject {
    pub name: String,
    pub id_masked: String,
    pub linked_masked: Option<String>,
}

pub(crate) async fn shown_subject(
    store: &Store,
    keys: &KeyRing,
    r: &Registration,
) -> Result<ShownSubject, AppError> {
    if let Some(m) = store.destroyed_subject(r.id).await? {
        return Ok(ShownSubject {
            name: m.name,
            id_masked: m.id,
            linked_masked: m.linked_id,
        });
    }
    let s = subject_of(store, keys, r).await?;
    Ok(ShownSubject {
        name: s.name().to_string(),
        id_masked: s.id().masked(),
        linked_masked: s.linked_id().map(NationalId::masked),
    })
}

pub(crate) async fn person(store: &Store, id: PersonId) -> Result<Option<Person>, AppError> {
    Ok(store.person(id).await?)
}

/// The organisation for the walk up the units on the day of `now` (§5 ¶1: who approves).
pub(crate) async fn roster_on(store: &Store, now: Timestamp) -> Result<Roster, AppError> {
    Ok(crate::permission::chain_roster(store, taipei_date(now)).await?)
}

/// Appends a refusal record and commits it alone.
fn parse_items(raw: &[String]) -> Result<BTreeSet<ServiceItemCode>, RegistrationError> {
    raw.iter()
        .map(|s| ServiceItemCode::parse(s).map_err(|_| RegistrationError::ItemCode))
        .collect()
}

pub(crate) async fn legal_basis(
    store: &Store,
    raw: &str,
) -> Result<Result<LegalBasisId, RegistrationError>, AppError> {
    Ok(catalogue_basis(store, raw).await?.map(|b| b.id))
}

/// The active catalogue entry `raw` names.
async fn catalogue_basis(
    store: &Store,
    raw: &str,
) -> Result<Result<LegalBasis, RegistrationError>, AppError> {
    let Ok(id) = LegalBasisId::new(raw.trim()) else {
        return Ok(Err(RegistrationError::LegalBasis));
    };
    Ok(store
        .legal_bases()
        .await?
        .into_iter()
        .find(|b| b.id == id && b.active)
        .ok_or(RegistrationError::LegalBasis))
}

// ---------------------------------------------------------------------------------------
// Register

/// A person as a form or a JSON body names them for a part in a registration (資料查詢者,
/// 需要資料者): an id, as a JSON number or as the digits a form's select posts, or nothing
/// (empty text) for the person filing. Text that is no id names nobody; the use case refuses
/// it as it refuses an id that names nobody, audited, so the page and the API refuse alike
/// (§5).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum PersonChoice {
    Id(PersonId),
    Text(String),
}

impl PersonChoice {
    /// The person named, `filer` when nothing is; `None` when the text names nobody.
    pub fn resolve(&self, filer: PersonId) -> Option<PersonId> {
        match self {
            Self::Id(id) => Some(*id),
            Self::Text(t) if t.trim().is_empty() => Some(filer),
            Self::Text(t) => t.trim().parse::<i64>().ok().map(PersonId::new),
        }
    }

    /// The person named, as on record; `None` when the choice names nobody who exists.
    pub(crate) async fn person(
        &self,
        store: &Store,
        filer: PersonId,
    ) -> Result<Option<Person>, AppError> {
        match self.resolve(filer) {
            Some(id) => person(store, id).await,
            None => Ok(None),
        }
    }
}

impl From<PersonId> for PersonChoice {
    fn from(id: PersonId) -> Self {
        Self::Id(id)
    }
}

/// What a filing is for (§4 ¶1), the same for a single Form 2 row and for a batch: the items,
/// the legal basis and relevance, the case, and who needs and who runs the lookup.
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryPurpose {
    pub items: Vec<String>,
    pub legal_basis: String,
    pub relevance: String,
    #[serde(default)]
    pub case_no: Option<String>,
    /// §4 ¶1: the social-welfare law cited beside a general-privacy basis.
    #[serde(default)]
    pub companion_basis: Option<String>,
    /// §4 ¶1: why there is no case number (required when `case_no` is empty).
    #[serde(default)]
    pub no_case_reason: Option<String>,
    /// 需要資料者; default: the person filing.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub needer: Option<PersonChoice>,
    /// 資料查詢者.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub querier: PersonChoice,
}

/// A Form 2 row as typed in (web form or JSON). Everything is parsed here.
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterQueryRequest {
    pub subject_name: String,
    pub subject_id: String,
    /// The other resident number of the same person (2021 change), if any.
    #[serde(default)]
    pub linked_id: Option<String>,
    #[serde(flatten)]
    pub purpose: QueryPurpose,
}

/// What a registration looked like when filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub no: RegistrationNo,
    pub id: RegistrationId,
    /// Snooping findings the approver will see (rule codes).
    pub findings: Vec<String>,
    pub second_approval_required: bool,
}

/// The parts of a registration common to every subject of one filing.
pub(crate) struct Filing {
    pub parties: Parties,
    pub approving_unit: UnitId,
    pub approver: Option<PersonId>,
    pub querier_name: String,
    pub items: BTreeSet<ServiceItemCode>,
    pub legal_basis: LegalBasisId,
    pub relevance: String,
    pub case_no: Option<String>,
    pub origin: Origin,
    pub batch: Option<String>,
    pub companion_basis: Option<LegalBasisId>,
    pub no_case_reason: Option<String>,
}

/// The configured screen, plus the members of staff the database itself knows by national ID
/// (from their Form 1), for one subject's digests.
struct KnownStaff<'a> {
    configured: &'a dyn SubjectScreen,
    staff: HashMap<String, PersonId>,
}

impl SubjectScreen for KnownStaff<'_> {
    fn staff_member(&self, subject_digest: &str) -> Option<PersonId> {
        self.staff
            .get(subject_digest)
            .copied()
            .or_else(|| self.configured.staff_member(subject_digest))
    }

    fn restricted(&self, subject_digest: &str) -> bool {
        self.configured.restricted(subject_digest)
    }

    fn is_staff(&self, subject_digest: &str) -> bool {
        self.staff.contains_key(subject_digest) || self.configured.is_staff(subject_digest)
    }
}

/// Snooping checks for one subject, by HMAC. §5: whether the subject is a
/// member of staff — and so whether it is a party looking themselves up — comes from the
/// national IDs the system already holds as digests (every Form 1), not only from the
/// optional staff-ID file.
async fn screen_subject(
    store: &Store,
    desk_keys: &KeyRing,
    screen: &dyn SubjectScreen,
    policy: &SnoopingPolicy,
    filing: &Filing,
    subject: &Subject,
) -> Result<snooping::SnoopingAssessment, AppError> {
    let ids: Vec<&NationalId> = std::iter::once(subject.id())
        .chain(subject.linked_id())
        .collect();
    let mut known = KnownStaff {
        configured: screen,
        staff: HashMap::new(),
    };
    for id in &ids {
        let current = desk_keys.subject_digest(id).hex;
        for d in desk_keys.subject_digests_all(id) {
            if let Some(p) = store
                .staff_with_national_id(&d.key_id, &d.hex)
                .await?
                .into_iter()
                .next()
            {
                known.staff.entry(current.clone()).or_insert(p);
            }
        }
    }
    let screen: &dyn SubjectScreen = &known;
    let digests: Vec<String> = ids
        .iter()
        .map(|id| desk_keys.subject_digest(id).hex)
        .collect();
    let staff: Vec<PersonId> = digests
        .iter()
        .filter_map(|d| screen.staff_member(d))
        .collect();
    let parties = [
        Some(filing.parties.querier),
        Some(filing.parties.needer),
        filing.approver,
    ];
    let subject_is_party = staff.iter().any(|s| parties.contains(&Some(*s)));
    let facts = SnoopingFacts {
        subject_is_party,
        subject_is_staff: digests.iter().any(|d| screen.is_staff(d)),
        subject_name: subject.name(),
        querier_name: &filing.querier_name,
        on_restricted_list: digests.iter().any(|d| screen.restricted(d)),
    };
    Ok(snooping::assess(&facts, policy))
}

impl<G: GrantSource> Desk<'_, G> {
    /// [`screen_subject`] with this desk's keys, configured lists and snooping policy.
    pub(crate) async fn assess_subject(
        &self,
        filing: &Filing,
        subject: &Subject,
    ) -> Result<snooping::SnoopingAssessment, AppError> {
        screen_subject(
            self.store,
            self.keys,
            self.screen,
            &self.settings.snooping,
            filing,
            subject,
        )
        .await
    }
}

/// When, in which request, and by whom a use case acts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp<'a> {
    pub now: Timestamp,
    pub request_id: &'a str,
    pub by: Actor,
}

/// Numbers, seals and inserts one registration with its audit record, inside `tx`.
pub(crate) async fn insert_one(
    tx: &mut WriteTx,
    keys: &KeyRing,
    filing: &Filing,
    subject: &Subject,
    assessment: &snooping::SnoopingAssessment,
    stamp: Stamp<'_>,
) -> Result<Registered, AppError> {
    let Stamp {
        now,
        request_id,
        by,
    } = stamp;
    let today = taipei_date(now);
    let seq = tx.next_number("registration", today.roc_year()).await?;
    let no =
        RegistrationNo::new(today.roc_year(), seq).map_err(|_| AppError::NumberingExhausted {
            series: "registration",
        })?;
    let digest = keys.subject_digest(subject.id());
    let sealed = seal_subject(keys, subject, &subject_aad(no))?;
    let findings = assessment.codes();
    let second = assessment.second_approver_required();
    let id = tx
        .insert_registration(&NewRegistration {
            no,
            date: today,
            created_at: now,
            subject_digest: digest.hex.clone(),
            subject_key_id: digest.key_id.clone(),
            linked_subject_digest: subject.linked_id().map(|l| keys.subject_digest(l).hex),
            subject: sealed,
            items: filing.items.clone(),
            legal_basis: filing.legal_basis.clone(),
            relevance: filing.relevance.clone(),
            case_no: filing.case_no.clone(),
            companion_basis: filing.companion_basis.clone(),
            no_case_reason: filing.no_case_reason.clone(),
            parties: filing.parties,
            approving_unit: filing.approving_unit.clone(),
            origin: filing.origin,
            batch: filing.batch.clone(),
            second_approval_required: second,
            findings: findings.clone(),
        })
        .await?;
    let items: Vec<&str> = filing.items.iter().map(ServiceItemCode::as_str).collect();
    let mut e = event(
        now,
        AuditAction::RegistrationCreated,
        request_id,
        by,
        "registration",
        no.to_string(),
    )
    .detail("items", items)
    .detail("legal_basis", filing.legal_basis.as_str())
    .detail(
        "companion_basis",
        filing.companion_basis.as_ref().map(LegalBasisId::as_str),
    )
    .detail("no_case_reason", filing.no_case_reason.is_some())
    .detail("querier", filing.parties.querier.get())
    .detail("needer", filing.parties.needer.get())
    .detail("findings", findings.clone())
    .detail("second_approval_required", second)
    // §5 ¶2 and Form 3: delegated registrations keep all three parties.
    .detail(
        "delegated",
        filing.parties.applicant != filing.parties.querier,
    );
    if assessment.alert_ethics() {
        // The ethics office (政風室) finds these by searching the trail for the flag (its
        // inbox: [`ethics_alerts`]), with the rules that raised it.
        let rules: Vec<&str> = assessment
            .findings
            .iter()
            .filter(|(_, a)| *a == snooping::SnoopingAction::AlertEthics)
            .map(|(r, _)| r.code())
            .collect();
        e = e.detail("ethics_alert", true).detail("ethics_rules", rules);
    }
    if let Some(b) = &filing.batch {
        e = e.detail("batch", b.as_str());
    }
    e.subject = Some(digest);
    tx.append_audit(&e).await?;
    Ok(Registered {
        no,
        id,
        findings,
        second_approval_required: second,
    })
}

/// [`internal_filing`], with a refusal audited as `refused` makes it (every refusal is
/// audited, not only successes).
async fn filing_or_refused<G: GrantSource>(
    desk: &Desk<'_, G>,
    applicant: &Person,
    input: &QueryPurpose,
    now: Timestamp,
    refused: impl Fn(&str) -> AuditEvent,
) -> Decided<Filing> {
    match internal_filing(desk, applicant, input, now).await? {
        Ok(f) => Ok(Ok(f)),
        Err(e) => {
            record_refusal(desk.store, refused(e.code()), e.code()).await?;
            Ok(Err(e.into()))
        }
    }
}

/// Builds the filing for an internal registration: parties, items against today's grants,
/// legal basis, case number. The relevance is checked in the transaction.
async fn internal_filing<G: GrantSource>(
    desk: &Desk<'_, G>,
    applicant: &Person,
    input: &QueryPurpose,
    now: Timestamp,
) -> Result<Result<Filing, RegistrationError>, AppError> {
    let QueryPurpose {
        needer,
        querier,
        items,
        legal_basis: legal_basis_raw,
        case_no,
        companion_basis,
        no_case_reason,
        relevance: _,
    } = input;
    let (case_no, companion_basis, no_case_reason) = (
        case_no.as_deref(),
        companion_basis.as_deref(),
        no_case_reason.as_deref(),
    );
    // §5: who may file Form 2 at all is decided here, so the page and the API refuse alike.
    if let Err(e) = reg::check_applicant(applicant) {
        return Ok(Err(e));
    }
    let needer = match needer.as_ref().map(|n| n.resolve(applicant.id)) {
        None => applicant.clone(),
        Some(Some(id)) if id == applicant.id => applicant.clone(),
        Some(Some(id)) => match person(desk.store, id).await? {
            Some(p) => p,
            None => return Ok(Err(RegistrationError::NotAllowed)),
        },
        Some(None) => return Ok(Err(RegistrationError::NotAllowed)),
    };
    let querier = querier.person(desk.store, applicant.id).await?;
    let Some(querier) = querier else {
        return Ok(Err(RegistrationError::QuerierNotQuerier));
    };
    let approving_unit = match reg::check_parties(applicant, &needer, &querier, Origin::Internal) {
        Ok(u) => u,
        Err(e) => return Ok(Err(e)),
    };
    let items = match parse_items(items) {
        Ok(i) => i,
        Err(e) => return Ok(Err(e)),
    };
    // §2: the items must be within the querier's active grants today.
    let active = desk
        .grants
        .active_items(querier.id, taipei_date(now))
        .await?;
    if let Err(e) = reg::check_items(&items, &active) {
        return Ok(Err(e));
    }
    let legal_basis = match catalogue_basis(desk.store, legal_basis_raw).await? {
        Ok(b) => b,
        Err(e) => return Ok(Err(e)),
    };
    let companion = match companion_basis.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => match catalogue_basis(desk.store, raw).await? {
            Ok(b) => Some(b),
            Err(e) => return Ok(Err(e)),
        },
    };
    // §4 ¶1: a general-privacy basis only beside a social-welfare law.
    let cited: Vec<&LegalBasis> = std::iter::once(&legal_basis).chain(&companion).collect();
    if let Err(e) = reg::check_legal_bases(&cited) {
        return Ok(Err(e));
    }
    let case_no = match reg::parse_case_no(case_no) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let no_case_reason = match reg::check_case_reason(case_no.as_deref(), no_case_reason) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let parties = Parties {
        applicant: applicant.id,
        needer: needer.id,
        querier: querier.id,
    };
    // §5 ¶1: someone must be able to approve: the supervisor, their deputy, or one above.
    let roster = roster_on(desk.store, now).await?;
    let Some(approver) = reg::approver_for(&approving_unit, &parties, &roster) else {
        return Ok(Err(RegistrationError::NoSupervisor));
    };
    Ok(Ok(Filing {
        parties,
        approving_unit,
        approver: Some(approver.person),
        querier_name: querier.name.clone(),
        items,
        legal_basis: legal_basis.id,
        relevance: String::new(),
        case_no,
        origin: Origin::Internal,
        batch: None,
        companion_basis: companion.map(|b| b.id),
        no_case_reason,
    }))
}

fn registration_refused_event(
    now: Timestamp,
    request_id: &str,
    applicant: PersonId,
    object_id: &str,
) -> AuditEvent {
    event(
        now,
        AuditAction::RegistrationCreated,
        request_id,
        actor(applicant, Role::Staff),
        "registration",
        object_id,
    )
}

/// §5: files one Form 2 row. `applicant` is the signed-in person; they must be the querier or
/// a colleague of the querier's unit (delegation, §5 ¶2), with the needer in that unit too.
/// Refusals (validation, relevance, snooping block) are audited with their code.
pub async fn register<G: GrantSource>(
    desk: &Desk<'_, G>,
    applicant: &Person,
    input: &RegisterQueryRequest,
    now: Timestamp,
    request_id: &str,
) -> Decided<Registered> {
    let refused = |_code: &str| registration_refused_event(now, request_id, applicant.id, "-");
    let subject = match Subject::parse(
        &input.subject_name,
        &input.subject_id,
        input.linked_id.as_deref(),
    ) {
        Ok(s) => s,
        Err(e) => {
            record_refusal(desk.store, refused(e.code()), e.code()).await?;
            return Ok(Err(e.into()));
        }
    };
    let mut filing = match filing_or_refused(desk, applicant, &input.purpose, now, &refused).await?
    {
        Ok(f) => f,
        Err(d) => return Ok(Err(d)),
    };
    let assessment = desk.assess_subject(&filing, &subject).await?;
    let mut tx = desk.store.begin().await?;
    let previous = tx
        .recent_relevance(
            filing.parties.querier,
            desk.settings.relevance_history,
            None,
        )
        .await?;
    let relevance = Relevance::parse(&input.purpose.relevance, &previous).and_then(|r| {
        if assessment.blocked_by().is_some() {
            Err(RegistrationError::SubjectIsParty)
        } else {
            Ok(r)
        }
    });
    let relevance = match relevance {
        Ok(r) => r,
        Err(e) => {
            let mut ev = refused(e.code());
            if assessment.blocked_by().is_some() {
                ev.subject = Some(desk.keys.subject_digest(subject.id()));
                ev = ev.detail("findings", assessment.codes());
            }
            tx.append_audit(&ev.outcome(Outcome::Refused(e.code().into())))
                .await?;
            tx.commit().await?;
            return Ok(Err(e.into()));
        }
    };
    filing.relevance = relevance.as_str().to_string();
    let done = insert_one(
        &mut tx,
        desk.keys,
        &filing,
        &subject,
        &assessment,
        Stamp {
            now,
            request_id,
            by: actor(applicant.id, Role::Staff),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(done))
}

/// A batch: one purpose for many subjects (e.g. the annual low-income household review).
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterBatchRequest {
    #[serde(flatten)]
    pub purpose: QueryPurpose,
    /// CSV, UTF-8: `name,national_id[,linked_id]` per line; a first line naming the columns
    /// (`姓名`/`name`) is skipped; blank lines are ignored.
    pub csv: String,
}

/// One data line of a batch file: its line number and its subject as parsed.
#[doc(hidden)]
pub type BatchLine = (usize, Result<Subject, RegistrationError>);

/// The data lines of a batch file, each with its line number and its subject as parsed, before
/// any check that needs the store (duplicates, the snooping screen): blank lines and a first
/// line naming the columns (`姓名`/`name`) are skipped; a line of other than two or three
/// fields is refused as a missing national ID. A broken quote stops the reading, since after
/// it no line is where it seems. Also the entry of the `batch_csv` fuzz target.
#[doc(hidden)]
pub fn read_batch_lines(
    csv: &str,
) -> Result<Vec<BatchLine>, querywarden_bli::csv_reader::CsvError> {
    let mut lines = Vec::new();
    for row in querywarden_bli::csv_reader::read_rows(csv)? {
        let n = row.line;
        let fields: Vec<&str> = row.fields.iter().map(|f| f.trim()).collect();
        if let [only] = fields.as_slice()
            && only.is_empty()
        {
            continue;
        }
        let first = fields.first().copied().unwrap_or("");
        if n == 1 && (first == "姓名" || first.eq_ignore_ascii_case("name")) {
            continue;
        }
        let parsed = if fields.len() < 2 || fields.len() > 3 {
            Err(RegistrationError::SubjectId(
                querywarden_domain::NationalIdError::Empty,
            ))
        } else {
            Subject::parse(fields[0], fields[1], fields.get(2).copied())
        };
        lines.push((n, parsed));
    }
    Ok(lines)
}

/// Each line's subject screened (§5): the same person twice in one batch is a copy-paste
/// error, and a subject the snooping checks block is refused by its line.
async fn screen_batch_lines<G: GrantSource>(
    desk: &Desk<'_, G>,
    filing: &Filing,
    lines: Vec<BatchLine>,
) -> Result<(Vec<(Subject, snooping::SnoopingAssessment)>, Vec<LineError>), AppError> {
    let mut subjects = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (n, parsed) in lines {
        match parsed {
            Ok(s) => {
                if !seen.insert(s.id().clone()) {
                    // The same person twice in one batch is a copy-paste error.
                    errors.push(LineError {
                        line: n,
                        error: RegistrationError::RelevanceCopied,
                    });
                    continue;
                }
                let a = desk.assess_subject(filing, &s).await?;
                if a.blocked_by().is_some() {
                    errors.push(LineError {
                        line: n,
                        error: RegistrationError::SubjectIsParty,
                    });
                    continue;
                }
                subjects.push((s, a));
            }
            Err(e) => errors.push(LineError { line: n, error: e }),
        }
    }
    Ok((subjects, errors))
}

/// Batch registration from CSV: every row validated (subject, duplicates, snooping block);
/// errors reported by line; nothing registered if any row is bad. All rows share items,
/// legal basis and relevance; each becomes its own Form 2 row with its own number, in one
/// transaction, each with its audit record.
pub async fn register_batch<G: GrantSource>(
    desk: &Desk<'_, G>,
    applicant: &Person,
    input: &RegisterBatchRequest,
    now: Timestamp,
    request_id: &str,
) -> Decided<Vec<Registered>> {
    let refused = |code: &str| {
        registration_refused_event(now, request_id, applicant.id, "batch").detail("code", code)
    };
    let mut filing = match filing_or_refused(desk, applicant, &input.purpose, now, &refused).await?
    {
        Ok(f) => f,
        Err(d) => return Ok(Err(d)),
    };
    let lines = match read_batch_lines(&input.csv) {
        Ok(lines) => lines,
        Err(e) => {
            // The line is named, so that the person can find the broken quote.
            let n = e.line;
            let d = Denied::BatchLineFormat {
                line: n,
                why: e.fault.message_zh(),
            };
            record_refusal(desk.store, refused(d.code()).detail("line", n), d.code()).await?;
            return Ok(Err(d));
        }
    };
    let (subjects, errors) = screen_batch_lines(desk, &filing, lines).await?;
    if subjects.len() + errors.len() > desk.settings.max_batch_rows {
        let d = Denied::BatchFormat("筆數超過上限");
        record_refusal(desk.store, refused(d.code()), d.code()).await?;
        return Ok(Err(d));
    }
    if subjects.is_empty() && errors.is_empty() {
        let d = Denied::BatchFormat("沒有資料列");
        record_refusal(desk.store, refused(d.code()), d.code()).await?;
        return Ok(Err(d));
    }
    if !errors.is_empty() {
        let d = Denied::Batch(errors);
        let lines: Vec<usize> = match &d {
            Denied::Batch(es) => es.iter().map(|e| e.line).collect(),
            _ => Vec::new(),
        };
        record_refusal(
            desk.store,
            refused(d.code()).detail("bad_lines", lines),
            d.code(),
        )
        .await?;
        return Ok(Err(d));
    }
    let batch = format!("batch-{}", crate::new_request_id());
    let mut tx = desk.store.begin().await?;
    let previous = tx
        .recent_relevance(
            filing.parties.querier,
            desk.settings.relevance_history,
            Some(&batch),
        )
        .await?;
    let relevance = match Relevance::parse(&input.purpose.relevance, &previous) {
        Ok(r) => r,
        Err(e) => {
            tx.append_audit(&refused(e.code()).outcome(Outcome::Refused(e.code().into())))
                .await?;
            tx.commit().await?;
            return Ok(Err(e.into()));
        }
    };
    filing.relevance = relevance.as_str().to_string();
    filing.batch = Some(batch);
    let mut out = Vec::with_capacity(subjects.len());
    for (s, a) in &subjects {
        out.push(
            insert_one(
                &mut tx,
                desk.keys,
                &filing,
                s,
                a,
                Stamp {
                    now,
                    request_id,
                    by: actor(applicant.id, Role::Staff),
                },
            )
            .await?,
        );
    }
    tx.commit().await?;
    Ok(Ok(out))
}

// ---------------------------------------------------------------------------------------
// Approve, reject, cancel

/// The capability to decide one registration: obtainable only through [`approver_of`], i.e.
/// only by the approving unit's supervisor (or, for a second approval, another supervisor or
/// the director), never by a party of the registration.
#[derive(Debug)]
pub struct ApproverOf {
    registration: RegistrationId,
    no: RegistrationNo,
    approver: PersonId,
    step: ApprovalStep,
    /// §5 ¶1: approving as 代理 in the supervisor's place.
    signer: Signer,
}

impl ApproverOf {
    /// Whether the approver acts as 代理 (in the supervisor's place).
    pub fn acting(&self) -> bool {
        self.signer.acting
    }

    pub fn registration_no(&self) -> RegistrationNo {
        self.no
    }

    pub fn step(&self) -> ApprovalStep {
        self.step
    }
}

/// May `person` decide registration `no` now? Not audited (pages call it to decide what to
/// show); the decision itself re-checks and is audited.
pub async fn approver_of<G: GrantSource>(
    desk: &Desk<'_, G>,
    person: &Person,
    no: RegistrationNo,
) -> Decided<ApproverOf> {
    Ok(capability(desk, person, no, Timestamp::now())
        .await?
        .map(|c| c.cap))
}

/// What the capability check read, kept for the decision that follows it in the same use
/// case, so that a decision reads the registration and the roster once.
struct Capability {
    cap: ApproverOf,
    registration: Registration,
    roster: Roster,
}

async fn capability<G: GrantSource>(
    desk: &Desk<'_, G>,
    person: &Person,
    no: RegistrationNo,
    now: Timestamp,
) -> Decided<Capability> {
    let Some(r) = desk.store.registration_by_no(no).await? else {
        return Ok(Err(Denied::NotFound));
    };
    let roster = roster_on(desk.store, now).await?;
    Ok(reg::check_approver(&r, person, &roster)
        .map(|(step, signer)| Capability {
            cap: ApproverOf {
                registration: r.id,
                no: r.no,
                approver: person.id,
                step,
                signer,
            },
            registration: r,
            roster,
        })
        .map_err(Denied::from))
}

/// What an approver decides on a registration (§5).
#[derive(Debug, Clone, Copy)]
pub enum Decision<'a> {
    /// Approve, with an optional comment.
    Approve(Option<&'a str>),
    /// Reject; the comment is required.
    Reject(&'a str),
}

/// §5: `person` decides registration `no`. The capability check is part of the use case, so
/// a refusal (self-approval, another unit's supervisor, a non-supervisor, a second approval,
/// approval after cancel, a number that does not exist) is audited with its rule code like
/// the decision itself.
pub async fn decide<G: GrantSource>(
    desk: &Desk<'_, G>,
    person: &Person,
    no: RegistrationNo,
    decision: Decision<'_>,
    now: Timestamp,
    request_id: &str,
) -> Decided<RegistrationState> {
    let c = match capability(desk, person, no, Timestamp::now()).await? {
        Ok(c) => c,
        Err(d) => {
            let action = match decision {
                Decision::Approve(_) => AuditAction::RegistrationApproved,
                Decision::Reject(_) => AuditAction::RegistrationRejected,
            };
            let mut ev = event(
                now,
                action,
                request_id,
                actor(person.id, Role::Staff),
                "registration",
                no.to_string(),
            );
            let mut hidden = false;
            if let Some(r) = desk.store.registration_by_no(no).await? {
                ev.subject = Some(stored_digest(&r));
                hidden = !may_see(desk.store, &r, person).await?;
            }
            record_refusal(desk.store, ev, d.code()).await?;
            // Someone who may not see the row is answered as for a number that does not
            // exist, so numbers cannot be probed; the record keeps the real reason.
            return Ok(Err(if hidden { Denied::NotFound } else { d }));
        }
    };
    let Capability {
        cap,
        registration,
        roster,
    } = c;
    let read = Read {
        approver: person,
        registration: &registration,
        roster: &roster,
    };
    decide_read(desk, read, cap, decision, now, request_id).await
}

/// `decision` on what `read` holds.
async fn decide_read<G: GrantSource>(
    desk: &Desk<'_, G>,
    read: Read<'_>,
    cap: ApproverOf,
    decision: Decision<'_>,
    now: Timestamp,
    request_id: &str,
) -> Decided<RegistrationState> {
    match decision {
        Decision::Approve(comment) => approve_read(desk, read, cap, comment, now, request_id).await,
        Decision::Reject(comment) => reject_read(desk, read, cap, comment, now, request_id).await,
    }
}

/// `decision` for a capability checked earlier: what it works from is read again.
async fn decide_again<G: GrantSource>(
    desk: &Desk<'_, G>,
    cap: ApproverOf,
    decision: Decision<'_>,
    now: Timestamp,
    request_id: &str,
) -> Decided<RegistrationState> {
    let Some(again) = ReadAgain::of(desk, &cap, now).await? else {
        return Ok(Err(Denied::NotFound));
    };
    decide_read(desk, again.read(), cap, decision, now, request_id).await
}

/// What a decision works from: the approver, the registration as the capability check saw
/// it, and the day's roster.
#[derive(Clone, Copy)]
struct Read<'a> {
    approver: &'a Person,
    registration: &'a Registration,
    roster: &'a Roster,
}

/// What a decision works from, read for a capability checked earlier.
struct ReadAgain {
    approver: Person,
    registration: Registration,
    roster: Roster,
}

impl ReadAgain {
    async fn of<G: GrantSource>(
        desk: &Desk<'_, G>,
        cap: &ApproverOf,
        now: Timestamp,
    ) -> Result<Option<ReadAgain>, AppError> {
        let Some(approver) = person(desk.store, cap.approver).await? else {
            return Ok(None);
        };
        let Some(registration) = desk.store.registration(cap.registration).await? else {
            return Ok(None);
        };
        let roster = roster_on(desk.store, now).await?;
        Ok(Some(ReadAgain {
            approver,
            registration,
            roster,
        }))
    }

    fn read(&self) -> Read<'_> {
        Read {
            approver: &self.approver,
            registration: &self.registration,
            roster: &self.roster,
        }
    }
}

/// §5 ¶1: a decision given in the supervisor's place is recorded as 代理, with whose place
/// it was when the unit had a supervisor.
fn with_acting(mut ev: AuditEvent, signer: &Signer) -> AuditEvent {
    if signer.acting {
        ev = ev.detail("acting", true);
        if let Some(s) = signer.acting_for {
            ev = ev.detail("acting_for", s.get());
        }
    }
    ev
}

/// Re-checks the capability in the transaction (the registration may have moved on).
async fn recheck(
    tx: &mut WriteTx,
    roster: &Roster,
    approver: &Person,
    cap: &ApproverOf,
) -> Result<Result<(Registration, Signer), RegistrationError>, AppError> {
    let Some(r) = tx.registration(cap.registration).await? else {
        return Ok(Err(RegistrationError::NotAllowed));
    };
    match reg::check_approver(&r, approver, roster) {
        Ok((step, signer)) if step == cap.step => Ok(Ok((r, signer))),
        Ok(_) => Ok(Err(RegistrationError::WrongState(r.state.code()))),
        Err(e) => Ok(Err(e)),
    }
}

/// §5: approves. The approval records the subject digest it approved (execution re-checks
/// it) and is valid for `approval_validity_days` from now. With a second approval required,
/// the supervisor's approval waits for the second approver.
pub async fn approve<G: GrantSource>(
    desk: &Desk<'_, G>,
    cap: ApproverOf,
    comment: Option<&str>,
    now: Timestamp,
    request_id: &str,
) -> Decided<RegistrationState> {
    decide_again(desk, cap, Decision::Approve(comment), now, request_id).await
}

async fn approve_read<G: GrantSource>(
    desk: &Desk<'_, G>,
    read: Read<'_>,
    cap: ApproverOf,
    comment: Option<&str>,
    now: Timestamp,
    request_id: &str,
) -> Decided<RegistrationState> {
    let Read {
        approver,
        registration: r0,
        roster,
    } = read;
    // §6: past the record's keeping period no subject is left to approve.
    if desk.store.destroyed_subject(r0.id).await?.is_some() {
        let ev = event(
            now,
            AuditAction::RegistrationApproved,
            request_id,
            actor(approver.id, Role::UnitSupervisor),
            "registration",
            cap.no.to_string(),
        );
        record_refusal(desk.store, ev, Denied::SubjectDestroyed.code()).await?;
        return Ok(Err(Denied::SubjectDestroyed));
    }
    // What the approver approves is the subject as stored now.
    let subject = subject_of(desk.store, desk.keys, r0).await?;
    let digest_now = desk
        .keys
        .subject_digest_under(subject.id(), &r0.subject_key_id)
        .map(|d| d.hex);
    let mut tx = desk.store.begin().await?;
    let role = match cap.step {
        ApprovalStep::Supervisor => Role::UnitSupervisor,
        ApprovalStep::Second => Role::UnitSupervisor,
    };
    let base = event(
        now,
        AuditAction::RegistrationApproved,
        request_id,
        actor(approver.id, role),
        "registration",
        cap.no.to_string(),
    );
    let (r, signer) = match recheck(&mut tx, roster, approver, &cap).await? {
        Ok(x) => x,
        Err(e) => {
            let mut ev = base.outcome(Outcome::Refused(e.code().into()));
            ev.subject = Some(stored_digest(r0));
            tx.append_audit(&ev).await?;
            tx.commit().await?;
            return Ok(Err(e.into()));
        }
    };
    let state = reg::approve(
        &r,
        cap.step,
        approver.id,
        now,
        desk.settings.approval_validity(),
    );
    let (kind, valid_until) = match &state {
        RegistrationState::Approved { valid_until, .. } => {
            (DecisionKind::Approve, Some(*valid_until))
        }
        _ => (DecisionKind::ApproveFirst, None),
    };
    tx.record_decision(&NewDecision {
        registration: r.id,
        person: approver.id,
        at: now,
        kind,
        comment: comment
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from),
        valid_until,
        subject_digest: digest_now,
        acting: signer.acting,
        acting_for: signer.acting_for,
    })
    .await?;
    let mut ev = base
        .detail(
            "step",
            match cap.step {
                ApprovalStep::Supervisor => "supervisor",
                ApprovalStep::Second => "second",
            },
        )
        .detail("state", state.code());
    ev = with_acting(ev, &signer);
    if let Some(v) = valid_until {
        ev = ev.detail("valid_until", v.to_string());
    }
    ev.subject = Some(stored_digest(&r));
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(state))
}

/// Rejects with a comment (required).
pub async fn reject<G: GrantSource>(
    desk: &Desk<'_, G>,
    cap: ApproverOf,
    comment: &str,
    now: Timestamp,
    request_id: &str,
) -> Decided<RegistrationState> {
    decide_again(desk, cap, Decision::Reject(comment), now, request_id).await
}

async fn reject_read<G: GrantSource>(
    desk: &Desk<'_, G>,
    read: Read<'_>,
    cap: ApproverOf,
    comment: &str,
    now: Timestamp,
    request_id: &str,
) -> Decided<RegistrationState> {
    let Read {
        approver,
        registration: r0,
        roster,
    } = read;
    let mut tx = desk.store.begin().await?;
    let base = on_registration(
        now,
        AuditAction::RegistrationRejected,
        request_id,
        actor(approver.id, Role::UnitSupervisor),
        r0,
    );
    let comment = comment.trim();
    let checked = match recheck(&mut tx, roster, approver, &cap).await? {
        Ok(_) if comment.is_empty() => Err(RegistrationError::CommentRequired),
        other => other,
    };
    let (r, signer) = match checked {
        Ok(x) => x,
        Err(e) => {
            tx.append_audit(&base.outcome(Outcome::Refused(e.code().into())))
                .await?;
            tx.commit().await?;
            return Ok(Err(e.into()));
        }
    };
    tx.record_decision(&NewDecision {
        registration: r.id,
        person: approver.id,
        at: now,
        kind: DecisionKind::Reject,
        comment: Some(comment.to_string()),
        valid_until: None,
        subject_digest: None,
        acting: signer.acting,
        acting_for: signer.acting_for,
    })
    .await?;
    let base = with_acting(base, &signer);
    // A refusal reaches the applicant's inbox (and the needer's, when another person), in
    // the transaction that records it.
    let told: BTreeSet<PersonId> = [r.parties.applicant, r.parties.needer].into();
    for p in &told {
        tx.insert_notice(
            *p,
            "registration.rejected",
            &format!("registration:{}", r.no),
            now,
        )
        .await?;
    }
    tx.append_audit(&base).await?;
    tx.commit().await?;
    Ok(Ok(RegistrationState::Rejected {
        by: approver.id,
        at: now,
        comment: comment.to_string(),
    }))
}

/// A party withdraws a registration before anything was executed.
pub async fn cancel<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &Person,
    no: RegistrationNo,
    now: Timestamp,
    request_id: &str,
) -> Decided<()> {
    let action = AuditAction::RegistrationCancelled;
    let mut ev = match entitled(desk, who, no, action, now, request_id).await? {
        Ok((_, ev)) => ev,
        Err(d) => return Ok(Err(d)),
    };
    let mut tx = desk.store.begin().await?;
    let Some(r) = tx.registration_by_no(no).await? else {
        return Ok(Err(Denied::NotFound));
    };
    ev.subject = Some(stored_digest(&r));
    if let Err(e) = reg::check_cancel(&r, who.id) {
        tx.append_audit(&ev.outcome(Outcome::Refused(e.code().into())))
            .await?;
        tx.commit().await?;
        return Ok(Err(e.into()));
    }
    tx.record_decision(&NewDecision {
        registration: r.id,
        person: who.id,
        at: now,
        kind: DecisionKind::Cancel,
        comment: None,
        valid_until: None,
        subject_digest: None,
        acting: false,
        acting_for: None,
    })
    .await?;
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------
// Looking at a registration

/// Who may see a registration's row: its parties, the approving unit's supervisor, anyone
/// holding a second-approval role while it awaits one, and ethics auditors (§8).
pub(crate) async fn may_see(store: &Store, r: &Registration, p: &Person) -> Result<bool, AppError> {
    if r.is_party(p.id) || p.has_role(Role::EthicsAuditor) {
        return Ok(true);
    }
    // §5 ¶1: whoever approves it now (the supervisor, a deputy acting for them, or one above),
    // and the unit's supervisor themself.
    let roster = roster_on(store, Timestamp::now()).await?;
    if reg::first_approver(r, &roster).is_some_and(|s| s.person == p.id)
        || roster.supervisors.get(&r.approving_unit) == Some(&p.id)
    {
        return Ok(true);
    }
    if let RegistrationState::Registered {
        first_approval: Some(_),
    } = r.state
    {
        return Ok(p.has_role(Role::UnitSupervisor) || p.has_role(Role::Director));
    }
    Ok(false)
}

/// A Form 2 row as shown to someone entitled to it. The national ID is masked; see
/// [`reveal_national_id`].
#[derive(Debug, Clone)]
pub struct RegistrationView {
    pub registration: Registration,
    pub subject_name: String,
    pub subject_id_masked: String,
    pub linked_id_masked: Option<String>,
    /// The snooping findings, for the approver (a page names them in its language).
    pub findings: Vec<snooping::SnoopingRule>,
    pub executions: Vec<ExecutionRow>,
    /// Result metadata (never content) per item.
    pub results: Vec<ResultRow>,
    /// §5 ¶1: decisions given as 代理: (who, the supervisor acted for).
    pub acting: Vec<(PersonId, Option<PersonId>)>,
}

/// One registration, for its parties, approvers and ethics auditors. §9: the row holds
/// personal data (the subject's name, masked ID, relevance), so every read is audited, and
/// so is every refusal. Someone not entitled gets the answer a number that does not exist
/// gets (the audit record keeps the real reason), so numbers cannot be probed.
pub async fn registration_view<G: GrantSource>(
    desk: &Desk<'_, G>,
    viewer: &Person,
    no: RegistrationNo,
    now: Timestamp,
    request_id: &str,
) -> Decided<RegistrationView> {
    let action = AuditAction::RegistrationViewed;
    let (r, ev) = match entitled(desk, viewer, no, action, now, request_id).await? {
        Ok(x) => x,
        Err(d) => return Ok(Err(d)),
    };
    let subject = shown_subject(desk.store, desk.keys, &r).await?;
    crate::audit::record(desk.store, &ev).await?;
    let executions = desk.store.executions_of(r.id).await?;
    let mut results = desk.store.results_of(r.id).await?;
    for res in &mut results {
        res.sealed = None; // metadata only
    }
    Ok(Ok(RegistrationView {
        findings: r
            .findings
            .iter()
            .filter_map(|c| snooping::SnoopingRule::parse_code(c))
            .collect(),
        subject_name: subject.name,
        subject_id_masked: subject.id_masked,
        linked_id_masked: subject.linked_masked,
        acting: desk.store.acting_approvals(r.id).await?,
        registration: r,
        executions,
        results,
    }))
}

/// The whole national ID (and linked ID) for someone entitled to the row. Audited
/// (`subject.national_id.revealed`), every time.
pub async fn reveal_national_id<G: GrantSource>(
    desk: &Desk<'_, G>,
    viewer: &Person,
    no: RegistrationNo,
    now: Timestamp,
    request_id: &str,
) -> Decided<(NationalId, Option<NationalId>)> {
    let action = AuditAction::NationalIdRevealed;
    let (r, ev) = match entitled(desk, viewer, no, action, now, request_id).await? {
        Ok(x) => x,
        Err(d) => return Ok(Err(d)),
    };
    // §6: past the record's keeping period the whole ID no longer exists.
    if desk.store.destroyed_subject(r.id).await?.is_some() {
        record_refusal(desk.store, ev, Denied::SubjectDestroyed.code()).await?;
        return Ok(Err(Denied::SubjectDestroyed));
    }
    let subject = subject_of(desk.store, desk.keys, &r).await?;
    crate::audit::record(desk.store, &ev).await?;
    Ok(Ok((subject.id().clone(), subject.linked_id().cloned())))
}

/// Registration `no` for `viewer`, who must be entitled to the row, with the event of
/// `action` by them on it (the subject's digest set). Someone not entitled gets the answer a
/// number that does not exist gets; the record keeps the real reason. Refusals are audited.
async fn entitled<G: GrantSource>(
    desk: &Desk<'_, G>,
    viewer: &Person,
    no: RegistrationNo,
    action: AuditAction,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<(Registration, AuditEvent), Denied>, AppError> {
    let by = actor(viewer.id, Role::Staff);
    let mut ev = event(now, action, request_id, by, "registration", no.to_string());
    let Some(r) = desk.store.registration_by_no(no).await? else {
        record_refusal(desk.store, ev, Denied::NotFound.code()).await?;
        return Ok(Err(Denied::NotFound));
    };
    ev.subject = Some(stored_digest(&r));
    if !may_see(desk.store, &r, viewer).await? {
        record_refusal(desk.store, ev, RegistrationError::NotAllowed.code()).await?;
        return Ok(Err(Denied::NotFound));
    }
    Ok(Ok((r, ev)))
}

// ---------------------------------------------------------------------------------------
// Inboxes

/// A line of an inbox: no personal data (open the registration to see the subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationSummary {
    pub no: RegistrationNo,
    pub date: RocDate,
    pub state: &'static str,
    pub items: BTreeSet<ServiceItemCode>,
    pub legal_basis: LegalBasisId,
    pub parties: Parties,
    pub findings: Vec<String>,
    pub valid_until: Option<Timestamp>,
    /// Items not yet executed.
    pub remaining_items: BTreeSet<ServiceItemCode>,
}

/// Items that may run now: not executed and not awaiting an earlier attempt's outcome (§5).
pub(crate) fn runnable_items(r: &Registration) -> BTreeSet<ServiceItemCode> {
    r.items
        .iter()
        .filter(|i| !r.executed_items.contains(*i) && !r.awaiting_outcome.contains(*i))
        .cloned()
        .collect()
}

pub(crate) fn summary(r: &Registration) -> RegistrationSummary {
    RegistrationSummary {
        no: r.no,
        date: r.date,
        state: r.state.code(),
        items: r.items.clone(),
        legal_basis: r.legal_basis.clone(),
        parties: r.parties,
        findings: r.findings.clone(),
        valid_until: match r.state {
            RegistrationState::Approved { valid_until, .. } => Some(valid_until),
            _ => None,
        },
        remaining_items: runnable_items(r),
    }
}

/// A result whose keeping period ends soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringResult {
    pub no: RegistrationNo,
    pub item: ServiceItemCode,
    pub destroy_after: RocDate,
}

/// An execution sent with no result (a crash between the two transactions, or a failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedExecution {
    pub no: RegistrationNo,
    pub item: ServiceItemCode,
    pub sent_at: Timestamp,
}

/// What waits for a person.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    /// Registrations this person may approve now.
    pub to_approve: Vec<RegistrationSummary>,
    /// Approved, unexpired registrations this person queries, with items left.
    pub to_execute: Vec<RegistrationSummary>,
    /// Results (of registrations they query or need) whose keeping period ends soon.
    pub results_expiring: Vec<ExpiringResult>,
    /// Their executions marked sent with no result.
    pub sent_without_result: Vec<UnfinishedExecution>,
    /// Form 3 requests awaiting review by their unit (responsible-unit reviewers).
    pub requests_to_review: Vec<querywarden_storage::QueryRequestRow>,
    /// §5 ¶3: Form 3 requests waiting for their consent or signature.
    pub requests_to_sign: Vec<querywarden_storage::QueryRequestRow>,
    /// Registrations that alerted the ethics office, newest first (ethics auditors only).
    pub ethics_alerts: Vec<EthicsAlert>,
    /// Their registrations and Form 3 requests refused, not yet marked read (notices
    /// `registration.rejected`, `request.rejected`), oldest first.
    pub refusals: Vec<querywarden_storage::NoticeRow>,
}

/// A registration whose snooping check alerted the ethics office (政風室,
/// action `alert_ethics`). Only the masked ID: the auditor opens the registration (which any
/// ethics auditor may see, §8) for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthicsAlert {
    pub no: RegistrationNo,
    /// The rules whose action is to alert the ethics office.
    pub rules: Vec<snooping::SnoopingRule>,
    /// When the registration was made.
    pub at: Timestamp,
    pub subject_id_masked: String,
}

/// How far back, and how many, alerts the ethics inbox shows.
const ETHICS_ALERT_WINDOW_DAYS: i64 = 90;
const ETHICS_ALERTS_SHOWN: usize = 100;
const AUDIT_PAGE: u32 = 500;

/// The ethics office's alerts, derived from the audit trail (the `ethics_alert` flag of
/// `query.registration.created` records) rather than a table of their own, so they cannot
/// disagree with the trail the office audits (§8).
pub async fn ethics_alerts(
    store: &Store,
    keys: &KeyRing,
    now: Timestamp,
) -> Result<Vec<EthicsAlert>, AppError> {
    let from = now
        .checked_sub(SignedDuration::from_hours(24 * ETHICS_ALERT_WINDOW_DAYS))
        .unwrap_or(now);
    let mut filter = querywarden_storage::AuditFilter {
        action: Some(AuditAction::RegistrationCreated.code().to_string()),
        object_type: Some("registration".into()),
        from: Some(querywarden_domain::audit_event::format_instant(from)),
        limit: AUDIT_PAGE,
        ..Default::default()
    };
    let mut out = Vec::new();
    loop {
        let page = store.audit_search(&filter).await?;
        for rec in &page {
            if out.len() >= ETHICS_ALERTS_SHOWN {
                return Ok(out);
            }
            let Some(rules) = alert_rules(&rec.entry) else {
                continue;
            };
            let (Ok(no), Ok(at)) = (
                RegistrationNo::parse(&rec.object_id),
                rec.at.parse::<Timestamp>(),
            ) else {
                continue;
            };
            let Some(r) = store.registration_by_no(no).await? else {
                continue;
            };
            out.push(EthicsAlert {
                no,
                rules,
                at,
                subject_id_masked: shown_subject(store, keys, &r).await?.id_masked,
            });
        }
        match page.last() {
            Some(last) if page.len() == AUDIT_PAGE as usize => filter.before_seq = Some(last.seq),
            _ => return Ok(out),
        }
    }
}

/// The alerting rules of a registration record, if it alerted the ethics office (records
/// from before `ethics_rules` existed name all their findings).
fn alert_rules(entry: &[u8]) -> Option<Vec<snooping::SnoopingRule>> {
    let v: serde_json::Value = serde_json::from_slice(entry).ok()?;
    let d = v.get("details")?;
    if v.get("outcome")?.as_str()? != Outcome::Succeeded.code()
        || d.get("ethics_alert")?.as_bool() != Some(true)
    {
        return None;
    }
    let codes = d
        .get("ethics_rules")
        .or_else(|| d.get("findings"))?
        .as_array()?;
    Some(
        codes
            .iter()
            .filter_map(|c| c.as_str().and_then(snooping::SnoopingRule::parse_code))
            .collect(),
    )
}

/// §5: the registrations waiting for `person`'s approval (as supervisor or 代理): the
/// domain's approver check decides, as it does when the approval is given. The inbox and the
/// worklist both list these.
pub(crate) async fn awaiting_approval_by(
    store: &Store,
    person: &Person,
    roster: &Roster,
) -> Result<Vec<Registration>, AppError> {
    let registered = store
        .registrations(&RegistrationFilter {
            state: Some("registered"),
            ..Default::default()
        })
        .await?;
    Ok(registered
        .into_iter()
        .filter(|r| reg::check_approver(r, person, roster).is_ok())
        .collect())
}

/// Every inbox of `person`.
pub async fn inbox<G: GrantSource>(
    desk: &Desk<'_, G>,
    person: &Person,
    now: Timestamp,
) -> Result<Inbox, AppError> {
    let mut out = Inbox::default();
    let roster = roster_on(desk.store, now).await?;
    for r in &awaiting_approval_by(desk.store, person, &roster).await? {
        out.to_approve.push(summary(r));
    }
    let mine = desk
        .store
        .registrations(&RegistrationFilter {
            party: Some(person.id),
            ..Default::default()
        })
        .await?;
    // Every attempt awaiting its outcome in one read, by registration, not a read per
    // registration.
    let mut awaiting: HashMap<RegistrationId, Vec<_>> = HashMap::new();
    for e in desk.store.executions_awaiting_outcome().await? {
        awaiting.entry(e.registration).or_default().push(e);
    }
    for r in &mine {
        let live =
            matches!(r.state, RegistrationState::Approved { valid_until, .. } if now < valid_until);
        if live && r.parties.querier == person.id && !runnable_items(r).is_empty() {
            out.to_execute.push(summary(r));
        }
        if r.parties.querier == person.id {
            // Sent with no answer, or timed out: awaiting its outcome (§5).
            for e in awaiting.remove(&r.id).unwrap_or_default() {
                out.sent_without_result.push(UnfinishedExecution {
                    no: r.no,
                    item: e.item,
                    sent_at: e.sent_at,
                });
            }
        }
    }
    let horizon = taipei_date(
        now.checked_add(SignedDuration::from_hours(
            24 * i64::from(desk.settings.expiring_within_days),
        ))
        .unwrap_or(now),
    );
    let by_id: HashMap<RegistrationId, &Registration> = mine
        .iter()
        .filter(|r| r.parties.querier == person.id || r.parties.needer == person.id)
        .map(|r| (r.id, r))
        .collect();
    for res in desk.store.results_held().await? {
        if let Some(r) = by_id.get(&res.registration)
            && res.destroy_after <= horizon
        {
            out.results_expiring.push(ExpiringResult {
                no: r.no,
                item: res.item,
                destroy_after: res.destroy_after,
            });
        }
    }
    if person.has_role(Role::ResponsibleUnitReviewer) {
        // §5 ¶3: only those the requesting office's supervisor consented to. The open
        // requests' sign-offs in one read, not a read per request.
        let sign_offs = desk.store.open_request_sign_offs().await?;
        for r in desk
            .store
            .requests(
                Some(&person.unit),
                None,
                Some(querywarden_storage::RequestState::Submitted),
            )
            .await?
        {
            let signed = sign_offs.get(&r.id).map(Vec::as_slice).unwrap_or_default();
            let facts = crate::request::facts_of(&r, signed);
            if facts.stage() == querywarden_domain::registration::form3::Stage::AwaitingReview {
                out.requests_to_review.push(r);
            }
        }
    }
    out.requests_to_sign = crate::request::requests_to_sign(desk.store, person, now).await?;
    if person.has_role(Role::EthicsAuditor) {
        out.ethics_alerts = ethics_alerts(desk.store, desk.keys, now).await?;
    }
    out.refusals = desk
        .store
        .unread_notices(person.id)
        .await?
        .into_iter()
        .filter(|n| n.kind == "registration.rejected" || n.kind == "request.rejected")
        .collect();
    Ok(out)
}
