//! Per-source outbound quotas: every upstream call takes a permit first, waiting for one
//! only while the inbound request's budget allows, and none goes out during a vendor's
//! cool-down.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::SecretString;
use tokio::time::Instant;

use crate::domain::SourceName;

mod redis;

pub use self::redis::RedisQuotas;

/// A source's quota: a steady rate and the burst it may spend at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Requests that may go out at once after a quiet spell.
    pub burst: NonZeroU32,
}

/// Longest vendor cool-down by default (`rate_limit.max_cool_down_ms`).
pub const DEFAULT_MAX_COOL_DOWN: Duration = Duration::from_secs(60);
/// Default number of replicas sharing a Redis quota (each falls back to this share).
pub const DEFAULT_REPLICAS: u32 = 2;

/// Where source quotas are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateLimitStore {
    /// In this process.
    #[default]
    Memory,
    /// In Redis, shared by every replica.
    Redis,
}

/// `[rate_limit]`: where quotas live, and how long a vendor may hold a source.
#[derive(Debug, Clone)]
pub struct RateLimitStoreConfig {
    /// `store`: `memory` (default) or `redis`.
    pub store: RateLimitStore,
    /// `redis_url`: Redis to share quotas through, when `store = "redis"`.
    pub redis_url: Option<SecretString>,
    /// `replicas`: how many gateway processes share the Redis quota. While Redis is
    /// unreachable each one limits itself to this share of every quota. Default 2.
    pub replicas: Option<NonZeroU32>,
    /// `max_cool_down_ms`: the longest a vendor's `Retry-After` (or throttle) may hold
    /// every call to a source; longer ones are cut to it and logged. Default 60000.
    pub max_cool_down: Duration,
}

impl Default for RateLimitStoreConfig {
    fn default() -> Self {
        Self {
            store: RateLimitStore::default(),
            redis_url: None,
            replicas: None,
            max_cool_down: DEFAULT_MAX_COOL_DOWN,
        }
    }
}

/// Why no permit was given within the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The source's quota has no permit free before the deadline; one frees up after this.
    Quota(Duration),
    /// The vendor told us to hold off, and that lasts past the deadline by this much from now.
    CoolDown(Duration),
}

/// Where source quotas live (this process, or Redis shared by every replica), and the
/// longest cool-down a vendor may impose.
#[derive(Clone)]
pub struct QuotaStore {
    backend: Backend,
    max_cool_down: Duration,
}

#[derive(Clone)]
enum Backend {
    /// One governor bucket per source in this process.
    Memory,
    /// One GCRA per source in Redis.
    Redis {
        /// The shared store.
        redis: Arc<RedisQuotas>,
        /// Replicas sharing it; each falls back to this share of a quota without Redis.
        replicas: NonZeroU32,
    },
}

impl QuotaStore {
    /// The store `[rate_limit]` asks for. Connects to Redis lazily: a Redis that is down at
    /// start is handled like one that goes down later.
    pub fn from_config(config: &RateLimitStoreConfig) -> anyhow::Result<Self> {
        let backend = match (config.store, &config.redis_url) {
            (RateLimitStore::Memory, _) => Backend::Memory,
            (RateLimitStore::Redis, Some(url)) => Backend::Redis {
                redis: Arc::new(RedisQuotas::new(url)?),
                replicas: config
                    .replicas
                    .unwrap_or(NonZeroU32::new(DEFAULT_REPLICAS).unwrap_or(NonZeroU32::MIN)),
            },
            (RateLimitStore::Redis, None) => {
                anyhow::bail!("rate_limit.redis_url is required when store = \"redis\"")
            }
        };
        Ok(Self {
            backend,
            max_cool_down: config.max_cool_down,
        })
    }

    /// The limiter of one source in this store.
    pub fn limiter(&self, source: &SourceName, limit: RateLimit) -> SourceLimiter {
        let mut limiter = SourceLimiter::new(limit);
        limiter.max_cool_down = self.max_cool_down;
        limiter.source = source.to_string();
        if let Backend::Redis { redis, replicas } = &self.backend {
            limiter.shared = Some(Shared {
                redis: redis.clone(),
                source: source.to_string(),
                fallback: RateLimiter::direct(share_of(limit, *replicas)),
            });
        }
        limiter
    }
}

/// `1 / replicas` of `limit`: the rate divided, the burst divided (at least one).
fn share_of(limit: RateLimit, replicas: NonZeroU32) -> Quota {
    let period =
        Duration::from_secs_f64(f64::from(replicas.get()) / f64::from(limit.per_second.get()));
    let burst = NonZeroU32::new(limit.burst.get() / replicas.get()).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(limit.per_second))
        .allow_burst(burst)
}

