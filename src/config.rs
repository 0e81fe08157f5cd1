//! The configuration file: TOML with `${NAME}` expansion, validated at start with every
//! error naming its key. The only module that reads the process environment.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use chrono_tz::Tz;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::domain::{SourceName, VendorKind};

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

/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "GATEWAY_CONFIG";
/// Environment variable overriding the listen address.
pub const LISTEN_ENV: &str = "GATEWAY_LISTEN";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default budget of one inbound request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time limit of one vendor call.
pub const DEFAULT_SOURCE_TIMEOUT: Duration = Duration::from_secs(8);
/// Default longest `since`..`until` range a client may ask for.
pub const DEFAULT_MAX_RANGE_DAYS: u32 = 92;
/// Default number of replicas sharing a Redis quota (each falls back to this share).
pub const DEFAULT_REPLICAS: u32 = 2;
/// Default lifetime of cached vendor pages.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// Default longest request target (path and query) accepted.
pub const DEFAULT_MAX_URI_BYTES: usize = 8 * 1024;
/// Default largest total size of request headers accepted.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Default number of requests served at once before new ones are shed.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 512;
/// Default largest vendor API answer read (one JSON page).
pub const DEFAULT_MAX_VENDOR_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Default largest file a vendor points to that is downloaded (a Megaview transcript).
pub const DEFAULT_MAX_TRANSCRIPT_BYTES: usize = 32 * 1024 * 1024;
/// Default bytes of vendor answers and files held at once, across every source.
pub const DEFAULT_MAX_VENDOR_BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;
/// Default time a client has to send a complete request head.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time an idle keep-alive connection stays open. Longer than the 60 s idle timeout
/// common in load balancers, so the balancer, which knows, closes an idle connection first.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(75);
/// Default number of client connections open at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Longest request target hyper accepts at all; a longer one never reaches the gateway.
pub const MAX_URI_BYTES_CEILING: usize = 65_534;
/// Prefix of an API key given as its SHA-256 digest.
pub const SHA256_KEY_PREFIX: &str = "sha256:";
/// Default `service.name` of exported traces.
pub const DEFAULT_SERVICE_NAME: &str = "conversation-gateway";

/// A configuration problem, naming the key it is about. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML.
    #[error("config file is not valid TOML: {0}")]
    Syntax(String),
    /// `${NAME}` names a variable that is not set.
    #[error("`{key}` uses ${{{var}}}, but the environment variable {var} is not set")]
    MissingVariable {
        /// The key whose value names it.
        key: String,
        /// The variable.
        var: String,
    },
    /// A key has a bad value, is missing, or is not known.
    #[error("`{key}`: {message}")]
    Invalid {
        /// The key path, e.g. `sources[1].api_token`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

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

/// `[server]`: how the gateway listens and how long one request may take.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `listen`: address to bind. Default `127.0.0.1:8080`; `GATEWAY_LISTEN` or `--listen`
    /// override it.
    pub listen: SocketAddr,
    /// `request_timeout_ms`: the whole budget of one inbound request, fan-out included.
    /// Default 10000.
    pub request_timeout: Duration,
    /// `max_range_days`: longest `since`..`until` range of `GET /conversations`.
    /// Default 92.
    pub max_range_days: u32,
    /// `max_uri_bytes`: longest request target (path and query); longer is a 414.
    /// Default 8192; at most 65534, above which hyper refuses a target itself.
    pub max_uri_bytes: usize,
    /// `max_header_bytes`: largest total size of the request headers; larger is a 431.
    /// Default 16384.
    pub max_header_bytes: usize,
    /// `max_concurrent_requests`: requests served at once; more are shed with a 503 and
    /// `Retry-After` instead of queueing. Probes and `/metrics` are never shed. Default 512.
    pub max_concurrent_requests: usize,
    /// `consumer_rate_limit`: `{ per_second, burst }` each consumer (API key, or client IP
    /// when auth is off) may send; more is a 429 with `Retry-After`. Default: no limit.
    pub consumer_rate_limit: Option<RateLimit>,
    /// `max_vendor_body_bytes`: largest answer of a vendor's API read; a larger one fails
    /// its source. Default 8 MiB.
    pub max_vendor_body_bytes: usize,
    /// `max_transcript_bytes`: largest file a vendor points to that is downloaded (Megaview
    /// transcripts). Default 32 MiB.
    pub max_transcript_bytes: usize,
    /// `max_vendor_bytes_in_flight`: bytes of vendor answers and files held at once across
    /// every source and request; a call waits for room within its budget. Default 64 MiB.
    pub max_vendor_bytes_in_flight: usize,
    /// `header_read_timeout_ms`: time a client has to send a complete request head, from
    /// the connection's start or from the first byte of a later request; then the
    /// connection is closed. Default 10000.
    pub header_read_timeout: Duration,
    /// `keep_alive_timeout_ms`: time a connection may stay idle between requests before it
    /// is closed. Default 75000.
    pub keep_alive_timeout: Duration,
    /// `max_connections`: client connections open at once; further ones wait in the
    /// listen backlog until one closes. Default 10000.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_range_days: DEFAULT_MAX_RANGE_DAYS,
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            consumer_rate_limit: None,
            max_vendor_body_bytes: DEFAULT_MAX_VENDOR_BODY_BYTES,
            max_transcript_bytes: DEFAULT_MAX_TRANSCRIPT_BYTES,
            max_vendor_bytes_in_flight: DEFAULT_MAX_VENDOR_BYTES_IN_FLIGHT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// `[auth]`: who may call the gateway.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `api_keys`: bearer keys consumers send, each as plain text or as `sha256:<hex>` (the
    /// SHA-256 of the key, so the file need not hold it). Empty: the API is open (warned at
    /// start).
    pub api_keys: Vec<SecretString>,
    /// `public_docs`: `/docs` and `/openapi.json` need no key. Default true: they describe
    /// the API, not its data.
    pub public_docs: bool,
    /// `public_metrics`: `/metrics` needs no key. Default false: it shows source names and
    /// traffic; Prometheus can send a bearer key.
    pub public_metrics: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            public_docs: true,
            public_metrics: false,
        }
    }
}

