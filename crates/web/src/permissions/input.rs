//! The permission area's input as it arrives — page forms, JSON bodies, query strings — as
//! serde types, and their conversion into domain values (`ApplicationForm`, `NationalId`,
//! `ServiceItemCode`, `StepDecision`, `RocDate`, `GrantFilter`, `RecertificationDecision`,
//! `Account`) at the edge, so no use case receives a raw string (STYLE rule 2).
//!
//! Security-sensitive: the national ID of Form 1 is parsed here and from then on travels only
//! as `NationalId`; it is never echoed back into a form ([`ApplyValues`] has no field for it).
//! A field that does not parse is a [`BadField`] with a stable code, shown with 422 on the page
//! and in the API alike.

use std::collections::BTreeSet;

use querywarden_app::permission::GrantFilter;
use querywarden_domain::NationalId;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::{Account, UnitId};
use querywarden_domain::permission::recertification::RecertificationDecision;
use querywarden_domain::permission::{
    ApplicationForm, ApplicationKind, Confirmations, GrantId, GrantStatus, StepDecision,
};
use querywarden_domain::roc_date::{DateField, RocDate};
use serde::{Deserialize, Deserializer};

use super::views::ApplyValues;
use crate::input::carries_csrf;

// The posted forms of the area carry the session's CSRF token in `csrf`, checked by
// `crate::input::CsrfForm` before the handler runs (§3).
carries_csrf!(
    PostedApplication,
    PostedDecision,
    PostedRoundDecision,
    PostedEnable
);

/// A field that does not parse: its stable code and messages (zh-TW, English).
pub(crate) struct BadField {
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl BadField {
    fn new(code: &str, zh: &str, en: &str) -> BadField {
        BadField {
            code: code.into(),
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// A domain value's own refusal of what was typed.
    fn of(e: &impl querywarden_domain::Explained) -> BadField {
        BadField {
            code: e.code().into(),
            zh: e.to_string(),
            en: e.message_en(),
        }
    }
}

/// The id in a path (`/permissions/applications/{id}`, `/…/recertification/{id}`).
#[derive(Deserialize)]
pub struct IdPath {
    pub id: i64,
}

/// `?done=` after a successful POST (the notice to show).
#[derive(Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Form 1.

/// The Form 1 fields, page form and JSON body alike, before parsing.
struct Form1Fields<'a> {
    kind: &'a str,
    reason: &'a str,
    national_id: &'a str,
    phone: &'a str,
    email: &'a str,
    egov_account: &'a str,
    items: &'a [String],
    confirmations: Confirmations,
}

impl Form1Fields<'_> {
    /// The kind, the national ID and each item as domain values (§2, Form 1).
    fn parse(&self) -> Result<ApplicationForm, BadField> {
        let kind = ApplicationKind::parse_code(self.kind.trim()).ok_or_else(|| {
            BadField::new(
                "permission.bad_kind",
                "請選擇申請類別（新增權限、註銷權限、異動查調項目、職務異動）",
                "choose the kind of application",
            )
        })?;
        let national_id = NationalId::parse(self.national_id).map_err(|e| BadField::of(&e))?;
        let mut items = BTreeSet::new();
        for i in self.items {
            items.insert(ServiceItemCode::parse(i.trim()).map_err(|e| BadField::of(&e))?);
        }
        Ok(ApplicationForm {
            kind,
            reason: self.reason.trim().to_string(),
            national_id,
            phone: self.phone.trim().to_string(),
            email: self.email.trim().to_string(),
            egov_account: self.egov_account.trim().to_string(),
            items,
            confirmations: self.confirmations,
        })
    }
}

/// The last value of a key posted more than once (a browser sends each field once; a
/// hand-made post that repeats one is read as the last, not refused).
fn last<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Vec::<String>::deserialize(d)?.pop().unwrap_or_default())
}

/// Form 1 as the page posts it: the `items` checkbox repeats, the two statements are
/// checkboxes with the value `yes`; unknown fields are ignored, missing ones are empty.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PostedApplication {
    #[serde(deserialize_with = "last")]
    pub csrf: String,
    #[serde(deserialize_with = "last")]
    pub kind: String,
    #[serde(deserialize_with = "last")]
    pub reason: String,
    #[serde(deserialize_with = "last")]
    pub national_id: String,
    #[serde(deserialize_with = "last")]
    pub phone: String,
    #[serde(deserialize_with = "last")]
    pub email: String,
    #[serde(deserialize_with = "last")]
    pub egov_account: String,
    pub items: Vec<String>,
    #[serde(deserialize_with = "last")]
    pub read_pdpa: String,
    #[serde(deserialize_with = "last")]
    pub has_card: String,
}

