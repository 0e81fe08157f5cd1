//! Consumer auth: bearer API keys, kept and compared only as SHA-256 digests, in constant
//! time. Knows which paths are open and names the consumer for logs and the inbound limit.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::api::PROBE_PATHS;
use crate::api::error::ApiError;
use crate::config::{AuthConfig, SHA256_KEY_PREFIX};
use crate::metrics;

/// The Prometheus endpoint.
pub const METRICS_PATH: &str = "/metrics";
/// Swagger UI (and its assets below it).
const DOCS_PATH: &str = "/docs";
/// The OpenAPI document.
const SPEC_PATH: &str = "/openapi.json";

/// Who sent a request: `key-<n>` (the n-th configured key, 0-based) or, with auth off,
/// `ip-<address>`. Never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Consumer(pub String);

/// The accepted keys and the open paths.
pub struct Authenticator {
    digests: Vec<[u8; 32]>,
    public_docs: bool,
    public_metrics: bool,
}

impl Authenticator {
    /// Digests every configured key (a `sha256:<hex>` key is already one; the config
    /// checked its form).
    pub fn new(config: &AuthConfig) -> Self {
        let digests = config
            .api_keys
            .iter()
            .map(|key| {
                let key = key.expose_secret();
                key.strip_prefix(SHA256_KEY_PREFIX)
                    .and_then(|hex_digest| hex::decode(hex_digest).ok())
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                    .unwrap_or_else(|| Sha256::digest(key.as_bytes()).into())
            })
            .collect();
        Self {
            digests,
            public_docs: config.public_docs,
            public_metrics: config.public_metrics,
        }
    }

    /// Whether any key is configured.
    pub fn is_on(&self) -> bool {
        !self.digests.is_empty()
    }

    /// Whether `path` is answered without a key.
    pub fn is_open(&self, path: &str) -> bool {
        PROBE_PATHS.contains(&path)
            || (self.public_metrics && path == METRICS_PATH)
            || (self.public_docs
                && (path == SPEC_PATH || path == DOCS_PATH || path.starts_with("/docs/")))
    }

    /// The index of the configured key `presented` matches. Every key is compared, in
    /// constant time, so timing tells nothing about which keys exist or how close a guess is.
    pub fn identify(&self, presented: &str) -> Option<usize> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = subtle::Choice::from(0);
        let mut index = 0u64;
        for (i, key) in self.digests.iter().enumerate() {
            let matches = key.ct_eq(&digest);
            index = u64::conditional_select(&index, &(i as u64), matches);
            found |= matches;
        }
        bool::from(found).then_some(index as usize)
    }
}

/// Checks `Authorization: Bearer <key>` where a key is needed, and puts the [`Consumer`]
/// into the request for the inbound rate limit and the request span.
pub async fn authenticate(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let consumer = if !auth.is_on() || auth.is_open(path) {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| Consumer(format!("ip-{}", peer.ip())))
    } else {
        let index = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .and_then(|key| auth.identify(key));
        let Some(index) = index else {
            metrics::http_refused("unauthorized");
            return ApiError::Unauthorized.into_response();
        };
        Some(Consumer(format!("key-{index}")))
    };
    if let Some(consumer) = consumer {
        tracing::Span::current().record("consumer", consumer.0.as_str());
        request.extensions_mut().insert(consumer);
    }
    next.run(request).await
}

/// The token of a `Bearer` credential (the scheme is case-insensitive, RFC 7235).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn authenticator(keys: &[&str]) -> Authenticator {
        Authenticator::new(&AuthConfig {
            api_keys: keys
                .iter()
                .map(|key| SecretString::from((*key).to_owned()))
                .collect(),
            ..AuthConfig::default()
        })
    }

    #[test]
    fn plain_and_hashed_keys_identify_their_index() {
        let hashed = format!("sha256:{}", hex::encode(Sha256::digest(b"second-key")));
        let auth = authenticator(&["first-key", &hashed]);
        assert_eq!(auth.identify("first-key"), Some(0));
        assert_eq!(auth.identify("second-key"), Some(1));
        assert_eq!(auth.identify("wrong"), None);
        // The digest itself is not a key.
        assert_eq!(auth.identify(&hashed), None);
    }

    #[test]
    fn open_paths_follow_the_config() {
        let auth = authenticator(&["k"]);
        assert!(auth.is_open("/healthz") && auth.is_open("/readyz"));
        assert!(auth.is_open("/docs/") && auth.is_open("/openapi.json"));
        assert!(!auth.is_open("/metrics") && !auth.is_open("/conversations"));
        assert!(!auth.is_open("/docsx"));
        let closed = Authenticator::new(&AuthConfig {
            public_docs: false,
            public_metrics: true,
            ..AuthConfig::default()
        });
        assert!(!closed.is_open("/docs") && !closed.is_open("/openapi.json"));
        assert!(closed.is_open("/metrics"));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
