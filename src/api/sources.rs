//! `GET /sources`: what is configured and how it has been doing, without secrets.

use axum::Json;
use axum::extract::State;

use super::views::{RateLimitView, SourceHealthView, SourceList, SourceView};
use crate::app::AppState;
use crate::config::redact_url;
use crate::error::Problem;

/// List the configured sources: vendor, quota and recent health. Never shows credentials.
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
            let health = state.aggregator.health(&source.name);
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
                rate_limit: RateLimitView {
                    per_second: source.rate_limit.per_second.get(),
                    burst: source.rate_limit.burst.get(),
                },
                health: SourceHealthView {
                    state: status.to_owned(),
                    last_ok_at: health.last_ok_at,
                    last_error_code: health.last_error.map(|(code, _)| code.to_owned()),
                    last_error_at: health.last_error.map(|(_, at)| at),
                    consecutive_failures: health.consecutive_failures,
                },
            }
        })
        .collect();
    Json(SourceList { data })
}
