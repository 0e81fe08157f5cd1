//! Running it in production: consumer auth, metrics under traffic, the request id round
//! trip, load shedding, the per-consumer rate limit and request size limits.

use std::num::NonZeroU32;
use std::time::Duration;

use conversation_gateway::ratelimit::RateLimit;
use conversation_gateway::sandbox::{Faults, SimVendor};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::helpers::{Setup, TestApp, assert_problem};

const PLAIN_KEY: &str = "plain-consumer-key-0001";
const HASHED_KEY: &str = "hashed-consumer-key-0002";

async fn spawn_with_keys() -> TestApp {
    TestApp::spawn_with(Setup {
        edit: Box::new(|config| {
            let digest = hex::encode(Sha256::digest(HASHED_KEY.as_bytes()));
            config.auth.api_keys = vec![
                SecretString::from(PLAIN_KEY.to_owned()),
                SecretString::from(format!("sha256:{digest}")),
            ];
        }),
        ..Setup::default()
    })
    .await
}

async fn get_with_key(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base_url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn auth_refuses_a_missing_or_wrong_key_and_accepts_plain_and_hashed_keys() {
    let app = spawn_with_keys().await;

    let missing = app.get("/sources").await;
    let challenge = missing.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert_problem(missing, 401, "UNAUTHORIZED").await;

    let wrong = get_with_key(&app, "/sources", "not-a-key").await;
    assert!(wrong.headers().contains_key("www-authenticate"));
    assert_problem(wrong, 401, "UNAUTHORIZED").await;

    // The configured digest is not itself a key.
    let digest = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(HASHED_KEY.as_bytes()))
    );
    assert_problem(
        get_with_key(&app, "/sources", &digest).await,
        401,
        "UNAUTHORIZED",
    )
    .await;

    for key in [PLAIN_KEY, HASHED_KEY] {
        let response = get_with_key(&app, "/conversations?page_size=3", key).await;
        assert_eq!(response.status(), 200, "{key}");
    }
}

#[tokio::test]
async fn probes_and_docs_are_open_and_metrics_need_a_key_by_default() {
    let app = spawn_with_keys().await;
    for open in ["/healthz", "/readyz", "/openapi.json", "/docs/"] {
        assert_eq!(app.get(open).await.status(), 200, "{open}");
    }
    assert_problem(app.get("/metrics").await, 401, "UNAUTHORIZED").await;
    assert_eq!(
        get_with_key(&app, "/metrics", PLAIN_KEY).await.status(),
        200
    );
}

#[tokio::test]
async fn public_metrics_and_private_docs_follow_the_config() {
    let app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| {
            config.auth.api_keys = vec![SecretString::from(PLAIN_KEY.to_owned())];
            config.auth.public_metrics = true;
            config.auth.public_docs = false;
        }),
        ..Setup::default()
    })
    .await;
    assert_eq!(app.get("/metrics").await.status(), 200);
    assert_problem(app.get("/openapi.json").await, 401, "UNAUTHORIZED").await;
    assert_problem(app.get("/docs/").await, 401, "UNAUTHORIZED").await;
}

/// The value of the series whose line starts with `series` (name and labels), or 0.
async fn series(app: &TestApp, series: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_series_move_under_traffic_and_labels_carry_no_ids() {
    let app = TestApp::spawn().await;
    let requests =
        r#"gateway_http_requests_total{route="/conversations",method="GET",status="200"}"#;
    let latency = r#"gateway_http_request_duration_seconds_count{route="/conversations",method="GET",status="200"}"#;
    let upstream = r#"gateway_upstream_requests_total{source="helpdesk",endpoint="#;
    let hits = r#"gateway_cache_lookups_total{cache="slices",result="hit"}"#;
    let misses = r#"gateway_cache_lookups_total{cache="slices",result="miss"}"#;
    let (requests0, latency0, hits0, misses0) = (
        series(&app, requests).await,
        series(&app, latency).await,
        series(&app, hits).await,
        series(&app, misses).await,
    );

    let query = format!(
        "/conversations?source=helpdesk&page_size=5&{}",
        app.whole_history()
    );
    let (status, body) = app.get_json(&query).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app.get_json(&query).await;
    assert_eq!(status, 200);
    let id = body["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .get_json(&format!(
            "/conversations/{}/messages",
            crate::helpers::urlencode(&id)
        ))
        .await;
    assert_eq!(status, 200);

    // Other tests share the process-wide recorder: counts only ever grow by at least ours.
    assert!(series(&app, requests).await >= requests0 + 2.0);
    assert!(series(&app, latency).await >= latency0 + 2.0);
    assert!(
        series(&app, misses).await >= misses0 + 1.0,
        "the first read misses"
    );
    assert!(
        series(&app, hits).await >= hits0 + 1.0,
        "the same read again hits"
    );
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains(upstream), "{text}");
    assert!(text.contains(r#"outcome="success""#), "{text}");
    assert!(
        text.contains(r#"route="/conversations/{id}/messages""#),
        "{text}"
    );
    assert!(text.contains("gateway_build_info{version="), "{text}");
    assert!(text.contains("gateway_limiter_wait_seconds_bucket{source=\"helpdesk\""));
    let native = id.split_once(':').unwrap().1;
    assert!(
        !text.contains(native),
        "an id leaked into a label: {native}"
    );
}

#[tokio::test]
async fn a_cache_too_small_for_its_answers_counts_what_it_drops() {
    let app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| config.cache.max_items = 20),
        ..Setup::default()
    })
    .await;
    let evictions = r#"gateway_cache_evictions_total{cache="messages"}"#;
    let before = series(&app, evictions).await;
    let (status, body) = app
        .get_json(&format!(
            "/conversations?source=helpdesk&page_size=30&{}",
            app.whole_history()
        ))
        .await;
    assert_eq!(status, 200, "{body}");

    // Each transcript is kept as it arrives; the cache makes room for it in its own
    // housekeeping, which runs on later reads.
    let mut after = before;
    for conversation in body["data"].as_array().unwrap() {
        let id = conversation["id"].as_str().unwrap();
        let path = format!("/conversations/{}/messages", crate::helpers::urlencode(id));
        let (status, _) = app.get_json(&path).await;
        assert_eq!(status, 200);
        after = series(&app, evictions).await;
        if after > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        after > before,
        "no eviction counted ({before} before, {after} after)"
    );
}

