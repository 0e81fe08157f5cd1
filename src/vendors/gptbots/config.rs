//! GPTBots' keys in a `[[sources]]` entry: the agent's API key and which conversations to list.

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::VendorKind;
use crate::vendors::VendorSettings;
use crate::vendors::config::{KeyError, VendorKeys, non_empty_secret};

/// GPTBots agent API key.
#[derive(Debug, Clone)]
pub struct GptbotsSettings {
    /// `api_key` of the agent.
    pub api_key: SecretString,
    /// `conversation_type` to list (`ALL`, `API`, `EMBED`…). Default `ALL`.
    pub conversation_type: String,
}

/// The keys as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGptbots {
    api_key: Option<String>,
    conversation_type: Option<String>,
}

impl VendorKeys for RawGptbots {
    const DEFAULT_TIER: &'static str = "low";

    fn settings(self) -> Result<VendorSettings, KeyError> {
        let conversation_type = self.conversation_type.unwrap_or_else(|| "ALL".to_owned());
        let valid = !conversation_type.is_empty()
            && conversation_type
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_');
        if !valid {
            return Err(KeyError::new(
                "conversation_type",
                "must be an upper-case GPTBots type such as ALL, API or EMBED",
            ));
        }
        Ok(VendorSettings::Gptbots(GptbotsSettings {
            api_key: non_empty_secret(self.api_key, "api_key", VendorKind::Gptbots)?,
            conversation_type,
        }))
    }
}
