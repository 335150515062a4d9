//! Go-live use cases (§3): from an empty server to a working bureau.
//!
//! * [`init`] — `querywarden init`: the first permission administrator and a deputy, with a
//!   one-time enrolment code each (refused once any administrator exists);
//! * [`codes`] — the administrator issues enrolment and reset codes; a person enrols with
//!   the code, their own card (signed challenge, as at sign-in) and a password of their own;
//! * [`units`] — the organisation CSV (units, parents, supervisors, deputies) and the end of
//!   supervisor roles when their holder transfers or leaves (§2);
//! * [`crl`] — certificate revocation lists: fetched on a schedule, imported from a file,
//!   and their age shown.
//!
//! Security-sensitive: these use cases create accounts and bind cards. Every refusal is
//! audited with its rule code; codes are stored only as SHA-256 digests.

pub mod codes;
pub mod crl;
pub mod door;
pub mod init;
pub mod units;

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::enrolment::{EnrolmentCode, EnrolmentRefusal, RateLimit};
use sha2::{Digest, Sha256};

use crate::AppError;
use crate::auth::AuthFailure;
use crate::config::RawEnrolment;

impl From<EnrolmentRefusal> for AuthFailure {
    fn from(r: EnrolmentRefusal) -> Self {
        AuthFailure::new(r.code(), r.to_string())
    }
}

/// How long codes live and how guessing is limited (`[enrolment]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSettings {
    pub valid_for: SignedDuration,
    pub rate_limit: RateLimit,
}

impl CodeSettings {
    pub fn from_config(e: &RawEnrolment) -> Self {
        Self {
            valid_for: SignedDuration::from_hours(e.code_valid_hours as i64),
            rate_limit: RateLimit {
                max_failures: e.max_failures,
                window: SignedDuration::from_mins(e.failure_window_minutes as i64),
            },
        }
    }

    pub fn expiry(&self, now: Timestamp) -> Timestamp {
        now.saturating_add(self.valid_for).unwrap_or(now)
    }
}

/// A fresh code from the operating system's randomness.
pub fn new_code() -> Result<EnrolmentCode, AppError> {
    let mut b = [0u8; 10];
    getrandom::getrandom(&mut b).map_err(AppError::Randomness)?;
    Ok(EnrolmentCode::from_random(b))
}

/// What is stored and looked up: SHA-256 of the normalised code (80 random bits make a
/// keyed hash unnecessary).
pub fn code_digest(code: &EnrolmentCode) -> String {
    hex::encode(Sha256::digest(code.normalised().as_bytes()))
}
