//! Prometheus metrics: every series the gateway exports, one recording function per event,
//! and the text of `GET /metrics`. Label values are route templates, source names and fixed
//! words, never ids, queries or secrets.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::time::Instant;

/// Inbound requests, by `route` (the path template), `method` and `status`.
pub const HTTP_REQUESTS: &str = "gateway_http_requests_total";
/// Inbound request latency in seconds, by `route`, `method` and `status`.
pub const HTTP_DURATION: &str = "gateway_http_request_duration_seconds";
/// Inbound requests being served now.
pub const HTTP_IN_FLIGHT: &str = "gateway_http_requests_in_flight";
/// Inbound requests refused before any work, by `reason` (`overloaded`, `rate_limited`,
/// `unauthorized`, `uri_too_long`, `headers_too_large`, `malformed`).
pub const HTTP_REFUSED: &str = "gateway_http_requests_refused_total";
/// Client connections open now.
pub const HTTP_CONNECTIONS_OPEN: &str = "gateway_http_connections_open";
/// Client connections the gateway closed on a timeout, by `reason`
/// (`header_read_timeout`, `keep_alive_timeout`).
pub const HTTP_CONNECTIONS_TIMED_OUT: &str = "gateway_http_connections_timed_out_total";
/// Vendor calls, by `source`, `endpoint` and `outcome`.
pub const UPSTREAM_REQUESTS: &str = "gateway_upstream_requests_total";
/// Vendor call latency in seconds, by `source`, `endpoint` and `outcome`.
pub const UPSTREAM_DURATION: &str = "gateway_upstream_request_duration_seconds";
/// Time spent waiting for a permit of a source's quota, in seconds, by `source`.
pub const LIMITER_WAIT: &str = "gateway_limiter_wait_seconds";
/// Calls refused by a source's quota because no permit frees up within the budget.
pub const LIMITER_REJECTIONS: &str = "gateway_limiter_rejections_total";
/// Reads of a source that got no turn within their budget (`SOURCE_BUSY`), by `source`
/// (see `sources[].max_concurrent_reads`).
pub const SOURCE_READS_REFUSED: &str = "gateway_source_reads_refused_total";
/// Cache lookups, by `cache` and `result` (`hit` or `miss`).
pub const CACHE_LOOKUPS: &str = "gateway_cache_lookups_total";
/// Cached answers dropped for room (for newer ones, or too large for the cache), by `cache`
/// (see `cache.max_items`).
pub const CACHE_EVICTIONS: &str = "gateway_cache_evictions_total";
/// Circuit breaker state by `source` and `state`: 1 for the current state, 0 for the others.
pub const BREAKER_STATE: &str = "gateway_breaker_state";
/// Bytes of vendor answers held now (see `server.max_vendor_bytes_in_flight`).
pub const VENDOR_BYTES_IN_FLIGHT: &str = "gateway_vendor_bytes_in_flight";
/// Always 1; `version` names the running build.
pub const BUILD_INFO: &str = "gateway_build_info";

/// The states a source's circuit breaker can be in, as exported in `state`.
pub const BREAKER_STATES: [&str; 3] = ["closed", "open", "half_open"];

/// Bucket bounds in seconds for every latency histogram: 5 ms to 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once (later calls reuse it) and returns its handle.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // The recorder keeps every histogram sample until upkeep folds it into the buckets,
        // and a recorder built this way runs none itself: a gateway nobody scrapes would
        // grow by every request it served.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_INTERVAL);
                    upkeep.run_upkeep();
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "cannot start metrics upkeep; /metrics scrapes still run it");
        }
        // Fails only if another recorder was installed first; its owner then reports.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("A metrics recorder was already installed; /metrics stays empty.");
        }
        metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}

/// The Prometheus text of every series recorded so far.
pub fn render() -> String {
    let handle = install();
    handle.run_upkeep();
    handle.render()
}

/// `GET /metrics`: every series in the Prometheus text format.
pub async fn serve_metrics() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(),
    )
        .into_response()
}

/// Middleware: counts and times every inbound request by its route template, so ids in
/// paths never become label values.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let _in_flight = InFlight::enter();
    let response = next.run(request).await;
    http_request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Counts a request in flight until dropped, also when the client goes away mid-request.
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        metrics::gauge!(HTTP_IN_FLIGHT).increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(HTTP_IN_FLIGHT).decrement(1.0);
    }
}

/// One inbound request answered.
pub fn http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// Counts a client connection open until dropped.
pub struct ConnectionOpen;

