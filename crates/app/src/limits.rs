//! Rate limits per account and per client address on sign-in, unlock, password change and
//! query execution (§3, 資通系統防護基準), with the limits in one place. Sign-in counts only
//! attempts that reach the password (a valid card signature first), so floods of garbage are
//! refused (and audited) by the cheap checks before. The counters live in memory (a restart
//! forgets them; the account lockout, which is stored, still holds).

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::rate_limit::{Admission, RateCounter, RateLimit};

use crate::config::RawLimits;

/// What is limited, and by which key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Sign-in attempts naming one account.
    SignInAccount,
    /// Sign-in attempts from one client address (one address trying many accounts).
    SignInAddress,
    /// Unlock attempts of one account.
    Unlock,
    /// Unlock attempts from one client address.
    UnlockAddress,
    /// Password changes of one account.
    PasswordChange,
    /// Password changes from one client address.
    PasswordChangeAddress,
    /// Query executions by one account.
    Execution,
    /// Query executions from one client address.
    ExecutionAddress,
}

impl Limited {
    /// The default limit (`[limits]` in the configuration may set another).
    pub fn limit(self) -> RateLimit {
        self.limit_in(&RawLimits::default())
    }

    /// The limit as `[limits]` sets it: so many attempts a minute.
    pub fn limit_in(self, l: &RawLimits) -> RateLimit {
        let max = match self {
            // Password attempts need the person's card first, and the lockout stops an
            // account after 5 wrong ones; these bound the rest (many accounts from one
            // address, floods of argon2 work).
            Self::SignInAccount => l.sign_in_per_account,
            Self::SignInAddress => l.sign_in_per_address,
            Self::Unlock => l.unlock_per_account,
            Self::UnlockAddress => l.unlock_per_address,
            Self::PasswordChange => l.password_change_per_account,
            Self::PasswordChangeAddress => l.password_change_per_address,
            Self::Execution => l.execution_per_account,
            Self::ExecutionAddress => l.execution_per_address,
        };
        RateLimit {
            max,
            window: SignedDuration::from_mins(1),
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::SignInAccount => "signin-account",
            Self::SignInAddress => "signin-address",
            Self::Unlock => "unlock",
            Self::UnlockAddress => "unlock-address",
            Self::PasswordChange => "password",
            Self::PasswordChangeAddress => "password-address",
            Self::Execution => "execution",
            Self::ExecutionAddress => "execution-address",
        }
    }
}

/// The checks of one attempt of `per_account` by `account`, and of `per_address` from
/// `addr` when the client address is known.
pub fn checks(
    per_account: Limited,
    account: impl ToString,
    per_address: Limited,
    addr: Option<&str>,
) -> Vec<(Limited, String)> {
    let mut c = vec![(per_account, account.to_string())];
    if let Some(a) = addr {
        c.push((per_address, a.to_string()));
    }
    c
}

/// §3: the checks of one query execution: per account, and per the address the session
/// signed in from.
pub fn execution_checks(who: &crate::auth::SignedIn) -> Vec<(Limited, String)> {
    checks(
        Limited::Execution,
        who.person.id,
        Limited::ExecutionAddress,
        who.session.client_addr.as_deref(),
    )
}

/// The counters of one running server.
#[derive(Debug, Default)]
pub struct Limits {
    counter: Mutex<RateCounter>,
    table: RawLimits,
}

impl Limits {
    /// Counters under the limits `[limits]` sets.
    pub fn new(table: RawLimits) -> Self {
        Self {
            counter: Mutex::default(),
            table,
        }
    }

    /// Counts one attempt of `what` by `key` at `now`.
    pub fn admit(&self, what: Limited, key: &str, now: Timestamp) -> Admission {
        let limit = what.limit_in(&self.table);
        match self.counter.lock() {
            Ok(mut c) => c.admit(&format!("{}:{key}", what.prefix()), limit, now),
            // A poisoned lock (a panic elsewhere) must not open the gate: refuse.
            Err(_) => Admission::Refused {
                retry_after: limit.window,
                first: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_is_counted_apart_under_the_configured_limit() {
        let l = Limits::new(RawLimits {
            execution_per_address: 2,
            ..RawLimits::default()
        });
        let now = Timestamp::UNIX_EPOCH;
        let from = |addr: &str| l.admit(Limited::ExecutionAddress, addr, now);
        assert_eq!(from("10.0.0.1"), Admission::Admitted);
        assert_eq!(from("10.0.0.1"), Admission::Admitted);
        assert!(matches!(
            from("10.0.0.1"),
            Admission::Refused { first: true, .. }
        ));
        // Another address, and the same text under another limit, count apart.
        assert_eq!(from("10.0.0.2"), Admission::Admitted);
        assert_eq!(
            l.admit(Limited::UnlockAddress, "10.0.0.1", now),
            Admission::Admitted
        );
        // A minute later the window has passed.
        let later = now + SignedDuration::from_secs(61);
        assert_eq!(
            l.admit(Limited::ExecutionAddress, "10.0.0.1", later),
            Admission::Admitted
        );
    }
}
