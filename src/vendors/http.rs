//! The one way adapters talk HTTP: a permit from the source's quota, the request's
//! remaining budget as the time limit, a capped body, and errors that never carry a URL.

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
use crate::domain::SourceName;
use crate::metrics;
use crate::ratelimit::SourceLimiter;

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

/// How one source reaches its vendor. Cheap to clone.
#[derive(Clone)]
pub struct Upstream {
    source: SourceName,
    http: reqwest::Client,
    limiter: Arc<SourceLimiter>,
    timeout: Duration,
}

impl Upstream {
    /// `timeout` caps each call; the request's remaining budget may cap it further.
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
            timeout,
        }
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

    /// Sends one vendor API call: takes a permit from the source's quota (waiting only
    /// within the budget), then sends under the tighter of the source's timeout and what is
    /// left of the budget, and reads the whole body. Any HTTP status is returned as is;
    /// the adapter reads the vendor's envelope.
    pub async fn send(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<UpstreamResponse, VendorError> {
        let waiting = Instant::now();
        self.limiter
            .acquire(ctx.deadline)
            .await
            .map_err(|retry_after| {
                metrics::limiter_rejected(self.source.as_str());
                VendorError::QuotaExhausted { retry_after }
            })?;
        metrics::limiter_permit(self.source.as_str(), waiting.elapsed());
        let mut request = request;
        if let Some(id) = &ctx.request_id {
            request = request.header(REQUEST_ID_HEADER, id);
        }
        self.execute(ctx, endpoint, request).await
    }

    /// Downloads a file a vendor pointed us to (e.g. a transcript on object storage). Only
    /// `http`/`https` URLs are followed, no credentials are sent, and no permit is taken:
    /// the file host is not the vendor's API.
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
