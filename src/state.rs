//! What handlers read: the shared state of one gateway process and the context of its vendor calls.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName};
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
    /// Whole budget of one request.
    pub request_timeout: Duration,
    /// Longest `since`..`until` range.
    pub max_range_days: u32,
    /// The bytes of vendor answers held now, shared by every source.
    pub vendor_bytes: BodyBudget,
    /// `[server]`, for the connection limits of `app::serve`.
    pub server: ServerConfig,
    /// False until serving and again once shutdown begins.
    pub ready: AtomicBool,
}

impl SharedState {
    /// The context of vendor calls made for one request: its deadline and id.
    pub fn call_context(&self, headers: &HeaderMap) -> CallContext {
        CallContext {
            deadline: Instant::now() + self.request_timeout.mul_f64(FAN_OUT_SHARE),
            request_id: headers
                .get(&REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
        }
    }
}
