//! The one way adapters talk HTTP: the source's circuit breaker, a permit from its quota
//! (after any vendor cool-down), the request's remaining budget as the time limit, retries
//! within a retry budget, a capped body, and errors that never carry a URL.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use super::VendorError;
use super::resilience::{Breaker, ResiliencePolicy, Retries};
use crate::domain::SourceName;
use crate::metrics;
use crate::ratelimit::{Denied, SourceLimiter};

/// Header carrying the inbound request id to vendors.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Largest vendor response body the gateway reads.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The inbound request an upstream call serves: its deadline and its id.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// When the inbound request's budget runs out.
    pub deadline: Instant,
    /// The inbound request id, forwarded to vendors.
    pub request_id: Option<String>,
}

impl CallContext {
    /// A context whose budget is `budget` from now.
    pub fn with_budget(budget: Duration) -> Self {
        Self {
            deadline: Instant::now() + budget,
            request_id: None,
        }
    }

    /// What is left of the budget.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// A vendor's answer, read in full.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl UpstreamResponse {
    /// Parses the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, VendorError> {
        serde_json::from_slice(&self.body).map_err(|err| VendorError::Decode(err.to_string()))
    }

    /// `Retry-After` in seconds, if the vendor sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|secs| secs.is_finite() && *secs >= 0.0)
            .map(|secs| Duration::from_secs_f64(secs.min(86_400.0)))
    }

    /// The generic meaning of a non-2xx status, for answers without a vendor envelope:
    /// 401/403 → our credentials, 404 → not found, 429 → throttled, anything else as is.
    pub fn status_error(&self) -> VendorError {
        match self.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => VendorError::Unauthorized,
            StatusCode::NOT_FOUND => VendorError::NotFound,
            StatusCode::TOO_MANY_REQUESTS => VendorError::RateLimited {
                retry_after: self.retry_after(),
            },
            other => VendorError::Status(other.as_u16()),
        }
    }
}

/// Tells whether a vendor answer is its throttle (HTTP 429 or a vendor's own code).
pub type ThrottleSignal = fn(&UpstreamResponse) -> bool;

/// The generic throttle signal: HTTP 429.
pub fn http_429(response: &UpstreamResponse) -> bool {
    response.status == StatusCode::TOO_MANY_REQUESTS
}

/// A source's breaker and retry budget, shared by every request to it.
pub struct Resilience {
    /// Opens after repeated failures.
    pub breaker: Breaker,
    retries: Retries,
}

impl Resilience {
    /// A closed breaker and a fresh retry budget.
    pub fn new(policy: &ResiliencePolicy) -> Self {
        Self {
            breaker: Breaker::new(policy),
            retries: Retries::new(policy),
        }
    }
}

/// How one attempt went, for the breaker and the retry decision.
enum Verdict {
    /// An answer to hand to the adapter as it is.
    Answered,
    /// The vendor throttled us; hold the source for this long.
    Throttled(Duration),
    /// A timeout, a transport error or a 5xx: the vendor is unwell; worth another try.
    Failed,
}

/// How one source reaches its vendor. Cheap to clone.
#[derive(Clone)]
pub struct Upstream {
    source: SourceName,
    http: reqwest::Client,
    limiter: Arc<SourceLimiter>,
    resilience: Arc<Resilience>,
    throttle_signal: ThrottleSignal,
    timeout: Duration,
}

impl Upstream {
    /// `timeout` caps each call; the request's remaining budget may cap it further. Runs
    /// with the default [`ResiliencePolicy`] and HTTP 429 as the throttle signal.
    pub fn new(
        source: SourceName,
        http: reqwest::Client,
        limiter: Arc<SourceLimiter>,
        timeout: Duration,
    ) -> Self {
        Self {
            source,
            http,
            limiter,
            resilience: Arc::new(Resilience::new(&ResiliencePolicy::default())),
            throttle_signal: http_429,
            timeout,
        }
    }

    /// The same upstream under another breaker and retry policy (a fresh state).
    pub fn with_policy(mut self, policy: &ResiliencePolicy) -> Self {
        self.resilience = Arc::new(Resilience::new(policy));
        self
    }

    /// The same upstream reading throttles with `signal` (for vendors with their own code).
    pub fn with_throttle_signal(mut self, signal: ThrottleSignal) -> Self {
        self.throttle_signal = signal;
        self
    }

    /// The shared HTTP client, to build requests with.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The source this upstream belongs to.
    pub fn source(&self) -> &SourceName {
        &self.source
    }

    /// The source's quota.
    pub fn limiter(&self) -> &Arc<SourceLimiter> {
        &self.limiter
    }

    /// The source's breaker and retry budget.
    pub fn resilience(&self) -> &Arc<Resilience> {
        &self.resilience
    }

    fn report_breaker(&self) {
        let state = self.resilience.breaker.snapshot().state.as_str();
        metrics::breaker_state(self.source.as_str(), state);
    }

