//! Unannounced audits and their record, Form 4 (§8, 稽核紀錄表).
//!
//! Owns the audit with every Form 4 field ([`UnannouncedAudit`], [`AuditPlan`]), the draw of
//! the sample ([`draw_sample`]: uniform, or weighted by a weight per candidate case, always from
//! a recorded seed so anyone can repeat the draw and check it), the state machine
//! ([`AuditState`]: opened for documents → opinions → the four sign-offs in Form 4's order →
//! the director's review → read-only), the checks on attached documents
//! ([`check_document`]) and separation of duties ([`check_parties`]: nobody audits
//! themselves, their own unit's approvals, or a case they approved).
//!
//! Security-sensitive: these rules decide who may see and sign an audit of someone's use of
//! personal data. Pure: no clock, no storage; `today` comes in as an argument. Refusals carry
//! a stable code and a zh-TW message that never holds personal data.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::org::{Person, PersonId, Role, UnitId, UnitKind};
use crate::registration::{RegistrationId, RegistrationNo};
use crate::roc_date::RocDate;

/// Longest free text accepted (opinions, review comment).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most cases one audit may sample.
pub const MAX_CASES: u32 = 100;
/// Most auditors named on one audit.
pub const MAX_AUDITORS: usize = 10;
/// Longest attachment file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// Why an audit action is refused: the rule, as a stable code and a zh-TW message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditRefusal {
    #[error("只有資訊小組權限管理者或政風室稽核人員可以發起稽核")]
    NotAuditOffice,
    #[error("稽核人員須為資訊小組權限管理者或政風室稽核人員")]
    AuditorWithoutRole,
    #[error("須指定一至 {MAX_AUDITORS} 位稽核人員")]
    AuditorsRequired,
    #[error("稽核單位須為資訊小組或政風室")]
    AuditingUnit,
    #[error("未填寫「{0}」")]
    MissingField(&'static str),
    #[error("「{0}」超過 {MAX_TEXT_CHARS} 字")]
    TextTooLong(&'static str),
    #[error(
        "「{0}」不是有效的日期，或不在稽核計畫可填的期間（前後二年）內；請以民國年填寫，例如 115/03/05"
    )]
    BadDate(&'static str),
    #[error("找不到「{0}」所填的人員")]
    UnknownPerson(&'static str),
    #[error("抽樣方式須為隨機（uniform）或依權重（weighted）")]
    Sampling,
    #[error("稽核期間起日不得晚於迄日，迄日不得晚於稽核日期")]
    Period,
    #[error("資料繳交期限不得早於稽核日期")]
    Deadline,
    #[error("稽核件數須介於 1 與 {MAX_CASES} 件之間")]
    CaseCount,
    #[error("受稽核者於稽核期間內沒有查調紀錄，無案件可抽查")]
    NoCases,
    #[error("職務分離：不得稽核自己")]
    AuditsThemselves,
    #[error("職務分離：不得稽核自己單位核准的查調")]
    OwnUnit,
    #[error("職務分離：不得稽核自己核准的案件")]
    ApprovedCase,
    #[error("只有受稽核者本人可以附送佐證資料")]
    NotQuerier,
    #[error("資料繳交已截止，不得再附送文件")]
    DocumentsClosed,
    #[error("已逾資料繳交期限，不得再附送文件")]
    DeadlinePassed,
    #[error("此案件不在本次抽查範圍內")]
    CaseNotSampled,
    #[error("附件須為 PDF 或圖片（PNG、JPEG）")]
    WrongFileType,
    #[error("附件超過大小上限（{0} 位元組）")]
    TooLarge(u64),
    #[error("附件是空的")]
    EmptyFile,
    #[error("附件檔名不得包含路徑（/ 或 \\）")]
    NameWithPath,
    #[error("附件檔名不正確（須為 1 到 {MAX_FILE_NAME_CHARS} 字，不含控制字元）")]
    BadFileName,
    #[error("只有本次稽核的稽核人員可以記錄稽核意見")]
    NotAssignedAuditor,
    #[error("尚未到記錄稽核意見的階段（資料繳交期限未到且受稽核者尚未送出）或已不得修改")]
    OpinionsNotOpen,
    #[error("尚有抽查案件未記錄稽核意見")]
    CasesWithoutOpinion,
    #[error("簽核順序不符：目前應由「{0}」簽核")]
    SignOffOutOfOrder(SignOffStep),
    #[error("尚未到簽核階段")]
    NotSigningOff,
    #[error("您不是此簽核欄的簽核人")]
    NotSigner,
    #[error("只有局長可以核閱稽核紀錄表")]
    NotDirector,
    #[error("稽核紀錄表尚未完成簽核，不能核閱")]
    NotAwaitingReview,
    #[error("稽核紀錄表已經局長核閱，僅供查閱")]
    ReadOnly,
    #[error("您無權查閱此稽核紀錄")]
    NotVisible,
}

impl AuditRefusal {
    /// Stable code for machines, the audit trail and the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAuditOffice => "audit.not_audit_office",
            Self::AuditorWithoutRole => "audit.auditor_role",
            Self::AuditorsRequired => "audit.auditors_required",
            Self::AuditingUnit => "audit.auditing_unit",
            Self::MissingField(_) => "audit.missing_field",
            Self::TextTooLong(_) => "audit.text_too_long",
            Self::BadDate(_) => "audit.date",
            Self::UnknownPerson(_) => "audit.unknown_person",
            Self::Sampling => "audit.sampling",
            Self::Period => "audit.period",
            Self::Deadline => "audit.deadline",
            Self::CaseCount => "audit.case_count",
            Self::NoCases => "audit.no_cases",
            Self::AuditsThemselves => "audit.party.self",
            Self::OwnUnit => "audit.party.own_unit",
            Self::ApprovedCase => "audit.party.approver",
            Self::NotQuerier => "audit.not_querier",
            Self::DocumentsClosed => "audit.documents_closed",
            Self::DeadlinePassed => "audit.deadline_passed",
            Self::CaseNotSampled => "audit.case_not_sampled",
            Self::WrongFileType => "audit.attachment.type",
            Self::TooLarge(_) => "audit.attachment.too_large",
            Self::EmptyFile => "audit.attachment.empty",
            Self::NameWithPath => "audit.attachment.path",
            Self::BadFileName => "audit.attachment.name",
            Self::NotAssignedAuditor => "audit.not_assigned_auditor",
            Self::OpinionsNotOpen => "audit.opinions_not_open",
            Self::CasesWithoutOpinion => "audit.cases_without_opinion",
            Self::SignOffOutOfOrder(_) => "audit.sign_off.out_of_order",
            Self::NotSigningOff => "audit.sign_off.not_open",
            Self::NotSigner => "audit.sign_off.not_signer",
            Self::NotDirector => "audit.not_director",
            Self::NotAwaitingReview => "audit.not_awaiting_review",
            Self::ReadOnly => "audit.read_only",
            Self::NotVisible => "audit.not_visible",
        }
    }

    /// English message, for the English UI.
    pub fn message_en(&self) -> String {
        match self {
            Self::NotAuditOffice => "only the IT group's permission administrator or the ethics office's auditors open audits".into(),
            Self::AuditorWithoutRole => "auditors must be the IT group's permission administrator or ethics office auditors".into(),
            Self::AuditorsRequired => format!("name 1 to {MAX_AUDITORS} auditors"),
            Self::AuditingUnit => "the auditing unit must be the IT group or the ethics office".into(),
            Self::MissingField(f) => format!("field \"{f}\" is required"),
            Self::TextTooLong(f) => format!("field \"{f}\" is longer than {MAX_TEXT_CHARS} characters"),
            Self::BadDate(f) => format!(
                "field \"{f}\" is not a valid date, or is more than two years from today; write an ROC date such as 115/03/05"
            ),
            Self::UnknownPerson(f) => format!("no person matches field \"{f}\""),
            Self::Sampling => "the sampling method must be uniform or weighted".into(),
            Self::Period => "the audit period must start no later than it ends, and end no later than the audit date".into(),
            Self::Deadline => "the deadline for documents cannot be before the audit date".into(),
            Self::CaseCount => format!("the number of cases must be between 1 and {MAX_CASES}"),
            Self::NoCases => "the querier made no queries in the audit period; there is nothing to sample".into(),
            Self::AuditsThemselves => "separation of duties: nobody audits themselves".into(),
            Self::OwnUnit => "separation of duties: nobody audits their own unit's approvals".into(),
            Self::ApprovedCase => "separation of duties: nobody audits a case they approved".into(),
            Self::NotQuerier => "only the audited querier attaches supporting documents".into(),
            Self::DocumentsClosed => "documents are closed; nothing more can be attached".into(),
            Self::DeadlinePassed => "the deadline for documents has passed".into(),
            Self::CaseNotSampled => "this case is not in the audit's sample".into(),
            Self::WrongFileType => "attachments must be PDF or images (PNG, JPEG)".into(),
            Self::TooLarge(max) => format!("the attachment is larger than the limit ({max} bytes)"),
            Self::EmptyFile => "the attachment is empty".into(),
            Self::NameWithPath => "the attachment's name must not contain a path (/ or \\)".into(),
            Self::BadFileName => format!("the attachment's name must have 1 to {MAX_FILE_NAME_CHARS} characters and no control characters"),
            Self::NotAssignedAuditor => "only this audit's auditors record audit opinions".into(),
            Self::OpinionsNotOpen => "opinions cannot be recorded now (documents are still being collected, or the opinions are closed)".into(),
            Self::CasesWithoutOpinion => "some sampled cases have no opinion yet".into(),
            Self::SignOffOutOfOrder(step) => format!("sign-offs go in order: \"{}\" signs now", step.name_en()),
            Self::NotSigningOff => "the record is not at the sign-off stage".into(),
            Self::NotSigner => "you are not the signer of this sign-off".into(),
            Self::NotDirector => "only the director reviews audit records".into(),
            Self::NotAwaitingReview => "the record is not fully signed off; it cannot be reviewed yet".into(),
            Self::ReadOnly => "the record has been reviewed by the director and is read-only".into(),
            Self::NotVisible => "you may not see this audit".into(),
        }
    }
}

