//! Tests of the GPTBots simulator: the API key, the conversation page (parameters, filters,
//! paging, order) and the v2 messages.

use std::collections::HashSet;

use axum::body::Body;
use axum::http::StatusCode;
use serde_json::Value;

use crate::testing::{Answer, anchor, get, sandbox, send};
use crate::{ListOrder, Sandbox, SimVendor};

async fn call(sandbox: &Sandbox, uri: &str) -> Answer {
    let key = &sandbox.credentials().gptbots_api_key;
    let request = get(uri)
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    send(sandbox, request).await
}

fn window() -> (i64, i64) {
    let end = anchor().timestamp_millis();
    (end - 29 * 86_400_000, end)
}

async fn walk(sandbox: &Sandbox, filters: &str, page_size: usize) -> Vec<Value> {
    let (start, end) = window();
    let mut items = Vec::new();
    for page in 1.. {
        let uri = format!(
            "/gptbots/v1/bot/conversation/page?{filters}&start_time={start}&end_time={end}&page={page}&page_size={page_size}"
        );
        let answer = call(sandbox, &uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let body = answer.json();
        let list = body["list"].as_array().unwrap();
        items.extend(list.iter().cloned());
        if list.len() < page_size {
            assert_eq!(body["total"], items.len());
            break;
        }
    }
    items
}

#[tokio::test]
async fn list_rejects_a_missing_or_wrong_api_key_with_40127() {
    let sandbox = sandbox();
    let uri = "/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=0&end_time=1&page=1&page_size=10";
    let missing = send(&sandbox, get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json()["code"], 40_127);
    let wrong = get(uri)
        .header("authorization", "Bearer wrong")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&sandbox, wrong).await.json()["code"], 40_127);
}

#[tokio::test]
async fn list_requires_the_documented_parameters() {
    let sandbox = sandbox();
    for uri in [
        "/gptbots/v1/bot/conversation/page?start_time=0&end_time=1&page=1&page_size=10",
        "/gptbots/v1/bot/conversation/page?conversation_type=ALL&end_time=1&page=1&page_size=10",
        "/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=0&end_time=1&page_size=10",
        "/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=0&end_time=1&page=1&page_size=101",
        "/gptbots/v1/bot/conversation/page?conversation_type=all&start_time=0&end_time=1&page=1&page_size=10",
        "/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=2025-01-01&end_time=1&page=1&page_size=10",
    ] {
        let answer = call(&sandbox, uri).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(answer.json()["code"], 40_000, "{uri}");
    }
}