impl PostedApplication {
    fn confirmations(&self) -> Confirmations {
        Confirmations {
            read_pdpa_and_rules: self.read_pdpa == "yes",
            has_certificate_and_reader: self.has_card == "yes",
        }
    }

    pub(crate) fn parse(&self) -> Result<ApplicationForm, BadField> {
        Form1Fields {
            kind: &self.kind,
            reason: &self.reason,
            national_id: &self.national_id,
            phone: &self.phone,
            email: &self.email,
            egov_account: &self.egov_account,
            items: &self.items,
            confirmations: self.confirmations(),
        }
        .parse()
    }

    /// What is echoed back after a refusal: everything but the national ID.
    pub(crate) fn values(&self) -> ApplyValues {
        let c = self.confirmations();
        ApplyValues {
            kind: self.kind.clone(),
            reason: self.reason.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            egov_account: self.egov_account.clone(),
            read_pdpa: c.read_pdpa_and_rules,
            has_card: c.has_certificate_and_reader,
            items: self.items.clone(),
        }
    }
}

/// A Form 1 as JSON.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationBody {
    kind: String,
    reason: String,
    national_id: String,
    phone: String,
    email: String,
    egov_account: String,
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    read_pdpa_and_rules: bool,
    #[serde(default)]
    has_certificate_and_reader: bool,
}

impl ApplicationBody {
    pub(crate) fn parse(&self) -> Result<ApplicationForm, BadField> {
        Form1Fields {
            kind: &self.kind,
            reason: &self.reason,
            national_id: &self.national_id,
            phone: &self.phone,
            email: &self.email,
            egov_account: &self.egov_account,
            items: &self.items,
            confirmations: Confirmations {
                read_pdpa_and_rules: self.read_pdpa_and_rules,
                has_certificate_and_reader: self.has_certificate_and_reader,
            },
        }
        .parse()
    }
}

// ---------------------------------------------------------------------------------------------
// Decisions.

/// A decision as typed: `approve` (optional effective date, ROC or ISO), `refuse` (reason),
/// `other` (note).
fn parse_decision(
    decision: &str,
    effective_from: Option<&str>,
    comment: &str,
    today: RocDate,
) -> Result<StepDecision, BadField> {
    let comment = comment.trim().to_string();
    match decision {
        "approve" => {
            let effective_from = match effective_from.map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => Some(
                    RocDate::parse_field(s, DateField::Effective, today)
                        .map_err(|e| BadField::of(&e))?,
                ),
            };
            Ok(StepDecision::Approve {
                effective_from,
                comment,
            })
        }
        "refuse" => Ok(StepDecision::Refuse { reason: comment }),
        "other" => Ok(StepDecision::Other { note: comment }),
        _ => Err(BadField::new(
            "permission.bad_decision",
            "請選擇同意、不同意或其他",
            "choose approve, refuse or other",
        )),
    }
}

/// The approver's decision as the page posts it.
#[derive(Deserialize)]
pub struct PostedDecision {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    comment: String,
}

impl PostedDecision {
    pub(crate) fn parse(&self, today: RocDate) -> Result<StepDecision, BadField> {
        parse_decision(
            &self.decision,
            Some(&self.effective_from),
            &self.comment,
            today,
        )
    }
}

/// A decision at the pending step, as JSON.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `approve`, `refuse` or `other`.
    decision: String,
    #[serde(default)]
    effective_from: Option<String>,
    /// The comment, the refusal's reason or the note of "other".
    #[serde(default)]
    comment: String,
}

