//! Hostile sockets over real TCP: slow or silent clients, idle keep-alives, the connection
//! cap, and problem+json for requests hyper refuses before the router sees them.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::helpers::{Setup, TestApp, assert_problem};

/// How long a test waits for the server to act. Generous: the machine is shared, and these
/// tests only check that the server acts at all, never how fast.
const PATIENCE: Duration = Duration::from_secs(10);
/// A request head that is complete and asks to keep the connection.
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n";

/// A gateway with `header_read_timeout_ms`, `keep_alive_timeout_ms` and `max_connections`.
async fn spawn(header_read: Duration, keep_alive: Duration, max_connections: usize) -> TestApp {
    TestApp::spawn_with(Setup {
        edit: Box::new(move |config| {
            config.server.header_read_timeout = header_read;
            config.server.keep_alive_timeout = keep_alive;
            config.server.max_connections = max_connections;
        }),
        ..Setup::default()
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base_url.trim_start_matches("http://");
    TcpStream::connect(addr).await.unwrap()
}

/// Reads until the server closes the connection. Panics if it is still open after
/// [`PATIENCE`]; returns what the server sent.
async fn expect_closed(stream: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut received = Vec::new();
    let read = timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "{what}: the server kept the connection open for {PATIENCE:?}"
    );
    received
}

/// One HTTP/1.1 response read off a raw socket.
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Asserts a problem+json body with `status` and `code`.
    fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let body: Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status, "{body}");
        for field in ["type", "title", "detail"] {
            assert!(body[field].is_string(), "{field} missing: {body}");
        }
        body
    }
}

