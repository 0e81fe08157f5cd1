//! Udesk KM robot simulator: `POST /api/v1/sessions` and `GET /api/v1/sessions/{id}/logs`, both
//! signed in the query with `email`, `timestamp` and `sign`.
//!
//! `sign` is the lowercase hex SHA-1 (or SHA-256 when configured) of `{email}&{api_token}&{timestamp}`,
//! `timestamp` unix seconds within 5 minutes of the wall clock either way. Where the documents are
//! silent, this simulator chooses:
//! - errors use the envelope `{"succeed": false, "code": <HTTP status>, "bizCode": "<status>NNN",
//!   "message", "visible": false}`. Missing signature parameters, an unknown email, a stale or
//!   non-numeric timestamp or a wrong sign: 401 (bizCode 401001–401004).
//! - bad input is a 400 (bizCode 400001): malformed JSON or a non-JSON `Content-Type`, a field of
//!   the wrong type (numbers must be JSON numbers), `robotId` missing or not the configured robot,
//!   `startTime`/`endTime` missing, not `yyyy-MM-dd HH:mm:ss`, reversed or more than 365 days
//!   apart, `pageNum` < 1, `pageSize` outside 1–99, `sortFlag` not 0/1, `keywordsSource` outside
//!   0–5, or a known condition field with an unknown operator or unusable value. Unknown body and
//!   condition fields are ignored.
//! - the window is inclusive, `startTime <= session start <= endTime` (the documented example
//!   ends at `23:59:59`); order is by start time, `sortFlag` 0 descending (default) or 1
//!   ascending, ties by `id` the same way. With `ListOrder::Arbitrary` the matching sessions are
//!   instead in a stable shuffle before paging, and `sortFlag` is checked but changes nothing.
//!   A page past the end has empty `data`.
//! - `keywords` (case-insensitive substring of one message; empty = no filter) by
//!   `keywordsSource`: 0 any message, 1 robot messages, 2 customer messages, 3 human-agent
//!   messages, 4 `customer.id` equals, 5 the customer's external id equals (`ext-{customer.id}`
//!   in this dataset). A text search reads the logs of every session in the window, so it costs
//!   more than the other filters on large datasets.
//! - `conditionList`: the message counters (`customerMsgCount`, `robotMsgCount`, …) with
//!   `greater_than`, `less_than`, `is` and `between` (`"a,b"`, inclusive), `isSwitchStaff` and
//!   `surveyOption` (`"1,2"`) with `is`, `channelId` and `platform` (the documented integer codes)
//!   with `is` over an array.
//! - logs are oldest first; `pageSize` 1–99 (default 10); a non-numeric id is a 400, an unknown one
//!   a 404 (bizCode 404001). Human agents after a hand-off log with `userType` 3.
//! - faults: 500 (bizCode 500001); throttle: 429 (bizCode 429001); unknown path 404; wrong
//!   method 405.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::http::{Generic, endpoint, is_json, query_pairs, unknown_path};
use crate::{Shared, SignAlgorithm, SimVendor};
use data::{UdHead, UdSession, UdeskData};

pub(crate) mod data;
mod logs;

const VENDOR: SimVendor = SimVendor::Udesk;
const SIGN_WINDOW_SECONDS: i64 = 300;
const MAX_RANGE: TimeDelta = TimeDelta::days(365);

pub(super) fn router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/api/v1/sessions",
            endpoint(shared, VENDOR, "sessions", post(sessions)),
        )
        .route(
            "/api/v1/sessions/{id}/logs",
            endpoint(shared, VENDOR, "logs", get(logs)),
        )
        .fallback(unknown_path(shared, VENDOR))
        .with_state(Arc::clone(shared))
}

pub(super) fn generic(kind: Generic) -> Response {
    match kind {
        Generic::NotFound => ApiError::new(StatusCode::NOT_FOUND, 1, "Not Found"),
        Generic::MethodNotAllowed => ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            1,
            "Request method not supported",
        ),
        Generic::ServerError => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, 1, "系统繁忙，请稍后重试")
        }
        Generic::Throttled => ApiError::new(StatusCode::TOO_MANY_REQUESTS, 1, "请求过于频繁"),
    }
    .into_response()
}

