//! Hostile upstreams: where a transcript may be downloaded from, and how large vendor
//! answers may be, end to end through the gateway.

use conversation_gateway::config::VendorSettings;
use conversation_gateway::sandbox::SimVendor;
use serde_json::Value;

use crate::helpers::{Setup, TestApp, urlencode};

/// Megaview conversation ids of the simulators, newest first.
async fn megaview_ids(app: &TestApp) -> Vec<String> {
    let (items, _) = app
        .walk(&format!(
            "{}&source=sales&page_size=100",
            app.whole_history()
        ))
        .await;
    items
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_transcript_on_an_unlisted_loopback_host_is_refused_without_a_request() {
    // Arrange: the simulators' object store is loopback, and no longer listed.
    let app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| {
            for source in &mut config.sources {
                if let VendorSettings::Megaview(settings) = &mut source.vendor {
                    settings.transcript_hosts.clear();
                }
            }
        }),
        ..Setup::default()
    })
    .await;
    let ids = megaview_ids(&app).await;
    app.sandbox.reset_calls();

    // Act
    let mut refused = 0;
    for id in ids.iter().take(6) {
        let response = app
            .get(&format!("/conversations/{}/messages", urlencode(id)))
            .await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        if body["code"] == "UPSTREAM_NOT_READY" {
            continue;
        }
        // Assert: one generic problem, naming neither the address nor the port.
        assert_eq!(status, 502, "{id}: {body}");
        assert_eq!(body["code"], "UPSTREAM_FILE_UNAVAILABLE", "{body}");
        assert_eq!(
            body["sources"][0]["error"]["code"],
            "UPSTREAM_FILE_UNAVAILABLE"
        );
        let text = body.to_string();
        assert!(
            !text.contains("127.0.0.1") && !text.contains("/megaview/files"),
            "{text}"
        );
        refused += 1;
    }
    assert!(refused > 0, "no transcript was asked for");
    let downloads = app
        .sandbox
        .calls()
        .into_iter()
        .filter(|call| call.vendor == SimVendor::Megaview && call.endpoint == "asr_file")
        .count();
    assert_eq!(downloads, 0, "the unlisted object store was reached");
}

#[tokio::test]
async fn a_vendor_answer_over_max_vendor_body_bytes_fails_its_source_clearly() {
    // Arrange: a page of 100 GPTBots conversations is far larger than 1 KiB.
    let app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| config.server.max_vendor_body_bytes = 1024),
        ..Setup::default()
    })
    .await;

    // Act
    let (status, body) = app
        .get_json(&format!(
            "/conversations?{}&source=assistant",
            app.whole_history()
        ))
        .await;

    // Assert
    assert_eq!(status, 502, "{body}");
    let source = &body["sources"][0];
    assert_eq!(source["status"], "error", "{body}");
    assert_eq!(
        source["error"]["code"], "UPSTREAM_RESPONSE_TOO_LARGE",
        "{body}"
    );
    assert!(
        source["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1024 bytes"),
        "{body}"
    );
}

#[tokio::test]
async fn the_vendor_bytes_in_flight_are_given_back_after_every_request() {
    let app = TestApp::spawn().await;
    let budget = app.state.vendor_bytes.clone();

    let _ = app
        .walk(&format!("{}&page_size=100", app.whole_history()))
        .await;
    for id in megaview_ids(&app).await.iter().take(3) {
        let _ = app
            .get(&format!("/conversations/{}/messages", urlencode(id)))
            .await;
    }

    assert!(budget.peak() > 0, "no vendor answer was counted");
    assert!(budget.peak() <= budget.total());
    assert_eq!(budget.in_use(), 0);
}
