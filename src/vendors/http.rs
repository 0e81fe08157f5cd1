//! The one way adapters talk HTTP: the source's circuit breaker, a permit from its quota
//! (after any vendor cool-down), the request's remaining budget as the time limit, retries
//! within a retry budget, a capped body held in the shared in-flight budget, and errors
//! that never carry a URL.

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
use super::budget::{self, BodyError, BodyLimits, Reservation};
use super::download::{self, Downloader, Reach};
use super::resilience::{Breaker, BreakerSnapshot, ResiliencePolicy, Retries};
use crate::domain::SourceName;
use crate::ratelimit::{Denied, QuotaSnapshot, SourceLimiter};
use crate::vendors::download::FileHost;
use crate::{metrics, telemetry};

/// Header carrying the inbound request id to vendors.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

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

/// A vendor's answer, read in full. Its body's bytes count against the in-flight budget
/// until it is dropped.
#[derive(Debug)]
pub struct UpstreamResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    reservation: Option<Reservation>,
}

impl UpstreamResponse {
    /// An answer made by hand (fuzzing, tests), holding nothing of the in-flight budget.
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            status,
            headers,
            body,
            reservation: None,
        }
    }

    /// Bytes of the in-flight budget this answer holds.
    pub fn reserved_bytes(&self) -> usize {
        self.reservation.as_ref().map_or(0, Reservation::bytes)
    }

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

/// What every source shares to reach vendors: the API client, the download clients and
/// the body limits with their in-flight budget. Cheap to clone.
#[derive(Clone)]
pub struct Transport {
    api: reqwest::Client,
    downloads: Downloader,
    limits: BodyLimits,
}

impl Transport {
    /// Builds the shared clients; `limits` bound every answer read through them.
    pub fn new(limits: BodyLimits) -> reqwest::Result<Self> {
        Ok(Self {
            api: super::http_client()?,
            downloads: Downloader::new()?,
            limits,
        })
    }
}

/// How a source's vendor calls stand: its circuit breaker and its quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamSnapshot {
    pub breaker: BreakerSnapshot,
    pub quota: QuotaSnapshot,
}

