//! The configuration file: TOML with `${NAME}` expansion, validated at start with every
//! error naming its key. The only module that reads the process environment.
//!
//! One file per section; `[[sources]]` keeps the keys every source has in `sources.rs` and
//! hands the rest of each entry to its vendor's `config.rs` (`crate::vendors`).

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

mod auth;
mod error;
mod expand;
mod server;
mod sources;
mod store;
mod telemetry;

pub use auth::{AuthConfig, SHA256_KEY_PREFIX};
pub use error::ConfigError;
use error::invalid;
pub use server::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_LISTEN,
    DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_RANGE_DAYS, DEFAULT_MAX_TRANSCRIPT_BYTES, DEFAULT_MAX_URI_BYTES,
    DEFAULT_MAX_VENDOR_BODY_BYTES, DEFAULT_MAX_VENDOR_BYTES_IN_FLIGHT, DEFAULT_REQUEST_TIMEOUT,
    MAX_URI_BYTES_CEILING, ServerConfig,
};
pub use sources::{DEFAULT_SOURCE_TIMEOUT, SourceConfig, VendorSettings};
pub use store::{
    DEFAULT_MAX_COOL_DOWN, DEFAULT_REPLICAS, RateLimit, RateLimitStore, RateLimitStoreConfig, tier,
};
pub use telemetry::{DEFAULT_SERVICE_NAME, TelemetryConfig};

/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "GATEWAY_CONFIG";
/// Environment variable overriding the listen address.
pub const LISTEN_ENV: &str = "GATEWAY_LISTEN";
/// Default lifetime of cached vendor pages.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// Default most items (conversations or messages) each cache holds.
pub const DEFAULT_CACHE_MAX_ITEMS: u64 = 50_000;

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `[cursor]`.
    pub cursor: CursorConfig,
    /// `[rate_limit]`.
    pub rate_limit: RateLimitStoreConfig,
    /// `[cache]`.
    pub cache: CacheConfig,
    /// `[telemetry]`.
    pub telemetry: TelemetryConfig,
    /// `[[sources]]`, in file order.
    pub sources: Vec<SourceConfig>,
}

/// `[cursor]`: page tokens.
#[derive(Debug, Clone, Default)]
pub struct CursorConfig {
    /// `secret`: HMAC key of page tokens; replicas must share it. When absent, a random key
    /// is made at start (tokens then only work on this process, until it restarts).
    pub secret: Option<SecretString>,
}

/// `[cache]`: short-lived cache of vendor answers.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// `ttl_ms`: how long a vendor page or transcript is reused. Default 30000; 0 turns the
    /// cache off.
    pub ttl: Duration,
    /// `max_items`: most items each of the three caches (window slices, vendor pages,
    /// messages) holds, one per conversation or message. Default 50000.
    pub max_items: u64,
}

impl CacheConfig {
    /// A cache kept for `ttl`, of the default size.
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl,
            max_items: DEFAULT_CACHE_MAX_ITEMS,
        }
    }
}

// ---- raw file shape ----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: server::RawServer,
    #[serde(default)]
    auth: auth::RawAuth,
    #[serde(default)]
    cursor: RawCursor,
    #[serde(default)]
    rate_limit: store::RawStore,
    #[serde(default)]
    cache: RawCache,
    #[serde(default)]
    telemetry: telemetry::RawTelemetry,
    /// Each entry is read by `sources.rs`: the common keys there, the rest by its vendor.
    #[serde(default)]
    sources: Vec<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCursor {
    secret: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    ttl_ms: Option<u64>,
    max_items: Option<u64>,
}

