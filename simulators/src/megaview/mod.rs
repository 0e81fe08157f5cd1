//! Megaview (深维智信) open API simulator: app tokens, the conversation list, single conversations,
//! ASR results and the object-store file behind `asr_file_url`.
//!
//! Every API answer is `{"code", "msg", "data"}` (`data` is `null` on errors). Where the documents
//! are silent, this simulator chooses (HTTP status / `code`):
//! - wrong `app_key`/`app_secret`: 401 / 400101. Missing or unknown bearer token: 401 / 400102;
//!   a token past its `expire`: 401 / 400103. Each call of the token endpoint issues a new token;
//!   earlier ones stay valid until they lapse.
//! - malformed JSON, a body that is not a JSON object, a field of the wrong type (`deal_id` must
//!   be a JSON integer, `page_size` too), a `Content-Type` other than JSON, or `page_size`
//!   outside 1–100: 400 / 400001. A `page_token` we did not issue, or issued for other filters or
//!   another window: 400 / 400002. An empty `page_token` counts as absent.
//! - `begin_time`/`end_time` are `YYYY-MM-DD HH:MM:SS` in the configured zone or RFC 3339 with an
//!   offset. A bad format, `end_time` before `begin_time`, or more than 7 days between them:
//!   400 / 401206. The window is half-open, `begin_time <= t < end_time`, so adjacent windows never
//!   share a conversation. Defaults: 00:00 of the anchor's day in the configured zone, and
//!   `begin_time` + 24 h.
//! - unknown `open_user_id`: 400 / 400164; unknown `deal_id`: 400 / 401201.
//! - order: `begin_time` ascending, ties by `id` ascending (or, with `ListOrder::Arbitrary`, a
//!   stable shuffle of the matching items before paging). On the last page `has_more` is false
//!   and `page_token` is `""`. `total_count` counts the whole filtered window.
//! - unknown or non-numeric conversation id: 400 / 401200; unknown origin id: 400 / 401215.
//!   A transcript still in progress: 500 / 501200 (a few percent of the conversations, always the
//!   same ones).
//! - the ASR file answers like an object store: XML errors, 403 `AccessDenied` when the request
//!   carries an `Authorization` header, lacks `Expires`/`Signature` or has expired (`Expires` is
//!   unix seconds, two hours after issue, wall clock), 403 `SignatureDoesNotMatch`, 404
//!   `NoSuchKey`. Its URL embeds wall-clock time, so it is the one answer that is not
//!   byte-identical between runs.
//! - faults: 500 / 500000 (the file: 500 XML `InternalError`); throttle: 429 / 429001. The file is
//!   not subject to the API throttle.
//! - unknown path: 404 / 404000; wrong method: 405 / 405000.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::http::{Generic, bearer, endpoint, is_json, query_pairs, unknown_path};
use crate::{Shared, SimVendor, lock};
use data::{MvConversation, MvHead};

pub(crate) mod data;

const VENDOR: SimVendor = SimVendor::Megaview;
const MAX_RANGE: TimeDelta = TimeDelta::days(7);
const FILE_TTL_SECONDS: i64 = 7200;
const OSS_ACCESS_KEY_ID: &str = "LTAI5tSandboxDemoKey";

pub(super) fn router(shared: &Arc<Shared>) -> Router {
    let route = |name, method_router| endpoint(shared, VENDOR, name, method_router);
    Router::new()
        .route(
            "/openapi/auth/v1/app_access_token/internal",
            route("token", post(token)),
        )
        .route(
            "/openapi/conversation/v1/conversations/list",
            route("list", post(list)),
        )
        .route(
            "/openapi/conversation/v1/conversations/{id}",
            route("conversation", get(conversation)),
        )
        .route(
            "/openapi/conversation/v1/conversations/{id}/asr_data",
            route("asr_data", get(asr_data)),
        )
        .route(
            "/openapi/conversation/v1/origin_conversations/{id}",
            route("conversation", get(origin_conversation)),
        )
        .route(
            "/openapi/conversation/v1/origin_conversations/{id}/asr_data",
            route("asr_data", get(origin_asr_data)),
        )
        .route("/files/asr/{file}", route("asr_file", get(asr_file)))
        .fallback(unknown_path(shared, VENDOR))
        .with_state(Arc::clone(shared))
}

