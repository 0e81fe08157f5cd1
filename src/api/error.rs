//! The only error type handlers return, and the `application/problem+json` envelope
//! (RFC 9457) every non-2xx response uses. 5xx causes are logged here, inside the request
//! span; clients only ever see stable codes and safe messages.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::views::SourceStatusView;
use crate::domain::{ErrorCode, SourceName, VendorKind};
use crate::vendors::{FailureKind, VendorError};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is missing, malformed or out of range.
    #[error("query parameter `{name}`: {message}")]
    InvalidParameter {
        /// The parameter.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The query string itself could not be read.
    #[error("the query string could not be read: {0}")]
    InvalidQuery(String),
    /// A page token is malformed, tampered with, expired or from another query.
    #[error("page_token: {0}")]
    InvalidPageToken(String),
    /// A conversation id in the path is malformed.
    #[error("conversation id: {0}")]
    InvalidId(String),
    /// A `source` filter names a source that is not configured.
    #[error("no source named `{0}` is configured")]
    UnknownSource(String),
    /// A `vendor` filter names a vendor no configured source has.
    #[error("no configured source has vendor `{0}`")]
    UnknownVendor(String),
    /// The conversation id's source is not configured.
    #[error("conversation `{0}` was not found: no source named `{1}` is configured")]
    SourceNotFound(String, SourceName),
    /// The vendor does not know the conversation.
    #[error("conversation `{0}` was not found")]
    ConversationNotFound(String),
    /// No route matches the path.
    #[error("no route for `{0}`")]
    RouteNotFound(String),
    /// The route exists but not for this method.
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// Auth is on and the bearer key is missing or wrong.
    #[error("a valid `Authorization: Bearer <key>` header is required")]
    Unauthorized,
    /// One source's call failed (single-source routes such as messages).
    #[error("source `{source_name}`: {error}")]
    Upstream {
        /// The source.
        source_name: SourceName,
        /// Its vendor.
        vendor: VendorKind,
        /// What went wrong.
        error: VendorError,
    },
    /// Every asked source failed; `status` is 429, 502 or 504.
    #[error("{message}")]
    AllSourcesFailed {
        /// 429 (all rate limited), 504 (all timed out) or 502.
        status: StatusCode,
        /// Summary.
        message: String,
        /// Per-source outcome.
        sources: Vec<SourceStatusView>,
        /// Soonest retry, for 429.
        retry_after: Option<Duration>,
    },
    /// The request's budget ran out.
    #[error("the request did not finish within its time budget")]
    Timeout,
    /// The gateway is at its concurrency limit.
    #[error("the gateway is overloaded; retry shortly")]
    Overloaded,
    /// The consumer sent more requests than its inbound rate allows.
    #[error("too many requests from this consumer; retry after the Retry-After delay")]
    ConsumerRateLimited {
        /// When the next request will be accepted.
        retry_after: Duration,
    },
    /// The request target is longer than `server.max_uri_bytes`.
    #[error("the request URI is longer than {0} bytes")]
    UriTooLong(usize),
    /// The request headers together exceed `server.max_header_bytes`.
    #[error("the request headers are larger than {0} bytes")]
    HeadersTooLarge(usize),
    /// The HTTP server refused the request head before it was read: too many header
    /// fields, or more bytes than its buffer holds.
    #[error(
        "the request has more than {max_headers} header fields, or its head is larger than {max_head_bytes} bytes"
    )]
    RequestHeadTooLarge {
        /// Most header fields a request may have.
        max_headers: usize,
        /// Largest request head read.
        max_head_bytes: usize,
    },
    /// The request is not valid HTTP/1.1, so it was never routed.
    #[error("the request is not valid HTTP/1.1")]
    MalformedRequest,
    /// A bug. The detail is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

/// Body of every error response (RFC 9457 problem details plus a stable `code`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI identifying the problem type: `urn:problem:conversation-gateway:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this request. Never contains secrets or upstream bodies.
    pub detail: String,
    /// Stable machine-readable code in SCREAMING_SNAKE case, never renamed once shipped.
    pub code: ErrorCode,
    /// Outcome per source, where sources were involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<SourceStatusView>>,
}

