//! Wiremock tests of the Udesk KM client and mapping, against the seed document's examples.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use super::UdeskAdapter;
use super::client::sign;
use crate::domain::{ContentType, Role, VendorKind};
use crate::vendors::testing::{self, ctx};
use crate::vendors::{ConversationQuery, VendorAdapter, VendorError};
use crate::vendors::{SignAlgorithm, UdeskSettings, VendorSettings};

const SESSIONS: &str = include_str!("../../../tests/api/fixtures/udesk/sessions.json");
const SESSION_LOGS: &str = include_str!("../../../tests/api/fixtures/udesk/session_logs.json");

const EMAIL: &str = "admin@udesk.cn";
const TOKEN: &str = "km-token-7f3a9c1e-do-not-leak";
const ROBOT_ID: i64 = 83;

fn adapter_with(base_url: &str, timeout: Duration, algorithm: SignAlgorithm) -> UdeskAdapter {
    let settings = UdeskSettings {
        email: EMAIL.to_owned(),
        api_token: SecretString::from(TOKEN),
        robot_id: ROBOT_ID,
        sign_algorithm: algorithm,
    };
    let source = testing::source(
        "helpdesk",
        base_url,
        timeout,
        VendorSettings::Udesk(settings.clone()),
    );
    UdeskAdapter::new(&source, settings, testing::upstream(&source))
}

fn adapter(server: &MockServer) -> UdeskAdapter {
    adapter_with(&server.uri(), Duration::from_secs(5), SignAlgorithm::Sha1)
}

fn utc(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

fn window(customer_id: Option<&str>) -> ConversationQuery {
    ConversationQuery {
        since: utc("2019-11-27T00:00:00Z"),
        until: utc("2019-11-28T00:00:00Z"),
        customer_id: customer_id.map(str::to_owned),
        agent_id: None,
    }
}

/// The list body KM should receive for `window()`, from the cursor's page on.
fn list_body(page_num: u32) -> Value {
    json!({
        "robotId": ROBOT_ID,
        "startTime": "2019-11-27 08:00:00",
        "endTime": "2019-11-28 08:00:00",
        "pageNum": page_num,
        "pageSize": 99,
        "sortFlag": 0,
    })
}

/// Matches a call signed the way KM wants: `email`, a current unix-seconds `timestamp`,
/// and `sign` = hex(SHA-1("{email}&{token}&{timestamp}")), computed here on its own. The
/// token itself must appear nowhere in the URL.
struct SignedQuery;

impl Match for SignedQuery {
    fn matches(&self, request: &Request) -> bool {
        let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let (Some(email), Some(timestamp), Some(signature)) = (
            query.get("email"),
            query.get("timestamp"),
            query.get("sign"),
        ) else {
            return false;
        };
        let Ok(seconds) = timestamp.parse::<i64>() else {
            return false;
        };
        let expected = hex::encode(Sha1::digest(format!("{email}&{TOKEN}&{seconds}")));
        email == EMAIL
            && (Utc::now().timestamp() - seconds).abs() <= 60
            && *signature == expected
            && !request.url.as_str().contains(TOKEN)
    }
}

fn sessions_page(first_id: i64, count: usize, total: i64) -> Value {
    let data: Vec<Value> = (0..count)
        .map(|n| {
            json!({
                "id": first_id + n as i64,
                "robotId": ROBOT_ID,
                "startTime": "2019-11-27 18:41:23",
                "endTime": "2019-11-27 18:43:05",
                "totalCount": 2,
                "customer": null,
            })
        })
        .collect();
    json!({
        "code": 200,
        "message": "OK",
        "paging": { "pageNum": 1, "pageSize": 99, "total": total },
        "data": data,
    })
}

fn logs_page(first_id: i64, count: usize, total: i64) -> Value {
    let data: Vec<Value> = (0..count)
        .map(|n| {
            json!({
                "id": first_id + n as i64,
                "userType": 1 + (n % 2) as i64,
                "content": format!("message {}", first_id + n as i64),
                "sessionId": 720937747,
                "createTime": "2024-12-20 23:28:38",
            })
        })
        .collect();
    json!({
        "succeed": true,
        "code": 200,
        "message": "OK",
        "paging": { "pageNum": 1, "pageSize": 99, "total": total },
        "data": data,
    })
}

fn assert_secret_free(err: &VendorError) {
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(!err.detail().unwrap_or("").contains(TOKEN), "{err:?}");
    assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");
}

async fn list_error(response: ResponseTemplate) -> VendorError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/sessions"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .list_conversations(&ctx(), &window(None), None)
        .await
        .unwrap_err();
    assert_secret_free(&err);
    err
}

