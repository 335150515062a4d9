//! The query register (查調資料登記表, Form 2) and the external request (查調資料申請表,
//! Form 3): numbers, subjects, the relevance rule, parties, states and approval rules.
//!
//! Owns [`RegistrationNo`] / [`RequestNo`] (numbered per ROC year), [`Subject`] (name + national
//! ID, optionally linked to a second resident number), [`Relevance`] (the applicant's
//! explanation of relevance, with the rule against empty, placeholder and copied text),
//! [`Registration`] and its [`RegistrationState`], and the pure checks behind registering
//! ([`check_parties`]) and approving ([`check_approver`]).
//!
//! Security-sensitive: a [`Subject`] is personal data. Its `Debug` is masked; storage only ever
//! sees it encrypted (see `querywarden_app::custody`). Nothing here reads a clock.

pub mod form3;
pub mod mine;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};

use crate::catalogue::{LegalBasis, LegalBasisId, ServiceItemCode};
use crate::national_id::{NationalId, NationalIdKind};
use crate::org::{Person, PersonId, Role, StaffStatus, UnitId};
use crate::permission::Roster;
use crate::permission::acting::Signer;
use crate::roc_date::RocDate;

/// Why a registration (or request) cannot be made or decided as asked. Messages never carry
/// personal data; `code()` is stable and goes into the audit record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("受查詢人姓名未填寫或格式不正確（1 到 40 字，不可含控制字元）")]
    SubjectName,
    #[error("受查詢人身分證統一編號／統一證號不正確：{0}")]
    SubjectId(crate::national_id::NationalIdError),
    #[error("關聯證號不正確：須為同一外籍人士的另一個居留證統一證號（新舊式各一）")]
    LinkedId,
    #[error("未選擇查調項目")]
    NoItems,
    #[error("查調項目代碼不正確")]
    ItemCode,
    #[error("查調項目 {0} 不在資料查詢者目前有效的查調權限內")]
    ItemNotGranted(ServiceItemCode),
    #[error("法令依據不在目錄中或已停用")]
    LegalBasis,
    #[error("未填寫關聯性說明（§5：須說明查調與業務之關聯）")]
    RelevanceEmpty,
    #[error("關聯性說明過短或為「同上」「無」等替代文字，請具體說明與本案之關聯")]
    RelevancePlaceholder,
    #[error("關聯性說明與資料查詢者最近的登記完全相同，請就本案具體說明")]
    RelevanceCopied,
    #[error("關聯性說明過長（上限 {0} 字）")]
    RelevanceTooLong(usize),
    #[error("案號格式不正確（1 到 40 個可見字元）")]
    CaseNo,
    #[error("指定的資料查詢者不具查調權限角色或非在職")]
    QuerierNotQuerier,
    #[error("需要資料者與資料查詢者須屬同一單位（§5 第 2 項）")]
    NotSameUnit,
    #[error("登記人須為需要資料者或資料查詢者本人")]
    ApplicantNotParty,
    #[error("外部單位人員請以查調資料申請表（附表 3）提出申請")]
    ExternalMustUseForm3,
    #[error("此單位未設定單位主管，無人可核准")]
    NoSupervisor,
    #[error("受查詢人為本案當事人（查詢者、需要資料者或核准主管）本人，不得查調")]
    SubjectIsParty,
    #[error("不是本案需要資料者所屬單位的主管，不得核准")]
    NotTheSupervisor,
    #[error("職務分離：不得核准自己為登記人、需要資料者或查詢者的登記")]
    ApproverIsParty,
    #[error("第二核准人須為其他單位主管或局長，且不得為第一核准人")]
    SecondApprover,
    #[error("此登記目前的狀態（{0}）不能進行此動作")]
    WrongState(&'static str),
    #[error("退回須填寫意見")]
    CommentRequired,
    #[error("申請表所列受查詢人數（{declared}）與名單筆數（{listed}）不符")]
    SubjectCount { declared: usize, listed: usize },
    #[error("申請單位須為區公所或所屬機關")]
    NotExternalUnit,
    #[error("受理單位不正確")]
    ResponsibleUnit,
    #[error("無權檢視或處理此項目")]
    NotAllowed,
    #[error("聯絡資料格式不正確（{0}）")]
    Contact(&'static str),
    #[error("您的職務不能登記查調（附表 2）；請由資料查詢者、需要資料者或單位主管登記")]
    ApplicantRole,
    #[error(
        "個人資料保護法之依據不能單獨引用，須併列目錄中的社會福利法規（例如社會救助法第44條之3）"
    )]
    PrivacyBasisAlone,
    #[error("未填案號時，須說明無案號的理由（至少 4 字）")]
    NoCaseReason,
    #[error("您已在此申請表核章")]
    AlreadySigned,
    #[error("此受查詢人已查調或已結案，不能再結案")]
    SubjectNotOpen,
    #[error("結案須說明理由（至少 4 字）")]
    CloseReasonRequired,
    #[error("尚有 {0} 位受查詢人未查調也未結案，請先查調或填寫理由結案後再登錄送達")]
    SubjectsOpen(usize),
    #[error("資料查詢者與使用單位主管尚未在申請表核章，不能登錄送達")]
    SignaturesMissing,
}