/// `[cursor]`: page tokens.
#[derive(Debug, Clone, Default)]
pub struct CursorConfig {
    /// `secret`: HMAC key of page tokens; replicas must share it. When absent, a random key
    /// is made at start (tokens then only work on this process, until it restarts).
    pub secret: Option<SecretString>,
}

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

/// `[cache]`: short-lived cache of vendor answers.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// `ttl_ms`: how long a vendor page or transcript is reused. Default 30000; 0 turns the
    /// cache off.
    pub ttl: Duration,
}

/// `[telemetry]`: traces exported over OTLP. Off unless `otlp_endpoint` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryConfig {
    /// `otlp_endpoint`: the collector's OTLP/HTTP root, e.g. `http://127.0.0.1:4318`; spans
    /// are sent as protobuf to its `/v1/traces`. Absent or empty: no traces are exported.
    pub otlp_endpoint: Option<Url>,
    /// `service_name`: the `service.name` of every span. Default `conversation-gateway`.
    pub service_name: String,
    /// `sampling_ratio`: share of new traces kept, 0.0 to 1.0. A request carrying a
    /// `traceparent` follows its caller's decision instead. Default 1.0.
    pub sampling_ratio: f64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            sampling_ratio: 1.0,
        }
    }
}

impl TelemetryConfig {
    /// Where spans are posted: `otlp_endpoint` with `/v1/traces` added to its path.
    pub fn traces_url(&self) -> Option<Url> {
        let mut url = self.otlp_endpoint.clone()?;
        let path = format!("{}/v1/traces", url.path().trim_end_matches('/'));
        url.set_path(&path);
        Some(url)
    }
}

/// One `[[sources]]` entry: one vendor account.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// `name`: `[a-z0-9-]+`, unique; the prefix of every id from this source.
    pub name: SourceName,
    /// `base_url`: the vendor's API root (http or https).
    pub base_url: Url,
    /// `timeout_ms`: time limit of one vendor call. Default 8000.
    pub timeout: Duration,
    /// `timezone`: IANA zone of times the vendor sends or expects without an offset.
    /// Default `Asia/Shanghai`.
    pub timezone: Tz,
    /// `rate_limit`: `{ tier = "low" | "medium" | "high" }` or `{ per_second, burst }`.
    /// Default tier `medium` for megaview, `low` for the others.
    pub rate_limit: RateLimit,
    /// `vendor` and the vendor's own keys.
    pub vendor: VendorSettings,
}

impl SourceConfig {
    /// Which vendor this source speaks to.
    pub fn vendor_kind(&self) -> VendorKind {
        match self.vendor {
            VendorSettings::Megaview(_) => VendorKind::Megaview,
            VendorSettings::Gptbots(_) => VendorKind::Gptbots,
            VendorSettings::Udesk(_) => VendorKind::Udesk,
            VendorSettings::Jijyun(_) => VendorKind::Jijyun,
        }
    }
}

/// The vendor-specific keys of a source.
#[derive(Debug, Clone)]
pub enum VendorSettings {
    /// `vendor = "megaview"`.
    Megaview(MegaviewSettings),
    /// `vendor = "gptbots"`.
    Gptbots(GptbotsSettings),
    /// `vendor = "udesk"`.
    Udesk(UdeskSettings),
    /// `vendor = "jijyun"`.
    Jijyun(JijyunSettings),
}

/// Megaview app credentials, and where its transcripts may come from.
#[derive(Debug, Clone)]
pub struct MegaviewSettings {
    /// `app_key` of the self-built app.
    pub app_key: SecretString,
    /// `app_secret` of the self-built app.
    pub app_secret: SecretString,
    /// `transcript_hosts`: hosts (`host` or `host:port`) transcripts may be downloaded from
    /// even when they resolve to a private, loopback or link-local address (private object
    /// storage). Other hosts must resolve to public addresses only. Default: none.
    pub transcript_hosts: Vec<FileHost>,
}

/// One `transcript_hosts` entry: a host, and the port unless the scheme's default is meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHost {
    host: url::Host<String>,
    port: Option<u16>,
}

impl FileHost {
    /// Reads `host` or `host:port` (IPv6 addresses in brackets: `[fd00::1]:9000`). The host
    /// is normalized the way a URL's is, so `0x7f.0.0.1` and `127.1` both mean `127.0.0.1`
    /// and names are lower-cased.
    pub fn parse(entry: &str) -> Result<Self, String> {
        const SHAPE: &str = "must be `host` or `host:port`, without scheme, path or user";
        let forbidden = |c: char| c.is_whitespace() || c.is_control() || "/?#@\\*".contains(c);
        if entry.is_empty() || entry.contains(forbidden) {
            return Err(SHAPE.to_owned());
        }
        let (host, port) = match entry.strip_prefix('[') {
            Some(rest) => {
                let (address, after) = rest.split_once(']').ok_or(SHAPE)?;
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':').ok_or(SHAPE)?),
                };
                (&entry[..address.len() + 2], port)
            }
            None => match entry.split_once(':') {
                Some((_, rest)) if rest.contains(':') => {
                    return Err(
                        "an IPv6 address must be written in brackets, e.g. `[fd00::1]:9000`"
                            .to_owned(),
                    );
                }
                Some((host, port)) => (host, Some(port)),
                None => (entry, None),
            },
        };
        let port = port
            .map(|port| {
                port.parse::<u16>()
                    .ok()
                    .filter(|port| *port != 0)
                    .ok_or_else(|| {
                        format!("`{}` is not a port (1 to 65535)", port.escape_default())
                    })
            })
            .transpose()?;
        let host = url::Host::parse(host).map_err(|_| SHAPE.to_owned())?;
        Ok(Self { host, port })
    }

    /// Whether `url` names this host and port. An entry without a port matches only the
    /// URL scheme's default port (80 for http, 443 for https).
    pub fn matches(&self, url: &Url) -> bool {
        let same_host = url.host().is_some_and(|host| host.to_owned() == self.host);
        let same_port = match self.port {
            None => url.port().is_none(),
            Some(port) => url.port_or_known_default() == Some(port),
        };
        same_host && same_port
    }
}

