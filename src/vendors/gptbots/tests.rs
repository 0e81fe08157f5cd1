//! GPTBots adapter against a wiremock vendor: documented examples, paging, error codes.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::GptbotsAdapter;
use crate::domain::{ContentType, Role, VendorKind};
use crate::vendors::resilience::ResiliencePolicy;
use crate::vendors::testing::{self, ctx};
use crate::vendors::{ConversationQuery, VendorAdapter, VendorError};
use crate::vendors::{GptbotsSettings, VendorSettings};

const API_KEY: &str = "app-secret-key-7f3a9c";
const LIST_PATH: &str = "/gptbots/v1/bot/conversation/page";
const MESSAGES_PATH: &str = "/gptbots/v2/messages";
const CONVERSATIONS: &str = include_str!("../../../tests/api/fixtures/gptbots/conversations.json");
const MESSAGES: &str = include_str!("../../../tests/api/fixtures/gptbots/messages.json");

/// An adapter whose base URL carries a path prefix, as behind a shared proxy.
fn adapter(server: &MockServer, timeout: Duration) -> GptbotsAdapter {
    adapter_at(&server.uri(), timeout)
}

fn adapter_at(origin: &str, timeout: Duration) -> GptbotsAdapter {
    let settings = GptbotsSettings {
        api_key: SecretString::from(API_KEY),
        conversation_type: "ALL".to_owned(),
    };
    let source = testing::source(
        "assistant",
        &format!("{origin}/gptbots"),
        timeout,
        VendorSettings::Gptbots(settings.clone()),
    );
    GptbotsAdapter::new(&source, settings, testing::upstream(&source))
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn query() -> ConversationQuery {
    ConversationQuery {
        since: utc("2023-08-14T00:00:00Z"),
        until: utc("2023-11-13T00:00:00Z"),
        customer_id: None,
        agent_id: None,
    }
}

fn json_body(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn conversation_rows(range: std::ops::Range<usize>) -> Value {
    let list: Vec<Value> = range
        .map(|n| {
            json!({
                "conversation_id": format!("c{n}"),
                "user_id": "u",
                "recent_chat_time": 1_694_572_952_383_i64 - n as i64,
                "subject": "hi",
                "conversation_type": "EMBED",
                "message_count": 1,
                "cost_credit": 0.0,
                "bot_id": "b"
            })
        })
        .collect();
    json!({ "list": list, "total": list.len() })
}

fn message_rows(range: std::ops::Range<usize>) -> Vec<Value> {
    range
        .map(|n| {
            json!({
                "message_id": format!("m{n}"),
                "parent_message_id": "",
                "create_time": 1_683_871_849_000_i64 + n as i64,
                "role": if n % 2 == 0 { "user" } else { "assistant" },
                "content": [{ "branch_content": [{ "type": "text", "text": format!("text {n}") }] }]
            })
        })
        .collect()
}

/// The error `list_conversations` gives when the vendor answers with `response`; also checks
/// that the key never shows in what reaches clients or logs.
async fn list_error(response: ResponseTemplate) -> VendorError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server, Duration::from_secs(5))
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err();
    assert_no_secret(&err);
    err
}

fn assert_no_secret(err: &VendorError) {
    let shown = format!("{err} {err:?} {}", err.detail().unwrap_or(""));
    assert!(!shown.contains(API_KEY), "{shown}");
}

