//! `GET /conversations`: the merged, paged list across sources.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::json::JsonBody;
use super::query::QueryParams;
use super::views::{
    ConversationPage, ConversationView, MissingWindow, SourceErrorView, SourceStatus,
    SourceStatusView, Vendor,
};
use crate::aggregate::{SourceOutcome, SourceReport};
use crate::app::AppState;
use crate::cursor::{TokenError, fingerprint};
use crate::domain::{SortKey, SourceName, VendorKind};
use crate::error::{ApiError, Problem};
use crate::vendors::{ConversationQuery, VendorAdapter};

/// Default `page_size`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Largest `page_size`.
pub const MAX_PAGE_SIZE: usize = 100;
/// Default window: `until` minus this.
pub const DEFAULT_WINDOW_DAYS: i64 = 7;
/// Longest customer or agent id accepted as a filter.
const MAX_FILTER_LEN: usize = 256;
/// Purpose tag of conversation page tokens.
const TOKEN_KIND: &str = "conversations/v1";

const PARAMETERS: &[&str] = &[
    "since",
    "until",
    "source",
    "vendor",
    "customer_id",
    "agent_id",
    "page_size",
    "page_token",
    "include",
];

/// Query string of `GET /conversations`. Unknown parameters are refused.
// Documents the parameters for OpenAPI; the handler reads them with `QueryParams` so every
// mistake gets a 400 naming the parameter.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListConversationsQuery {
    /// Start of the window (inclusive), RFC 3339 with offset. Default: `until` minus 7 days.
    since: Option<DateTime<Utc>>,
    /// End of the window (exclusive), RFC 3339 with offset. Default: now. The window may
    /// be at most `server.max_range_days` long (92 days unless configured).
    until: Option<DateTime<Utc>>,
    /// Only these sources: repeat the parameter or separate names with commas.
    source: Option<Vec<String>>,
    /// Only sources of these vendors: repeat the parameter or separate with commas.
    vendor: Option<Vec<Vendor>>,
    /// Only this customer (the vendor's customer / end-user id). Jijyun needs it.
    customer_id: Option<String>,
    /// Only this agent (the vendor's agent / salesperson id).
    agent_id: Option<String>,
    /// Conversations per page, 1 to 100. Default 20.
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    /// `next_page_token` of the previous page, with the same filters.
    page_token: Option<String>,
    /// `vendor_data` adds each vendor's own item.
    #[param(pattern = "^vendor_data$")]
    include: Option<String>,
}

/// Position of the next page, carried in the signed token.
#[derive(Debug, Serialize, Deserialize)]
struct ListToken {
    /// Fingerprint of the filters.
    q: String,
    /// Window start, ms.
    s: i64,
    /// Window end, ms.
    u: i64,
    /// Sort time of the last item returned, ms (absent: it had none).
    t: Option<i64>,
    /// Id of the last item returned.
    i: String,
    /// Sources that failed earlier in this walk, left out of the rest of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    x: Vec<DroppedSource>,
}

/// A source that failed during a walk.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DroppedSource {
    /// Source name.
    n: String,
    /// The code it failed with.
    c: String,
    /// Sort time (ms) of the boundary it failed after; absent: nothing of it was delivered
    /// by time (first page, or the untimed tail).
    t: Option<i64>,
}

impl DroppedSource {
    /// The window of this source the walk did not deliver.
    fn missing(&self, window: (DateTime<Utc>, DateTime<Utc>)) -> MissingWindow {
        let until = self
            .t
            .and_then(|t| DateTime::from_timestamp_millis(t.saturating_add(1)))
            .map_or(window.1, |after| after.min(window.1));
        MissingWindow {
            since: window.0,
            until,
        }
    }
}

