//! Wiremock tests of the Megaview client and mapping, against the vendor's own examples.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::MegaviewAdapter;
use super::client::refresh_after;
use crate::domain::{ContentType, Role};
use crate::vendors::download::FileHost;
use crate::vendors::resilience::ResiliencePolicy;
use crate::vendors::testing::{self, ctx};
use crate::vendors::{ConversationQuery, VendorAdapter, VendorError, download};
use crate::vendors::{MegaviewSettings, SourceConfig, VendorSettings};

const LIST_JSON: &str = include_str!("../../../tests/api/fixtures/megaview/list.json");
const TOKEN_JSON: &str = include_str!("../../../tests/api/fixtures/megaview/token.json");
const ASR_DATA_JSON: &str = include_str!("../../../tests/api/fixtures/megaview/asr_data.json");
const TRANSCRIPT_JSON: &str = include_str!("../../../tests/api/fixtures/megaview/transcript.json");
const TRANSCRIPT_DOC_JSON: &str =
    include_str!("../../../tests/api/fixtures/megaview/transcript_doc.json");

const APP_KEY: &str = "cli-app-key-5c1e";
const APP_SECRET: &str = "app-secret-9f2d71e04b";
/// The token of `token.json`.
const TOKEN: &str = "XMkTFe7mAAZpdwa3WBM6vZs7xoQhYiz3";
const TOKEN_PATH: &str = "/openapi/auth/v1/app_access_token/internal";
const LIST_PATH: &str = "/openapi/conversation/v1/conversations/list";
/// The conversation of `asr_data.json`.
const ASR_PATH: &str = "/openapi/conversation/v1/conversations/169583/asr_data";
/// The file URL of `asr_data.json`, replaced by the mock server's in tests.
const DOC_FILE_URL: &str = "https://sale-test.oss-cn-zhangjiakou.aliyuncs.com/xx.json";
const FILE_PATH: &str = "/oss/169583.json";

fn source(base_url: &str, timeout: Duration) -> SourceConfig {
    testing::source(
        "sales",
        base_url,
        timeout,
        VendorSettings::Megaview(settings(&[])),
    )
}

fn settings(transcript_hosts: &[&str]) -> MegaviewSettings {
    MegaviewSettings {
        app_key: SecretString::from(APP_KEY),
        app_secret: SecretString::from(APP_SECRET),
        transcript_hosts: transcript_hosts
            .iter()
            .map(|host| FileHost::parse(host).unwrap())
            .collect(),
    }
}

/// An adapter whose mock API server also plays the object store, listed in
/// `transcript_hosts` the way private object storage would be.
fn adapter_at(base_url: &str, timeout: Duration) -> MegaviewAdapter {
    let url = Url::parse(base_url).unwrap();
    let api_host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    adapter_listing(base_url, timeout, &[&api_host])
}

/// An adapter that may download transcripts from private addresses only at `transcript_hosts`.
fn adapter_listing(
    base_url: &str,
    timeout: Duration,
    transcript_hosts: &[&str],
) -> MegaviewAdapter {
    let source = source(base_url, timeout);
    let upstream = testing::upstream(&source);
    MegaviewAdapter::new(&source, settings(transcript_hosts), upstream)
}

fn adapter(server: &MockServer) -> MegaviewAdapter {
    adapter_at(&server.uri(), Duration::from_secs(5))
}

fn utc(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

/// The seed document's own example window: 2025-08-11 12:00:00 to 2025-08-12 18:00:00, Beijing.
fn query() -> ConversationQuery {
    ConversationQuery {
        since: utc("2025-08-11T04:00:00Z"),
        until: utc("2025-08-12T10:00:00Z"),
        customer_id: None,
        agent_id: None,
    }
}

fn json_body(raw: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(raw.as_bytes().to_vec(), "application/json")
}

fn envelope_error(status: u16, code: i64, msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "code": code, "msg": msg }))
}

async fn mount_token(server: &MockServer, times: u64) {
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_json(
            json!({ "app_key": APP_KEY, "app_secret": APP_SECRET }),
        ))
        .respond_with(json_body(TOKEN_JSON))
        .expect(times)
        .mount(server)
        .await;
}

fn token_answer(token: &str, expire: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "code": 0,
        "msg": "success",
        "data": { "app_access_token": token, "expire": expire },
    }))
}

fn asr_answer(file_url: &str) -> ResponseTemplate {
    json_body(&ASR_DATA_JSON.replace(DOC_FILE_URL, file_url))
}

