//! Tests of the Megaview simulator: tokens, the list (windows, filters, paging, order),
//! single conversations, ASR results and the signed ASR file.

use std::collections::HashSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};

use crate::testing::{Answer, anchor, config, get, json_body, post, sandbox, send, shanghai};
use crate::{ListOrder, Sandbox, SandboxConfig, SimVendor};

const TOKEN: &str = "/megaview/openapi/auth/v1/app_access_token/internal";
const LIST: &str = "/megaview/openapi/conversation/v1/conversations/list";

async fn token(sandbox: &Sandbox) -> String {
    let credentials = sandbox.credentials();
    let body = json!({
        "app_key": credentials.megaview_app_key,
        "app_secret": credentials.megaview_app_secret,
    });
    let answer = send(sandbox, json_body(post(TOKEN), &body)).await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.json()["data"]["app_access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn list(sandbox: &Sandbox, token: &str, body: &Value) -> Answer {
    let request = json_body(
        post(LIST).header("authorization", format!("Bearer {token}")),
        body,
    );
    send(sandbox, request).await
}

async fn get_with_token(sandbox: &Sandbox, token: &str, uri: &str) -> Answer {
    let request = get(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("host", "sandbox.test:9000")
        .body(Body::empty())
        .unwrap();
    send(sandbox, request).await
}

#[tokio::test]
async fn token_endpoint_issues_tokens_with_the_configured_expire() {
    let sandbox = sandbox();
    let credentials = sandbox.credentials();
    let body = json!({
        "app_key": credentials.megaview_app_key,
        "app_secret": credentials.megaview_app_secret,
    });
    let answer = send(&sandbox, json_body(post(TOKEN), &body)).await.json();
    assert_eq!(answer["code"], 0);
    assert_eq!(answer["msg"], "success");
    assert_eq!(answer["data"]["expire"], 7200);
    assert!(answer["data"]["app_access_token"].as_str().unwrap().len() > 10);
}

#[tokio::test]
async fn token_endpoint_rejects_a_wrong_secret_with_a_nonzero_code() {
    let sandbox = sandbox();
    let body = json!({"app_key": sandbox.credentials().megaview_app_key, "app_secret": "nope"});
    let answer = send(&sandbox, json_body(post(TOKEN), &body)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_ne!(answer.json()["code"], 0);
}

#[tokio::test]
async fn list_accepts_only_tokens_issued_by_the_token_endpoint() {
    let sandbox = sandbox();
    let forged = list(&sandbox, "t-forged", &json!({})).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.json()["code"], 400_102);

    let missing = send(&sandbox, json_body(post(LIST), &json!({}))).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);

    let token = token(&sandbox).await;
    let answer = list(&sandbox, &token, &json!({})).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["code"], 0);
}

#[tokio::test(start_paused = true)]
async fn list_rejects_tokens_once_they_expire() {
    let sandbox = Sandbox::new(SandboxConfig {
        megaview_token_ttl: Duration::from_secs(60),
        ..config()
    });
    let token = token(&sandbox).await;
    assert_eq!(
        list(&sandbox, &token, &json!({})).await.status,
        StatusCode::OK
    );

    tokio::time::advance(Duration::from_secs(61)).await;
    let answer = list(&sandbox, &token, &json!({})).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["code"], 400_103);
}

#[tokio::test]
async fn list_rejects_ranges_longer_than_seven_days() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let end = anchor();
    let body = json!({
        "begin_time": shanghai(end - TimeDelta::days(7) - TimeDelta::seconds(1)),
        "end_time": shanghai(end),
    });
    let answer = list(&sandbox, &token, &body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["code"], 401_206);

    let exactly_seven = json!({
        "begin_time": shanghai(end - TimeDelta::days(7)),
        "end_time": shanghai(end),
    });
    assert_eq!(
        list(&sandbox, &token, &exactly_seven).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn list_rejects_badly_formatted_times_and_accepts_offset_times() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let bad = list(&sandbox, &token, &json!({"begin_time": "2025/02/27 00:00"})).await;
    assert_eq!(bad.json()["code"], 401_206);

    let offset = json!({
        "begin_time": "2025-02-25T00:00:00+08:00",
        "end_time": "2025-02-27T00:00:00+08:00",
    });
    assert_eq!(list(&sandbox, &token, &offset).await.json()["code"], 0);
}