/// An Udesk error envelope; `code` is the HTTP status.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    detail: u16,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, detail: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            detail,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 1, message)
    }

    fn unauthorized(detail: u16, message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail, message)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    succeed: bool,
    code: u16,
    biz_code: String,
    message: &'a str,
    visible: bool,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.status.as_u16();
        let body = ErrorBody {
            succeed: false,
            code,
            biz_code: format!("{code}{:03}", self.detail),
            message: &self.message,
            visible: false,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

fn authorize(shared: &Shared, query: &HashMap<String, String>) -> Result<(), ApiError> {
    let credentials = &shared.config.credentials;
    let (Some(email), Some(timestamp), Some(sign)) = (
        query.get("email"),
        query.get("timestamp"),
        query.get("sign"),
    ) else {
        return Err(ApiError::unauthorized(
            1,
            "缺少签名参数 email、timestamp 或 sign",
        ));
    };
    if *email != credentials.udesk_email {
        return Err(ApiError::unauthorized(2, "email 不存在"));
    }
    let Ok(seconds) = timestamp.parse::<i64>() else {
        return Err(ApiError::unauthorized(3, "timestamp 无效"));
    };
    if (Utc::now().timestamp() - seconds).abs() > SIGN_WINDOW_SECONDS {
        return Err(ApiError::unauthorized(3, "请求已过期"));
    }
    let plain = format!("{email}&{}&{timestamp}", credentials.udesk_api_token);
    let expected = match credentials.udesk_sign_algorithm {
        SignAlgorithm::Sha1 => hex::encode(Sha1::digest(plain.as_bytes())),
        SignAlgorithm::Sha256 => hex::encode(Sha256::digest(plain.as_bytes())),
    };
    if *sign != expected {
        return Err(ApiError::unauthorized(4, "签名验证失败"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionsRequest {
    robot_id: Option<i64>,
    start_time: Option<String>,
    end_time: Option<String>,
    page_num: Option<i64>,
    page_size: Option<i64>,
    sort_flag: Option<i64>,
    keywords: Option<String>,
    keywords_source: Option<i64>,
    condition_list: Option<Vec<Condition>>,
}

#[derive(Deserialize)]
struct Condition {
    field: Option<String>,
    operator: Option<String>,
    value: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Paging {
    page_num: i64,
    page_size: i64,
    total: usize,
}

#[derive(Serialize)]
struct SessionsPage<'a> {
    code: u16,
    message: &'static str,
    visible: bool,
    paging: Paging,
    data: Vec<UdSession<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogsPage<'a> {
    succeed: bool,
    code: u16,
    biz_code: &'static str,
    message: &'static str,
    visible: bool,
    paging: Paging,
    data: &'a [logs::UdLog],
}

type Filter = Box<dyn Fn(&UdeskData, &UdHead) -> bool + Send + Sync>;

async fn sessions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&shared, &query_pairs(query.as_deref()))?;
    if !is_json(&headers) {
        return Err(ApiError::bad_request(
            "Content-Type 必须为 application/json",
        ));
    }
    let request: SessionsRequest = serde_json::from_slice(&body)
        .map_err(|err| ApiError::bad_request(format!("请求参数格式错误: {err}")))?;

    match request.robot_id {
        None => return Err(ApiError::bad_request("robotId 不能为空")),
        Some(id) if id != shared.config.credentials.udesk_robot_id => {
            return Err(ApiError::bad_request("机器人不存在"));
        }
        Some(_) => {}
    }
    let start = parse_time(&shared, request.start_time.as_deref(), "startTime")?;
    let end = parse_time(&shared, request.end_time.as_deref(), "endTime")?;
    if end < start {
        return Err(ApiError::bad_request("开始时间不能晚于结束时间"));
    }
    if end - start > MAX_RANGE {
        return Err(ApiError::bad_request("开始时间与结束时间间隔不能超过365天"));
    }
    let page_num = request.page_num.unwrap_or(1);
    let page_size = request.page_size.unwrap_or(10);
    check_paging(page_num, page_size)?;
    let ascending = match request.sort_flag.unwrap_or(0) {
        0 => false,
        1 => true,
        _ => return Err(ApiError::bad_request("sortFlag 只能为 0 或 1")),
    };

    let mut filters: Vec<Filter> = Vec::new();
    let keyword = match request.keywords.filter(|k| !k.is_empty()) {
        Some(keywords) => Some(keyword_filter(
            keywords,
            request.keywords_source.unwrap_or(0),
        )?),
        None if !(0..=5).contains(&request.keywords_source.unwrap_or(0)) => {
            return Err(ApiError::bad_request("keywordsSource 取值错误"));
        }
        None => None,
    };
    for condition in request.condition_list.unwrap_or_default() {
        if let Some(filter) = condition_filter(condition)? {
            filters.push(filter);
        }
    }
    // Last, so a text search reads the logs only of sessions every other filter kept.
    filters.extend(keyword);

    let udesk = &shared.data.udesk;
    let all = &udesk.sessions;
    let from = all.partition_point(|s| s.start_at < start);
    let to = all.partition_point(|s| s.start_at <= end);
    let mut matching: Vec<&UdHead> = all[from..to.max(from)]
        .iter()
        .filter(|s| filters.iter().all(|f| f(udesk, s)))
        .collect();
    if !ascending {
        matching.reverse();
    }
    shared.arrange(&mut matching, udesk.keys, |s| s.index);
    let total = matching.len();
    let skip = usize::try_from((page_num - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let data = matching
        .into_iter()
        .skip(skip)
        .take(page_size as usize)
        .map(|s| udesk.item(s))
        .collect();
    Ok(axum::Json(SessionsPage {
        code: 200,
        message: "OK",
        visible: false,
        paging: Paging {
            page_num,
            page_size,
            total,
        },
        data,
    })
    .into_response())
}

fn check_paging(page_num: i64, page_size: i64) -> Result<(), ApiError> {
    if page_num < 1 {
        return Err(ApiError::bad_request("pageNum 必须大于0"));
    }
    if !(1..=99).contains(&page_size) {
        return Err(ApiError::bad_request("pageSize 必须大于0小于100"));
    }
    Ok(())
}

fn parse_time(shared: &Shared, raw: Option<&str>, name: &str) -> Result<DateTime<Utc>, ApiError> {
    let raw = raw
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("{name} 不能为空")))?;
    shared
        .parse_naive(raw)
        .ok_or_else(|| ApiError::bad_request(format!("{name} 格式错误，应为 yyyy-MM-dd HH:mm:ss")))
}

fn keyword_filter(keywords: String, source: i64) -> Result<Filter, ApiError> {
    let needle = keywords.to_lowercase();
    let speaks: fn(i32) -> bool = match source {
        0 => |_| true,
        1 => |user_type| user_type == 1,
        2 => |user_type| user_type == 2,
        _ => |user_type| user_type != 1 && user_type != 2,
    };
    Ok(match source {
        0..=3 => Box::new(move |data: &UdeskData, s: &UdHead| {
            data.logs(s)
                .iter()
                .any(|log| speaks(log.user_type) && log.content.to_lowercase().contains(&needle))
        }),
        4 => Box::new(move |data: &UdeskData, s: &UdHead| {
            data.customer(s)
                .is_some_and(|c| c.id.to_string() == keywords)
        }),
        5 => Box::new(move |data: &UdeskData, s: &UdHead| {
            data.customer(s).is_some_and(|c| c.external_id == keywords)
        }),
        _ => return Err(ApiError::bad_request("keywordsSource 取值错误")),
    })
}

fn counter(field: &str) -> Option<fn(&UdHead) -> u32> {
    Some(match field {
        "customerMsgCount" => |s: &UdHead| s.counts.customer_msg_count,
        "robotMsgCount" => |s: &UdHead| s.counts.robot_msg_count,
        "robotRepliedCount" => |s: &UdHead| s.counts.robot_replied_count,
        "unknownQuestionCount" => |s: &UdHead| s.counts.unknown_question_count,
        "usefulResponseCount" => |s: &UdHead| s.counts.useful_response_count,
        "uselessResponseCount" => |s: &UdHead| s.counts.useless_response_count,
        "directResponseCount" => |s: &UdHead| s.counts.direct_response_count,
        "suggestQuestionCount" => |s: &UdHead| s.counts.suggest_question_count,
        "unSuggestQuestionCount" => |s: &UdHead| s.counts.un_suggest_question_count,
        _ => return None,
    })
}

/// Integers of a condition value: a number, a numeric string, `"a,b"`, or an array of those.
fn integers(value: &Value) -> Option<Vec<i64>> {
    match value {
        Value::Number(n) => Some(vec![n.as_i64()?]),
        Value::String(s) => s.split(',').map(|part| part.trim().parse().ok()).collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

const PLATFORMS: [&str; 9] = [
    "web",
    "微信",
    "android",
    "ios",
    "微博",
    "api",
    "多商户",
    "微信小程序",
    "企业微信",
];

fn condition_filter(condition: Condition) -> Result<Option<Filter>, ApiError> {
    let Some(field) = condition.field else {
        return Ok(None);
    };
    let operator = condition.operator.unwrap_or_default();
    let invalid = || ApiError::bad_request(format!("过滤条件 {field} 的操作或取值错误"));
    let values = condition.value.as_ref().and_then(integers);
    if let Some(get) = counter(&field) {
        let values = values.ok_or_else(invalid)?;
        let filter: Filter = match (operator.as_str(), values.as_slice()) {
            ("greater_than", [n]) => {
                let n = *n;
                Box::new(move |_, s| i64::from(get(s)) > n)
            }
            ("less_than", [n]) => {
                let n = *n;
                Box::new(move |_, s| i64::from(get(s)) < n)
            }
            ("is", [n]) => {
                let n = *n;
                Box::new(move |_, s| i64::from(get(s)) == n)
            }
            ("between", [low, high]) => {
                let (low, high) = (*low, *high);
                Box::new(move |_, s| (low..=high).contains(&i64::from(get(s))))
            }
            _ => return Err(invalid()),
        };
        return Ok(Some(filter));
    }
    let known = ["isSwitchStaff", "surveyOption", "channelId", "platform"];
    if !known.contains(&field.as_str()) {
        return Ok(None);
    }
    if operator != "is" {
        return Err(invalid());
    }
    let values = values.filter(|v| !v.is_empty()).ok_or_else(invalid)?;
    Ok(Some(match field.as_str() {
        "isSwitchStaff" => Box::new(move |_, s| values.contains(&i64::from(s.is_switch_staff()))),
        "surveyOption" => Box::new(move |_, s| values.contains(&i64::from(s.survey_option))),
        "channelId" => Box::new(move |_, s| values.contains(&s.channel_id())),
        _ => {
            let names: Vec<&'static str> = values
                .iter()
                .filter_map(|v| {
                    usize::try_from(*v)
                        .ok()
                        .and_then(|i| PLATFORMS.get(i))
                        .copied()
                })
                .collect();
            Box::new(move |data, s| {
                data.customer(s)
                    .is_some_and(|c| names.contains(&c.platform))
            })
        }
    }))
}

async fn logs(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = query_pairs(query.as_deref());
    authorize(&shared, &query)?;
    let number = |name: &str, default: i64| -> Result<i64, ApiError> {
        match query.get(name).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ApiError::bad_request(format!("{name} 必须为整数"))),
        }
    };
    let page_num = number("pageNum", 1)?;
    let page_size = number("pageSize", 10)?;
    check_paging(page_num, page_size)?;
    let Ok(id) = id.parse::<i64>() else {
        return Err(ApiError::bad_request("对话记录ID必须为整数"));
    };
    let data = &shared.data.udesk;
    let session = data
        .find(id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, 1, "对话记录不存在"))?;
    let logs = data.logs(session);
    let total = logs.len();
    let start = usize::try_from((page_num - 1).saturating_mul(page_size))
        .unwrap_or(usize::MAX)
        .min(total);
    let stop = start.saturating_add(page_size as usize).min(total);
    Ok(axum::Json(LogsPage {
        succeed: true,
        code: 200,
        biz_code: "000000",
        message: "OK",
        visible: false,
        paging: Paging {
            page_num,
            page_size,
            total,
        },
        data: &logs[start..stop],
    })
    .into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