crate::declare::storage_id!(
    /// An audit's storage id (not personal data).
    AuditId
);

crate::code_enum! {
    /// How the sample is drawn (both from a recorded seed).
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum SamplingMethod {
        /// Every candidate case equally likely.
        Uniform = "uniform";
        /// Likelihood proportional to each candidate's weight (e.g. its number of findings).
        Weighted = "weighted";
    }
}

crate::code_enum! {
    /// The Form 4 sign-offs, in the order they are given.
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
    pub enum SignOffStep {
        /// 受稽核者 (資料查詢者).
        Querier = "querier", "受稽核者", "audited querier";
        /// 稽核人員.
        Auditor = "auditor", "稽核人員", "auditor";
        /// 使用單位主管: the querier's unit supervisor.
        QuerierSupervisor = "querier_supervisor", "使用單位主管", "querier's unit supervisor";
        /// 稽核單位主管: the auditing unit's supervisor.
        AuditingSupervisor = "auditing_supervisor", "稽核單位主管", "auditing unit's supervisor";
    }
}

impl SignOffStep {
    /// The step after this one, `None` after the last.
    pub fn next(self) -> Option<SignOffStep> {
        match self {
            Self::Querier => Some(Self::Auditor),
            Self::Auditor => Some(Self::QuerierSupervisor),
            Self::QuerierSupervisor => Some(Self::AuditingSupervisor),
            Self::AuditingSupervisor => None,
        }
    }
}