impl Config {
    /// Reads and validates `path`, expanding `${NAME}` from the process environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Read {
            path: path.display().to_string(),
            reason: err.to_string(),
        })?;
        Self::parse(&text, |name| std::env::var(name).ok())
    }

    /// The config file named by `GATEWAY_CONFIG`, if set.
    pub fn path_from_env() -> Option<std::path::PathBuf> {
        std::env::var_os(CONFIG_ENV).map(Into::into)
    }

    /// Parses `text`, expanding `${NAME}` through `lookup` (tests pass a map).
    pub fn parse(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut value: toml::Value =
            toml::from_str(text).map_err(|err| ConfigError::Syntax(err.message().to_owned()))?;
        let mut secrets = BTreeSet::new();
        expand::expand(&mut value, "", &lookup, &mut secrets)?;
        let raw: RawConfig = serde_path_to_error::deserialize(value).map_err(|err| {
            let key = err.path().to_string();
            let mut message = err.into_inner().to_string();
            // A type error may quote the value; never let an expanded variable through.
            for secret in &secrets {
                message = message.replace(secret.as_str(), "[redacted]");
            }
            invalid(key, message)
        })?;
        raw.validate(&secrets)
    }

    /// A summary with every secret redacted, for `check-config`.
    pub fn redacted_summary(&self) -> String {
        let mut out = format!(
            "listen = {}\nrequest_timeout_ms = {}\nmax_range_days = {}\napi_keys = {} configured{}\ncursor secret = {}\nrate_limit store = {:?} (replicas sharing it: {}), max_cool_down_ms = {}\ncache ttl_ms = {}, max_items = {}\n",
            self.server.listen,
            self.server.request_timeout.as_millis(),
            self.server.max_range_days,
            self.auth.api_keys.len(),
            if self.auth.api_keys.is_empty() {
                " (API is open)"
            } else {
                ""
            },
            if self.cursor.secret.is_some() {
                "[redacted]"
            } else {
                "random per process"
            },
            self.rate_limit.store,
            self.rate_limit
                .replicas
                .map_or(store::DEFAULT_REPLICAS, NonZeroU32::get),
            self.rate_limit.max_cool_down.as_millis(),
            self.cache.ttl.as_millis(),
            self.cache.max_items,
        );
        out.push_str(&format!(
            "public docs = {}, public metrics = {}\nmax_uri_bytes = {}, max_header_bytes = {}, max_concurrent_requests = {}, consumer_rate_limit = {}\nheader_read_timeout_ms = {}, keep_alive_timeout_ms = {}, max_connections = {}\n",
            self.auth.public_docs,
            self.auth.public_metrics,
            self.server.max_uri_bytes,
            self.server.max_header_bytes,
            self.server.max_concurrent_requests,
            self.server
                .consumer_rate_limit
                .map_or("none".to_owned(), |limit| format!(
                    "{}/s burst {}",
                    limit.per_second, limit.burst
                )),
            self.server.header_read_timeout.as_millis(),
            self.server.keep_alive_timeout.as_millis(),
            self.server.max_connections,
        ));
        out.push_str(&format!(
            "max_vendor_body_bytes = {}, max_transcript_bytes = {}, max_vendor_bytes_in_flight = {}\n",
            self.server.max_vendor_body_bytes,
            self.server.max_transcript_bytes,
            self.server.max_vendor_bytes_in_flight,
        ));
        match &self.telemetry.otlp_endpoint {
            None => out.push_str("telemetry = off (no otlp_endpoint)\n"),
            Some(endpoint) => out.push_str(&format!(
                "telemetry otlp_endpoint = {} (OTLP/HTTP protobuf), service_name = {}, sampling_ratio = {}\n",
                redact_url(endpoint),
                self.telemetry.service_name,
                self.telemetry.sampling_ratio,
            )),
        }
        for source in &self.sources {
            let transcript_hosts = match &source.vendor {
                VendorSettings::Megaview(settings) => format!(
                    " transcript_hosts=[{}]",
                    settings
                        .transcript_hosts
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => String::new(),
            };
            out.push_str(&format!(
                "source {} vendor={} base_url={} timeout_ms={} timezone={} rate={}/s burst={} max_concurrent_reads={} max_items_per_read={}{transcript_hosts} credentials=[redacted]\n",
                source.name,
                source.vendor_kind(),
                redact_url(&source.base_url),
                source.timeout.as_millis(),
                source.timezone,
                source.rate_limit.per_second,
                source.rate_limit.burst,
                source.max_concurrent_reads,
                source.max_items_per_read,
            ));
        }
        out
    }
}

/// A URL without user info or query (either may hold a secret).
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

impl RawConfig {
    fn validate(self, secrets: &BTreeSet<String>) -> Result<Config, ConfigError> {
        let entries = sources::entries(self.sources, secrets)?;
        let server = self.server.validate()?;
        let auth = self.auth.validate()?;
        let secret = match self.cursor.secret {
            Some(secret) if secret.len() < 16 => {
                return Err(invalid("cursor.secret", "must be at least 16 characters"));
            }
            other => other.map(SecretString::from),
        };
        let rate_limit = self.rate_limit.validate()?;
        let cache_ttl = millis(self.cache.ttl_ms, "cache.ttl_ms", DEFAULT_CACHE_TTL, true)?;
        let max_items = match self.cache.max_items {
            None => DEFAULT_CACHE_MAX_ITEMS,
            Some(0) => {
                return Err(invalid(
                    "cache.max_items",
                    "must be greater than 0 (ttl_ms = 0 turns the cache off)",
                ));
            }
            Some(items) => items,
        };
        let sources = sources::sources(entries, secrets)?;
        Ok(Config {
            server,
            auth,
            cursor: CursorConfig { secret },
            rate_limit,
            cache: CacheConfig {
                ttl: cache_ttl,
                max_items,
            },
            telemetry: self.telemetry.validate()?,
            sources,
        })
    }
}

