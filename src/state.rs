//! What handlers read: the shared state of one gateway process and the context of its vendor calls.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::HeaderName;
use axum::http::request::Parts;
use tokio::time::Instant;

use crate::aggregate::Aggregator;
use crate::config::{ServerConfig, SourceConfig};
use crate::cursor::CursorKey;
use crate::vendors::{BodyBudget, CallContext};

/// Header carrying the request id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Share of the request budget given to vendor calls; the rest is for merging and writing.
const FAN_OUT_SHARE: f64 = 0.9;

/// Everything handlers share, behind one `Arc`: axum clones the state for every layer of
/// every request, and one reference count is cheaper than one per part.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl AppState {
    /// Shares `state`.
    pub fn new(state: SharedState) -> Self {
        Self(Arc::new(state))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct SharedState {
    /// The fan-out engine over every source.
    pub aggregator: Aggregator,
    /// Signs page tokens.
    pub cursor: CursorKey,
    /// Configured sources, for `GET /sources`.
    pub sources: Vec<SourceConfig>,
    /// The bytes of vendor answers held now, shared by every source.
    pub vendor_bytes: BodyBudget,
    /// `[server]`: the request budget, the longest range, the connection limits.
    pub server: ServerConfig,
    /// False until serving and again once shutdown begins.
    pub ready: AtomicBool,
}

/// When a request's budget ends, set on the request as it arrives (by the layer that
/// answers 504 past it) and read by every handler that calls vendors.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// The request's arrival plus `server.request_timeout_ms`.
    pub until: Instant,
    /// The request's whole budget.
    pub length: Duration,
}

impl Budget {
    /// A budget of `length` from now.
    pub fn starting_now(length: Duration) -> Self {
        Self {
            until: Instant::now() + length,
            length,
        }
    }

    /// When vendor calls must be done: the last share of the budget is kept for merging
    /// and writing the answer.
    pub fn vendor_deadline(self) -> Instant {
        self.until - self.length.mul_f64(1.0 - FAN_OUT_SHARE)
    }
}

/// The context of vendor calls made for one request: the deadline its [`Budget`] leaves
/// them, and its id.
impl FromRequestParts<AppState> for CallContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let budget = parts
            .extensions
            .get::<Budget>()
            .copied()
            .unwrap_or_else(|| Budget::starting_now(state.server.request_timeout));
        Ok(CallContext {
            deadline: budget.vendor_deadline(),
            request_id: parts
                .headers
                .get(&REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn vendor_calls_get_the_budget_counted_from_arrival_less_the_share_for_writing() {
        let budget = Budget::starting_now(Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(3)).await;
        // Time spent before the handler (auth, queueing) comes out of the vendors' share.
        let left = budget.vendor_deadline() - Instant::now();
        assert_eq!(left, Duration::from_secs(6));
    }
}