/// List conversations from every configured source, merged and newest first.
///
/// Order: `started_at` descending (or `last_message_at` where a vendor has no start time),
/// ties by `id`, conversations with neither time last. Walking `next_page_token` until it
/// is `null` returns every conversation of the window exactly once. When some sources fail
/// the answer is still 200 with what the others gave; `sources` names every source's
/// outcome. A source that fails during a walk is left out of the rest of it, and its entry
/// in `sources` gives the `missing` window to fetch from it later.
#[utoipa::path(
    get,
    path = "/conversations",
    tag = "conversations",
    params(ListConversationsQuery),
    responses(
        (status = 200, description = "A page of the merged list; `sources` gives each source's outcome", body = ConversationPage),
        (status = 400, description = "Bad query: unknown parameter or source, bad time, range too long, bad page token", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Auth is on and the bearer key is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every asked source is rate limited beyond the request's budget", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Every asked source failed", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Every asked source timed out", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<JsonBody<ConversationPage>, ApiError> {
    let params = QueryParams::parse(raw.as_deref(), PARAMETERS)?;
    let page_size = params.page_size(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let include_vendor_data = params.include_vendor_data()?;
    let sources = select_sources(&state, &params)?;
    let customer_id = filter_value(&params, "customer_id")?;
    let agent_id = filter_value(&params, "agent_id")?;
    let since = params.time("since")?;
    let until = params.time("until")?;
    let binding = fingerprint(&format!(
        "source={:?};vendor={:?};customer_id={customer_id:?};agent_id={agent_id:?};since={:?};until={:?}",
        params.list("source")?,
        params.list("vendor")?,
        since.map(|t| t.timestamp_millis()),
        until.map(|t| t.timestamp_millis()),
    ));

    let (window, after, mut dropped) = match params.single("page_token")? {
        Some(token) => {
            let token: ListToken = state
                .cursor
                .open(TOKEN_KIND, token)
                .map_err(|err| ApiError::InvalidPageToken(err.to_string()))?;
            if token.q != binding {
                return Err(ApiError::InvalidPageToken(TokenError::Foreign.to_string()));
            }
            let window = (millis(token.s)?, millis(token.u)?);
            let after = SortKey {
                time_ms: token.t,
                id: token.i,
            };
            (window, Some(after), token.x)
        }
        None => (
            resolve_window(since, until, state.max_range_days)?,
            None,
            Vec::new(),
        ),
    };
    let active: Vec<_> = sources
        .iter()
        .filter(|adapter| !dropped.iter().any(|d| d.n == adapter.source().as_str()))
        .cloned()
        .collect();

    let query = ConversationQuery {
        since: window.0,
        until: window.1,
        customer_id,
        agent_id,
    };
    let ctx = state.call_context(&headers);
    let page = state
        .aggregator
        .list_conversations(&ctx, &active, &query, after.as_ref(), page_size)
        .await;
    if let Some(failure) = all_failed(&page.reports) {
        return Err(failure);
    }

    let mut statuses: Vec<(String, SourceStatusView)> = Vec::new();
    for report in &page.reports {
        let mut view = SourceStatusView::from(report);
        if let SourceOutcome::Failed(err) = &report.outcome {
            let gone = DroppedSource {
                n: report.source.to_string(),
                c: err.code().to_owned(),
                t: after.as_ref().and_then(|after| after.time_ms),
            };
            view.missing = Some(gone.missing(window));
            dropped.push(gone);
        }
        statuses.push((report.source.to_string(), view));
    }
    for gone in &dropped {
        let Some(adapter) = sources.iter().find(|a| a.source().as_str() == gone.n) else {
            continue;
        };
        if statuses.iter().any(|(name, _)| *name == gone.n) {
            continue;
        }
        statuses.push((
            gone.n.clone(),
            SourceStatusView {
                source: gone.n.clone(),
                vendor: adapter.vendor().into(),
                status: SourceStatus::Skipped,
                error: Some(SourceErrorView {
                    code: "FAILED_EARLIER_IN_WALK".to_owned(),
                    message: format!(
                        "failed earlier in this walk ({}); left out of the rest of it: fetch `missing` later",
                        gone.c
                    ),
                }),
                retry_after_seconds: None,
                missing: Some(gone.missing(window)),
            },
        ));
    }
    statuses.sort_by(|a, b| a.0.cmp(&b.0));

    let next_page_token = page
        .has_more
        .then(|| page.items.last())
        .flatten()
        .map(|last| {
            let key = last.sort_key();
            state.cursor.seal(
                TOKEN_KIND,
                &ListToken {
                    q: binding,
                    s: window.0.timestamp_millis(),
                    u: window.1.timestamp_millis(),
                    t: key.time_ms,
                    i: key.id,
                    x: dropped,
                },
            )
        });
    Ok(JsonBody(ConversationPage {
        data: page
            .items
            .into_iter()
            .map(|item| ConversationView::new(item, include_vendor_data))
            .collect(),
        next_page_token,
        sources: statuses.into_iter().map(|(_, view)| view).collect(),
    }))
}

fn millis(ms: i64) -> Result<DateTime<Utc>, ApiError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| ApiError::InvalidPageToken(TokenError::Invalid.to_string()))
}