impl fmt::Display for SignOffStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

/// Where an audit stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuditState {
    /// Opened (the querier has been told); the querier attaches documents until the deadline.
    Documents,
    /// Documents are closed (submitted by the querier, or the deadline passed and an auditor
    /// began); the auditors record opinions per case and overall (稽核意見).
    Opinions,
    /// The overall opinion is recorded; waiting for this sign-off.
    SigningOff(SignOffStep),
    /// Fully signed; waiting for the director's review (局長核閱).
    AwaitingReview,
    /// Reviewed by the director: read-only from now on.
    Reviewed,
}

impl AuditState {
    pub fn code(self) -> &'static str {
        match self {
            Self::Documents => "documents",
            Self::Opinions => "opinions",
            Self::SigningOff(SignOffStep::Querier) => "sign_off.querier",
            Self::SigningOff(SignOffStep::Auditor) => "sign_off.auditor",
            Self::SigningOff(SignOffStep::QuerierSupervisor) => "sign_off.querier_supervisor",
            Self::SigningOff(SignOffStep::AuditingSupervisor) => "sign_off.auditing_supervisor",
            Self::AwaitingReview => "awaiting_review",
            Self::Reviewed => "reviewed",
        }
    }

    pub fn parse_code(s: &str) -> Option<Self> {
        let all = [
            Self::Documents,
            Self::Opinions,
            Self::SigningOff(SignOffStep::Querier),
            Self::SigningOff(SignOffStep::Auditor),
            Self::SigningOff(SignOffStep::QuerierSupervisor),
            Self::SigningOff(SignOffStep::AuditingSupervisor),
            Self::AwaitingReview,
            Self::Reviewed,
        ];
        all.into_iter().find(|x| x.code() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Documents => "佐證資料繳交中",
            Self::Opinions => "稽核意見填寫中",
            Self::SigningOff(SignOffStep::Querier) => "待受稽核者簽章",
            Self::SigningOff(SignOffStep::Auditor) => "待稽核人員簽章",
            Self::SigningOff(SignOffStep::QuerierSupervisor) => "待使用單位主管簽章",
            Self::SigningOff(SignOffStep::AuditingSupervisor) => "待稽核單位主管簽章",
            Self::AwaitingReview => "待局長核閱",
            Self::Reviewed => "局長已核閱",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Self::Documents => "collecting documents",
            Self::Opinions => "recording opinions",
            Self::SigningOff(SignOffStep::Querier) => "awaiting the querier's sign-off",
            Self::SigningOff(SignOffStep::Auditor) => "awaiting the auditor's sign-off",
            Self::SigningOff(SignOffStep::QuerierSupervisor) => {
                "awaiting the querier's supervisor's sign-off"
            }
            Self::SigningOff(SignOffStep::AuditingSupervisor) => {
                "awaiting the auditing unit's supervisor's sign-off"
            }
            Self::AwaitingReview => "awaiting the director's review",
            Self::Reviewed => "reviewed by the director",
        }
    }
}

