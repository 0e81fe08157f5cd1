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

use super::data::{GbConversation, GbHead, GbMessage};
use super::{Generic, Shared, SimVendor, bearer, endpoint, query_pairs, unknown_path};

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
mod tests {
    use std::collections::HashSet;

    use axum::body::Body;
    use axum::http::StatusCode;
    use serde_json::Value;

    use super::super::testing::{Answer, anchor, get, sandbox, send};
    use super::super::{ListOrder, Sandbox, SimVendor};

    async fn call(sandbox: &Sandbox, uri: &str) -> Answer {
        let key = &sandbox.credentials().gptbots_api_key;
        let request = get(uri)
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap();
        send(sandbox, request).await
    }

    fn window() -> (i64, i64) {
        let end = anchor().timestamp_millis();
        (end - 29 * 86_400_000, end)
    }

    async fn walk(sandbox: &Sandbox, filters: &str, page_size: usize) -> Vec<Value> {
        let (start, end) = window();
        let mut items = Vec::new();
        for page in 1.. {
            let uri = format!(
                "/gptbots/v1/bot/conversation/page?{filters}&start_time={start}&end_time={end}&page={page}&page_size={page_size}"
            );
            let answer = call(sandbox, &uri).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
            let body = answer.json();
            let list = body["list"].as_array().unwrap();
            items.extend(list.iter().cloned());
            if list.len() < page_size {
                assert_eq!(body["total"], items.len());
                break;
            }
        }
        items
    }