/// Matches requests that do not carry `name`.
struct WithoutHeader(&'static str);

impl wiremock::Match for WithoutHeader {
    fn matches(&self, request: &Request) -> bool {
        !request.headers.contains_key(self.0)
    }
}

async fn list_error(response: ResponseTemplate) -> VendorError {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    adapter(&server)
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err()
}

async fn messages_error(response: ResponseTemplate) -> VendorError {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    adapter(&server)
        .list_messages(&ctx(), "169583")
        .await
        .unwrap_err()
}

// ---- listing ----

#[tokio::test]
async fn list_conversations_maps_the_documented_example() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "begin_time": "2025-08-11 12:00:00",
            "end_time": "2025-08-12 18:00:00",
            "page_size": 100,
        })))
        .respond_with(json_body(LIST_JSON))
        .expect(1)
        .mount(&server)
        .await;

    let batch = adapter(&server)
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap();

    assert_eq!(batch.next_cursor.as_deref(), Some("agds12"));
    assert_eq!(batch.items.len(), 2);
    let call = &batch.items[0];
    assert_eq!(call.id.to_string(), "sales:55000");
    assert_eq!(call.title.as_deref(), Some("会话名称"));
    assert_eq!(call.channel.as_deref(), Some("voice_call"));
    assert_eq!(call.started_at, Some(utc("2022-09-14T01:56:08Z")));
    assert_eq!(call.ended_at, Some(utc("2022-09-14T01:58:29Z")));
    assert_eq!(call.last_message_at, None);
    assert_eq!(call.duration_seconds, Some(141));
    assert_eq!(call.message_count, Some(25));
    assert_eq!(call.customer_id.as_deref(), Some("1012"));
    assert_eq!(call.agent_id.as_deref(), Some("101aaa"));
    assert_eq!(call.bot_id, None);
    let raw: Value = serde_json::from_str(LIST_JSON).unwrap();
    assert_eq!(call.vendor_data.to_value(), raw["data"]["conversations"][0]);

    let chat = &batch.items[1];
    assert_eq!(chat.id.native(), "56000");
    assert_eq!(chat.channel.as_deref(), Some("chat"));
    assert_eq!(chat.started_at, Some(utc("2022-09-14T01:56:08Z")));
    assert_eq!(chat.ended_at, None);
    assert_eq!(chat.duration_seconds, None);
    assert_eq!(chat.message_count, Some(25));
    assert_eq!(chat.customer_id.as_deref(), Some("103"));
    assert_eq!(chat.agent_id.as_deref(), Some("aa102"));
    assert_eq!(chat.vendor_data.to_value()["word_count"], 426);
}

#[tokio::test]
async fn list_conversations_maps_absurd_durations_and_counts_without_overflowing() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    let page = json!({"code": 0, "msg": "success", "data": {"has_more": false, "conversations": [{
        "id": 1, "begin_time": "9999-12-31T23:59:59", "type": "audio", "duration": 1.0e300,
        "customer_sentence_count": u64::MAX, "salesman_sentence_count": u64::MAX,
    }, {
        "id": 2, "begin_time": "2025-08-12T08:00:00", "type": "video", "duration": 9.0e15,
    }]}});
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(&server)
        .await;

    let batch = adapter(&server)
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap();

    assert_eq!(batch.items[0].ended_at, None);
    assert_eq!(batch.items[0].message_count, Some(u64::MAX));
    assert_eq!(batch.items[1].ended_at, None);
    assert_eq!(batch.items[1].started_at, Some(utc("2025-08-12T00:00:00Z")));
}

#[tokio::test]
async fn list_conversations_sends_cursor_and_filters_and_ends_when_has_more_is_false() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .and(body_json(json!({
            "begin_time": "2025-08-11 12:00:00",
            "end_time": "2025-08-12 18:00:00",
            "page_size": 100,
            "page_token": "agds12",
            "deal_id": 1012,
            "open_user_id": "101aaa",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 0,
            "msg": "success",
            "data": { "has_more": false, "page_token": "", "total_count": 0, "conversations": [] },
        })))
        .expect(1)
        .mount(&server)
        .await;
    let query = ConversationQuery {
        customer_id: Some("1012".to_owned()),
        agent_id: Some("101aaa".to_owned()),
        ..query()
    };

    let batch = adapter(&server)
        .list_conversations(&ctx(), &query, Some("agds12"))
        .await
        .unwrap();

    assert!(batch.items.is_empty());
    assert_eq!(batch.next_cursor, None);
}

