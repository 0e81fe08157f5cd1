//! `GET /sources`: what is configured and how it has been doing, never a secret.

use conversation_gateway::sandbox::{Faults, SimVendor};

use crate::helpers::TestApp;

#[tokio::test]
async fn list_sources_shows_every_source_with_health_and_no_secret() {
    // Arrange
    let app = TestApp::spawn().await;
    app.sandbox.set_faults(
        SimVendor::Gptbots,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let (status, _) = app.get_json("/conversations?source=sales,assistant").await;
    assert_eq!(status, 200);

    // Act
    let response = app.get("/sources").await;
    let text = response.text().await.unwrap();

    // Assert
    let credentials = app.sandbox.credentials();
    for secret in [
        &credentials.megaview_app_key,
        &credentials.megaview_app_secret,
        &credentials.gptbots_api_key,
        &credentials.udesk_api_token,
        &credentials.jijyun_api_key,
    ] {
        assert!(!text.contains(secret.as_str()), "/sources shows a secret");
    }
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sources = body["data"].as_array().unwrap();
    let names: Vec<&str> = sources
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sales", "assistant", "helpdesk", "inbox"]);
    let by_name = |name: &str| sources.iter().find(|s| s["name"] == name).unwrap();
    assert_eq!(by_name("sales")["vendor"], "megaview");
    assert_eq!(by_name("sales")["health"]["state"], "ok");
    assert_eq!(by_name("assistant")["health"]["state"], "failing");
    assert_eq!(
        by_name("assistant")["health"]["last_error_code"],
        "UPSTREAM_ERROR"
    );
    assert_eq!(by_name("helpdesk")["health"]["state"], "unknown");
    assert!(
        by_name("inbox")["rate_limit"]["per_second"]
            .as_u64()
            .unwrap()
            > 0
    );
}