impl std::fmt::Display for FileHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// GPTBots agent API key.
#[derive(Debug, Clone)]
pub struct GptbotsSettings {
    /// `api_key` of the agent.
    pub api_key: SecretString,
    /// `conversation_type` to list (`ALL`, `API`, `EMBED`…). Default `ALL`.
    pub conversation_type: String,
}

/// Hash of Udesk's request signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignAlgorithm {
    /// SHA-1 (the KM robot API's default).
    #[default]
    Sha1,
    /// SHA-256 (newer tenants).
    Sha256,
}

/// Udesk KM robot credentials.
#[derive(Debug, Clone)]
pub struct UdeskSettings {
    /// `email` of the admin account that signs requests.
    pub email: String,
    /// `api_token` from the KM console.
    pub api_token: SecretString,
    /// `robot_id` whose sessions are listed.
    pub robot_id: i64,
    /// `sign_algorithm`: `sha1` (default) or `sha256`.
    pub sign_algorithm: SignAlgorithm,
}

/// Jijyun API key.
#[derive(Debug, Clone)]
pub struct JijyunSettings {
    /// `api_key` from the assistant's integration page (sent as the `apiKey` query parameter).
    pub api_key: SecretString,
}

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

// ---- raw file shape ----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    cursor: RawCursor,
    #[serde(default)]
    rate_limit: RawStore,
    #[serde(default)]
    cache: RawCache,
    #[serde(default)]
    telemetry: RawTelemetry,
    #[serde(default)]
    sources: Vec<RawSource>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    request_timeout_ms: Option<u64>,
    max_range_days: Option<u32>,
    max_uri_bytes: Option<usize>,
    max_header_bytes: Option<usize>,
    max_concurrent_requests: Option<usize>,
    consumer_rate_limit: Option<RawRateLimit>,
    max_vendor_body_bytes: Option<u64>,
    max_transcript_bytes: Option<u64>,
    max_vendor_bytes_in_flight: Option<u64>,
    header_read_timeout_ms: Option<u64>,
    keep_alive_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    #[serde(default)]
    api_keys: Vec<String>,
    public_docs: Option<bool>,
    public_metrics: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCursor {
    secret: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    store: Option<String>,
    redis_url: Option<String>,
    replicas: Option<u32>,
    max_cool_down_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    ttl_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTelemetry {
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
    sampling_ratio: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    tier: Option<String>,
    per_second: Option<u32>,
    burst: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Option<String>,
    vendor: Option<String>,
    base_url: Option<String>,
    timeout_ms: Option<u64>,
    timezone: Option<String>,
    rate_limit: Option<RawRateLimit>,
    app_key: Option<String>,
    app_secret: Option<String>,
    api_key: Option<String>,
    conversation_type: Option<String>,
    email: Option<String>,
    api_token: Option<String>,
    robot_id: Option<i64>,
    sign_algorithm: Option<String>,
    transcript_hosts: Option<Vec<String>>,
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
        expand(&mut value, "", &lookup, &mut secrets)?;
        let raw: RawConfig = serde_path_to_error::deserialize(value).map_err(|err| {
            let key = err.path().to_string();
            let mut message = err.into_inner().to_string();
            // A type error may quote the value; never let an expanded variable through.
            for secret in &secrets {
                message = message.replace(secret.as_str(), "[redacted]");
            }
            invalid(key, message)
        })?;
        raw.validate()
    }

    /// A summary with every secret redacted, for `check-config`.
    pub fn redacted_summary(&self) -> String {
        let mut out = format!(
            "listen = {}\nrequest_timeout_ms = {}\nmax_range_days = {}\napi_keys = {} configured{}\ncursor secret = {}\nrate_limit store = {:?} (replicas sharing it: {}), max_cool_down_ms = {}\ncache ttl_ms = {}\n",
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
                .map_or(DEFAULT_REPLICAS, NonZeroU32::get),
            self.rate_limit.max_cool_down.as_millis(),
            self.cache.ttl.as_millis(),
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
                "source {} vendor={} base_url={} timeout_ms={} timezone={} rate={}/s burst={}{transcript_hosts} credentials=[redacted]\n",
                source.name,
                source.vendor_kind(),
                redact_url(&source.base_url),
                source.timeout.as_millis(),
                source.timezone,
                source.rate_limit.per_second,
                source.rate_limit.burst,
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

fn expand(
    value: &mut toml::Value,
    key: &str,
    lookup: &impl Fn(&str) -> Option<String>,
    secrets: &mut BTreeSet<String>,
) -> Result<(), ConfigError> {
    match value {
        toml::Value::String(text) => *text = expand_str(text, key, lookup, secrets)?,
        toml::Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                expand(item, &format!("{key}[{index}]"), lookup, secrets)?;
            }
        }
        toml::Value::Table(table) => {
            for (name, item) in table.iter_mut() {
                let path = if key.is_empty() {
                    name.clone()
                } else {
                    format!("{key}.{name}")
                };
                expand(item, &path, lookup, secrets)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn expand_str(
    text: &str,
    key: &str,
    lookup: &impl Fn(&str) -> Option<String>,
    secrets: &mut BTreeSet<String>,
) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| invalid(key, "`${` without a closing `}`"))?;
        let var = &after[..end];
        let valid = !var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(invalid(
                key,
                format!("`${{{}}}` is not a variable name", var.escape_default()),
            ));
        }
        let found = lookup(var).ok_or_else(|| ConfigError::MissingVariable {
            key: key.to_owned(),
            var: var.to_owned(),
        })?;
        if !found.is_empty() {
            secrets.insert(found.clone());
        }
        out.push_str(&found);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn required<T>(value: Option<T>, key: String, vendor: &str) -> Result<T, ConfigError> {
    value.ok_or_else(|| invalid(key, format!("is required for vendor `{vendor}`")))
}

fn non_empty_secret(
    value: Option<String>,
    key: String,
    vendor: &str,
) -> Result<SecretString, ConfigError> {
    let value = required(value, key.clone(), vendor)?;
    if value.trim().is_empty() {
        return Err(invalid(key, "must not be empty"));
    }
    Ok(SecretString::from(value))
}

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

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let listen = self
            .server
            .listen
            .as_deref()
            .unwrap_or(DEFAULT_LISTEN)
            .parse()
            .map_err(|_| {
                invalid(
                    "server.listen",
                    "is not a socket address like `0.0.0.0:8080`",
                )
            })?;
        let request_timeout = millis(
            self.server.request_timeout_ms,
            "server.request_timeout_ms",
            DEFAULT_REQUEST_TIMEOUT,
            false,
        )?;
        let max_range_days = match self.server.max_range_days {
            None => DEFAULT_MAX_RANGE_DAYS,
            Some(days @ 1..=3660) => days,
            Some(_) => {
                return Err(invalid(
                    "server.max_range_days",
                    "must be between 1 and 3660",
                ));
            }
        };
        let mut api_keys = Vec::new();
        for (index, key) in self.auth.api_keys.into_iter().enumerate() {
            if key.trim().is_empty() {
                return Err(invalid(
                    format!("auth.api_keys[{index}]"),
                    "must not be empty",
                ));
            }
            // A header value cannot carry these, so such a key would refuse everyone.
            if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid(
                    format!("auth.api_keys[{index}]"),
                    "contains whitespace or a line break (often a trailing newline from \
                     `${NAME}`): a bearer key with it can never match",
                ));
            }
            if let Some(hex_digest) = key.strip_prefix(SHA256_KEY_PREFIX) {
                if hex_digest.len() != 64 || hex::decode(hex_digest).is_err() {
                    return Err(invalid(
                        format!("auth.api_keys[{index}]"),
                        "a `sha256:` key must be followed by 64 hex digits",
                    ));
                }
            }
            api_keys.push(SecretString::from(key));
        }
        let max_uri_bytes = within(
            self.server.max_uri_bytes,
            "server.max_uri_bytes",
            DEFAULT_MAX_URI_BYTES,
            256..=MAX_URI_BYTES_CEILING,
        )?;
        let max_header_bytes = within(
            self.server.max_header_bytes,
            "server.max_header_bytes",
            DEFAULT_MAX_HEADER_BYTES,
            1024..=1024 * 1024,
        )?;
        let max_concurrent_requests = within(
            self.server.max_concurrent_requests,
            "server.max_concurrent_requests",
            DEFAULT_MAX_CONCURRENT_REQUESTS,
            1..=100_000,
        )?;
        let max_vendor_bytes_in_flight = bytes(
            self.server.max_vendor_bytes_in_flight,
            "server.max_vendor_bytes_in_flight",
            DEFAULT_MAX_VENDOR_BYTES_IN_FLIGHT,
            MIN_BYTES_LIMIT..=MAX_BYTES_IN_FLIGHT,
        )?;
        let max_vendor_body_bytes = bytes(
            self.server.max_vendor_body_bytes,
            "server.max_vendor_body_bytes",
            DEFAULT_MAX_VENDOR_BODY_BYTES,
            MIN_BYTES_LIMIT..=MAX_BODY_LIMIT,
        )?;
        let max_transcript_bytes = bytes(
            self.server.max_transcript_bytes,
            "server.max_transcript_bytes",
            DEFAULT_MAX_TRANSCRIPT_BYTES,
            MIN_BYTES_LIMIT..=MAX_BODY_LIMIT,
        )?;
        for (key, limit) in [
            ("server.max_vendor_body_bytes", max_vendor_body_bytes),
            ("server.max_transcript_bytes", max_transcript_bytes),
        ] {
            if limit > max_vendor_bytes_in_flight {
                return Err(invalid(
                    key,
                    format!(
                        "is larger than server.max_vendor_bytes_in_flight \
                         ({max_vendor_bytes_in_flight}), so such an answer could never be read"
                    ),
                ));
            }
        }
        let header_read_timeout = millis(
            self.server.header_read_timeout_ms,
            "server.header_read_timeout_ms",
            DEFAULT_HEADER_READ_TIMEOUT,
            false,
        )?;
        let keep_alive_timeout = millis(
            self.server.keep_alive_timeout_ms,
            "server.keep_alive_timeout_ms",
            DEFAULT_KEEP_ALIVE_TIMEOUT,
            false,
        )?;
        let max_connections = within(
            self.server.max_connections,
            "server.max_connections",
            DEFAULT_MAX_CONNECTIONS,
            1..=1_000_000,
        )?;
        let consumer_rate_limit = self
            .server
            .consumer_rate_limit
            .map(|raw| {
                if raw.tier.is_some() {
                    return Err(invalid(
                        "server.consumer_rate_limit.tier",
                        "is not supported here; give `per_second` and `burst`",
                    ));
                }
                rate_limit(Some(raw), VendorKind::Gptbots, "server.consumer_rate_limit")
            })
            .transpose()?;
        let secret = match self.cursor.secret {
            Some(secret) if secret.len() < 16 => {
                return Err(invalid("cursor.secret", "must be at least 16 characters"));
            }
            other => other.map(SecretString::from),
        };
        let store = match self.rate_limit.store.as_deref() {
            None | Some("memory") => RateLimitStore::Memory,
            Some("redis") => RateLimitStore::Redis,
            Some(_) => return Err(invalid("rate_limit.store", "must be `memory` or `redis`")),
        };
        if store == RateLimitStore::Redis && self.rate_limit.redis_url.is_none() {
            return Err(invalid(
                "rate_limit.redis_url",
                "is required when store = \"redis\"",
            ));
        }
        let replicas = match self.rate_limit.replicas {
            None => None,
            Some(n) => Some(
                NonZeroU32::new(n)
                    .filter(|n| n.get() <= 1000)
                    .ok_or_else(|| invalid("rate_limit.replicas", "must be 1 to 1000"))?,
            ),
        };
        let cache_ttl = millis(self.cache.ttl_ms, "cache.ttl_ms", DEFAULT_CACHE_TTL, true)?;
        let max_cool_down = millis(
            self.rate_limit.max_cool_down_ms,
            "rate_limit.max_cool_down_ms",
            DEFAULT_MAX_COOL_DOWN,
            false,
        )?;

        let mut names = BTreeMap::new();
        let mut sources = Vec::with_capacity(self.sources.len());
        for (index, raw) in self.sources.into_iter().enumerate() {
            let source = raw.validate(index)?;
            if let Some(first) = names.insert(source.name.clone(), index) {
                return Err(invalid(
                    format!("sources[{index}].name"),
                    format!("`{}` is already the name of sources[{first}]", source.name),
                ));
            }
            sources.push(source);
        }
        Ok(Config {
            server: ServerConfig {
                listen,
                request_timeout,
                max_range_days,
                max_uri_bytes,
                max_header_bytes,
                max_concurrent_requests,
                consumer_rate_limit,
                max_vendor_body_bytes,
                max_transcript_bytes,
                max_vendor_bytes_in_flight,
                header_read_timeout,
                keep_alive_timeout,
                max_connections,
            },
            auth: AuthConfig {
                api_keys,
                public_docs: self.auth.public_docs.unwrap_or(true),
                public_metrics: self.auth.public_metrics.unwrap_or(false),
            },
            cursor: CursorConfig { secret },
            rate_limit: RateLimitStoreConfig {
                store,
                redis_url: self.rate_limit.redis_url.map(SecretString::from),
                replicas,
                max_cool_down,
            },
            cache: CacheConfig { ttl: cache_ttl },
            telemetry: self.telemetry.validate()?,
            sources,
        })
    }
}