impl ConnectionOpen {
    /// A connection was accepted.
    pub fn enter() -> Self {
        metrics::gauge!(HTTP_CONNECTIONS_OPEN).increment(1.0);
        Self
    }
}

impl Drop for ConnectionOpen {
    fn drop(&mut self) {
        metrics::gauge!(HTTP_CONNECTIONS_OPEN).decrement(1.0);
    }
}

/// The gateway closed a connection when its timeout `reason` ran out.
pub fn connection_timed_out(reason: &'static str) {
    metrics::counter!(HTTP_CONNECTIONS_TIMED_OUT, "reason" => reason).increment(1);
}

/// A request refused before any work, for `reason`.
pub fn http_refused(reason: &'static str) {
    metrics::counter!(HTTP_REFUSED, "reason" => reason).increment(1);
}

/// One vendor call finished with `outcome` (see [`UPSTREAM_REQUESTS`]).
pub fn upstream_call(
    source: &str,
    endpoint: &'static str,
    outcome: &'static str,
    elapsed: Duration,
) {
    let labels = [
        ("source", source.to_owned()),
        ("endpoint", endpoint.to_owned()),
        ("outcome", outcome.to_owned()),
    ];
    metrics::counter!(UPSTREAM_REQUESTS, &labels).increment(1);
    metrics::histogram!(UPSTREAM_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// A permit of `source`'s quota was granted after waiting `waited` (often zero).
pub fn limiter_permit(source: &str, waited: Duration) {
    metrics::histogram!(LIMITER_WAIT, "source" => source.to_owned()).record(waited.as_secs_f64());
}

/// `source`'s quota refused a call.
pub fn limiter_rejected(source: &str) {
    metrics::counter!(LIMITER_REJECTIONS, "source" => source.to_owned()).increment(1);
}

/// A read of `source` got no turn within its budget.
pub fn source_read_refused(source: &str) {
    metrics::counter!(SOURCE_READS_REFUSED, "source" => source.to_owned()).increment(1);
}

/// A lookup in `cache` found an entry (`hit = true`) or not.
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}

/// `cache` dropped an answer for room: for a newer one, or one larger than the cache.
pub fn cache_evicted(cache: &'static str) {
    metrics::counter!(CACHE_EVICTIONS, "cache" => cache).increment(1);
}

/// The bytes of vendor answers held now, across every source.
pub fn vendor_bytes_in_flight(bytes: usize) {
    metrics::gauge!(VENDOR_BYTES_IN_FLIGHT).set(bytes as f64);
}

/// `source`'s circuit breaker is now in `state`, one of [`BREAKER_STATES`].
pub fn breaker_state(source: &str, state: &'static str) {
    for known in BREAKER_STATES {
        let value = if known == state { 1.0 } else { 0.0 };
        metrics::gauge!(BREAKER_STATE, "source" => source.to_owned(), "state" => known).set(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_names_every_recorded_series_with_its_labels() {
        install();
        http_request("/conversations", "GET", 200, Duration::from_millis(12));
        upstream_call("unit-src", "list", "success", Duration::from_millis(3));
        limiter_permit("unit-src", Duration::ZERO);
        limiter_rejected("unit-src");
        cache_lookup("unit-cache", true);
        cache_evicted("unit-cache");
        breaker_state("unit-src", "open");
        connection_timed_out("keep_alive_timeout");
        let open = ConnectionOpen::enter();
        let text = render();
        drop(open);
        for expected in [
            "gateway_build_info{version=\"",
            "gateway_http_requests_total{route=\"/conversations\",method=\"GET\",status=\"200\"}",
            "gateway_http_request_duration_seconds_bucket{route=\"/conversations\",method=\"GET\",status=\"200\",le=\"0.025\"}",
            "gateway_upstream_requests_total{source=\"unit-src\",endpoint=\"list\",outcome=\"success\"}",
            "gateway_limiter_wait_seconds_count{source=\"unit-src\"}",
            "gateway_limiter_rejections_total{source=\"unit-src\"}",
            "gateway_cache_lookups_total{cache=\"unit-cache\",result=\"hit\"}",
            "gateway_cache_evictions_total{cache=\"unit-cache\"}",
            "gateway_breaker_state{source=\"unit-src\",state=\"open\"} 1",
            "gateway_breaker_state{source=\"unit-src\",state=\"closed\"} 0",
            "gateway_http_connections_timed_out_total{reason=\"keep_alive_timeout\"}",
            "gateway_http_connections_open ",
        ] {
            assert!(text.contains(expected), "missing {expected} in\n{text}");
        }
    }
}
