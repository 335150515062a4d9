//! Rate limits per account and per client address on sign-in, unlock, password change and
//! query execution (§3, 資通系統防護基準), with the limits in one place. Sign-in counts only
//! attempts that reach the password (a valid card signature first), so floods of garbage are
//! refused (and audited) by the cheap checks before. The counters live in memory (a restart
//! forgets them; the account lockout, which is stored, still holds).

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::rate_limit::{Admission, RateCounter, RateLimit};

/// What is limited, and by which key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Sign-in attempts naming one account.
    SignInAccount,
    /// Sign-in attempts from one client address (one address trying many accounts).
    SignInAddress,
    /// Unlock attempts of one account.
    Unlock,
    /// Password changes of one account.
    PasswordChange,
    /// Query executions by one account.
    Execution,
}

impl Limited {
    /// The limit: generous for people, tight for scripts.
    pub fn limit(self) -> RateLimit {
        let per_minute = |max| RateLimit {
            max,
            window: SignedDuration::from_mins(1),
        };
        match self {
            // Password attempts need the person's card first, and the lockout stops an
            // account after 5 wrong ones; these bound the rest (many accounts from one
            // address, floods of argon2 work).
            Self::SignInAccount => per_minute(20),
            Self::SignInAddress => per_minute(60),
            Self::Unlock => per_minute(20),
            Self::PasswordChange => per_minute(10),
            Self::Execution => per_minute(60),
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::SignInAccount => "signin-account",
            Self::SignInAddress => "signin-address",
            Self::Unlock => "unlock",
            Self::PasswordChange => "password",
            Self::Execution => "execution",
        }
    }
}

/// The counters of one running server.
#[derive(Debug, Default)]
pub struct Limits {
    counter: Mutex<RateCounter>,
}

impl Limits {
    /// Counts one attempt of `what` by `key` at `now`.
    pub fn admit(&self, what: Limited, key: &str, now: Timestamp) -> Admission {
        match self.counter.lock() {
            Ok(mut c) => c.admit(&format!("{}:{key}", what.prefix()), what.limit(), now),
            // A poisoned lock (a panic elsewhere) must not open the gate: refuse.
            Err(_) => Admission::Refused {
                retry_after: what.limit().window,
                first: false,
            },
        }
    }
}