impl RawTelemetry {
    fn validate(self) -> Result<TelemetryConfig, ConfigError> {
        // Empty counts as absent, so `otlp_endpoint = "${OTLP_ENDPOINT}"` can be switched
        // off by an empty variable.
        let otlp_endpoint = match self.otlp_endpoint.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                Url::parse(text)
                    .ok()
                    .filter(|url| {
                        matches!(url.scheme(), "http" | "https")
                            && url.host().is_some()
                            && url.username().is_empty()
                            && url.password().is_none()
                            && url.query().is_none()
                            && url.fragment().is_none()
                    })
                    .ok_or_else(|| {
                        invalid(
                            "telemetry.otlp_endpoint",
                            "is not an http(s) URL without user, query or fragment, \
                             like `http://127.0.0.1:4318`",
                        )
                    })?,
            ),
        };
        let service_name = self
            .service_name
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        if service_name.trim().is_empty() || service_name.chars().any(char::is_control) {
            return Err(invalid(
                "telemetry.service_name",
                "must not be empty or hold control characters",
            ));
        }
        let sampling_ratio = self.sampling_ratio.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&sampling_ratio) {
            return Err(invalid(
                "telemetry.sampling_ratio",
                "must be between 0.0 and 1.0",
            ));
        }
        Ok(TelemetryConfig {
            otlp_endpoint,
            service_name,
            sampling_ratio,
        })
    }
}

