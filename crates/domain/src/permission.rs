//! Query permissions (§2, Form 1 資料查詢者權限申請表): applications, their approval chain, and
//! the capabilities that let a person act on a step.
//!
//! Owns [`PermissionApplication`] (申請表) with every Form 1 field, [`FormNumber`] (表單編號,
//! `115-0001`), the approval chain as a state machine ([`ApplicationState`], [`submit`],
//! [`check_approver`] → [`ApproverAtStep`], [`decide`], [`withdraw`]) and the one refusal type
//! of the area, [`PermissionRefusal`] (stable code + zh-TW message). Grants, personnel changes
//! and recertification live in the submodules.
//!
//! Security-sensitive: this is where separation of duties (MISSION.md "Roles") is enforced for
//! permissions. Pure: no clock, no storage; `today`/`now` come in as arguments.
//!
//! # The chain (Form 1 sign-offs)
//!
//! `Draft → Pending(UnitSupervisor) → Pending(PermissionAdministrator) → Pending(Countersign) →
//! Approved`. A refusal at any step ends the application as `Refused { step, reason }`. The
//! administrator's third option, 其他 ("other, with a note"), returns the application to the
//! applicant (`Returned`), who may amend and resubmit (the chain starts again in a new round)
//! or withdraw. The applicant may withdraw while it is a draft, returned, or pending at the
//! first two steps — not once it waits for the last step (countersign).
//!
//! Who acts at each step is not stored but resolved from the [`Roster`] when needed, so a new
//! supervisor takes over an open inbox at once:
//!
//! - 單位主管: the supervisor of the applicant's unit — or, while the supervisor is absent,
//!   the unit's 代理人 in force; if that unit has neither (or the supervisor is the
//!   applicant), the supervisor of its parent unit, and so on up; finally the director. The
//!   same walk ([`Roster::supervisor_signers`]) chooses the approver of a Form 2 row (§5 ¶1).
//! - 權限管理者: the permission administrator; for the administrator's own application, the
//!   configured deputy (代理人).
//! - 權限管理單位主管 (countersign): the supervisor of the administrator's unit, walking up
//!   (資訊小組 → 秘書室); then anyone holding the permission-administrator-supervisor role;
//!   finally the director.
//!
//! At every step the applicant and whoever already signed in this round are skipped, which is
//! how "supervisor and countersigner must be different people" is kept even when one person
//! supervises both units.

pub mod acting;
pub mod grant;
pub mod personnel;
pub mod recertification;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::NationalId;
use crate::audit_event::SubjectDigest;
use crate::catalogue::{ServiceItem, ServiceItemCode};
use crate::org::{PersonId, Role, StaffStatus, UnitId};
use crate::roc_date::RocDate;

pub use grant::{
    GrantId, GrantPlan, GrantStatus, PermissionGrant, SuspensionCause, active_items, holds_grant,
    plan_for_approval,
};

/// Longest free text accepted in a Form 1 field (reason, comment, note).
pub const MAX_TEXT_CHARS: usize = 1000;

