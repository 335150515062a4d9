//! Rate limits (§3 and 資通系統防護基準: resist password guessing and flooding): how many
//! attempts one key — an account, or a client address — may make in a fixed window. Pure: the
//! caller passes the time and keeps the counter.
//!
//! Security-sensitive: this bounds guessing beyond the account lockout (which counts only
//! wrong passwords of one account) — e.g. one address trying many accounts.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

/// At most `max` attempts per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: SignedDuration,
}

/// The answer for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Over the limit until `retry_after` from now. `first` is true for the first refusal in
    /// this window (the one worth recording: the rest are the same flood).
    Refused {
        retry_after: SignedDuration,
        first: bool,
    },
}

/// Attempts per key in the current window. Memory stays bounded: windows that ended are
/// dropped whenever the counter grows past `MAX_KEYS`.
#[derive(Debug, Default)]
pub struct RateCounter {
    windows: HashMap<String, (Timestamp, u32)>,
}

const MAX_KEYS: usize = 10_000;

impl RateCounter {
    pub fn admit(&mut self, key: &str, limit: RateLimit, now: Timestamp) -> Admission {
        if self.windows.len() >= MAX_KEYS {
            self.windows
                .retain(|_, (start, _)| now.duration_since(*start) < limit.window);
        }
        let w = self.windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(w.0) >= limit.window || now < w.0 {
            *w = (now, 0);
        }
        w.1 = w.1.saturating_add(1);
        if w.1 <= limit.max {
            return Admission::Admitted;
        }
        Admission::Refused {
            retry_after: limit.window - now.duration_since(w.0),
            first: w.1 == limit.max.saturating_add(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_764_000_000 + s).unwrap()
    }

    #[test]
    fn a_key_gets_its_quota_per_window_and_other_keys_are_untouched() {
        let limit = RateLimit {
            max: 3,
            window: SignedDuration::from_secs(60),
        };
        let mut c = RateCounter::default();
        for _ in 0..3 {
            assert_eq!(c.admit("lin", limit, t(0)), Admission::Admitted);
        }
        assert_eq!(
            c.admit("lin", limit, t(10)),
            Admission::Refused {
                retry_after: SignedDuration::from_secs(50),
                first: true
            }
        );
        assert!(matches!(
            c.admit("lin", limit, t(20)),
            Admission::Refused { first: false, .. }
        ));
        assert_eq!(c.admit("chen", limit, t(20)), Admission::Admitted);
        // A new window, a new quota.
        assert_eq!(c.admit("lin", limit, t(60)), Admission::Admitted);
    }
}
