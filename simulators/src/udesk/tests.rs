//! Tests of the Udesk simulator: signatures, the session list (bodies, keywords, conditions,
//! paging, order) and the session logs.

use std::collections::HashSet;

use axum::body::Body;
use axum::http::StatusCode;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use crate::testing::{
    Answer, anchor, config, get, json_body, post, sandbox, send, shanghai, udesk_query,
};
use crate::{ListOrder, Sandbox, SandboxConfig, SandboxCredentials, SignAlgorithm, SimVendor};

fn signed_query(sandbox: &Sandbox, timestamp: i64) -> String {
    udesk_query(
        sandbox,
        timestamp,
        sandbox.credentials().udesk_sign_algorithm,
    )
}

fn base_body(sandbox: &Sandbox) -> Value {
    json!({
        "robotId": sandbox.credentials().udesk_robot_id,
        "startTime": shanghai(anchor() - TimeDelta::days(30)),
        "endTime": shanghai(anchor()),
    })
}

async fn sessions(sandbox: &Sandbox, body: &Value) -> Answer {
    let uri = format!(
        "/udesk/api/v1/sessions?{}",
        signed_query(sandbox, Utc::now().timestamp())
    );
    send(sandbox, json_body(post(&uri), body)).await
}

async fn logs(sandbox: &Sandbox, id: &str, page_num: usize, page_size: usize) -> Answer {
    let uri = format!(
        "/udesk/api/v1/sessions/{id}/logs?pageNum={page_num}&pageSize={page_size}&{}",
        signed_query(sandbox, Utc::now().timestamp())
    );
    send(sandbox, get(&uri).body(Body::empty()).unwrap()).await
}

async fn walk(sandbox: &Sandbox, extra: &Value, page_size: usize) -> Vec<Value> {
    let mut body = base_body(sandbox);
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    body["pageSize"] = json!(page_size);
    let mut items = Vec::new();
    for page in 1.. {
        body["pageNum"] = json!(page);
        let answer = sessions(sandbox, &body).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let answer = answer.json();
        assert_eq!(answer["code"], 200);
        let data = answer["data"].as_array().unwrap();
        items.extend(data.iter().cloned());
        if data.len() < page_size {
            assert_eq!(answer["paging"]["total"], items.len());
            break;
        }
    }
    items
}

#[tokio::test]
async fn a_correct_sha1_signature_is_accepted() {
    let sandbox = sandbox();
    let answer = sessions(&sandbox, &base_body(&sandbox)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["message"], "OK");
    assert_eq!(body["visible"], false);
    assert_eq!(body["paging"]["pageNum"], 1);
    assert_eq!(body["paging"]["pageSize"], 10);
}

