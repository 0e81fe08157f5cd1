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

use super::data::{UdHead, UdSession, UdeskData};
use super::{
    Generic, Shared, SignAlgorithm, SimVendor, endpoint, is_json, query_pairs, unknown_path,
};

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
    data: &'a [super::data::UdLog],
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
mod tests {
    use std::collections::HashSet;

    use axum::body::Body;
    use axum::http::StatusCode;
    use chrono::{TimeDelta, Utc};
    use serde_json::{Value, json};

    use super::super::testing::{
        Answer, anchor, config, get, json_body, post, sandbox, send, shanghai, udesk_query,
    };
    use super::super::{
        ListOrder, Sandbox, SandboxConfig, SandboxCredentials, SignAlgorithm, SimVendor,
    };

    fn signed_query(sandbox: &Sandbox, timestamp: i64) -> String {
        udesk_query(
            sandbox,
            timestamp,
            sandbox.credentials().udesk_sign_algorithm,
        )
    }

    fn base_body(sandbox: &Sandbox) -> Value {
        json!({
            "robotId": sandbox.credentials().udesk_robot_id,
            "startTime": shanghai(anchor() - TimeDelta::days(30)),
            "endTime": shanghai(anchor()),
        })
    }

    async fn sessions(sandbox: &Sandbox, body: &Value) -> Answer {
        let uri = format!(
            "/udesk/api/v1/sessions?{}",
            signed_query(sandbox, Utc::now().timestamp())
        );
        send(sandbox, json_body(post(&uri), body)).await
    }

    async fn logs(sandbox: &Sandbox, id: &str, page_num: usize, page_size: usize) -> Answer {
        let uri = format!(
            "/udesk/api/v1/sessions/{id}/logs?pageNum={page_num}&pageSize={page_size}&{}",
            signed_query(sandbox, Utc::now().timestamp())
        );
        send(sandbox, get(&uri).body(Body::empty()).unwrap()).await
    }

    async fn walk(sandbox: &Sandbox, extra: &Value, page_size: usize) -> Vec<Value> {
        let mut body = base_body(sandbox);
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body["pageSize"] = json!(page_size);
        let mut items = Vec::new();
        for page in 1.. {
            body["pageNum"] = json!(page);
            let answer = sessions(sandbox, &body).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
            let answer = answer.json();
            assert_eq!(answer["code"], 200);
            let data = answer["data"].as_array().unwrap();
            items.extend(data.iter().cloned());
            if data.len() < page_size {
                assert_eq!(answer["paging"]["total"], items.len());
                break;
            }
        }
        items
    }

    #[tokio::test]
    async fn a_correct_sha1_signature_is_accepted() {
        let sandbox = sandbox();
        let answer = sessions(&sandbox, &base_body(&sandbox)).await;
        assert_eq!(answer.status, StatusCode::OK);
        let body = answer.json();
        assert_eq!(body["message"], "OK");
        assert_eq!(body["visible"], false);
        assert_eq!(body["paging"]["pageNum"], 1);
        assert_eq!(body["paging"]["pageSize"], 10);
    }

    #[tokio::test]
    async fn wrong_signatures_emails_and_stale_timestamps_are_rejected() {
        let sandbox = sandbox();
        let now = Utc::now().timestamp();
        let good = signed_query(&sandbox, now);
        let cases = [
            good.replace("&sign=", "&sign=0"),
            good.replace("admin", "other"),
            signed_query(&sandbox, now - 301),
            signed_query(&sandbox, now * 1000),
            good.split("&sign=").next().unwrap().to_owned(),
            {
                let (rest, sign) = good.split_once("&sign=").unwrap();
                format!("{rest}&sign={}", sign.to_uppercase())
            },
        ];
        for query in cases {
            let uri = format!("/udesk/api/v1/sessions?{query}");
            let answer = send(&sandbox, json_body(post(&uri), &base_body(&sandbox))).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{query}");
            let body = answer.json();
            assert_ne!(body["code"], 200);
            assert_eq!(body["succeed"], false);
        }
    }

