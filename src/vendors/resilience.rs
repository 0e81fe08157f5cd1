//! How one source survives a failing vendor: a circuit breaker, and retries with jittered
//! exponential backoff capped by a retry budget. Used by `Upstream`, never by adapters.

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;
use tower::retry::budget::{Budget, TpsBudget};

/// The knobs of a source's resilience. `Default` is what the gateway runs with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResiliencePolicy {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before letting one probe through.
    pub open_for: Duration,
    /// Most attempts of one call, the first included.
    pub max_attempts: u32,
    /// First backoff; each retry doubles it, up to `max_backoff`, fully jittered.
    pub base_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// Backoff after a vendor throttle that gave no `Retry-After`.
    pub throttle_backoff: Duration,
    /// Retries may add this share of the calls made over `budget_window`…
    pub retry_ratio: f32,
    /// …plus this many retries per second, so a quiet source can still retry.
    pub min_retries_per_second: u32,
    /// The window the retry budget is counted over.
    pub budget_window: Duration,
}

impl Default for ResiliencePolicy {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(10),
            max_attempts: 3,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            throttle_backoff: Duration::from_secs(2),
            retry_ratio: 0.1,
            min_retries_per_second: 1,
            budget_window: Duration::from_secs(10),
        }
    }
}

impl ResiliencePolicy {
    /// One attempt per call and a breaker that never opens: for tests of how an adapter
    /// reads one answer.
    pub fn single_attempt() -> Self {
        Self {
            failure_threshold: u32::MAX,
            max_attempts: 1,
            ..Self::default()
        }
    }
}

/// A breaker's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused at once until the cool-down ends.
    Open,
    /// One probe is allowed; its outcome closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// What `GET /sources` shows of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSnapshot {
    /// Where it stands now.
    pub state: BreakerState,
    /// Failures in a row (reset by a success).
    pub consecutive_failures: u32,
    /// While open: how long until a probe may go.
    pub retry_in: Option<Duration>,
    /// Times it opened since start.
    pub opened: u64,
}

impl Default for BreakerSnapshot {
    /// A breaker that never saw a call.
    fn default() -> Self {
        Self {
            state: BreakerState::Closed,
            consecutive_failures: 0,
            retry_in: None,
            opened: 0,
        }
    }
}

#[derive(Debug)]
struct BreakerInner {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    probe_in_flight: bool,
    opened: u64,
}

/// Opens after `failure_threshold` failures in a row; after `open_for` lets one probe
/// through, which closes it on success and reopens it on failure.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    inner: Mutex<BreakerInner>,
}

/// Leave to make one call. A probe that is dropped unrecorded (its request was cancelled)
/// frees the probe slot for the next call.
#[must_use]
pub struct Admission<'a> {
    breaker: &'a Breaker,
    probe: bool,
    recorded: bool,
}

impl Admission<'_> {
    /// The call reached the vendor and it answered (anything but a failure).
    pub fn success(mut self) {
        self.recorded = true;
        self.breaker.record(true);
    }

    /// The call failed in a way that says the vendor is unwell.
    pub fn failure(mut self) {
        self.recorded = true;
        self.breaker.record(false);
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if self.probe && !self.recorded {
            self.breaker.with(|inner| inner.probe_in_flight = false);
        }
    }
}

impl Breaker {
    /// A closed breaker.
    pub fn new(policy: &ResiliencePolicy) -> Self {
        Self {
            threshold: policy.failure_threshold.max(1),
            open_for: policy.open_for,
            inner: Mutex::new(BreakerInner {
                consecutive_failures: 0,
                open_until: None,
                probe_in_flight: false,
                opened: 0,
            }),
        }
    }

    /// Leave to call, or how long until a probe may go.
    pub fn admit(&self) -> Result<Admission<'_>, Duration> {
        let now = Instant::now();
        let probe = self.with(|inner| match inner.open_until {
            None => Ok(false),
            Some(until) if now < until => Err(until - now),
            // Half-open: one probe at a time; the others wait for its verdict.
            Some(_) if inner.probe_in_flight => Err(Duration::from_secs(1)),
            Some(_) => {
                inner.probe_in_flight = true;
                Ok(true)
            }
        })?;
        Ok(Admission {
            breaker: self,
            probe,
            recorded: false,
        })
    }

    /// Its state now.
    pub fn snapshot(&self) -> BreakerSnapshot {
        let now = Instant::now();
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let (state, retry_in) = match inner.open_until {
            None => (BreakerState::Closed, None),
            Some(until) if now < until => (BreakerState::Open, Some(until - now)),
            Some(_) => (BreakerState::HalfOpen, None),
        };
        BreakerSnapshot {
            state,
            consecutive_failures: inner.consecutive_failures,
            retry_in,
            opened: inner.opened,
        }
    }

    fn record(&self, ok: bool) {
        let (threshold, open_for) = (self.threshold, self.open_for);
        let opened = self.with(|inner| {
            inner.probe_in_flight = false;
            if ok {
                inner.consecutive_failures = 0;
                inner.open_until = None;
                return false;
            }
            inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
            // A failed probe reopens at once; a closed breaker opens at the threshold.
            let trips = inner.open_until.is_some() || inner.consecutive_failures >= threshold;
            if trips {
                inner.open_until = Some(Instant::now() + open_for);
                inner.opened += 1;
            }
            trips
        });
        if opened {
            tracing::warn!(
                open_for_ms = open_for.as_millis() as u64,
                "Source keeps failing: its circuit breaker opened."
            );
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut BreakerInner) -> T) -> T {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        f(&mut inner)
    }
}

