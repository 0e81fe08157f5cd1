//! Tests across the four simulators: faults and the gate, the call log, determinism (same
//! config and requests, same bytes), the records and the list order.

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use serde_json::json;

use super::testing::{config, get, json_body, post, sandbox, send, udesk_query};
use super::{Faults, ListOrder, Sandbox, SandboxConfig, SignAlgorithm, SimVendor, Throttle};

fn gptbots_list(sandbox: &Sandbox) -> axum::http::Request<Body> {
    let key = &sandbox.credentials().gptbots_api_key;
    get("/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=0&end_time=9999999999999&page=1&page_size=10")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn error_rate_one_answers_every_request_with_a_server_error() {
    let sandbox = sandbox();
    sandbox.set_faults(
        SimVendor::Gptbots,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    for _ in 0..5 {
        let answer = send(&sandbox, gptbots_list(&sandbox)).await;
        assert!(answer.status.is_server_error());
        assert_eq!(answer.json()["code"], 50000);
    }
}

#[tokio::test(start_paused = true)]
async fn throttle_answers_429_with_retry_after_once_the_burst_is_spent() {
    let sandbox = sandbox();
    sandbox.set_faults(
        SimVendor::Gptbots,
        Faults {
            throttle: Some(Throttle {
                per_second: 1,
                burst: 2,
                retry_after_seconds: Some(3),
            }),
            ..Faults::default()
        },
    );
    let first = send(&sandbox, gptbots_list(&sandbox)).await;
    let second = send(&sandbox, gptbots_list(&sandbox)).await;
    let third = send(&sandbox, gptbots_list(&sandbox)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.headers["retry-after"], "3");

    tokio::time::advance(Duration::from_secs(1)).await;
    let refilled = send(&sandbox, gptbots_list(&sandbox)).await;
    assert_eq!(refilled.status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn timeout_fault_hangs_and_then_answers_504() {
    let sandbox = sandbox();
    sandbox.set_faults(
        SimVendor::Gptbots,
        Faults {
            timeout_rate: 1.0,
            hang: Duration::from_secs(30),
            ..Faults::default()
        },
    );
    let started = tokio::time::Instant::now();
    let answer = send(&sandbox, gptbots_list(&sandbox)).await;
    assert_eq!(answer.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(started.elapsed() >= Duration::from_secs(30));
}

#[tokio::test]
async fn faults_of_one_vendor_leave_the_others_alone() {
    let sandbox = sandbox();
    sandbox.set_faults(
        SimVendor::Megaview,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let answer = send(&sandbox, gptbots_list(&sandbox)).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn calls_are_recorded_in_order_including_rejected_and_unknown_ones() {
    let sandbox = sandbox();
    send(&sandbox, gptbots_list(&sandbox)).await;
    let rejected = get("/gptbots/v2/messages?conversation_id=x&page=1&page_size=10")
        .body(Body::empty())
        .unwrap();
    send(&sandbox, rejected).await;
    let unknown = get("/udesk/api/v1/nothing-here")
        .body(Body::empty())
        .unwrap();
    send(&sandbox, unknown).await;

    let calls = sandbox.calls();
    let seen: Vec<_> = calls
        .iter()
        .map(|call| (call.vendor, call.endpoint, call.status))
        .collect();
    assert_eq!(
        seen,
        vec![
            (SimVendor::Gptbots, "list", 200),
            (SimVendor::Gptbots, "messages", 401),
            (SimVendor::Udesk, "not_found", 404),
        ]
    );
    assert!(calls[0].at <= calls[1].at && calls[1].at <= calls[2].at);

    sandbox.reset_calls();
    assert!(sandbox.calls().is_empty());
}

#[tokio::test]
async fn two_sandboxes_with_the_same_config_answer_identically() {
    let first = sandbox();
    let second = sandbox();
    for vendor in SimVendor::ALL {
        assert_eq!(first.records(vendor), second.records(vendor));
    }
    let a = send(&first, gptbots_list(&first)).await;
    let b = send(&second, gptbots_list(&second)).await;
    assert_eq!(a.body, b.body);
}

/// One request per vendor whose answer must not depend on anything but the config and the
/// order of requests.
async fn fixed_sequence(sandbox: &Sandbox, udesk_timestamp: i64) -> Vec<Vec<u8>> {
    let credentials = sandbox.credentials().clone();
    let token_body = json!({
        "app_key": credentials.megaview_app_key,
        "app_secret": credentials.megaview_app_secret,
    });
    let token = send(
        sandbox,
        json_body(
            post("/megaview/openapi/auth/v1/app_access_token/internal"),
            &token_body,
        ),
    )
    .await;
    let bearer = format!(
        "Bearer {}",
        token.json()["data"]["app_access_token"].as_str().unwrap()
    );
    let list = send(
        sandbox,
        json_body(
            post("/megaview/openapi/conversation/v1/conversations/list").header("authorization", bearer),
            &json!({"begin_time": "2025-02-22 00:00:00", "end_time": "2025-03-01 00:00:00", "page_size": 100}),
        ),
    )
    .await;
    let udesk_uri = format!(
        "/udesk/api/v1/sessions?{}",
        udesk_query(sandbox, udesk_timestamp, SignAlgorithm::Sha1)
    );
    let sessions = send(
        sandbox,
        json_body(
            post(&udesk_uri),
            &json!({"robotId": credentials.udesk_robot_id, "startTime": "2025-02-01 00:00:00", "endTime": "2025-03-02 00:00:00", "pageSize": 99}),
        ),
    )
    .await;
    let jijyun_uri = format!(
        "/jijyun/v1/openapi/chat/record?apiKey={}",
        credentials.jijyun_api_key
    );
    let chats = send(
        sandbox,
        json_body(
            post(&jijyun_uri),
            &json!({"customer_id": sandbox.jijyun_customers()[1]}),
        ),
    )
    .await;
    let gptbots = send(sandbox, gptbots_list(sandbox)).await;
    [token, list, sessions, chats, gptbots]
        .into_iter()
        .map(|answer| {
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
            answer.body
        })
        .collect()
}

#[tokio::test]
async fn the_same_config_and_requests_give_byte_identical_answers() {
    let timestamp = chrono::Utc::now().timestamp();
    let first = fixed_sequence(&sandbox(), timestamp).await;
    let second = fixed_sequence(&sandbox(), timestamp).await;
    assert_eq!(first, second);

    let other_seed = Sandbox::new(SandboxConfig {
        seed: 7,
        ..config()
    });
    let third = fixed_sequence(&other_seed, timestamp).await;
    assert_ne!(first[1], third[1]);
}

#[tokio::test(start_paused = true)]
async fn latency_delays_every_answer() {
    let sandbox = sandbox();
    sandbox.set_faults(
        SimVendor::Gptbots,
        Faults {
            latency: Duration::from_millis(750),
            ..Faults::default()
        },
    );
    let started = tokio::time::Instant::now();
    let answer = send(&sandbox, gptbots_list(&sandbox)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(750));
}

#[tokio::test]
async fn every_vendor_answers_faults_in_its_own_envelope() {
    let sandbox = sandbox();
    let broken = Faults {
        error_rate: 1.0,
        ..Faults::default()
    };
    for vendor in SimVendor::ALL {
        sandbox.set_faults(vendor, broken.clone());
    }
    let udesk = send(
        &sandbox,
        post("/udesk/api/v1/sessions").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(udesk.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(udesk.json()["code"], 500);
    let jijyun = send(
        &sandbox,
        post("/jijyun/v1/openapi/chat/record")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(jijyun.json()["Code"], 5000);
    let megaview = send(
        &sandbox,
        post("/megaview/openapi/conversation/v1/conversations/list")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(megaview.json()["code"], 500_000);
    let file = send(
        &sandbox,
        get("/megaview/files/asr/1.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(file.status.is_server_error());
    assert!(file.text().contains("<Code>InternalError</Code>"));
}

#[tokio::test]
async fn the_megaview_file_host_is_outside_the_api_throttle() {
    let sandbox = sandbox();
    sandbox.set_faults(
        SimVendor::Megaview,
        Faults {
            throttle: Some(Throttle {
                per_second: 0,
                burst: 1,
                retry_after_seconds: Some(1),
            }),
            ..Faults::default()
        },
    );
    let list = || {
        post("/megaview/openapi/conversation/v1/conversations/list")
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(&sandbox, list()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let throttled = send(&sandbox, list()).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.json()["code"], 429_001);
    assert_eq!(throttled.headers["retry-after"], "1");
    for _ in 0..3 {
        let file = send(
            &sandbox,
            get("/megaview/files/asr/1.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(file.status, StatusCode::FORBIDDEN);
    }
}

#[test]
fn records_cover_every_vendor_with_the_configured_count() {
    let sandbox = sandbox();
    for vendor in SimVendor::ALL {
        let records = sandbox.records(vendor);
        assert_eq!(records.len(), 120, "{vendor:?}");
        let mut ids: Vec<_> = records.iter().map(|r| r.native_id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 120, "{vendor:?} ids are unique");
    }
    let customers = sandbox.jijyun_customers();
    assert!((8..=12).contains(&customers.len()));
}

/// The message answers of the first `n` conversations of GPTBots and Udesk, asked for in
/// the given order and returned in record order.
async fn messages_of(sandbox: &Sandbox, n: usize, reverse: bool) -> Vec<Vec<u8>> {
    let key = &sandbox.credentials().gptbots_api_key;
    let timestamp = chrono::Utc::now().timestamp();
    let mut uris = Vec::new();
    for record in sandbox.records(SimVendor::Gptbots).into_iter().take(n) {
        uris.push(format!(
            "/gptbots/v2/messages?conversation_id={}&page=1&page_size=100",
            record.native_id
        ));
    }
    for record in sandbox.records(SimVendor::Udesk).into_iter().take(n) {
        uris.push(format!(
            "/udesk/api/v1/sessions/{}/logs?pageNum=1&pageSize=99&{}",
            record.native_id,
            udesk_query(sandbox, timestamp, SignAlgorithm::Sha1)
        ));
    }
    let mut order: Vec<usize> = (0..uris.len()).collect();
    if reverse {
        order.reverse();
    }
    let mut bodies = vec![Vec::new(); uris.len()];
    for at in order {
        let request = get(&uris[at])
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap();
        let answer = send(sandbox, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        bodies[at] = answer.body;
    }
    bodies
}

#[tokio::test]
async fn messages_are_the_same_whatever_the_order_they_are_asked_for() {
    let forward = messages_of(&sandbox(), 12, false).await;
    let backward = messages_of(&sandbox(), 12, true).await;
    assert_eq!(forward, backward);
    let again = sandbox();
    assert_eq!(messages_of(&again, 12, true).await, forward);
    assert_eq!(messages_of(&again, 12, false).await, forward);
}

#[test]
fn the_list_order_comes_from_the_config_and_can_be_switched() {
    assert_eq!(sandbox().list_order(), ListOrder::Documented);
    let arbitrary = Sandbox::new(SandboxConfig {
        list_order: ListOrder::Arbitrary,
        ..config()
    });
    assert_eq!(arbitrary.list_order(), ListOrder::Arbitrary);
    arbitrary.set_list_order(ListOrder::Documented);
    assert_eq!(arbitrary.list_order(), ListOrder::Documented);
}

#[test]
fn vendor_keys_match_their_prefixes() {
    let keys: Vec<_> = SimVendor::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(keys, ["megaview", "gptbots", "udesk", "jijyun"]);
}