impl DecisionBody {
    pub(crate) fn parse(&self, today: RocDate) -> Result<StepDecision, BadField> {
        parse_decision(
            &self.decision,
            self.effective_from.as_deref(),
            &self.comment,
            today,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The administrator's overview.

/// The overview's filters as they come in the query string (no personal data).
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub status: String,
}

impl FilterQuery {
    pub(crate) fn parse(&self) -> Result<GrantFilter, BadField> {
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let bad = |zh: &str, en: &str| BadField::new("permission.bad_filter", zh, en);
        Ok(GrantFilter {
            unit: text(&self.unit)
                .map(UnitId::new)
                .transpose()
                .map_err(|_| bad("單位代碼不正確", "bad unit"))?,
            item: text(&self.item)
                .map(|i| ServiceItemCode::parse(&i))
                .transpose()
                .map_err(|_| bad("查調項目代碼不正確", "bad item"))?,
            status: match text(&self.status) {
                None => None,
                Some(s) => Some(GrantStatus::parse_code(&s).ok_or_else(|| {
                    bad(
                        "狀態應為 active、suspended 或 ended",
                        "status must be active, suspended or ended",
                    )
                })?),
            },
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Recertification and accounts.

/// One line's decision of a recertification round, as the page posts it.
#[derive(Deserialize)]
pub struct PostedRoundDecision {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    grant: i64,
    #[serde(default)]
    decision: String,
}

/// One line's decision of a recertification round, as JSON.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundDecisionBody {
    grant: i64,
    /// `confirmed` (仍需使用) or `not_needed` (不再需要).
    decision: String,
}

/// The line's grant and the decision, or `None` for a decision that is neither
/// `confirmed` nor `not_needed` (`recertification.bad_decision`).
fn round_decision(grant: i64, decision: &str) -> Option<(GrantId, RecertificationDecision)> {
    RecertificationDecision::parse_code(decision).map(|d| (GrantId::new(grant), d))
}

impl PostedRoundDecision {
    pub(crate) fn parse(&self) -> Option<(GrantId, RecertificationDecision)> {
        round_decision(self.grant, &self.decision)
    }
}

impl RoundDecisionBody {
    pub(crate) fn parse(&self) -> Option<(GrantId, RecertificationDecision)> {
        round_decision(self.grant, &self.decision)
    }
}

/// The account to re-enable, as the page posts it.
#[derive(Deserialize)]
pub struct PostedEnable {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    account: String,
}

/// The account to re-enable, as JSON.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableBody {
    account: String,
}

impl PostedEnable {
    /// The account, or `None` when it cannot be one (answered like an unknown account).
    pub(crate) fn account(&self) -> Option<Account> {
        Account::parse(self.account.trim()).ok()
    }
}

impl EnableBody {
    /// The account, or `None` when it cannot be one (answered like an unknown account).
    pub(crate) fn account(&self) -> Option<Account> {
        Account::parse(self.account.trim()).ok()
    }
}

/// The staff CSV as JSON.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffImportBody {
    /// The CSV file's text (format: docs/staff-import-format.md).
    pub csv: String,
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "a test that cannot set itself up should fail loudly"
    )]

    use axum::body::Body;
    use axum::extract::FromRequest;
    use axum::http::{Request, header};
    use axum_extra::extract::Form;

    use super::*;

    async fn posted(body: &'static str) -> PostedApplication {
        let req = Request::post("/permissions/apply")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let Form(p) = Form::<PostedApplication>::from_request(req, &())
            .await
            .unwrap();
        p
    }

    #[tokio::test]
    async fn a_posted_form_1_keeps_every_checked_item_and_echoes_no_national_id() {
        let p = posted(
            "csrf=t&kind=new&reason=r&national_id=A123456789&phone=1&email=a%40b&egov_account=e\
             &items=C0101&items=B0101&read_pdpa=yes&unknown=ignored&phone=2",
        )
        .await;
        let form = p.parse().map_err(|b| b.code).unwrap();
        assert_eq!(form.kind, ApplicationKind::parse_code("new").unwrap());
        assert_eq!(form.items.len(), 2);
        assert!(form.confirmations.read_pdpa_and_rules);
        assert!(!form.confirmations.has_certificate_and_reader);
        let values = p.values();
        assert_eq!(values.items, ["C0101", "B0101"]);
        assert_eq!(values.phone, "2", "a key posted twice is read as the last");
        // §9: the national ID is never echoed back into the form.
        assert!(!format!("{}{}{}", values.reason, values.phone, values.email).contains("A123"));
    }

    #[tokio::test]
    async fn a_bad_kind_or_item_is_refused_with_its_stable_code() {
        let p = posted("kind=other&national_id=A123456789").await;
        assert_eq!(
            p.parse().err().map(|b| b.code).unwrap(),
            "permission.bad_kind"
        );
        let p = posted("kind=new&national_id=A123456789&items=nope").await;
        assert!(p.parse().is_err());
    }

    #[test]
    fn a_decision_is_approve_refuse_or_other() {
        let today = RocDate::from_civil(jiff::civil::date(2026, 3, 5)).unwrap();
        let bad = parse_decision("maybe", None, "", today).err().unwrap();
        assert_eq!(bad.code, "permission.bad_decision");
        assert!(matches!(
            parse_decision("refuse", None, " why ", today),
            Ok(StepDecision::Refuse { reason }) if reason == "why"
        ));
    }

    #[test]
    fn an_unknown_grant_status_in_the_filter_is_refused() {
        let q = FilterQuery {
            status: "maybe".into(),
            ..FilterQuery::default()
        };
        assert_eq!(
            q.parse().err().map(|b| b.code).unwrap(),
            "permission.bad_filter"
        );
        assert_eq!(
            FilterQuery::default().parse().ok(),
            Some(GrantFilter::default())
        );
    }
}