#[tokio::test]
async fn list_conversations_keeps_the_base_url_path_prefix() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/megaview{TOKEN_PATH}")))
        .respond_with(json_body(TOKEN_JSON))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/megaview{LIST_PATH}")))
        .respond_with(json_body(LIST_JSON))
        .expect(1)
        .mount(&server)
        .await;

    let adapter = adapter_at(
        &format!("{}/megaview/", server.uri()),
        Duration::from_secs(5),
    );
    let batch = adapter
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap();

    assert_eq!(batch.items.len(), 2);
}

#[tokio::test]
async fn list_conversations_rounds_sub_second_bounds_up_to_whole_seconds() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .and(body_json(json!({
            "begin_time": "2025-08-11 12:00:01",
            "end_time": "2025-08-18 12:00:01",
            "page_size": 100,
        })))
        .respond_with(json_body(LIST_JSON))
        .expect(1)
        .mount(&server)
        .await;
    // Exactly seven days, with fractions: must still fit the vendor's limit once rounded.
    let query = ConversationQuery {
        since: utc("2025-08-11T04:00:00.250Z"),
        until: utc("2025-08-18T04:00:00.250Z"),
        ..query()
    };

    adapter(&server)
        .list_conversations(&ctx(), &query, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn list_conversations_refuses_a_window_longer_than_seven_days_without_calling_the_vendor() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(LIST_JSON))
        .expect(0)
        .mount(&server)
        .await;
    let query = ConversationQuery {
        until: query().since + TimeDelta::days(7) + TimeDelta::seconds(1),
        ..query()
    };

    let err = adapter(&server)
        .list_conversations(&ctx(), &query, None)
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Rejected { .. }), "{err:?}");
}

#[tokio::test]
async fn list_conversations_refuses_a_non_numeric_customer_id_without_calling_the_vendor() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(LIST_JSON))
        .expect(0)
        .mount(&server)
        .await;
    let query = ConversationQuery {
        customer_id: Some("acme-corp".to_owned()),
        ..query()
    };
    let adapter = adapter(&server);

    let err = adapter
        .list_conversations(&ctx(), &query, None)
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Rejected { .. }), "{err:?}");
    assert!(adapter.unsupported(&query).is_some());
}

#[test]
fn unsupported_accepts_numeric_customer_ids_and_any_agent_id() {
    let adapter = adapter_at("http://127.0.0.1:9", Duration::from_secs(1));
    let query = ConversationQuery {
        customer_id: Some(" 1012 ".to_owned()),
        agent_id: Some("101aaa".to_owned()),
        ..query()
    };

    assert_eq!(adapter.unsupported(&query), None);
    assert_eq!(adapter.unsupported(&self::query()), None);
    assert_eq!(
        adapter.slicing().and_then(|s| s.max_window),
        Some(TimeDelta::days(7))
    );
}

#[tokio::test]
async fn list_conversations_reports_a_decode_error_when_has_more_comes_without_a_page_token() {
    let err = list_error(ResponseTemplate::new(200).set_body_json(json!({
        "code": 0,
        "msg": "success",
        "data": { "has_more": true, "conversations": [] },
    })))
    .await;

    assert!(matches!(err, VendorError::Decode(_)), "{err:?}");
}

// ---- the app token ----

#[tokio::test]
async fn token_is_fetched_once_and_reused_while_it_is_fresh() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_body(LIST_JSON))
        .expect(3)
        .mount(&server)
        .await;
    let adapter = adapter(&server);

    for _ in 0..3 {
        adapter
            .list_conversations(&ctx(), &query(), None)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn token_is_fetched_exactly_once_when_fifty_calls_start_without_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(json_body(TOKEN_JSON).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_body(LIST_JSON))
        .expect(50)
        .mount(&server)
        .await;
    let adapter = Arc::new(adapter(&server));

    let calls = (0..50).map(|_| {
        let adapter = Arc::clone(&adapter);
        tokio::spawn(async move {
            adapter
                .list_conversations(&ctx(), &query(), None)
                .await
                .map(|batch| batch.items.len())
        })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().unwrap(), 2);
    }
}

#[tokio::test]
async fn token_failure_is_shared_by_the_calls_that_waited_for_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(
            envelope_error(200, 10003, "invalid app_secret").set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let adapter = Arc::new(adapter(&server));

    let calls = (0..10).map(|_| {
        let adapter = Arc::clone(&adapter);
        tokio::spawn(async move { adapter.list_conversations(&ctx(), &query(), None).await })
    });
    for call in futures::future::join_all(calls).await {
        let err = call.unwrap().unwrap_err();
        assert!(matches!(err, VendorError::Unauthorized), "{err:?}");
    }
}

