//! Sign-in rules (§3): password policy, lockout after repeated failures, and the life of a
//! session (idle timeout, absolute timeout, screen lock). Pure: times come in as arguments.
//!
//! Security-sensitive: these decide who gets in and for how long.

use jiff::{SignedDuration, Timestamp};

/// Why a new password is refused. Never carries the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejection {
    #[error("密碼至少需 {0} 個字元")]
    TooShort(usize),
    #[error("密碼不可包含帳號名稱")]
    ContainsAccount,
    #[error("密碼過於常見，請改用不易猜測的密碼")]
    Common,
    #[error("不可與最近 3 次使用過的密碼相同")]
    Reused,
    #[error("新密碼不可與目前密碼相同")]
    SameAsCurrent,
}

impl PasswordRejection {
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort(_) => "password.too_short",
            Self::ContainsAccount => "password.contains_account",
            Self::Common => "password.common",
            Self::Reused => "password.reused",
            Self::SameAsCurrent => "password.same_as_current",
        }
    }

    pub fn message_en(self) -> String {
        match self {
            Self::TooShort(n) => format!("the password must have at least {n} characters"),
            Self::ContainsAccount => "the password must not contain the account name".into(),
            Self::Common => "the password is too common".into(),
            Self::Reused => "the password was one of the last 3 used".into(),
            Self::SameAsCurrent => "the new password equals the current one".into(),
        }
    }
}

/// Minimum password length (資通系統防護基準 asks for complexity; length is what matters).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Passwords that are refused whatever their length: a small bundled list of the most common
/// passwords, including keyboard walks popular in Taiwan (e.g. `1qaz2wsx`). Compared
/// case-insensitively.
pub const COMMON_PASSWORDS: &str = include_str!("../seed/common-passwords.txt");

/// Checks a candidate password against the policy (history is checked by the caller, who
/// holds the hashes).
pub fn check_password_policy(account: &str, candidate: &str) -> Result<(), PasswordRejection> {
    if candidate.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordRejection::TooShort(MIN_PASSWORD_CHARS));
    }
    let lower = candidate.to_lowercase();
    let account = account.to_lowercase();
    // The account's name part (before a dot) counts as well: `lin.meiling` → `meiling`.
    let parts = account
        .split(['.', '_', '-'])
        .filter(|p| p.len() >= 3)
        .chain(std::iter::once(account.as_str()));
    for part in parts {
        if lower.contains(part) {
            return Err(PasswordRejection::ContainsAccount);
        }
    }
    let is_common = COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|p| lower == p.to_lowercase() || lower.trim_end_matches(char::is_numeric) == p);
    if is_common {
        return Err(PasswordRejection::Common);
    }
    Ok(())
}

/// Lockout policy (資通系統防護基準: at most 5 failures, locked at least 15 minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lockout: SignedDuration,
}

/// What a failed password does to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Counted; `remaining` attempts before the lock.
    Counted { failures: u32, remaining: u32 },
    /// This failure locks the account until the given time.
    LockedUntil(Timestamp),
}

impl LockoutPolicy {
    /// Whether the account is locked now.
    pub fn is_locked(&self, locked_until: Option<Timestamp>, now: Timestamp) -> bool {
        locked_until.is_some_and(|until| now < until)
    }

    /// Applies one more failure to `failures` earlier consecutive failures.
    pub fn on_failure(&self, failures: u32, now: Timestamp) -> FailureOutcome {
        let failures = failures.saturating_add(1);
        if failures >= self.max_failures {
            FailureOutcome::LockedUntil(now.saturating_add(self.lockout).unwrap_or(now))
        } else {
            FailureOutcome::Counted {
                failures,
                remaining: self.max_failures - failures,
            }
        }
    }
}

/// Session timing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ended after this long without a request.
    pub idle_timeout: SignedDuration,
    /// Ended this long after sign-in, whatever happens.
    pub absolute_timeout: SignedDuration,
    /// §3: locked after this long without a request. The page covers itself after this long
    /// without input; the server locks a session idle this long by itself too, so a client
    /// that never runs the page's script cannot keep reading an unattended session.
    pub screen_lock_after: SignedDuration,
}

