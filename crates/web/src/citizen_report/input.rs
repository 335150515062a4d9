//! Typed input of the citizen-report pages and API: forms and JSON bodies, and their parsing
//! into the use cases' types. A date is parsed here (ROC first); a date that is no date is
//! handed to the app as a refusal, so it is audited like the rules' refusals.

use jiff::Timestamp;
use querywarden_app::citizen_report::{Refusal, RequestInput, SignedRequest};
use querywarden_domain::roc_date::{DateWindow, RocDate, taipei_date};
use serde::Deserialize;

/// `POST /citizen-requests` (form) and `POST /api/v1/citizen-requests` (JSON).
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct RecordForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub national_id: String,
    #[serde(default)]
    pub identity_check: Option<String>,
    #[serde(default)]
    pub asked: String,
    /// 收件日期, ROC (`115/03/05`, `民國115年3月5日`) or ISO.
    #[serde(default)]
    pub received: String,
    /// With `moica_signed`: the request text exactly as the citizen signed it…
    #[serde(default)]
    pub signed_text: String,
    /// …and the card's CMS/PKCS#7 signature over it (base64 DER or PEM).
    #[serde(default)]
    pub signature: String,
}

impl RecordForm {
    /// The use case's input, or the date refusal. The received date may be up to a year
    /// back and not after today.
    pub fn parse(&self, now: Timestamp) -> Result<RequestInput, Refusal> {
        let today = taipei_date(now);
        let received = RocDate::parse_within(&self.received, DateWindow::around(today, 1, 0))
            .map_err(Refusal::Date)?;
        let signed =
            (!self.signed_text.is_empty() || !self.signature.trim().is_empty()).then(|| {
                SignedRequest {
                    text: self.signed_text.clone(),
                    signature: self.signature.clone(),
                }
            });
        Ok(RequestInput {
            national_id: self.national_id.clone(),
            identity_check: self.identity_check.clone().filter(|s| !s.is_empty()),
            asked: self.asked.clone(),
            received,
            signed,
        })
    }
}

/// `POST /citizen-requests/{no}/extend` and the API's extension.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ExtendForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
}

/// `POST /withholdings` (form; the registration is a field) and
/// `POST /api/v1/registrations/{no}/withholding` (JSON; the registration is in the path).
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct WithholdForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub registration: String,
    /// 揭露日期, ROC or ISO; empty means "no date", which the rule refuses.
    #[serde(default)]
    pub disclose_on: String,
    #[serde(default)]
    pub reason: String,
}

impl WithholdForm {
    /// The disclosure date: `None` when empty (the rule refuses it with its own code).
    pub fn disclose_on(&self) -> Result<Option<RocDate>, Refusal> {
        if self.disclose_on.trim().is_empty() {
            return Ok(None);
        }
        RocDate::parse(&self.disclose_on)
            .map(Some)
            .map_err(Refusal::Date)
    }
}

/// `GET /withholdings?registration=…`: the mark form, prefilled from a registration page.
#[derive(Deserialize, Default)]
pub struct WithholdQuery {
    #[serde(default)]
    pub registration: String,
}

// The posted forms carry the session's CSRF token, checked by `crate::input::CsrfForm` (§3).
crate::input::carries_csrf!(RecordForm, ExtendForm, WithholdForm);