impl RegistrationError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SubjectName => "registration.subject_name",
            Self::SubjectId(_) => "registration.subject_id",
            Self::LinkedId => "registration.linked_id",
            Self::NoItems => "registration.no_items",
            Self::ItemCode => "registration.item_code",
            Self::ItemNotGranted(_) => "registration.item_not_granted",
            Self::LegalBasis => "registration.legal_basis",
            Self::RelevanceEmpty => "registration.relevance.empty",
            Self::RelevancePlaceholder => "registration.relevance.placeholder",
            Self::RelevanceCopied => "registration.relevance.copied",
            Self::RelevanceTooLong(_) => "registration.relevance.too_long",
            Self::CaseNo => "registration.case_no",
            Self::QuerierNotQuerier => "registration.querier_role",
            Self::NotSameUnit => "registration.delegation_unit",
            Self::ApplicantNotParty => "registration.applicant",
            Self::ExternalMustUseForm3 => "registration.external_use_form3",
            Self::NoSupervisor => "registration.no_supervisor",
            Self::SubjectIsParty => "snooping.subject_is_party",
            Self::NotTheSupervisor => "approval.not_supervisor",
            Self::ApproverIsParty => "approval.separation_of_duties",
            Self::SecondApprover => "approval.second_approver",
            Self::WrongState(_) => "registration.wrong_state",
            Self::CommentRequired => "approval.comment_required",
            Self::SubjectCount { .. } => "request.subject_count",
            Self::NotExternalUnit => "request.not_external",
            Self::ResponsibleUnit => "request.responsible_unit",
            Self::NotAllowed => "registration.not_allowed",
            Self::Contact(_) => "request.contact",
            Self::ApplicantRole => "registration.applicant_role",
            Self::PrivacyBasisAlone => "registration.legal_basis.privacy_alone",
            Self::NoCaseReason => "registration.case_no.reason_required",
            Self::AlreadySigned => "request.already_signed",
            Self::SubjectNotOpen => "request.subject_not_open",
            Self::CloseReasonRequired => "request.close_reason",
            Self::SubjectsOpen(_) => "request.subjects_open",
            Self::SignaturesMissing => "request.signatures_missing",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Numbers

/// A Form 2 number: ROC year and a sequence restarting each year, written `115-000012`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct RegistrationNo {
    roc_year: i16,
    seq: u32,
}

/// A number is not of the form `115-000012`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("編號格式應為「民國年-6 位流水號」，例如 115-000012")]
pub struct NumberFormatError;

fn parse_year_seq(s: &str) -> Result<(i16, u32), NumberFormatError> {
    let (y, n) = s.trim().split_once('-').ok_or(NumberFormatError)?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(y) || y.len() > 4 || !digits(n) || n.len() != 6 {
        return Err(NumberFormatError);
    }
    let year: i16 = y.parse().map_err(|_| NumberFormatError)?;
    let seq: u32 = n.parse().map_err(|_| NumberFormatError)?;
    if year < 1 || seq < 1 {
        return Err(NumberFormatError);
    }
    Ok((year, seq))
}

impl RegistrationNo {
    /// `seq` ≥ 1 and < 1 000 000, `roc_year` ≥ 1.
    pub fn new(roc_year: i16, seq: u32) -> Result<Self, NumberFormatError> {
        if roc_year < 1 || seq == 0 || seq > 999_999 {
            return Err(NumberFormatError);
        }
        Ok(Self { roc_year, seq })
    }

    pub fn parse(s: &str) -> Result<Self, NumberFormatError> {
        let (y, n) = parse_year_seq(s)?;
        Self::new(y, n)
    }

    pub fn roc_year(self) -> i16 {
        self.roc_year
    }

    pub fn seq(self) -> u32 {
        self.seq
    }
}

impl fmt::Display for RegistrationNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}-{:06}", self.roc_year, self.seq)
    }
}

impl FromStr for RegistrationNo {
    type Err = NumberFormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A Form 3 number: `R115-000003`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct RequestNo {
    roc_year: i16,
    seq: u32,
}

impl RequestNo {
    pub fn new(roc_year: i16, seq: u32) -> Result<Self, NumberFormatError> {
        RegistrationNo::new(roc_year, seq).map(|n| Self {
            roc_year: n.roc_year,
            seq: n.seq,
        })
    }

    pub fn parse(s: &str) -> Result<Self, NumberFormatError> {
        let rest = s.trim().strip_prefix('R').ok_or(NumberFormatError)?;
        let (y, n) = parse_year_seq(rest)?;
        Self::new(y, n)
    }

    pub fn roc_year(self) -> i16 {
        self.roc_year
    }

    pub fn seq(self) -> u32 {
        self.seq
    }
}

impl fmt::Display for RequestNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R{:03}-{:06}", self.roc_year, self.seq)
    }
}

// ---------------------------------------------------------------------------------------
// Subject

/// The data subject (受查詢人) as written on Form 2: name and national ID, and for a foreign
/// resident who holds both an old and a new 統一證號 (the 2021 change; old numbers stay valid
/// until 2031) the other number, linked as the same person.
#[derive(Clone, PartialEq, Eq)]
pub struct Subject {
    name: String,
    id: NationalId,
    linked_id: Option<NationalId>,
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Personal data: only the masked ID and the name's length.
        f.debug_struct("Subject")
            .field("name_chars", &self.name.chars().count())
            .field("id", &self.id)
            .field("linked_id", &self.linked_id)
            .finish()
    }
}