#[tokio::test]
async fn walking_pages_returns_every_conversation_once_newest_first() {
    let sandbox = sandbox();
    let items = walk(&sandbox, "conversation_type=ALL", 9).await;
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i["conversation_id"].as_str().unwrap())
        .collect();
    let expected: HashSet<String> = sandbox
        .records(SimVendor::Gptbots)
        .into_iter()
        .map(|r| r.native_id)
        .collect();
    assert_eq!(ids.len(), expected.len());
    assert_eq!(
        ids.iter().map(|s| s.to_string()).collect::<HashSet<_>>(),
        expected
    );
    let times: Vec<i64> = items
        .iter()
        .map(|i| i["recent_chat_time"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
    assert!(times.windows(2).any(|w| w[0] == w[1]), "some ties exist");
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["conversation_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn arbitrary_order_pages_hold_every_conversation_once_in_a_stable_shuffle() {
    let sandbox = sandbox();
    let documented = ids(&walk(&sandbox, "conversation_type=ALL", 9).await);
    let documented_api = ids(&walk(&sandbox, "conversation_type=API", 9).await);
    sandbox.set_list_order(ListOrder::Arbitrary);
    let arbitrary = ids(&walk(&sandbox, "conversation_type=ALL", 9).await);

    let unique: HashSet<&String> = arbitrary.iter().collect();
    assert_eq!(unique.len(), arbitrary.len(), "no item twice");
    assert_eq!(unique, documented.iter().collect::<HashSet<_>>());
    let first: HashSet<&String> = arbitrary[..9].iter().collect();
    let newest: HashSet<&String> = documented[..9].iter().collect();
    let oldest: HashSet<&String> = documented[documented.len() - 9..].iter().collect();
    assert_ne!(first, newest);
    assert_ne!(first, oldest);
    assert_eq!(
        ids(&walk(&sandbox, "conversation_type=ALL", 9).await),
        arbitrary
    );

    let api = ids(&walk(&sandbox, "conversation_type=API", 9).await);
    assert_ne!(api, documented_api);
    assert_eq!(
        api.iter().collect::<HashSet<_>>(),
        documented_api.iter().collect::<HashSet<_>>()
    );
}

#[tokio::test]
async fn list_filters_by_conversation_type_and_user() {
    let sandbox = sandbox();
    let all = walk(&sandbox, "conversation_type=ALL", 100).await;
    let api = walk(&sandbox, "conversation_type=API", 100).await;
    assert!(!api.is_empty() && api.len() < all.len());
    assert!(api.iter().all(|i| i["conversation_type"] == "API"));
    let types: HashSet<&str> = all
        .iter()
        .map(|i| i["conversation_type"].as_str().unwrap())
        .collect();
    assert!(types.len() >= 4);
    assert!(all.iter().any(|i| i["anonymous_id"].is_string()));

    let user = all[0]["user_id"].as_str().unwrap();
    let mine = walk(
        &sandbox,
        &format!("conversation_type=ALL&user_id={user}"),
        100,
    )
    .await;
    assert!(!mine.is_empty() && mine.len() < all.len());
    assert!(mine.iter().all(|i| i["user_id"] == user));
}

#[tokio::test]
async fn messages_page_through_long_conversations_and_fail_past_the_end() {
    let sandbox = sandbox();
    let all = walk(&sandbox, "conversation_type=ALL", 100).await;
    let long = all
        .iter()
        .find(|i| i["message_count"].as_u64().unwrap() > 100)
        .unwrap();
    let id = long["conversation_id"].as_str().unwrap();
    let count = long["message_count"].as_u64().unwrap() as usize;
    let mut messages = Vec::new();
    let mut page = 1;
    loop {
        let uri = format!("/gptbots/v2/messages?conversation_id={id}&page={page}&page_size=40");
        let answer = call(&sandbox, &uri).await;
        if answer.status == StatusCode::BAD_REQUEST {
            assert_eq!(answer.json()["code"], 40_005);
            break;
        }
        let body = answer.json();
        assert_eq!(body["total"], count);
        messages.extend(
            body["conversation_content"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        page += 1;
    }
    assert_eq!(messages.len(), count);
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["parent_message_id"], "");
    assert_eq!(messages[1]["parent_message_id"], messages[0]["message_id"]);
    let last = messages.last().unwrap()["create_time"].as_i64().unwrap();
    assert_eq!(last, long["recent_chat_time"].as_i64().unwrap());
}

#[tokio::test]
async fn messages_carry_every_content_block_type() {
    let sandbox = sandbox();
    let mut types = HashSet::new();
    for record in sandbox.records(SimVendor::Gptbots) {
        let uri = format!(
            "/gptbots/v2/messages?conversation_id={}&page=1&page_size=100",
            record.native_id
        );
        let body = call(&sandbox, &uri).await.json();
        for message in body["conversation_content"].as_array().unwrap() {
            for content in message["content"].as_array().unwrap() {
                for block in content["branch_content"].as_array().unwrap() {
                    let kind = block["type"].as_str().unwrap().to_owned();
                    if kind != "text" {
                        let files = block[kind.as_str()].as_array().unwrap();
                        assert!(files[0]["url"].is_string() && files[0]["size"].is_u64());
                    }
                    types.insert(kind);
                }
            }
        }
    }
    for kind in ["text", "image", "audio", "document", "video", "file"] {
        assert!(types.contains(kind), "{kind}");
    }
}

#[tokio::test]
async fn messages_of_an_unknown_conversation_are_40356() {
    let sandbox = sandbox();
    let answer = call(
        &sandbox,
        "/gptbots/v2/messages?conversation_id=nope&page=1&page_size=10",
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["code"], 40_356);
}