    #[tokio::test]
    async fn list_rejects_a_missing_or_wrong_api_key_with_40127() {
        let sandbox = sandbox();
        let uri = "/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=0&end_time=1&page=1&page_size=10";
        let missing = send(&sandbox, get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
        assert_eq!(missing.json()["code"], 40_127);
        let wrong = get(uri)
            .header("authorization", "Bearer wrong")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&sandbox, wrong).await.json()["code"], 40_127);
    }

    #[tokio::test]
    async fn list_requires_the_documented_parameters() {
        let sandbox = sandbox();
        for uri in [
            "/gptbots/v1/bot/conversation/page?start_time=0&end_time=1&page=1&page_size=10",
            "/gptbots/v1/bot/conversation/page?conversation_type=ALL&end_time=1&page=1&page_size=10",
            "/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=0&end_time=1&page_size=10",
            "/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=0&end_time=1&page=1&page_size=101",
            "/gptbots/v1/bot/conversation/page?conversation_type=all&start_time=0&end_time=1&page=1&page_size=10",
            "/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=2025-01-01&end_time=1&page=1&page_size=10",
        ] {
            let answer = call(&sandbox, uri).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}");
            assert_eq!(answer.json()["code"], 40_000, "{uri}");
        }
    }

    #[tokio::test]
    async fn walking_pages_returns_every_conversation_once_newest_first() {
        let sandbox = sandbox();
        let items = walk(&sandbox, "conversation_type=ALL", 9).await;
        let ids: Vec<&str> = items
            .iter()
            .map(|i| i["conversation_id"].as_str().unwrap())
            .collect();
        let expected: HashSet<String> = sandbox
            .records(SimVendor::Gptbots)
            .into_iter()
            .map(|r| r.native_id)
            .collect();
        assert_eq!(ids.len(), expected.len());
        assert_eq!(
            ids.iter().map(|s| s.to_string()).collect::<HashSet<_>>(),
            expected
        );
        let times: Vec<i64> = items
            .iter()
            .map(|i| i["recent_chat_time"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
        assert!(times.windows(2).any(|w| w[0] == w[1]), "some ties exist");
    }

    fn ids(items: &[Value]) -> Vec<String> {
        items
            .iter()
            .map(|i| i["conversation_id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn arbitrary_order_pages_hold_every_conversation_once_in_a_stable_shuffle() {
        let sandbox = sandbox();
        let documented = ids(&walk(&sandbox, "conversation_type=ALL", 9).await);
        let documented_api = ids(&walk(&sandbox, "conversation_type=API", 9).await);
        sandbox.set_list_order(ListOrder::Arbitrary);
        let arbitrary = ids(&walk(&sandbox, "conversation_type=ALL", 9).await);

        let unique: HashSet<&String> = arbitrary.iter().collect();
        assert_eq!(unique.len(), arbitrary.len(), "no item twice");
        assert_eq!(unique, documented.iter().collect::<HashSet<_>>());
        let first: HashSet<&String> = arbitrary[..9].iter().collect();
        let newest: HashSet<&String> = documented[..9].iter().collect();
        let oldest: HashSet<&String> = documented[documented.len() - 9..].iter().collect();
        assert_ne!(first, newest);
        assert_ne!(first, oldest);
        assert_eq!(
            ids(&walk(&sandbox, "conversation_type=ALL", 9).await),
            arbitrary
        );

        let api = ids(&walk(&sandbox, "conversation_type=API", 9).await);
        assert_ne!(api, documented_api);
        assert_eq!(
            api.iter().collect::<HashSet<_>>(),
            documented_api.iter().collect::<HashSet<_>>()
        );
    }

    #[tokio::test]
    async fn list_filters_by_conversation_type_and_user() {
        let sandbox = sandbox();
        let all = walk(&sandbox, "conversation_type=ALL", 100).await;
        let api = walk(&sandbox, "conversation_type=API", 100).await;
        assert!(!api.is_empty() && api.len() < all.len());
        assert!(api.iter().all(|i| i["conversation_type"] == "API"));
        let types: HashSet<&str> = all
            .iter()
            .map(|i| i["conversation_type"].as_str().unwrap())
            .collect();
        assert!(types.len() >= 4);
        assert!(all.iter().any(|i| i["anonymous_id"].is_string()));

        let user = all[0]["user_id"].as_str().unwrap();
        let mine = walk(
            &sandbox,
            &format!("conversation_type=ALL&user_id={user}"),
            100,
        )
        .await;
        assert!(!mine.is_empty() && mine.len() < all.len());
        assert!(mine.iter().all(|i| i["user_id"] == user));
    }

    #[tokio::test]
    async fn messages_page_through_long_conversations_and_fail_past_the_end() {
        let sandbox = sandbox();
        let all = walk(&sandbox, "conversation_type=ALL", 100).await;
        let long = all
            .iter()
            .find(|i| i["message_count"].as_u64().unwrap() > 100)
            .unwrap();
        let id = long["conversation_id"].as_str().unwrap();
        let count = long["message_count"].as_u64().unwrap() as usize;
        let mut messages = Vec::new();
        let mut page = 1;
        loop {
            let uri = format!("/gptbots/v2/messages?conversation_id={id}&page={page}&page_size=40");
            let answer = call(&sandbox, &uri).await;
            if answer.status == StatusCode::BAD_REQUEST {
                assert_eq!(answer.json()["code"], 40_005);
                break;
            }
            let body = answer.json();
            assert_eq!(body["total"], count);
            messages.extend(
                body["conversation_content"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .cloned(),
            );
            page += 1;
        }
        assert_eq!(messages.len(), count);
        assert_eq!(messages[0]["role"], "user");
        assert_eq!(messages[0]["parent_message_id"], "");
        assert_eq!(messages[1]["parent_message_id"], messages[0]["message_id"]);
        let last = messages.last().unwrap()["create_time"].as_i64().unwrap();
        assert_eq!(last, long["recent_chat_time"].as_i64().unwrap());
    }

    #[tokio::test]
    async fn messages_carry_every_content_block_type() {
        let sandbox = sandbox();
        let mut types = HashSet::new();
        for record in sandbox.records(SimVendor::Gptbots) {
            let uri = format!(
                "/gptbots/v2/messages?conversation_id={}&page=1&page_size=100",
                record.native_id
            );
            let body = call(&sandbox, &uri).await.json();
            for message in body["conversation_content"].as_array().unwrap() {
                for content in message["content"].as_array().unwrap() {
                    for block in content["branch_content"].as_array().unwrap() {
                        let kind = block["type"].as_str().unwrap().to_owned();
                        if kind != "text" {
                            let files = block[kind.as_str()].as_array().unwrap();
                            assert!(files[0]["url"].is_string() && files[0]["size"].is_u64());
                        }
                        types.insert(kind);
                    }
                }
            }
        }
        for kind in ["text", "image", "audio", "document", "video", "file"] {
            assert!(types.contains(kind), "{kind}");
        }
    }

    #[tokio::test]
    async fn messages_of_an_unknown_conversation_are_40356() {
        let sandbox = sandbox();
        let answer = call(
            &sandbox,
            "/gptbots/v2/messages?conversation_id=nope&page=1&page_size=10",
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(answer.json()["code"], 40_356);
    }
}