impl Subject {
    /// Validates name (1–40 characters after trimming, no control characters), ID, and the
    /// linked ID (only between an old-style and a new-style resident number).
    pub fn parse(name: &str, id: &str, linked_id: Option<&str>) -> Result<Self, RegistrationError> {
        let name = name.trim();
        let n = name.chars().count();
        if n == 0 || n > 40 || name.chars().any(char::is_control) {
            return Err(RegistrationError::SubjectName);
        }
        let id = NationalId::parse(id).map_err(RegistrationError::SubjectId)?;
        let linked_id = match linked_id.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(l) => {
                let l = NationalId::parse(l).map_err(|_| RegistrationError::LinkedId)?;
                let pair = (id.kind(), l.kind());
                let ok = matches!(
                    pair,
                    (NationalIdKind::ResidentOld, NationalIdKind::ResidentNew)
                        | (NationalIdKind::ResidentNew, NationalIdKind::ResidentOld)
                );
                if !ok {
                    return Err(RegistrationError::LinkedId);
                }
                Some(l)
            }
        };
        Ok(Self {
            name: name.to_string(),
            id,
            linked_id,
        })
    }

    /// The name. Personal data: show only to people entitled to the registration.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name with all but its first and last characters hidden (`王○明`, `林○`), the form
    /// kept once the sealed subject is destroyed (§6).
    pub fn masked_name(&self) -> String {
        let chars: Vec<char> = self.name.chars().collect();
        match chars.as_slice() {
            [] => String::new(),
            [_] => "○".to_string(),
            [first, _] => format!("{first}○"),
            [first, middle @ .., last] => {
                format!("{first}{}{last}", "○".repeat(middle.len()))
            }
        }
    }

    pub fn id(&self) -> &NationalId {
        &self.id
    }

    pub fn linked_id(&self) -> Option<&NationalId> {
        self.linked_id.as_ref()
    }

    /// The surname (first character, or the compound surname), for the same-surname check.
    pub fn surname(&self) -> &str {
        crate::snooping::surname(&self.name)
    }
}

// ---------------------------------------------------------------------------------------
// Relevance

/// Longest relevance text accepted.
pub const RELEVANCE_MAX_CHARS: usize = 1000;
/// Shortest meaningful explanation, counted without spaces and punctuation.
pub const RELEVANCE_MIN_CHARS: usize = 4;

/// Text that says nothing: refused as relevance (rule `registration.relevance.placeholder`).
/// Compared after removing spaces and punctuation and lower-casing.
const PLACEHOLDERS: &[&str] = &[
    "同上",
    "如上",
    "同前",
    "同左",
    "無",
    "略",
    "詳如附件",
    "詳附件",
    "見附件",
    "待補",
    "test",
    "testing",
    "na",
    "n/a",
    "none",
    "xxx",
    "ooo",
    "業務需要",
    "業務所需",
    "查詢",
    "查調",
];

/// The applicant's explanation of how the query relates to the case (§5: 關聯性說明).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Relevance(String);