async fn messages_error(response: ResponseTemplate) -> VendorError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/sessions/720937747/logs"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .list_messages(&ctx(), "720937747")
        .await
        .unwrap_err();
    assert_secret_free(&err);
    err
}

#[test]
fn sign_is_the_lowercase_hex_sha1_of_email_token_and_timestamp() {
    // `printf 'admin@udesk.cn&secret-token&1529402458' | sha1sum`
    assert_eq!(
        sign(
            "admin@udesk.cn",
            "secret-token",
            1_529_402_458,
            SignAlgorithm::Sha1
        ),
        "c88789478fb35730d8e9cafe51d2b68b83d14715"
    );
}

#[test]
fn sign_is_the_lowercase_hex_sha256_when_the_source_asks_for_it() {
    // `printf 'admin@udesk.cn&secret-token&1529402458' | sha256sum`
    assert_eq!(
        sign(
            "admin@udesk.cn",
            "secret-token",
            1_529_402_458,
            SignAlgorithm::Sha256
        ),
        "9c1672718df543f38f4bd930049dc7f8b4e915e6ad73e99d7bdbde1684435236"
    );
}

#[tokio::test]
async fn list_conversations_maps_the_documented_example() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/sessions"))
        .and(query_param("email", EMAIL))
        .and(SignedQuery)
        .and(header("content-type", "application/json"))
        .and(body_json(list_body(1)))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SESSIONS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;

    let batch = adapter(&server)
        .list_conversations(&ctx(), &window(None), None)
        .await
        .unwrap();

    // The example's page is full (2 of pageSize 2) and far below its total of 4088.
    assert_eq!(batch.next_cursor.as_deref(), Some("2"));
    assert_eq!(batch.items.len(), 2);
    let first = &batch.items[0];
    assert_eq!(first.id.to_string(), "helpdesk:457955");
    assert_eq!(first.vendor, VendorKind::Udesk);
    assert_eq!(first.title.as_deref(), Some("测试1·"));
    assert_eq!(first.channel.as_deref(), Some("web"));
    assert_eq!(first.started_at, Some(utc("2019-11-27T10:41:23Z")));
    assert_eq!(first.ended_at, Some(utc("2019-11-27T10:43:05Z")));
    assert_eq!(first.last_message_at, Some(utc("2019-11-27T10:43:05Z")));
    assert_eq!(first.duration_seconds, Some(102));
    assert_eq!(first.message_count, Some(8));
    assert_eq!(first.customer_id.as_deref(), Some("1415457662"));
    assert_eq!(first.agent_id, None);
    assert_eq!(first.bot_id.as_deref(), Some("83"));
    assert_eq!(first.vendor_data.to_value()["unknownQuestionCount"], 1);
    assert_eq!(first.vendor_data.to_value()["customer"]["province"], "北京");

    let second = &batch.items[1];
    assert_eq!(second.id.native(), "457954");
    assert_eq!(second.customer_id, None);
    assert_eq!(second.channel, None, "no customer and a null channelName");
    assert_eq!(second.title.as_deref(), Some("测试1·"));
    assert_eq!(second.started_at, Some(utc("2019-11-27T10:23:27Z")));
    assert_eq!(second.duration_seconds, Some(70));
    assert_eq!(second.message_count, Some(4));
    assert_eq!(second.vendor_data.to_value()["customer"], Value::Null);
}