struct Shared {
    redis: Arc<RedisQuotas>,
    source: String,
    fallback: DefaultDirectRateLimiter,
}

/// Counters of one limiter since start, for `GET /sources`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimiterStats {
    /// Permits given.
    pub granted: u64,
    /// Permits given after waiting for the quota or a cool-down.
    pub waited: u64,
    /// Calls refused because no permit came within their budget.
    pub refused: u64,
    /// Permits taken from the local fallback because Redis was unreachable.
    pub fallback: u64,
    /// Vendor cool-downs cut to the configured maximum.
    pub clamped: u64,
}

/// A source's quota as it stands, for `GET /sources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSnapshot {
    /// `memory` or `redis`.
    pub store: &'static str,
    /// Whether the shared store answers (`None` in memory).
    pub store_reachable: Option<bool>,
    /// What is left of a vendor cool-down, if one holds.
    pub cool_down: Option<Duration>,
    /// The longest cool-down a vendor may set.
    pub max_cool_down: Duration,
    /// Counters since start.
    pub stats: LimiterStats,
}

impl Default for QuotaSnapshot {
    fn default() -> Self {
        Self {
            store: "memory",
            store_reachable: None,
            cool_down: None,
            max_cool_down: DEFAULT_MAX_COOL_DOWN,
            stats: LimiterStats::default(),
        }
    }
}

/// The quota of one source: a governor bucket (GCRA) in this process or a GCRA in Redis,
/// plus the vendor's cool-down.
pub struct SourceLimiter {
    source: String,
    limit: RateLimit,
    max_cool_down: Duration,
    bucket: DefaultDirectRateLimiter,
    shared: Option<Shared>,
    cool_down_until: Mutex<Option<Instant>>,
    granted: AtomicU64,
    waited: AtomicU64,
    refused: AtomicU64,
    fallback: AtomicU64,
    clamped: AtomicU64,
}

impl SourceLimiter {
    /// A full bucket for `limit`, in this process.
    pub fn new(limit: RateLimit) -> Self {
        let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
        Self {
            source: String::new(),
            limit,
            max_cool_down: DEFAULT_MAX_COOL_DOWN,
            bucket: RateLimiter::direct(quota),
            shared: None,
            cool_down_until: Mutex::new(None),
            granted: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            fallback: AtomicU64::new(0),
            clamped: AtomicU64::new(0),
        }
    }

    /// How the quota stands now.
    pub fn snapshot(&self) -> QuotaSnapshot {
        QuotaSnapshot {
            store: self.store(),
            store_reachable: self.shared_store_reachable(),
            cool_down: self.cool_down_remaining(),
            max_cool_down: self.max_cool_down,
            stats: self.stats(),
        }
    }