#[tokio::test]
async fn list_rejects_page_size_over_one_hundred_and_foreign_page_tokens() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let too_big = list(&sandbox, &token, &json!({"page_size": 101})).await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_big.json()["code"], 400_001);

    let garbage = list(&sandbox, &token, &json!({"page_token": "1234"})).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbage.json()["code"], 400_002);
}

#[tokio::test]
async fn list_rejects_a_deal_id_sent_as_a_string_and_unknown_filters() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let as_string = list(&sandbox, &token, &json!({"deal_id": "1012"})).await;
    assert_eq!(as_string.json()["code"], 400_001);
    let unknown_deal = list(&sandbox, &token, &json!({"deal_id": 999_999})).await;
    assert_eq!(unknown_deal.json()["code"], 401_201);
    let unknown_user = list(&sandbox, &token, &json!({"open_user_id": "nobody"})).await;
    assert_eq!(unknown_user.json()["code"], 400_164);
}

async fn walk(sandbox: &Sandbox, token: &str, filters: &Value, page_size: u64) -> Vec<Value> {
    let mut items = Vec::new();
    let days = i64::from(sandbox.config().history_days);
    let mut begin = anchor() - TimeDelta::days(days);
    while begin < anchor() {
        let end = (begin + TimeDelta::days(7)).min(anchor());
        let mut page_token = String::new();
        loop {
            let mut body = filters.clone();
            body["begin_time"] = json!(shanghai(begin));
            body["end_time"] = json!(shanghai(end));
            body["page_size"] = json!(page_size);
            if !page_token.is_empty() {
                body["page_token"] = json!(page_token);
            }
            let answer = list(sandbox, token, &body).await.json();
            assert_eq!(answer["code"], 0, "{answer}");
            let data = &answer["data"];
            items.extend(data["conversations"].as_array().unwrap().iter().cloned());
            page_token = data["page_token"].as_str().unwrap().to_owned();
            if !data["has_more"].as_bool().unwrap() {
                assert!(page_token.is_empty());
                break;
            }
        }
        begin = end;
    }
    items
}

#[tokio::test]
async fn walking_seven_day_windows_returns_every_conversation_exactly_once() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let items = walk(&sandbox, &token, &json!({}), 7).await;
    let ids: Vec<String> = items.iter().map(|i| i["id"].to_string()).collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let expected: HashSet<String> = sandbox
        .records(SimVendor::Megaview)
        .into_iter()
        .map(|r| r.native_id)
        .collect();
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), expected);
}

/// The ids of every page of one query, and the `total_count` each page reported.
async fn pages(sandbox: &Sandbox, token: &str, body: &Value) -> (Vec<Vec<i64>>, Vec<u64>) {
    let mut pages = Vec::new();
    let mut totals = Vec::new();
    let mut page_token = String::new();
    loop {
        let mut body = body.clone();
        if !page_token.is_empty() {
            body["page_token"] = json!(page_token);
        }
        let answer = list(sandbox, token, &body).await.json();
        assert_eq!(answer["code"], 0, "{answer}");
        let data = &answer["data"];
        let items = data["conversations"].as_array().unwrap();
        pages.push(items.iter().map(|i| i["id"].as_i64().unwrap()).collect());
        totals.push(data["total_count"].as_u64().unwrap());
        page_token = data["page_token"].as_str().unwrap().to_owned();
        if !data["has_more"].as_bool().unwrap() {
            break;
        }
    }
    (pages, totals)
}

#[tokio::test]
async fn arbitrary_order_pages_hold_the_matching_set_once_in_a_stable_shuffle() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let body = json!({
        "begin_time": shanghai(anchor() - TimeDelta::days(7)),
        "end_time": shanghai(anchor()),
        "page_size": 5,
    });
    let (documented, documented_totals) = pages(&sandbox, &token, &body).await;
    sandbox.set_list_order(ListOrder::Arbitrary);
    let (arbitrary, totals) = pages(&sandbox, &token, &body).await;

    assert!(arbitrary.len() >= 3, "several pages: {arbitrary:?}");
    assert_eq!(totals, documented_totals);
    let ids: Vec<i64> = arbitrary.iter().flatten().copied().collect();
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no item twice");
    let expected: Vec<i64> = documented.iter().flatten().copied().collect();
    assert_eq!(unique, expected.iter().copied().collect::<HashSet<_>>());
    assert_eq!(ids.len() as u64, totals[0]);
    let first: HashSet<i64> = arbitrary[0].iter().copied().collect();
    let oldest: HashSet<i64> = expected[..5].iter().copied().collect();
    let newest: HashSet<i64> = expected[expected.len() - 5..].iter().copied().collect();
    assert_ne!(first, oldest);
    assert_ne!(first, newest);
    assert_eq!(pages(&sandbox, &token, &body).await.0, arbitrary);

    sandbox.set_list_order(ListOrder::Documented);
    assert_eq!(pages(&sandbox, &token, &body).await.0, documented);
}