#[tokio::test]
async fn list_conversations_prefers_the_dialogue_description_and_falls_back_to_the_channel_name() {
    let server = MockServer::start().await;
    let body = json!({
        "code": 200,
        "message": "OK",
        "paging": { "pageNum": 1, "pageSize": 99, "total": 1 },
        "data": [{
            "id": 3_000_000_001_i64,
            "robotId": ROBOT_ID,
            "startTime": "2019-11-27 18:41:23",
            "endTime": "2019-11-27 18:41:23",
            "appName": "app",
            "channelName": "售前",
            "dialogueDesc": "退货咨询",
            "customer": { "id": 5, "platform": "" },
        }],
    });
    Mock::given(method("POST"))
        .and(path("/api/v1/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    let batch = adapter(&server)
        .list_conversations(&ctx(), &window(None), None)
        .await
        .unwrap();

    let only = &batch.items[0];
    assert_eq!(only.id.native(), "3000000001", "ids exceed 2^31");
    assert_eq!(only.title.as_deref(), Some("退货咨询"));
    assert_eq!(only.channel.as_deref(), Some("售前"));
    assert_eq!(only.customer_id.as_deref(), Some("5"));
    assert_eq!(only.duration_seconds, Some(0));
    assert_eq!(batch.next_cursor, None);
}

#[tokio::test]
async fn list_conversations_sends_the_cursor_page_and_searches_by_customer_id() {
    let server = MockServer::start().await;
    let mut body = list_body(3);
    body["keywordsSource"] = json!(4);
    body["keywords"] = json!("1415457662");
    Mock::given(method("POST"))
        .and(path("/api/v1/sessions"))
        .and(SignedQuery)
        .and(body_json(body))
        .respond_with(ResponseTemplate::new(200).set_body_json(sessions_page(1, 5, 203)))
        .expect(1)
        .mount(&server)
        .await;

    let batch = adapter(&server)
        .list_conversations(&ctx(), &window(Some("1415457662")), Some("3"))
        .await
        .unwrap();

    assert_eq!(batch.items.len(), 5);
    assert_eq!(batch.next_cursor, None, "a short page is the last one");
}

#[tokio::test]
async fn list_conversations_offers_the_next_page_only_while_full_pages_stay_below_the_total() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_json(list_body(1)))
        .respond_with(ResponseTemplate::new(200).set_body_json(sessions_page(1, 99, 198)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_json(list_body(2)))
        .respond_with(ResponseTemplate::new(200).set_body_json(sessions_page(100, 99, 198)))
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter(&server);

    let first = adapter
        .list_conversations(&ctx(), &window(None), None)
        .await
        .unwrap();
    let second = adapter
        .list_conversations(&ctx(), &window(None), first.next_cursor.as_deref())
        .await
        .unwrap();

    assert_eq!(first.next_cursor.as_deref(), Some("2"));
    assert_eq!(second.items[0].id.native(), "100");
    assert_eq!(
        second.next_cursor, None,
        "2 × 99 pages cover the total of 198"
    );
}

#[tokio::test]
async fn list_conversations_keeps_the_path_prefix_of_the_base_url() {
    for suffix in ["/udesk", "/udesk/"] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/udesk/api/v1/sessions"))
            .and(SignedQuery)
            .respond_with(ResponseTemplate::new(200).set_body_json(sessions_page(1, 0, 0)))
            .expect(1)
            .mount(&server)
            .await;
        let adapter = adapter_with(
            &format!("{}{suffix}", server.uri()),
            Duration::from_secs(5),
            SignAlgorithm::Sha1,
        );

        let batch = adapter
            .list_conversations(&ctx(), &window(None), None)
            .await
            .unwrap();

        assert!(batch.items.is_empty());
        assert_eq!(batch.next_cursor, None);
    }
}

#[tokio::test]
async fn list_conversations_signs_with_sha256_when_the_source_is_configured_for_it() {
    struct Sha256Signed;
    impl Match for Sha256Signed {
        fn matches(&self, request: &Request) -> bool {
            let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
            let timestamp = query.get("timestamp").cloned().unwrap_or_default();
            let expected =
                hex::encode(sha2::Sha256::digest(format!("{EMAIL}&{TOKEN}&{timestamp}")));
            query.get("sign") == Some(&expected)
        }
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/sessions"))
        .and(Sha256Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(sessions_page(1, 0, 0)))
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter_with(&server.uri(), Duration::from_secs(5), SignAlgorithm::Sha256);

    let batch = adapter
        .list_conversations(&ctx(), &window(None), None)
        .await
        .unwrap();

    assert!(batch.items.is_empty());
}

#[tokio::test]
async fn list_conversations_refuses_a_cursor_that_is_not_a_page_number() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;

    for cursor in ["0", "abc", "-1"] {
        let err = adapter(&server)
            .list_conversations(&ctx(), &window(None), Some(cursor))
            .await
            .unwrap_err();
        assert!(matches!(err, VendorError::Decode(_)), "{cursor}: {err:?}");
    }
}

