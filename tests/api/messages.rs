//! `GET /conversations/{id}/messages` over the simulators, for every vendor.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, urlencode};

/// Every message of a conversation, walking pages of `page_size`.
async fn walk_messages(
    app: &TestApp,
    id: &str,
    page_size: usize,
) -> Result<Vec<Value>, (u16, Value)> {
    let mut messages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!(
            "/conversations/{}/messages?page_size={page_size}",
            urlencode(id)
        );
        if let Some(token) = &token {
            url.push_str(&format!("&page_token={}", urlencode(token)));
        }
        let (status, body) = app.get_json(&url).await;
        if status != 200 {
            return Err((status, body));
        }
        messages.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["next_page_token"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => return Ok(messages),
        }
    }
}

fn check_messages(id: &str, messages: &[Value]) {
    let ids: BTreeSet<&str> = messages.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), messages.len(), "message ids repeat in {id}");
    for (n, message) in messages.iter().enumerate() {
        assert_eq!(message["sequence"], n, "{id}: {message}");
        assert_eq!(message["conversation_id"], id);
        assert!(
            ["customer", "agent", "bot", "system"].contains(&message["role"].as_str().unwrap())
        );
        let content_type = message["content_type"].as_str().unwrap();
        assert!(
            [
                "text", "html", "image", "audio", "video", "file", "link", "other"
            ]
            .contains(&content_type)
        );
    }
}

#[tokio::test]
async fn list_messages_works_for_a_conversation_of_every_vendor() {
    // Arrange
    let app = TestApp::spawn().await;
    let customer = app.sandbox.jijyun_customers().into_iter().next().unwrap();
    let (inbox, _) = app
        .walk(&format!(
            "{}&source=inbox&customer_id={}",
            app.whole_history(),
            urlencode(&customer)
        ))
        .await;
    let (others, _) = app
        .walk(&format!(
            "{}&source=sales,assistant,helpdesk&page_size=100",
            app.whole_history()
        ))
        .await;

    // Act + Assert
    for vendor in ["megaview", "gptbots", "udesk", "jijyun"] {
        let candidates: Vec<&Value> = inbox
            .iter()
            .chain(&others)
            .filter(|c| c["vendor"] == vendor)
            .collect();
        assert!(!candidates.is_empty(), "no {vendor} conversation");
        let mut served = 0;
        for conversation in candidates.iter().take(12) {
            let id = conversation["id"].as_str().unwrap();
            match walk_messages(&app, id, 7).await {
                Ok(messages) => {
                    assert!(!messages.is_empty(), "{id} has no messages");
                    check_messages(id, &messages);
                    if vendor != "megaview"
                        && let Some(count) = conversation["message_count"].as_u64()
                    {
                        assert_eq!(messages.len() as u64, count, "{id}");
                    }
                    if vendor == "megaview" {
                        // Calls place sentence offsets after their start; chats carry times.
                        let time = |raw: &Value| {
                            chrono::DateTime::parse_from_rfc3339(raw.as_str().unwrap()).unwrap()
                        };
                        let started = time(&conversation["started_at"]);
                        for message in &messages {
                            assert!(message["sent_at"].is_string(), "{id}: {message}");
                            let sent = time(&message["sent_at"]);
                            assert!(sent >= started, "{id}: {sent} before {started}");
                        }
                    }
                    served += 1;
                }
                Err((status, body)) => {
                    // Only a Megaview transcript still being made may refuse, and clearly.
                    assert_eq!((vendor, status), ("megaview", 503), "{id}: {body}");
                    assert_eq!(body["code"], "UPSTREAM_NOT_READY", "{body}");
                }
            }
        }
        assert!(served > 0, "no {vendor} conversation served its messages");
    }
}

#[tokio::test]
async fn list_messages_pages_give_the_same_messages_at_any_page_size() {
    // Arrange
    let app = TestApp::spawn().await;
    let (items, _) = app
        .walk(&format!(
            "{}&source=helpdesk&page_size=100",
            app.whole_history()
        ))
        .await;
    let longest = items
        .iter()
        .max_by_key(|c| c["message_count"].as_u64().unwrap_or(0))
        .unwrap();
    let id = longest["id"].as_str().unwrap();

    // Act
    let whole = walk_messages(&app, id, 100).await.unwrap();
    let by_three = walk_messages(&app, id, 3).await.unwrap();

    // Assert
    assert!(
        whole.len() > 99,
        "the longest Udesk session should span vendor pages, has {}",
        whole.len()
    );
    assert_eq!(whole, by_three);
}

#[tokio::test]
async fn list_messages_answers_404_for_unknown_sources_and_conversations() {
    let app = TestApp::spawn().await;
    assert_problem(
        app.get("/conversations/nosuch:1/messages").await,
        404,
        "SOURCE_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.get("/conversations/helpdesk:999999999999/messages")
            .await,
        404,
        "CONVERSATION_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.get("/conversations/assistant:nope/messages").await,
        404,
        "CONVERSATION_NOT_FOUND",
    )
    .await;
}
