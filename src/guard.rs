//! Inbound protection: request size limits, load shedding at the concurrency limit (a 503
//! with `Retry-After` instead of an unbounded queue) and the per-consumer rate limit.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use crate::api::PROBE_PATHS;
use crate::api::error::ApiError;
use crate::auth::{Consumer, METRICS_PATH};
use crate::config::ServerConfig;
use crate::metrics;

/// Consumers remembered by the rate limit before idle ones are dropped.
const MAX_TRACKED_CONSUMERS: usize = 10_000;

/// The inbound limits of one gateway process.
pub struct Guard {
    max_uri_bytes: usize,
    max_header_bytes: usize,
    in_flight: Arc<Semaphore>,
    per_consumer: Option<DefaultKeyedRateLimiter<Consumer>>,
}

impl Guard {
    /// The limits of `[server]`.
    pub fn new(server: &ServerConfig) -> Self {
        Self {
            max_uri_bytes: server.max_uri_bytes,
            max_header_bytes: server.max_header_bytes,
            in_flight: Arc::new(Semaphore::new(server.max_concurrent_requests)),
            per_consumer: server.consumer_rate_limit.map(|limit| {
                RateLimiter::keyed(Quota::per_second(limit.per_second).allow_burst(limit.burst))
            }),
        }
    }

    fn check_size(&self, request: &Request) -> Result<(), ApiError> {
        let uri = request
            .uri()
            .path_and_query()
            .map_or(0, |target| target.as_str().len());
        if uri > self.max_uri_bytes {
            return Err(ApiError::UriTooLong(self.max_uri_bytes));
        }
        let headers: usize = request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if headers > self.max_header_bytes {
            return Err(ApiError::HeadersTooLarge(self.max_header_bytes));
        }
        Ok(())
    }
}

/// Refuses requests whose target or headers are too large: 414 or 431.
pub async fn limit_size(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    match guard.check_size(&request) {
        Ok(()) => next.run(request).await,
        Err(err) => {
            metrics::http_refused(match err {
                ApiError::UriTooLong(_) => "uri_too_long",
                _ => "headers_too_large",
            });
            err.into_response()
        }
    }
}

/// Serves at most `server.max_concurrent_requests` at once and sheds the rest at once with
/// a 503: a client retrying after a second beats a queue that outlives its timeout.
/// Probes and `/metrics` are never shed, so an overloaded gateway still reports.
pub async fn shed_load(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if PROBE_PATHS.contains(&path) || path == METRICS_PATH {
        return next.run(request).await;
    }
    let Ok(_permit) = guard.in_flight.clone().try_acquire_owned() else {
        metrics::http_refused("overloaded");
        return ApiError::Overloaded.into_response();
    };
    next.run(request).await
}

/// Applies `server.consumer_rate_limit` to the consumer `auth` named: a 429 with
/// `Retry-After` when it is over its rate.
pub async fn limit_consumer(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if PROBE_PATHS.contains(&path) || path == METRICS_PATH {
        return next.run(request).await;
    }
    let (Some(limiter), Some(consumer)) =
        (&guard.per_consumer, request.extensions().get::<Consumer>())
    else {
        return next.run(request).await;
    };
    // Forget idle consumers now and then, so client addresses cannot grow the map forever.
    if limiter.len() > MAX_TRACKED_CONSUMERS {
        limiter.retain_recent();
    }
    if let Err(not_until) = limiter.check_key(consumer) {
        metrics::http_refused("rate_limited");
        let retry_after = not_until.wait_time_from(DefaultClock::default().now());
        return ApiError::ConsumerRateLimited { retry_after }.into_response();
    }
    next.run(request).await
}
