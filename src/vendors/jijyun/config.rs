//! Jijyun's keys in a `[[sources]]` entry: the assistant's API key.

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::VendorKind;
use crate::vendors::VendorSettings;
use crate::vendors::config::{KeyError, VendorKeys, non_empty_secret};

/// Jijyun API key.
#[derive(Debug, Clone)]
pub struct JijyunSettings {
    /// `api_key` from the assistant's integration page (sent as the `apiKey` query parameter).
    pub api_key: SecretString,
}

/// The keys as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJijyun {
    api_key: Option<String>,
}

impl VendorKeys for RawJijyun {
    const DEFAULT_TIER: &'static str = "low";

    fn settings(self) -> Result<VendorSettings, KeyError> {
        Ok(VendorSettings::Jijyun(JijyunSettings {
            api_key: non_empty_secret(self.api_key, "api_key", VendorKind::Jijyun)?,
        }))
    }
}