/// Letters and digits only, lower-cased: what two texts are compared by.
pub fn normalise_text(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Relevance {
    /// Refuses empty text, placeholders ("同上", "無", "test", "..."), text shorter than
    /// [`RELEVANCE_MIN_CHARS`] meaningful characters, and text identical (after
    /// normalisation) to any of `previous` — the querier's most recent registrations'
    /// relevance (the caller chooses how many and excludes its own batch).
    pub fn parse(text: &str, previous: &[String]) -> Result<Relevance, RegistrationError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(RegistrationError::RelevanceEmpty);
        }
        if trimmed.chars().count() > RELEVANCE_MAX_CHARS {
            return Err(RegistrationError::RelevanceTooLong(RELEVANCE_MAX_CHARS));
        }
        let norm = normalise_text(trimmed);
        let is_placeholder = norm.is_empty()
            || norm.chars().count() < RELEVANCE_MIN_CHARS
            || PLACEHOLDERS.iter().any(|p| normalise_text(p) == norm)
            || norm.chars().all(|c| norm.starts_with(c));
        if is_placeholder {
            return Err(RegistrationError::RelevancePlaceholder);
        }
        if previous.iter().any(|p| normalise_text(p) == norm) {
            return Err(RegistrationError::RelevanceCopied);
        }
        Ok(Relevance(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional case number (案號): 1–40 visible characters.
pub fn parse_case_no(s: Option<&str>) -> Result<Option<String>, RegistrationError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(c) if c.chars().count() <= 40 && !c.chars().any(char::is_control) => {
            Ok(Some(c.to_string()))
        }
        Some(_) => Err(RegistrationError::CaseNo),
    }
}

/// The catalogue's kind for the general privacy group (個人資料保護法 §15/§16).
pub const GENERAL_PRIVACY: &str = "general_privacy";

/// §4 ¶1: the general privacy law permits use only for a duty some other law gives, so a basis
/// from that group must be cited with a social-welfare law of the catalogue, never alone.
/// `cited` are the catalogue entries the registration cites (the basis and any companion).
pub fn check_legal_bases(cited: &[&LegalBasis]) -> Result<(), RegistrationError> {
    if cited.iter().any(|b| b.kind != GENERAL_PRIVACY) {
        Ok(())
    } else {
        Err(RegistrationError::PrivacyBasisAlone)
    }
}

/// §4 ¶1: a registration without a case number (案號) says why it has none; the reason is
/// returned trimmed (`None` when a case number is given: no reason is needed).
pub fn check_case_reason(
    case_no: Option<&str>,
    reason: Option<&str>,
) -> Result<Option<String>, RegistrationError> {
    if case_no.is_some() {
        return Ok(None);
    }
    match reason.map(str::trim) {
        Some(r) if (4..=200).contains(&r.chars().count()) && !r.chars().any(char::is_control) => {
            Ok(Some(r.to_string()))
        }
        _ => Err(RegistrationError::NoCaseReason),
    }
}

/// Checks the items: at least one, each among the querier's active grants today.
pub fn check_items(
    items: &BTreeSet<ServiceItemCode>,
    active_items: &BTreeSet<ServiceItemCode>,
) -> Result<(), RegistrationError> {
    if items.is_empty() {
        return Err(RegistrationError::NoItems);
    }
    if let Some(missing) = items.iter().find(|i| !active_items.contains(*i)) {
        return Err(RegistrationError::ItemNotGranted(missing.clone()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Parties

/// Where a registration came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    /// Filed inside the bureau (Form 2), by the querier or a colleague of the same unit.
    Internal,
    /// Created by the responsible unit accepting a Form 3 request (storage id of the request).
    Form3(i64),
}

/// The three parties of a Form 2 row.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Parties {
    /// 登記人: who filed the row.
    pub applicant: PersonId,
    /// 需要資料者: who needs the data (default: the applicant).
    pub needer: PersonId,
    /// 資料查詢者: who runs the query.
    pub querier: PersonId,
}

/// §5: who may file a Form 2 row at all — bureau staff (queriers, colleagues who need data,
/// supervisors); people outside the bureau use Form 3. Pages use it to decide what to offer;
/// the use cases refuse with [`check_applicant`], so the page and the API refuse alike.
pub fn may_register(p: &Person) -> bool {
    check_applicant(p).is_ok()
}

/// §5: refuses an applicant who may not file Form 2, with the rule's code.
pub fn check_applicant(p: &Person) -> Result<(), RegistrationError> {
    if p.has_role(Role::ExternalRequester) {
        return Err(RegistrationError::ExternalMustUseForm3);
    }
    if p.has_role(Role::Querier) || p.has_role(Role::Staff) || p.has_role(Role::UnitSupervisor) {
        Ok(())
    } else {
        Err(RegistrationError::ApplicantRole)
    }
}

/// §5: who may file for whom, and whose supervisor approves. For an internal registration the
/// applicant is the querier or the needer, the needer works in the querier's unit (¶2:
/// colleagues of the same unit may have a querier run a query for them), and the approving
/// unit is the needer's. Returns the approving unit.
pub fn check_parties(
    applicant: &Person,
    needer: &Person,
    querier: &Person,
    origin: Origin,
) -> Result<UnitId, RegistrationError> {
    if !querier.has_role(Role::Querier) || querier.status != StaffStatus::Active {
        return Err(RegistrationError::QuerierNotQuerier);
    }
    match origin {
        Origin::Internal => {
            check_applicant(applicant)?;
            if applicant.id != needer.id && applicant.id != querier.id {
                return Err(RegistrationError::ApplicantNotParty);
            }
            if needer.unit != querier.unit || applicant.unit != querier.unit {
                return Err(RegistrationError::NotSameUnit);
            }
            Ok(needer.unit.clone())
        }
        // §5: the responsible unit queries for the requester; its supervisor approves.
        Origin::Form3(_) => {
            if applicant.unit != querier.unit {
                return Err(RegistrationError::NotSameUnit);
            }
            Ok(querier.unit.clone())
        }
    }
}

// ---------------------------------------------------------------------------------------
// States

crate::declare::storage_id!(
    /// A registration's storage id (not personal data).
    RegistrationId
);

/// Where a registration stands.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RegistrationState {
    /// Filed, awaiting the supervisor (and, when the snooping checks asked for one, a second
    /// approver: `first_approval` then holds the first).
    Registered {
        first_approval: Option<(PersonId, Timestamp)>,
    },
    /// §5: approved before the query runs; valid from `at` until `valid_until`.
    Approved {
        by: PersonId,
        at: Timestamp,
        valid_until: Timestamp,
    },
    Rejected {
        by: PersonId,
        at: Timestamp,
        comment: String,
    },
    Cancelled {
        by: PersonId,
        at: Timestamp,
    },
}

impl RegistrationState {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Registered {
                first_approval: None,
            } => "registered",
            Self::Registered {
                first_approval: Some(_),
            } => "awaiting_second_approval",
            Self::Approved { .. } => "approved",
            Self::Rejected { .. } => "rejected",
            Self::Cancelled { .. } => "cancelled",
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Registered {
                first_approval: None,
            } => "待主管核准",
            Self::Registered {
                first_approval: Some(_),
            } => "待第二核准人核准",
            Self::Approved { .. } => "已核准",
            Self::Rejected { .. } => "已退回",
            Self::Cancelled { .. } => "已撤銷",
        }
    }
}