/// Why a permission action is refused: the rule, as a stable code and a zh-TW message. Messages
/// never carry personal data (an item code or a step name at most).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionRefusal {
    #[error("查調項目 {0} 不在項目清單中或已停用")]
    UnknownItem(ServiceItemCode),
    #[error("新增權限與異動查調項目須至少勾選一個查調項目")]
    ItemsRequired,
    #[error("須勾選「已詳閱個人資料保護法及本要點」與「已備妥可用之自然人憑證及讀卡機」方可送出")]
    ConfirmationsMissing,
    #[error("未填寫「{0}」")]
    MissingField(&'static str),
    #[error("「{0}」超過 {MAX_TEXT_CHARS} 字")]
    TextTooLong(&'static str),
    #[error("申請表上的身分證統一編號與人事資料不符")]
    NationalIdMismatch,
    #[error("帳號已停用或非在職狀態，不得申請權限")]
    ApplicantDisabled,
    #[error("只有申請人本人可以送出、修改或撤回申請表")]
    NotApplicant,
    #[error("申請表已送出，不得重複送出")]
    AlreadySubmitted,
    #[error("申請表不在待簽核狀態")]
    NotPending,
    #[error("申請表已進入其他關卡，請重新開啟後再簽核")]
    StaleStep,
    #[error("您不是此關卡（{0}）的簽核人")]
    WrongApprover(Step),
    #[error("簽核人帳號已停用或非在職狀態")]
    ApproverDisabled,
    #[error("找不到可簽核此關卡（{0}）的人員，請洽權限管理者設定單位主管")]
    NoEligibleApprover(Step),
    #[error("權限管理者本人的申請須由代理人處理，但尚未設定代理人")]
    NoDeputy,
    #[error("職務分離：不得簽核自己的申請")]
    OwnApplication,
    #[error("職務分離：權限管理者不得處理自己的申請，應由代理人處理")]
    AdministratorOwnApplication,
    #[error("職務分離：單位主管與權限管理單位主管不得為同一人")]
    SupervisorCountersigns,
    #[error("職務分離：同一人不得簽核同一申請的兩個關卡")]
    TwoSteps,
    #[error("核准時須指定生效日期")]
    EffectiveDateRequired,
    #[error("生效日期不得早於今天")]
    EffectiveDateInPast,
    #[error("生效日期早於核定日期，請指定新的生效日期")]
    EffectiveDateBeforeApproval,
    #[error("此關卡（{0}）不能做這種決定")]
    DecisionNotAllowed(Step),
    #[error("不同意或其他時須填寫理由或說明")]
    ReasonRequired,
    #[error("申請已進入最後關卡（權限管理單位主管），不得撤回")]
    WithdrawTooLate,
    #[error("此功能限權限管理者或其主管使用")]
    NotAdministrator,
    #[error("此功能限單位主管使用")]
    NotSupervisor,
    #[error("人員狀態不能由「{from}」改為「{to}」")]
    InvalidTransition {
        from: &'static str,
        to: &'static str,
    },
    #[error("人員狀態與單位未改變")]
    NoChange,
    #[error("本季複核已開始，不得重複開啟")]
    RoundAlreadyOpen,
    #[error("複核已結束，不得再確認")]
    RoundClosed,
    #[error("此授權不在本次複核範圍內")]
    NotInRound,
    #[error("只有負責此複核的單位主管可以確認")]
    NotRoundOwner,
    #[error("複核期限 {0} 尚未屆至，不得結束")]
    RoundDeadlineNotReached(String),
    #[error("權限管理單位主管只能在原生效日期已過時，改為較晚的生效日期")]
    EffectiveDateNotReplaceable,
    #[error("代理人只能處理權限管理者本人的申請，或在權限管理者登記請假期間代理")]
    DeputyOutOfScope,
}

impl PermissionRefusal {
    /// Stable code for machines and for the audit record's outcome (`refused:<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownItem(_) => "permission.unknown_item",
            Self::ItemsRequired => "permission.items_required",
            Self::ConfirmationsMissing => "permission.confirmations_missing",
            Self::MissingField(_) => "permission.missing_field",
            Self::TextTooLong(_) => "permission.text_too_long",
            Self::NationalIdMismatch => "permission.national_id_mismatch",
            Self::ApplicantDisabled => "permission.applicant_disabled",
            Self::NotApplicant => "permission.not_applicant",
            Self::AlreadySubmitted => "permission.already_submitted",
            Self::NotPending => "permission.not_pending",
            Self::StaleStep => "permission.stale_step",
            Self::WrongApprover(_) => "permission.wrong_approver",
            Self::ApproverDisabled => "permission.approver_disabled",
            Self::NoEligibleApprover(_) => "permission.no_eligible_approver",
            Self::NoDeputy => "permission.no_deputy",
            Self::OwnApplication => "sod.own_application",
            Self::AdministratorOwnApplication => "sod.administrator_own_application",
            Self::SupervisorCountersigns => "sod.supervisor_countersigns",
            Self::TwoSteps => "sod.two_steps",
            Self::EffectiveDateRequired => "permission.effective_date_required",
            Self::EffectiveDateInPast => "permission.effective_date_in_past",
            Self::EffectiveDateBeforeApproval => "permission.effective_date_before_approval",
            Self::DecisionNotAllowed(_) => "permission.decision_not_allowed",
            Self::ReasonRequired => "permission.reason_required",
            Self::WithdrawTooLate => "permission.withdraw_too_late",
            Self::NotAdministrator => "permission.not_administrator",
            Self::NotSupervisor => "permission.not_supervisor",
            Self::InvalidTransition { .. } => "personnel.invalid_transition",
            Self::NoChange => "personnel.no_change",
            Self::RoundAlreadyOpen => "recertification.already_open",
            Self::RoundClosed => "recertification.closed",
            Self::NotInRound => "recertification.not_in_round",
            Self::NotRoundOwner => "recertification.not_owner",
            Self::RoundDeadlineNotReached(_) => "recertification.deadline_not_reached",
            Self::EffectiveDateNotReplaceable => "permission.effective_date_not_replaceable",
            Self::DeputyOutOfScope => "permission.deputy_out_of_scope",
        }
    }

    /// The same message in English, for the English UI and the JSON API's `message_en` (the
    /// zh-TW one is [`Display`](fmt::Display)). Like it, never carries personal data.
    pub fn message_en(&self) -> String {
        match self {
            Self::UnknownItem(i) => {
                format!("Service item {i} is not in the catalogue or is no longer offered")
            }
            Self::ItemsRequired => {
                "A new permission or an item change must name at least one service item".into()
            }
            Self::ConfirmationsMissing => "Confirm that you have read the Personal Data \
                 Protection Act and these rules, and that you have a working citizen \
                 certificate and card reader, before submitting"
                .into(),
            Self::MissingField(f) => format!("\"{}\" is not filled in", term_en(f)),
            Self::TextTooLong(f) => format!(
                "\"{}\" is longer than {MAX_TEXT_CHARS} characters",
                term_en(f)
            ),
            Self::NationalIdMismatch => {
                "The national ID on the form does not match the staff record".into()
            }
            Self::ApplicantDisabled => {
                "A disabled or out-of-service account cannot apply for permissions".into()
            }
            Self::NotApplicant => {
                "Only the applicant may submit, amend or withdraw the application".into()
            }
            Self::AlreadySubmitted => "The application has already been submitted".into(),
            Self::NotPending => "The application is not awaiting a decision".into(),
            Self::StaleStep => {
                "The application has moved to another step; reopen it before deciding".into()
            }
            Self::WrongApprover(s) => {
                format!("You are not the approver of this step ({})", step_en(*s))
            }
            Self::ApproverDisabled => "The approver's account is disabled or out of service".into(),
            Self::NoEligibleApprover(s) => format!(
                "Nobody can decide this step ({}); ask the permission administrator to set up \
                 the unit supervisor",
                step_en(*s)
            ),
            Self::NoDeputy => "The permission administrator's own application goes to a \
                 deputy, but no deputy is configured"
                .into(),
            Self::OwnApplication => {
                "Separation of duties: you may not decide your own application".into()
            }
            Self::AdministratorOwnApplication => "Separation of duties: the permission \
                 administrator may not process their own application; the deputy does"
                .into(),
            Self::SupervisorCountersigns => "Separation of duties: the unit supervisor and the \
                 permission administrator's supervisor must be different people"
                .into(),
            Self::TwoSteps => {
                "Separation of duties: one person may not decide two steps of the same \
                 application"
                    .into()
            }
            Self::EffectiveDateRequired => "Approval needs an effective date".into(),
            Self::EffectiveDateInPast => "The effective date may not be before today".into(),
            Self::EffectiveDateBeforeApproval => {
                "The effective date is before the approval date; set a new effective date".into()
            }
            Self::DecisionNotAllowed(s) => {
                format!("This step ({}) does not allow that decision", step_en(*s))
            }
            Self::ReasonRequired => "Refusing or \"other\" needs a reason or a note".into(),
            Self::WithdrawTooLate => "The application is at its last step (the permission \
                 administrator's supervisor) and can no longer be withdrawn"
                .into(),
            Self::NotAdministrator => {
                "Only the permission administrator or their supervisor may do this".into()
            }
            Self::NotSupervisor => "Only a unit supervisor may do this".into(),
            Self::InvalidTransition { from, to } => format!(
                "A person's status cannot change from \"{}\" to \"{}\"",
                term_en(from),
                term_en(to)
            ),
            Self::NoChange => "Neither the status nor the unit changed".into(),
            Self::RoundAlreadyOpen => "This quarter's recertification is already open".into(),
            Self::RoundClosed => "The recertification is closed; no more decisions".into(),
            Self::NotInRound => "This grant is not part of this recertification".into(),
            Self::NotRoundOwner => {
                "Only the supervisor who owns this recertification may decide it".into()
            }
            Self::RoundDeadlineNotReached(d) => format!(
                "The recertification deadline ({d}) has not passed yet; it cannot be closed"
            ),
            Self::EffectiveDateNotReplaceable => "The countersigner may replace the effective \
                 date only once it has passed, and only by a later one"
                .into(),
            Self::DeputyOutOfScope => "The deputy acts only on the permission administrator's \
                 own applications, or while the administrator's absence is registered"
                .into(),
        }
    }

    /// Whether the rule broken is a separation-of-duties rule (MISSION.md "Roles").
    pub fn is_separation_of_duties(&self) -> bool {
        self.code().starts_with("sod.")
    }
}

