//! `GET /conversations` over the simulators: every vendor, ordering, paging, statuses.

use std::collections::{BTreeMap, BTreeSet};

use conversation_gateway::sandbox::SimVendor;
use serde_json::Value;

use crate::helpers::{TestApp, urlencode};

const SOURCES: [(SimVendor, &str); 4] = [
    (SimVendor::Megaview, "sales"),
    (SimVendor::Gptbots, "assistant"),
    (SimVendor::Udesk, "helpdesk"),
    (SimVendor::Jijyun, "inbox"),
];

fn statuses(body: &Value) -> BTreeMap<String, String> {
    body["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A customer id every simulated vendor knows (a CRM id synced across systems).
fn shared_customer(app: &TestApp) -> String {
    let mut common: Option<BTreeSet<String>> = None;
    for (vendor, _) in SOURCES {
        let ids: BTreeSet<String> = app
            .sandbox
            .records(vendor)
            .into_iter()
            .filter_map(|record| record.customer_id)
            .collect();
        common = Some(match common {
            None => ids,
            Some(common) => common.intersection(&ids).cloned().collect(),
        });
    }
    common
        .unwrap()
        .into_iter()
        .next()
        .expect("the simulators share a customer")
}

#[tokio::test]
async fn list_conversations_returns_items_from_every_vendor_when_jijyun_is_given_a_customer() {
    // Arrange
    let app = TestApp::spawn().await;
    let customer = shared_customer(&app);

    // Act
    let (items, last) = app
        .walk(&format!(
            "{}&customer_id={}&page_size=100",
            app.whole_history(),
            urlencode(&customer)
        ))
        .await;

    // Assert
    let statuses = statuses(&last);
    assert_eq!(statuses.len(), 4, "{last}");
    assert!(statuses.values().all(|s| s == "ok"), "{statuses:?}");
    let vendors: BTreeSet<&str> = items
        .iter()
        .map(|item| item["vendor"].as_str().unwrap())
        .collect();
    assert_eq!(
        vendors,
        BTreeSet::from(["gptbots", "jijyun", "megaview", "udesk"])
    );
    assert!(
        items
            .iter()
            .all(|item| item["customer_id"] == customer.as_str()),
        "filter leaked"
    );
}

#[tokio::test]
async fn list_conversations_skips_jijyun_with_a_reason_when_no_customer_is_given() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let (status, body) = app.get_json("/conversations").await;

    // Assert
    assert_eq!(status, 200, "{body}");
    let inbox = body["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "inbox")
        .unwrap();
    assert_eq!(inbox["status"], "skipped");
    assert!(
        inbox["error"]["message"]
            .as_str()
            .unwrap()
            .contains("customer_id"),
        "{inbox}"
    );
    for source in ["sales", "assistant", "helpdesk"] {
        assert_eq!(statuses(&body)[source], "ok", "{body}");
    }
    assert!(!body["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn walking_the_list_returns_every_conversation_once_in_order_at_any_page_size() {
    // Arrange
    let app = TestApp::spawn().await;
    let query = format!("{}&source=sales,assistant,helpdesk", app.whole_history());
    let mut expected = BTreeSet::new();
    for (vendor, source) in &SOURCES[..3] {
        for record in app.sandbox.records(*vendor) {
            expected.insert(format!("{source}:{}", record.native_id));
        }
    }

    // Act
    let mut walks = Vec::new();
    for page_size in [1, 7, 20, 100] {
        let (items, _) = app.walk(&format!("{query}&page_size={page_size}")).await;
        walks.push(
            items
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>(),
        );
    }

    // Assert
    let ids = &walks[0];
    assert_eq!(
        ids.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "not every conversation, once"
    );
    assert_eq!(ids.len(), expected.len(), "a conversation came twice");
    for other in &walks[1..] {
        assert_eq!(other, ids, "page size changed the walk");
    }
    let (items, _) = app.walk(&format!("{query}&page_size=100")).await;
    let keys: Vec<(String, String)> = items
        .iter()
        .map(|item| {
            let time = item["started_at"]
                .as_str()
                .or(item["last_message_at"].as_str())
                .unwrap();
            let time = chrono::DateTime::parse_from_rfc3339(time)
                .unwrap()
                .timestamp_millis();
            (
                format!("{:020}", i64::MAX - time),
                item["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "not newest first with ties by id");
}

#[tokio::test]
async fn list_conversations_maps_every_vendor_to_the_normalized_shape() {
    // Arrange
    let app = TestApp::spawn().await;
    let customer = shared_customer(&app);

    // Act
    let (items, _) = app
        .walk(&format!(
            "{}&customer_id={}&page_size=100&include=vendor_data",
            app.whole_history(),
            urlencode(&customer)
        ))
        .await;

    // Assert
    for item in &items {
        let id = item["id"].as_str().unwrap();
        let (source, native) = id.split_once(':').unwrap();
        assert_eq!(item["source"], source);
        assert_eq!(item["native_id"], native);
        assert!(item["vendor_data"].is_object(), "{item}");
        for time in ["started_at", "ended_at", "last_message_at"] {
            if let Some(value) = item[time].as_str() {
                assert!(value.ends_with('Z'), "{time} not UTC: {value}");
            }
        }
        match item["vendor"].as_str().unwrap() {
            "megaview" => {
                assert!(item["started_at"].is_string(), "{item}");
                let channel = item["channel"].as_str().unwrap();
                assert!(
                    ["voice_call", "video_call", "chat"].contains(&channel),
                    "{channel}"
                );
            }
            "gptbots" => assert!(
                item["last_message_at"].is_string() && item["bot_id"].is_string(),
                "{item}"
            ),
            "udesk" => assert!(
                item["started_at"].is_string() && item["ended_at"].is_string(),
                "{item}"
            ),
            "jijyun" => assert!(item["message_count"].as_u64().unwrap() > 0, "{item}"),
            other => panic!("unexpected vendor {other}"),
        }
    }
    let (items, _) = app
        .walk(&format!(
            "{}&source=sales&page_size=100",
            app.whole_history()
        ))
        .await;
    assert!(
        items.iter().all(|item| item.get("vendor_data").is_none()),
        "vendor_data without include"
    );
}