#[tokio::test]
async fn filters_by_deal_and_salesman_return_matching_subsets() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let records = sandbox.records(SimVendor::Megaview);
    let deal = records[0].customer_id.clone().unwrap();
    let items = walk(
        &sandbox,
        &token,
        &json!({"deal_id": deal.parse::<i64>().unwrap()}),
        50,
    )
    .await;
    let expected = records
        .iter()
        .filter(|r| r.customer_id.as_deref() == Some(deal.as_str()))
        .count();
    assert_eq!(items.len(), expected);
    assert!(items.len() < records.len());
    assert!(items.iter().all(|i| i["deal_id"] == json!(deal)));

    let user = records[0].agent_id.clone().unwrap();
    let items = walk(&sandbox, &token, &json!({"open_user_id": user}), 50).await;
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["open_user_id"] == json!(user)));
}

#[tokio::test]
async fn list_items_carry_the_documented_fields_and_types() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let items = walk(&sandbox, &token, &json!({}), 100).await;
    let mut kinds = HashSet::new();
    for item in &items {
        assert!(item["id"].is_i64());
        assert!(item["deal_id"].is_string());
        assert!(item["open_user_id"].is_string());
        assert!(item["account_id"].is_i64());
        assert!(item["salesman_percent"].is_number());
        assert!(
            item["origin_conversation_id"]
                .as_str()
                .unwrap()
                .starts_with("fscd-")
        );
        let begin = item["begin_time"].as_str().unwrap();
        assert!(chrono::NaiveDateTime::parse_from_str(begin, "%Y-%m-%dT%H:%M:%S").is_ok());
        let kind = item["type"].as_str().unwrap();
        kinds.insert(kind.to_owned());
        if kind == "doc" {
            assert_eq!(item["duration"], 0);
            assert!(item["word_count"].as_u64().unwrap() > 0);
        } else {
            assert_eq!(item["word_count"], 0);
            assert!(item["duration"].as_u64().unwrap() > 0);
        }
    }
    assert_eq!(kinds.len(), 3);
}

async fn first_ready(sandbox: &Sandbox, token: &str) -> (String, Value) {
    for record in sandbox.records(SimVendor::Megaview) {
        let uri = format!(
            "/megaview/openapi/conversation/v1/conversations/{}/asr_data",
            record.native_id
        );
        let answer = get_with_token(sandbox, token, &uri).await;
        if answer.status == StatusCode::OK {
            return (record.native_id, answer.json());
        }
    }
    panic!("no finished transcript");
}

fn path_of(url: &str) -> String {
    url.strip_prefix("http://sandbox.test:9000")
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn asr_data_points_at_a_signed_file_on_the_simulator_host() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let (id, answer) = first_ready(&sandbox, &token).await;
    assert_eq!(answer["data"]["conversation_id"].to_string(), id);
    let url = answer["data"]["asr_file_url"].as_str().unwrap();
    assert!(url.starts_with(&format!(
        "http://sandbox.test:9000/megaview/files/asr/{id}.json?"
    )));

    let file = send(&sandbox, get(&path_of(url)).body(Body::empty()).unwrap()).await;
    assert_eq!(file.status, StatusCode::OK);
    let sentences = file.json();
    let sentences = sentences.as_array().unwrap();
    assert!(!sentences.is_empty());
    for (order, sentence) in sentences.iter().enumerate() {
        assert_eq!(sentence["order"], order);
        assert!(sentence["entity_id"].is_i64());
        assert!(sentence["begin_time"].is_f64());
        assert!(
            ["host_salesman", "customer_contact"]
                .contains(&sentence["entity_type"].as_str().unwrap())
        );
        for field in [
            "name",
            "content",
            "end_time",
            "begin_percent",
            "end_percent",
            "channel",
        ] {
            assert!(!sentence[field].is_null(), "{field}");
        }
    }
}