/// When to retry, and whether the budget allows it.
pub struct Retries {
    policy: ResiliencePolicy,
    budget: TpsBudget,
}

impl Retries {
    /// A fresh budget.
    pub fn new(policy: &ResiliencePolicy) -> Self {
        Self {
            policy: *policy,
            budget: TpsBudget::new(
                policy.budget_window,
                policy.min_retries_per_second,
                policy.retry_ratio,
            ),
        }
    }

    /// Counts one first attempt: it earns the budget a share of a retry.
    pub fn deposit(&self) {
        self.budget.deposit();
    }

    /// Whether attempt number `attempt` (1 = the first) may be followed by another, and
    /// after how long. Takes a retry from the budget when it says yes.
    pub fn next(&self, attempt: u32, deadline: Instant, at_least: Duration) -> Option<Duration> {
        if attempt >= self.policy.max_attempts {
            return None;
        }
        let delay = self.backoff(attempt).max(at_least);
        // Waiting only to run out of budget helps nobody.
        if Instant::now() + delay >= deadline {
            return None;
        }
        self.budget.withdraw().then_some(delay)
    }

    /// The backoff after a vendor throttle without `Retry-After`.
    pub fn throttle_backoff(&self) -> Duration {
        self.policy.throttle_backoff
    }

    /// Full jitter: uniform in 0..=min(max, base × 2^(attempt − 1)).
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .policy
            .base_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.policy.max_backoff);
        ceiling.mul_f64(rand::rng().random_range(0.0..=1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ResiliencePolicy {
        ResiliencePolicy {
            failure_threshold: 3,
            open_for: Duration::from_secs(10),
            ..ResiliencePolicy::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_breaker_opens_after_the_threshold_then_lets_one_probe_through() {
        let breaker = Breaker::new(&policy());
        for _ in 0..2 {
            breaker.admit().unwrap().failure();
        }
        assert_eq!(breaker.snapshot().state, BreakerState::Closed);
        breaker.admit().unwrap().failure();
        assert_eq!(breaker.snapshot().state, BreakerState::Open);
        let wait = breaker.admit().err().unwrap();
        assert_eq!(wait, Duration::from_secs(10));

        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.snapshot().state, BreakerState::HalfOpen);
        let probe = breaker.admit().unwrap();
        assert!(breaker.admit().is_err(), "only one probe at a time");
        probe.success();
        assert_eq!(breaker.snapshot().state, BreakerState::Closed);
        assert_eq!(breaker.snapshot().consecutive_failures, 0);
        assert_eq!(breaker.snapshot().opened, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_reopens_the_breaker_and_a_dropped_one_frees_the_slot() {
        let breaker = Breaker::new(&policy());
        for _ in 0..3 {
            breaker.admit().unwrap().failure();
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        drop(breaker.admit().unwrap());
        breaker.admit().unwrap().failure();
        assert_eq!(breaker.snapshot().state, BreakerState::Open);
        assert_eq!(breaker.snapshot().opened, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count_of_failures() {
        let breaker = Breaker::new(&policy());
        breaker.admit().unwrap().failure();
        breaker.admit().unwrap().failure();
        breaker.admit().unwrap().success();
        breaker.admit().unwrap().failure();
        breaker.admit().unwrap().failure();
        assert_eq!(breaker.snapshot().state, BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_the_attempt_cap_and_the_deadline() {
        let retries = Retries::new(&ResiliencePolicy::default());
        let far = Instant::now() + Duration::from_secs(60);
        assert!(retries.next(1, far, Duration::ZERO).is_some());
        assert!(retries.next(3, far, Duration::ZERO).is_none());
        let near = Instant::now() + Duration::from_millis(500);
        assert!(retries.next(1, near, Duration::from_secs(1)).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_allows_about_a_tenth_of_the_calls_as_retries() {
        let policy = ResiliencePolicy {
            min_retries_per_second: 0,
            ..ResiliencePolicy::default()
        };
        let retries = Retries::new(&policy);
        let far = Instant::now() + Duration::from_secs(60);
        for _ in 0..200 {
            retries.deposit();
        }
        let allowed = (0..200)
            .filter(|_| retries.next(1, far, Duration::ZERO).is_some())
            .count();
        assert!((15..=25).contains(&allowed), "{allowed}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let retries = Retries::new(&ResiliencePolicy::default());
        for attempt in 1..20 {
            let ceiling = Duration::from_millis(100 * (1 << (attempt - 1).min(10)))
                .min(Duration::from_secs(2));
            assert!(retries.backoff(attempt) <= ceiling);
        }
    }
}
