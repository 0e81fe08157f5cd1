//! Per-source outbound quotas: every upstream call takes a permit first, waiting for one
//! only while the inbound request's budget allows.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// A source's quota: a steady rate and the burst it may spend at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Requests that may go out at once after a quiet spell.
    pub burst: NonZeroU32,
}

/// The token bucket of one source (GCRA, in this process).
pub struct SourceLimiter {
    limit: RateLimit,
    bucket: DefaultDirectRateLimiter,
}

impl SourceLimiter {
    /// A full bucket for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
        Self {
            limit,
            bucket: RateLimiter::direct(quota),
        }
    }

    /// The quota this limiter enforces.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes one permit, waiting for it only if it frees up before `deadline`.
    /// Otherwise returns how long until the next permit, without taking one.
    pub async fn acquire(&self, deadline: Instant) -> Result<(), Duration> {
        loop {
            let wait = match self.bucket.check() {
                Ok(()) => return Ok(()),
                Err(not_until) => not_until.wait_time_from(self.bucket.clock().now()),
            };
            if Instant::now() + wait > deadline {
                return Err(wait);
            }
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(per_second: u32, burst: u32) -> RateLimit {
        RateLimit {
            per_second: NonZeroU32::new(per_second).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        }
    }

    #[tokio::test]
    async fn acquire_refuses_without_waiting_when_no_permit_frees_up_before_the_deadline() {
        let limiter = SourceLimiter::new(limit(1, 2));
        let deadline = Instant::now() + Duration::from_millis(100);
        assert!(limiter.acquire(deadline).await.is_ok());
        assert!(limiter.acquire(deadline).await.is_ok());
        let refused = limiter.acquire(deadline).await.unwrap_err();
        assert!(refused > Duration::from_millis(100), "{refused:?}");
        assert!(refused <= Duration::from_secs(1), "{refused:?}");
    }

    #[tokio::test]
    async fn acquire_waits_for_a_permit_when_the_budget_allows() {
        let limiter = SourceLimiter::new(limit(20, 1));
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in 0..3 {
            assert!(limiter.acquire(deadline).await.is_ok());
        }
    }
}