/// A step's name in English (the zh-TW one is its `Display`).
fn step_en(s: Step) -> &'static str {
    match s {
        Step::UnitSupervisor => "applicant's unit supervisor",
        Step::PermissionAdministrator => "permission administrator",
        Step::Countersign => "permission administrator's supervisor",
    }
}

/// The English for a zh-TW field or status name a refusal carries; unknown ones are kept.
fn term_en(zh: &str) -> &str {
    match zh {
        "申請事由" => "reason",
        "聯絡電話" => "phone",
        "電子郵件" => "e-mail",
        "電子化政府帳號" => "e-government account",
        "說明" => "note",
        "意見" => "comment",
        "理由" => "reason",
        "在職" => "active",
        "職務異動" => "transferred",
        "留職停薪或長期請假" => "on leave",
        "離職" => "left",
        other => other,
    }
}

/// Form number (表單編號): ROC year and a sequence restarting each year, shown `115-0001`.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct FormNumber {
    roc_year: i16,
    seq: u32,
}

/// Why a text is not a form number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("表單編號應為「民國年-序號」，例如 115-0001")]
pub struct FormNumberError;

impl FormNumber {
    pub fn new(roc_year: i16, seq: u32) -> Result<FormNumber, FormNumberError> {
        if roc_year >= 1 && seq >= 1 {
            Ok(FormNumber { roc_year, seq })
        } else {
            Err(FormNumberError)
        }
    }

    /// `115-0001` (the sequence has at least four digits).
    pub fn parse(s: &str) -> Result<FormNumber, FormNumberError> {
        let (y, n) = s.trim().split_once('-').ok_or(FormNumberError)?;
        let digits =
            |t: &str| !t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(y) || !digits(n) || n.len() < 4 {
            return Err(FormNumberError);
        }
        let y: i16 = y.parse().map_err(|_| FormNumberError)?;
        let n: u32 = n.parse().map_err(|_| FormNumberError)?;
        Self::new(y, n)
    }

    pub fn roc_year(self) -> i16 {
        self.roc_year
    }

    pub fn seq(self) -> u32 {
        self.seq
    }
}

impl fmt::Display for FormNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}", self.roc_year, self.seq)
    }
}

impl Serialize for FormNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FormNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

crate::declare::storage_id!(
    /// An application's storage id (not the form number people see).
    ApplicationId
);

crate::code_enum! {
    /// 申請類別: the four request types of Form 1.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ApplicationKind {
        /// 新增權限: grant the requested items.
        New = "new", "新增權限";
        /// 註銷權限: end every current grant.
        Revoke = "revoke", "註銷權限";
        /// 異動查調項目: the requested items become the person's whole set.
        ChangeItems = "change_items", "異動查調項目";
        /// 職務異動: after a transfer, end the old grants and grant the requested items (if any).
        JobChange = "job_change", "職務異動";
    }
}

