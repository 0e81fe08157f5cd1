//! Traces: the binary, configured with `[telemetry]`, exports over OTLP/HTTP to a real
//! receiver on loopback that decodes the protobuf it gets; and a collector that never
//! answers slows no request and does not hold the exit.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as HttpStatus};
use axum::routing::post;
use conversation_gateway::sandbox::{
    self, Faults, Sandbox, SandboxConfig, SandboxCredentials, SimVendor,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue as Any, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};
use prost::Message;
use tokio::net::TcpListener;

const BIN: &str = env!("CARGO_BIN_EXE_conversation-gateway");
const CONSUMER_KEY: &str = "consumer-key-SECRET-otel";
/// The caller's trace: W3C's own example ids.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID: &str = "00f067aa0ba902b7";
const TRACESTATE: &str = "congo=t61rcWkgMzE";
/// Generous: spans arrive at shutdown or after the 5 s batch delay, on a shared machine.
const PATIENCE: Duration = Duration::from_secs(20);

/// Every span a collector received, each with the `service.name` of its resource.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Span)>>>);

impl Received {
    fn spans(&self) -> Vec<(String, Span)> {
        self.0.lock().unwrap().clone()
    }
}

/// An OTLP/HTTP receiver: `POST /v1/traces` with a protobuf `ExportTraceServiceRequest`.
async fn start_receiver() -> (String, Received) {
    async fn traces(
        State(received): State<Received>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (HttpStatus, Vec<u8>) {
        let protobuf = headers
            .get("content-type")
            .is_some_and(|value| value == "application/x-protobuf");
        if !protobuf {
            return (HttpStatus::UNSUPPORTED_MEDIA_TYPE, Vec::new());
        }
        let Ok(export) = ExportTraceServiceRequest::decode(body) else {
            return (HttpStatus::BAD_REQUEST, Vec::new());
        };
        let mut spans = received.0.lock().unwrap();
        for ResourceSpans {
            resource,
            scope_spans,
            ..
        } in export.resource_spans
        {
            let service = resource
                .and_then(|resource| text(&resource.attributes, "service.name"))
                .unwrap_or_default();
            for span in scope_spans.into_iter().flat_map(|scope| scope.spans) {
                spans.push((service.clone(), span));
            }
        }
        // An empty `ExportTraceServiceResponse`: everything accepted.
        (HttpStatus::OK, Vec::new())
    }
    let received = Received::default();
    let app = Router::new()
        .route("/v1/traces", post(traces))
        .with_state(received.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attribute(attributes, key)? {
        AnyValue::StringValue(value) => Some(value.clone()),
        _ => None,
    }
}

fn integer(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match attribute(attributes, key)? {
        AnyValue::IntValue(value) => Some(*value),
        _ => None,
    }
}

/// Every string an attribute, event or link of `span` holds, keys included.
fn strings(span: &Span) -> Vec<String> {
    fn walk(value: &Any, out: &mut Vec<String>) {
        match &value.value {
            Some(AnyValue::StringValue(text)) => out.push(text.clone()),
            Some(AnyValue::ArrayValue(array)) => {
                array.values.iter().for_each(|item| walk(item, out));
            }
            Some(AnyValue::KvlistValue(list)) => list.values.iter().for_each(|kv| {
                out.push(kv.key.clone());
                kv.value.iter().for_each(|item| walk(item, out));
            }),
            _ => {}
        }
    }
    let mut out = vec![span.name.clone(), span.trace_state.clone()];
    let attributes = span
        .attributes
        .iter()
        .chain(span.events.iter().flat_map(|event| &event.attributes))
        .chain(span.links.iter().flat_map(|link| &link.attributes));
    for kv in attributes {
        out.push(kv.key.clone());
        kv.value.iter().for_each(|value| walk(value, &mut out));
    }
    out.extend(span.events.iter().map(|event| event.name.clone()));
    out
}

/// A running gateway binary and the lines it logged.
struct Gateway {
    child: Child,
    base_url: String,
    lines: mpsc::Receiver<String>,
    dir: PathBuf,
}

impl Gateway {
    /// Starts the binary with `config` and JSON logs at `rust_log`, and waits until it
    /// listens.
    fn start(name: &str, config: &str, rust_log: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("gateway-telemetry-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gateway.toml");
        std::fs::write(&path, config).unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", rust_log)
            .env("TEST_CONSUMER_KEY", CONSUMER_KEY)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let (addr, lines) = crate::helpers::follow_json_logs(&mut child);
        Self {
            child,
            base_url: format!("http://{addr}"),
            lines,
            dir,
        }
    }

    /// SIGTERM, as an orchestrator stops it; returns how long the exit took.
    fn stop(&mut self) -> Duration {
        let asked = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                asked.elapsed() < Duration::from_secs(60),
                "the gateway did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        asked.elapsed()
    }

    fn logged(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sources(sim: std::net::SocketAddr, credentials: &SandboxCredentials) -> String {
    crate::helpers::simulator_sources(sim, credentials, &credentials.megaview_app_secret)
}

async fn start_sandbox() -> (Sandbox, std::net::SocketAddr, SandboxCredentials) {
    let credentials = SandboxCredentials {
        megaview_app_key: "mv-app-key-SECRET-otel".to_owned(),
        megaview_app_secret: "mv-app-secret-SECRET-otel".to_owned(),
        gptbots_api_key: "gb-api-key-SECRET-otel".to_owned(),
        udesk_api_token: "ud-api-token-SECRET-otel".to_owned(),
        jijyun_api_key: "jj-api-key-SECRET-otel".to_owned(),
        ..SandboxCredentials::default()
    };
    let sandbox = Sandbox::new(SandboxConfig {
        conversations_per_vendor: 30,
        credentials: credentials.clone(),
        ..SandboxConfig::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = listener.local_addr().unwrap();
    tokio::spawn(sandbox::serve(listener, sandbox.clone()));
    (sandbox, sim, credentials)
}

fn urlencode(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

fn window(sandbox: &Sandbox) -> String {
    let until = sandbox.config().anchor + chrono::Duration::minutes(1);
    let since = until - chrono::Duration::days(29);
    format!(
        "since={}&until={}",
        urlencode(&since.to_rfc3339()),
        urlencode(&until.to_rfc3339())
    )
}

#[tokio::test]
async fn a_request_with_a_traceparent_is_exported_as_one_trace_through_every_vendor_call() {
    // Arrange
    let (collector, received) = start_receiver().await;
    let (sandbox, sim, credentials) = start_sandbox().await;
    // Every Udesk call fails, so its retry shows up as a second attempt.
    sandbox.set_faults(
        SimVendor::Udesk,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let config = format!(
        "[auth]\napi_keys = [\"${{TEST_CONSUMER_KEY}}\"]\n[telemetry]\notlp_endpoint = \"{collector}\"\nservice_name = \"gateway-under-test\"\nsampling_ratio = 1.0\n{}",
        sources(sim, &credentials)
    );
    // Debug lines, so there are log lines inside the request to check.
    let mut gateway = Gateway::start("export", &config, "info,conversation_gateway=debug");
    let customer = sandbox.jijyun_customers()[0].clone();
    let http = reqwest::Client::new();
    let traced_get = |query: String| {
        http.get(format!("{}/conversations?{query}", gateway.base_url))
            .bearer_auth(CONSUMER_KEY)
            .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
            .header("tracestate", TRACESTATE)
            .send()
    };

    // Act: every source but Jijyun, then Jijyun (it needs a customer), in one caller trace.
    let response = traced_get(format!("page_size=50&{}", window(&sandbox)))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let inbox = traced_get(format!(
        "source=inbox&customer_id={customer}&{}",
        window(&sandbox)
    ))
    .await
    .unwrap();
    assert_eq!(inbox.status(), 200);
    // Graceful shutdown flushes what is queued.
    gateway.stop();
    let deadline = Instant::now() + PATIENCE;
    let spans = loop {
        let spans = received.spans();
        let upstream = spans.iter().filter(|(_, s)| s.name == "upstream").count();
        let requests = spans.iter().filter(|(_, s)| s.name == "request").count();
        if requests >= 2 && upstream >= 5 {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "the collector got {} spans: {:?}",
            spans.len(),
            spans.iter().map(|(_, s)| &s.name).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Assert
    let hex = hex::encode;
    let in_trace: Vec<&Span> = spans
        .iter()
        .map(|(_, span)| span)
        .filter(|span| hex(&span.trace_id) == TRACE_ID)
        .collect();
    assert!(
        spans
            .iter()
            .all(|(service, _)| service == "gateway-under-test")
    );
    let servers: Vec<&Span> = in_trace
        .iter()
        .copied()
        .filter(|span| span.name == "request")
        .collect();
    assert_eq!(
        servers.len(),
        2,
        "both requests continue the caller's trace"
    );
    for server in &servers {
        assert_eq!(hex(&server.parent_span_id), CALLER_SPAN_ID);
        assert_eq!(server.kind, SpanKind::Server as i32);
        assert_eq!(server.trace_state, TRACESTATE);
        assert_eq!(text(&server.attributes, "path").unwrap(), "/conversations");
        assert_eq!(
            integer(&server.attributes, "http.response.status_code"),
            Some(200),
            "{server:?}"
        );
    }

    let by_id: HashMap<Vec<u8>, &Span> = in_trace
        .iter()
        .map(|span| (span.span_id.clone(), *span))
        .collect();
    let descends_from_server = |span: &Span| {
        let mut parent = span.parent_span_id.clone();
        while let Some(up) = by_id.get(&parent) {
            if servers.iter().any(|server| server.span_id == up.span_id) {
                return true;
            }
            parent = up.parent_span_id.clone();
        }
        false
    };
    let calls: Vec<&Span> = in_trace
        .iter()
        .copied()
        .filter(|span| span.name == "upstream")
        .collect();
    let mut seen_sources = Vec::new();
    for call in &calls {
        assert!(descends_from_server(call), "{call:?}");
        assert_eq!(call.kind, SpanKind::Client as i32);
        let source = text(&call.attributes, "source").unwrap();
        let endpoint = text(&call.attributes, "endpoint").unwrap();
        let outcome = text(&call.attributes, "outcome").unwrap();
        let attempt = integer(&call.attributes, "attempt").unwrap();
        let path = text(&call.attributes, "url.path").unwrap();
        assert!(!endpoint.is_empty() && attempt >= 1, "{call:?}");
        assert!(path.starts_with('/') && !path.contains('?'), "{path}");
        if source == "helpdesk" {
            assert_eq!(outcome, "server_error", "{call:?}");
            assert!(integer(&call.attributes, "http.response.status_code").unwrap() >= 500);
            let status = call.status.as_ref().map(|status| status.code);
            assert_eq!(status, Some(StatusCode::Error as i32), "{call:?}");
        } else {
            assert_eq!(outcome, "success", "{call:?}");
            assert_eq!(
                integer(&call.attributes, "http.response.status_code"),
                Some(200)
            );
        }
        seen_sources.push(source);
    }
    for source in ["sales", "assistant", "helpdesk", "inbox"] {
        assert!(seen_sources.iter().any(|s| s == source), "{seen_sources:?}");
    }
    assert!(
        calls.iter().any(|call| {
            text(&call.attributes, "source").as_deref() == Some("helpdesk")
                && integer(&call.attributes, "attempt") == Some(2)
        }),
        "the retried Udesk call has a second attempt span"
    );
    let failed = body["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "helpdesk")
        .unwrap();
    assert_eq!(failed["status"], "error", "{body}");

    // Each vendor call carried the trace on, with its own span as the parent.
    let vendor_calls = sandbox.calls();
    assert!(!vendor_calls.is_empty());
    for call in &vendor_calls {
        let traceparent = call.traceparent.as_deref().expect("a traceparent was sent");
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{traceparent}");
        assert_eq!(parts[1], TRACE_ID, "{traceparent}");
        assert!(
            calls.iter().any(|span| hex(&span.span_id) == parts[2]),
            "{traceparent} names no exported vendor-call span"
        );
    }

    // No secret in any span.
    for (_, span) in &spans {
        for value in strings(span) {
            for secret in [
                CONSUMER_KEY,
                &credentials.megaview_app_key,
                &credentials.megaview_app_secret,
                &credentials.gptbots_api_key,
                &credentials.udesk_api_token,
                &credentials.jijyun_api_key,
                "SECRET",
                "apiKey",
            ] {
                assert!(!value.contains(secret), "`{secret}` in span {span:?}");
            }
        }
    }

    // Log lines written within the request carry its trace id.
    let logged = gateway.logged();
    assert!(
        logged.iter().any(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .is_ok_and(|line| line["trace_id"] == TRACE_ID)
        }),
        "no log line carries the trace id: {logged:#?}"
    );
}

#[tokio::test]
async fn a_collector_that_never_answers_delays_no_request_and_not_the_exit() {
    // Arrange: a collector that accepts connections and never answers.
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let collector = format!("http://{}", blackhole.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in blackhole.incoming() {
            held.push(connection);
        }
    });
    let (sandbox, sim, credentials) = start_sandbox().await;
    let config = format!(
        "[auth]\napi_keys = [\"${{TEST_CONSUMER_KEY}}\"]\n[telemetry]\notlp_endpoint = \"{collector}\"\n{}",
        sources(sim, &credentials)
    );
    let mut gateway = Gateway::start("blackhole", &config, "info");
    let http = reqwest::Client::new();
    let url = format!(
        "{}/conversations?page_size=5&source=assistant&{}",
        gateway.base_url,
        window(&sandbox)
    );

    // Act: requests for longer than the batch delay, so exports hang meanwhile.
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(7) {
        let sent = Instant::now();
        let response = http
            .get(&url)
            .bearer_auth(CONSUMER_KEY)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        slowest = slowest.max(sent.elapsed());
        answered += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exit = gateway.stop();

    // Assert: generous bounds; a stall would be the 5 s export timeout or more.
    assert!(answered > 10, "{answered}");
    assert!(
        slowest < Duration::from_secs(3),
        "slowest answer {slowest:?}"
    );
    assert!(exit < Duration::from_secs(15), "exit took {exit:?}");
}