/// The sources both `source` and `vendor` allow (every source when neither is given).
fn select_sources(
    state: &AppState,
    params: &QueryParams,
) -> Result<Vec<Arc<dyn VendorAdapter>>, ApiError> {
    let registry = state.aggregator.registry();
    let mut names = Vec::new();
    for name in params.list("source")? {
        let parsed: Option<SourceName> = name.parse().ok();
        match parsed.filter(|parsed| registry.get(parsed).is_some()) {
            Some(parsed) => names.push(parsed),
            None => return Err(ApiError::UnknownSource(name.escape_default().to_string())),
        }
    }
    let mut vendors = Vec::new();
    for raw in params.list("vendor")? {
        let vendor: VendorKind =
            raw.parse()
                .map_err(|err: crate::domain::InvalidId| ApiError::InvalidParameter {
                    name: "vendor".to_owned(),
                    message: err.0,
                })?;
        if !registry.iter().any(|adapter| adapter.vendor() == vendor) {
            return Err(ApiError::UnknownVendor(vendor.to_string()));
        }
        vendors.push(vendor);
    }
    let selected: Vec<_> = registry
        .iter()
        .filter(|adapter| names.is_empty() || names.contains(adapter.source()))
        .filter(|adapter| vendors.is_empty() || vendors.contains(&adapter.vendor()))
        .cloned()
        .collect();
    if selected.is_empty() && !(names.is_empty() && vendors.is_empty()) {
        return Err(ApiError::InvalidParameter {
            name: "vendor".to_owned(),
            message: "no configured source matches both `source` and `vendor`".to_owned(),
        });
    }
    Ok(selected)
}

fn filter_value(params: &QueryParams, name: &str) -> Result<Option<String>, ApiError> {
    let Some(value) = params.single(name)? else {
        return Ok(None);
    };
    if value.len() > MAX_FILTER_LEN || value.chars().any(char::is_control) {
        return Err(ApiError::InvalidParameter {
            name: name.to_owned(),
            message: format!("must be at most {MAX_FILTER_LEN} bytes without control characters"),
        });
    }
    Ok(Some(value.to_owned()))
}

/// `since`/`until` with their defaults, checked, at millisecond precision.
fn resolve_window(
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    max_range_days: u32,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to_ms =
        |t: DateTime<Utc>| DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t);
    // "Now" rounded up to the whole second, so requests made within the same second ask
    // vendors the same question and share one flight and one cached answer.
    let until = to_ms(until.unwrap_or_else(|| {
        let now = Utc::now();
        DateTime::from_timestamp(now.timestamp() + 1, 0).unwrap_or(now)
    }));
    let since = to_ms(since.unwrap_or(until - Duration::days(DEFAULT_WINDOW_DAYS)));
    if since > until {
        return Err(ApiError::InvalidParameter {
            name: "since".to_owned(),
            message: format!("must not be after `until` ({})", until.to_rfc3339()),
        });
    }
    if until - since > Duration::days(i64::from(max_range_days)) {
        return Err(ApiError::InvalidParameter {
            name: "until".to_owned(),
            message: format!(
                "the range from `since` to `until` may be at most {max_range_days} days"
            ),
        });
    }
    Ok((since, until))
}

/// The error to answer with when no asked source answered and at least one failed.
fn all_failed(reports: &[SourceReport]) -> Option<ApiError> {
    if reports
        .iter()
        .any(|r| matches!(r.outcome, SourceOutcome::Ok))
    {
        return None;
    }
    let failures: Vec<_> = reports
        .iter()
        .filter_map(|r| match &r.outcome {
            SourceOutcome::Failed(err) => Some(err),
            _ => None,
        })
        .collect();
    if failures.is_empty() {
        return None;
    }
    let sources = reports.iter().map(SourceStatusView::from).collect();
    let (status, message, retry_after) = if failures.iter().all(|err| err.is_rate_limit()) {
        let soonest = failures.iter().filter_map(|err| err.retry_after()).min();
        (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "every asked source is rate limited beyond this request's budget",
            Some(soonest.unwrap_or(std::time::Duration::from_secs(1))),
        )
    } else if failures
        .iter()
        .all(|err| matches!(err, crate::vendors::VendorError::Timeout))
    {
        (
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            "every asked source timed out",
            None,
        )
    } else {
        (
            axum::http::StatusCode::BAD_GATEWAY,
            "every asked source failed",
            None,
        )
    };
    Some(ApiError::AllSourcesFailed {
        status,
        message: message.to_owned(),
        sources,
        retry_after,
    })
}
