//! The fault engine: per vendor, the configured latency, a token-bucket throttle, hangs and
//! 5xx draws from a generator seeded per vendor. It decides; the gate in `http` answers.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

/// Faults one vendor injects. `Default` injects none.
#[derive(Clone, Debug)]
pub struct Faults {
    /// Added before every answer, including throttled and failed ones.
    pub latency: Duration,
    /// Fraction of requests answered with the vendor's 5xx.
    pub error_rate: f64,
    /// Fraction of requests that hang for `hang` and then get a 504.
    pub timeout_rate: f64,
    /// How long a timed-out request hangs. Default 30 s.
    pub hang: Duration,
    /// Vendor-side rate limit; over it, the vendor's 429.
    pub throttle: Option<Throttle>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            error_rate: 0.0,
            timeout_rate: 0.0,
            hang: Duration::from_secs(30),
            throttle: None,
        }
    }
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    /// Refill rate. 0 means the bucket never refills.
    pub per_second: u32,
    /// Bucket size; at least 1 is used.
    pub burst: u32,
    /// Value of the `Retry-After` header on a 429, when set.
    pub retry_after_seconds: Option<u32>,
}

/// One vendor's faults and the state their draws and throttle keep.
pub(crate) struct FaultState {
    faults: Faults,
    rng: StdRng,
    bucket: Option<Bucket>,
}

impl FaultState {
    pub(crate) fn new(faults: Faults, seed: u64) -> Self {
        let mut state = Self {
            faults: Faults::default(),
            rng: StdRng::seed_from_u64(seed),
            bucket: None,
        };
        state.replace(faults);
        state
    }

    pub(crate) fn replace(&mut self, faults: Faults) {
        self.bucket = faults.throttle.map(|throttle| Bucket {
            tokens: f64::from(throttle.burst.max(1)),
            last: None,
        });
        self.faults = faults;
    }

    pub(crate) fn decide(&mut self, now: Instant, throttle_exempt: bool) -> (Duration, Verdict) {
        let latency = self.faults.latency;
        if let (Some(throttle), Some(bucket), false) =
            (self.faults.throttle, self.bucket.as_mut(), throttle_exempt)
        {
            if !bucket.take(now, throttle) {
                return (latency, Verdict::Throttled(throttle.retry_after_seconds));
            }
        }
        if self.faults.timeout_rate > 0.0 && self.rng.random::<f64>() < self.faults.timeout_rate {
            return (latency, Verdict::Hang(self.faults.hang));
        }
        if self.faults.error_rate > 0.0 && self.rng.random::<f64>() < self.faults.error_rate {
            return (latency, Verdict::Error);
        }
        (latency, Verdict::Pass)
    }
}

struct Bucket {
    tokens: f64,
    last: Option<Instant>,
}

impl Bucket {
    fn take(&mut self, now: Instant, throttle: Throttle) -> bool {
        let capacity = f64::from(throttle.burst.max(1));
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * f64::from(throttle.per_second)).min(capacity);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the engine decided for one request.
pub(crate) enum Verdict {
    Pass,
    Throttled(Option<u32>),
    Hang(Duration),
    Error,
}
