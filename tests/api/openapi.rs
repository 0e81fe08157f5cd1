//! The committed OpenAPI document matches the code, is valid, and is what the server serves.

use std::process::Command;

use crate::helpers::{TestApp, assert_problem, urlencode};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn committed_openapi_matches_the_code() {
    let generated = conversation_gateway::api::openapi()
        .to_pretty_json()
        .unwrap()
        + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
}

#[test]
fn committed_openapi_passes_an_independent_validator() {
    let validator = std::env::var("OPENAPI_SPEC_VALIDATOR")
        .expect("OPENAPI_SPEC_VALIDATOR is not set: run the suite with scripts/test.sh");
    let output = Command::new(validator).arg(COMMITTED).output().unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn served_openapi_is_the_generated_document_and_is_3_1() {
    let app = TestApp::spawn().await;
    let (status, served) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    let generated = serde_json::to_value(conversation_gateway::api::openapi()).unwrap();
    assert_eq!(served, generated);
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        served["openapi"]
    );
    for path in [
        "/conversations",
        "/conversations/{id}/messages",
        "/sources",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            served["paths"][path].is_object(),
            "{path} is not documented"
        );
    }
}

#[tokio::test]
async fn the_lengths_the_document_states_are_the_ones_the_gateway_enforces() {
    // Arrange: limits as the document states them, in characters; multi-byte characters,
    // so a limit counted in bytes would show.
    let app = TestApp::spawn().await;
    let (_, served) = app.get_json("/openapi.json").await;
    let schemas = &served["components"]["schemas"];
    let filter_max = schemas["FilterId"]["maxLength"].as_u64().unwrap() as usize;
    let id_pattern = schemas["ConversationId"]["pattern"].as_str().unwrap();
    let native_max = conversation_gateway::domain::MAX_NATIVE_ID_LEN;
    assert!(
        id_pattern.ends_with(&format!("{{1,{native_max}}}$")),
        "{id_pattern}"
    );
    let customer = |len: usize| urlencode(&"会".repeat(len));
    let messages = |len: usize| {
        format!(
            "/conversations/{}/messages",
            urlencode(&format!("helpdesk:{}", "会".repeat(len)))
        )
    };

    // Act
    let at_filter_max = app
        .get(&format!(
            "/conversations?customer_id={}",
            customer(filter_max)
        ))
        .await;
    let over_filter_max = app
        .get(&format!(
            "/conversations?customer_id={}",
            customer(filter_max + 1)
        ))
        .await;
    let at_native_max = app.get(&messages(native_max)).await;
    let over_native_max = app.get(&messages(native_max + 1)).await;

    // Assert: at the limit the value is taken (a customer or conversation nobody has),
    // one character over it is refused.
    assert_eq!(at_filter_max.status().as_u16(), 200);
    assert_problem(over_filter_max, 400, "INVALID_PARAMETER").await;
    assert_problem(at_native_max, 404, "CONVERSATION_NOT_FOUND").await;
    assert_problem(over_native_max, 400, "INVALID_CONVERSATION_ID").await;
}
