//! Typed input of the audit pages and API: serde structs that refuse unknown fields, turned
//! into the app's requests. Nothing here decides a rule; a value that does not parse is handed
//! on as it is (e.g. a case count of 0) so the app refuses it and audits the refusal.

use std::collections::BTreeMap;

use querywarden_app::oversight::unannounced_audit::OpenAuditRequest;
use querywarden_domain::oversight::unannounced_audit::SignOffStep;
use serde::Deserialize;

/// `POST /api/v1/oversight/audits`: Form 4's header.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAuditInput {
    pub period_from: String,
    pub period_to: String,
    pub audit_date: String,
    /// The audited querier's account.
    pub querier: String,
    pub auditing_unit: String,
    pub auditing_unit_phone: String,
    /// The auditors' accounts.
    pub auditors: Vec<String>,
    pub documents_deadline: String,
    pub cases: u32,
    /// `uniform` (default) or `weighted`.
    #[serde(default)]
    pub method: Option<String>,
    /// Weighted draws: weight per registration number. (No seed: the system draws it, so
    /// nobody chooses the sample.)
    #[serde(default)]
    pub weights: BTreeMap<String, u32>,
}

impl From<OpenAuditInput> for OpenAuditRequest {
    fn from(i: OpenAuditInput) -> Self {
        OpenAuditRequest {
            period_from: i.period_from,
            period_to: i.period_to,
            audit_date: i.audit_date,
            querier: i.querier,
            auditing_unit: i.auditing_unit,
            auditing_unit_phone: i.auditing_unit_phone,
            auditors: i.auditors,
            documents_deadline: i.documents_deadline,
            cases: i.cases,
            method: i.method.unwrap_or_else(|| "uniform".into()),
            weights: i.weights,
            seed: None,
        }
    }
}

/// The page's Form 4: auditors as one field of accounts separated by commas or spaces.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OpenAuditForm {
    pub csrf: String,
    pub period_from: String,
    pub period_to: String,
    pub audit_date: String,
    pub querier: String,
    pub auditing_unit: String,
    pub auditing_unit_phone: String,
    pub auditors: String,
    pub documents_deadline: String,
    pub cases: String,
    pub method: String,
}

impl OpenAuditForm {
    pub fn request(&self) -> OpenAuditRequest {
        OpenAuditRequest {
            period_from: self.period_from.clone(),
            period_to: self.period_to.clone(),
            audit_date: self.audit_date.clone(),
            querier: self.querier.trim().to_string(),
            auditing_unit: self.auditing_unit.clone(),
            auditing_unit_phone: self.auditing_unit_phone.clone(),
            auditors: self
                .auditors
                .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect(),
            documents_deadline: self.documents_deadline.clone(),
            // Not a number: 0, which the rules refuse as a case count out of range.
            cases: self.cases.trim().parse().unwrap_or(0),
            method: if self.method.trim().is_empty() {
                "uniform".into()
            } else {
                self.method.clone()
            },
            weights: BTreeMap::new(),
            seed: None,
        }
    }
}

/// An opinion on one sampled case.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseOpinionInput {
    /// The registration number (`115-000012`).
    pub case: String,
    pub conforms: bool,
    pub text: String,
}

/// The page's opinion form (`conforms` is `yes` or `no`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CaseOpinionForm {
    pub csrf: String,
    pub case: String,
    pub conforms: String,
    pub text: String,
}

/// The overall opinion (稽核意見).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverallOpinionInput {
    pub violation_found: bool,
    pub text: String,
}

/// The page's overall-opinion form (`violation_found` is `yes` or `no`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OverallOpinionForm {
    pub csrf: String,
    pub violation_found: String,
    pub text: String,
}

/// A sign-off: the step being signed (`querier`, `auditor`, `querier_supervisor`,
/// `auditing_supervisor`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffInput {
    pub step: String,
}

impl SignOffInput {
    pub fn step(&self) -> Option<SignOffStep> {
        SignOffStep::parse_code(self.step.trim())
    }
}

/// The director's review, with an optional comment.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewInput {
    pub comment: String,
}

/// A page form with only the CSRF token and maybe a text field.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SimpleForm {
    pub csrf: String,
    pub step: String,
    pub comment: String,
}

// The posted forms carry the session's CSRF token, checked by `crate::input::CsrfForm` (§3).
crate::input::carries_csrf!(
    OpenAuditForm,
    CaseOpinionForm,
    OverallOpinionForm,
    SimpleForm
);
