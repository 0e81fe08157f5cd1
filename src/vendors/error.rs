//! What can go wrong talking to a vendor, described in upstream terms.
//!
//! Messages never carry upstream bodies, URLs or secrets: they reach clients in `sources[]`.

use std::time::Duration;

use crate::domain::ErrorCode;

/// A failed call to one source.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VendorError {
    /// The vendor did not answer within the call's time limit or the request's budget.
    #[error("the vendor did not answer in time")]
    Timeout,
    /// The vendor throttled us (HTTP 429 or its own throttle code).
    #[error("the vendor is rate limiting this source")]
    RateLimited {
        /// How long the vendor asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The source's own quota has no permit left within the request's budget.
    #[error("the source's request quota is used up for now")]
    QuotaExhausted {
        /// When the next permit is free.
        retry_after: Duration,
    },
    /// The source failed repeatedly: its circuit breaker is open and it is not called.
    #[error("the source keeps failing; calls to it are paused (circuit breaker open)")]
    CircuitOpen {
        /// When the breaker lets a probe through.
        retry_after: Duration,
    },
    /// The vendor has no such resource.
    #[error("the vendor has no such conversation")]
    NotFound,
    /// The vendor rejected the gateway's credentials for this source.
    #[error("the vendor rejected this source's credentials")]
    Unauthorized,
    /// The resource exists but is not ready yet (e.g. a transcript still being made).
    #[error("{what} is not ready yet; try again later")]
    NotReady {
        /// What is not ready, e.g. `the transcript`.
        what: &'static str,
        /// When to try again.
        retry_after: Option<Duration>,
    },
    /// The vendor answered with a business error code.
    #[error("the vendor refused the request (vendor code {})", short_code(code))]
    Rejected {
        /// The vendor's own error code.
        code: String,
    },
    /// The vendor answered with an unexpected HTTP status.
    #[error("the vendor answered HTTP {0}")]
    Status(u16),
    /// The vendor's answer could not be read.
    #[error("the vendor sent a response the gateway could not read")]
    Decode(
        /// What did not parse; logged, never sent to clients.
        String,
    ),
    /// The vendor could not be reached.
    #[error("the vendor could not be reached")]
    Transport(
        /// Why; logged, never sent to clients. Never contains a URL.
        String,
    ),
    /// The vendor's answer is larger than the gateway reads (`server.max_vendor_body_bytes`).
    #[error("the vendor's answer is larger than the {limit} bytes the gateway reads")]
    TooLarge {
        /// The limit it exceeded.
        limit: usize,
    },
    /// One read of the source (a time slice that cannot be split further, or the whole
    /// window of a source that cannot be sliced) holds more than `limit` conversations
    /// (`sources[].max_items_per_read`).
    #[error(
        "the vendor lists more than the {limit} conversations the gateway reads at once for this window; ask for a shorter window"
    )]
    TooManyItems {
        /// The limit it exceeded.
        limit: usize,
    },
    /// The gateway already holds `server.max_vendor_bytes_in_flight` bytes of vendor
    /// answers, and no room freed up within the request's budget.
    #[error("the gateway is holding as many vendor answers as it may at once; retry shortly")]
    VendorBytesExhausted,
    /// The source already had `max_concurrent_reads` reads in progress, and none ended
    /// within the request's budget.
    #[error("the gateway is reading this source as often as it may at once; retry shortly")]
    SourceBusy,
    /// A file the vendor pointed to (a transcript) was refused or could not be downloaded.
    /// One error for every cause, so it tells nothing about what is at the vendor's URL.
    #[error("the file the vendor pointed to could not be downloaded")]
    FileUnavailable,
}

/// What a vendor failure means for whoever asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The vendor does not know the record: an answer, not a failing source.
    NotFound,
    /// The record is not finished yet (a transcript being made): an answer too.
    NotReady,
    /// Out of quota, the source's own or the vendor's.
    RateLimited,
    /// The vendor did not answer in time.
    TimedOut,
    /// The gateway's own limits (vendor answer memory, reads of a source) are in use:
    /// soon again.
    Busy,
    /// The source is failing.
    Failed,
}

impl FailureKind {
    /// Whether it counts against the source's health.
    pub fn is_source_failure(self) -> bool {
        !matches!(self, Self::NotFound | Self::NotReady)
    }
}

