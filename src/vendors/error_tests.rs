//! One table of vendor failures run against every adapter: each vendor's HTTP errors come
//! out as the same `VendorError`, whatever else its wire format does.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{
    ConversationQuery, GptbotsSettings, JijyunSettings, MegaviewSettings, UdeskSettings,
    VendorAdapter, VendorError, VendorSettings, adapter_for, testing,
};

/// How long a source waits for its vendor here; the slow case answers well after it.
const SOURCE_TIMEOUT: Duration = Duration::from_millis(300);

/// Every vendor's settings, with made-up credentials.
fn every_vendor() -> [VendorSettings; 4] {
    [
        VendorSettings::Megaview(MegaviewSettings {
            app_key: SecretString::from("mv-app-key"),
            app_secret: SecretString::from("mv-app-secret"),
            transcript_hosts: Vec::new(),
        }),
        VendorSettings::Gptbots(GptbotsSettings {
            api_key: SecretString::from("gb-api-key"),
            conversation_type: "ALL".to_owned(),
        }),
        VendorSettings::Udesk(UdeskSettings {
            email: "admin@example.com".to_owned(),
            api_token: SecretString::from("udesk-token"),
            robot_id: 7,
            sign_algorithm: Default::default(),
        }),
        VendorSettings::Jijyun(JijyunSettings {
            api_key: SecretString::from("jj-api-key"),
        }),
    ]
}

/// An adapter of `vendor` at `server`, making one attempt per call.
fn adapter(server: &MockServer, vendor: VendorSettings) -> Arc<dyn VendorAdapter> {
    let kind = vendor.kind().as_str();
    let source = testing::source(
        kind,
        &format!("{}/{kind}", server.uri()),
        SOURCE_TIMEOUT,
        vendor,
    );
    adapter_for(&source, testing::upstream(&source))
}

/// A vendor at `answer` for every call but Megaview's token call, which succeeds (its
/// failures are the token's own tests).
async fn vendor_answering(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/megaview/openapi/auth/v1/app_access_token/internal"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 0,
            "msg": "success",
            "data": { "app_access_token": "t-conformance", "expire": 7200 },
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

/// A list call of `adapter` (Jijyun lists one customer's records).
async fn list(adapter: &Arc<dyn VendorAdapter>) -> Result<(), VendorError> {
    let until = chrono::Utc::now();
    let query = ConversationQuery {
        since: until - chrono::Duration::days(1),
        until,
        customer_id: (adapter.vendor() == crate::domain::VendorKind::Jijyun)
            .then(|| "c0ffee".to_owned()),
        agent_id: None,
    };
    adapter
        .list_conversations(&testing::ctx(), &query, None)
        .await
        .map(|_| ())
}

/// A messages call of `adapter` for an id every vendor's format accepts.
async fn messages(adapter: &Arc<dyn VendorAdapter>) -> Result<(), VendorError> {
    let id = if adapter.vendor() == crate::domain::VendorKind::Jijyun {
        "c0ffee:42"
    } else {
        "42"
    };
    adapter.list_messages(&testing::ctx(), id).await.map(|_| ())
}

/// Which adapter call meets the failure.
#[derive(Clone, Copy)]
enum Call {
    List,
    Messages,
}

/// Runs `call` against every vendor answering `answer` and checks the error with `expect`.
async fn every_vendor_reports(
    answer: ResponseTemplate,
    call: Call,
    expect: impl Fn(&VendorError) -> bool,
    what: &str,
) {
    for vendor in every_vendor() {
        let kind = vendor.kind();
        let server = vendor_answering(answer.clone()).await;
        let adapter = adapter(&server, vendor);
        let outcome = match call {
            Call::List => list(&adapter).await,
            Call::Messages => messages(&adapter).await,
        };
        match outcome {
            Err(err) if expect(&err) => {}
            other => panic!("{}: expected {what}, got {other:?}", kind.as_str()),
        }
    }
}

#[tokio::test]
async fn every_vendor_reports_a_refused_credential_as_unauthorized() {
    every_vendor_reports(
        ResponseTemplate::new(401),
        Call::List,
        |err| matches!(err, VendorError::Unauthorized),
        "Unauthorized",
    )
    .await;
}

#[tokio::test]
async fn every_vendor_reports_an_unknown_conversation_as_not_found() {
    every_vendor_reports(
        ResponseTemplate::new(404),
        Call::Messages,
        |err| matches!(err, VendorError::NotFound),
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn every_vendor_reports_a_429_as_rate_limited_with_its_retry_after() {
    every_vendor_reports(
        ResponseTemplate::new(429).insert_header("Retry-After", "7"),
        Call::List,
        |err| {
            matches!(err, VendorError::RateLimited { retry_after } if *retry_after == Some(Duration::from_secs(7)))
        },
        "RateLimited after 7 s",
    )
    .await;
}

#[tokio::test]
async fn every_vendor_reports_a_server_error_with_its_status() {
    every_vendor_reports(
        ResponseTemplate::new(503),
        Call::List,
        |err| matches!(err, VendorError::Status(503)),
        "Status(503)",
    )
    .await;
}

#[tokio::test]
async fn every_vendor_reports_a_malformed_answer_as_a_decode_error() {
    every_vendor_reports(
        ResponseTemplate::new(200)
            .set_body_raw(b"{\"code\": 0, \"data\": [".to_vec(), "application/json"),
        Call::List,
        |err| matches!(err, VendorError::Decode(_)),
        "Decode",
    )
    .await;
}

#[tokio::test]
async fn every_vendor_reports_an_answer_past_the_source_timeout_as_a_timeout() {
    every_vendor_reports(
        ResponseTemplate::new(200)
            .set_body_json(json!({}))
            .set_delay(SOURCE_TIMEOUT * 5),
        Call::List,
        |err| matches!(err, VendorError::Timeout),
        "Timeout",
    )
    .await;
}
