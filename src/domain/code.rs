//! Every machine code the gateway answers with, each named once.

use serde::Serialize;
use utoipa::ToSchema;

/// Defines [`ErrorCode`] from one list of variants and their wire text.
macro_rules! codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $text:literal,)+) => {
        /// A stable machine code: the `code` of a problem and of a source's error.
        /// SCREAMING_SNAKE case on the wire, never renamed once shipped.
        // The wire text follows from the variant's name (a test holds it to `$text`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order defined.
            pub const ALL: &[Self] = &[$(Self::$variant,)+];

            /// The code as sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }
    };
}

codes! {
    /// A query parameter is malformed or out of range.
    InvalidParameter = "INVALID_PARAMETER",
    /// The query as a whole cannot be read.
    InvalidQuery = "INVALID_QUERY",
    /// The page token is not one this gateway signed for this query.
    InvalidPageToken = "INVALID_PAGE_TOKEN",
    /// A conversation id is not `<source>:<native id>`.
    InvalidConversationId = "INVALID_CONVERSATION_ID",
    /// A source named in the request is not configured.
    UnknownSource = "UNKNOWN_SOURCE",
    /// A vendor named in the request is not known.
    UnknownVendor = "UNKNOWN_VENDOR",
    /// The id names a source that is not configured.
    SourceNotFound = "SOURCE_NOT_FOUND",
    /// The vendor has no such conversation.
    ConversationNotFound = "CONVERSATION_NOT_FOUND",
    /// No route has this path.
    RouteNotFound = "ROUTE_NOT_FOUND",
    /// The route does not answer this method.
    MethodNotAllowed = "METHOD_NOT_ALLOWED",
    /// No valid API key was sent.
    Unauthorized = "UNAUTHORIZED",
    /// Every source asked was out of quota.
    AllSourcesRateLimited = "ALL_SOURCES_RATE_LIMITED",
    /// Every source asked ran out of time.
    AllSourcesTimedOut = "ALL_SOURCES_TIMED_OUT",
    /// Every source asked failed.
    AllSourcesFailed = "ALL_SOURCES_FAILED",
    /// Every source asked was held back by the gateway's own limits (reads of a source at
    /// once, vendor answer memory), not by a vendor.
    AllSourcesBusy = "ALL_SOURCES_BUSY",
    /// The request's budget ran out.
    RequestTimeout = "REQUEST_TIMEOUT",
    /// The gateway is at its limit of requests in progress.
    Overloaded = "OVERLOADED",
    /// This consumer sent more requests than its rate allows.
    ConsumerRateLimited = "CONSUMER_RATE_LIMITED",
    /// The request's URI is too long.
    UriTooLong = "URI_TOO_LONG",
    /// The request's headers are too large.
    HeadersTooLarge = "HEADERS_TOO_LARGE",
    /// The request is not valid HTTP.
    MalformedRequest = "MALFORMED_REQUEST",
    /// A bug in the gateway.
    Internal = "INTERNAL",
    /// The vendor did not answer in time.
    UpstreamTimeout = "UPSTREAM_TIMEOUT",
    /// The vendor refused the call for its rate limit.
    UpstreamRateLimited = "UPSTREAM_RATE_LIMITED",
    /// The source's quota had no permit within the budget.
    SourceQuotaExhausted = "SOURCE_QUOTA_EXHAUSTED",
    /// The source failed repeatedly and is rested before it is called again.
    UpstreamCircuitOpen = "UPSTREAM_CIRCUIT_OPEN",
    /// The vendor has no such record.
    UpstreamNotFound = "UPSTREAM_NOT_FOUND",
    /// The vendor refused the source's credentials.
    UpstreamAuthFailed = "UPSTREAM_AUTH_FAILED",
    /// The vendor has not finished the record yet (a transcript in progress).
    UpstreamNotReady = "UPSTREAM_NOT_READY",
    /// The vendor refused the call.
    UpstreamRejected = "UPSTREAM_REJECTED",
    /// The vendor answered with an error status.
    UpstreamError = "UPSTREAM_ERROR",
    /// The vendor's answer could not be read.
    UpstreamBadResponse = "UPSTREAM_BAD_RESPONSE",
    /// The vendor could not be reached.
    UpstreamUnreachable = "UPSTREAM_UNREACHABLE",
    /// The vendor's answer is larger than the gateway reads.
    UpstreamResponseTooLarge = "UPSTREAM_RESPONSE_TOO_LARGE",
    /// Vendor answers in flight already hold all the memory set aside for them.
    VendorBytesExhausted = "VENDOR_BYTES_EXHAUSTED",
    /// The source already had as many reads in progress as it may, and none ended in time.
    SourceBusy = "SOURCE_BUSY",
    /// A file the vendor pointed to could not be downloaded.
    UpstreamFileUnavailable = "UPSTREAM_FILE_UNAVAILABLE",
    /// The source's vendor cannot apply a filter of the request, so it was not asked.
    FilterNotSupported = "FILTER_NOT_SUPPORTED",
    /// The source failed on an earlier page of this walk and is left out of the rest.
    FailedEarlierInWalk = "FAILED_EARLIER_IN_WALK",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_sent_as_its_text_and_no_two_share_one() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_'),
                "{code}"
            );
        }
    }
}