#[tokio::test]
async fn list_conversations_maps_the_documented_example() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .and(query_param("conversation_type", "ALL"))
        .and(query_param("start_time", "1691971200000"))
        .and(query_param("end_time", "1699833599999"))
        .and(query_param("page", "1"))
        .and(query_param("page_size", "100"))
        .and(query_param_is_missing("user_id"))
        .respond_with(json_body(CONVERSATIONS))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let batch = adapter(&server, Duration::from_secs(5))
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap();

    // Assert
    assert_eq!(batch.next_cursor, None);
    assert_eq!(batch.items.len(), 2);
    let first = &batch.items[0];
    assert_eq!(first.id.to_string(), "assistant:AaACmo05Yrqb6bOSTbsg");
    assert_eq!(first.vendor, VendorKind::Gptbots);
    assert_eq!(first.title.as_deref(), Some("2+3=?"));
    assert_eq!(first.channel.as_deref(), Some("api"));
    assert_eq!(first.started_at, None);
    assert_eq!(first.ended_at, None);
    assert_eq!(first.last_message_at, Some(utc("2023-09-13T02:42:32.383Z")));
    assert_eq!(first.message_count, Some(2));
    assert_eq!(first.customer_id.as_deref(), Some("3"));
    assert_eq!(first.agent_id, None);
    assert_eq!(first.bot_id.as_deref(), Some("64b902a84f1ff25d1c60c10b"));
    assert_eq!(first.vendor_data.to_value()["cost_credit"], json!(0.01));
    let second = &batch.items[1];
    assert_eq!(second.id.native(), "64ec1508c9c1ed5605e6ff28");
    assert_eq!(
        second.last_message_at,
        Some(utc("2023-08-28T03:54:22.160Z"))
    );
    assert_eq!(second.message_count, Some(20));
    assert_eq!(second.customer_id.as_deref(), Some("33"));
}

#[tokio::test]
async fn list_conversations_sends_the_customer_filter_as_user_id() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .and(query_param("user_id", "33"))
        .respond_with(json_body(r#"{"list": [], "total": 0}"#))
        .expect(1)
        .mount(&server)
        .await;
    let query = ConversationQuery {
        customer_id: Some("33".to_owned()),
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
async fn list_conversations_offers_the_next_page_only_after_a_full_page() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(conversation_rows(0..100)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(conversation_rows(100..103)))
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter(&server, Duration::from_secs(5));

    // Act
    let first = adapter
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap();
    let cursor = first.next_cursor.clone().unwrap();
    let second = adapter
        .list_conversations(&ctx(), &query(), Some(&cursor))
        .await
        .unwrap();

    // Assert
    assert_eq!(first.items.len(), 100);
    assert_eq!(cursor, "2");
    assert_eq!(second.items.len(), 3);
    assert_eq!(second.items[0].id.native(), "c100");
    assert_eq!(second.items[0].channel.as_deref(), Some("embed"));
    assert_eq!(second.next_cursor, None);
}

#[tokio::test]
async fn list_conversations_ends_when_a_later_page_is_beyond_the_data() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .and(query_param("page", "2"))
        .respond_with(json_body(r#"{"code": 40005, "message": "no more data"}"#))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let batch = adapter(&server, Duration::from_secs(5))
        .list_conversations(&ctx(), &query(), Some("2"))
        .await
        .unwrap();

    // Assert
    assert!(batch.items.is_empty());
    assert_eq!(batch.next_cursor, None);
}

#[tokio::test]
async fn list_conversations_uses_the_anonymous_id_when_the_user_id_is_empty() {
    // Arrange
    let server = MockServer::start().await;
    let body = json!({
        "list": [{
            "conversation_id": "66e1f0c2a1b2c3d4e5f60718",
            "user_id": "",
            "anonymous_id": "anon-42",
            "recent_chat_time": 1_694_572_952_383_i64,
            "subject": "",
            "conversation_type": "WHATSAPP_META",
            "message_count": "4",
            "bot_id": "64b902a84f1ff25d1c60c10b"
        }],
        "total": "1"
    });
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
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
    let item = &batch.items[0];
    assert_eq!(item.customer_id.as_deref(), Some("anon-42"));
    assert_eq!(item.title, None);
    assert_eq!(item.channel.as_deref(), Some("whatsapp_meta"));
    assert_eq!(item.message_count, Some(4));
}

#[tokio::test]
async fn list_conversations_refuses_a_cursor_it_did_not_issue() {
    let server = MockServer::start().await;
    let adapter = adapter(&server, Duration::from_secs(5));
    for cursor in ["", "0", "1", "two", "-3"] {
        let err = adapter
            .list_conversations(&ctx(), &query(), Some(cursor))
            .await
            .unwrap_err();
        assert!(matches!(err, VendorError::Decode(_)), "{cursor:?}: {err:?}");
    }
}

#[tokio::test]
async fn unsupported_names_the_agent_filter_and_accepts_everything_else() {
    let server = MockServer::start().await;
    let adapter = adapter(&server, Duration::from_secs(5));
    let with_agent = ConversationQuery {
        agent_id: Some("7".to_owned()),
        ..query()
    };
    let with_customer = ConversationQuery {
        customer_id: Some("3".to_owned()),
        ..query()
    };
    assert!(
        adapter
            .unsupported(&with_agent)
            .unwrap()
            .contains("agent_id")
    );
    assert_eq!(adapter.unsupported(&with_customer), None);
    assert_eq!(adapter.unsupported(&query()), None);
}

#[tokio::test]
async fn list_messages_maps_the_documented_example() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .and(query_param("conversation_id", "AaACmo05Yrqb6bOSTbsg"))
        .and(query_param("page", "1"))
        .and(query_param("page_size", "100"))
        .respond_with(json_body(MESSAGES))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let messages = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), "AaACmo05Yrqb6bOSTbsg")
        .await
        .unwrap();

    // Assert
    assert_eq!(messages.len(), 2);
    let question = &messages[0];
    assert_eq!(question.id, "645dd86906931c4a9e0ffb1f");
    assert_eq!(question.role, Role::Customer);
    assert_eq!(question.content_type, ContentType::Text);
    assert_eq!(
        question.content,
        "I have uploaded 2 image files, please OCR and return 2 json records."
    );
    assert_eq!(question.sent_at, Some(utc("2023-05-12T06:10:49.906Z")));
    assert_eq!(question.sender_name, None);
    assert_eq!(
        question.vendor_data.to_value()["parent_message_id"],
        "545dd86906931c4a9e0ffb1f"
    );
    assert_eq!(question.vendor_data.to_value()["feedback"], "POSITIVE");
    let answer = &messages[1];
    assert_eq!(answer.id, "645dd86906931c4a9e0ffb20");
    assert_eq!(answer.role, Role::Bot);
    assert_eq!(
        answer.content,
        "{\"name\": \"TAXI1\"}\n{\"name\": \"TAXI2\"}"
    );
    assert_eq!(answer.sent_at, Some(utc("2023-05-12T06:10:52.123Z")));
}

