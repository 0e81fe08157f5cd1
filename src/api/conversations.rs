//! `GET /conversations`: the merged, paged list across sources.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use utoipa::IntoParams;

use super::error::{ApiError, Problem};
use super::json::JsonBody;
use super::params::{FilterIdParam, IncludeParam, MAX_FILTER_LEN, PageTokenParam, SourceNameParam};
use super::query::QueryParams;
use super::views::{ConversationPage, ConversationView, SourceStatusView, Vendor};
use crate::aggregate::{AllFailed, Position, ResumeError, Verdict, Walk};
use crate::cursor::{TokenError, fingerprint};
use crate::domain::{SourceName, VendorKind};
use crate::state::AppState;
use crate::vendors::{CallContext, ConversationQuery, VendorAdapter};

/// Default `page_size`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Largest `page_size`.
pub const MAX_PAGE_SIZE: usize = 100;
/// Default window: `until` minus this.
pub const DEFAULT_WINDOW_DAYS: i64 = 7;
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
    /// Only these sources: repeat the parameter (`source=a&source=b`) or separate names
    /// with commas (`source=a,b`).
    #[param(style = Form, explode)]
    source: Option<Vec<SourceNameParam>>,
    /// Only sources of these vendors: repeat the parameter or separate with commas.
    #[param(style = Form, explode)]
    vendor: Option<Vec<Vendor>>,
    /// Only this customer (the vendor's customer / end-user id). Jijyun needs it.
    customer_id: Option<FilterIdParam>,
    /// Only this agent (the vendor's agent / salesperson id).
    agent_id: Option<FilterIdParam>,
    /// Conversations per page, 1 to 100. Default 20.
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    /// `next_page_token` of the previous page, with the same filters.
    page_token: Option<PageTokenParam>,
    /// `vendor_data` adds each vendor's own item.
    include: Option<IncludeParam>,
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
        (status = 200, description = "A page of the merged list; `sources` gives each source's outcome", body = ConversationPage<'_>),
        (status = 400, description = "Bad query: unknown parameter or source, bad time, range too long, bad page token", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Auth is on and the bearer key is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every asked source is rate limited beyond the request's budget", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Every asked source failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every asked source was held back by the gateway's own limits (`ALL_SOURCES_BUSY`)", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Every asked source timed out", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    ctx: CallContext,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
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

    let walk = match params.single("page_token")? {
        Some(token) => {
            let position: Position = state
                .cursor
                .open(TOKEN_KIND, token)
                .map_err(|err| ApiError::InvalidPageToken(err.to_string()))?;
            Walk::resume(position, &binding).map_err(|err| {
                ApiError::InvalidPageToken(
                    match err {
                        ResumeError::Foreign => TokenError::Foreign,
                        ResumeError::Invalid => TokenError::Invalid,
                    }
                    .to_string(),
                )
            })?
        }
        None => Walk::start(
            binding,
            resolve_window(since, until, state.server.max_range_days)?,
        ),
    };
    let (since, until) = walk.window();
    let query = ConversationQuery {
        since,
        until,
        customer_id,
        agent_id,
    };
    let page = state
        .aggregator
        .list_conversations(
            &ctx,
            &walk.active(&sources),
            &query,
            walk.after(),
            page_size,
        )
        .await;
    let page = walk.advance(&sources, page).map_err(all_failed)?;

    let next_page_token = page
        .next
        .map(|position| state.cursor.seal(TOKEN_KIND, &position));
    // Written here, while the views borrow the page's conversations.
    Ok(JsonBody(ConversationPage {
        data: page
            .items
            .iter()
            .map(|item| ConversationView::new(item, include_vendor_data))
            .collect(),
        next_page_token,
        sources: page.sources.iter().map(SourceStatusView::from).collect(),
    })
    .into_response())
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
    if value.chars().count() > MAX_FILTER_LEN || value.chars().any(char::is_control) {
        return Err(ApiError::InvalidParameter {
            name: name.to_owned(),
            message: format!(
                "must be at most {MAX_FILTER_LEN} characters without control characters"
            ),
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

/// The answer when every asked source failed.
fn all_failed(failed: AllFailed) -> ApiError {
    let (status, message, retry_after) = match failed.verdict {
        Verdict::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            "every asked source is rate limited beyond this request's budget",
            Some(retry_after),
        ),
        Verdict::TimedOut => (
            StatusCode::GATEWAY_TIMEOUT,
            "every asked source timed out",
            None,
        ),
        Verdict::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "every asked source was held back by the gateway's own limits; retry shortly",
            Some(std::time::Duration::from_secs(1)),
        ),
        Verdict::Failed => (StatusCode::BAD_GATEWAY, "every asked source failed", None),
    };
    ApiError::AllSourcesFailed {
        status,
        message: message.to_owned(),
        sources: failed.sources.iter().map(SourceStatusView::from).collect(),
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;
    use crate::aggregate::AllFailed;

    #[tokio::test]
    async fn sources_all_held_back_by_the_gateways_own_limits_answer_503_with_a_retry() {
        let response = all_failed(AllFailed {
            verdict: Verdict::Busy,
            sources: Vec::new(),
        })
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "ALL_SOURCES_BUSY", "{problem}");
    }
}
