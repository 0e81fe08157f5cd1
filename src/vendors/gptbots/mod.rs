//! Gptbots adapter (placeholder until the real adapter lands).

use async_trait::async_trait;

use crate::config::{GptbotsSettings, SourceConfig};
use crate::domain::{Message, SourceName, VendorKind};
use crate::vendors::{
    CallContext, ConversationBatch, ConversationQuery, Upstream, VendorAdapter, VendorError,
};

/// Gptbots source.
pub(super) struct GptbotsAdapter {
    source: SourceName,
}

impl GptbotsAdapter {
    pub(super) fn new(
        source: &SourceConfig,
        _settings: GptbotsSettings,
        _upstream: Upstream,
    ) -> Self {
        Self {
            source: source.name.clone(),
        }
    }
}

#[async_trait]
impl VendorAdapter for GptbotsAdapter {
    fn source(&self) -> &SourceName {
        &self.source
    }

    fn vendor(&self) -> VendorKind {
        VendorKind::Gptbots
    }

    fn unsupported(&self, _query: &ConversationQuery) -> Option<String> {
        Some("adapter not built yet".to_owned())
    }

    async fn list_conversations(
        &self,
        _ctx: &CallContext,
        _query: &ConversationQuery,
        _cursor: Option<&str>,
    ) -> Result<ConversationBatch, VendorError> {
        Err(VendorError::Status(501))
    }

    async fn list_messages(
        &self,
        _ctx: &CallContext,
        _native_id: &str,
    ) -> Result<Vec<Message>, VendorError> {
        Err(VendorError::Status(501))
    }
}