    #[tokio::test]
    async fn a_sha256_tenant_accepts_only_sha256_signatures() {
        let sandbox = Sandbox::new(SandboxConfig {
            credentials: SandboxCredentials {
                udesk_sign_algorithm: SignAlgorithm::Sha256,
                ..SandboxCredentials::default()
            },
            ..config()
        });
        assert_eq!(
            sessions(&sandbox, &base_body(&sandbox)).await.status,
            StatusCode::OK
        );
        let sha1 = udesk_query(&sandbox, Utc::now().timestamp(), SignAlgorithm::Sha1);
        let uri = format!("/udesk/api/v1/sessions?{sha1}");
        let answer = send(&sandbox, json_body(post(&uri), &base_body(&sandbox))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn walking_pages_returns_every_session_once_in_both_orders() {
        let sandbox = sandbox();
        let expected: Vec<String> = sandbox
            .records(SimVendor::Udesk)
            .into_iter()
            .map(|r| r.native_id)
            .collect();
        let descending = walk(&sandbox, &json!({}), 13).await;
        let ascending = walk(&sandbox, &json!({"sortFlag": 1}), 99).await;
        let ids = |items: &[Value]| -> Vec<String> {
            items.iter().map(|i| i["id"].to_string()).collect()
        };
        assert_eq!(ids(&ascending), expected);
        let mut reversed = ids(&descending);
        reversed.reverse();
        assert_eq!(reversed, expected);
        let starts: Vec<&str> = ascending
            .iter()
            .map(|i| i["startTime"].as_str().unwrap())
            .collect();
        assert!(starts.windows(2).any(|w| w[0] == w[1]), "some ties exist");
    }

    #[tokio::test]
    async fn arbitrary_order_pages_hold_every_session_once_in_a_stable_shuffle() {
        let sandbox = sandbox();
        let ids = |items: &[Value]| -> Vec<i64> {
            items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
        };
        let descending = ids(&walk(&sandbox, &json!({}), 13).await);
        let switched =
            json!({"conditionList": [{"field": "isSwitchStaff", "operator": "is", "value": "1"}]});
        let documented_switched = ids(&walk(&sandbox, &switched, 5).await);
        sandbox.set_list_order(ListOrder::Arbitrary);
        let arbitrary = ids(&walk(&sandbox, &json!({}), 13).await);

        let unique: HashSet<i64> = arbitrary.iter().copied().collect();
        assert_eq!(unique.len(), arbitrary.len(), "no item twice");
        assert_eq!(unique, descending.iter().copied().collect::<HashSet<_>>());
        let first: HashSet<i64> = arbitrary[..13].iter().copied().collect();
        let newest: HashSet<i64> = descending[..13].iter().copied().collect();
        let oldest: HashSet<i64> = descending[descending.len() - 13..]
            .iter()
            .copied()
            .collect();
        assert_ne!(first, newest);
        assert_ne!(first, oldest);
        assert_eq!(ids(&walk(&sandbox, &json!({}), 13).await), arbitrary);
        assert_eq!(
            ids(&walk(&sandbox, &json!({"sortFlag": 1}), 13).await),
            arbitrary,
            "sortFlag does not change an arbitrary order"
        );

        let arbitrary_switched = ids(&walk(&sandbox, &switched, 5).await);
        assert!(documented_switched.len() > 5);
        assert_ne!(arbitrary_switched, documented_switched);
        assert_eq!(
            arbitrary_switched.iter().collect::<HashSet<_>>(),
            documented_switched.iter().collect::<HashSet<_>>()
        );
    }

    #[tokio::test]
    async fn session_items_carry_documented_fields_and_large_ids() {
        let sandbox = sandbox();
        let items = walk(&sandbox, &json!({}), 99).await;
        assert!(items.iter().any(|i| i["customer"].is_null()));
        assert!(items.iter().any(|i| i["customer"]["id"].is_i64()));
        assert!(
            items
                .iter()
                .any(|i| i["id"].as_i64().unwrap() > i64::from(i32::MAX))
        );
        assert!(items.iter().any(|i| i["isSwitchStaff"] == 1));
        for field in [
            "robotId",
            "startTime",
            "endTime",
            "totalCount",
            "customerMsgCount",
            "robotMsgCount",
            "robotRepliedCount",
            "unknownQuestionCount",
            "usefulResponseCount",
            "uselessResponseCount",
            "surveyOption",
            "isSwitchStaff",
            "appName",
            "channelId",
            "directResponseCount",
            "suggestQuestionCount",
            "unSuggestQuestionCount",
        ] {
            assert!(items.iter().all(|i| !i[field].is_null()), "{field}");
        }
    }

    #[tokio::test]
    async fn invalid_bodies_are_rejected_with_400() {
        let sandbox = sandbox();
        let base = base_body(&sandbox);
        let mut cases = Vec::new();
        for (key, value) in [
            ("pageSize", json!(100)),
            ("pageSize", json!(0)),
            ("pageNum", json!(0)),
            ("robotId", json!(84)),
            ("sortFlag", json!(2)),
            ("startTime", json!("2025-01-01")),
            (
                "startTime",
                json!(shanghai(anchor() - TimeDelta::days(366))),
            ),
            ("pageSize", json!("10")),
        ] {
            let mut body = base.clone();
            body[key] = value;
            cases.push(body);
        }
        let mut no_end = base.clone();
        no_end.as_object_mut().unwrap().remove("endTime");
        cases.push(no_end);
        for body in cases {
            let answer = sessions(&sandbox, &body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(answer.json()["code"], 400);
        }
        let uri = format!(
            "/udesk/api/v1/sessions?{}",
            signed_query(&sandbox, Utc::now().timestamp())
        );
        let malformed = post(&uri).body(Body::from("{")).unwrap();
        assert_eq!(
            send(&sandbox, malformed).await.status,
            StatusCode::BAD_REQUEST
        );
    }

    #[tokio::test]
    async fn keywords_filter_by_customer_id_external_id_and_text() {
        let sandbox = sandbox();
        let records = sandbox.records(SimVendor::Udesk);
        let customer = records.iter().find_map(|r| r.customer_id.clone()).unwrap();
        let expected = records
            .iter()
            .filter(|r| r.customer_id.as_deref() == Some(customer.as_str()))
            .count();
        let by_id = walk(
            &sandbox,
            &json!({"keywords": customer, "keywordsSource": 4}),
            99,
        )
        .await;
        assert_eq!(by_id.len(), expected);
        let external = format!("ext-{customer}");
        let by_external = walk(
            &sandbox,
            &json!({"keywords": external, "keywordsSource": 5}),
            99,
        )
        .await;
        assert_eq!(by_external.len(), expected);

        let by_text = walk(
            &sandbox,
            &json!({"keywords": "退款", "keywordsSource": 0}),
            99,
        )
        .await;
        assert!(!by_text.is_empty() && by_text.len() < records.len());
    }

    #[tokio::test]
    async fn conditions_filter_by_message_counts_and_hand_off() {
        let sandbox = sandbox();
        let all = walk(&sandbox, &json!({}), 99).await;
        let between = json!({"conditionList": [
            {"field": "customerMsgCount", "operator": "between", "value": "2,5"},
            {"field": "ipLocation", "operator": "is", "value": "北京"},
        ]});
        let items = walk(&sandbox, &between, 99).await;
        let expected = all
            .iter()
            .filter(|i| (2..=5).contains(&i["customerMsgCount"].as_i64().unwrap()))
            .count();
        assert_eq!(items.len(), expected);

        let greater = json!({"conditionList": [{"field": "customerMsgCount", "operator": "greater_than", "value": 10}]});
        let items = walk(&sandbox, &greater, 99).await;
        assert!(
            items
                .iter()
                .all(|i| i["customerMsgCount"].as_i64().unwrap() > 10)
        );

        let switched =
            json!({"conditionList": [{"field": "isSwitchStaff", "operator": "is", "value": "1"}]});
        let items = walk(&sandbox, &switched, 99).await;
        assert!(!items.is_empty() && items.iter().all(|i| i["isSwitchStaff"] == 1));
    }

    #[tokio::test]
    async fn logs_page_through_sessions_over_ninety_nine_messages() {
        let sandbox = sandbox();
        let all = walk(&sandbox, &json!({}), 99).await;
        let long = all
            .iter()
            .find(|i| i["totalCount"].as_u64().unwrap() > 99)
            .unwrap();
        let id = long["id"].to_string();
        let total = long["totalCount"].as_u64().unwrap() as usize;
        let mut rows = Vec::new();
        for page in 1.. {
            let answer = logs(&sandbox, &id, page, 99).await;
            assert_eq!(answer.status, StatusCode::OK);
            let body = answer.json();
            assert_eq!(body["succeed"], true);
            assert_eq!(body["bizCode"], "000000");
            assert_eq!(body["paging"]["total"], total);
            let data = body["data"].as_array().unwrap();
            rows.extend(data.iter().cloned());
            if data.len() < 99 {
                break;
            }
        }
        assert_eq!(rows.len(), total);
        let ids: HashSet<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), total);
        assert!(rows.iter().all(|r| r["sessionId"] == long["id"]));
        assert_eq!(rows.last().unwrap()["createTime"], long["endTime"]);
    }

    #[tokio::test]
    async fn logs_use_every_documented_content_type_and_user_type() {
        let sandbox = sandbox();
        let mut content_types = HashSet::new();
        let mut user_types = HashSet::new();
        let mut absent = false;
        for record in sandbox.records(SimVendor::Udesk) {
            let body = logs(&sandbox, &record.native_id, 1, 99).await.json();
            for row in body["data"].as_array().unwrap() {
                user_types.insert(row["userType"].as_i64().unwrap());
                match row["contentType"].as_i64() {
                    Some(kind) => {
                        content_types.insert(kind);
                    }
                    None => absent = true,
                }
            }
        }
        assert!(absent);
        for kind in [1, 2, 9, 10, 11, 19] {
            assert!(content_types.contains(&kind), "{kind}");
        }
        assert_eq!(user_types, HashSet::from([1, 2, 3]));
    }

    #[tokio::test]
    async fn logs_of_an_unknown_session_are_404_and_page_size_100_is_400() {
        let sandbox = sandbox();
        let answer = logs(&sandbox, "1", 1, 10).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.json()["code"], 404);
        let id = sandbox.records(SimVendor::Udesk)[0].native_id.clone();
        assert_eq!(
            logs(&sandbox, &id, 1, 100).await.status,
            StatusCode::BAD_REQUEST
        );
    }
}