/// One Form 2 row as stored, without the subject (which storage holds only encrypted; the
/// app decrypts it when entitled).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Registration {
    pub id: RegistrationId,
    pub no: RegistrationNo,
    /// 申請日期.
    pub date: RocDate,
    pub created_at: Timestamp,
    /// The subject's keyed HMAC (hex) and the key id it was made with.
    pub subject_digest: String,
    pub subject_key_id: String,
    pub items: BTreeSet<ServiceItemCode>,
    pub legal_basis: LegalBasisId,
    pub relevance: String,
    pub case_no: Option<String>,
    pub parties: Parties,
    pub approving_unit: UnitId,
    pub origin: Origin,
    pub state: RegistrationState,
    /// The snooping checks asked for a second approver.
    pub second_approval_required: bool,
    /// Codes of the snooping findings (shown to the approver).
    pub findings: Vec<String>,
    /// Items executed (an answer received, or recorded from the portal): §5, one execution
    /// per item. A definitely failed attempt does not count.
    pub executed_items: BTreeSet<ServiceItemCode>,
    /// Items whose last attempt was sent with its outcome unknown (timed out after sending,
    /// or a crash before the answer was stored), not yet resolved: they may not run again
    /// until the usage log or the querier's statement resolves them.
    pub awaiting_outcome: BTreeSet<ServiceItemCode>,
    /// The subject digest the approver approved (set on approval).
    pub approved_subject_digest: Option<String>,
    /// Batch id when registered together with others (CSV or Form 3).
    pub batch: Option<String>,
}

impl Registration {
    /// Whether `person` is applicant, needer or querier.
    pub fn is_party(&self, person: PersonId) -> bool {
        let p = &self.parties;
        p.applicant == person || p.needer == person || p.querier == person
    }
}

/// Which approval an approver gives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ApprovalStep {
    /// The unit supervisor's approval (§5).
    Supervisor,
    /// The second approval the snooping checks asked for.
    Second,
}

/// §5 ¶1: who gives a registration its first approval — the approving unit's supervisor; while
/// they are absent, the unit's deputy in force (代理); with neither available, or when the
/// supervisor is a party (say, the one who needs the data), the parent unit's supervisor, up to
/// the director. Never a party. The one walk Form 1 uses too ([`Roster::supervisor_signers`]).
pub fn first_approver(reg: &Registration, roster: &Roster) -> Option<Signer> {
    approver_for(&reg.approving_unit, &reg.parties, roster)
}

/// [`first_approver`] for a filing not yet stored: its approving unit and parties.
pub fn approver_for(unit: &UnitId, parties: &Parties, roster: &Roster) -> Option<Signer> {
    roster.acting_supervisor(unit, |p| {
        p == parties.applicant || p == parties.needer || p == parties.querier
    })
}

/// Who may decide a registration now, and in what capacity. The first approval is
/// [`first_approver`]'s; when a second is required, another unit supervisor or the director
/// gives it. Nobody decides a registration in which they are applicant, needer or querier
/// (MISSION.md "separation of duties").
pub fn check_approver(
    reg: &Registration,
    approver: &Person,
    roster: &Roster,
) -> Result<(ApprovalStep, Signer), RegistrationError> {
    if reg.is_party(approver.id) {
        return Err(RegistrationError::ApproverIsParty);
    }
    if approver.status != StaffStatus::Active {
        return Err(RegistrationError::NotTheSupervisor);
    }
    let first = first_approver(reg, roster);
    match &reg.state {
        RegistrationState::Registered {
            first_approval: None,
        } => {
            let Some(signer) = first else {
                return Err(RegistrationError::NoSupervisor);
            };
            if signer.person != approver.id {
                return Err(RegistrationError::NotTheSupervisor);
            }
            Ok((ApprovalStep::Supervisor, signer))
        }
        RegistrationState::Registered {
            first_approval: Some((by, _)),
        } => {
            let eligible =
                approver.has_role(Role::UnitSupervisor) || approver.has_role(Role::Director);
            if *by == approver.id || !eligible || first.is_some_and(|s| s.person == approver.id) {
                return Err(RegistrationError::SecondApprover);
            }
            Ok((
                ApprovalStep::Second,
                Signer {
                    person: approver.id,
                    acting: false,
                    acting_for: None,
                },
            ))
        }
        other => Err(RegistrationError::WrongState(other.code())),
    }
}

/// The state after an approval by `by` at `at`: approved for `validity` unless a second
/// approval is still needed.
pub fn approve(
    reg: &Registration,
    step: ApprovalStep,
    by: PersonId,
    at: Timestamp,
    validity: SignedDuration,
) -> RegistrationState {
    let needs_second = reg.second_approval_required && step == ApprovalStep::Supervisor;
    if needs_second {
        RegistrationState::Registered {
            first_approval: Some((by, at)),
        }
    } else {
        RegistrationState::Approved {
            by,
            at,
            // Saturates at the end of time rather than fail.
            valid_until: at.checked_add(validity).unwrap_or(Timestamp::MAX),
        }
    }
}