pub(super) fn generic(endpoint: &str, kind: Generic) -> Response {
    if endpoint == "asr_file" {
        return match kind {
            Generic::ServerError => oss_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            ),
            Generic::Throttled => oss_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Please reduce your request rate.",
            ),
            Generic::NotFound => oss_error(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            ),
            Generic::MethodNotAllowed => oss_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ),
        };
    }
    match kind {
        Generic::NotFound => ApiError::new(StatusCode::NOT_FOUND, 404_000, "api not found"),
        Generic::MethodNotAllowed => ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            405_000,
            "method not allowed",
        ),
        Generic::ServerError => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            500_000,
            "internal server error",
        ),
        Generic::Throttled => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            429_001,
            "request trigger frequency limit",
        ),
    }
    .into_response()
}

/// A Megaview error: HTTP status plus the envelope's `code` and `msg`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: i64,
    msg: String,
}

impl ApiError {
    fn new(status: StatusCode, code: i64, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
        }
    }

    fn bad_request(code: i64, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }

    fn invalid(msg: impl Into<String>) -> Self {
        Self::bad_request(400_001, msg)
    }

    fn time_format(msg: impl Into<String>) -> Self {
        Self::bad_request(401_206, msg)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Envelope::<()> {
            code: self.code,
            msg: &self.msg,
            data: None,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    code: i64,
    msg: &'a str,
    data: Option<T>,
}

fn success<T: Serialize>(data: T) -> Response {
    axum::Json(Envelope {
        code: 0,
        msg: "success",
        data: Some(data),
    })
    .into_response()
}

fn parse_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::invalid(
            "invalid params: Content-Type must be application/json",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|err| ApiError::invalid(format!("invalid params: {err}")))?;
    if !value.is_object() {
        return Err(ApiError::invalid(
            "invalid params: body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|err| ApiError::invalid(format!("invalid params: {err}")))
}

#[derive(Deserialize)]
struct TokenRequest {
    app_key: String,
    app_secret: String,
}

#[derive(Serialize)]
struct TokenData {
    app_access_token: String,
    expire: u64,
}

async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: TokenRequest = parse_body(&headers, &body)?;
    let credentials = &shared.config.credentials;
    if request.app_key != credentials.megaview_app_key
        || request.app_secret != credentials.megaview_app_secret
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            400_101,
            "app_key or app_secret is invalid",
        ));
    }
    let issued = shared
        .megaview_tokens_issued
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let digest = shared.mac(&[b"megaview-token", &issued.to_be_bytes()]);
    let app_access_token = format!("t-{}", &hex::encode(digest)[..40]);
    let ttl = shared.config.megaview_token_ttl;
    let now = Instant::now();
    {
        let mut tokens = lock(&shared.megaview_tokens);
        if tokens.len() >= 4096 {
            tokens.retain(|_, lapses| lapses.is_none_or(|at| at > now));
        }
        tokens.insert(app_access_token.clone(), now.checked_add(ttl));
    }
    Ok(success(TokenData {
        app_access_token,
        expire: ttl.as_secs(),
    }))
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized = |code, msg| ApiError::new(StatusCode::UNAUTHORIZED, code, msg);
    let token = bearer(headers)
        .ok_or_else(|| unauthorized(400_102, "app_access_token is missing or invalid"))?;
    match lock(&shared.megaview_tokens).get(token) {
        None => Err(unauthorized(
            400_102,
            "app_access_token is missing or invalid",
        )),
        Some(Some(lapses)) if Instant::now() >= *lapses => {
            Err(unauthorized(400_103, "app_access_token has expired"))
        }
        Some(_) => Ok(()),
    }
}

#[derive(Deserialize)]
struct ListRequest {
    page_token: Option<String>,
    page_size: Option<i64>,
    begin_time: Option<String>,
    end_time: Option<String>,
    open_user_id: Option<String>,
    deal_id: Option<i64>,
}