impl ApplicationKind {
    /// Form 1: new rights and item changes must name at least one item.
    pub fn requires_items(self) -> bool {
        matches!(self, Self::New | Self::ChangeItems)
    }
}

crate::code_enum! {
    /// The Form 1 sign-off steps after the applicant's own signature.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Step {
        /// 申請人單位主管: consents (§2 "with their supervisor's consent").
        UnitSupervisor = "unit_supervisor", "申請人單位主管";
        /// 權限管理者: approves with an effective date, refuses with a reason, or "other".
        PermissionAdministrator = "permission_admin", "權限管理者";
        /// 權限管理單位主管: countersigns; the last step.
        Countersign = "countersign", "權限管理單位主管";
    }
}

impl Step {
    /// The role a person acts in at this step (for the audit record).
    pub fn role(self) -> Role {
        match self {
            Self::UnitSupervisor => Role::UnitSupervisor,
            Self::PermissionAdministrator => Role::PermissionAdministrator,
            Self::Countersign => Role::PermissionAdminSupervisor,
        }
    }

    fn next(self) -> Option<Step> {
        match self {
            Self::UnitSupervisor => Some(Self::PermissionAdministrator),
            Self::PermissionAdministrator => Some(Self::Countersign),
            Self::Countersign => None,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

/// Where an application stands.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ApplicationState {
    /// 草稿: written, not yet submitted.
    Draft,
    /// 待簽核: waiting for this step.
    Pending { step: Step },
    /// 退回: the administrator chose "other" with a note; the applicant may amend and resubmit.
    Returned { note: String },
    /// 核定: countersigned; grants take effect on `effective_from`.
    Approved { effective_from: RocDate },
    /// 不同意: refused at `step` with `reason` (shown to the applicant).
    Refused { step: Step, reason: String },
    /// 撤回: withdrawn by the applicant.
    Withdrawn,
}

impl ApplicationState {
    /// Stable code of the state (storage, filters).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Pending { .. } => "pending",
            Self::Returned { .. } => "returned",
            Self::Approved { .. } => "approved",
            Self::Refused { .. } => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Pending { .. } => "簽核中",
            Self::Returned { .. } => "退回補正",
            Self::Approved { .. } => "核定",
            Self::Refused { .. } => "不同意",
            Self::Withdrawn => "已撤回",
        }
    }

    /// The step waiting for a decision, if any.
    pub fn pending_step(&self) -> Option<Step> {
        match self {
            Self::Pending { step } => Some(*step),
            _ => None,
        }
    }

    /// Approved, refused or withdrawn: nothing more can happen.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Approved { .. } | Self::Refused { .. } | Self::Withdrawn
        )
    }
}

/// The applicant's two statements on Form 1; both must be true to submit.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Confirmations {
    /// 已詳閱個人資料保護法及本要點.
    pub read_pdpa_and_rules: bool,
    /// 已備妥可用之自然人憑證（已上傳至電子化政府服務平臺）及讀卡機.
    pub has_certificate_and_reader: bool,
}

/// What the applicant writes on Form 1 (the part that is theirs to fill in). Unit, title and
/// name are copied from the staff record by the application layer, not typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationForm {
    pub kind: ApplicationKind,
    /// 申請事由.
    pub reason: String,
    /// 身分證統一編號.
    pub national_id: NationalId,
    /// 聯絡電話.
    pub phone: String,
    /// 電子郵件.
    pub email: String,
    /// 電子化政府帳號 (我的E政府).
    pub egov_account: String,
    /// 申請查調項目.
    pub items: BTreeSet<ServiceItemCode>,
    pub confirmations: Confirmations,
}

/// One sign-off as recorded: who, when, what, and their comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    /// 1 for the first submission; +1 each time a returned application is resubmitted.
    pub round: u32,
    pub step: Step,
    pub by: PersonId,
    pub at: Timestamp,
    pub outcome: StepOutcome,
    /// The effective date the administrator gave (or the countersigner replaced).
    pub effective_from: Option<RocDate>,
    /// Comment, refusal reason or "other" note.
    pub comment: String,
}

crate::code_enum! {
    /// What was decided at a step.
    #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum StepOutcome {
        /// 同意 / 核章.
        Approved = "approved";
        /// 不同意.
        Refused = "refused";
        /// 其他 (administrator only): returned to the applicant with a note.
        Other = "other";
    }
}

/// 資料查詢者權限申請表 (Form 1) as kept: every field of the form, its state and its sign-offs.
///
/// The national ID is never kept in clear: only its keyed HMAC (for matching) and its masked
/// form (for display and the printed form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionApplication {
    pub id: ApplicationId,
    /// 表單編號.
    pub form_number: FormNumber,
    /// 申請日期.
    pub application_date: RocDate,
    pub applicant: PersonId,
    pub kind: ApplicationKind,
    /// 單位 (at the time of application).
    pub unit: UnitId,
    /// 職稱.
    pub title: String,
    /// 姓名.
    pub name: String,
    pub reason: String,
    pub national_id_masked: String,
    pub national_id_digest: SubjectDigest,
    pub phone: String,
    pub email: String,
    pub egov_account: String,
    pub items: BTreeSet<ServiceItemCode>,
    pub confirmations: Confirmations,
    pub state: ApplicationState,
    /// The current round (see [`StepRecord::round`]); 0 while never submitted.
    pub round: u32,
    /// When the current step started waiting (for reminders).
    pub step_since: Option<Timestamp>,
    /// Every sign-off of every round, in order.
    pub steps: Vec<StepRecord>,
}