#[test]
fn unsupported_names_the_agent_filter_and_accepts_the_customer_filter() {
    let adapter = adapter_with(
        "http://127.0.0.1:9",
        Duration::from_secs(1),
        SignAlgorithm::Sha1,
    );
    let mut query = window(Some("1415457662"));
    assert_eq!(adapter.unsupported(&query), None);
    query.agent_id = Some("agent-1".to_owned());
    assert!(adapter.unsupported(&query).unwrap().contains("agent"));
    assert_eq!(
        adapter.slicing().and_then(|s| s.max_window),
        Some(chrono::Duration::days(365))
    );
    assert_eq!(adapter.vendor(), VendorKind::Udesk);
    assert_eq!(adapter.source().as_str(), "helpdesk");
}

#[tokio::test]
async fn list_messages_maps_the_documented_example() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/sessions/720937747/logs"))
        .and(query_param("pageNum", "1"))
        .and(query_param("pageSize", "99"))
        .and(query_param("email", EMAIL))
        .and(SignedQuery)
        .respond_with(ResponseTemplate::new(200).set_body_raw(SESSION_LOGS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;

    let messages = adapter(&server)
        .list_messages(&ctx(), "720937747")
        .await
        .unwrap();

    assert_eq!(messages.len(), 3);
    let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["2296218439", "2296218671", "2296218677"]);
    let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Bot, Role::Customer, Role::Bot]);
    let types: Vec<ContentType> = messages.iter().map(|m| m.content_type).collect();
    assert_eq!(
        types,
        [ContentType::Text, ContentType::Text, ContentType::Html]
    );
    assert_eq!(
        messages[0].content,
        "你好,曹丽娜测试用机器人很高兴为您服务S1!"
    );
    assert_eq!(messages[1].content, "如何长生不老");
    assert_eq!(
        messages[2].content,
        "找太上老君要一颗长生不老药\n吃唐僧肉\n吃人参果"
    );
    assert_eq!(messages[0].sent_at, Some(utc("2024-12-20T15:28:38Z")));
    assert_eq!(messages[1].sent_at, Some(utc("2024-12-20T15:29:13Z")));
    assert_eq!(messages[2].sent_at, Some(utc("2024-12-20T15:29:14Z")));
    assert!(messages.iter().all(|m| m.sender_name.is_none()));
    assert_eq!(messages[0].vendor_data.to_value()["logType"], 1);
    assert_eq!(
        messages[0].vendor_data.to_value()["tags"][0],
        "常驻入口转人工"
    );
    assert_eq!(messages[2].vendor_data.to_value()["questionId"], 4417283);
}

