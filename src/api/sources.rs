//! `GET /sources`: what is configured and how it has been doing, without secrets.

use axum::Json;
use axum::extract::State;

use super::error::Problem;
use super::views::{
    BreakerStateView, BreakerView, RateLimitView, ReadsView, SourceHealthView, SourceList,
    SourceView,
};
use crate::aggregate::SourceSnapshot;
use crate::config::redact_url;
use crate::ratelimit::{QuotaSnapshot, RateLimit};
use crate::state::AppState;
use crate::vendors::resilience::{BreakerSnapshot, BreakerState};

/// List the configured sources: vendor, quota and limiter state, vendor cool-down, circuit
/// breaker, reads at once and recent health. Never shows credentials.
#[utoipa::path(
    get,
    path = "/sources",
    tag = "sources",
    responses(
        (status = 200, description = "Every configured source", body = SourceList),
        (status = 401, description = "Auth is on and the bearer key is missing or wrong", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_sources(State(state): State<AppState>) -> Json<SourceList> {
    let data = state
        .sources
        .iter()
        .map(|source| {
            let SourceSnapshot {
                health,
                upstream,
                reads,
            } = state.aggregator.snapshot(&source.name);
            let status = if health.consecutive_failures > 0 {
                "failing"
            } else if health.last_ok_at.is_some() {
                "ok"
            } else {
                "unknown"
            };
            SourceView {
                name: source.name.to_string(),
                vendor: source.vendor_kind().into(),
                base_url: redact_url(&source.base_url),
                timezone: source.timezone.name().to_owned(),
                timeout_ms: source.timeout.as_millis() as u64,
                rate_limit: rate_limit_view(source.rate_limit, upstream.quota),
                breaker: breaker_view(upstream.breaker),
                reads: ReadsView {
                    max: reads.max as u64,
                    max_items: reads.max_items as u64,
                    in_progress: reads.in_progress as u64,
                    waited: reads.waited,
                    refused: reads.refused,
                },
                health: SourceHealthView {
                    state: status.to_owned(),
                    last_ok_at: health.last_ok_at,
                    last_error_code: health.last_error.map(|(code, _)| code),
                    last_error_at: health.last_error.map(|(_, at)| at),
                    consecutive_failures: health.consecutive_failures,
                },
            }
        })
        .collect();
    Json(SourceList { data })
}

fn rate_limit_view(limit: RateLimit, quota: QuotaSnapshot) -> RateLimitView {
    let QuotaSnapshot {
        store,
        store_reachable,
        cool_down,
        max_cool_down,
        stats,
    } = quota;
    RateLimitView {
        per_second: limit.per_second.get(),
        burst: limit.burst.get(),
        store: store.to_owned(),
        store_reachable,
        cool_down_ms: cool_down.map(|left| left.as_millis() as u64),
        max_cool_down_ms: max_cool_down.as_millis() as u64,
        cool_downs_clamped: stats.clamped,
        granted: stats.granted,
        waited: stats.waited,
        refused: stats.refused,
        fallback: stats.fallback,
    }
}

fn breaker_view(breaker: BreakerSnapshot) -> BreakerView {
    BreakerView {
        state: match breaker.state {
            BreakerState::Closed => BreakerStateView::Closed,
            BreakerState::Open => BreakerStateView::Open,
            BreakerState::HalfOpen => BreakerStateView::HalfOpen,
        },
        consecutive_failures: breaker.consecutive_failures,
        retry_in_ms: breaker.retry_in.map(|left| left.as_millis() as u64),
        opened: breaker.opened,
    }
}