/// An auditor's opinion on one sampled case.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CaseOpinion {
    /// The case was handled by the rules (registered, approved before the query, used for its
    /// purpose, documented).
    pub conforms: bool,
    pub text: String,
    pub by: PersonId,
}

/// The overall audit opinion (稽核意見). `violation_found` is what a violation case is filed
/// from (§8 ¶2).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OverallOpinion {
    pub violation_found: bool,
    pub text: String,
    pub by: PersonId,
}

/// One sampled case: a registration (Form 2 row) the querier executed in the period.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AuditCase {
    pub registration: RegistrationId,
    pub no: RegistrationNo,
    /// Position in the draw (1 = drawn first).
    pub position: u32,
    /// The weight it was drawn with (1 for a uniform draw).
    pub weight: u32,
    pub opinion: Option<CaseOpinion>,
}

/// One sign-off as given.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignOff {
    pub step: SignOffStep,
    pub by: PersonId,
    pub at: jiff::Timestamp,
}

/// The director's review (局長核閱).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DirectorReview {
    pub by: PersonId,
    pub at: jiff::Timestamp,
    pub comment: Option<String>,
}

/// Form 4's header fields, checked.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AuditPlan {
    /// 稽核期間 (from–to).
    pub period_from: RocDate,
    pub period_to: RocDate,
    /// 稽核日期.
    pub audit_date: RocDate,
    /// 受稽核者.
    pub querier: PersonId,
    /// 稽核單位 and its 電話.
    pub auditing_unit: UnitId,
    pub auditing_unit_phone: String,
    /// 稽核人員.
    pub auditors: Vec<PersonId>,
    /// 資料繳交期限.
    pub documents_deadline: RocDate,
    /// 稽核件數 asked for (the draw takes fewer if fewer cases exist).
    pub cases: u32,
    pub method: SamplingMethod,
}

/// An audit as stored and shown: Form 4 with its cases, opinions, sign-offs and review.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnannouncedAudit {
    pub id: AuditId,
    pub plan: AuditPlan,
    /// The querier's unit when the audit opened (使用單位).
    pub querier_unit: UnitId,
    pub opened_by: PersonId,
    pub opened_at: jiff::Timestamp,
    /// The seed the sample was drawn with; [`draw_sample`] with it gives the same cases.
    pub seed: u64,
    /// Every case the sample was drawn from, with its weight ([`draw_repeats`] checks the
    /// draw against them).
    pub candidates: Vec<(RegistrationId, u32)>,
    pub cases: Vec<AuditCase>,
    pub state: AuditState,
    pub overall: Option<OverallOpinion>,
    pub sign_offs: Vec<SignOff>,
    pub review: Option<DirectorReview>,
}

