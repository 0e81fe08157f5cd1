//! Jijyun adapter against a wiremock vendor: the documented example, the request body,
//! status and `Code` failures, and the `apiKey` kept out of every error.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::JijyunAdapter;
use super::model::RecordRequest;
use crate::domain::{ContentType, Role, VendorKind};
use crate::vendors::resilience::ResiliencePolicy;
use crate::vendors::testing::{self, ctx};
use crate::vendors::{ConversationQuery, VendorAdapter, VendorError};
use crate::vendors::{JijyunSettings, VendorSettings};

const API_KEY: &str = "KP6GeQhX4u5oWS4eey5481io1745205533";
const RECORD_PATH: &str = "/jijyun/v1/openapi/chat/record";
const CUSTOMER: &str = "57a286a608894aa7b26a9e589f4d3333";
const CHAT: &str = "5c82cf0c-8db0-4bcd-94de-dece5c011f8b-258262";
const RECORD: &str = include_str!("../../../tests/api/fixtures/jijyun/record.json");
const RECORD_REQUEST: &str = include_str!("../../../tests/api/fixtures/jijyun/record_request.json");

/// An adapter whose base URL carries a path prefix, as behind a shared proxy.
fn adapter(server: &MockServer, timeout: Duration) -> JijyunAdapter {
    adapter_at(&server.uri(), timeout)
}

fn adapter_at(origin: &str, timeout: Duration) -> JijyunAdapter {
    let settings = JijyunSettings {
        api_key: SecretString::from(API_KEY),
    };
    let source = testing::source(
        "inbox",
        &format!("{origin}/jijyun"),
        timeout,
        VendorSettings::Jijyun(settings.clone()),
    );
    JijyunAdapter::new(&source, settings, testing::upstream(&source))
}

/// The window of the last 2.5 days, in whole seconds.
fn query() -> ConversationQuery {
    let until = Utc::now().trunc_subsecs(0);
    ConversationQuery {
        since: until - chrono::Duration::hours(60),
        until,
        customer_id: Some(CUSTOMER.to_owned()),
        agent_id: None,
    }
}

fn beijing(instant: DateTime<Utc>) -> String {
    let zone = FixedOffset::east_opt(8 * 3600).unwrap();
    instant
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn json_body(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn messages_request() -> Value {
    json!({
        "customer_id": CUSTOMER,
        "days": "365",
        "start_time": "",
        "end_time": "",
        "chat_source": [],
        "chat_robot": [],
        "seat_member": []
    })
}

/// The error `list_messages` gives when the vendor answers with `response`; also checks
/// that the key never shows in what reaches clients or logs.
async fn record_error(response: ResponseTemplate) -> VendorError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), &format!("{CUSTOMER}:{CHAT}"))
        .await
        .unwrap_err();
    assert_no_secret(&err);
    err
}

fn assert_no_secret(err: &VendorError) {
    let shown = format!("{err} {err:?} {}", err.detail().unwrap_or(""));
    assert!(!shown.contains(API_KEY), "{shown}");
}

#[test]
fn record_request_has_exactly_the_documented_keys() {
    let request = RecordRequest {
        customer_id: CUSTOMER.to_owned(),
        days: "30".to_owned(),
        start_time: String::new(),
        end_time: String::new(),
        chat_source: Vec::new(),
        chat_robot: Vec::new(),
        seat_member: Vec::new(),
    };
    let documented: Value = serde_json::from_str(RECORD_REQUEST).unwrap();
    assert_eq!(serde_json::to_value(&request).unwrap(), documented);
}