/// Whether `person` may cancel: a party, while nothing has been executed and the row is not
/// already decided against.
pub fn check_cancel(reg: &Registration, person: PersonId) -> Result<(), RegistrationError> {
    if !reg.is_party(person) {
        return Err(RegistrationError::NotAllowed);
    }
    match reg.state {
        RegistrationState::Registered { .. } | RegistrationState::Approved { .. }
            // A query that may have reached BLI counts as executed for cancelling.
            if reg.executed_items.is_empty() && reg.awaiting_outcome.is_empty() =>
        {
            Ok(())
        }
        ref other => Err(RegistrationError::WrongState(other.code())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_masked_name_keeps_only_its_first_and_last_characters() {
        let id = "A123456789";
        let m = |n: &str| Subject::parse(n, id, None).unwrap().masked_name();
        assert_eq!(m("王大明"), "王○明");
        assert_eq!(m("林美"), "林○");
        assert_eq!(m("歐陽小小明"), "歐○○○明");
        assert_eq!(m("X"), "○");
    }

    use super::*;

    fn person(id: i64, unit: &str, roles: &[Role]) -> Person {
        Person {
            id: PersonId::new(id),
            account: crate::org::Account::parse(&format!("user{id}")).unwrap(),
            name: format!("人{id}"),
            title: String::new(),
            unit: UnitId::new(unit).unwrap(),
            roles: roles.iter().copied().collect(),
            status: StaffStatus::Active,
        }
    }

    #[test]
    fn only_bureau_staff_may_file_form_2_and_each_refusal_has_its_code() {
        for roles in [
            &[Role::Querier][..],
            &[Role::Staff],
            &[Role::UnitSupervisor],
        ] {
            assert_eq!(check_applicant(&person(1, "u", roles)), Ok(()));
        }
        let director = person(2, "u", &[Role::Director]);
        assert_eq!(
            check_applicant(&director).map_err(|e| e.code()),
            Err("registration.applicant_role")
        );
        assert!(!may_register(&director));
        let district = person(3, "d", &[Role::ExternalRequester, Role::Staff]);
        assert_eq!(
            check_applicant(&district).map_err(|e| e.code()),
            Err("registration.external_use_form3")
        );
    }

    fn basis(kind: &str) -> LegalBasis {
        LegalBasis {
            id: LegalBasisId::new(format!("law-{}", kind.replace('_', "-"))).unwrap(),
            law: "法".into(),
            article: "第1條".into(),
            article_short: "§1".into(),
            summary_zh: String::new(),
            kind: kind.into(),
            programmes: vec![],
            active: true,
        }
    }

    #[test]
    fn a_privacy_law_basis_stands_only_beside_a_welfare_law() {
        let privacy = basis(GENERAL_PRIVACY);
        let welfare = basis("explicit_data_request");
        assert_eq!(
            check_legal_bases(&[&privacy]).map_err(|e| e.code()),
            Err("registration.legal_basis.privacy_alone")
        );
        assert_eq!(
            check_legal_bases(&[&privacy, &privacy]),
            Err(RegistrationError::PrivacyBasisAlone)
        );
        assert_eq!(check_legal_bases(&[&privacy, &welfare]), Ok(()));
        assert_eq!(check_legal_bases(&[&welfare]), Ok(()));
    }

    #[test]
    fn a_registration_without_a_case_number_needs_a_stated_reason() {
        assert_eq!(check_case_reason(Some("115社助字第12號"), None), Ok(None));
        for bad in [None, Some(""), Some("  無 "), Some("a\u{7}bcd")] {
            assert_eq!(
                check_case_reason(None, bad).map_err(|e| e.code()),
                Err("registration.case_no.reason_required"),
                "{bad:?}"
            );
        }
        assert_eq!(
            check_case_reason(None, Some(" 初次來電諮詢，尚未立案 ")),
            Ok(Some("初次來電諮詢，尚未立案".into()))
        );
    }

    #[test]
    fn numbers_print_and_parse() {
        let n = RegistrationNo::new(115, 12).unwrap();
        assert_eq!(n.to_string(), "115-000012");
        assert_eq!(RegistrationNo::parse("115-000012"), Ok(n));
        for bad in [
            "",
            "115",
            "115-12",
            "115-0000120",
            "x-000001",
            "115-000000",
            "0-000001",
        ] {
            assert!(RegistrationNo::parse(bad).is_err(), "{bad}");
        }
        let r = RequestNo::new(115, 3).unwrap();
        assert_eq!(r.to_string(), "R115-000003");
        assert_eq!(RequestNo::parse("R115-000003"), Ok(r));
        assert!(RequestNo::parse("115-000003").is_err());
    }

    #[test]
    fn relevance_refuses_empty_placeholder_and_copied_text() {
        let prev = vec!["低收入戶年度總清查，需確認申請人投保薪資".to_string()];
        let cases: &[(&str, &str)] = &[
            ("", "registration.relevance.empty"),
            ("   ", "registration.relevance.empty"),
            ("同上", "registration.relevance.placeholder"),
            (" 無 ", "registration.relevance.placeholder"),
            ("test", "registration.relevance.placeholder"),
            ("TEST.", "registration.relevance.placeholder"),
            ("...", "registration.relevance.placeholder"),
            ("。。。。。", "registration.relevance.placeholder"),
            ("aaaaaaa", "registration.relevance.placeholder"),
            ("業務需要", "registration.relevance.placeholder"),
            ("查", "registration.relevance.placeholder"),
            (
                "低收入戶年度總清查，需確認申請人投保薪資。",
                "registration.relevance.copied",
            ),
            (
                " 低收入戶 年度總清查 需確認申請人投保薪資 ",
                "registration.relevance.copied",
            ),
        ];
        for (text, code) in cases {
            let err = Relevance::parse(text, &prev).unwrap_err();
            assert_eq!(err.code(), *code, "{text:?}");
        }
        let long = "說".repeat(RELEVANCE_MAX_CHARS + 1);
        assert_eq!(
            Relevance::parse(&long, &[]).unwrap_err().code(),
            "registration.relevance.too_long"
        );
        let ok = Relevance::parse("中低收入老人生活津貼申請，查核家庭成員工作收入", &prev).unwrap();
        assert!(ok.as_str().starts_with("中低收入"));
    }

    #[test]
    fn subject_links_only_an_old_and_a_new_resident_number() {
        let s = Subject::parse(" 王小明 ", "A123456789", None).unwrap();
        assert_eq!(s.name(), "王小明");
        assert!(!format!("{s:?}").contains("王小明"));
        assert!(!format!("{s:?}").contains("A123456789"));
        assert_eq!(
            Subject::parse("", "A123456789", None).unwrap_err().code(),
            "registration.subject_name"
        );
        assert_eq!(
            Subject::parse("王", "A123456788", None).unwrap_err().code(),
            "registration.subject_id"
        );
        // A citizen number cannot be linked.
        assert_eq!(
            Subject::parse("王", "A123456789", Some("AC01234567"))
                .unwrap_err()
                .code(),
            "registration.linked_id"
        );
        let old = "AC01234567";
        let new = new_resident();
        let linked = Subject::parse("John", old, Some(&new)).unwrap();
        assert_eq!(
            linked.linked_id().unwrap().kind(),
            NationalIdKind::ResidentNew
        );
        assert!(Subject::parse("John", old, Some(old)).is_err());
    }

    /// A valid new-style resident number (second digit 8).
    fn new_resident() -> String {
        (0..10)
            .map(|d| format!("A80000001{d}"))
            .find(|s| NationalId::parse(s).is_ok())
            .unwrap()
    }

    #[test]
    fn delegation_stays_inside_the_unit() {
        let querier = person(1, "social-assistance", &[Role::Querier, Role::Staff]);
        let colleague = person(2, "social-assistance", &[Role::Staff]);
        let other = person(3, "elderly-welfare", &[Role::Staff]);
        let external = person(4, "district-yancheng", &[Role::ExternalRequester]);
        let unit = check_parties(&colleague, &colleague, &querier, Origin::Internal).unwrap();
        assert_eq!(unit.as_str(), "social-assistance");
        assert_eq!(
            check_parties(&other, &other, &querier, Origin::Internal),
            Err(RegistrationError::NotSameUnit)
        );
        assert_eq!(
            check_parties(&colleague, &colleague, &colleague, Origin::Internal),
            Err(RegistrationError::QuerierNotQuerier)
        );
        assert_eq!(
            check_parties(&external, &external, &querier, Origin::Internal),
            Err(RegistrationError::ExternalMustUseForm3)
        );
        assert_eq!(
            check_parties(&other, &colleague, &querier, Origin::Internal),
            Err(RegistrationError::ApplicantNotParty)
        );
    }

    pub(super) fn registration(second: bool) -> Registration {
        Registration {
            id: RegistrationId::new(1),
            no: RegistrationNo::new(115, 1).unwrap(),
            date: RocDate::new(115, 3, 1).unwrap(),
            created_at: Timestamp::UNIX_EPOCH,
            subject_digest: "d".into(),
            subject_key_id: "k".into(),
            items: [ServiceItemCode::parse("C0101").unwrap()].into(),
            legal_basis: LegalBasisId::new("x").unwrap(),
            relevance: "r".into(),
            case_no: None,
            parties: Parties {
                applicant: PersonId::new(2),
                needer: PersonId::new(2),
                querier: PersonId::new(1),
            },
            approving_unit: UnitId::new("social-assistance").unwrap(),
            origin: Origin::Internal,
            state: RegistrationState::Registered {
                first_approval: None,
            },
            second_approval_required: second,
            findings: vec![],
            executed_items: BTreeSet::new(),
            awaiting_outcome: BTreeSet::new(),
            approved_subject_digest: None,
            batch: None,
        }
    }

    // 社會救助科: supervisor 9, deputy 6; the bureau above it: supervisor 5; director 10.
    fn roster() -> Roster {
        let sa = UnitId::new("social-assistance").unwrap();
        let bureau = UnitId::new("bureau").unwrap();
        Roster {
            parents: [(sa.clone(), Some(bureau.clone())), (bureau.clone(), None)].into(),
            supervisors: [(sa.clone(), PersonId::new(9)), (bureau, PersonId::new(5))].into(),
            unit_deputies: [(sa, PersonId::new(6))].into(),
            director: Some(PersonId::new(10)),
            ..Roster::default()
        }
    }

    fn step_of(
        reg: &Registration,
        who: &Person,
        roster: &Roster,
    ) -> Result<(ApprovalStep, bool), RegistrationError> {
        check_approver(reg, who, roster).map(|(step, s)| (step, s.acting))
    }

    #[test]
    fn only_the_supervisor_approves_and_never_a_party() {
        let reg = registration(false);
        let sup = person(9, "social-assistance", &[Role::UnitSupervisor]);
        let other_sup = person(8, "elderly-welfare", &[Role::UnitSupervisor]);
        let querier = person(1, "social-assistance", &[Role::Querier]);
        let r = roster();
        assert_eq!(
            step_of(&reg, &sup, &r),
            Ok((ApprovalStep::Supervisor, false))
        );
        assert_eq!(
            step_of(&reg, &other_sup, &r),
            Err(RegistrationError::NotTheSupervisor)
        );
        assert_eq!(
            step_of(&reg, &querier, &r),
            Err(RegistrationError::ApproverIsParty)
        );
        assert_eq!(
            step_of(&reg, &sup, &Roster::default()),
            Err(RegistrationError::NoSupervisor)
        );
        let at = Timestamp::from_second(1_000_000).unwrap();
        let state = approve(
            &reg,
            ApprovalStep::Supervisor,
            sup.id,
            at,
            SignedDuration::from_hours(24 * 7),
        );
        match state {
            RegistrationState::Approved { valid_until, .. } => {
                assert_eq!(
                    valid_until.duration_since(at),
                    SignedDuration::from_hours(168)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_acting_supervisor_approves_in_the_absent_supervisors_place_and_never_their_own() {
        let deputy = person(6, "social-assistance", &[Role::Staff]);
        let sup = person(9, "social-assistance", &[Role::UnitSupervisor]);
        let parent = person(5, "bureau", &[Role::UnitSupervisor]);
        // (what, needer, absent, who approves, expected)
        type Expected = Result<(ApprovalStep, bool), RegistrationError>;
        let cases: [(&str, i64, &[i64], &Person, Expected); 6] = [
            (
                "present supervisor",
                2,
                &[],
                &sup,
                Ok((ApprovalStep::Supervisor, false)),
            ),
            (
                "deputy while the supervisor is present",
                2,
                &[],
                &deputy,
                Err(RegistrationError::NotTheSupervisor),
            ),
            (
                "deputy while the supervisor is absent: 代理",
                2,
                &[9],
                &deputy,
                Ok((ApprovalStep::Supervisor, true)),
            ),
            (
                "parent when supervisor and deputy are absent",
                2,
                &[9, 6],
                &parent,
                Ok((ApprovalStep::Supervisor, false)),
            ),
            (
                "the supervisor needs the data: the parent",
                9,
                &[],
                &parent,
                Ok((ApprovalStep::Supervisor, false)),
            ),
            (
                "the supervisor needs the data: never their deputy",
                9,
                &[],
                &deputy,
                Err(RegistrationError::NotTheSupervisor),
            ),
        ];
        for (what, needer, absent, who, expected) in cases {
            let mut reg = registration(false);
            reg.parties.needer = PersonId::new(needer);
            let mut r = roster();
            r.inactive = absent.iter().map(|n| PersonId::new(*n)).collect();
            assert_eq!(step_of(&reg, who, &r), expected, "{what}");
        }
        // The supervisor who needs the data never approves it themself.
        let mut reg = registration(false);
        reg.parties.needer = sup.id;
        assert_eq!(
            step_of(&reg, &sup, &roster()),
            Err(RegistrationError::ApproverIsParty)
        );
        assert_eq!(
            first_approver(&reg, &roster()).map(|s| s.person),
            Some(parent.id)
        );
    }

    #[test]
    fn a_second_approval_comes_from_another_supervisor() {
        let mut reg = registration(true);
        let sup = person(9, "social-assistance", &[Role::UnitSupervisor]);
        let other_sup = person(8, "elderly-welfare", &[Role::UnitSupervisor]);
        let staff = person(7, "elderly-welfare", &[Role::Staff]);
        let r = roster();
        let at = Timestamp::from_second(1_000_000).unwrap();
        reg.state = approve(
            &reg,
            ApprovalStep::Supervisor,
            sup.id,
            at,
            SignedDuration::from_hours(1),
        );
        assert_eq!(reg.state.code(), "awaiting_second_approval");
        assert_eq!(
            step_of(&reg, &sup, &r),
            Err(RegistrationError::SecondApprover)
        );
        assert_eq!(
            step_of(&reg, &staff, &r),
            Err(RegistrationError::SecondApprover)
        );
        assert_eq!(
            step_of(&reg, &other_sup, &r),
            Ok((ApprovalStep::Second, false))
        );
        reg.state = approve(
            &reg,
            ApprovalStep::Second,
            other_sup.id,
            at,
            SignedDuration::from_hours(1),
        );
        assert_eq!(reg.state.code(), "approved");
        assert_eq!(
            step_of(&reg, &other_sup, &r),
            Err(RegistrationError::WrongState("approved"))
        );
    }

    #[test]
    fn cancelling_is_for_parties_before_execution() {
        let mut reg = registration(false);
        assert!(check_cancel(&reg, PersonId::new(1)).is_ok());
        assert_eq!(
            check_cancel(&reg, PersonId::new(5)),
            Err(RegistrationError::NotAllowed)
        );
        reg.executed_items
            .insert(ServiceItemCode::parse("C0101").unwrap());
        assert!(check_cancel(&reg, PersonId::new(1)).is_err());
    }
}
