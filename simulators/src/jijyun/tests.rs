//! Tests of the Jijyun simulator: the API key, the chat record (customers, windows, filters,
//! order), the key check and its throttle answer.

use std::collections::HashSet;

use axum::body::Body;
use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};

use crate::testing::{Answer, anchor, get, json_body, post, sandbox, send, shanghai};
use crate::{Faults, ListOrder, Sandbox, SimVendor, Throttle};

async fn record(sandbox: &Sandbox, body: &Value) -> Answer {
    let key = &sandbox.credentials().jijyun_api_key;
    let uri = format!("/jijyun/v1/openapi/chat/record?apiKey={key}");
    send(sandbox, json_body(post(&uri), body)).await
}

fn chat_ids(answer: &Value) -> HashSet<String> {
    answer["Data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chat_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_missing_or_wrong_api_key_is_401() {
    let sandbox = sandbox();
    let body = json!({"customer_id": sandbox.jijyun_customers()[0]});
    for uri in [
        "/jijyun/v1/openapi/chat/record",
        "/jijyun/v1/openapi/chat/record?apiKey=wrong",
    ] {
        let answer = send(&sandbox, json_body(post(uri), &body)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_ne!(answer.json()["Code"], 2000);
    }
}

#[tokio::test]
async fn a_missing_or_empty_customer_id_is_code_4000() {
    let sandbox = sandbox();
    for body in [json!({"days": "30"}), json!({"customer_id": ""})] {
        let answer = record(&sandbox, &body).await;
        assert_eq!(answer.status, StatusCode::OK);
        let body = answer.json();
        assert_eq!(body["Code"], 4000);
        assert!(!body["Msg"].as_str().unwrap().is_empty());
    }
    let as_number = json!({"customer_id": sandbox.jijyun_customers()[0], "days": 30});
    assert_eq!(record(&sandbox, &as_number).await.json()["Code"], 4000);
}

#[tokio::test]
async fn every_chat_of_a_customer_comes_back_with_documented_labels() {
    let sandbox = sandbox();
    let mut seen = HashSet::new();
    for customer in sandbox.jijyun_customers() {
        let answer = record(&sandbox, &json!({"customer_id": customer, "days": "", "start_time": "", "end_time": "", "chat_source": [], "chat_robot": [], "seat_member": []})).await;
        let body = answer.json();
        assert_eq!(body["Code"], 2000);
        assert_eq!(body["Msg"], "成功");
        assert!(uuid::Uuid::parse_str(body["RequestId"].as_str().unwrap()).is_ok());
        for chat in body["Data"].as_array().unwrap() {
            assert!(seen.insert(chat["chat_id"].as_str().unwrap().to_owned()));
            for message in chat["messages"].as_array().unwrap() {
                let kind = message["message_type"].as_str().unwrap();
                let sender = message["sender_type"].as_str().unwrap();
                assert!(["AI对话", "人工对话"].contains(&kind));
                assert!(["用户", "客服"].contains(&sender));
                let content = message["content"].as_str().unwrap();
                if kind == "人工对话" && sender == "用户" {
                    assert!(content.starts_with("访客发送: "));
                }
                if kind == "人工对话" && sender == "客服" {
                    assert!(content.starts_with("人工回复: ") || content.starts_with("客服回复: "));
                }
            }
        }
    }
    let expected: HashSet<String> = sandbox
        .records(SimVendor::Jijyun)
        .into_iter()
        .map(|r| r.native_id)
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn arbitrary_order_shuffles_the_chats_of_a_customer_the_same_way_every_time() {
    let sandbox = sandbox();
    let customer = sandbox.jijyun_customers()[0].clone();
    let body = json!({"customer_id": customer});
    let in_order = |answer: &Value| -> Vec<String> {
        answer["Data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["chat_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let documented = record(&sandbox, &body).await.json();
    sandbox.set_list_order(ListOrder::Arbitrary);
    let arbitrary = record(&sandbox, &body).await.json();
    let again = record(&sandbox, &body).await.json();

    assert!(in_order(&documented).len() > 3);
    assert_ne!(in_order(&arbitrary), in_order(&documented));
    assert_eq!(chat_ids(&arbitrary), chat_ids(&documented));
    assert_eq!(in_order(&again), in_order(&arbitrary));
    assert_eq!(again["Data"], arbitrary["Data"]);
}

#[tokio::test]
async fn explicit_times_and_days_narrow_the_window() {
    let sandbox = sandbox();
    let customer = sandbox.jijyun_customers()[0].clone();
    let all = chat_ids(
        &record(&sandbox, &json!({"customer_id": customer}))
            .await
            .json(),
    );
    let last_week = chat_ids(
        &record(&sandbox, &json!({"customer_id": customer, "days": "7"}))
            .await
            .json(),
    );
    assert!(!last_week.is_empty() && last_week.len() < all.len());
    assert!(last_week.is_subset(&all));

    let explicit = json!({
        "customer_id": customer,
        "days": "1",
        "start_time": shanghai(anchor() - TimeDelta::days(7)),
        "end_time": shanghai(anchor()),
    });
    assert_eq!(
        chat_ids(&record(&sandbox, &explicit).await.json()),
        last_week
    );

    let bad = json!({"customer_id": customer, "start_time": "2025-02-01"});
    assert_eq!(record(&sandbox, &bad).await.json()["Code"], 4000);

    let forever = json!({"customer_id": customer, "days": "4294967295"});
    assert_eq!(chat_ids(&record(&sandbox, &forever).await.json()), all);
}

#[tokio::test]
async fn seat_member_keeps_only_chats_that_seat_handled() {
    let sandbox = sandbox();
    let mut total_with_seat = 0;
    for customer in sandbox.jijyun_customers() {
        let all = record(&sandbox, &json!({"customer_id": customer}))
            .await
            .json();
        let seated = record(
            &sandbox,
            &json!({"customer_id": customer, "seat_member": ["seat-2001", "seat-2002", "seat-2003", "seat-2004"]}),
        )
        .await
        .json();
        for chat in seated["Data"].as_array().unwrap() {
            let human = chat["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["message_type"] == "人工对话");
            assert!(human);
        }
        let one = chat_ids(
            &record(
                &sandbox,
                &json!({"customer_id": customer, "seat_member": ["seat-2001"]}),
            )
            .await
            .json(),
        );
        assert!(one.is_subset(&chat_ids(&seated)));
        total_with_seat += seated["Data"].as_array().unwrap().len();
        assert!(seated["Data"].as_array().unwrap().len() <= all["Data"].as_array().unwrap().len());
    }
    assert!(total_with_seat > 0);
}

#[tokio::test]
async fn throttled_requests_get_429_with_the_plain_text_body() {
    let sandbox = sandbox();
    sandbox.set_faults(
        SimVendor::Jijyun,
        Faults {
            throttle: Some(Throttle {
                per_second: 0,
                burst: 1,
                retry_after_seconds: None,
            }),
            ..Faults::default()
        },
    );
    let customer = sandbox.jijyun_customers()[0].clone();
    let first = record(&sandbox, &json!({"customer_id": customer})).await;
    assert_eq!(first.status, StatusCode::OK);
    let second = record(&sandbox, &json!({"customer_id": customer})).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(second.text(), "Too Many Requests in one second");
    assert!(!second.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn check_validates_the_api_key() {
    let sandbox = sandbox();
    let key = &sandbox.credentials().jijyun_api_key;
    let good = format!("/jijyun/v1/openapi/check?apiKey={key}");
    let answer = send(&sandbox, get(&good).body(Body::empty()).unwrap()).await;
    assert_eq!(answer.json(), json!({"success": true}));
    let bad = "/jijyun/v1/openapi/check?apiKey=nope";
    let answer = send(&sandbox, get(bad).body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_json_is_code_4000() {
    let sandbox = sandbox();
    let key = &sandbox.credentials().jijyun_api_key;
    let uri = format!("/jijyun/v1/openapi/chat/record?apiKey={key}");
    let answer = send(&sandbox, post(&uri).body(Body::from("{")).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["Code"], 4000);
}