impl RawSource {
    fn validate(self, index: usize) -> Result<SourceConfig, ConfigError> {
        let key = |field: &str| format!("sources[{index}].{field}");
        let name: SourceName = self
            .name
            .as_deref()
            .ok_or_else(|| invalid(key("name"), "is required"))?
            .parse()
            .map_err(|err: crate::domain::InvalidId| invalid(key("name"), err.0))?;
        let vendor_name = self
            .vendor
            .as_deref()
            .ok_or_else(|| invalid(key("vendor"), "is required"))?;
        let vendor: VendorKind = vendor_name
            .parse()
            .map_err(|err: crate::domain::InvalidId| invalid(key("vendor"), err.0))?;
        let vendor_str = vendor.as_str();
        let base_url_text = self
            .base_url
            .as_deref()
            .ok_or_else(|| invalid(key("base_url"), "is required"))?;
        let base_url = Url::parse(base_url_text)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .ok_or_else(|| invalid(key("base_url"), "is not an http(s) URL"))?;
        let timeout = millis(
            self.timeout_ms,
            &key("timeout_ms"),
            DEFAULT_SOURCE_TIMEOUT,
            false,
        )?;
        let timezone = match self.timezone.as_deref() {
            None => chrono_tz::Asia::Shanghai,
            Some(zone) => zone.parse().map_err(|_| {
                invalid(
                    key("timezone"),
                    format!("`{zone}` is not an IANA time zone"),
                )
            })?,
        };
        let rate_limit = rate_limit(self.rate_limit, vendor, &key("rate_limit"))?;

        let mut unexpected = Vec::new();
        let mut not_for = |present: bool, field: &'static str| {
            if present {
                unexpected.push(field);
            }
        };
        let settings = match vendor {
            VendorKind::Megaview => {
                not_for(self.api_key.is_some(), "api_key");
                not_for(self.conversation_type.is_some(), "conversation_type");
                not_for(self.email.is_some(), "email");
                not_for(self.api_token.is_some(), "api_token");
                not_for(self.robot_id.is_some(), "robot_id");
                not_for(self.sign_algorithm.is_some(), "sign_algorithm");
                let mut transcript_hosts = Vec::new();
                for (position, entry) in self.transcript_hosts.into_iter().flatten().enumerate() {
                    let host = FileHost::parse(&entry).map_err(|message| {
                        invalid(key(&format!("transcript_hosts[{position}]")), message)
                    })?;
                    transcript_hosts.push(host);
                }
                VendorSettings::Megaview(MegaviewSettings {
                    app_key: non_empty_secret(self.app_key, key("app_key"), vendor_str)?,
                    app_secret: non_empty_secret(self.app_secret, key("app_secret"), vendor_str)?,
                    transcript_hosts,
                })
            }
            VendorKind::Gptbots => {
                not_for(self.transcript_hosts.is_some(), "transcript_hosts");
                not_for(self.app_key.is_some(), "app_key");
                not_for(self.app_secret.is_some(), "app_secret");
                not_for(self.email.is_some(), "email");
                not_for(self.api_token.is_some(), "api_token");
                not_for(self.robot_id.is_some(), "robot_id");
                not_for(self.sign_algorithm.is_some(), "sign_algorithm");
                let conversation_type = self.conversation_type.unwrap_or_else(|| "ALL".to_owned());
                let valid = !conversation_type.is_empty()
                    && conversation_type
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b == b'_');
                if !valid {
                    return Err(invalid(
                        key("conversation_type"),
                        "must be an upper-case GPTBots type such as ALL, API or EMBED",
                    ));
                }
                VendorSettings::Gptbots(GptbotsSettings {
                    api_key: non_empty_secret(self.api_key, key("api_key"), vendor_str)?,
                    conversation_type,
                })
            }
            VendorKind::Udesk => {
                not_for(self.transcript_hosts.is_some(), "transcript_hosts");
                not_for(self.app_key.is_some(), "app_key");
                not_for(self.app_secret.is_some(), "app_secret");
                not_for(self.api_key.is_some(), "api_key");
                not_for(self.conversation_type.is_some(), "conversation_type");
                let email = required(self.email, key("email"), vendor_str)?;
                if !email.contains('@') {
                    return Err(invalid(key("email"), "is not an email address"));
                }
                let sign_algorithm = match self.sign_algorithm.as_deref() {
                    None | Some("sha1") => SignAlgorithm::Sha1,
                    Some("sha256") => SignAlgorithm::Sha256,
                    Some(_) => {
                        return Err(invalid(key("sign_algorithm"), "must be `sha1` or `sha256`"));
                    }
                };
                VendorSettings::Udesk(UdeskSettings {
                    email,
                    api_token: non_empty_secret(self.api_token, key("api_token"), vendor_str)?,
                    robot_id: required(self.robot_id, key("robot_id"), vendor_str)?,
                    sign_algorithm,
                })
            }
            VendorKind::Jijyun => {
                not_for(self.transcript_hosts.is_some(), "transcript_hosts");
                not_for(self.app_key.is_some(), "app_key");
                not_for(self.app_secret.is_some(), "app_secret");
                not_for(self.conversation_type.is_some(), "conversation_type");
                not_for(self.email.is_some(), "email");
                not_for(self.api_token.is_some(), "api_token");
                not_for(self.robot_id.is_some(), "robot_id");
                not_for(self.sign_algorithm.is_some(), "sign_algorithm");
                VendorSettings::Jijyun(JijyunSettings {
                    api_key: non_empty_secret(self.api_key, key("api_key"), vendor_str)?,
                })
            }
        };
        if let Some(field) = unexpected.first() {
            return Err(invalid(
                key(field),
                format!("is not a setting of vendor `{vendor_str}`"),
            ));
        }
        Ok(SourceConfig {
            name,
            base_url,
            timeout,
            timezone,
            rate_limit,
            vendor: settings,
        })
    }
}