impl UnannouncedAudit {
    pub fn is_auditor(&self, p: PersonId) -> bool {
        self.plan.auditors.contains(&p)
    }

    pub fn case(&self, r: RegistrationId) -> Option<&AuditCase> {
        self.cases.iter().find(|c| c.registration == r)
    }

    fn writable(&self) -> Result<(), AuditRefusal> {
        if self.state == AuditState::Reviewed {
            Err(AuditRefusal::ReadOnly)
        } else {
            Ok(())
        }
    }
}

/// A case the querier executed in the period, as the draw and the party checks see it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Candidate {
    pub registration: RegistrationId,
    pub no: RegistrationNo,
    /// The unit whose supervisor approved (§5).
    pub approving_unit: UnitId,
    /// Everyone who approved it.
    pub approvers: Vec<PersonId>,
    /// Weight for a weighted draw (0: drawn only once every weighted case is drawn).
    pub weight: u32,
}

/// The capability to open audits: held by the IT group's permission administrator and the
/// ethics office's auditors (§8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditOffice {
    person: PersonId,
}

impl AuditOffice {
    pub fn person(&self) -> PersonId {
        self.person
    }
}

fn audits_by_role(p: &Person) -> bool {
    p.has_role(Role::PermissionAdministrator) || p.has_role(Role::EthicsAuditor)
}

/// §8: the IT group (資訊小組) with the ethics office (政風室) audits.
pub fn audit_office(actor: &Person) -> Result<AuditOffice, AuditRefusal> {
    if audits_by_role(actor) {
        Ok(AuditOffice { person: actor.id })
    } else {
        Err(AuditRefusal::NotAuditOffice)
    }
}

/// The capability to review audit records: the director (局長, §8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectorChair {
    person: PersonId,
}

impl DirectorChair {
    pub fn person(&self) -> PersonId {
        self.person
    }
}

/// §8: the director reviews and files the audit record.
pub fn director_chair(actor: &Person) -> Result<DirectorChair, AuditRefusal> {
    if actor.has_role(Role::Director) {
        Ok(DirectorChair { person: actor.id })
    } else {
        Err(AuditRefusal::NotDirector)
    }
}

fn required_text(field: &'static str, s: &str) -> Result<String, AuditRefusal> {
    let s = s.trim();
    if s.is_empty() {
        return Err(AuditRefusal::MissingField(field));
    }
    optional_text(field, s).map(|t| t.unwrap_or_default())
}

/// Trims; empty is `None`; longer than [`MAX_TEXT_CHARS`] is refused.
pub fn optional_text(field: &'static str, s: &str) -> Result<Option<String>, AuditRefusal> {
    let s = s.trim();
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(AuditRefusal::TextTooLong(field));
    }
    Ok((!s.is_empty()).then(|| s.to_string()))
}

/// Checks Form 4's header: dates in order, an auditing unit of the IT group or the ethics
/// office with a telephone, 1..=[`MAX_AUDITORS`] auditors each holding an auditing role, and
/// a case count in range. `auditors` are the named people as loaded; `unit_kind` is the
/// auditing unit's kind.
pub fn check_plan(
    plan: &AuditPlan,
    unit_kind: Option<UnitKind>,
    auditors: &[Person],
) -> Result<(), AuditRefusal> {
    if plan.period_from > plan.period_to || plan.period_to > plan.audit_date {
        return Err(AuditRefusal::Period);
    }
    if plan.documents_deadline < plan.audit_date {
        return Err(AuditRefusal::Deadline);
    }
    if !matches!(
        unit_kind,
        Some(UnitKind::ItGroup) | Some(UnitKind::EthicsOffice)
    ) {
        return Err(AuditRefusal::AuditingUnit);
    }
    required_text("稽核單位電話", &plan.auditing_unit_phone)?;
    if plan.auditing_unit_phone.chars().count() > 40 {
        return Err(AuditRefusal::TextTooLong("稽核單位電話"));
    }
    let distinct: BTreeSet<PersonId> = plan.auditors.iter().copied().collect();
    if distinct.is_empty()
        || distinct.len() > MAX_AUDITORS
        || distinct.len() != plan.auditors.len()
        || auditors.len() != distinct.len()
    {
        return Err(AuditRefusal::AuditorsRequired);
    }
    if !auditors.iter().all(audits_by_role) {
        return Err(AuditRefusal::AuditorWithoutRole);
    }
    if !(1..=MAX_CASES).contains(&plan.cases) {
        return Err(AuditRefusal::CaseCount);
    }
    Ok(())
}

