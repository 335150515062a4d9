//! A consecutive-failure circuit breaker: closed → open (fail fast for a cooldown) →
//! half-open (one trial call) → closed or open again.
//!
//! Not security-sensitive; it protects BLI and our queriers' time when the service is down.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Where the breaker stands, as operators watch it (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Calls fail fast until the cooldown ends.
    Open,
    /// The cooldown ended: the next call (or the one running) is the trial that closes or
    /// reopens the circuit.
    HalfOpen,
}

impl CircuitState {
    pub const ALL: [CircuitState; 3] = [Self::Closed, Self::Open, Self::HalfOpen];

    /// Stable name (a metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Breaker {
    /// Consecutive service failures that open the circuit; 0 disables the breaker.
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_in_flight: bool,
}

/// Leave to make one call; report its outcome with `success` or `failure`. Dropping it
/// unreported (the call was cancelled) frees a half-open trial without counting anything.
#[derive(Debug)]
pub(crate) struct Admission<'a> {
    breaker: &'a Breaker,
    trial: bool,
    reported: bool,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold,
            cooldown,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another call panicked mid-update; the counters stay usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `None` when the circuit is open (or half-open with its trial already running).
    pub(crate) fn admit(&self) -> Option<Admission<'_>> {
        let mut state = self.lock();
        let trial = match state.open_until {
            None => false,
            Some(until) if Instant::now() < until => return None,
            Some(_) if state.trial_in_flight => return None,
            Some(_) => {
                state.trial_in_flight = true;
                true
            }
        };
        Some(Admission {
            breaker: self,
            trial,
            reported: false,
        })
    }

    pub(crate) fn state(&self) -> CircuitState {
        match self.lock().open_until {
            None => CircuitState::Closed,
            Some(until) if Instant::now() < until => CircuitState::Open,
            Some(_) => CircuitState::HalfOpen,
        }
    }

    /// Whether calls are currently being refused without trying.
    pub(crate) fn is_open(&self) -> bool {
        let state = self.lock();
        state.open_until.is_some_and(|until| Instant::now() < until) || state.trial_in_flight
    }
}

impl Admission<'_> {
    pub(crate) fn success(mut self) {
        self.reported = true;
        let mut state = self.breaker.lock();
        state.consecutive_failures = 0;
        state.open_until = None;
        if self.trial {
            state.trial_in_flight = false;
        }
    }

    pub(crate) fn failure(mut self) {
        self.reported = true;
        let breaker = self.breaker;
        let mut state = breaker.lock();
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        if self.trial {
            state.trial_in_flight = false;
            state.open_until = Some(Instant::now() + breaker.cooldown);
        } else if breaker.threshold > 0 && state.consecutive_failures >= breaker.threshold {
            state.open_until = Some(Instant::now() + breaker.cooldown);
        }
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if !self.reported && self.trial {
            self.breaker.lock().trial_in_flight = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_allows_one_trial_after_cooldown() {
        let b = Breaker::new(2, Duration::from_millis(30));
        b.admit().unwrap().failure();
        assert!(!b.is_open());
        b.admit().unwrap().failure();
        assert!(b.admit().is_none(), "open after two failures");
        std::thread::sleep(Duration::from_millis(40));
        let trial = b.admit().unwrap();
        assert!(b.admit().is_none(), "only one trial while half-open");
        trial.failure();
        assert!(b.admit().is_none(), "failed trial reopens");
        std::thread::sleep(Duration::from_millis(40));
        b.admit().unwrap().success();
        assert!(!b.is_open());
        assert!(b.admit().is_some());
    }

    #[test]
    fn the_state_follows_failures_cooldown_and_trial() {
        let b = Breaker::new(2, Duration::from_secs(3600));
        assert_eq!(b.state(), CircuitState::Closed);
        b.admit().unwrap().failure();
        assert_eq!(
            b.state(),
            CircuitState::Closed,
            "one failure is below the threshold"
        );
        b.admit().unwrap().failure();
        assert_eq!(b.state(), CircuitState::Open);
        // A cooldown of zero ends at once: the next call is the trial.
        let b = Breaker::new(1, Duration::ZERO);
        b.admit().unwrap().failure();
        assert_eq!(b.state(), CircuitState::HalfOpen);
        let trial = b.admit().unwrap();
        assert_eq!(b.state(), CircuitState::HalfOpen);
        trial.success();
        assert_eq!(b.state(), CircuitState::Closed);
    }

    #[test]
    fn a_cancelled_trial_frees_the_half_open_slot() {
        let b = Breaker::new(1, Duration::from_millis(10));
        b.admit().unwrap().failure();
        std::thread::sleep(Duration::from_millis(15));
        drop(b.admit().unwrap());
        assert!(b.admit().is_some());
    }
}