#[derive(Serialize)]
struct ListData {
    has_more: bool,
    page_token: String,
    total_count: usize,
    conversations: Vec<MvConversation>,
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let request: ListRequest = parse_body(&headers, &body)?;
    let tz = shared.config.timezone;

    let begin = match request.begin_time.as_deref() {
        Some(raw) => parse_time(&shared, raw)?,
        None => {
            let day = shared.config.anchor.with_timezone(&tz).date_naive();
            tz.from_local_datetime(&day.and_time(NaiveTime::MIN))
                .earliest()
                .map_or(shared.config.anchor, |t| t.with_timezone(&Utc))
        }
    };
    let end = match request.end_time.as_deref() {
        Some(raw) => parse_time(&shared, raw)?,
        None => begin
            .checked_add_signed(TimeDelta::hours(24))
            .ok_or_else(|| ApiError::time_format("time format error"))?,
    };
    if end < begin {
        return Err(ApiError::time_format(
            "time format error: end_time is earlier than begin_time",
        ));
    }
    if end - begin > MAX_RANGE {
        return Err(ApiError::time_format(
            "time format error: the time range cannot exceed 7 days",
        ));
    }
    let page_size = request.page_size.unwrap_or(10);
    if !(1..=100).contains(&page_size) {
        return Err(ApiError::invalid(
            "invalid params: page_size must be between 1 and 100",
        ));
    }
    let data = &shared.data.megaview;
    let user = request.open_user_id.filter(|u| !u.is_empty());
    if let Some(user) = &user {
        if !data.user_ids.contains(user) {
            return Err(ApiError::bad_request(400_164, "user does not exist"));
        }
    }
    if let Some(deal) = request.deal_id {
        if !data.deal_ids.contains(&deal) {
            return Err(ApiError::bad_request(401_201, "deal does not exist"));
        }
    }

    let fingerprint = fingerprint(begin, end, user.as_deref(), request.deal_id);
    let offset = match request.page_token.as_deref() {
        None | Some("") => 0,
        Some(token) => decode_page_token(&shared, token, fingerprint)
            .ok_or_else(|| ApiError::bad_request(400_002, "page_token is invalid"))?,
    };

    let all = &data.conversations;
    let from = all.partition_point(|c| c.begin_at < begin);
    let to = all.partition_point(|c| c.begin_at < end);
    let mut matching: Vec<&MvHead> = all[from..to]
        .iter()
        .filter(|c| user.as_deref().is_none_or(|u| c.open_user_id() == u))
        .filter(|c| request.deal_id.is_none_or(|d| c.deal_id() == d))
        .collect();
    shared.arrange(&mut matching, data.keys, |c| c.index);
    let total_count = matching.len();
    let start = offset.min(total_count);
    let stop = (start + page_size as usize).min(total_count);
    let has_more = stop < total_count;
    Ok(success(ListData {
        has_more,
        page_token: if has_more {
            encode_page_token(&shared, stop, fingerprint)
        } else {
            String::new()
        },
        total_count,
        conversations: matching[start..stop].iter().map(|c| data.item(c)).collect(),
    }))
}

fn parse_time(shared: &Shared, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    shared
        .parse_naive(raw)
        .ok_or_else(|| ApiError::time_format("time format error"))
}