impl PermissionApplication {
    /// Sign-offs of the current round.
    pub fn current_round_steps(&self) -> impl Iterator<Item = &StepRecord> {
        self.steps.iter().filter(move |s| s.round == self.round)
    }

    fn signed_in_round(&self, step: Step) -> Option<PersonId> {
        self.current_round_steps()
            .find(|s| s.step == step && s.outcome == StepOutcome::Approved)
            .map(|s| s.by)
    }

    /// The effective date the administrator gave in the current round.
    pub fn administrator_effective_from(&self) -> Option<RocDate> {
        self.current_round_steps()
            .filter(|s| s.step == Step::PermissionAdministrator)
            .find_map(|s| s.effective_from)
    }
}

/// Whether a person with this status may take part in the chain (apply, approve). Active and
/// transferred staff may — §2: after a transfer the person files the 職務異動 application and
/// their new supervisor consents; their grants stay suspended until it is approved. Staff on
/// leave and those who left may not.
pub fn in_service(status: StaffStatus) -> bool {
    matches!(status, StaffStatus::Active | StaffStatus::Transferred)
}

/// A person as the chain needs them: who, where, and whether they may act at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    pub id: PersonId,
    pub unit: UnitId,
    /// In service (see [`in_service`]) and the account not disabled.
    pub active: bool,
    pub roles: BTreeSet<Role>,
}

impl Participant {
    /// From a staff record and whether the account is disabled (idle, or by the administrator).
    pub fn from_person(p: &crate::org::Person, account_disabled: bool) -> Participant {
        Participant {
            id: p.id,
            unit: p.unit.clone(),
            active: in_service(p.status) && !account_disabled,
            roles: p.roles.clone(),
        }
    }
}

fn check_text(field: &'static str, value: &str, required: bool) -> Result<(), PermissionRefusal> {
    if required && value.trim().is_empty() {
        return Err(PermissionRefusal::MissingField(field));
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(PermissionRefusal::TextTooLong(field));
    }
    Ok(())
}

/// Checks a Form 1 as written (for a draft or a submission): the fields, the items against the
/// live catalogue, and — when the staff record has it — the national ID against the last four
/// digits on record. Confirmations are checked only at submission ([`submit`]).
pub fn check_form(
    form: &ApplicationForm,
    applicant: &Participant,
    catalogue: &[ServiceItem],
    id_last4_on_record: Option<&str>,
) -> Result<(), PermissionRefusal> {
    // MISSION.md "Roles" / §3: a disabled account cannot apply (bad input).
    if !applicant.active {
        return Err(PermissionRefusal::ApplicantDisabled);
    }
    check_text("申請事由", &form.reason, true)?;
    check_text("聯絡電話", &form.phone, true)?;
    check_text("電子郵件", &form.email, true)?;
    check_text("電子化政府帳號", &form.egov_account, true)?;
    if !form.email.contains('@') {
        return Err(PermissionRefusal::MissingField("電子郵件"));
    }
    if form.kind.requires_items() && form.items.is_empty() {
        return Err(PermissionRefusal::ItemsRequired);
    }
    for item in &form.items {
        if !catalogue.iter().any(|c| &c.code == item && c.active) {
            return Err(PermissionRefusal::UnknownItem(item.clone()));
        }
    }
    if let Some(last4) = id_last4_on_record
        && form.national_id.last4() != last4
    {
        return Err(PermissionRefusal::NationalIdMismatch);
    }
    Ok(())
}

/// Submits (or resubmits after "other") a Form 1: the applicant signs, and it waits for their
/// unit supervisor. §2: the applicant must have read the rules and hold a working certificate
/// and card reader.
pub fn submit(
    app: &PermissionApplication,
    by: &Participant,
    catalogue: &[ServiceItem],
) -> Result<ApplicationState, PermissionRefusal> {
    if by.id != app.applicant {
        return Err(PermissionRefusal::NotApplicant);
    }
    if !by.active {
        return Err(PermissionRefusal::ApplicantDisabled);
    }
    match app.state {
        ApplicationState::Draft | ApplicationState::Returned { .. } => {}
        _ => return Err(PermissionRefusal::AlreadySubmitted),
    }
    if !(app.confirmations.read_pdpa_and_rules && app.confirmations.has_certificate_and_reader) {
        return Err(PermissionRefusal::ConfirmationsMissing);
    }
    if app.kind.requires_items() && app.items.is_empty() {
        return Err(PermissionRefusal::ItemsRequired);
    }
    for item in &app.items {
        if !catalogue.iter().any(|c| &c.code == item && c.active) {
            return Err(PermissionRefusal::UnknownItem(item.clone()));
        }
    }
    Ok(ApplicationState::Pending {
        step: Step::UnitSupervisor,
    })
}

