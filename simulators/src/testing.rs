//! Helpers the simulator tests share.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use super::{Sandbox, SandboxConfig, SignAlgorithm};

pub(super) fn anchor() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-03-01T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub(super) fn config() -> SandboxConfig {
    SandboxConfig {
        conversations_per_vendor: 120,
        anchor: anchor(),
        ..SandboxConfig::default()
    }
}

pub(super) fn sandbox() -> Sandbox {
    Sandbox::new(config())
}

/// `at` as the naive Asia/Shanghai time the vendors exchange.
pub(super) fn shanghai(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Udesk's `email`, `timestamp` and `sign` query, signed with `algorithm`.
pub(super) fn udesk_query(sandbox: &Sandbox, timestamp: i64, algorithm: SignAlgorithm) -> String {
    let credentials = sandbox.credentials();
    let plain = format!(
        "{}&{}&{timestamp}",
        credentials.udesk_email, credentials.udesk_api_token
    );
    let sign = match algorithm {
        SignAlgorithm::Sha1 => hex::encode(Sha1::digest(plain.as_bytes())),
        SignAlgorithm::Sha256 => hex::encode(Sha256::digest(plain.as_bytes())),
    };
    let email: String =
        url::form_urlencoded::byte_serialize(credentials.udesk_email.as_bytes()).collect();
    format!("email={email}&timestamp={timestamp}&sign={sign}")
}

pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body))
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(super) async fn send(sandbox: &Sandbox, request: Request<Body>) -> Answer {
    let response = sandbox.router().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

pub(super) fn get(uri: &str) -> axum::http::request::Builder {
    Request::builder().method("GET").uri(uri)
}

pub(super) fn post(uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json")
}

pub(super) fn json_body(builder: axum::http::request::Builder, body: &Value) -> Request<Body> {
    builder.body(Body::from(body.to_string())).unwrap()
}
