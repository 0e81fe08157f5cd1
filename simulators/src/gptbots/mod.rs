//! GPTBots simulator: the conversation list (`GET /v1/bot/conversation/page`) and the v2 message
//! detail (`GET /v2/messages`), behind `Authorization: Bearer <API key>`.
//!
//! Success bodies are the bare payload; failures are `{"code": int, "message": str}`. The
//! documents do not say which HTTP status comes with a failure; every documented code reads as
//! an HTTP status followed by two digits (40000 and 40005 → 400, 40127 → 401, 40356 → 403,
//! 20059 → 200), so this simulator answers each code with `code / 100` as its status.
//! Other choices where the documents are silent:
//! - every list parameter the table marks as required is required; a missing or non-numeric
//!   one, `page` < 1, `page_size` outside 1–100, `start_time` > `end_time`, or a
//!   `conversation_type` outside the documented values (upper case, `ALL` = every type): 40000.
//! - the list filters `start_time <= recent_chat_time <= end_time` (both ends inclusive, as the
//!   documented example `end_time=…999` suggests), sorts by `recent_chat_time` descending with
//!   ties by `conversation_id` (or, with `ListOrder::Arbitrary`, shuffles the matching
//!   conversations stably before paging), and `total` is the number of matching conversations
//!   over all pages. A page past the end is an empty `list`.
//! - `/v2/messages` requires `conversation_id`, `page` and `page_size` (1–100, else 40000),
//!   ignores `user_id`, and lists messages oldest first. A page that starts past the last
//!   message is 40005; an unknown conversation is 40356. The first message's
//!   `parent_message_id` is `""`; every other message points at the one before it.
//! - faults: 500 `{"code": 50000}`; throttle: 429 `{"code": 42900}`; unknown path 404 /
//!   40400; wrong method 405 / 40500.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::http::{Generic, bearer, endpoint, query_pairs, unknown_path};
use crate::{Shared, SimVendor};
use data::{GbConversation, GbHead, GbMessage};

pub(crate) mod data;

const VENDOR: SimVendor = SimVendor::Gptbots;

/// Every `conversation_type` the documents list.
const CONVERSATION_TYPES: [&str; 15] = [
    "ALL",
    "SPACE",
    "API",
    "EMBED",
    "WIDGET",
    "AI_SEARCH",
    "SHARE",
    "WHATSAPP_META",
    "WHATSAPP_ENGAGELAB",
    "DINGTALK",
    "DISCORD",
    "SLACK",
    "ZAPIER",
    "WXKF",
    "TELEGRAM",
];

pub(super) fn router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/bot/conversation/page",
            endpoint(shared, VENDOR, "list", get(list)),
        )
        .route(
            "/v2/messages",
            endpoint(shared, VENDOR, "messages", get(messages)),
        )
        .fallback(unknown_path(shared, VENDOR))
        .with_state(Arc::clone(shared))
}

pub(super) fn generic(kind: Generic) -> Response {
    match kind {
        Generic::NotFound => ApiError::new(40_400, "Not found"),
        Generic::MethodNotAllowed => ApiError::new(40_500, "Request method not supported"),
        Generic::ServerError => ApiError::new(50_000, "Internal server error"),
        Generic::Throttled => ApiError::new(42_900, "Too many requests"),
    }
    .into_response()
}

/// `{"code", "message"}`, answered with HTTP status `code / 100`.
#[derive(Debug, Serialize)]
struct ApiError {
    code: u32,
    message: String,
}

impl ApiError {
    fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn invalid(detail: &str) -> Self {
        Self::new(40_000, format!("Invalid parameter: {detail}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = u16::try_from(self.code / 100)
            .ok()
            .and_then(|status| StatusCode::from_u16(status).ok())
            .unwrap_or(StatusCode::BAD_REQUEST);
        (status, axum::Json(self)).into_response()
    }
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    match bearer(headers) {
        Some(key) if key == shared.config.credentials.gptbots_api_key => Ok(()),
        _ => Err(ApiError::new(40_127, "Developer authentication failed")),
    }
}

fn required<'a>(query: &'a HashMap<String, String>, name: &str) -> Result<&'a str, ApiError> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::invalid(&format!("{name} is required")))
}

fn required_number(query: &HashMap<String, String>, name: &str) -> Result<i64, ApiError> {
    required(query, name)?
        .parse()
        .map_err(|_| ApiError::invalid(&format!("{name} must be an integer")))
}

/// `page` and `page_size` as a zero-based start index and a length.
fn paging(query: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let page = required_number(query, "page")?;
    let page_size = required_number(query, "page_size")?;
    if page < 1 {
        return Err(ApiError::invalid("page starts from 1"));
    }
    if !(1..=100).contains(&page_size) {
        return Err(ApiError::invalid("page_size must be between 1 and 100"));
    }
    let start = usize::try_from(page - 1)
        .ok()
        .and_then(|p| p.checked_mul(page_size as usize))
        .unwrap_or(usize::MAX);
    Ok((start, page_size as usize))
}

#[derive(Serialize)]
struct ListPage<'a> {
    list: Vec<GbConversation<'a>>,
    total: usize,
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let query = query_pairs(query.as_deref());
    let conversation_type = required(&query, "conversation_type")?;
    if !CONVERSATION_TYPES.contains(&conversation_type) {
        return Err(ApiError::invalid("unknown conversation_type"));
    }
    let start_time = required_number(&query, "start_time")?;
    let end_time = required_number(&query, "end_time")?;
    if start_time > end_time {
        return Err(ApiError::invalid("start_time is later than end_time"));
    }
    let (start, page_size) = paging(&query)?;
    let user_id = query.get("user_id").filter(|u| !u.is_empty());

    let data = &shared.data.gptbots;
    let all = &data.conversations;
    let from = all.partition_point(|c| c.recent_chat_time > end_time);
    let to = all.partition_point(|c| c.recent_chat_time >= start_time);
    let mut matching: Vec<&GbHead> = all[from..to.max(from)]
        .iter()
        .filter(|c| conversation_type == "ALL" || c.conversation_type == conversation_type)
        .filter(|c| user_id.is_none_or(|u| c.user_id() == u))
        .collect();
    shared.arrange(&mut matching, data.keys, |c| c.index);
    let total = matching.len();
    let page = matching
        .into_iter()
        .skip(start)
        .take(page_size)
        .map(|c| data.item(c))
        .collect();
    Ok(axum::Json(ListPage { list: page, total }).into_response())
}

#[derive(Serialize)]
struct MessagesPage<'a> {
    total: usize,
    conversation_content: &'a [GbMessage],
}

async fn messages(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let query = query_pairs(query.as_deref());
    let conversation_id = required(&query, "conversation_id")?;
    let (start, page_size) = paging(&query)?;
    let data = &shared.data.gptbots;
    let conversation = data
        .find(conversation_id)
        .ok_or_else(|| ApiError::new(40_356, "Conversation does not exist"))?;
    let messages = data.messages(conversation);
    let total = messages.len();
    if start >= total {
        return Err(ApiError::new(40_005, "Page exceeds the available data"));
    }
    let stop = start.saturating_add(page_size).min(total);
    Ok(axum::Json(MessagesPage {
        total,
        conversation_content: &messages[start..stop],
    })
    .into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