impl VendorError {
    /// Stable machine code. Never renamed once shipped.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Timeout => ErrorCode::UpstreamTimeout,
            Self::RateLimited { .. } => ErrorCode::UpstreamRateLimited,
            Self::QuotaExhausted { .. } => ErrorCode::SourceQuotaExhausted,
            Self::CircuitOpen { .. } => ErrorCode::UpstreamCircuitOpen,
            Self::NotFound => ErrorCode::UpstreamNotFound,
            Self::Unauthorized => ErrorCode::UpstreamAuthFailed,
            Self::NotReady { .. } => ErrorCode::UpstreamNotReady,
            Self::Rejected { .. } => ErrorCode::UpstreamRejected,
            Self::Status(_) => ErrorCode::UpstreamError,
            Self::Decode(_) => ErrorCode::UpstreamBadResponse,
            Self::Transport(_) => ErrorCode::UpstreamUnreachable,
            Self::TooLarge { .. } | Self::TooManyItems { .. } => {
                ErrorCode::UpstreamResponseTooLarge
            }
            Self::VendorBytesExhausted => ErrorCode::VendorBytesExhausted,
            Self::SourceBusy => ErrorCode::SourceBusy,
            Self::FileUnavailable => ErrorCode::UpstreamFileUnavailable,
        }
    }

    /// How long to wait before trying again, where known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::NotReady { retry_after, .. } => *retry_after,
            Self::QuotaExhausted { retry_after } => Some(*retry_after),
            Self::VendorBytesExhausted | Self::SourceBusy => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// What this failure means for whoever asked: the one place vendor failures are
    /// classified (HTTP statuses, source statuses, the walk's verdict and source health all
    /// read it).
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::NotFound => FailureKind::NotFound,
            Self::NotReady { .. } => FailureKind::NotReady,
            Self::RateLimited { .. } | Self::QuotaExhausted { .. } => FailureKind::RateLimited,
            Self::Timeout => FailureKind::TimedOut,
            Self::VendorBytesExhausted | Self::SourceBusy => FailureKind::Busy,
            Self::CircuitOpen { .. }
            | Self::Unauthorized
            | Self::Rejected { .. }
            | Self::Status(_)
            | Self::Decode(_)
            | Self::Transport(_)
            | Self::TooLarge { .. }
            | Self::TooManyItems { .. }
            | Self::FileUnavailable => FailureKind::Failed,
        }
    }

    /// Whether this failure is a throttle (ours or the vendor's).
    pub fn is_rate_limit(&self) -> bool {
        self.kind() == FailureKind::RateLimited
    }

    /// A vendor listing that was still offering pages after `pages` of them: better a clear
    /// failure than a silently truncated list or an unbounded number of calls.
    pub fn endless_paging(what: &str, pages: impl std::fmt::Display) -> Self {
        Self::Decode(format!(
            "{what}: the vendor was still paging after {pages} pages"
        ))
    }

    /// Internal detail for logs (never for clients).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Decode(detail) | Self::Transport(detail) => Some(detail),
            _ => None,
        }
    }
}

/// Longest vendor code shown to clients.
const MAX_SHOWN_CODE_LEN: usize = 32;

/// A vendor's code as clients may see it: a short token of letters, digits, `_`, `-` and
/// `.`, or `unrecognized`. The code is the vendor's text, so it may be anything, of any size.
fn short_code(code: &str) -> &str {
    let token = !code.is_empty()
        && code.len() <= MAX_SHOWN_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if token { code } else { "unrecognized" }
}

impl From<reqwest::Error> for VendorError {
    fn from(err: reqwest::Error) -> Self {
        // A URL may carry a secret (Jijyun's apiKey is a query parameter): drop it first.
        let err = err.without_url();
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_decode() {
            Self::Decode(err.to_string())
        } else {
            Self::Transport(error_chain(&err))
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vendor_code_reaches_clients_only_as_a_short_safe_token() {
        let shown = |code: &str| {
            VendorError::Rejected {
                code: code.to_owned(),
            }
            .to_string()
        };
        assert!(shown("40127").ends_with("(vendor code 40127)"));
        assert!(
            shown("window_longer_than_7_days").ends_with("(vendor code window_longer_than_7_days)")
        );
        assert!(shown(&"9".repeat(33)).ends_with("(vendor code unrecognized)"));
        assert!(shown("<script>alert(1)</script>").ends_with("(vendor code unrecognized)"));
        let huge = shown(&"x".repeat(20_000));
        assert!(huge.len() < 80, "{huge}");
        assert!(shown("").ends_with("(vendor code unrecognized)"));
    }
}
