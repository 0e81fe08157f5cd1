//! `[rate_limit]`: where source quotas live; and the quota shape every source and
//! `server.consumer_rate_limit` take (`{ tier }` or `{ per_second, burst }`).

use std::num::NonZeroU32;

use serde::Deserialize;

use super::error::{ConfigError, invalid};
use super::millis;
pub use crate::ratelimit::{
    DEFAULT_MAX_COOL_DOWN, DEFAULT_REPLICAS, RateLimit, RateLimitStore, RateLimitStoreConfig,
};
use secrecy::SecretString;

/// Rate-limit tier names and their quotas.
pub fn tier(name: &str) -> Option<RateLimit> {
    let (per_second, burst) = match name {
        "low" => (1, 2),
        "medium" => (5, 5),
        "high" => (20, 20),
        _ => return None,
    };
    Some(RateLimit {
        per_second: NonZeroU32::new(per_second)?,
        burst: NonZeroU32::new(burst)?,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimit {
    pub(super) tier: Option<String>,
    per_second: Option<u32>,
    burst: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    store: Option<String>,
    redis_url: Option<String>,
    replicas: Option<u32>,
    max_cool_down_ms: Option<u64>,
}

impl RawStore {
    pub(super) fn validate(self) -> Result<RateLimitStoreConfig, ConfigError> {
        let store = match self.store.as_deref() {
            None | Some("memory") => RateLimitStore::Memory,
            Some("redis") => RateLimitStore::Redis,
            Some(_) => return Err(invalid("rate_limit.store", "must be `memory` or `redis`")),
        };
        if store == RateLimitStore::Redis && self.redis_url.is_none() {
            return Err(invalid(
                "rate_limit.redis_url",
                "is required when store = \"redis\"",
            ));
        }
        let replicas = match self.replicas {
            None => None,
            Some(n) => Some(
                NonZeroU32::new(n)
                    .filter(|n| n.get() <= 1000)
                    .ok_or_else(|| invalid("rate_limit.replicas", "must be 1 to 1000"))?,
            ),
        };
        let max_cool_down = millis(
            self.max_cool_down_ms,
            "rate_limit.max_cool_down_ms",
            DEFAULT_MAX_COOL_DOWN,
            false,
        )?;

        Ok(RateLimitStoreConfig {
            store,
            redis_url: self.redis_url.map(SecretString::from),
            replicas,
            max_cool_down,
        })
    }
}

/// The quota `raw` gives at `key`, or `default_tier`'s when it is absent.
pub(super) fn rate_limit(
    raw: Option<RawRateLimit>,
    default_tier: &str,
    key: &str,
) -> Result<RateLimit, ConfigError> {
    let Some(raw) = raw else {
        return tier(default_tier).ok_or_else(|| invalid(key, "unknown default tier"));
    };
    match (raw.tier, raw.per_second, raw.burst) {
        (Some(name), None, None) => tier(&name)
            .ok_or_else(|| invalid(format!("{key}.tier"), "must be `low`, `medium` or `high`")),
        (None, Some(per_second), burst) => {
            let per_second = NonZeroU32::new(per_second)
                .filter(|n| n.get() <= 10_000)
                .ok_or_else(|| {
                    invalid(format!("{key}.per_second"), "must be between 1 and 10000")
                })?;
            let burst = match burst {
                None => per_second,
                Some(burst) => NonZeroU32::new(burst)
                    .filter(|n| n.get() <= 10_000)
                    .ok_or_else(|| {
                        invalid(format!("{key}.burst"), "must be between 1 and 10000")
                    })?,
            };
            Ok(RateLimit { per_second, burst })
        }
        (None, None, Some(_)) => Err(invalid(
            format!("{key}.per_second"),
            "is required with `burst`",
        )),
        (None, None, None) => Err(invalid(key, "needs `tier` or `per_second`")),
        (Some(_), _, _) => Err(invalid(
            key,
            "takes either `tier` or `per_second`/`burst`, not both",
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::super::Config;
    use super::super::testing::{env, error_of};

    #[test]
    fn rate_limit_replicas_is_optional_and_checked() {
        let config = Config::parse(
            "[rate_limit]\nstore = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\nreplicas = 3\n",
            env,
        )
        .unwrap();
        assert_eq!(config.rate_limit.replicas.map(NonZeroU32::get), Some(3));
        assert_eq!(Config::parse("", env).unwrap().rate_limit.replicas, None);
        assert!(error_of("[rate_limit]\nreplicas = 0\n").contains("rate_limit.replicas"));
    }
}