#[tokio::test]
async fn list_conversations_maps_the_documented_example() {
    // Arrange
    let server = MockServer::start().await;
    let query = query();
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .and(query_param("apiKey", API_KEY))
        .and(body_json(json!({
            "customer_id": CUSTOMER,
            "days": "3",
            "start_time": beijing(query.since),
            "end_time": beijing(query.until),
            "chat_source": [],
            "chat_robot": [],
            "seat_member": []
        })))
        .respond_with(json_body(RECORD))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let batch = adapter(&server, Duration::from_secs(5))
        .list_conversations(&ctx(), &query, None)
        .await
        .unwrap();

    // Assert
    assert_eq!(batch.next_cursor, None);
    assert_eq!(batch.items.len(), 1);
    let chat = &batch.items[0];
    assert_eq!(chat.id.to_string(), format!("inbox:{CUSTOMER}:{CHAT}"));
    assert_eq!(chat.vendor, VendorKind::Jijyun);
    assert_eq!(chat.title.as_deref(), Some("你好"));
    assert_eq!(chat.channel.as_deref(), Some("human_handoff"));
    assert_eq!(chat.message_count, Some(7));
    assert_eq!(chat.customer_id.as_deref(), Some(CUSTOMER));
    assert_eq!(chat.agent_id, None);
    assert_eq!(chat.bot_id, None);
    assert_eq!(chat.started_at, None);
    assert_eq!(chat.ended_at, None);
    assert_eq!(chat.last_message_at, None);
    assert_eq!(chat.vendor_data.to_value()["chat_id"], CHAT);
    assert_eq!(
        chat.vendor_data.to_value()["messages"][1]["content"],
        "人工回复: 1777"
    );
}

#[tokio::test]
async fn list_conversations_sends_the_agent_filter_as_a_seat_member() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .and(body_partial_json(json!({ "seat_member": ["seat-9"] })))
        .respond_with(json_body(r#"{"Code": 2000, "Data": [], "Msg": "成功"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let query = ConversationQuery {
        agent_id: Some("seat-9".to_owned()),
        ..query()
    };

    // Act
    let batch = adapter(&server, Duration::from_secs(5))
        .list_conversations(&ctx(), &query, None)
        .await
        .unwrap();

    // Assert
    assert!(batch.items.is_empty());
    assert_eq!(batch.next_cursor, None);
}

#[tokio::test]
async fn list_conversations_labels_ai_only_chats_as_bot_and_titles_them_by_the_first_question() {
    // Arrange
    let server = MockServer::start().await;
    let long_question = "请问".repeat(50);
    let body = json!({
        "Code": "2000",
        "Data": [
            { "chat_id": "a-1", "messages": [
                { "content": "欢迎光临", "message_type": "AI对话", "sender_type": "客服" },
                { "content": format!("访客发送: {long_question}"), "message_type": "AI对话", "sender_type": "用户" },
                { "content": "好的", "message_type": "AI对话", "sender_type": "客服" }
            ]},
            { "chat_id": "a-2", "messages": [] }
        ],
        "Msg": "成功",
        "RequestId": "r"
    });
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let batch = adapter(&server, Duration::from_secs(5))
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap();

    // Assert
    let bot = &batch.items[0];
    assert_eq!(bot.channel.as_deref(), Some("bot"));
    assert_eq!(bot.message_count, Some(3));
    let title = bot.title.as_deref().unwrap();
    assert_eq!(title.chars().count(), 80);
    assert!(title.starts_with("请问请问"), "{title}");
    assert!(title.ends_with('…'), "{title}");
    let empty = &batch.items[1];
    assert_eq!(empty.id.native(), format!("{CUSTOMER}:a-2"));
    assert_eq!(empty.channel, None);
    assert_eq!(empty.title, None);
    assert_eq!(empty.message_count, Some(0));
}

#[tokio::test]
async fn list_conversations_never_calls_the_vendor_for_a_second_page() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body(RECORD))
        .expect(0)
        .mount(&server)
        .await;
    let batch = adapter(&server, Duration::from_secs(5))
        .list_conversations(&ctx(), &query(), Some("2"))
        .await
        .unwrap();
    assert!(batch.items.is_empty());
    assert_eq!(batch.next_cursor, None);
}

#[tokio::test]
async fn unsupported_skips_queries_without_a_customer() {
    let server = MockServer::start().await;
    let adapter = adapter(&server, Duration::from_secs(5));
    let without = ConversationQuery {
        customer_id: None,
        ..query()
    };
    let blank = ConversationQuery {
        customer_id: Some(String::new()),
        ..query()
    };
    let with_colon = ConversationQuery {
        customer_id: Some("a:b".to_owned()),
        ..query()
    };
    assert!(
        adapter
            .unsupported(&without)
            .unwrap()
            .contains("customer_id")
    );
    assert!(adapter.unsupported(&blank).unwrap().contains("customer_id"));
    assert!(adapter.unsupported(&with_colon).is_some());
    assert_eq!(adapter.unsupported(&query()), None);
}