#[tokio::test]
async fn wrong_signatures_emails_and_stale_timestamps_are_rejected() {
    let sandbox = sandbox();
    let now = Utc::now().timestamp();
    let good = signed_query(&sandbox, now);
    let cases = [
        good.replace("&sign=", "&sign=0"),
        good.replace("admin", "other"),
        signed_query(&sandbox, now - 301),
        signed_query(&sandbox, now * 1000),
        good.split("&sign=").next().unwrap().to_owned(),
        {
            let (rest, sign) = good.split_once("&sign=").unwrap();
            format!("{rest}&sign={}", sign.to_uppercase())
        },
    ];
    for query in cases {
        let uri = format!("/udesk/api/v1/sessions?{query}");
        let answer = send(&sandbox, json_body(post(&uri), &base_body(&sandbox))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{query}");
        let body = answer.json();
        assert_ne!(body["code"], 200);
        assert_eq!(body["succeed"], false);
    }
}

#[tokio::test]
async fn a_sha256_tenant_accepts_only_sha256_signatures() {
    let sandbox = Sandbox::new(SandboxConfig {
        credentials: SandboxCredentials {
            udesk_sign_algorithm: SignAlgorithm::Sha256,
            ..SandboxCredentials::default()
        },
        ..config()
    });
    assert_eq!(
        sessions(&sandbox, &base_body(&sandbox)).await.status,
        StatusCode::OK
    );
    let sha1 = udesk_query(&sandbox, Utc::now().timestamp(), SignAlgorithm::Sha1);
    let uri = format!("/udesk/api/v1/sessions?{sha1}");
    let answer = send(&sandbox, json_body(post(&uri), &base_body(&sandbox))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn walking_pages_returns_every_session_once_in_both_orders() {
    let sandbox = sandbox();
    let expected: Vec<String> = sandbox
        .records(SimVendor::Udesk)
        .into_iter()
        .map(|r| r.native_id)
        .collect();
    let descending = walk(&sandbox, &json!({}), 13).await;
    let ascending = walk(&sandbox, &json!({"sortFlag": 1}), 99).await;
    let ids =
        |items: &[Value]| -> Vec<String> { items.iter().map(|i| i["id"].to_string()).collect() };
    assert_eq!(ids(&ascending), expected);
    let mut reversed = ids(&descending);
    reversed.reverse();
    assert_eq!(reversed, expected);
    let starts: Vec<&str> = ascending
        .iter()
        .map(|i| i["startTime"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).any(|w| w[0] == w[1]), "some ties exist");
}

#[tokio::test]
async fn arbitrary_order_pages_hold_every_session_once_in_a_stable_shuffle() {
    let sandbox = sandbox();
    let ids =
        |items: &[Value]| -> Vec<i64> { items.iter().map(|i| i["id"].as_i64().unwrap()).collect() };
    let descending = ids(&walk(&sandbox, &json!({}), 13).await);
    let switched =
        json!({"conditionList": [{"field": "isSwitchStaff", "operator": "is", "value": "1"}]});
    let documented_switched = ids(&walk(&sandbox, &switched, 5).await);
    sandbox.set_list_order(ListOrder::Arbitrary);
    let arbitrary = ids(&walk(&sandbox, &json!({}), 13).await);

    let unique: HashSet<i64> = arbitrary.iter().copied().collect();
    assert_eq!(unique.len(), arbitrary.len(), "no item twice");
    assert_eq!(unique, descending.iter().copied().collect::<HashSet<_>>());
    let first: HashSet<i64> = arbitrary[..13].iter().copied().collect();
    let newest: HashSet<i64> = descending[..13].iter().copied().collect();
    let oldest: HashSet<i64> = descending[descending.len() - 13..]
        .iter()
        .copied()
        .collect();
    assert_ne!(first, newest);
    assert_ne!(first, oldest);
    assert_eq!(ids(&walk(&sandbox, &json!({}), 13).await), arbitrary);
    assert_eq!(
        ids(&walk(&sandbox, &json!({"sortFlag": 1}), 13).await),
        arbitrary,
        "sortFlag does not change an arbitrary order"
    );

    let arbitrary_switched = ids(&walk(&sandbox, &switched, 5).await);
    assert!(documented_switched.len() > 5);
    assert_ne!(arbitrary_switched, documented_switched);
    assert_eq!(
        arbitrary_switched.iter().collect::<HashSet<_>>(),
        documented_switched.iter().collect::<HashSet<_>>()
    );
}

#[tokio::test]
async fn session_items_carry_documented_fields_and_large_ids() {
    let sandbox = sandbox();
    let items = walk(&sandbox, &json!({}), 99).await;
    assert!(items.iter().any(|i| i["customer"].is_null()));
    assert!(items.iter().any(|i| i["customer"]["id"].is_i64()));
    assert!(
        items
            .iter()
            .any(|i| i["id"].as_i64().unwrap() > i64::from(i32::MAX))
    );
    assert!(items.iter().any(|i| i["isSwitchStaff"] == 1));
    for field in [
        "robotId",
        "startTime",
        "endTime",
        "totalCount",
        "customerMsgCount",
        "robotMsgCount",
        "robotRepliedCount",
        "unknownQuestionCount",
        "usefulResponseCount",
        "uselessResponseCount",
        "surveyOption",
        "isSwitchStaff",
        "appName",
        "channelId",
        "directResponseCount",
        "suggestQuestionCount",
        "unSuggestQuestionCount",
    ] {
        assert!(items.iter().all(|i| !i[field].is_null()), "{field}");
    }
}

#[tokio::test]
async fn invalid_bodies_are_rejected_with_400() {
    let sandbox = sandbox();
    let base = base_body(&sandbox);
    let mut cases = Vec::new();
    for (key, value) in [
        ("pageSize", json!(100)),
        ("pageSize", json!(0)),
        ("pageNum", json!(0)),
        ("robotId", json!(84)),
        ("sortFlag", json!(2)),
        ("startTime", json!("2025-01-01")),
        (
            "startTime",
            json!(shanghai(anchor() - TimeDelta::days(366))),
        ),
        ("pageSize", json!("10")),
    ] {
        let mut body = base.clone();
        body[key] = value;
        cases.push(body);
    }
    let mut no_end = base.clone();
    no_end.as_object_mut().unwrap().remove("endTime");
    cases.push(no_end);
    for body in cases {
        let answer = sessions(&sandbox, &body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.json()["code"], 400);
    }
    let uri = format!(
        "/udesk/api/v1/sessions?{}",
        signed_query(&sandbox, Utc::now().timestamp())
    );
    let malformed = post(&uri).body(Body::from("{")).unwrap();
    assert_eq!(
        send(&sandbox, malformed).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn keywords_filter_by_customer_id_external_id_and_text() {
    let sandbox = sandbox();
    let records = sandbox.records(SimVendor::Udesk);
    let customer = records.iter().find_map(|r| r.customer_id.clone()).unwrap();
    let expected = records
        .iter()
        .filter(|r| r.customer_id.as_deref() == Some(customer.as_str()))
        .count();
    let by_id = walk(
        &sandbox,
        &json!({"keywords": customer, "keywordsSource": 4}),
        99,
    )
    .await;
    assert_eq!(by_id.len(), expected);
    let external = format!("ext-{customer}");
    let by_external = walk(
        &sandbox,
        &json!({"keywords": external, "keywordsSource": 5}),
        99,
    )
    .await;
    assert_eq!(by_external.len(), expected);

    let by_text = walk(
        &sandbox,
        &json!({"keywords": "退款", "keywordsSource": 0}),
        99,
    )
    .await;
    assert!(!by_text.is_empty() && by_text.len() < records.len());
}

#[tokio::test]
async fn conditions_filter_by_message_counts_and_hand_off() {
    let sandbox = sandbox();
    let all = walk(&sandbox, &json!({}), 99).await;
    let between = json!({"conditionList": [
        {"field": "customerMsgCount", "operator": "between", "value": "2,5"},
        {"field": "ipLocation", "operator": "is", "value": "北京"},
    ]});
    let items = walk(&sandbox, &between, 99).await;
    let expected = all
        .iter()
        .filter(|i| (2..=5).contains(&i["customerMsgCount"].as_i64().unwrap()))
        .count();
    assert_eq!(items.len(), expected);

    let greater = json!({"conditionList": [{"field": "customerMsgCount", "operator": "greater_than", "value": 10}]});
    let items = walk(&sandbox, &greater, 99).await;
    assert!(
        items
            .iter()
            .all(|i| i["customerMsgCount"].as_i64().unwrap() > 10)
    );

    let switched =
        json!({"conditionList": [{"field": "isSwitchStaff", "operator": "is", "value": "1"}]});
    let items = walk(&sandbox, &switched, 99).await;
    assert!(!items.is_empty() && items.iter().all(|i| i["isSwitchStaff"] == 1));
}

#[tokio::test]
async fn logs_page_through_sessions_over_ninety_nine_messages() {
    let sandbox = sandbox();
    let all = walk(&sandbox, &json!({}), 99).await;
    let long = all
        .iter()
        .find(|i| i["totalCount"].as_u64().unwrap() > 99)
        .unwrap();
    let id = long["id"].to_string();
    let total = long["totalCount"].as_u64().unwrap() as usize;
    let mut rows = Vec::new();
    for page in 1.. {
        let answer = logs(&sandbox, &id, page, 99).await;
        assert_eq!(answer.status, StatusCode::OK);
        let body = answer.json();
        assert_eq!(body["succeed"], true);
        assert_eq!(body["bizCode"], "000000");
        assert_eq!(body["paging"]["total"], total);
        let data = body["data"].as_array().unwrap();
        rows.extend(data.iter().cloned());
        if data.len() < 99 {
            break;
        }
    }
    assert_eq!(rows.len(), total);
    let ids: HashSet<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), total);
    assert!(rows.iter().all(|r| r["sessionId"] == long["id"]));
    assert_eq!(rows.last().unwrap()["createTime"], long["endTime"]);
}

#[tokio::test]
async fn logs_use_every_documented_content_type_and_user_type() {
    let sandbox = sandbox();
    let mut content_types = HashSet::new();
    let mut user_types = HashSet::new();
    let mut absent = false;
    for record in sandbox.records(SimVendor::Udesk) {
        let body = logs(&sandbox, &record.native_id, 1, 99).await.json();
        for row in body["data"].as_array().unwrap() {
            user_types.insert(row["userType"].as_i64().unwrap());
            match row["contentType"].as_i64() {
                Some(kind) => {
                    content_types.insert(kind);
                }
                None => absent = true,
            }
        }
    }
    assert!(absent);
    for kind in [1, 2, 9, 10, 11, 19] {
        assert!(content_types.contains(&kind), "{kind}");
    }
    assert_eq!(user_types, HashSet::from([1, 2, 3]));
}

#[tokio::test]
async fn logs_of_an_unknown_session_are_404_and_page_size_100_is_400() {
    let sandbox = sandbox();
    let answer = logs(&sandbox, "1", 1, 10).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["code"], 404);
    let id = sandbox.records(SimVendor::Udesk)[0].native_id.clone();
    assert_eq!(
        logs(&sandbox, &id, 1, 100).await.status,
        StatusCode::BAD_REQUEST
    );
}
