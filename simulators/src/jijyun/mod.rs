//! 语聚AI (Jijyun) simulator: `POST /v1/openapi/chat/record?apiKey=…`, every chat of one contact
//! with its messages inline.
//!
//! Answers use the capitalised envelope `{"Code", "Data", "Msg", "RequestId"}`; `RequestId` is a
//! UUID derived from the seed and a per-sandbox counter. Where the documents are silent, this
//! simulator chooses:
//! - a missing or wrong `apiKey`: HTTP 401 with `Code` 4001.
//! - business and input errors are HTTP 200 with `Code` 4000 and the reason in `Msg`: malformed
//!   JSON or a non-JSON `Content-Type`, a field of the wrong type (`days`, `start_time` and
//!   `end_time` must be strings, the filters arrays of strings or numbers), a missing or empty
//!   `customer_id`, a non-numeric `days`, or a time not `yyyy-MM-dd HH:mm:ss`.
//! - window: when `start_time` or `end_time` is non-empty they bound the chats' hidden creation
//!   time (inclusive, configured zone; a missing side is open); otherwise a non-empty `days`
//!   keeps chats created in the last `days` × 24 h before the anchor; otherwise every chat.
//! - `chat_source` (`企业微信`, `微信公众号`, `抖音`, `网页`, `小红书`), `chat_robot`
//!   (`robot-1001`, `robot-1002`) and `seat_member` (`seat-2001`…`seat-2004`; only chats a human
//!   seat took over have one) keep chats whose value is in the list; an empty list keeps all.
//! - an unknown `customer_id` is a success with empty `Data`. Chats are newest first (with
//!   `ListOrder::Arbitrary`, in a stable shuffle); messages are in conversation order (the AI
//!   part, then the human part).
//! - `GET /v1/openapi/check?apiKey=…` validates a key outside the envelope: `{"success": true}`,
//!   or HTTP 401 with `{"success": false}`.
//! - faults: HTTP 500 with `Code` 5000; throttle: HTTP 429 with the text body
//!   `Too Many Requests in one second`; unknown path 404 / 4004; wrong method 405 / 4005.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::http::{Generic, endpoint, is_json, query_pairs, unknown_path};
use crate::{Shared, SimVendor};
use data::JjHead;

pub(crate) mod data;

const VENDOR: SimVendor = SimVendor::Jijyun;

pub(super) fn router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/openapi/chat/record",
            endpoint(shared, VENDOR, "chat_record", post(chat_record)),
        )
        .route(
            "/v1/openapi/check",
            endpoint(shared, VENDOR, "check", get(check)),
        )
        .fallback(unknown_path(shared, VENDOR))
        .with_state(Arc::clone(shared))
}

pub(super) fn generic(shared: &Shared, kind: Generic) -> Response {
    match kind {
        Generic::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Too Many Requests in one second",
        )
            .into_response(),
        Generic::NotFound => answer::<()>(shared, StatusCode::NOT_FOUND, 4004, "接口不存在", None),
        Generic::MethodNotAllowed => answer::<()>(
            shared,
            StatusCode::METHOD_NOT_ALLOWED,
            4005,
            "请求方法不支持",
            None,
        ),
        Generic::ServerError => answer::<()>(
            shared,
            StatusCode::INTERNAL_SERVER_ERROR,
            5000,
            "服务器内部错误",
            None,
        ),
    }
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    #[serde(rename = "Code")]
    code: u32,
    #[serde(rename = "Data")]
    data: Option<T>,
    #[serde(rename = "Msg")]
    msg: &'a str,
    #[serde(rename = "RequestId")]
    request_id: String,
}

fn answer<T: Serialize>(
    shared: &Shared,
    status: StatusCode,
    code: u32,
    msg: &str,
    data: Option<T>,
) -> Response {
    let n = shared.jijyun_requests.fetch_add(1, Ordering::Relaxed);
    let mac = shared.mac(&[b"jijyun-request", &n.to_be_bytes()]);
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&mac[..16]);
    let request_id = uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string();
    let body = Envelope {
        code,
        data,
        msg,
        request_id,
    };
    (status, axum::Json(body)).into_response()
}