#[tokio::test]
async fn list_messages_reads_every_page_until_the_total_is_reached() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({ "total": "200", "conversation_content": message_rows(0..100) }),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "total": "200", "conversation_content": message_rows(100..200) }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let messages = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), "c1")
        .await
        .unwrap();

    // Assert: two full pages and no third call, since the total is reached.
    assert_eq!(messages.len(), 200);
    assert_eq!(messages[0].id, "m0");
    assert_eq!(messages[0].role, Role::Customer);
    assert_eq!(messages[199].id, "m199");
    assert_eq!(messages[199].role, Role::Bot);
    assert_eq!(messages[150].content, "text 150");
}

#[tokio::test]
async fn list_messages_stops_with_a_clear_failure_when_the_vendor_never_stops_paging() {
    // Arrange: every page is full and the total keeps growing, as a broken vendor might.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "total": "999999999", "conversation_content": message_rows(0..100) }),
        ))
        .mount(&server)
        .await;

    // Act
    let err = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), "c1")
        .await
        .unwrap_err();

    // Assert: the shared bound of message pages, then a bad-response failure.
    assert_eq!(err.code().as_str(), "UPSTREAM_BAD_RESPONSE");
    let calls = server.received_requests().await.unwrap().len();
    assert_eq!(calls, crate::vendors::MAX_MESSAGE_PAGES as usize);
}