#[tokio::test]
async fn list_messages_maps_the_documented_example() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .and(query_param("apiKey", API_KEY))
        .and(body_json(messages_request()))
        .respond_with(json_body(RECORD))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let messages = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), &format!("{CUSTOMER}:{CHAT}"))
        .await
        .unwrap();

    // Assert
    let seen: Vec<_> = messages
        .iter()
        .map(|m| (m.id.as_str(), m.role, m.content.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("0", Role::Customer, "你好"),
            ("1", Role::Agent, "1777"),
            ("2", Role::Customer, "777"),
            ("3", Role::Agent, "000"),
            ("4", Role::Customer, "456"),
            ("5", Role::Agent, "666"),
            ("6", Role::Customer, "123"),
        ]
    );
    assert!(messages.iter().all(|m| m.content_type == ContentType::Text));
    assert!(messages.iter().all(|m| m.sent_at.is_none()));
    assert_eq!(
        messages[2].vendor_data.to_value()["content"],
        "访客发送: 777"
    );
    assert_eq!(
        messages[2].vendor_data.to_value()["message_type"],
        "人工对话"
    );
}

#[tokio::test]
async fn list_messages_maps_ai_replies_to_the_bot_and_unknown_senders_to_the_system() {
    // Arrange
    let server = MockServer::start().await;
    let body = json!({
        "Code": 2000,
        "Data": [{ "chat_id": CHAT, "messages": [
            { "content": "在吗", "message_type": "AI对话", "sender_type": "用户" },
            { "content": "在的", "message_type": "AI对话", "sender_type": "客服" },
            { "content": "会话已结束", "message_type": "系统消息", "sender_type": "系统" }
        ]}]
    });
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let messages = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), &format!("{CUSTOMER}:{CHAT}"))
        .await
        .unwrap();

    // Assert
    let roles: Vec<_> = messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Customer, Role::Bot, Role::System]);
}

#[tokio::test]
async fn list_messages_reads_only_the_asked_chat_messages() {
    // Another chat of the customer carries messages that are not objects: the route only
    // reads the messages of the chat it was asked for, so that chat does not fail it.
    let server = MockServer::start().await;
    let body = json!({
        "Code": 2000,
        "Data": [
            { "chat_id": "other", "messages": [7, "not a message"] },
            { "chat_id": CHAT, "messages": [
                { "content": "在吗", "message_type": "AI对话", "sender_type": "用户" }
            ]},
            { "chat_id": "broken", "messages": [{ "content": 7 }] }
        ]
    });
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(2)
        .mount(&server)
        .await;
    let adapter = adapter(&server, Duration::from_secs(5));

    let messages = adapter
        .list_messages(&ctx(), &format!("{CUSTOMER}:{CHAT}"))
        .await
        .unwrap();
    let broken = adapter
        .list_messages(&ctx(), &format!("{CUSTOMER}:broken"))
        .await
        .unwrap_err();

    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content, "在吗");
    assert_eq!(messages[0].vendor_data.to_value()["content"], "在吗");
    assert!(matches!(broken, VendorError::Decode(_)), "{broken:?}");
}

#[tokio::test]
async fn list_messages_reports_not_found_when_the_vendor_does_not_know_the_conversation() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .respond_with(json_body(RECORD))
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter(&server, Duration::from_secs(5));

    // Act
    let unknown_chat = adapter
        .list_messages(&ctx(), &format!("{CUSTOMER}:other-chat"))
        .await
        .unwrap_err();
    let not_ours = adapter.list_messages(&ctx(), CHAT).await.unwrap_err();

    // Assert: the second id has no customer part and never reaches the vendor.
    assert!(
        matches!(unknown_chat, VendorError::NotFound),
        "{unknown_chat:?}"
    );
    assert!(matches!(not_ours, VendorError::NotFound), "{not_ours:?}");
}

