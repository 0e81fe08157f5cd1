//! `GET /sources`: what is configured and how it has been doing, never a secret.

use std::time::Duration;

use conversation_gateway::sandbox::{Faults, SimVendor};

use crate::helpers::{Setup, TestApp};

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

#[tokio::test]
async fn a_source_is_read_at_most_max_concurrent_reads_times_at_once() {
    // Arrange: `assistant` may be read once at once, and its vendor takes 300 ms a call.
    let app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| {
            for source in &mut config.sources {
                if source.name.as_str() == "assistant" {
                    source.max_concurrent_reads = 1;
                }
            }
        }),
        ..Setup::default()
    })
    .await;
    let latency = Duration::from_millis(300);
    app.sandbox.set_faults(
        SimVendor::Gptbots,
        Faults {
            latency,
            ..Faults::default()
        },
    );
    app.sandbox.reset_calls();
    // Two windows: the two requests cannot share a read.
    let until = app.anchor() + chrono::Duration::seconds(1);
    let url = |until: chrono::DateTime<chrono::Utc>| {
        format!(
            "/conversations?source=assistant&since={}&until={}",
            (until - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ"),
            until.format("%Y-%m-%dT%H:%M:%SZ")
        )
    };
    let gptbots_calls = |app: &TestApp| {
        app.sandbox
            .calls()
            .into_iter()
            .filter(|call| call.vendor == SimVendor::Gptbots)
            .map(|call| call.at)
            .collect::<Vec<_>>()
    };

    // Act: the second request is sent while the first one's read is at the vendor.
    let first_url = url(until);
    let first = app.get_json(&first_url);
    let second = async {
        while gptbots_calls(&app).is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        app.get_json(&url(until + chrono::Duration::seconds(1)))
            .await
    };
    let ((first_status, first), (second_status, second)) = tokio::join!(first, second);

    // Assert: both answered, and the vendor never had two of the source's calls at once.
    for (status, body) in [(first_status, &first), (second_status, &second)] {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["sources"][0]["status"], "ok", "{body}");
    }
    let arrivals = gptbots_calls(&app);
    assert!(arrivals.len() >= 2, "{arrivals:?}");
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] >= latency,
            "calls overlapped: {arrivals:?}"
        );
    }
    let reads = &app.source("assistant").await["reads"];
    assert_eq!(reads["max"], 1, "{reads}");
    assert_eq!(reads["max_items"], 10_000, "{reads}");
    assert_eq!(reads["in_progress"], 0, "{reads}");
    assert!(reads["waited"].as_u64().unwrap() >= 1, "{reads}");
    assert_eq!(reads["refused"], 0, "{reads}");
    assert_eq!(app.source("sales").await["reads"]["max"], 16);
}