/// How one source reaches its vendor. Cheap to clone.
#[derive(Clone)]
pub struct Upstream {
    source: SourceName,
    transport: Transport,
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
        transport: &Transport,
        limiter: Arc<SourceLimiter>,
        timeout: Duration,
    ) -> Self {
        Self {
            source,
            transport: transport.clone(),
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
        &self.transport.api
    }

    /// The source this upstream belongs to.
    pub fn source(&self) -> &SourceName {
        &self.source
    }

    /// How this source's calls stand: its breaker and its quota.
    pub fn snapshot(&self) -> UpstreamSnapshot {
        UpstreamSnapshot {
            breaker: self.resilience.breaker.snapshot(),
            quota: self.limiter.snapshot(),
        }
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
            let max_body = self.transport.limits.max_answer;
            let call = Call {
                endpoint,
                attempt,
                reach: None,
            };
            let outcome = self.execute(ctx, call, request, max_body).await;
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
            // The failed answer gives its bytes back to the in-flight budget before the wait.
            drop(outcome);
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

    /// Downloads a file a vendor pointed us to (e.g. a transcript on object storage) and
    /// answers only with a 2xx. Only `http`/`https` URLs without credentials are fetched,
    /// only from public addresses unless the host and port are in `listed` (see
    /// [`download::check`]), without redirects, proxies or credentials, and within
    /// `server.max_transcript_bytes`. No permit is taken: the file host is not the vendor's
    /// API (so neither its breaker nor its retries apply).
    ///
    /// Every refusal and failure is the same [`VendorError::FileUnavailable`], so an answer
    /// tells nothing about what is at the URL (an open or closed port, a status, an
    /// address); the reason is logged for the operator, without the URL.
    pub async fn download(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        url: Url,
        listed: &[FileHost],
    ) -> Result<UpstreamResponse, VendorError> {
        let reach = match download::check(&url, listed) {
            Ok(reach) => reach,
            Err(refusal) => return Err(self.file_unavailable(endpoint, refusal.reason(), "")),
        };
        let request = self.transport.downloads.client(reach).get(url);
        let max_body = self.transport.limits.max_file;
        let call = Call {
            endpoint,
            attempt: 1,
            reach: Some(reach),
        };
        match self.execute(ctx, call, request, max_body).await {
            Ok(response) if response.status.is_success() => Ok(response),
            Ok(response) => Err(self.file_unavailable(
                endpoint,
                "the file host answered with a status other than 2xx",
                response.status.as_str(),
            )),
            Err(VendorError::TooLarge { .. }) => Err(self.file_unavailable(
                endpoint,
                "the file is larger than server.max_transcript_bytes",
                "",
            )),
            Err(err) => {
                let detail = err.detail().unwrap_or("");
                Err(self.file_unavailable(endpoint, &err.to_string(), detail))
            }
        }
    }

    fn file_unavailable(&self, endpoint: &'static str, reason: &str, detail: &str) -> VendorError {
        tracing::warn!(
            source = %self.source,
            endpoint,
            reason,
            detail,
            "A file the vendor pointed to was not downloaded."
        );
        VendorError::FileUnavailable
    }

    /// Sends `request` and reads its answer, whose body may be `max_body` bytes at most.
    /// With `call.reach` (a download), the peer must be an address it permits (the resolver
    /// already saw to it; this checks the connection itself).
    async fn execute(
        &self,
        ctx: &CallContext,
        call: Call,
        request: reqwest::RequestBuilder,
        max_body: usize,
    ) -> Result<UpstreamResponse, VendorError> {
        let Call {
            endpoint,
            attempt,
            reach,
        } = call;
        let limit = self.timeout.min(ctx.remaining());
        if limit.is_zero() {
            return Err(VendorError::Timeout);
        }
        let started = Instant::now();
        // Waiting for room in the in-flight budget ends with the call's own time.
        let until = started + limit;
        // A child of the inbound request's span; no URL: query strings may carry keys.
        let span = tracing::info_span!(
            "upstream",
            source = %self.source,
            endpoint,
            // Signed: the exporter writes unsigned integers as text.
            attempt = i64::from(attempt),
            outcome = tracing::field::Empty,
            "http.response.status_code" = tracing::field::Empty,
            "otel.kind" = "client",
            "otel.status_code" = tracing::field::Empty,
        );
        let (client, request) = request.build_split();
        // This one timer bounds the whole call, body included: a second one inside the
        // client (reqwest's own timeout) would only fire at the same instant.
        let outcome = tokio::time::timeout(limit, async {
            let mut request = request?;
            if reach.is_none() {
                // The vendor API's path, never its query (Jijyun's key is there). A file's
                // URL is not the vendor's and stays out of traces altogether.
                telemetry::trace_attribute(&span, "url.path", request.url().path().to_owned());
            }
            telemetry::inject_trace(&span, request.headers_mut());
            let mut response = client.execute(request).await?;
            if let Some(reach) = reach {
                if !response
                    .remote_addr()
                    .is_some_and(|peer| reach.permits(peer.ip()))
                {
                    return Err(VendorError::Transport(
                        "connected to an address this download may not reach".to_owned(),
                    ));
                }
            }
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            let budget = &self.transport.limits.budget;
            let (body, reservation) = budget::read_body(&mut response, max_body, budget, until)
                .await
                .map_err(|err| match err {
                    BodyError::TooLarge => VendorError::TooLarge { limit: max_body },
                    BodyError::Exhausted => VendorError::VendorBytesExhausted,
                    BodyError::Read(err) => VendorError::from(err),
                })?;
            Ok::<_, VendorError>(UpstreamResponse {
                status,
                headers,
                body,
                reservation: Some(reservation),
            })
        })
        .instrument(span.clone())
        .await
        .unwrap_or(Err(VendorError::Timeout));
        let _entered = span.enter();
        let label = outcome_label(&outcome);
        span.record("outcome", label);
        match &outcome {
            Ok(response) => {
                span.record(
                    "http.response.status_code",
                    i64::from(response.status.as_u16()),
                );
                if response.status.is_server_error() {
                    span.record("otel.status_code", "ERROR");
                }
            }
            Err(_) => {
                span.record("otel.status_code", "ERROR");
            }
        }
        metrics::upstream_call(self.source.as_str(), endpoint, label, started.elapsed());
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

/// Which attempt of which call [`Upstream::execute`] sends, and where a download may go.
#[derive(Debug, Clone, Copy)]
struct Call {
    endpoint: &'static str,
    /// 1 for the first try, then one more per retry.
    attempt: u32,
    reach: Option<Reach>,
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
        Err(VendorError::TooLarge { .. }) => "too_large",
        Err(VendorError::VendorBytesExhausted) => "bytes_exhausted",
        Err(_) => "error",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::ratelimit::{RateLimit, SourceLimiter};
    use crate::vendors::BodyBudget;

    const KIB: usize = 1024;

    fn upstream_with(limits: BodyLimits) -> Upstream {
        upstream_timing_out(limits, Duration::from_secs(5))
    }

    fn upstream_timing_out(limits: BodyLimits, timeout: Duration) -> Upstream {
        let unlimited = std::num::NonZeroU32::new(10_000).unwrap();
        Upstream::new(
            "unit".parse().unwrap(),
            &Transport::new(limits).unwrap(),
            Arc::new(SourceLimiter::new(RateLimit {
                per_second: unlimited,
                burst: unlimited,
            })),
            timeout,
        )
        .with_policy(&ResiliencePolicy::single_attempt())
    }

    fn limits(max_answer: usize, in_flight: usize) -> BodyLimits {
        BodyLimits {
            max_answer,
            max_file: max_answer,
            budget: BodyBudget::new(in_flight),
        }
    }

    async fn get(upstream: &Upstream, url: &str) -> Result<UpstreamResponse, VendorError> {
        let ctx = CallContext::with_budget(Duration::from_secs(5));
        upstream.send(&ctx, "unit", upstream.http().get(url)).await
    }

    /// A server that answers every request with `size` bytes sent chunked, without
    /// `Content-Length`, in 4 KiB chunks. Counts the answers it began.
    async fn chunked_server(size: usize) -> (String, Arc<AtomicUsize>) {
        let (_, open) = tokio::sync::watch::channel(true);
        chunked_server_gated(size, open).await
    }

    /// Like [`chunked_server`], sending each body only once `gate` holds `true` (the
    /// headers go out at once).
    async fn chunked_server_gated(
        size: usize,
        gate: tokio::sync::watch::Receiver<bool>,
    ) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/page", listener.local_addr().unwrap());
        let answered = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&answered);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                let mut gate = gate.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0_u8; 1024];
                    while !request.ends_with(b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
                    if socket.write_all(head.as_bytes()).await.is_err()
                        || gate.wait_for(|open| *open).await.is_err()
                    {
                        return;
                    }
                    let mut left = size;
                    while left > 0 {
                        let n = left.min(4 * KIB);
                        let chunk = format!("{n:x}\r\n{}\r\n", "x".repeat(n));
                        if socket.write_all(chunk.as_bytes()).await.is_err() {
                            return;
                        }
                        left -= n;
                    }
                    let _ = socket.write_all(b"0\r\n\r\n").await;
                });
            }
        });
        (url, answered)
    }

    async fn sized_server(size: usize) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(size)))
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn an_answer_declaring_more_than_the_limit_is_refused_with_a_clear_error() {
        let server = sized_server(20 * KIB).await;
        let limits = limits(16 * KIB, 64 * KIB);
        let upstream = upstream_with(limits.clone());

        let err = get(&upstream, &server.uri()).await.unwrap_err();

        assert!(
            matches!(err, VendorError::TooLarge { limit } if limit == 16 * KIB),
            "{err:?}"
        );
        assert_eq!(err.code().as_str(), "UPSTREAM_RESPONSE_TOO_LARGE");
        assert!(err.to_string().contains("larger than"), "{err}");
        assert_eq!(limits.budget.in_use(), 0);
    }

    #[tokio::test]
    async fn a_chunked_answer_over_the_limit_is_refused_while_it_streams() {
        let (url, _) = chunked_server(64 * KIB).await;
        let limits = limits(16 * KIB, 64 * KIB);
        let upstream = upstream_with(limits.clone());

        let err = get(&upstream, &url).await.unwrap_err();

        assert!(matches!(err, VendorError::TooLarge { .. }), "{err:?}");
        assert_eq!(limits.budget.in_use(), 0);
        assert!(limits.budget.peak() <= 16 * KIB, "{}", limits.budget.peak());
    }

    #[tokio::test]
    async fn a_chunked_answer_within_the_limit_holds_exactly_its_bytes_until_dropped() {
        let (url, _) = chunked_server(40 * KIB).await;
        let limits = limits(48 * KIB, 64 * KIB);
        let upstream = upstream_with(limits.clone());

        let response = get(&upstream, &url).await.unwrap();

        assert_eq!(response.body.len(), 40 * KIB);
        assert_eq!(response.reserved_bytes(), 40 * KIB);
        assert_eq!(limits.budget.in_use(), 40 * KIB);
        drop(response);
        assert_eq!(limits.budget.in_use(), 0);
    }

    #[tokio::test]
    async fn a_body_that_stops_after_the_headers_ends_at_the_calls_timeout() {
        let (_open, gate) = tokio::sync::watch::channel(false);
        let (url, answered) = chunked_server_gated(4 * KIB, gate).await;
        let limits = limits(16 * KIB, 64 * KIB);
        let upstream = upstream_timing_out(limits.clone(), Duration::from_millis(200));

        // The outer bound only keeps a broken build from hanging the suite.
        let outcome = tokio::time::timeout(Duration::from_secs(30), get(&upstream, &url))
            .await
            .expect("the call outlived its own timeout by far");

        assert!(matches!(outcome, Err(VendorError::Timeout)), "{outcome:?}");
        assert_eq!(
            answered.load(Ordering::SeqCst),
            1,
            "the vendor began its answer"
        );
        assert_eq!(limits.budget.in_use(), 0);
    }

    #[tokio::test]
    async fn answers_held_at_once_never_exceed_the_in_flight_budget() {
        // Room for two 40 KiB answers, not three.
        let server = sized_server(40 * KIB).await;
        let limits = limits(48 * KIB, 100 * KIB);
        let budget = limits.budget.clone();
        let upstream = upstream_with(limits);

        let first = get(&upstream, &server.uri()).await.unwrap();
        let second = get(&upstream, &server.uri()).await.unwrap();
        assert_eq!(budget.in_use(), 80 * KIB);
        let third = tokio::spawn({
            let (upstream, url) = (upstream.clone(), server.uri());
            async move { get(&upstream, &url).await.map(|r| r.reserved_bytes()) }
        });
        while budget.waits() == 0 {
            tokio::task::yield_now().await;
        }

        // The third answer has arrived but waits for room: it cannot have finished.
        assert!(!third.is_finished());
        assert_eq!(first.reserved_bytes() + second.reserved_bytes(), 80 * KIB);
        drop(first);
        assert_eq!(third.await.unwrap().unwrap(), 40 * KIB);
        assert_eq!(budget.in_use(), 40 * KIB);
        assert!(budget.peak() <= 100 * KIB, "{}", budget.peak());
        drop(second);
        assert_eq!(budget.in_use(), 0);
    }

    #[tokio::test]
    async fn concurrent_chunked_answers_share_the_budget_and_all_finish() {
        // Eight 40 KiB answers without a length each reserve 48 KiB (their limit) to start:
        // two fit in 128 KiB; the bodies are held back until the other six wait for room.
        let (open, gate) = tokio::sync::watch::channel(false);
        let (url, answered) = chunked_server_gated(40 * KIB, gate).await;
        let limits = limits(48 * KIB, 128 * KIB);
        let budget = limits.budget.clone();
        let upstream = upstream_with(limits);

        let calls: Vec<_> = (0..8)
            .map(|_| {
                let (upstream, url) = (upstream.clone(), url.clone());
                tokio::spawn(async move { get(&upstream, &url).await.map(|r| r.body.len()) })
            })
            .collect();
        while budget.waits() < 6 {
            tokio::task::yield_now().await;
        }
        assert_eq!(budget.in_use(), 128 * KIB);
        open.send_replace(true);
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap(), 40 * KIB);
        }

        assert_eq!(answered.load(Ordering::SeqCst), 8);
        assert!(budget.peak() <= 128 * KIB, "peak {}", budget.peak());
        assert_eq!(budget.in_use(), 0);
    }

    #[tokio::test]
    async fn a_call_finding_no_room_within_its_budget_fails_its_source() {
        let server = sized_server(40 * KIB).await;
        let limits = limits(48 * KIB, 64 * KIB);
        let upstream = upstream_with(limits.clone());
        let held = get(&upstream, &server.uri()).await.unwrap();

        let ctx = CallContext::with_budget(Duration::from_millis(300));
        let err = upstream
            .send(&ctx, "unit", upstream.http().get(server.uri()))
            .await
            .unwrap_err();

        assert!(matches!(err, VendorError::VendorBytesExhausted), "{err:?}");
        assert_eq!(err.code().as_str(), "VENDOR_BYTES_EXHAUSTED");
        assert!(err.retry_after().is_some());
        assert_eq!(limits.budget.in_use(), held.reserved_bytes());
    }
}