#[tokio::test]
async fn list_messages_reports_not_found_when_the_vendor_answers_404() {
    let err = record_error(ResponseTemplate::new(404)).await;
    assert!(matches!(err, VendorError::NotFound), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_unauthorized_when_the_key_is_refused() {
    let err = record_error(ResponseTemplate::new(401).set_body_string("Unauthorized")).await;
    assert!(matches!(err, VendorError::Unauthorized), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_a_refusal_when_the_balance_is_used_up() {
    let err = record_error(ResponseTemplate::new(402).set_body_string("Payment Required")).await;
    assert!(
        matches!(&err, VendorError::Rejected { code } if code == "402"),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_messages_reports_a_refusal_when_the_code_is_4000() {
    let err = record_error(json_body(
        r#"{"Code": 4000, "Data": "customer_id 不能为空", "Msg": "失败", "RequestId": "r"}"#,
    ))
    .await;
    assert!(
        matches!(&err, VendorError::Rejected { code } if code == "4000"),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_messages_reports_rate_limiting_with_the_vendors_retry_after() {
    let with_header = record_error(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "2")
            .set_body_string("Too Many Requests in one second"),
    )
    .await;
    let without =
        record_error(ResponseTemplate::new(429).set_body_string("Too Many Requests in one second"))
            .await;
    assert!(
        matches!(with_header, VendorError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(2)),
        "{with_header:?}"
    );
    // No `Retry-After`: the source is held for the default backoff, and says so.
    let backoff = ResiliencePolicy::default().throttle_backoff;
    assert!(
        matches!(without, VendorError::RateLimited { retry_after: Some(d) } if d == backoff),
        "{without:?}"
    );
}

#[tokio::test]
async fn list_messages_reports_the_status_when_the_vendor_fails() {
    let err = record_error(
        ResponseTemplate::new(502).set_body_json(json!({ "Code": 4000, "Msg": "upstream" })),
    )
    .await;
    assert!(matches!(err, VendorError::Status(502)), "{err:?}");
}

#[tokio::test]
async fn list_messages_reports_a_decode_error_when_the_body_is_malformed() {
    let not_json = record_error(json_body("<html>oops</html>")).await;
    let no_code = record_error(json_body(r#"{"Data": []}"#)).await;
    let bad_data = record_error(json_body(r#"{"Code": 2000, "Data": [{"messages": []}]}"#)).await;
    for err in [not_json, no_code, bad_data] {
        assert!(matches!(err, VendorError::Decode(_)), "{err:?}");
    }
}

#[tokio::test]
async fn list_messages_times_out_when_the_vendor_is_slow() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(RECORD_PATH))
        .respond_with(json_body(RECORD).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let err = adapter(&server, Duration::from_millis(200))
        .list_messages(&ctx(), &format!("{CUSTOMER}:{CHAT}"))
        .await
        .unwrap_err();

    // Assert
    assert!(matches!(err, VendorError::Timeout), "{err:?}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn list_conversations_keeps_the_api_key_out_of_transport_errors() {
    // Arrange: a port nobody listens on any more, so the request URL (key included) fails.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let adapter = adapter_at(&origin, Duration::from_secs(5));

    // Act
    let err = adapter
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err();

    // Assert
    assert!(matches!(err, VendorError::Transport(_)), "{err:?}");
    assert_no_secret(&err);
}

#[test]
fn days_back_rounds_up_to_whole_days_and_never_sends_zero() {
    let now: DateTime<Utc> = "2025-07-17T10:00:00Z".parse().unwrap();
    let days = |since: &str| super::days_back_to(since.parse().unwrap(), now);
    assert_eq!(days("2025-07-16T10:00:00Z"), 1);
    assert_eq!(days("2025-07-16T09:59:59Z"), 2);
    assert_eq!(days("2025-06-17T10:00:00Z"), 30);
    assert_eq!(days("2025-07-17T10:00:00Z"), 1);
    assert_eq!(days("2025-07-20T00:00:00Z"), 1);
}