#[tokio::test]
async fn token_is_fetched_again_when_its_lifetime_is_over() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(token_answer(TOKEN, 0))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .respond_with(json_body(LIST_JSON))
        .expect(2)
        .mount(&server)
        .await;
    let adapter = adapter(&server);

    for _ in 0..2 {
        adapter
            .list_conversations(&ctx(), &query(), None)
            .await
            .unwrap();
    }
}

#[test]
fn token_refresh_is_five_minutes_early_or_at_half_life_for_short_tokens() {
    assert_eq!(
        refresh_after(Duration::from_secs(7200)),
        Duration::from_secs(6900)
    );
    assert_eq!(
        refresh_after(Duration::from_secs(600)),
        Duration::from_secs(300)
    );
    assert_eq!(
        refresh_after(Duration::from_secs(60)),
        Duration::from_secs(30)
    );
    assert_eq!(refresh_after(Duration::ZERO), Duration::ZERO);
}

#[tokio::test]
async fn business_call_refreshes_the_token_once_and_retries_when_the_vendor_answers_401() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(token_answer("stale-token", 7200))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(token_answer("fresh-token", 7200))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .and(header("authorization", "Bearer stale-token"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .and(header("authorization", "Bearer fresh-token"))
        .respond_with(json_body(LIST_JSON))
        .expect(2)
        .mount(&server)
        .await;
    let adapter = adapter(&server);

    for _ in 0..2 {
        let batch = adapter
            .list_conversations(&ctx(), &query(), None)
            .await
            .unwrap();
        assert_eq!(batch.items.len(), 2);
    }
}

#[tokio::test]
async fn business_call_retries_once_when_the_message_says_the_token_is_invalid() {
    let server = MockServer::start().await;
    mount_token(&server, 2).await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .respond_with(envelope_error(400, 400_001, "access_token is invalid"))
        .expect(2)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Unauthorized), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_unauthorized_when_the_retry_is_refused_too() {
    let server = MockServer::start().await;
    mount_token(&server, 2).await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Unauthorized), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_unauthorized_when_the_app_credentials_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(envelope_error(400, 10003, "app_secret invalid"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .respond_with(json_body(LIST_JSON))
        .expect(0)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Unauthorized), "{err:?}");
}

#[tokio::test]
async fn token_call_reports_rate_limited_with_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3"))
        .expect(1)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err();

    assert!(
        matches!(err, VendorError::RateLimited { retry_after: Some(wait) } if wait == Duration::from_secs(3)),
        "{err:?}"
    );
}

#[tokio::test]
async fn token_call_reports_a_redirect_as_a_vendor_status_not_as_refused_credentials() {
    for body in [
        "",
        r#"{"code": 0, "data": {"app_access_token": "t", "expire": 7200}}"#,
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(TOKEN_PATH))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", "http://127.0.0.1:9/elsewhere")
                    .set_body_string(body),
            )
            .expect(1)
            .mount(&server)
            .await;

        let err = adapter(&server)
            .list_conversations(&ctx(), &query(), None)
            .await
            .unwrap_err();

        assert!(matches!(err, VendorError::Status(302)), "{err:?}");
    }
}

// ---- list errors ----

