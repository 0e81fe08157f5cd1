//! `[server]`: how the gateway listens, how long a request may take, and the limits on
//! requests, connections and vendor answers.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::error::{ConfigError, invalid};
use super::store::{RateLimit, RawRateLimit, rate_limit};
use super::{millis, within};
use crate::vendors::BodyLimits;
pub use crate::vendors::budget::{
    DEFAULT_MAX_TRANSCRIPT_BYTES, DEFAULT_MAX_VENDOR_BODY_BYTES, DEFAULT_MAX_VENDOR_BYTES_IN_FLIGHT,
};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default budget of one inbound request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest `since`..`until` range a client may ask for.
pub const DEFAULT_MAX_RANGE_DAYS: u32 = 92;
/// Default longest request target (path and query) accepted.
pub const DEFAULT_MAX_URI_BYTES: usize = 8 * 1024;
/// Default largest total size of request headers accepted.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Default number of requests served at once before new ones are shed.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 512;
/// Default time a client has to send a complete request head.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time an idle keep-alive connection stays open. Longer than the 60 s idle timeout
/// common in load balancers, so the balancer, which knows, closes an idle connection first.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(75);
/// Default number of client connections open at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Longest request target hyper accepts at all; a longer one never reaches the gateway.
pub const MAX_URI_BYTES_CEILING: usize = 65_534;

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

impl ServerConfig {
    /// The vendor answer limits these settings name, with a fresh in-flight budget.
    pub fn body_limits(&self) -> BodyLimits {
        BodyLimits::new(
            self.max_vendor_body_bytes,
            self.max_transcript_bytes,
            self.max_vendor_bytes_in_flight,
        )
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
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

impl RawServer {
    pub(super) fn validate(self) -> Result<ServerConfig, ConfigError> {
        let listen = self
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
            self.request_timeout_ms,
            "server.request_timeout_ms",
            DEFAULT_REQUEST_TIMEOUT,
            false,
        )?;
        let max_range_days = match self.max_range_days {
            None => DEFAULT_MAX_RANGE_DAYS,
            Some(days @ 1..=3660) => days,
            Some(_) => {
                return Err(invalid(
                    "server.max_range_days",
                    "must be between 1 and 3660",
                ));
            }
        };
        let max_uri_bytes = within(
            self.max_uri_bytes,
            "server.max_uri_bytes",
            DEFAULT_MAX_URI_BYTES,
            256..=MAX_URI_BYTES_CEILING,
        )?;
        let max_header_bytes = within(
            self.max_header_bytes,
            "server.max_header_bytes",
            DEFAULT_MAX_HEADER_BYTES,
            1024..=1024 * 1024,
        )?;
        let max_concurrent_requests = within(
            self.max_concurrent_requests,
            "server.max_concurrent_requests",
            DEFAULT_MAX_CONCURRENT_REQUESTS,
            1..=100_000,
        )?;
        let max_vendor_bytes_in_flight = bytes(
            self.max_vendor_bytes_in_flight,
            "server.max_vendor_bytes_in_flight",
            DEFAULT_MAX_VENDOR_BYTES_IN_FLIGHT,
            MIN_BYTES_LIMIT..=MAX_BYTES_IN_FLIGHT,
        )?;
        let max_vendor_body_bytes = bytes(
            self.max_vendor_body_bytes,
            "server.max_vendor_body_bytes",
            DEFAULT_MAX_VENDOR_BODY_BYTES,
            MIN_BYTES_LIMIT..=MAX_BODY_LIMIT,
        )?;
        let max_transcript_bytes = bytes(
            self.max_transcript_bytes,
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
            self.header_read_timeout_ms,
            "server.header_read_timeout_ms",
            DEFAULT_HEADER_READ_TIMEOUT,
            false,
        )?;
        let keep_alive_timeout = millis(
            self.keep_alive_timeout_ms,
            "server.keep_alive_timeout_ms",
            DEFAULT_KEEP_ALIVE_TIMEOUT,
            false,
        )?;
        let max_connections = within(
            self.max_connections,
            "server.max_connections",
            DEFAULT_MAX_CONNECTIONS,
            1..=1_000_000,
        )?;
        let consumer_rate_limit = self
            .consumer_rate_limit
            .map(|raw| {
                if raw.tier.is_some() {
                    return Err(invalid(
                        "server.consumer_rate_limit.tier",
                        "is not supported here; give `per_second` and `burst`",
                    ));
                }
                rate_limit(Some(raw), "low", "server.consumer_rate_limit")
            })
            .transpose()?;
        Ok(ServerConfig {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Config;
    use super::super::testing::{env, error_of};
    use super::*;

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
}