#[tokio::test]
async fn asr_file_rejects_requests_carrying_an_authorization_header() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let (_, answer) = first_ready(&sandbox, &token).await;
    let path = path_of(answer["data"]["asr_file_url"].as_str().unwrap());
    let request = get(&path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let file = send(&sandbox, request).await;
    assert_eq!(file.status, StatusCode::FORBIDDEN);
    assert!(file.text().contains("AccessDenied"));
}

#[tokio::test]
async fn asr_file_rejects_a_tampered_signature_or_expiry() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let (_, answer) = first_ready(&sandbox, &token).await;
    let path = path_of(answer["data"]["asr_file_url"].as_str().unwrap());
    let tampered = path.replace("Expires=", "Expires=1");
    let file = send(&sandbox, get(&tampered).body(Body::empty()).unwrap()).await;
    assert_eq!(file.status, StatusCode::FORBIDDEN);
    let unsigned = path.split('?').next().unwrap().to_owned();
    let file = send(&sandbox, get(&unsigned).body(Body::empty()).unwrap()).await;
    assert_eq!(file.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn asr_data_reports_unfinished_transcripts_and_unknown_ids() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let mut unfinished = 0;
    for record in sandbox.records(SimVendor::Megaview) {
        let uri = format!(
            "/megaview/openapi/conversation/v1/conversations/{}/asr_data",
            record.native_id
        );
        let answer = get_with_token(&sandbox, &token, &uri).await;
        if answer.status == StatusCode::INTERNAL_SERVER_ERROR {
            assert_eq!(answer.json()["code"], 501_200);
            unfinished += 1;
        }
    }
    assert!(unfinished > 0);

    let unknown = "/megaview/openapi/conversation/v1/conversations/1/asr_data";
    let answer = get_with_token(&sandbox, &token, unknown).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["code"], 401_200);

    let origin = "/megaview/openapi/conversation/v1/origin_conversations/fscd-x/asr_data";
    let answer = get_with_token(&sandbox, &token, origin).await;
    assert_eq!(answer.json()["code"], 401_215);
}

#[tokio::test]
async fn single_conversation_routes_return_the_list_item() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let items = walk(&sandbox, &token, &json!({}), 100).await;
    let item = &items[3];
    let by_id = format!(
        "/megaview/openapi/conversation/v1/conversations/{}",
        item["id"]
    );
    assert_eq!(
        get_with_token(&sandbox, &token, &by_id).await.json()["data"],
        *item
    );
    let by_origin = format!(
        "/megaview/openapi/conversation/v1/origin_conversations/{}",
        item["origin_conversation_id"].as_str().unwrap()
    );
    assert_eq!(
        get_with_token(&sandbox, &token, &by_origin).await.json()["data"],
        *item
    );
}

#[tokio::test]
async fn asr_file_url_works_over_a_real_listener_without_the_token() {
    let sandbox = sandbox();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/megaview", listener.local_addr().unwrap());
    tokio::spawn(crate::serve(listener, sandbox.clone()));
    let http = reqwest::Client::new();
    let credentials = sandbox.credentials();
    let token: Value = http
        .post(format!("{base}/openapi/auth/v1/app_access_token/internal"))
        .json(&json!({
            "app_key": credentials.megaview_app_key,
            "app_secret": credentials.megaview_app_secret,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["data"]["app_access_token"].as_str().unwrap();
    let record = sandbox.records(SimVendor::Megaview)[0].native_id.clone();
    let asr: Value = http
        .get(format!(
            "{base}/openapi/conversation/v1/conversations/{record}/asr_data"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = asr["data"]["asr_file_url"].as_str().unwrap();
    assert!(url.starts_with(&base));
    let file = http.get(url).send().await.unwrap();
    assert_eq!(file.status().as_u16(), 200);
    let sentences: Value = file.json().await.unwrap();
    assert!(!sentences.as_array().unwrap().is_empty());
    let with_token = http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(with_token.status().as_u16(), 403);
}

#[tokio::test]
async fn list_answers_malformed_json_with_the_envelope() {
    let sandbox = sandbox();
    let token = token(&sandbox).await;
    let request = post(LIST)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from("{not json"))
        .unwrap();
    let answer = send(&sandbox, request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["code"], 400_001);
    assert!(answer.json()["data"].is_null());
}
