//! Jijyun adapter (placeholder until the real adapter lands).

use async_trait::async_trait;

use crate::config::{JijyunSettings, SourceConfig};
use crate::domain::{Message, SourceName, VendorKind};
use crate::vendors::{
    CallContext, ConversationBatch, ConversationQuery, Upstream, VendorAdapter, VendorError,
};

/// Jijyun source.
pub(super) struct JijyunAdapter {
    source: SourceName,
}

impl JijyunAdapter {
    pub(super) fn new(
        source: &SourceConfig,
        _settings: JijyunSettings,
        _upstream: Upstream,
    ) -> Self {
        Self {
            source: source.name.clone(),
        }
    }
}

#[async_trait]
impl VendorAdapter for JijyunAdapter {
    fn source(&self) -> &SourceName {
        &self.source
    }

    fn vendor(&self) -> VendorKind {
        VendorKind::Jijyun
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
