//! The shared quota store: one GCRA per source in Redis, taken by one atomic script per
//! permit on Redis's own clock, so every replica draws from the same quota.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::{Denied, RateLimit};

/// Longest wait for one Redis answer before the local fallback is used.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How long Redis is left alone after a failed call.
const RETRY_REDIS_AFTER: Duration = Duration::from_secs(1);
/// Prefix of every key the gateway writes.
const KEY_PREFIX: &str = "conversation-gateway:quota:";

/// Takes a permit. KEYS[1]: the source's theoretical arrival time (TAT) in microseconds on
/// Redis's clock; KEYS[2]: the vendor cool-down (exists while it lasts). ARGV[1]: the
/// emission interval in microseconds (1 s / per_second); ARGV[2]: the burst.
/// Returns {0, 0} for a permit, {1, µs} when the quota frees one up after µs, {2, µs} while
/// the cool-down lasts µs more. A burst of B lets B calls through at once, then one per
/// interval: at most B + per_second × t calls in any t seconds.
const TAKE: &str = r"
local cool = redis.call('PTTL', KEYS[2])
if cool > 0 then return {2, cool * 1000} end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then return {1, allow_at - now} end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {0, 0}
";

/// Starts or extends a cool-down. KEYS[1]: the cool-down key; ARGV[1]: its length in ms.
/// Never shortens one already running.
const COOL_DOWN: &str = r"
local left = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[1])
if left < wanted then redis.call('SET', KEYS[1], '1', 'PX', wanted) end
return 0
";

/// The Redis every replica's quotas live in. Connects lazily and reconnects by itself.
pub struct RedisQuotas {
    connection: ConnectionManager,
    take: Script,
    cool_down: Script,
    /// Set after a failed call: until then Redis is not asked.
    resting_until: Mutex<Option<Instant>>,
    reachable: AtomicBool,
}

impl RedisQuotas {
    /// A store on `url` (`redis://host:port[/db]`). Nothing is sent until the first permit.
    pub fn new(url: &SecretString) -> anyhow::Result<Self> {
        // Not `?` on the error itself: its text may quote the URL, password included.
        let client = redis::Client::open(url.expose_secret())
            .map_err(|_| anyhow::anyhow!("rate_limit.redis_url is not a valid Redis URL"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|_| anyhow::anyhow!("could not set up the Redis connection"))?;
        Ok(Self {
            connection,
            take: Script::new(TAKE),
            cool_down: Script::new(COOL_DOWN),
            resting_until: Mutex::new(None),
            reachable: AtomicBool::new(true),
        })
    }

    /// Whether the last call reached Redis.
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// Takes a permit of `source`'s quota. `None` when Redis cannot be asked: the caller
    /// then uses its local fallback.
    pub(super) async fn take(&self, source: &str, limit: RateLimit) -> Option<Result<(), Denied>> {
        let interval_us = 1_000_000 / u64::from(limit.per_second.get());
        let mut invocation = self.take.prepare_invoke();
        invocation
            .key(tat_key(source))
            .key(cool_down_key(source))
            .arg(interval_us.max(1))
            .arg(limit.burst.get());
        let (kind, wait_us): (u8, u64) = self
            .call(|mut connection| async move { invocation.invoke_async(&mut connection).await })
            .await?;
        let wait = Duration::from_micros(wait_us);
        Some(match kind {
            0 => Ok(()),
            2 => Err(Denied::CoolDown(wait)),
            _ => Err(Denied::Quota(wait)),
        })
    }

    /// Holds `source` on every replica for `wait`.
    pub(super) async fn cool_down(&self, source: &str, wait: Duration) {
        let mut invocation = self.cool_down.prepare_invoke();
        invocation
            .key(cool_down_key(source))
            .arg(wait.as_millis().clamp(1, u128::from(u32::MAX)) as u64);
        let _: Option<i64> = self
            .call(|mut connection| async move { invocation.invoke_async(&mut connection).await })
            .await;
    }

    async fn call<T, F>(&self, run: impl FnOnce(ConnectionManager) -> F) -> Option<T>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        if self
            .resting_until
            .lock()
            .ok()
            .and_then(|until| *until)
            .is_some_and(|until| Instant::now() < until)
        {
            return None;
        }
        let outcome = tokio::time::timeout(CALL_TIMEOUT, run(self.connection.clone())).await;
        match outcome {
            Ok(Ok(value)) => {
                if !self.reachable.swap(true, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: quotas are shared again.");
                }
                Some(value)
            }
            failed => {
                if let Ok(mut until) = self.resting_until.lock() {
                    *until = Some(Instant::now() + RETRY_REDIS_AFTER);
                }
                if self.reachable.swap(false, Ordering::Relaxed) {
                    // The error's text may name the host; the kind is enough.
                    let kind = match &failed {
                        Ok(Err(err)) => format!("{:?}", err.kind()),
                        _ => "timeout".to_owned(),
                    };
                    tracing::warn!(
                        error = %kind,
                        "Redis is unreachable: each source falls back to its local share of the quota."
                    );
                }
                None
            }
        }
    }
}

fn tat_key(source: &str) -> String {
    format!("{KEY_PREFIX}{source}:tat")
}

fn cool_down_key(source: &str) -> String {
    format!("{KEY_PREFIX}{source}:cool-down")
}