#[tokio::test]
async fn the_request_id_is_returned_as_sent_or_generated() {
    let app = TestApp::spawn().await;
    let sent = app
        .http
        .get(format!("{}/sources", app.base_url))
        .header("x-request-id", "ops-test-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.headers()["x-request-id"], "ops-test-7f3a");

    let generated = app.get("/no-such-route").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_problem(generated, 404, "ROUTE_NOT_FOUND").await;
}

#[tokio::test]
async fn a_long_or_unsafe_request_id_is_replaced_by_a_generated_one() {
    let app = TestApp::spawn().await;
    for unsafe_id in [
        "x".repeat(16 * 1024),
        "<script>alert(1)</script>".to_owned(),
        "a b".to_owned(),
        "x".repeat(65),
    ] {
        let answer = app
            .http
            .get(format!("{}/sources", app.base_url))
            .header("x-request-id", unsafe_id.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let id = answer.headers()["x-request-id"].to_str().unwrap();
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "{unsafe_id:.40} came back as {id:.40}"
        );
    }
    let longest_kept = "a".repeat(64);
    let answer = app
        .http
        .get(format!("{}/sources", app.base_url))
        .header("x-request-id", longest_kept.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], longest_kept.as_str());
}

#[tokio::test]
async fn a_burst_beyond_the_concurrency_limit_is_shed_with_503_and_probes_still_answer() {
    let app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| config.server.max_concurrent_requests = 2),
        ..Setup::default()
    })
    .await;
    // Slow vendors hold the two slots while the rest of the burst arrives.
    let slow = Faults {
        latency: Duration::from_secs(3),
        ..Faults::default()
    };
    app.sandbox.set_faults(SimVendor::Udesk, slow);
    let burst: Vec<_> = (0..12)
        .map(|_| {
            let http = app.http.clone();
            let url = format!("{}/conversations?source=helpdesk&page_size=1", app.base_url);
            tokio::spawn(async move { http.get(url).send().await.unwrap() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "probes are never shed"
    );

    let mut shed = 0;
    let mut served = 0;
    for response in futures::future::join_all(burst).await {
        let response = response.unwrap();
        match response.status().as_u16() {
            200 => served += 1,
            503 => {
                assert_eq!(response.headers()["retry-after"], "1");
                assert_problem(response, 503, "OVERLOADED").await;
                shed += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(served >= 1, "nothing was served");
    assert!(shed >= 1, "nothing was shed (served {served})");
}

#[tokio::test]
async fn a_consumer_over_its_rate_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| {
            config.auth.api_keys = vec![SecretString::from(PLAIN_KEY.to_owned())];
            config.server.consumer_rate_limit = Some(RateLimit {
                per_second: NonZeroU32::new(1).unwrap(),
                burst: NonZeroU32::new(3).unwrap(),
            });
        }),
        ..Setup::default()
    })
    .await;
    let mut limited = None;
    for _ in 0..10 {
        let response = get_with_key(&app, "/sources", PLAIN_KEY).await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), 200);
    }
    let limited = limited.expect("10 requests at a 1/s rate, burst 3, hit the limit");
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "CONSUMER_RATE_LIMITED").await;
    // Probes are not counted against anyone.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn oversized_uris_and_headers_are_refused() {
    let app = TestApp::spawn().await;
    let long = format!("/conversations?customer_id={}", "x".repeat(9000));
    assert_problem(app.get(&long).await, 414, "URI_TOO_LONG").await;
    let big = app
        .http
        .get(format!("{}/sources", app.base_url))
        .header("x-padding", "y".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_problem(big, 431, "HEADERS_TOO_LARGE").await;
}
