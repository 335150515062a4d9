//! Typed input of the oversight pages and API. Pages post forms (with the CSRF token);
//! the API takes JSON (the token in `X-CSRF-Token`).

use serde::Deserialize;

/// How the administrator concludes a finding: `explained` with a note, or `violation` with
/// the rule broken and the evidence (opens a case).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcludeFindingRequest {
    #[serde(default)]
    pub csrf: String,
    pub conclusion: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub evidence: String,
    /// API: a boolean; page: the checkbox (`on`) — see [`ConcludeFindingForm`].
    #[serde(default)]
    pub suspend_grants: bool,
}

/// The page form of [`ConcludeFindingRequest`] (a checkbox posts `on` or nothing).
#[derive(Debug, Clone, Deserialize)]
pub struct ConcludeFindingForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub conclusion: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub evidence: String,
    #[serde(default)]
    pub suspend_grants: Option<String>,
}

impl From<ConcludeFindingForm> for ConcludeFindingRequest {
    fn from(f: ConcludeFindingForm) -> Self {
        Self {
            csrf: f.csrf,
            conclusion: f.conclusion,
            note: f.note,
            rule: f.rule,
            evidence: f.evidence,
            suspend_grants: f.suspend_grants.is_some(),
        }
    }
}

/// The administrator files a case directly (§8 ¶2).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileViolationRequest {
    #[serde(default)]
    pub csrf: String,
    /// The person's sign-in account.
    pub account: String,
    pub rule: String,
    pub evidence: String,
    #[serde(default)]
    pub suspend_grants: bool,
}

/// The page form of [`FileViolationRequest`].
#[derive(Debug, Clone, Deserialize)]
pub struct FileViolationForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub evidence: String,
    #[serde(default)]
    pub suspend_grants: Option<String>,
}

impl From<FileViolationForm> for FileViolationRequest {
    fn from(f: FileViolationForm) -> Self {
        Self {
            csrf: f.csrf,
            account: f.account,
            rule: f.rule,
            evidence: f.evidence,
            suspend_grants: f.suspend_grants.is_some(),
        }
    }
}

/// The person's review report (檢討報告).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReportRequest {
    #[serde(default)]
    pub csrf: String,
    pub report: String,
}

/// The administrator's decision on a report: `accept`, or `return` with a note.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideReportRequest {
    #[serde(default)]
    pub csrf: String,
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

/// Reconcile a period now: ISO dates, `to` exclusive.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconcileRequest {
    pub from: String,
    pub to: String,
}

// The posted forms carry the session's CSRF token, checked by `crate::input::CsrfForm` (§3).
crate::input::carries_csrf!(
    ConcludeFindingForm,
    FileViolationForm,
    SubmitReportRequest,
    DecideReportRequest
);