fn business_error(shared: &Shared, msg: &str) -> Response {
    answer::<()>(shared, StatusCode::OK, 4000, msg, None)
}

async fn check(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let query = query_pairs(query.as_deref());
    let valid = query.get("apiKey") == Some(&shared.config.credentials.jijyun_api_key);
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    };
    (status, axum::Json(serde_json::json!({ "success": valid }))).into_response()
}

#[derive(Deserialize)]
struct RecordRequest {
    customer_id: Option<String>,
    days: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    chat_source: Option<Vec<Value>>,
    chat_robot: Option<Vec<Value>>,
    seat_member: Option<Vec<Value>>,
}

/// The strings of a filter array; `None` when an element is neither a string nor a number.
fn filter_values(values: Option<Vec<Value>>) -> Option<Vec<String>> {
    values
        .unwrap_or_default()
        .into_iter()
        .map(|value| match value {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

async fn chat_record(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query = query_pairs(query.as_deref());
    if query.get("apiKey") != Some(&shared.config.credentials.jijyun_api_key) {
        return answer::<()>(
            &shared,
            StatusCode::UNAUTHORIZED,
            4001,
            "apiKey无效或已过期",
            None,
        );
    }
    if !is_json(&headers) {
        return business_error(
            &shared,
            "请求格式错误，Content-Type 必须为 application/json",
        );
    }
    let request: RecordRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => return business_error(&shared, &format!("参数格式错误: {err}")),
    };
    let Some(customer_id) = request.customer_id.filter(|c| !c.is_empty()) else {
        return business_error(&shared, "customer_id不能为空");
    };
    let (Some(sources), Some(robots), Some(seats)) = (
        filter_values(request.chat_source),
        filter_values(request.chat_robot),
        filter_values(request.seat_member),
    ) else {
        return business_error(&shared, "参数格式错误: 筛选条件必须为字符串数组");
    };

    let non_empty = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let start_time = non_empty(request.start_time);
    let end_time = non_empty(request.end_time);
    let (from, to) = if start_time.is_some() || end_time.is_some() {
        let parse = |raw: Option<String>| -> Result<Option<DateTime<Utc>>, ()> {
            raw.map(|raw| shared.parse_naive(raw.trim()).ok_or(()))
                .transpose()
        };
        match (parse(start_time), parse(end_time)) {
            (Ok(from), Ok(to)) => (from, to),
            _ => return business_error(&shared, "时间格式错误，应为 yyyy-MM-dd HH:mm:ss"),
        }
    } else if let Some(days) = non_empty(request.days) {
        let Ok(days) = days.trim().parse::<u32>() else {
            return business_error(&shared, "days 必须为数字");
        };
        let anchor = shared.config.anchor;
        (
            anchor.checked_sub_signed(TimeDelta::days(i64::from(days))),
            Some(anchor),
        )
    } else {
        (None, None)
    };

    let data = &shared.data.jijyun;
    let empty = Vec::new();
    let mut chats: Vec<&JjHead> = data
        .by_customer
        .get(&customer_id)
        .unwrap_or(&empty)
        .iter()
        .filter_map(|&at| data.chats.get(at as usize))
        .filter(|c| from.is_none_or(|from| c.created_at >= from))
        .filter(|c| to.is_none_or(|to| c.created_at <= to))
        .filter(|c| sources.is_empty() || sources.iter().any(|s| s == c.source))
        .filter(|c| robots.is_empty() || robots.iter().any(|r| r == c.robot))
        .filter(|c| seats.is_empty() || c.seat.is_some_and(|seat| seats.iter().any(|s| s == seat)))
        .collect();
    shared.arrange(&mut chats, data.keys, |c| c.index);
    let chats: Vec<_> = chats.into_iter().map(|c| data.item(c)).collect();
    answer(&shared, StatusCode::OK, 2000, "成功", Some(chats))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