/// `value` when within `range`, `default` when absent; otherwise an error naming `key`.
pub(super) fn within(
    value: Option<usize>,
    key: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ConfigError> {
    match value {
        None => Ok(default),
        Some(value) if range.contains(&value) => Ok(value),
        Some(_) => Err(invalid(
            key,
            format!("must be between {} and {}", range.start(), range.end()),
        )),
    }
}

/// A duration in milliseconds at `key`: `default` when absent, at most one hour, and 0
/// only where `allow_zero`.
fn millis(
    value: Option<u64>,
    key: &str,
    default: Duration,
    allow_zero: bool,
) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(0) if !allow_zero => Err(invalid(key, "must be greater than 0")),
        Some(ms) if ms > 3_600_000 => Err(invalid(key, "must be at most 3600000 (one hour)")),
        Some(ms) => Ok(Duration::from_millis(ms)),
    }
}

/// What the tests of every section share: the contract's example file and an environment
/// that fills each `${NAME}` with `secret-value-of-NAME`.
#[cfg(test)]
pub(crate) mod testing {
    use super::Config;

    pub(crate) const EXAMPLE: &str = r#"
[server]
listen = "0.0.0.0:8080"
request_timeout_ms = 10000

[auth]
api_keys = ["${GATEWAY_API_KEY}"]

[cursor]
secret = "${GATEWAY_CURSOR_SECRET}"

[rate_limit]
store = "memory"
redis_url = "redis://127.0.0.1:6379"

[[sources]]
name = "sales"
vendor = "megaview"
base_url = "https://open.megaview.com"
app_key = "${MEGAVIEW_APP_KEY}"
app_secret = "${MEGAVIEW_APP_SECRET}"
rate_limit = { tier = "medium" }

[[sources]]
name = "assistant"
vendor = "gptbots"
base_url = "https://api-sg.gptbots.ai"
api_key = "${GPTBOTS_API_KEY}"
conversation_type = "ALL"

[[sources]]
name = "helpdesk"
vendor = "udesk"
base_url = "https://km.udesk.cn"
email = "admin@example.com"
api_token = "${UDESK_API_TOKEN}"
robot_id = 83

[[sources]]
name = "inbox"
vendor = "jijyun"
base_url = "https://chat.jijyun.cn"
api_key = "${JIJYUN_API_KEY}"
"#;

    pub(crate) fn env(name: &str) -> Option<String> {
        Some(format!("secret-value-of-{name}"))
    }

    pub(crate) fn error_of(text: &str) -> String {
        Config::parse(text, env).unwrap_err().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{EXAMPLE, env};
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn parse_accepts_the_contract_example() {
        let config = Config::parse(EXAMPLE, env).unwrap();
        assert_eq!(config.sources.len(), 4);
        assert_eq!(config.sources[0].rate_limit, tier("medium").unwrap());
        assert_eq!(config.sources[1].rate_limit, tier("low").unwrap());
        assert_eq!(config.sources[2].timezone, chrono_tz::Asia::Shanghai);
        match &config.sources[3].vendor {
            VendorSettings::Jijyun(settings) => assert_eq!(
                settings.api_key.expose_secret(),
                "secret-value-of-JIJYUN_API_KEY"
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn cache_size_is_read_defaulted_and_never_zero() {
        let config = Config::parse(EXAMPLE, env).unwrap();
        assert_eq!(config.cache.max_items, DEFAULT_CACHE_MAX_ITEMS);
        let sized = format!("[cache]\nttl_ms = 5000\nmax_items = 1200\n{EXAMPLE}");
        let config = Config::parse(&sized, env).unwrap();
        assert_eq!(config.cache.max_items, 1200);
        assert_eq!(config.cache.ttl, Duration::from_secs(5));
        let zero = testing::error_of(&format!("[cache]\nmax_items = 0\n{EXAMPLE}"));
        assert!(zero.contains("cache.max_items"), "{zero}");
    }

    #[test]
    fn redacted_summary_shows_no_secret() {
        let summary = Config::parse(EXAMPLE, env).unwrap().redacted_summary();
        assert!(!summary.contains("secret-value-of"), "{summary}");
        assert!(
            summary.contains("source helpdesk vendor=udesk"),
            "{summary}"
        );
    }
}
