//! Bad input gets a 400 (or 404/405) `application/problem+json` naming what was wrong.

use crate::helpers::{TestApp, assert_problem, urlencode};

#[tokio::test]
async fn bad_queries_get_a_400_problem_naming_the_parameter() {
    // Arrange
    let app = TestApp::spawn().await;
    let cases = [
        ("page_size=0", "INVALID_PARAMETER", "page_size"),
        ("page_size=101", "INVALID_PARAMETER", "page_size"),
        ("page_size=ten", "INVALID_PARAMETER", "page_size"),
        ("since=yesterday", "INVALID_PARAMETER", "since"),
        ("until=2025-01-01T00:00:00", "INVALID_PARAMETER", "until"),
        (
            "since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z",
            "INVALID_PARAMETER",
            "since",
        ),
        (
            "since=2024-01-01T00:00:00Z&until=2025-01-01T00:00:00Z",
            "INVALID_PARAMETER",
            "until",
        ),
        ("source=nosuch", "UNKNOWN_SOURCE", "nosuch"),
        ("vendor=acme", "INVALID_PARAMETER", "vendor"),
        ("vendor=", "INVALID_PARAMETER", "vendor"),
        ("source=helpdesk,,sales", "INVALID_PARAMETER", "source"),
        ("pagesize=5", "INVALID_PARAMETER", "pagesize"),
        ("include=everything", "INVALID_PARAMETER", "include"),
        ("page_token=garbage", "INVALID_PAGE_TOKEN", "page_token"),
        (
            "customer_id=a&customer_id=b",
            "INVALID_PARAMETER",
            "customer_id",
        ),
        ("page_size=%FF", "INVALID_PARAMETER", "page_size"),
    ];

    for (query, code, named) in cases {
        // Act
        let response = app.get(&format!("/conversations?{query}")).await;

        // Assert
        let body = assert_problem(response, 400, code).await;
        assert!(
            body["detail"].as_str().unwrap().contains(named),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn a_page_token_is_refused_when_tampered_with_or_reused_with_other_filters() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, first) = app
        .get_json("/conversations?source=helpdesk&page_size=2")
        .await;
    let token = first["next_page_token"].as_str().unwrap().to_owned();
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    // Act + Assert
    let ok = app
        .get(&format!(
            "/conversations?source=helpdesk&page_size=5&page_token={}",
            urlencode(&token)
        ))
        .await;
    assert_eq!(
        ok.status().as_u16(),
        200,
        "the same filters with another page size are fine"
    );
    for query in [
        format!("source=helpdesk&page_token={}", urlencode(&tampered)),
        format!(
            "source=helpdesk&page_token={}",
            urlencode(&token[..token.len() - 3])
        ),
        format!("source=sales&page_token={}", urlencode(&token)),
        format!("page_token={}", urlencode(&token)),
    ] {
        assert_problem(
            app.get(&format!("/conversations?{query}")).await,
            400,
            "INVALID_PAGE_TOKEN",
        )
        .await;
    }
    let messages_token = "eyJjIjoiaGVscGRlc2s6MSIsIm8iOjF9.AAAAAAAAAAAAAAAAAAAAAA";
    assert_problem(
        app.get(&format!(
            "/conversations/helpdesk:1/messages?page_token={messages_token}"
        ))
        .await,
        400,
        "INVALID_PAGE_TOKEN",
    )
    .await;
}

#[tokio::test]
async fn malformed_ids_routes_and_methods_get_problems_too() {
    let app = TestApp::spawn().await;
    assert_problem(
        app.get("/conversations/nocolon/messages").await,
        400,
        "INVALID_CONVERSATION_ID",
    )
    .await;
    assert_problem(
        app.get("/conversations/Bad%20Source:1/messages").await,
        400,
        "INVALID_CONVERSATION_ID",
    )
    .await;
    assert_problem(
        app.get("/conversations/helpdesk:1%00/messages").await,
        400,
        "INVALID_CONVERSATION_ID",
    )
    .await;
    assert_problem(
        app.get("/conversations/helpdesk:1/messages?page_size=0")
            .await,
        400,
        "INVALID_PARAMETER",
    )
    .await;
    assert_problem(app.get("/nowhere").await, 404, "ROUTE_NOT_FOUND").await;
    let post = app
        .http
        .post(format!("{}/conversations", app.base_url))
        .send()
        .await
        .unwrap();
    assert_problem(post, 405, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = TestApp::spawn().await;
    let generated = app.get("/healthz").await;
    assert!(generated.headers().contains_key("x-request-id"));
    let given = app
        .http
        .get(format!("{}/nowhere", app.base_url))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-123");
}