/// Who may act where: the organisation as the chain needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    /// Every unit and its parent.
    pub parents: BTreeMap<UnitId, Option<UnitId>>,
    /// 單位主管 of each unit that has one.
    pub supervisors: BTreeMap<UnitId, PersonId>,
    /// 權限管理者 (§7: one per bureau).
    pub administrator: Option<PersonId>,
    /// The administrator's unit (資訊小組).
    pub administrator_unit: Option<UnitId>,
    /// 代理人: handles the administrator's own applications.
    pub deputy: Option<PersonId>,
    /// Holders of the 權限管理單位主管 role, the fallback countersigners.
    pub admin_supervisors: Vec<PersonId>,
    /// 局長, the last resort at the supervisor and countersign steps.
    pub director: Option<PersonId>,
    /// People who cannot act (not in service, or account disabled).
    pub inactive: BTreeSet<PersonId>,
    /// 代理人 of each unit's supervisor whose registered period covers the day this roster
    /// was loaded for (see [`acting::DeputyTerm::in_force`]).
    pub unit_deputies: BTreeMap<UnitId, PersonId>,
}

/// Supervisors from `unit` upwards through `parents` (the unit's own first), without repeats:
/// the roster's walk, and the one of the unannounced audits' sign-off steps (§8).
pub fn supervisors_upwards(
    parents: &BTreeMap<UnitId, Option<UnitId>>,
    supervisors: &BTreeMap<UnitId, PersonId>,
    unit: &UnitId,
) -> Vec<PersonId> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut cur = Some(unit.clone());
    while let Some(u) = cur {
        if !seen.insert(u.clone()) {
            break; // a cycle in bad data must not loop forever
        }
        if let Some(p) = supervisors.get(&u)
            && !out.contains(p)
        {
            out.push(*p);
        }
        cur = parents.get(&u).cloned().flatten();
    }
    out
}

impl Roster {
    /// Supervisors from `unit` upwards (the unit's own first), without repeats.
    pub fn supervisors_upwards(&self, unit: &UnitId) -> Vec<PersonId> {
        supervisors_upwards(&self.parents, &self.supervisors, unit)
    }

    /// The units a supervisor answers for: those they supervise, plus descendants that have no
    /// supervisor of their own (as 資訊小組 under 秘書室).
    pub fn supervised_units(&self, person: PersonId) -> BTreeSet<UnitId> {
        self.parents
            .keys()
            .filter(|u| self.supervisors_upwards(u).first() == Some(&person))
            .cloned()
            .collect()
    }

    fn candidates(&self, app: &PermissionApplication, step: Step) -> Vec<acting::Signer> {
        let own = |person| acting::Signer {
            person,
            acting: false,
            acting_for: None,
        };
        let mut out = Vec::new();
        match step {
            Step::UnitSupervisor => {
                // §2 and §5 ¶1 share one walk: supervisor, deputy in force, parent, director.
                let applicant = app.applicant;
                out.extend(self.supervisor_signers(&app.unit, |p| p == applicant));
            }
            Step::PermissionAdministrator => {
                out.extend(self.administrator.map(own));
                // §7: the administrator's 代理人 signs in their place.
                out.extend(self.deputy.map(|person| acting::Signer {
                    person,
                    acting: true,
                    acting_for: self.administrator,
                }));
            }
            Step::Countersign => {
                if let Some(u) = &self.administrator_unit {
                    out.extend(self.supervisors_upwards(u).into_iter().map(own));
                }
                out.extend(self.admin_supervisors.iter().copied().map(own));
                out.extend(self.director.map(own));
            }
        }
        out
    }
}

/// The person who must act at the application's pending step: the first candidate (see the
/// module doc) who is not the applicant, has not signed in this round, and is active.
pub fn designated_approver(
    app: &PermissionApplication,
    roster: &Roster,
) -> Result<PersonId, PermissionRefusal> {
    designated_signer(app, roster).map(|s| s.person)
}

/// [`designated_approver`] with whether they sign as 代理 (in the place of the supervisor or
/// of the permission administrator), so that a waiting step names the person as they sign.
pub fn designated_signer(
    app: &PermissionApplication,
    roster: &Roster,
) -> Result<acting::Signer, PermissionRefusal> {
    let step = app
        .state
        .pending_step()
        .ok_or(PermissionRefusal::NotPending)?;
    let signed: BTreeSet<PersonId> = app.current_round_steps().map(|s| s.by).collect();
    let found = roster.candidates(app, step).into_iter().find(|s| {
        s.person != app.applicant
            && !signed.contains(&s.person)
            && !roster.inactive.contains(&s.person)
    });
    match found {
        Some(s) => Ok(s),
        None if let Some(d) = director_countersigns_own(app, roster) => Ok(acting::Signer {
            person: d,
            acting: false,
            acting_for: None,
        }),
        // The administrator's own application with no deputy set: say so precisely.
        None if step == Step::PermissionAdministrator
            && roster.administrator == Some(app.applicant) =>
        {
            Err(PermissionRefusal::NoDeputy)
        }
        None => Err(PermissionRefusal::NoEligibleApprover(step)),
    }
}

/// §2, Form 1: the application of the administrator's supervisor — who would countersign it
/// themselves — goes to the next level up at the countersign, as the administrator's own goes
/// to the deputy: the director, even though the director also consented as the applicant's
/// supervisor because nobody else stands above the applicant. Only then; whenever anyone
/// else could countersign, the two signatures stay two people.
fn director_countersigns_own(app: &PermissionApplication, roster: &Roster) -> Option<PersonId> {
    if app.state.pending_step() != Some(Step::Countersign) {
        return None;
    }
    let director = roster.director?;
    if director == app.applicant || roster.inactive.contains(&director) {
        return None;
    }
    let someone_else = roster
        .candidates(app, Step::Countersign)
        .into_iter()
        .map(|s| s.person)
        .any(|p| p != director && p != app.applicant && !roster.inactive.contains(&p));
    let director_steps: Vec<Step> = app
        .current_round_steps()
        .filter(|s| s.by == director)
        .map(|s| s.step)
        .collect();
    (!someone_else && director_steps == [Step::UnitSupervisor]).then_some(director)
}