    /// The quota this limiter enforces.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// `memory` or `redis`.
    fn store(&self) -> &'static str {
        if self.shared.is_some() {
            "redis"
        } else {
            "memory"
        }
    }

    /// Whether the shared store answered its last call (`None`: in-process store).
    fn shared_store_reachable(&self) -> Option<bool> {
        self.shared.as_ref().map(|shared| shared.redis.reachable())
    }

    /// Counters since start.
    fn stats(&self) -> LimiterStats {
        LimiterStats {
            granted: self.granted.load(Ordering::Relaxed),
            waited: self.waited.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            fallback: self.fallback.load(Ordering::Relaxed),
            clamped: self.clamped.load(Ordering::Relaxed),
        }
    }

    /// How long the vendor's cool-down still lasts, as seen by this process.
    pub fn cool_down_remaining(&self) -> Option<Duration> {
        let until = (*self.cool_down_until.lock().ok()?)?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// Holds every call to this source for `wait` (a vendor's `Retry-After`), cut to the
    /// configured maximum so one answer cannot silence a source for long. Never shortens a
    /// cool-down already running. With Redis, every replica holds too. Returns the wait
    /// applied.
    pub async fn cool_down(&self, wait: Duration) -> Duration {
        let wait = if wait > self.max_cool_down {
            self.clamped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                source = %self.source,
                asked_ms = wait.as_millis() as u64,
                applied_ms = self.max_cool_down.as_millis() as u64,
                "Vendor asked to hold this source longer than rate_limit.max_cool_down_ms: holding it for the maximum."
            );
            self.max_cool_down
        } else {
            wait
        };
        let until = Instant::now() + wait;
        if let Ok(mut current) = self.cool_down_until.lock() {
            if current.is_none_or(|current| current < until) {
                *current = Some(until);
            }
        }
        if let Some(shared) = &self.shared {
            shared.redis.cool_down(&shared.source, wait).await;
        }
        wait
    }

    /// Takes one permit, waiting for it (and for any cool-down) only if it frees up before
    /// `deadline`. Otherwise says why and how long until the next permit, without taking one.
    pub async fn acquire(&self, deadline: Instant) -> Result<(), Denied> {
        let mut waited = false;
        let outcome = loop {
            let denied = match self.local_cool_down() {
                Some(left) => Denied::CoolDown(left),
                None => match self.try_take().await {
                    Ok(()) => break Ok(()),
                    Err(denied) => denied,
                },
            };
            let wait = match denied {
                Denied::Quota(wait) | Denied::CoolDown(wait) => wait,
            };
            if Instant::now() + wait > deadline {
                break Err(denied);
            }
            waited = true;
            tokio::time::sleep(wait).await;
        };
        let counter = match (&outcome, waited) {
            (Err(_), _) => &self.refused,
            (Ok(()), true) => {
                self.waited.fetch_add(1, Ordering::Relaxed);
                &self.granted
            }
            (Ok(()), false) => &self.granted,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    fn local_cool_down(&self) -> Option<Duration> {
        self.cool_down_remaining()
    }

    async fn try_take(&self) -> Result<(), Denied> {
        let Some(shared) = &self.shared else {
            return check(&self.bucket).map_err(Denied::Quota);
        };
        match shared.redis.take(&shared.source, self.limit).await {
            Some(outcome) => outcome,
            None => {
                self.fallback.fetch_add(1, Ordering::Relaxed);
                check(&shared.fallback).map_err(Denied::Quota)
            }
        }
    }
}

/// One permit from an in-process bucket, or how long until one frees up.
fn check(bucket: &DefaultDirectRateLimiter) -> Result<(), Duration> {
    bucket
        .check()
        .map_err(|not_until| not_until.wait_time_from(bucket.clock().now()))
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
        let Err(Denied::Quota(refused)) = limiter.acquire(deadline).await else {
            panic!("the third permit must be refused by the quota");
        };
        assert!(refused > Duration::from_millis(100), "{refused:?}");
        assert!(refused <= Duration::from_secs(1), "{refused:?}");
        assert_eq!(limiter.stats().refused, 1);
    }

    #[tokio::test]
    async fn acquire_waits_for_a_permit_when_the_budget_allows() {
        let limiter = SourceLimiter::new(limit(20, 1));
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in 0..3 {
            assert!(limiter.acquire(deadline).await.is_ok());
        }
        assert_eq!(limiter.stats().granted, 3);
        assert!(limiter.stats().waited >= 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cool_down_holds_permits_until_it_ends_and_is_reported_past_the_deadline() {
        let limiter = SourceLimiter::new(limit(100, 100));
        limiter.cool_down(Duration::from_secs(5)).await;
        let short = Instant::now() + Duration::from_secs(1);
        let Err(Denied::CoolDown(left)) = limiter.acquire(short).await else {
            panic!("a cool-down longer than the budget must be reported");
        };
        assert_eq!(left, Duration::from_secs(5));

        let started = Instant::now();
        limiter
            .acquire(started + Duration::from_secs(10))
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_secs(5));
        assert_eq!(limiter.cool_down_remaining(), None);
    }

    #[tokio::test]
    async fn a_cool_down_past_the_maximum_is_cut_to_it_and_counted() {
        let mut limiter = SourceLimiter::new(limit(1, 1));
        limiter.max_cool_down = Duration::from_secs(2);
        let applied = limiter.cool_down(Duration::from_secs(86_400)).await;
        assert_eq!(applied, Duration::from_secs(2));
        assert!(limiter.cool_down_remaining().unwrap() <= Duration::from_secs(2));
        assert_eq!(limiter.stats().clamped, 1);
        assert_eq!(
            limiter.cool_down(Duration::from_secs(1)).await,
            Duration::from_secs(1)
        );
        assert_eq!(limiter.stats().clamped, 1);
    }

    #[tokio::test]
    async fn a_shorter_cool_down_never_shortens_a_running_one() {
        let limiter = SourceLimiter::new(limit(1, 1));
        limiter.cool_down(Duration::from_secs(30)).await;
        limiter.cool_down(Duration::from_secs(1)).await;
        assert!(limiter.cool_down_remaining().unwrap() > Duration::from_secs(20));
    }

    #[test]
    fn the_fallback_share_divides_rate_and_burst() {
        let quota = share_of(limit(5, 5), NonZeroU32::new(2).unwrap());
        assert_eq!(quota.replenish_interval(), Duration::from_millis(400));
        assert_eq!(quota.burst_size().get(), 2);
        let quota = share_of(limit(1, 1), NonZeroU32::new(4).unwrap());
        assert_eq!(quota.replenish_interval(), Duration::from_secs(4));
        assert_eq!(quota.burst_size().get(), 1);
    }
}
