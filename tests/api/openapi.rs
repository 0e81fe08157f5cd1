//! The committed OpenAPI document matches the code, is valid, and is what the server serves.

use std::process::Command;

use crate::helpers::TestApp;

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