#[tokio::test]
async fn list_messages_stops_at_a_short_page_or_when_a_later_page_is_beyond_the_data() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(query_param("conversation_id", "short"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "conversation_content": message_rows(0..3) })),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(query_param("conversation_id", "full"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "conversation_content": message_rows(0..100) })),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(query_param("conversation_id", "full"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({ "code": 40005, "message": "page beyond data" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter(&server, Duration::from_secs(5));

    // Act
    let short = adapter.list_messages(&ctx(), "short").await.unwrap();
    let full = adapter.list_messages(&ctx(), "full").await.unwrap();

    // Assert
    assert_eq!(short.len(), 3);
    assert_eq!(full.len(), 100);
}

#[tokio::test]
async fn list_messages_falls_back_to_the_first_attachment_when_a_message_has_no_text() {
    // Arrange
    let server = MockServer::start().await;
    let attachment = |kind: &str, url: &str| json!({ "type": kind, kind: [{ "url": url, "format": "x", "name": "n", "size": 1 }] });
    let message = |id: &str, blocks: Vec<Value>| {
        json!({
            "message_id": id, "create_time": 1_683_871_849_906_i64, "role": "user",
            "content": [{ "branch_content": blocks }]
        })
    };
    let body = json!({
        "total": 7,
        "conversation_content": [
            message("image", vec![attachment("image", "https://cdn.example/a.png"), attachment("image", "https://cdn.example/b.png")]),
            message("audio", vec![attachment("audio", "https://cdn.example/a.mp3")]),
            message("video", vec![attachment("video", "https://cdn.example/a.mp4")]),
            message("document", vec![attachment("document", "https://cdn.example/a.pdf")]),
            message("file", vec![attachment("file", "https://cdn.example/a.zip")]),
            message("voice", vec![json!({ "type": "audio", "audio": [{ "url": "https://cdn.example/v.mp3", "transcript": "call me back" }] })]),
            message("empty", vec![]),
        ]
    });
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let messages = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), "c1")
        .await
        .unwrap();

    // Assert
    let seen: Vec<_> = messages
        .iter()
        .map(|m| (m.id.as_str(), m.content_type, m.content.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("image", ContentType::Image, "https://cdn.example/a.png"),
            ("audio", ContentType::Audio, "https://cdn.example/a.mp3"),
            ("video", ContentType::Video, "https://cdn.example/a.mp4"),
            ("document", ContentType::File, "https://cdn.example/a.pdf"),
            ("file", ContentType::File, "https://cdn.example/a.zip"),
            ("voice", ContentType::Text, "call me back"),
            ("empty", ContentType::Text, ""),
        ]
    );
}

#[tokio::test]
async fn list_messages_orders_by_create_time_and_keeps_each_message_once() {
    // Arrange
    let server = MockServer::start().await;
    let row = |id: &str, ms: i64, role: &str| {
        json!({ "message_id": id, "create_time": ms, "role": role,
                "content": [{ "branch_content": [{ "type": "text", "text": id }] }] })
    };
    let body = json!({
        "total": 4,
        "conversation_content": [
            row("answer", 2_000, "assistant"),
            row("question", 1_000, "user"),
            row("question", 1_000, "user"),
            row("handoff", 2_000, "human"),
        ]
    });
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let messages = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), "c1")
        .await
        .unwrap();

    // Assert
    let seen: Vec<_> = messages.iter().map(|m| (m.id.as_str(), m.role)).collect();
    assert_eq!(
        seen,
        [
            ("question", Role::Customer),
            ("answer", Role::Bot),
            ("handoff", Role::System),
        ]
    );
}

