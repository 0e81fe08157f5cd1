//! `[auth]`: which bearer keys consumers may send, and which paths need none.

use secrecy::SecretString;
use serde::Deserialize;

use super::error::{ConfigError, invalid};

/// Prefix of an API key given as its SHA-256 digest.
pub const SHA256_KEY_PREFIX: &str = "sha256:";

/// `[auth]`: who may call the gateway.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `api_keys`: bearer keys consumers send, each as plain text or as `sha256:<hex>` (the
    /// SHA-256 of the key, so the file need not hold it). Empty: the API is open (warned at
    /// start).
    pub api_keys: Vec<SecretString>,
    /// `public_docs`: `/docs` and `/openapi.json` need no key. Default true: they describe
    /// the API, not its data.
    pub public_docs: bool,
    /// `public_metrics`: `/metrics` needs no key. Default false: it shows source names and
    /// traffic; Prometheus can send a bearer key.
    pub public_metrics: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            public_docs: true,
            public_metrics: false,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    #[serde(default)]
    api_keys: Vec<String>,
    public_docs: Option<bool>,
    public_metrics: Option<bool>,
}

impl RawAuth {
    pub(super) fn validate(self) -> Result<AuthConfig, ConfigError> {
        let mut api_keys = Vec::new();
        for (index, key) in self.api_keys.into_iter().enumerate() {
            if key.trim().is_empty() {
                return Err(invalid(
                    format!("auth.api_keys[{index}]"),
                    "must not be empty",
                ));
            }
            // A header value cannot carry these, so such a key would refuse everyone.
            if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid(
                    format!("auth.api_keys[{index}]"),
                    "contains whitespace or a line break (often a trailing newline from \
                     `${NAME}`): a bearer key with it can never match",
                ));
            }
            if let Some(hex_digest) = key.strip_prefix(SHA256_KEY_PREFIX) {
                if hex_digest.len() != 64 || hex::decode(hex_digest).is_err() {
                    return Err(invalid(
                        format!("auth.api_keys[{index}]"),
                        "a `sha256:` key must be followed by 64 hex digits",
                    ));
                }
            }
            api_keys.push(SecretString::from(key));
        }
        Ok(AuthConfig {
            api_keys,
            public_docs: self.public_docs.unwrap_or(true),
            public_metrics: self.public_metrics.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::super::testing::{env, error_of};

    #[test]
    fn an_api_key_with_whitespace_is_refused_at_load_naming_the_key_not_its_value() {
        // `${NAME}` filled from a file keeps the file's trailing newline.
        let from_file = |_: &str| Some("consumer-key-1\n".to_owned());
        let err = Config::parse("[auth]\napi_keys = [\"${KEY}\"]\n", from_file)
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth.api_keys[0]"), "{err}");
        assert!(!err.contains("consumer-key-1"), "{err}");
        for padded in [" key", "key ", "ke y", "key\t"] {
            let err = error_of(&format!("[auth]\napi_keys = [\"ok\", {padded:?}]\n"));
            assert!(err.contains("auth.api_keys[1]"), "{padded:?}: {err}");
        }
        assert!(Config::parse("[auth]\napi_keys = [\"a.b-c_d~e+f/g=\"]\n", env).is_ok());
    }
}