/// Smallest byte limit accepted for a vendor answer or for the bytes in flight.
const MIN_BYTES_LIMIT: u64 = 1024;
/// Largest per-answer limit: one answer's bytes are reserved in one step of at most this.
const MAX_BODY_LIMIT: u64 = 1024 * 1024 * 1024;
/// Largest `server.max_vendor_bytes_in_flight`.
const MAX_BYTES_IN_FLIGHT: u64 = 16 * 1024 * 1024 * 1024;

/// A byte count within `range`, `default` when absent; otherwise an error naming `key`.
fn bytes(
    value: Option<u64>,
    key: &str,
    default: usize,
    range: std::ops::RangeInclusive<u64>,
) -> Result<usize, ConfigError> {
    match value {
        None => Ok(default),
        Some(value) if range.contains(&value) => usize::try_from(value)
            .map_err(|_| invalid(key, "is larger than this machine can address")),
        Some(_) => Err(invalid(
            key,
            format!(
                "must be between {} and {} bytes",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// `value` when within `range`, `default` when absent; otherwise an error naming `key`.
fn within(
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

fn rate_limit(
    raw: Option<RawRateLimit>,
    vendor: VendorKind,
    key: &str,
) -> Result<RateLimit, ConfigError> {
    let default_tier = if vendor == VendorKind::Megaview {
        "medium"
    } else {
        "low"
    };
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
    use super::*;
    use secrecy::ExposeSecret;

    const EXAMPLE: &str = r#"
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

    fn env(name: &str) -> Option<String> {
        Some(format!("secret-value-of-{name}"))
    }

    fn error_of(text: &str) -> String {
        Config::parse(text, env).unwrap_err().to_string()
    }

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

    #[test]
    fn an_api_key_with_whitespace_is_refused_at_load_naming_the_key_not_its_value() {
        // `${NAME}` filled from a file keeps the file's trailing newline.
        let from_file = |_: &str| Some("consumer-key-1\n".to_owned());
        let err = Config::parse("[auth]\napi_keys = [\"${KEY}\"]\n", from_file)
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth.api_keys[0]"), "{err}");
        assert!(!err.contains("consumer-key-1"), "{err}");
        for padded in [" key", "key ", "ke y", "key\t"] {
            let err = error_of(&format!("[auth]\napi_keys = [\"ok\", {padded:?}]\n"));
            assert!(err.contains("auth.api_keys[1]"), "{padded:?}: {err}");
        }
        assert!(Config::parse("[auth]\napi_keys = [\"a.b-c_d~e+f/g=\"]\n", env).is_ok());
    }

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
    fn parse_reads_and_checks_the_operations_keys() {
        let digest = "ab".repeat(32);
        let config = Config::parse(
            &format!(
                "[server]\nmax_concurrent_requests = 8\nconsumer_rate_limit = {{ per_second = 2, burst = 4 }}\n[auth]\napi_keys = [\"plain\", \"sha256:{digest}\"]\npublic_metrics = true\n"
            ),
            env,
        )
        .unwrap();
        assert_eq!(config.server.max_concurrent_requests, 8);
        assert_eq!(config.server.max_uri_bytes, DEFAULT_MAX_URI_BYTES);
        assert_eq!(config.server.consumer_rate_limit.unwrap().burst.get(), 4);
        assert!(config.auth.public_metrics && config.auth.public_docs);
        assert_eq!(config.auth.api_keys.len(), 2);

        let bad_digest = error_of("[auth]\napi_keys = [\"ok\", \"sha256:abc\"]\n");
        assert!(bad_digest.contains("auth.api_keys[1]"), "{bad_digest}");
        assert!(!bad_digest.contains("abc"), "{bad_digest}");
        let zero = error_of("[server]\nmax_concurrent_requests = 0\n");
        assert!(zero.contains("server.max_concurrent_requests"), "{zero}");
        let tier = error_of("[server]\nconsumer_rate_limit = { tier = \"low\" }\n");
        assert!(tier.contains("server.consumer_rate_limit.tier"), "{tier}");
    }

    #[test]
    fn parse_reads_and_checks_the_connection_keys() {
        let defaults = Config::parse("", env).unwrap().server;
        assert_eq!(defaults.header_read_timeout, DEFAULT_HEADER_READ_TIMEOUT);
        assert_eq!(defaults.keep_alive_timeout, DEFAULT_KEEP_ALIVE_TIMEOUT);
        assert_eq!(defaults.max_connections, DEFAULT_MAX_CONNECTIONS);

        let server = Config::parse(
            "[server]\nheader_read_timeout_ms = 300\nkeep_alive_timeout_ms = 5000\nmax_connections = 2\n",
            env,
        )
        .unwrap()
        .server;
        assert_eq!(server.header_read_timeout, Duration::from_millis(300));
        assert_eq!(server.keep_alive_timeout, Duration::from_secs(5));
        assert_eq!(server.max_connections, 2);

        for (text, key) in [
            (
                "header_read_timeout_ms = 0",
                "server.header_read_timeout_ms",
            ),
            ("keep_alive_timeout_ms = 0", "server.keep_alive_timeout_ms"),
            ("max_connections = 0", "server.max_connections"),
            ("max_connections = -1", "server.max_connections"),
            // hyper refuses longer targets itself, so a larger limit would be a lie.
            ("max_uri_bytes = 65535", "server.max_uri_bytes"),
        ] {
            let err = error_of(&format!("[server]\n{text}\n"));
            assert!(err.contains(key), "{text}: {err}");
        }
        assert!(Config::parse("[server]\nmax_uri_bytes = 65534\n", env).is_ok());
    }

    #[test]
    fn redacted_summary_shows_the_connection_limits() {
        let summary = Config::parse("[server]\nmax_connections = 7\n", env)
            .unwrap()
            .redacted_summary();
        for expected in [
            "header_read_timeout_ms = 10000",
            "keep_alive_timeout_ms = 75000",
            "max_connections = 7",
        ] {
            assert!(summary.contains(expected), "{expected}: {summary}");
        }
    }

    #[test]
    fn parse_names_the_variable_and_key_when_a_variable_is_missing() {
        let err = Config::parse(EXAMPLE, |name| {
            (name != "UDESK_API_TOKEN").then(|| "x".repeat(20))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("UDESK_API_TOKEN"), "{err}");
        assert!(err.contains("sources[2].api_token"), "{err}");
    }

    #[test]
    fn parse_names_the_key_of_a_missing_vendor_setting() {
        let err = error_of(
            "[[sources]]\nname = \"a\"\nvendor = \"udesk\"\nbase_url = \"http://x\"\nemail = \"a@b\"\nrobot_id = 1\n",
        );
        assert!(err.contains("sources[0].api_token"), "{err}");
    }

    #[test]
    fn parse_refuses_settings_of_another_vendor() {
        let err = error_of(
            "[[sources]]\nname = \"a\"\nvendor = \"jijyun\"\nbase_url = \"http://x\"\napi_key = \"k\"\nrobot_id = 1\n",
        );
        assert!(err.contains("sources[0].robot_id"), "{err}");
    }

    #[test]
    fn parse_refuses_duplicate_names_unknown_keys_and_bad_values() {
        let dup = "[[sources]]\nname = \"a\"\nvendor = \"jijyun\"\nbase_url = \"http://x\"\napi_key = \"k\"\n";
        assert!(error_of(&format!("{dup}{dup}")).contains("sources[1].name"));
        assert!(error_of("[server]\nlisten_on = 1\n").contains("listen_on"));
        assert!(
            error_of("[server]\nrequest_timeout_ms = 0\n").contains("server.request_timeout_ms")
        );
        assert!(error_of(&dup.replace("http://x", "ftp://x")).contains("sources[0].base_url"));
        assert!(
            error_of(&format!("{dup}timezone = \"Mars/Base\"\n")).contains("sources[0].timezone")
        );
        assert!(
            error_of(&format!("{dup}rate_limit = {{ tier = \"fast\" }}\n"))
                .contains("rate_limit.tier")
        );
        assert!(error_of(&dup.replace("\"a\"", "\"A b\"")).contains("sources[0].name"));
    }

    #[test]
    fn parse_never_echoes_an_expanded_secret_in_a_type_error() {
        let err = error_of("[server]\nrequest_timeout_ms = \"${SECRET}\"\n");
        assert!(err.contains("server.request_timeout_ms"), "{err}");
        assert!(!err.contains("secret-value-of-SECRET"), "{err}");
    }

    #[test]
    fn explicit_rate_limit_overrides_the_tier() {
        let config = Config::parse(
            "[[sources]]\nname = \"a\"\nvendor = \"gptbots\"\nbase_url = \"http://x\"\napi_key = \"k\"\nrate_limit = { per_second = 3, burst = 7 }\n",
            env,
        )
        .unwrap();
        assert_eq!(config.sources[0].rate_limit.per_second.get(), 3);
        assert_eq!(config.sources[0].rate_limit.burst.get(), 7);
    }

    const MEGAVIEW: &str = "[[sources]]\nname = \"sales\"\nvendor = \"megaview\"\nbase_url = \"https://open.megaview.com\"\napp_key = \"k\"\napp_secret = \"s\"\n";

    #[test]
    fn transcript_hosts_are_read_normalized_and_shown() {
        let config = Config::parse(
            &format!(
                "{MEGAVIEW}transcript_hosts = [\"MinIO.Internal:9000\", \"0x7f.0.0.1:9100\", \"[FD00::1]:9000\", \"files.internal\"]\n"
            ),
            env,
        )
        .unwrap();
        let VendorSettings::Megaview(settings) = &config.sources[0].vendor else {
            panic!("not megaview");
        };
        let shown: Vec<_> = settings
            .transcript_hosts
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "minio.internal:9000",
                "127.0.0.1:9100",
                "[fd00::1]:9000",
                "files.internal"
            ]
        );
        let summary = config.redacted_summary();
        assert!(
            summary.contains("transcript_hosts=[minio.internal:9000, 127.0.0.1:9100, [fd00::1]:9000, files.internal]"),
            "{summary}"
        );
        let none = Config::parse(MEGAVIEW, env).unwrap();
        let VendorSettings::Megaview(settings) = &none.sources[0].vendor else {
            panic!("not megaview");
        };
        assert!(settings.transcript_hosts.is_empty());
    }

    #[test]
    fn a_transcript_host_that_is_not_host_or_host_port_is_refused_naming_its_key() {
        for bad in [
            "",
            "http://minio.internal",
            "minio.internal/bucket",
            "user@minio.internal",
            "minio.internal:0",
            "minio.internal:65536",
            "minio.internal:port",
            "*.internal",
            "::1",
            "[::1",
            " minio.internal",
            "999.1.1.1",
        ] {
            let err = error_of(&format!(
                "{MEGAVIEW}transcript_hosts = [\"ok.internal\", {bad:?}]\n"
            ));
            assert!(
                err.contains("sources[0].transcript_hosts[1]"),
                "{bad:?}: {err}"
            );
        }
        let jijyun = "[[sources]]\nname = \"a\"\nvendor = \"jijyun\"\nbase_url = \"http://x\"\napi_key = \"k\"\ntranscript_hosts = [\"x\"]\n";
        assert!(error_of(jijyun).contains("sources[0].transcript_hosts"));
    }

    #[test]
    fn vendor_body_limits_have_defaults_are_checked_and_shown() {
        let defaults = Config::parse("", env).unwrap().server;
        assert_eq!(defaults.max_vendor_body_bytes, 8 * 1024 * 1024);
        assert_eq!(defaults.max_transcript_bytes, 32 * 1024 * 1024);
        assert_eq!(defaults.max_vendor_bytes_in_flight, 64 * 1024 * 1024);

        let config = Config::parse(
            "[server]\nmax_vendor_body_bytes = 1048576\nmax_transcript_bytes = 4194304\nmax_vendor_bytes_in_flight = 8388608\n",
            env,
        )
        .unwrap();
        assert_eq!(config.server.max_vendor_body_bytes, 1_048_576);
        assert_eq!(config.server.max_transcript_bytes, 4_194_304);
        assert_eq!(config.server.max_vendor_bytes_in_flight, 8_388_608);
        let summary = config.redacted_summary();
        assert!(
            summary.contains("max_vendor_body_bytes = 1048576, max_transcript_bytes = 4194304, max_vendor_bytes_in_flight = 8388608"),
            "{summary}"
        );

        for (text, key) in [
            ("max_vendor_body_bytes = 0", "server.max_vendor_body_bytes"),
            (
                "max_transcript_bytes = 2147483648",
                "server.max_transcript_bytes",
            ),
            (
                "max_vendor_bytes_in_flight = 10",
                "server.max_vendor_bytes_in_flight",
            ),
            ("max_vendor_body_bytes = -1", "server.max_vendor_body_bytes"),
        ] {
            let err = error_of(&format!("[server]\n{text}\n"));
            assert!(err.contains(key), "{text}: {err}");
        }
        // One answer larger than all answers together could never be read.
        let err = error_of("[server]\nmax_vendor_bytes_in_flight = 16777216\n");
        assert!(err.contains("server.max_transcript_bytes"), "{err}");
        assert!(err.contains("max_vendor_bytes_in_flight"), "{err}");
    }

    #[test]
    fn telemetry_is_off_by_default_and_its_keys_are_read() {
        let off = Config::parse("", env).unwrap();
        assert_eq!(off.telemetry, TelemetryConfig::default());
        assert_eq!(off.telemetry.traces_url(), None);
        assert!(off.redacted_summary().contains("telemetry = off"));
        let empty = Config::parse("[telemetry]\notlp_endpoint = \"\"\n", env).unwrap();
        assert_eq!(empty.telemetry.otlp_endpoint, None);

        let on = Config::parse(
            "[telemetry]\notlp_endpoint = \"http://127.0.0.1:4318\"\nservice_name = \"gw-eu\"\nsampling_ratio = 0.25\n",
            env,
        )
        .unwrap()
        .telemetry;
        assert_eq!(on.service_name, "gw-eu");
        assert!((on.sampling_ratio - 0.25).abs() < f64::EPSILON);
        assert_eq!(
            on.traces_url().unwrap().as_str(),
            "http://127.0.0.1:4318/v1/traces"
        );
        let prefixed = Config::parse(
            "[telemetry]\notlp_endpoint = \"https://otel.internal/otlp/\"\nsampling_ratio = 1\n",
            env,
        )
        .unwrap();
        assert_eq!(
            prefixed.telemetry.traces_url().unwrap().as_str(),
            "https://otel.internal/otlp/v1/traces"
        );
        let summary = prefixed.redacted_summary();
        assert!(
            summary.contains("telemetry otlp_endpoint = https://otel.internal/otlp/ (OTLP/HTTP protobuf), service_name = conversation-gateway, sampling_ratio = 1"),
            "{summary}"
        );
    }

    #[test]
    fn bad_telemetry_values_are_refused_naming_their_key() {
        for (text, key) in [
            ("sampling_ratio = 1.5", "telemetry.sampling_ratio"),
            ("sampling_ratio = -0.1", "telemetry.sampling_ratio"),
            ("sampling_ratio = nan", "telemetry.sampling_ratio"),
            ("sampling_ratio = \"all\"", "telemetry.sampling_ratio"),
            (
                "otlp_endpoint = \"127.0.0.1:4318\"",
                "telemetry.otlp_endpoint",
            ),
            (
                "otlp_endpoint = \"grpc://collector:4317\"",
                "telemetry.otlp_endpoint",
            ),
            ("otlp_endpoint = \"http://\"", "telemetry.otlp_endpoint"),
            (
                "otlp_endpoint = \"http://user:pw@collector:4318\"",
                "telemetry.otlp_endpoint",
            ),
            (
                "otlp_endpoint = \"http://collector:4318/?token=x\"",
                "telemetry.otlp_endpoint",
            ),
            ("service_name = \" \"", "telemetry.service_name"),
            ("exporter = \"jaeger\"", "exporter"),
        ] {
            let err = error_of(&format!("[telemetry]\n{text}\n"));
            assert!(err.contains(key), "{text}: {err}");
        }
        let err = error_of("[telemetry]\notlp_endpoint = \"${SECRET}\"\n");
        assert!(err.contains("telemetry.otlp_endpoint"), "{err}");
        assert!(!err.contains("secret-value-of-SECRET"), "{err}");
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