/// The capability to decide one step of one application (one round), held by the person
/// designated for it. Only [`check_approver`] makes one; [`decide`] requires it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApproverAtStep {
    application: ApplicationId,
    round: u32,
    step: Step,
    person: PersonId,
}

impl ApproverAtStep {
    pub fn application(&self) -> ApplicationId {
        self.application
    }

    pub fn step(&self) -> Step {
        self.step
    }

    pub fn person(&self) -> PersonId {
        self.person
    }

    pub fn round(&self) -> u32 {
        self.round
    }
}

/// May `actor` act on the application's pending step now? Separation-of-duties rules are
/// checked before "wrong approver", so the refusal names the rule actually broken.
pub fn check_approver(
    app: &PermissionApplication,
    actor: &Participant,
    roster: &Roster,
) -> Result<ApproverAtStep, PermissionRefusal> {
    let step = app
        .state
        .pending_step()
        .ok_or(PermissionRefusal::NotPending)?;
    if !actor.active {
        return Err(PermissionRefusal::ApproverDisabled);
    }
    // MISSION.md "Roles": nobody approves their own application; the permission administrator
    // cannot process their own (it goes to the deputy).
    if actor.id == app.applicant {
        return Err(if step == Step::PermissionAdministrator {
            PermissionRefusal::AdministratorOwnApplication
        } else {
            PermissionRefusal::OwnApplication
        });
    }
    // Form 1: the applicant's supervisor and the administrator's supervisor are two
    // signatures — except for the countersigner's own application (see
    // `director_countersigns_own`).
    let own_countersigner = director_countersigns_own(app, roster) == Some(actor.id);
    if step == Step::Countersign
        && !own_countersigner
        && app.signed_in_round(Step::UnitSupervisor) == Some(actor.id)
    {
        return Err(PermissionRefusal::SupervisorCountersigns);
    }
    if !own_countersigner && app.current_round_steps().any(|s| s.by == actor.id) {
        return Err(PermissionRefusal::TwoSteps);
    }
    let designated = designated_approver(app, roster)?;
    if designated != actor.id {
        return Err(PermissionRefusal::WrongApprover(step));
    }
    Ok(ApproverAtStep {
        application: app.id,
        round: app.round,
        step,
        person: actor.id,
    })
}

/// A decision at a step, as the approver submits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepDecision {
    /// 同意. The administrator must give the effective date; the countersigner may replace it
    /// (needed when it has passed while the application waited); the supervisor gives none.
    Approve {
        effective_from: Option<RocDate>,
        comment: String,
    },
    /// 不同意, with the reason shown to the applicant.
    Refuse { reason: String },
    /// 其他 (administrator only): returned to the applicant with a note.
    Other { note: String },
}

/// The result of a decision: the sign-off to record and the application's new state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub record: StepRecord,
    pub state: ApplicationState,
}

/// Applies `decision` at the approver's step. `today` is the decision's date in Asia/Taipei.
pub fn decide(
    app: &PermissionApplication,
    approver: &ApproverAtStep,
    decision: StepDecision,
    today: RocDate,
    now: Timestamp,
) -> Result<Transition, PermissionRefusal> {
    let step = app
        .state
        .pending_step()
        .ok_or(PermissionRefusal::NotPending)?;
    if approver.application != app.id || approver.round != app.round || approver.step != step {
        return Err(PermissionRefusal::StaleStep);
    }
    let record = |outcome, effective_from, comment: String| StepRecord {
        round: app.round,
        step,
        by: approver.person,
        at: now,
        outcome,
        effective_from,
        comment,
    };
    match decision {
        StepDecision::Refuse { reason } => {
            check_text("理由", &reason, true).map_err(|_| PermissionRefusal::ReasonRequired)?;
            Ok(Transition {
                state: ApplicationState::Refused {
                    step,
                    reason: reason.clone(),
                },
                record: record(StepOutcome::Refused, None, reason),
            })
        }
        StepDecision::Other { note } => {
            if step != Step::PermissionAdministrator {
                return Err(PermissionRefusal::DecisionNotAllowed(step));
            }
            check_text("說明", &note, true).map_err(|_| PermissionRefusal::ReasonRequired)?;
            Ok(Transition {
                state: ApplicationState::Returned { note: note.clone() },
                record: record(StepOutcome::Other, None, note),
            })
        }
        StepDecision::Approve {
            effective_from,
            comment,
        } => {
            check_text("意見", &comment, false)?;
            match step {
                Step::UnitSupervisor => {
                    if effective_from.is_some() {
                        return Err(PermissionRefusal::DecisionNotAllowed(step));
                    }
                    Ok(Transition {
                        state: ApplicationState::Pending {
                            step: Step::PermissionAdministrator,
                        },
                        record: record(StepOutcome::Approved, None, comment),
                    })
                }
                Step::PermissionAdministrator => {
                    // Form 1: 同意（生效日期）— the date is part of the approval, not in the past.
                    let date = effective_from.ok_or(PermissionRefusal::EffectiveDateRequired)?;
                    if date < today {
                        return Err(PermissionRefusal::EffectiveDateInPast);
                    }
                    Ok(Transition {
                        state: ApplicationState::Pending {
                            step: Step::Countersign,
                        },
                        record: record(StepOutcome::Approved, Some(date), comment),
                    })
                }
                Step::Countersign => {
                    let given = app.administrator_effective_from();
                    let date = match effective_from {
                        Some(d) if d < today => return Err(PermissionRefusal::EffectiveDateInPast),
                        Some(d) if Some(d) == given => d,
                        // Form 1: the date is the administrator's. The countersigner replaces
                        // it only when it has passed while the application waited, and only by
                        // a later one — never moving rights earlier than the administrator set.
                        Some(d) => match given {
                            Some(g) if g < today && d > g => d,
                            _ => return Err(PermissionRefusal::EffectiveDateNotReplaceable),
                        },
                        None => given.ok_or(PermissionRefusal::EffectiveDateRequired)?,
                    };
                    // Rights never start before the day they are finally approved.
                    if date < today {
                        return Err(PermissionRefusal::EffectiveDateBeforeApproval);
                    }
                    Ok(Transition {
                        state: ApplicationState::Approved {
                            effective_from: date,
                        },
                        record: record(
                            StepOutcome::Approved,
                            effective_from.filter(|d| Some(*d) != given),
                            comment,
                        ),
                    })
                }
            }
        }
    }
}