impl ApiError {
    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidParameter { .. }
            | Self::InvalidQuery(_)
            | Self::InvalidPageToken(_)
            | Self::InvalidId(_)
            | Self::UnknownSource(_)
            | Self::UnknownVendor(_)
            | Self::MalformedRequest => StatusCode::BAD_REQUEST,
            Self::SourceNotFound(..) | Self::ConversationNotFound(_) | Self::RouteNotFound(_) => {
                StatusCode::NOT_FOUND
            }
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Upstream { error, .. } => match error.kind() {
                FailureKind::NotFound => StatusCode::NOT_FOUND,
                FailureKind::TimedOut => StatusCode::GATEWAY_TIMEOUT,
                FailureKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                FailureKind::NotReady | FailureKind::Busy => StatusCode::SERVICE_UNAVAILABLE,
                FailureKind::Failed => StatusCode::BAD_GATEWAY,
            },
            Self::AllSourcesFailed { status, .. } => *status,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::ConsumerRateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) | Self::RequestHeadTooLarge { .. } => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidParameter { .. } => ErrorCode::InvalidParameter,
            Self::InvalidQuery(_) => ErrorCode::InvalidQuery,
            Self::InvalidPageToken(_) => ErrorCode::InvalidPageToken,
            Self::InvalidId(_) => ErrorCode::InvalidConversationId,
            Self::UnknownSource(_) => ErrorCode::UnknownSource,
            Self::UnknownVendor(_) => ErrorCode::UnknownVendor,
            Self::SourceNotFound(..) => ErrorCode::SourceNotFound,
            Self::ConversationNotFound(_) => ErrorCode::ConversationNotFound,
            Self::RouteNotFound(_) => ErrorCode::RouteNotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::Upstream { error, .. } => match error {
                VendorError::NotFound => ErrorCode::ConversationNotFound,
                other => other.code(),
            },
            Self::AllSourcesFailed { status, .. } => match status.as_u16() {
                429 => ErrorCode::AllSourcesRateLimited,
                503 => ErrorCode::AllSourcesBusy,
                504 => ErrorCode::AllSourcesTimedOut,
                _ => ErrorCode::AllSourcesFailed,
            },
            Self::Timeout => ErrorCode::RequestTimeout,
            Self::Overloaded => ErrorCode::Overloaded,
            Self::ConsumerRateLimited { .. } => ErrorCode::ConsumerRateLimited,
            Self::UriTooLong(_) => ErrorCode::UriTooLong,
            Self::HeadersTooLarge(_) | Self::RequestHeadTooLarge { .. } => {
                ErrorCode::HeadersTooLarge
            }
            Self::MalformedRequest => ErrorCode::MalformedRequest,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The problem body of this error: what [`IntoResponse`] sends, for writers outside
    /// axum.
    pub fn into_problem(self) -> Problem {
        let status = self.status();
        let code = self.code();
        let (detail, sources) = match self {
            Self::Internal(_) => ("internal error".to_owned(), None),
            Self::AllSourcesFailed {
                message, sources, ..
            } => (message, Some(sources)),
            Self::Upstream {
                ref source_name,
                vendor,
                ref error,
            } => {
                let detail = self.to_string();
                (
                    detail,
                    Some(vec![SourceStatusView::failed(source_name, vendor, error)]),
                )
            }
            other => (other.to_string(), None),
        };
        Problem {
            problem_type: format!(
                "urn:problem:conversation-gateway:{}",
                code.as_str().to_ascii_lowercase().replace('_', "-")
            ),
            title: title_for(status).to_owned(),
            status: status.as_u16(),
            detail,
            code,
            sources,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::AllSourcesFailed { retry_after, .. } => *retry_after,
            Self::Upstream { error, .. } => error.retry_after().or(match error {
                VendorError::RateLimited { .. } => Some(Duration::from_secs(1)),
                _ => None,
            }),
            Self::Overloaded => Some(Duration::from_secs(1)),
            Self::ConsumerRateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Runs inside the request span, so the line carries method, path and request id.
            match &self {
                Self::Upstream { error, .. } => tracing::warn!(
                    code = self.code().as_str(),
                    detail = error.detail().unwrap_or(""),
                    error = %self,
                    "Request failed upstream."
                ),
                Self::Internal(detail) => {
                    tracing::error!(code = self.code().as_str(), detail = %detail, "Request failed.");
                }
                _ => tracing::warn!(code = self.code().as_str(), error = %self, "Request failed."),
            }
        }
        let retry_after = self.retry_after();
        let body = self.into_problem();
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(wait) = retry_after {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"conversation-gateway\""),
            );
        }
        response
    }
}

fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad request",
        401 => "Unauthorized",
        404 => "Not found",
        405 => "Method not allowed",
        414 => "URI too long",
        431 => "Request header fields too large",
        429 => "Too many requests",
        502 => "Bad gateway",
        503 => "Service unavailable",
        504 => "Gateway timeout",
        _ => "Internal error",
    }
}