    /// Sends one vendor API read. Refused at once while the source's breaker is open; takes
    /// a permit from its quota (waiting, also for a vendor cool-down, only within the
    /// budget), then sends under the tighter of the source's timeout and what is left of
    /// the budget, and reads the whole body.
    ///
    /// A throttle starts a cool-down for the source (its `Retry-After`, or a backoff) and
    /// is answered as [`VendorError::RateLimited`] unless the cool-down ends within the
    /// budget and a retry is allowed. A timeout, transport error or 5xx is retried with
    /// jittered exponential backoff, while the budget and the retry budget allow; every
    /// retry takes a permit. Any other status is returned as is: the adapter reads the
    /// vendor's envelope.
    pub async fn send(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<UpstreamResponse, VendorError> {
        let mut request = request;
        if let Some(id) = &ctx.request_id {
            request = request.header(REQUEST_ID_HEADER, id);
        }
        self.resilience.retries.deposit();
        let mut attempt = 1;
        loop {
            let admission = self
                .resilience
                .breaker
                .admit()
                .map_err(|retry_after| VendorError::CircuitOpen { retry_after })?;
            let waiting = Instant::now();
            self.limiter
                .acquire(ctx.deadline)
                .await
                .map_err(|denied| match denied {
                    Denied::Quota(retry_after) => {
                        metrics::limiter_rejected(self.source.as_str());
                        VendorError::QuotaExhausted { retry_after }
                    }
                    Denied::CoolDown(wait) => VendorError::RateLimited {
                        retry_after: Some(wait),
                    },
                })?;
            metrics::limiter_permit(self.source.as_str(), waiting.elapsed());
            // A body that cannot be copied (none of ours) is sent once.
            let spare = request.try_clone();
            let outcome = self.execute(ctx, endpoint, request).await;
            let verdict = self.judge(&outcome);
            let at_least = match verdict {
                Verdict::Answered => {
                    admission.success();
                    self.report_breaker();
                    return outcome;
                }
                Verdict::Throttled(wait) => {
                    // The vendor answered: it is alive, only busy.
                    admission.success();
                    self.report_breaker();
                    let wait = self.limiter.cool_down(wait).await;
                    tracing::info!(
                        source = %self.source,
                        endpoint,
                        cool_down_ms = wait.as_millis() as u64,
                        "Vendor throttled this source: holding its calls."
                    );
                    wait
                }
                Verdict::Failed => {
                    admission.failure();
                    self.report_breaker();
                    Duration::ZERO
                }
            };
            let retry = spare.and_then(|spare| {
                let delay = self
                    .resilience
                    .retries
                    .next(attempt, ctx.deadline, at_least)?;
                Some((spare, delay))
            });
            let Some((spare, delay)) = retry else {
                return match verdict {
                    // The cool-down as applied (cut to the maximum), or what is left of a
                    // longer one already running.
                    Verdict::Throttled(_) => Err(VendorError::RateLimited {
                        retry_after: Some(
                            self.limiter
                                .cool_down_remaining()
                                .map_or(at_least, |left| left.max(at_least)),
                        ),
                    }),
                    _ => outcome,
                };
            };
            tracing::debug!(
                source = %self.source,
                endpoint,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "Retrying a vendor call."
            );
            tokio::time::sleep(delay).await;
            request = spare;
            attempt += 1;
        }
    }

    fn judge(&self, outcome: &Result<UpstreamResponse, VendorError>) -> Verdict {
        match outcome {
            Ok(response) if (self.throttle_signal)(response) => Verdict::Throttled(
                response
                    .retry_after()
                    .filter(|wait| !wait.is_zero())
                    .unwrap_or_else(|| self.resilience.retries.throttle_backoff()),
            ),
            Ok(response) if response.status.is_server_error() => Verdict::Failed,
            Err(VendorError::Timeout | VendorError::Transport(_)) => Verdict::Failed,
            _ => Verdict::Answered,
        }
    }

    /// Downloads a file a vendor pointed us to (e.g. a transcript on object storage). Only
    /// `http`/`https` URLs are followed, no credentials are sent, and no permit is taken:
    /// the file host is not the vendor's API (so neither its breaker nor its retries apply).
    pub async fn download(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        url: Url,
    ) -> Result<UpstreamResponse, VendorError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(VendorError::Decode(format!(
                "refused to follow a `{}` URL from the vendor",
                url.scheme()
            )));
        }
        self.execute(ctx, endpoint, self.http.get(url)).await
    }

    async fn execute(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<UpstreamResponse, VendorError> {
        let limit = self.timeout.min(ctx.remaining());
        if limit.is_zero() {
            return Err(VendorError::Timeout);
        }
        let started = Instant::now();
        // A child of the inbound request's span; no URL: query strings may carry keys.
        let span = tracing::info_span!("upstream", source = %self.source, endpoint);
        let outcome = tokio::time::timeout(limit, async {
            let mut response = request.timeout(limit).send().await?;
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            let body = read_capped(response).await?;
            Ok::<_, VendorError>(UpstreamResponse {
                status,
                headers,
                body,
            })
        })
        .instrument(span.clone())
        .await
        .unwrap_or(Err(VendorError::Timeout));
        let _entered = span.enter();
        metrics::upstream_call(
            self.source.as_str(),
            endpoint,
            outcome_label(&outcome),
            started.elapsed(),
        );
        match &outcome {
            Ok(response) => tracing::debug!(
                source = %self.source,
                endpoint,
                status = response.status.as_u16(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "Vendor answered."
            ),
            Err(err) => tracing::debug!(
                source = %self.source,
                endpoint,
                error = %err,
                detail = err.detail().unwrap_or(""),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "Vendor call failed."
            ),
        }
        outcome
    }
}

/// The `outcome` label of a vendor call: a status class or how it failed.
fn outcome_label(outcome: &Result<UpstreamResponse, VendorError>) -> &'static str {
    match outcome {
        Ok(response) => match response.status.as_u16() {
            200..=299 => "success",
            429 => "throttled",
            400..=499 => "client_error",
            500..=599 => "server_error",
            _ => "other_status",
        },
        Err(VendorError::Timeout) => "timeout",
        Err(VendorError::Transport(_)) => "transport_error",
        Err(VendorError::Decode(_)) => "bad_response",
        Err(_) => "error",
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, VendorError> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_BODY_BYTES as u64)
    {
        return Err(VendorError::Decode("response body too large".to_owned()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(VendorError::Decode("response body too large".to_owned()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}