/// Withdraws an application (撤回): only the applicant, and only before it reaches the last
/// step.
pub fn withdraw(
    app: &PermissionApplication,
    by: &Participant,
) -> Result<ApplicationState, PermissionRefusal> {
    if by.id != app.applicant {
        return Err(PermissionRefusal::NotApplicant);
    }
    match &app.state {
        ApplicationState::Draft | ApplicationState::Returned { .. } => {
            Ok(ApplicationState::Withdrawn)
        }
        ApplicationState::Pending { step } if step.next().is_some() => {
            Ok(ApplicationState::Withdrawn)
        }
        ApplicationState::Pending { .. } => Err(PermissionRefusal::WithdrawTooLate),
        _ => Err(PermissionRefusal::NotPending),
    }
}

/// Amending a draft or returned application: only the applicant, only before submission.
pub fn may_amend(app: &PermissionApplication, by: &Participant) -> Result<(), PermissionRefusal> {
    if by.id != app.applicant {
        return Err(PermissionRefusal::NotApplicant);
    }
    match app.state {
        ApplicationState::Draft | ApplicationState::Returned { .. } => Ok(()),
        _ => Err(PermissionRefusal::AlreadySubmitted),
    }
}

/// The capability to use the administrator's desk: the overview of all grants, staff
/// imports, idle-account disabling and re-enabling. Held by the 權限管理者 and the
/// 權限管理單位主管; the configured deputy (代理人) holds it only while the administrator's
/// absence is registered (not in service, or the account disabled), and acts as 代理.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdministratorDesk {
    person: PersonId,
    /// The administrator the holder stands in for, when the holder is the deputy.
    acting_for: Option<PersonId>,
}

impl AdministratorDesk {
    pub fn person(&self) -> PersonId {
        self.person
    }

    /// §7: the absent administrator this desk's holder acts for (代理), if they are the deputy;
    /// every record of their acts says so.
    pub fn acting_for(&self) -> Option<PersonId> {
        self.acting_for
    }
}

/// §2, §7: the IT group's administrator (or their deputy or supervisor) manages permissions.
pub fn administrator_desk(
    actor: &Participant,
    roster: &Roster,
) -> Result<AdministratorDesk, PermissionRefusal> {
    if !actor.active {
        return Err(PermissionRefusal::ApproverDisabled);
    }
    if actor.roles.contains(&Role::PermissionAdministrator)
        || actor.roles.contains(&Role::PermissionAdminSupervisor)
    {
        return Ok(AdministratorDesk {
            person: actor.id,
            acting_for: None,
        });
    }
    if roster.deputy == Some(actor.id) {
        // The deputy handles the administrator's own applications (through the chain, not
        // this desk) and stands in at the desk only during a registered absence.
        return match roster.administrator {
            Some(admin) if roster.inactive.contains(&admin) => Ok(AdministratorDesk {
                person: actor.id,
                acting_for: Some(admin),
            }),
            _ => Err(PermissionRefusal::DeputyOutOfScope),
        };
    }
    Err(PermissionRefusal::NotAdministrator)
}

/// The capability of a unit supervisor over their staff: upcoming personnel changes and the
/// quarterly recertification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupervisorDesk {
    person: PersonId,
    units: BTreeSet<UnitId>,
}

impl SupervisorDesk {
    pub fn person(&self) -> PersonId {
        self.person
    }

    /// The units this supervisor answers for (see [`Roster::supervised_units`]).
    pub fn units(&self) -> &BTreeSet<UnitId> {
        &self.units
    }
}

/// §4: the unit supervisor oversees their unit's staff.
pub fn supervisor_desk(
    actor: &Participant,
    roster: &Roster,
) -> Result<SupervisorDesk, PermissionRefusal> {
    if !actor.active {
        return Err(PermissionRefusal::ApproverDisabled);
    }
    let units = roster.supervised_units(actor.id);
    if units.is_empty() {
        return Err(PermissionRefusal::NotSupervisor);
    }
    Ok(SupervisorDesk {
        person: actor.id,
        units,
    })
}

#[cfg(test)]
mod tests;