/// MISSION.md "Roles", separation of duties: nobody audits themselves, their own unit's
/// approvals, or a case they approved. `people` are the opener and the auditors with their
/// units; `candidates` every case of the querier in the period (so the answer does not hang
/// on the luck of the draw).
pub fn check_parties(
    people: &[(PersonId, UnitId)],
    querier: PersonId,
    querier_unit: &UnitId,
    candidates: &[Candidate],
) -> Result<(), AuditRefusal> {
    for (p, unit) in people {
        if *p == querier {
            return Err(AuditRefusal::AuditsThemselves);
        }
        if unit == querier_unit || candidates.iter().any(|c| &c.approving_unit == unit) {
            return Err(AuditRefusal::OwnUnit);
        }
        if candidates.iter().any(|c| c.approvers.contains(p)) {
            return Err(AuditRefusal::ApprovedCase);
        }
    }
    Ok(())
}

/// A uniform draw in `0..n` (n > 0) without modulo bias: rejection of the top partial block.
fn below(rng: &mut ChaCha20Rng, n: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % n;
        }
    }
}

/// §8: draws `count` distinct cases (all of them if fewer exist) from `candidates`, returning
/// them in draw order. The candidates are put in registration-id order first and the random
/// stream is ChaCha20 from `seed`, so the same seed and candidates always give the same
/// sample, whoever repeats it.
///
/// Uniform: a partial Fisher–Yates shuffle. Weighted: each draw picks among the remaining
/// cases with probability proportional to their weight; once only weight-0 cases remain, the
/// rest are drawn uniformly.
pub fn draw_sample(
    candidates: &[Candidate],
    count: usize,
    method: SamplingMethod,
    seed: u64,
) -> Vec<RegistrationId> {
    let pool: Vec<(RegistrationId, u32)> = candidates
        .iter()
        .map(|c| (c.registration, c.weight))
        .collect();
    draw(&pool, count, method, seed)
}

/// [`draw_sample`] over (registration, weight) pairs: what an audit records of its candidates.
pub fn draw(
    candidates: &[(RegistrationId, u32)],
    count: usize,
    method: SamplingMethod,
    seed: u64,
) -> Vec<RegistrationId> {
    let mut pool: Vec<(RegistrationId, u32)> = candidates.to_vec();
    pool.sort_by_key(|c| c.0);
    pool.dedup_by_key(|c| c.0);
    let take = count.min(pool.len());
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(take);
    for _ in 0..take {
        let total: u64 = match method {
            SamplingMethod::Uniform => 0,
            SamplingMethod::Weighted => pool.iter().map(|c| u64::from(c.1)).sum(),
        };
        let index = if total == 0 {
            below(&mut rng, pool.len() as u64) as usize
        } else {
            let mut r = below(&mut rng, total);
            let mut i = 0;
            for (j, c) in pool.iter().enumerate() {
                let w = u64::from(c.1);
                if r < w {
                    i = j;
                    break;
                }
                r -= w;
            }
            i
        };
        out.push(pool.remove(index).0);
    }
    out
}

/// §8: anyone can check the sample: the draw repeated from the audit's recorded candidates,
/// weights and seed gives exactly its cases, in order.
pub fn draw_repeats(audit: &UnannouncedAudit) -> bool {
    let mut drawn: Vec<&AuditCase> = audit.cases.iter().collect();
    drawn.sort_by_key(|c| c.position);
    let cases: Vec<RegistrationId> = drawn.iter().map(|c| c.registration).collect();
    draw(
        &audit.candidates,
        audit.plan.cases as usize,
        audit.plan.method,
        audit.seed,
    ) == cases
}

/// What kind of document an attachment is, by its first bytes (never by its name).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DocumentKind {
    Pdf,
    Png,
    Jpeg,
}