#[tokio::test]
async fn list_messages_reports_not_found_when_the_vendor_does_not_know_the_conversation() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(query_param("conversation_id", "nope"))
        .respond_with(json_body(
            r#"{"code": 40356, "message": "conversation does not exist"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(query_param("conversation_id", "gone"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter(&server, Duration::from_secs(5));

    // Act
    let by_code = adapter.list_messages(&ctx(), "nope").await.unwrap_err();
    let by_status = adapter.list_messages(&ctx(), "gone").await.unwrap_err();

    // Assert
    assert!(matches!(by_code, VendorError::NotFound), "{by_code:?}");
    assert!(matches!(by_status, VendorError::NotFound), "{by_status:?}");
}

#[tokio::test]
async fn list_messages_reports_a_refusal_when_the_first_page_is_beyond_the_data() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .respond_with(json_body(
            r#"{"code": 40005, "message": "page beyond data"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let err = adapter(&server, Duration::from_secs(5))
        .list_messages(&ctx(), "c1")
        .await
        .unwrap_err();

    // Assert
    assert!(
        matches!(&err, VendorError::Rejected { code } if code == "40005"),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_conversations_reports_unauthorized_when_the_key_is_refused() {
    let by_code = list_error(json_body(
        r#"{"code": 40127, "message": "developer authentication failed"}"#,
    ))
    .await;
    let by_status = list_error(ResponseTemplate::new(401)).await;
    assert!(matches!(by_code, VendorError::Unauthorized), "{by_code:?}");
    assert!(
        matches!(by_status, VendorError::Unauthorized),
        "{by_status:?}"
    );
}

#[tokio::test]
async fn list_conversations_reports_rate_limiting_with_the_vendors_retry_after() {
    let by_status = list_error(ResponseTemplate::new(429).insert_header("Retry-After", "7")).await;
    let by_code = list_error(
        ResponseTemplate::new(200)
            .set_body_json(json!({ "code": 429, "message": "too many requests" })),
    )
    .await;
    assert!(
        matches!(by_status, VendorError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(7)),
        "{by_status:?}"
    );
    // No `Retry-After`: the source is held for the default backoff, and says so.
    let backoff = ResiliencePolicy::default().throttle_backoff;
    assert!(
        matches!(by_code, VendorError::RateLimited { retry_after: Some(d) } if d == backoff),
        "{by_code:?}"
    );
}

#[tokio::test]
async fn list_conversations_reports_business_codes_as_refusals_whatever_the_http_status() {
    for (status, code) in [
        (200, 40000),
        (400, 40000),
        (200, 20059),
        (200, 40378),
        (200, 40379),
        (403, 20055),
    ] {
        let err = list_error(
            ResponseTemplate::new(status).set_body_json(json!({ "code": code, "message": "x" })),
        )
        .await;
        assert!(
            matches!(&err, VendorError::Rejected { code: got } if *got == code.to_string()),
            "HTTP {status} code {code}: {err:?}"
        );
    }
}

#[tokio::test]
async fn list_conversations_reports_the_status_when_the_vendor_fails() {
    let plain = list_error(ResponseTemplate::new(503)).await;
    let with_code = list_error(
        ResponseTemplate::new(500).set_body_json(json!({ "code": 50000, "message": "oops" })),
    )
    .await;
    let unknown_refusal = list_error(
        ResponseTemplate::new(200).set_body_json(json!({ "code": 41234, "message": "new" })),
    )
    .await;
    assert!(
        matches!(&unknown_refusal, VendorError::Rejected { code } if code == "41234"),
        "{unknown_refusal:?}"
    );
    assert!(matches!(plain, VendorError::Status(503)), "{plain:?}");
    assert!(
        matches!(with_code, VendorError::Status(500)),
        "{with_code:?}"
    );
}

#[tokio::test]
async fn list_conversations_reports_a_decode_error_when_the_body_is_malformed() {
    let not_json = list_error(json_body("<html>gateway</html>")).await;
    let wrong_shape = list_error(json_body(r#"{"list": [{"subject": "no id"}]}"#)).await;
    assert!(matches!(not_json, VendorError::Decode(_)), "{not_json:?}");
    assert!(
        matches!(wrong_shape, VendorError::Decode(_)),
        "{wrong_shape:?}"
    );
}

#[tokio::test]
async fn list_conversations_times_out_when_the_vendor_is_slow() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .respond_with(json_body(CONVERSATIONS).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;

    // Act
    let err = adapter(&server, Duration::from_millis(200))
        .list_conversations(&ctx(), &query(), None)
        .await
        .unwrap_err();

    // Assert
    assert!(matches!(err, VendorError::Timeout), "{err:?}");
}

#[tokio::test]
async fn list_messages_keeps_the_key_out_of_transport_errors() {
    // Arrange: a port nobody listens on any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let adapter = adapter_at(&origin, Duration::from_secs(5));

    // Act
    let err = adapter.list_messages(&ctx(), "c1").await.unwrap_err();

    // Assert
    assert!(matches!(err, VendorError::Transport(_)), "{err:?}");
    assert_no_secret(&err);
}

// ---- found by the conformance run ----

#[tokio::test]
async fn an_empty_window_lists_nothing_without_calling_the_vendor() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let query = ConversationQuery {
        until: query().since,
        ..query()
    };

    let batch = adapter(&server, Duration::from_secs(5))
        .list_conversations(&ctx(), &query, None)
        .await
        .unwrap();

    assert!(batch.items.is_empty() && batch.next_cursor.is_none());
}