#[tokio::test]
async fn list_messages_reads_every_page_until_the_total_is_reached() {
    let server = MockServer::start().await;
    let logs = |page: &str, body: Value| {
        Mock::given(method("GET"))
            .and(path("/api/v1/sessions/720937747/logs"))
            .and(query_param("pageNum", page))
            .and(query_param("pageSize", "99"))
            .and(SignedQuery)
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    logs("1", logs_page(1, 99, 198))
        .expect(1)
        .mount(&server)
        .await;
    logs("2", logs_page(100, 99, 198))
        .expect(1)
        .mount(&server)
        .await;
    logs("3", logs_page(199, 0, 198))
        .expect(0)
        .mount(&server)
        .await;

    let messages = adapter(&server)
        .list_messages(&ctx(), "720937747")
        .await
        .unwrap();

    assert_eq!(messages.len(), 198);
    assert_eq!(messages[0].id, "1");
    assert_eq!(messages[0].role, Role::Bot);
    assert_eq!(messages[1].role, Role::Customer);
    assert_eq!(messages[99].id, "100");
    assert_eq!(messages[197].id, "198");
}

#[tokio::test]
async fn list_messages_stops_at_a_short_page_and_never_repeats_a_message() {
    let server = MockServer::start().await;
    let logs = |page: &str, body: Value| {
        Mock::given(method("GET"))
            .and(path("/api/v1/sessions/720937747/logs"))
            .and(query_param("pageNum", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    // A log was added between the two calls, so page 2 starts with page 1's last item.
    logs("1", logs_page(1, 99, 500))
        .expect(1)
        .mount(&server)
        .await;
    logs("2", logs_page(99, 10, 500))
        .expect(1)
        .mount(&server)
        .await;

    let messages = adapter(&server)
        .list_messages(&ctx(), "720937747")
        .await
        .unwrap();

    assert_eq!(messages.len(), 108);
    assert_eq!(messages[98].id, "99");
    assert_eq!(messages[99].id, "100");
    assert_eq!(messages[107].id, "108");
}

#[tokio::test]
async fn list_messages_maps_every_documented_content_type_and_unknown_senders() {
    let server = MockServer::start().await;
    let item = |id: i64, user_type: i64, content_type: i64| {
        json!({ "id": id, "userType": user_type, "contentType": content_type,
                "content": "x", "createTime": "2024-12-20 23:28:38" })
    };
    let body = json!({
        "code": 200,
        "message": "OK",
        "paging": { "pageNum": 1, "pageSize": 99, "total": 9 },
        "data": [
            item(1, 1, 9), item(2, 1, 10), item(3, 1, 11), item(4, 1, 19), item(5, 1, 14),
            item(6, 3, 1), item(7, 2, 24),
            { "id": 8, "userType": 1, "contentType": 2, "content": null,
              "answerContent": "<p>answer</p>" },
            { "id": 9, "userType": 1, "contentType": 14, "content": { "title": "card" } },
        ],
    });
    Mock::given(method("GET"))
        .and(path("/api/v1/sessions/1/logs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    let messages = adapter(&server).list_messages(&ctx(), "1").await.unwrap();

    let types: Vec<ContentType> = messages.iter().map(|m| m.content_type).collect();
    assert_eq!(
        types,
        [
            ContentType::Audio,
            ContentType::Link,
            ContentType::Image,
            ContentType::Video,
            ContentType::Other,
            ContentType::Text,
            ContentType::Other,
            ContentType::Html,
            ContentType::Other,
        ]
    );
    assert_eq!(
        messages[5].role,
        Role::Agent,
        "userType 3 is not documented"
    );
    assert_eq!(messages[6].role, Role::Customer);
    assert_eq!(messages[7].content, "<p>answer</p>");
    assert_eq!(messages[7].sent_at, None);
    assert_eq!(messages[8].content, r#"{"title":"card"}"#);
}

#[tokio::test]
async fn list_messages_reports_not_found_when_the_vendor_does_not_know_the_conversation() {
    let err = messages_error(ResponseTemplate::new(404)).await;
    assert!(matches!(err, VendorError::NotFound), "{err:?}");
    // The same answer as an envelope code on HTTP 200.
    let err = messages_error(ResponseTemplate::new(200).set_body_json(json!({
        "code": 404, "message": "session not found", "visible": false
    })))
    .await;
    assert!(matches!(err, VendorError::NotFound), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_not_found_without_a_call_when_the_id_is_not_a_number() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;

    for native_id in ["abc", "1/../2", "", "12 3", "+7", "007", " 7"] {
        let err = adapter(&server)
            .list_messages(&ctx(), native_id)
            .await
            .unwrap_err();
        assert!(matches!(err, VendorError::NotFound), "{native_id}: {err:?}");
    }
}

#[tokio::test]
async fn list_conversations_reports_unauthorized_when_the_vendor_refuses_the_sign() {
    let err = list_error(ResponseTemplate::new(401).set_body_json(json!({
        "code": 401, "message": "sign invalid"
    })))
    .await;
    assert!(matches!(err, VendorError::Unauthorized), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_unauthorized_when_the_vendor_refuses_the_sign() {
    let err = messages_error(ResponseTemplate::new(401)).await;
    assert!(matches!(err, VendorError::Unauthorized), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_rate_limiting_with_the_vendors_retry_after() {
    let err = list_error(ResponseTemplate::new(429).insert_header("Retry-After", "7")).await;
    assert!(
        matches!(err, VendorError::RateLimited { retry_after: Some(wait) } if wait == Duration::from_secs(7)),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_messages_reports_rate_limiting_with_the_vendors_retry_after() {
    let err = messages_error(ResponseTemplate::new(429).insert_header("Retry-After", "3")).await;
    assert!(
        matches!(err, VendorError::RateLimited { retry_after: Some(wait) } if wait == Duration::from_secs(3)),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_conversations_reports_the_status_of_a_server_error() {
    let err = list_error(ResponseTemplate::new(503).set_body_string("busy")).await;
    assert!(matches!(err, VendorError::Status(503)), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_the_status_of_a_server_error() {
    let err = messages_error(ResponseTemplate::new(500)).await;
    assert!(matches!(err, VendorError::Status(500)), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_a_business_code_as_rejected() {
    let err = list_error(ResponseTemplate::new(200).set_body_json(json!({
        "code": 1001, "message": "robotId does not exist", "visible": false, "data": null
    })))
    .await;
    assert!(
        matches!(&err, VendorError::Rejected { code } if code == "1001"),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_messages_reports_a_business_code_as_rejected() {
    let err = messages_error(ResponseTemplate::new(200).set_body_json(json!({
        "succeed": false, "code": 500, "bizCode": "999999", "message": "error"
    })))
    .await;
    assert!(
        matches!(&err, VendorError::Rejected { code } if code == "500"),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_conversations_reports_a_decode_error_when_the_body_is_not_the_envelope() {
    for body in [
        "<html>gateway</html>",
        r#"{"message":"OK","data":[]}"#,
        r#"{"code":200,"data":{"id":1}}"#,
        r#"{"code":200,"data":[{"robotId":83}]}"#,
    ] {
        let err = list_error(ResponseTemplate::new(200).set_body_string(body)).await;
        assert!(matches!(err, VendorError::Decode(_)), "{body}: {err:?}");
    }
}

#[tokio::test]
async fn list_messages_reports_a_decode_error_when_the_body_is_not_the_envelope() {
    let err = messages_error(ResponseTemplate::new(200).set_body_string("not json")).await;
    assert!(matches!(err, VendorError::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn list_conversations_reports_a_timeout_when_the_vendor_is_too_slow() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/sessions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(SESSIONS, "application/json")
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter_with(
        &server.uri(),
        Duration::from_millis(200),
        SignAlgorithm::Sha1,
    );

    let err = adapter
        .list_conversations(&ctx(), &window(None), None)
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Timeout), "{err:?}");
    assert_secret_free(&err);
}

#[tokio::test]
async fn list_messages_reports_a_timeout_when_the_vendor_is_too_slow() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/sessions/720937747/logs"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(SESSION_LOGS, "application/json")
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter_with(
        &server.uri(),
        Duration::from_millis(200),
        SignAlgorithm::Sha1,
    );

    let err = adapter
        .list_messages(&ctx(), "720937747")
        .await
        .unwrap_err();

    assert!(matches!(err, VendorError::Timeout), "{err:?}");
    assert_secret_free(&err);
}

#[test]
fn a_vendor_page_size_near_the_integer_limit_ends_the_listing_instead_of_overflowing() {
    let paging = super::model::Paging {
        page_size: Some(i64::MAX),
        total: Some(i64::MAX),
    };

    assert!(!paging.has_more(3, 100, 100));
    assert!(!paging.has_more(u32::MAX, 100, usize::MAX));
}

#[test]
fn an_envelope_is_read_for_its_code_even_when_its_data_is_not_a_list() {
    use bytes::Bytes;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    use super::client::read_page;
    use crate::vendors::http::UpstreamResponse;

    let read = |body: &str| {
        read_page::<super::model::Session>(UpstreamResponse::new(
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from(body.to_owned()),
        ))
    };

    assert!(matches!(
        read(r#"{"code": 404, "data": "gone"}"#),
        Err(VendorError::NotFound)
    ));
    assert!(
        matches!(read(r#"{"code": 4001, "data": {}}"#), Err(VendorError::Rejected { code }) if code == "4001")
    );
    assert!(matches!(
        read(r#"{"code": 200, "data": {"id": 1}}"#),
        Err(VendorError::Decode(reason)) if reason == "`data` is not a list"
    ));
    assert!(matches!(
        read(r#"{"data": []}"#),
        Err(VendorError::Decode(_))
    ));
    assert!(matches!(
        read(r#"{"code": 200, "data": [{"id": "x"}]}"#),
        Err(VendorError::Decode(reason)) if reason.starts_with("list item: ")
    ));
    let body = b"{\"code\": 200, \"data\": [], \"x\": \"\xff\"}";
    assert!(matches!(
        read_page::<super::model::Session>(UpstreamResponse::new(
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from_static(body),
        )),
        Err(VendorError::Decode(_))
    ));
    let page = read(r#"{"code": 200, "data": null, "paging": {"total": 0}}"#).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.paging.total, Some(0));
}