fn fingerprint(
    begin: DateTime<Utc>,
    end: DateTime<Utc>,
    user: Option<&str>,
    deal: Option<i64>,
) -> [u8; 8] {
    let canonical = format!(
        "{}|{}|{}|{}",
        begin.timestamp(),
        end.timestamp(),
        user.unwrap_or_default(),
        deal.map(|d| d.to_string()).unwrap_or_default()
    );
    let digest: [u8; 32] = Sha256::digest(canonical).into();
    let mut out = [0; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

fn encode_page_token(shared: &Shared, offset: usize, fingerprint: [u8; 8]) -> String {
    let offset = (offset as u64).to_be_bytes();
    let mac = shared.mac(&[b"megaview-page", &offset, &fingerprint]);
    let mut raw = Vec::with_capacity(24);
    raw.extend_from_slice(&offset);
    raw.extend_from_slice(&mac[..16]);
    hex::encode(raw)
}

fn decode_page_token(shared: &Shared, token: &str, fingerprint: [u8; 8]) -> Option<usize> {
    let raw = hex::decode(token).ok()?;
    if raw.len() != 24 {
        return None;
    }
    let (offset, mac) = raw.split_at(8);
    let expected = shared.mac(&[b"megaview-page", offset, &fingerprint]);
    if mac != &expected[..16] {
        return None;
    }
    let offset: [u8; 8] = offset.try_into().ok()?;
    usize::try_from(u64::from_be_bytes(offset)).ok()
}

fn by_id<'a>(shared: &'a Shared, raw: &str) -> Result<&'a MvHead, ApiError> {
    raw.parse::<i64>()
        .ok()
        .and_then(|id| shared.data.megaview.find(id))
        .ok_or_else(|| ApiError::bad_request(401_200, "conversation does not exist"))
}

fn by_origin<'a>(shared: &'a Shared, raw: &str) -> Result<&'a MvHead, ApiError> {
    shared.data.megaview.find_origin(raw).ok_or_else(|| {
        ApiError::bad_request(
            401_215,
            "origin conversation id can not be mapped to a conversation",
        )
    })
}

async fn conversation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    Ok(success(shared.data.megaview.item(by_id(&shared, &id)?)))
}

async fn origin_conversation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    Ok(success(shared.data.megaview.item(by_origin(&shared, &id)?)))
}

#[derive(Serialize)]
struct AsrData {
    conversation_type: &'static str,
    asr_file_url: String,
    conversation_id: i64,
}

async fn asr_data(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let conversation = by_id(&shared, &id)?;
    asr_answer(&shared, &headers, conversation)
}

async fn origin_asr_data(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let conversation = by_origin(&shared, &id)?;
    asr_answer(&shared, &headers, conversation)
}

fn asr_answer(
    shared: &Shared,
    headers: &HeaderMap,
    conversation: &MvHead,
) -> Result<Response, ApiError> {
    if !conversation.asr_ready {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            501_200,
            "asr result is not finished, please retry later",
        ));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| !host.is_empty())
        .unwrap_or("localhost");
    let expires = Utc::now().timestamp() + FILE_TTL_SECONDS;
    let id = conversation.id;
    let signature = file_signature(shared, id, expires);
    Ok(success(AsrData {
        conversation_type: conversation.kind(),
        asr_file_url: format!(
            "http://{host}/megaview/files/asr/{id}.json?OSSAccessKeyId={OSS_ACCESS_KEY_ID}&Expires={expires}&Signature={signature}"
        ),
        conversation_id: id,
    }))
}

fn file_signature(shared: &Shared, id: i64, expires: i64) -> String {
    let mac = shared.mac(&[
        b"megaview-asr-file",
        &id.to_be_bytes(),
        &expires.to_be_bytes(),
    ]);
    hex::encode(&mac[..16])
}

fn oss_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  \
         <Message>{message}</Message>\n  <HostId>sandbox-oss.megaview.com</HostId>\n</Error>\n"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn asr_file(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return oss_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Authorization header is not allowed with a presigned URL.",
        );
    }
    let query = query_pairs(query.as_deref());
    let (Some(expires), Some(signature)) = (query.get("Expires"), query.get("Signature")) else {
        return oss_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "You have no right to access this object because of bucket acl.",
        );
    };
    let Some(id) = file
        .strip_suffix(".json")
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return oss_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return oss_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Invalid argument: Expires.",
        );
    };
    if *signature != file_signature(&shared, id, expires) {
        return oss_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    if Utc::now().timestamp() > expires {
        return oss_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request has expired.",
        );
    }
    let data = &shared.data.megaview;
    match data.find(id) {
        Some(head) => axum::Json(data.sentences(head)).into_response(),
        None => oss_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