impl DocumentKind {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    pub fn parse_content_type(s: &str) -> Option<Self> {
        [Self::Pdf, Self::Png, Self::Jpeg]
            .into_iter()
            .find(|k| k.content_type() == s)
    }

    /// The kind the magic bytes say, if it is one accepted.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else {
            None
        }
    }
}

/// Checks an attachment before anything is stored: a plain file name (no path, no control
/// characters, not `.`/`..`), not empty, at most `max_bytes`, and a PDF, PNG or JPEG by its
/// magic bytes. Returns the kind and the trimmed name.
pub fn check_document(
    file_name: &str,
    bytes: &[u8],
    max_bytes: u64,
) -> Result<(DocumentKind, String), AuditRefusal> {
    let name = file_name.trim();
    if name.contains('/') || name.contains('\\') || name == "." || name == ".." {
        return Err(AuditRefusal::NameWithPath);
    }
    if name.is_empty()
        || name.chars().count() > MAX_FILE_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AuditRefusal::BadFileName);
    }
    if bytes.is_empty() {
        return Err(AuditRefusal::EmptyFile);
    }
    if bytes.len() as u64 > max_bytes {
        return Err(AuditRefusal::TooLarge(max_bytes));
    }
    let kind = DocumentKind::sniff(bytes).ok_or(AuditRefusal::WrongFileType)?;
    Ok((kind, name.to_string()))
}

/// §8 note on Form 4: the querier attaches the documents for a sampled case by the deadline,
/// while documents are open.
pub fn may_attach(
    audit: &UnannouncedAudit,
    by: PersonId,
    case: RegistrationId,
    today: RocDate,
) -> Result<(), AuditRefusal> {
    audit.writable()?;
    if by != audit.plan.querier {
        return Err(AuditRefusal::NotQuerier);
    }
    if audit.state != AuditState::Documents {
        return Err(AuditRefusal::DocumentsClosed);
    }
    if today > audit.plan.documents_deadline {
        return Err(AuditRefusal::DeadlinePassed);
    }
    if audit.case(case).is_none() {
        return Err(AuditRefusal::CaseNotSampled);
    }
    Ok(())
}

/// The querier says the documents are complete; documents close. Returns the new state.
pub fn submit_documents(
    audit: &UnannouncedAudit,
    by: PersonId,
) -> Result<AuditState, AuditRefusal> {
    audit.writable()?;
    if by != audit.plan.querier {
        return Err(AuditRefusal::NotQuerier);
    }
    if audit.state != AuditState::Documents {
        return Err(AuditRefusal::DocumentsClosed);
    }
    Ok(AuditState::Opinions)
}

/// Opinions open once the documents are submitted or the deadline has passed.
fn opinions_open(audit: &UnannouncedAudit, today: RocDate) -> bool {
    match audit.state {
        AuditState::Opinions => true,
        AuditState::Documents => today > audit.plan.documents_deadline,
        _ => false,
    }
}

/// An auditor of this audit records (or amends) the opinion on a sampled case. Returns the
/// new state (documents close if they were still open past the deadline).
pub fn may_record_case_opinion(
    audit: &UnannouncedAudit,
    by: PersonId,
    case: RegistrationId,
    today: RocDate,
) -> Result<AuditState, AuditRefusal> {
    audit.writable()?;
    if !audit.is_auditor(by) {
        return Err(AuditRefusal::NotAssignedAuditor);
    }
    if !opinions_open(audit, today) {
        return Err(AuditRefusal::OpinionsNotOpen);
    }
    if audit.case(case).is_none() {
        return Err(AuditRefusal::CaseNotSampled);
    }
    Ok(AuditState::Opinions)
}

/// An auditor records the overall opinion once every case has one; the sign-offs begin.
pub fn may_record_overall(
    audit: &UnannouncedAudit,
    by: PersonId,
) -> Result<AuditState, AuditRefusal> {
    audit.writable()?;
    if !audit.is_auditor(by) {
        return Err(AuditRefusal::NotAssignedAuditor);
    }
    if audit.state != AuditState::Opinions {
        return Err(AuditRefusal::OpinionsNotOpen);
    }
    if audit.cases.iter().any(|c| c.opinion.is_none()) {
        return Err(AuditRefusal::CasesWithoutOpinion);
    }
    Ok(AuditState::SigningOff(SignOffStep::Querier))
}

