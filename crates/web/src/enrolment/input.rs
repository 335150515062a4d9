//! Typed form input of the enrolment pages.

use querywarden_domain::enrolment::CodePurpose;
use querywarden_pki::SignatureFormat;
use serde::Deserialize;

/// `POST /enrol`: the code, the new password (twice) and the card's signature over the
/// sign-in challenge, exactly as the sign-in form posts it.
#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_again: String,
    #[serde(default)]
    pub nonce: String,
    #[serde(default)]
    pub signature: String,
    #[serde(default)]
    pub certificate: String,
    #[serde(default)]
    pub format: String,
    /// Only the DEMO signer reads it (which demo card signs); ignored here.
    #[serde(default)]
    #[allow(dead_code, reason = "posted by the demo signer's field; never used")]
    pub account: String,
}

impl EnrolForm {
    /// The signature's format, read as the sign-in form's is.
    pub fn format(&self) -> Option<SignatureFormat> {
        crate::auth::sign_in::signature_format(&self.format)
    }
}

/// `POST /admin/enrolment/codes`.
#[derive(Deserialize)]
pub struct IssueCodeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub reason: String,
}

impl IssueCodeForm {
    pub fn purpose(&self) -> Option<CodePurpose> {
        CodePurpose::parse_code(self.purpose.trim())
    }
}

// The posted forms carry the session's CSRF token, checked by `crate::input::CsrfForm` (§3).
crate::input::carries_csrf!(IssueCodeForm);