/// Reads one response (its body by `content-length`) from `stream`, keeping whatever
/// follows it in `pending` for the next call.
async fn read_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> RawResponse {
    let read = async {
        let mut buf = [0u8; 4096];
        let head_end = loop {
            if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before a response: {pending:?}");
            pending.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8(pending[..head_end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, value)| value.parse().unwrap());
        while pending.len() < head_end + length {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed in a body");
            pending.extend_from_slice(&buf[..n]);
        }
        let body = pending[head_end..head_end + length].to_vec();
        pending.drain(..head_end + length);
        RawResponse {
            status,
            headers,
            body,
        }
    };
    timeout(PATIENCE, read).await.expect("no response in time")
}

#[tokio::test]
async fn a_silent_or_half_sent_request_head_is_closed_after_the_header_timeout() {
    let app = spawn(Duration::from_millis(300), Duration::from_secs(60), 100).await;
    let partial_heads: [&[u8]; 3] = [
        b"",
        b"GET /healthz HT",
        b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: ",
    ];
    let mut streams = Vec::new();
    for head in partial_heads {
        let mut stream = connect(&app).await;
        stream.write_all(head).await.unwrap();
        streams.push((stream, head));
    }
    for (mut stream, head) in streams {
        let what = String::from_utf8_lossy(head).into_owned();
        let sent = expect_closed(&mut stream, &what).await;
        assert!(
            sent.is_empty(),
            "{what}: {}",
            String::from_utf8_lossy(&sent)
        );
    }
}

#[tokio::test]
async fn trickling_a_request_head_does_not_extend_the_header_timeout() {
    let app = spawn(Duration::from_millis(300), Duration::from_secs(60), 100).await;
    let mut stream = connect(&app).await;
    let (mut reader, mut writer) = stream.split();
    // A byte every 50 ms: never silent for long, never finishing the head.
    let trickle = async {
        writer
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        for _ in 0..400 {
            if writer.write_all(b"X").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let closed = async {
        let mut buf = [0u8; 64];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let outcome = timeout(PATIENCE, async {
        tokio::select! {
            () = closed => true,
            () = trickle => false,
        }
    })
    .await;
    assert_eq!(outcome, Ok(true), "the trickling client was not cut off");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let app = spawn(Duration::from_secs(30), Duration::from_millis(300), 100).await;
    let mut stream = connect(&app).await;
    let mut pending = Vec::new();
    // Two requests on one connection: keep-alive itself works.
    for _ in 0..2 {
        stream.write_all(HEALTHZ).await.unwrap();
        assert_eq!(read_response(&mut stream, &mut pending).await.status, 200);
    }
    let sent = expect_closed(&mut stream, "idle keep-alive").await;
    assert!(sent.is_empty(), "{}", String::from_utf8_lossy(&sent));
}

#[tokio::test]
async fn idle_time_between_requests_is_not_held_to_the_header_timeout() {
    // nginx's rule: waiting for the next request is keep-alive time; the head timer starts
    // with its first byte.
    let app = spawn(Duration::from_millis(300), Duration::from_secs(60), 100).await;
    let mut stream = connect(&app).await;
    let mut pending = Vec::new();
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut stream, &mut pending).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut stream, &mut pending).await.status, 200);
}

#[tokio::test]
async fn a_connection_beyond_max_connections_waits_until_one_closes() {
    let app = spawn(Duration::from_secs(30), Duration::from_secs(60), 2).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&app).await;
        let mut pending = Vec::new();
        stream.write_all(HEALTHZ).await.unwrap();
        assert_eq!(read_response(&mut stream, &mut pending).await.status, 200);
        held.push(stream);
    }

    let mut third = connect(&app).await;
    third.write_all(HEALTHZ).await.unwrap();
    let mut buf = [0u8; 64];
    let early = timeout(Duration::from_millis(1000), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "connection 3 of 2 was served while both were open: {early:?}"
    );

    drop(held.pop());
    let mut pending = Vec::new();
    let response = read_response(&mut third, &mut pending).await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn healthz_answers_while_slow_sockets_are_open() {
    let app = spawn(Duration::from_millis(500), Duration::from_secs(60), 6).await;
    // Below the cap: the slow ones take 4 of 6 connections.
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let fresh = reqwest::Client::new();
    let answer = timeout(
        PATIENCE,
        fresh.get(format!("{}/healthz", app.base_url)).send(),
    )
    .await
    .expect("healthz did not answer below the cap")
    .unwrap();
    assert_eq!(answer.status(), 200);

    // At the cap: the header timeout frees the slow ones' places for a normal client.
    for _ in 0..6 {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let answer = timeout(
        PATIENCE,
        reqwest::Client::new()
            .get(format!("{}/healthz", app.base_url))
            .send(),
    )
    .await
    .expect("healthz did not answer once the slow sockets were cut")
    .unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn a_uri_of_70_kb_gets_a_414_problem() {
    // A raw socket: the `http` crate will not even build a URI this long.
    let app = TestApp::spawn().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "GET /conversations?customer_id={} HTTP/1.1\r\nHost: gateway\r\n\r\n",
        "x".repeat(70 * 1024)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let response = read_response(&mut stream, &mut Vec::new()).await;
    let body = response.assert_problem(414, "URI_TOO_LONG");
    assert!(body["detail"].as_str().unwrap().contains("8192"), "{body}");
}

#[tokio::test]
async fn a_request_with_120_headers_gets_a_431_problem() {
    let app = TestApp::spawn().await;
    let mut request = app.http.get(format!("{}/sources", app.base_url));
    for index in 0..120 {
        request = request.header(format!("x-extra-{index}"), "1");
    }
    let body = assert_problem(request.send().await.unwrap(), 431, "HEADERS_TOO_LARGE").await;
    assert!(body["detail"].as_str().unwrap().contains("100"), "{body}");
}

#[tokio::test]
async fn a_malformed_request_gets_a_400_problem_even_after_a_good_one() {
    let app = TestApp::spawn().await;
    let mut stream = connect(&app).await;
    let mut pending = Vec::new();
    // Pipelined: the good request's answer comes first, then the refusal.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\nGET /healthz HTTP/1.1\r\nBad Header\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut pending).await.status, 200);
    let refused = read_response(&mut stream, &mut pending).await;
    refused.assert_problem(400, "MALFORMED_REQUEST");
    assert!(refused.header("x-request-id").is_some());
    assert_eq!(refused.header("connection"), Some("close"));
    expect_closed(&mut stream, "after a malformed request").await;

    let mut stream = connect(&app).await;
    stream.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
    read_response(&mut stream, &mut Vec::new())
        .await
        .assert_problem(400, "MALFORMED_REQUEST");
}

#[tokio::test]
async fn an_unknown_docs_path_gets_a_404_problem() {
    let app = TestApp::spawn().await;
    assert_problem(app.get("/docs/nope").await, 404, "ROUTE_NOT_FOUND").await;
    assert_problem(
        app.get("/docs/nope/deeper.js").await,
        404,
        "ROUTE_NOT_FOUND",
    )
    .await;
    assert_eq!(app.get("/docs/").await.status(), 200);
    assert_eq!(app.get("/docs/swagger-ui.css").await.status(), 200);
}