/// Checks opinion text: required, at most [`MAX_TEXT_CHARS`].
pub fn opinion_text(s: &str) -> Result<String, AuditRefusal> {
    required_text("稽核意見", s)
}

/// Who may sign the supervisors' steps, as the organisation says today.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signers {
    /// Supervisors from the querier's unit upwards (its own first).
    pub querier_supervisors: Vec<PersonId>,
    /// Supervisors from the auditing unit upwards.
    pub auditing_supervisors: Vec<PersonId>,
    /// 局長: signs a supervisor's step when no other supervisor can.
    pub director: Option<PersonId>,
}

/// The person who signs `step` of `audit`: the querier; any of the auditors (`None`); or the
/// first supervisor up the unit tree who is not the querier, not an auditor (for the querier's
/// supervisor) and has not signed already, else the director.
pub fn designated_signer(
    audit: &UnannouncedAudit,
    step: SignOffStep,
    signers: &Signers,
) -> Option<PersonId> {
    let signed: BTreeSet<PersonId> = audit.sign_offs.iter().map(|s| s.by).collect();
    let pick = |list: &[PersonId], exclude_auditors: bool| {
        list.iter()
            .copied()
            .find(|p| {
                *p != audit.plan.querier
                    && !signed.contains(p)
                    && !(exclude_auditors && audit.is_auditor(*p))
            })
            .or(signers.director)
    };
    match step {
        SignOffStep::Querier => Some(audit.plan.querier),
        SignOffStep::Auditor => None,
        SignOffStep::QuerierSupervisor => pick(&signers.querier_supervisors, true),
        SignOffStep::AuditingSupervisor => pick(&signers.auditing_supervisors, false),
    }
}

/// Form 4's sign-offs, in order: querier, auditor, the querier's unit supervisor, the auditing
/// unit's supervisor. Returns the state after this one.
pub fn sign_off(
    audit: &UnannouncedAudit,
    step: SignOffStep,
    by: PersonId,
    signers: &Signers,
) -> Result<AuditState, AuditRefusal> {
    audit.writable()?;
    let AuditState::SigningOff(current) = audit.state else {
        return Err(AuditRefusal::NotSigningOff);
    };
    if step != current {
        return Err(AuditRefusal::SignOffOutOfOrder(current));
    }
    let allowed = match step {
        SignOffStep::Auditor => audit.is_auditor(by),
        _ => designated_signer(audit, step, signers) == Some(by),
    };
    if !allowed {
        return Err(AuditRefusal::NotSigner);
    }
    Ok(match step.next() {
        Some(next) => AuditState::SigningOff(next),
        None => AuditState::AwaitingReview,
    })
}

/// §8: the director reviews the fully signed record; it is read-only afterwards.
pub fn review(
    audit: &UnannouncedAudit,
    _chair: &DirectorChair,
) -> Result<AuditState, AuditRefusal> {
    audit.writable()?;
    if audit.state != AuditState::AwaitingReview {
        return Err(AuditRefusal::NotAwaitingReview);
    }
    Ok(AuditState::Reviewed)
}

/// Who may read an audit: its querier (only once it is opened, which is when it exists),
/// opener, auditors and signers, the IT group and ethics office, and the director.
pub fn may_read(
    audit: &UnannouncedAudit,
    reader: &Person,
    signers: &Signers,
) -> Result<(), AuditRefusal> {
    let p = reader.id;
    let party = p == audit.plan.querier
        || p == audit.opened_by
        || audit.is_auditor(p)
        || audit.sign_offs.iter().any(|s| s.by == p)
        || designated_signer(audit, SignOffStep::QuerierSupervisor, signers) == Some(p)
        || designated_signer(audit, SignOffStep::AuditingSupervisor, signers) == Some(p);
    if party || audits_by_role(reader) || reader.has_role(Role::Director) {
        Ok(())
    } else {
        Err(AuditRefusal::NotVisible)
    }
}

/// Candidates' weights from a map by registration (absent: 0).
pub fn with_weights(
    mut candidates: Vec<Candidate>,
    weights: &BTreeMap<RegistrationId, u32>,
) -> Vec<Candidate> {
    for c in &mut candidates {
        c.weight = weights.get(&c.registration).copied().unwrap_or(0);
    }
    candidates
}

#[cfg(test)]
mod tests;