#[tokio::test]
async fn list_conversations_reports_rate_limited_with_retry_after_on_429() {
    let err = list_error(ResponseTemplate::new(429).insert_header("retry-after", "7")).await;

    assert!(
        matches!(err, VendorError::RateLimited { retry_after: Some(wait) } if wait == Duration::from_secs(7)),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_conversations_reports_rate_limited_for_the_backoff_when_429_has_no_retry_after() {
    let err = list_error(ResponseTemplate::new(429)).await;

    let backoff = ResiliencePolicy::default().throttle_backoff;
    assert!(
        matches!(err, VendorError::RateLimited { retry_after: Some(wait) } if wait == backoff),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_conversations_reports_the_vendor_code_when_it_rejects_the_request() {
    for (code, msg) in [
        (401_206, "time format error"),
        (401_201, "deal does not exist"),
        (400_164, "user does not exist"),
    ] {
        let err = list_error(envelope_error(400, code, msg)).await;

        assert!(
            matches!(&err, VendorError::Rejected { code: got } if *got == code.to_string()),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn list_conversations_reports_the_status_when_the_vendor_fails_with_5xx() {
    let err =
        list_error(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>")).await;

    assert!(matches!(err, VendorError::Status(502)), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_not_found_on_a_plain_404() {
    let err = list_error(ResponseTemplate::new(404)).await;

    assert!(matches!(err, VendorError::NotFound), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_a_decode_error_when_the_body_is_malformed() {
    let err =
        list_error(ResponseTemplate::new(200).set_body_string("{\"code\": 0, \"data\": [")).await;

    assert!(matches!(err, VendorError::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_a_decode_error_when_an_item_has_no_id() {
    let err = list_error(ResponseTemplate::new(200).set_body_json(json!({
        "code": 0,
        "data": { "has_more": false, "conversations": [{ "name": "no id" }] },
    })))
    .await;

    assert!(matches!(err, VendorError::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_a_timeout_when_the_vendor_is_slow() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .respond_with(json_body(LIST_JSON).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;

    let err = adapter_at(&server.uri(), Duration::from_millis(200))
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Timeout), "{err:?}");
}

// ---- messages ----

#[tokio::test]
async fn list_messages_maps_the_documented_transcript_and_sends_no_credentials_to_the_file_host() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("content-type", "application/json"))
        .respond_with(asr_answer(&format!("{}{FILE_PATH}", server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(FILE_PATH))
        .and(WithoutHeader("authorization"))
        .respond_with(json_body(TRANSCRIPT_JSON))
        .expect(1)
        .mount(&server)
        .await;

    let messages = adapter(&server)
        .list_messages(&ctx(), "169583")
        .await
        .unwrap();

    assert_eq!(messages.len(), 2);
    let first = &messages[0];
    assert_eq!(first.id, "0");
    assert_eq!(first.role, Role::Agent);
    assert_eq!(first.sender_name.as_deref(), Some("张三"));
    assert_eq!(first.content_type, ContentType::Text);
    assert!(first.content.starts_with("您拨打的电话暂时无法接通"));
    // Audio offsets cannot be placed without the call's start.
    assert_eq!(first.sent_at, None);
    let second = &messages[1];
    assert_eq!(second.id, "1");
    assert_eq!(second.role, Role::Customer);
    assert_eq!(second.content, "请问什么时候开会呢？");
    assert_eq!(second.sender_name.as_deref(), Some("李四"));
    assert_eq!(second.vendor_data.to_value()["begin_time"], 25.48);
    assert_eq!(second.vendor_data.to_value()["entity_id"], 6027);
}

#[tokio::test]
async fn list_messages_places_call_sentences_after_the_calls_start() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .respond_with(asr_answer(&format!("{}{FILE_PATH}", server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(FILE_PATH))
        .respond_with(json_body(TRANSCRIPT_JSON))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/openapi/conversation/v1/conversations/169583"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_body(
            r#"{"code":0,"msg":"success","data":{"id":169583,"name":"call","begin_time":"2022-09-14T09:56:08","type":"audio","duration":141}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;

    let messages = adapter(&server)
        .list_messages(&ctx(), "169583")
        .await
        .unwrap();

    // 09:56:08 in Asia/Shanghai is 01:56:08 UTC; the second sentence begins 25.48 s in.
    assert_eq!(messages[1].sent_at, Some(utc("2022-09-14T01:56:33.480Z")));
    assert!(
        messages[0]
            .sent_at
            .is_some_and(|t| t >= utc("2022-09-14T01:56:08Z"))
    );
}

#[tokio::test]
async fn list_messages_orders_chat_sentences_and_reads_their_epoch_times() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .respond_with(asr_answer(&format!("{}{FILE_PATH}", server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(FILE_PATH))
        .respond_with(json_body(TRANSCRIPT_DOC_JSON))
        .expect(1)
        .mount(&server)
        .await;

    let messages = adapter(&server)
        .list_messages(&ctx(), "169583")
        .await
        .unwrap();

    let ids: Vec<_> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["0", "1"]);
    assert_eq!(messages[0].role, Role::Agent);
    assert_eq!(messages[0].sent_at, Some(utc("2025-08-14T05:40:00Z")));
    assert_eq!(messages[1].role, Role::Customer);
    assert_eq!(messages[1].sent_at, Some(utc("2025-08-14T05:40:30Z")));
}

#[tokio::test]
async fn list_messages_keeps_ids_unique_and_maps_unknown_speakers_to_system() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .respond_with(asr_answer(&format!("{}{FILE_PATH}", server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(FILE_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "entity_type": "robot", "content": "recording started", "order": 2 },
            { "entity_type": "customer_contact", "content": "hi", "order": 1 },
            { "entity_type": "salesman", "content": "hello", "order": 1 },
            { "entity_type": "host_salesman", "content": "no order" },
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let messages = adapter(&server)
        .list_messages(&ctx(), "169583")
        .await
        .unwrap();

    let seen: Vec<_> = messages
        .iter()
        .map(|m| (m.id.as_str(), m.role, m.content.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("1", Role::Customer, "hi"),
            ("1-1", Role::Agent, "hello"),
            ("2", Role::System, "recording started"),
            ("i3", Role::Agent, "no order"),
        ]
    );
}

#[tokio::test]
async fn list_messages_reports_not_found_when_the_vendor_does_not_know_the_conversation() {
    let err = messages_error(envelope_error(400, 401_200, "conversation does not exist")).await;

    assert!(matches!(err, VendorError::NotFound), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_not_found_when_an_origin_id_is_not_mapped() {
    let err = messages_error(envelope_error(400, 401_215, "originId match Id failed")).await;

    assert!(matches!(err, VendorError::NotFound), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_not_found_for_a_non_numeric_id_without_calling_the_vendor() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    // Other spellings of an integer would give one conversation several ids.
    for id in [
        "../../openapi/auth",
        "+169583",
        "0169583",
        " 169583",
        "169583 ",
    ] {
        let err = adapter(&server)
            .list_messages(&ctx(), id)
            .await
            .unwrap_err();

        assert!(matches!(err, VendorError::NotFound), "{id:?}: {err:?}");
    }
}

#[tokio::test]
async fn list_messages_reports_not_ready_when_the_transcript_is_unfinished() {
    let err = messages_error(envelope_error(
        500,
        501_200,
        "transcript unfinished,please try again later",
    ))
    .await;

    assert!(
        matches!(err, VendorError::NotReady { what: "the transcript", retry_after: Some(wait) } if wait == Duration::from_secs(30)),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_messages_reports_not_ready_when_the_file_url_is_empty() {
    let err = messages_error(asr_answer("")).await;

    assert!(matches!(err, VendorError::NotReady { .. }), "{err:?}");
}

#[tokio::test]
async fn list_messages_refuses_a_file_url_that_is_not_http() {
    let err = messages_error(asr_answer("file:///etc/passwd")).await;

    assert!(matches!(err, VendorError::FileUnavailable), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_a_failed_download_without_the_file_hosts_status() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .respond_with(asr_answer(&format!("{}{FILE_PATH}", server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(FILE_PATH))
        .respond_with(ResponseTemplate::new(403).set_body_string("<Error>AccessDenied</Error>"))
        .expect(1)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .list_messages(&ctx(), "169583")
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::FileUnavailable), "{err:?}");
    assert!(!err.to_string().contains("403"), "{err}");
}

#[tokio::test]
async fn list_messages_reports_a_decode_error_when_the_transcript_is_not_an_array() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .respond_with(asr_answer(&format!("{}{FILE_PATH}", server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(FILE_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"sentences\": 3}"))
        .expect(1)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .list_messages(&ctx(), "169583")
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_a_timeout_when_the_vendor_is_slow() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .respond_with(json_body(ASR_DATA_JSON).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;

    let err = adapter_at(&server.uri(), Duration::from_millis(200))
        .list_messages(&ctx(), "169583")
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Timeout), "{err:?}");
}

// ---- where transcripts may come from ----

/// What `list_messages` fails with when `asr_data` points at `file_url`, for an adapter
/// listing `transcript_hosts` (its API server is not listed).
async fn transcript_error(file_url: &str, transcript_hosts: &[&str]) -> VendorError {
    let api = MockServer::start().await;
    mount_token(&api, 1).await;
    Mock::given(method("GET"))
        .and(path(ASR_PATH))
        .respond_with(asr_answer(file_url))
        .expect(1)
        .mount(&api)
        .await;
    adapter_listing(&api.uri(), Duration::from_secs(5), transcript_hosts)
        .list_messages(&ctx(), "169583")
        .await
        .unwrap_err()
}

/// A file server answering every request with the transcript.
async fn file_server() -> MockServer {
    let files = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json_body(TRANSCRIPT_JSON))
        .mount(&files)
        .await;
    files
}

#[tokio::test]
async fn transcripts_at_unlisted_loopback_spellings_are_refused_without_a_connection() {
    let files = file_server().await;
    let port = files.address().port();

    for host in [
        "127.0.0.1",
        "localhost",
        "0x7f.0.0.1",
        "2130706433",
        "127.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
    ] {
        let err = transcript_error(&format!("http://{host}:{port}{FILE_PATH}"), &[]).await;
        assert!(
            matches!(err, VendorError::FileUnavailable),
            "{host}: {err:?}"
        );
    }

    let received = files.received_requests().await.unwrap();
    assert!(
        received.is_empty(),
        "the file server was reached: {received:?}"
    );
}

#[tokio::test]
async fn transcripts_at_metadata_and_private_addresses_are_refused() {
    for url in [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/x.json",
        "http://192.168.0.1:8080/x.json",
        "http://[fd00::1]/x.json",
    ] {
        // Refused on the address alone, before anything is sent.
        assert_eq!(
            download::check(&Url::parse(url).unwrap(), &[]),
            Err(download::Refusal::Address),
            "{url}"
        );
        let err = transcript_error(url, &[]).await;
        assert!(
            matches!(err, VendorError::FileUnavailable),
            "{url}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_listed_host_serves_transcripts_by_address_or_by_name() {
    let files = file_server().await;
    let port = files.address().port();

    for (host, listed) in [
        ("127.0.0.1", format!("127.0.0.1:{port}")),
        ("127.1", format!("0x7f.0.0.1:{port}")),
        ("localhost", format!("localhost:{port}")),
    ] {
        let api = MockServer::start().await;
        mount_token(&api, 1).await;
        Mock::given(method("GET"))
            .and(path(ASR_PATH))
            .respond_with(asr_answer(&format!("http://{host}:{port}{FILE_PATH}")))
            .mount(&api)
            .await;
        let messages = adapter_listing(&api.uri(), Duration::from_secs(5), &[&listed])
            .list_messages(&ctx(), "169583")
            .await
            .unwrap();
        assert_eq!(messages.len(), 2, "{host}");
    }
}

#[tokio::test]
async fn a_redirect_from_a_listed_host_is_not_followed() {
    let elsewhere = file_server().await;
    let files = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(FILE_PATH))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}{FILE_PATH}", elsewhere.uri())),
        )
        .expect(1)
        .mount(&files)
        .await;
    // Both are listed: only the no-redirect rule keeps the second one unasked.
    let listed = [files.address().to_string(), elsewhere.address().to_string()];

    let err = transcript_error(
        &format!("{}{FILE_PATH}", files.uri()),
        &[&listed[0], &listed[1]],
    )
    .await;

    assert!(matches!(err, VendorError::FileUnavailable), "{err:?}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn every_refused_or_failed_download_looks_the_same() {
    let open = file_server().await;
    let failing = MockServer::start().await;
    for (status, file) in [
        (404, "/404.json"),
        (403, "/403.json"),
        (500, "/500.json"),
        (429, "/429.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(file))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "7"))
            .mount(&failing)
            .await;
    }
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let failing_host = failing.address().to_string();
    let closed_host = format!("127.0.0.1:{closed_port}");
    let listed = [failing_host.as_str(), closed_host.as_str()];

    let mut errors = vec![
        // Unlisted loopback with a live server behind it.
        transcript_error(&format!("{}{FILE_PATH}", open.uri()), &listed).await,
        // Listed, but nothing listens there.
        transcript_error(&format!("http://{closed_host}{FILE_PATH}"), &listed).await,
        // Not http.
        transcript_error("ftp://example.com/x.json", &listed).await,
    ];
    for file in ["/404.json", "/403.json", "/500.json", "/429.json"] {
        errors.push(transcript_error(&format!("{}{file}", failing.uri()), &listed).await);
    }

    for err in &errors {
        assert!(matches!(err, VendorError::FileUnavailable), "{err:?}");
        assert_eq!(err.code().as_str(), "UPSTREAM_FILE_UNAVAILABLE");
        assert_eq!(err.to_string(), errors[0].to_string());
        assert_eq!(err.retry_after(), None);
        assert_eq!(err.detail(), None);
    }
    assert!(open.received_requests().await.unwrap().is_empty());
}

// ---- secrets ----

#[tokio::test]
async fn errors_never_carry_the_app_secret_or_the_token() {
    let token_echo = ResponseTemplate::new(400).set_body_json(json!({
        "code": 12345,
        "msg": format!("bad {APP_KEY} {APP_SECRET} {TOKEN}"),
        "data": { "app_access_token": 7 },
    }));
    let mut errors = vec![
        list_error(ResponseTemplate::new(403).set_body_string(TOKEN)).await,
        list_error(envelope_error(400, 401_206, APP_SECRET)).await,
        list_error(ResponseTemplate::new(200).set_body_string(format!("{TOKEN} {APP_SECRET}")))
            .await,
        messages_error(envelope_error(500, 501_200, TOKEN)).await,
    ];
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(token_echo)
        .expect(1)
        .mount(&server)
        .await;
    errors.push(
        adapter(&server)
            .list_conversations(&ctx(), &query(), None)
            .await
            .unwrap_err(),
    );

    for err in errors {
        let text = format!("{err} {}", err.detail().unwrap_or(""));
        for secret in [APP_KEY, APP_SECRET, TOKEN] {
            assert!(!text.contains(secret), "{secret} leaked into {text:?}");
        }
    }
}

// ---- found while writing the fuzz targets ----

#[tokio::test]
async fn a_token_with_an_absurd_expire_is_used_not_a_panic() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(token_answer("forever", u64::MAX))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST_PATH))
        .and(header("authorization", "Bearer forever"))
        .respond_with(json_body(LIST_JSON))
        .expect(2)
        .mount(&server)
        .await;
    let adapter = adapter(&server);
    for _ in 0..2 {
        adapter
            .list_conversations(&ctx(), &query(), None)
            .await
            .unwrap();
    }
}

// ---- found by the conformance run ----

#[tokio::test]
async fn a_filter_naming_an_unknown_deal_or_user_lists_nothing() {
    for (code, customer_id, agent_id) in [
        (401_201, Some("424242"), None),
        (400_164, None, Some("ou_nobody")),
    ] {
        let server = MockServer::start().await;
        mount_token(&server, 1).await;
        Mock::given(method("POST"))
            .and(path(LIST_PATH))
            .respond_with(envelope_error(400, code, "does not exist"))
            .expect(1)
            .mount(&server)
            .await;
        let query = ConversationQuery {
            customer_id: customer_id.map(str::to_owned),
            agent_id: agent_id.map(str::to_owned),
            ..query()
        };

        let batch = adapter(&server)
            .list_conversations(&ctx(), &query, None)
            .await
            .unwrap();

        assert!(batch.items.is_empty() && batch.next_cursor.is_none());
    }
}

#[test]
fn a_transcript_whose_sentences_all_share_one_order_maps_in_linear_time() {
    // Ids once probed every earlier suffix: 20,000 such sentences took 35 s of CPU, so
    // 100,000 would take about 15 minutes. Linear, they take well under a second.
    let sentences: Vec<Box<serde_json::value::RawValue>> = (0..100_000)
        .map(|_| {
            serde_json::value::RawValue::from_string(r#"{"content":"x","order":7}"#.to_owned())
                .unwrap()
        })
        .collect();
    let started = std::time::Instant::now();

    let messages = super::model::transcript_into_messages(sentences, None).unwrap();

    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(messages.len(), 100_000);
    assert_eq!(messages[0].id, "7");
    assert_eq!(messages[99_999].id, "7-99999");
    let unique: std::collections::HashSet<_> = messages.iter().map(|m| &m.id).collect();
    assert_eq!(unique.len(), 100_000);
}

#[test]
fn an_envelope_is_read_for_its_code_even_when_its_data_is_not_the_payload() {
    use bytes::Bytes;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    use super::client::decode;
    use super::model::ListData;
    use crate::vendors::http::UpstreamResponse;

    let read = |body: &str| {
        decode::<ListData>(&UpstreamResponse::new(
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from(body.to_owned()),
        ))
    };

    assert!(matches!(
        read(r#"{"code": 401200, "msg": "x", "data": "not a page"}"#),
        Err(VendorError::NotFound)
    ));
    assert!(matches!(
        read(r#"{"code": 0, "data": {"conversations": 5}}"#),
        Err(VendorError::Decode(_))
    ));
    assert!(matches!(
        read(r#"{"code": 0, "data": null}"#),
        Err(VendorError::Decode(reason)) if reason == "envelope without data"
    ));
    assert!(matches!(
        read(r#"{"msg": "no code", "data": {}}"#),
        Err(VendorError::Decode(reason)) if reason == "answer is not the documented envelope"
    ));
    let (page, text) = read(r#"{"code": 0, "data": {"has_more": false}}"#).unwrap();
    assert!(page.into_items(text).is_empty());
}