/// A session's times and flags as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub locked: bool,
    pub ended: bool,
}

crate::code_enum! {
    /// What a request on this session may do.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum SessionStatus {
        Active = "session.active";
        /// §3: the screen is locked; only unlock, sign-out and the lock page are allowed.
        Locked = "session.locked";
        IdleExpired = "session.idle_expired";
        AbsoluteExpired = "session.absolute_expired";
        Ended = "session.ended";
    }
}

impl SessionPolicy {
    pub fn status(&self, s: &SessionTimes, now: Timestamp) -> SessionStatus {
        if s.ended {
            return SessionStatus::Ended;
        }
        if now.duration_since(s.created_at) >= self.absolute_timeout {
            return SessionStatus::AbsoluteExpired;
        }
        if now.duration_since(s.last_seen_at) >= self.idle_timeout {
            return SessionStatus::IdleExpired;
        }
        if s.locked || now.duration_since(s.last_seen_at) >= self.screen_lock_after {
            return SessionStatus::Locked;
        }
        SessionStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_764_000_000 + s).unwrap()
    }

    #[test]
    fn password_policy_refuses_short_account_named_and_common_passwords() {
        assert_eq!(
            check_password_policy("lin.meiling", "short"),
            Err(PasswordRejection::TooShort(12))
        );
        assert_eq!(
            check_password_policy("lin.meiling", "Meiling-2026-spring"),
            Err(PasswordRejection::ContainsAccount)
        );
        assert_eq!(
            check_password_policy("lin.meiling", "1qaz2wsx3edc"),
            Err(PasswordRejection::Common)
        );
        assert_eq!(
            check_password_policy("lin.meiling", "Password1234"),
            Err(PasswordRejection::Common)
        );
        assert_eq!(
            check_password_policy("lin.meiling", "鹽埕區的午後陽光很好2026"),
            Ok(())
        );
        assert_eq!(
            check_password_policy("lin.meiling", "correct horse battery"),
            Ok(())
        );
    }

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes() {
        let p = LockoutPolicy {
            max_failures: 5,
            lockout: SignedDuration::from_mins(15),
        };
        assert_eq!(
            p.on_failure(0, t(0)),
            FailureOutcome::Counted {
                failures: 1,
                remaining: 4
            }
        );
        assert_eq!(p.on_failure(4, t(0)), FailureOutcome::LockedUntil(t(900)));
        assert!(p.is_locked(Some(t(900)), t(899)));
        assert!(!p.is_locked(Some(t(900)), t(900)));
        assert!(!p.is_locked(None, t(0)));
    }

    #[test]
    fn sessions_expire_by_idle_and_absolute_time_and_lock() {
        let p = SessionPolicy {
            idle_timeout: SignedDuration::from_mins(15),
            absolute_timeout: SignedDuration::from_hours(8),
            screen_lock_after: SignedDuration::from_mins(5),
        };
        let s = SessionTimes {
            created_at: t(0),
            last_seen_at: t(0),
            locked: false,
            ended: false,
        };
        assert_eq!(p.status(&s, t(299)), SessionStatus::Active);
        // §3: idle past the screen-lock time locks on the server, whatever the page did.
        assert_eq!(p.status(&s, t(300)), SessionStatus::Locked);
        assert_eq!(p.status(&s, t(899)), SessionStatus::Locked);
        assert_eq!(p.status(&s, t(900)), SessionStatus::IdleExpired);
        let busy = SessionTimes {
            last_seen_at: t(8 * 3600 - 10),
            ..s
        };
        assert_eq!(p.status(&busy, t(8 * 3600)), SessionStatus::AbsoluteExpired);
        let locked = SessionTimes { locked: true, ..s };
        assert_eq!(p.status(&locked, t(10)), SessionStatus::Locked);
        assert_eq!(p.status(&locked, t(900)), SessionStatus::IdleExpired);
        let ended = SessionTimes { ended: true, ..s };
        assert_eq!(p.status(&ended, t(1)), SessionStatus::Ended);
    }
}
