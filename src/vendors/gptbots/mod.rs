//! GPTBots: an agent's conversations (listed by last chat time) and their v2 messages.
//! Mapping calls only; HTTP lives in `client`, the wire format in `model`.

mod client;
pub(super) mod config;
#[doc(hidden)]
pub(super) mod fuzz;
mod model;
#[cfg(test)]
mod tests;

use async_trait::async_trait;

use self::client::{BEYOND_DATA, GptbotsClient, ListParams, PAGE_SIZE};
use self::config::GptbotsSettings;
use crate::domain::{Message, SourceName, VendorKind};
use crate::vendors::{
    CallContext, ConversationBatch, ConversationQuery, MAX_MESSAGE_PAGES, Slicing, SourceConfig,
    Upstream, VendorAdapter, VendorError,
};

/// A GPTBots source: one agent's API key.
pub(super) struct GptbotsAdapter {
    source: SourceName,
    conversation_type: String,
    client: GptbotsClient,
}

impl GptbotsAdapter {
    pub(super) fn new(
        source: &SourceConfig,
        settings: GptbotsSettings,
        upstream: Upstream,
    ) -> Self {
        Self {
            source: source.name.clone(),
            conversation_type: settings.conversation_type,
            client: GptbotsClient::new(upstream, source.base_url.clone(), settings.api_key),
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

    /// GPTBots filters by last chat time, which every listed conversation carries.
    fn slicing(&self) -> Option<Slicing> {
        Some(Slicing {
            max_window: None,
            page_capacity: PAGE_SIZE as usize,
        })
    }

    fn unsupported(&self, query: &ConversationQuery) -> Option<String> {
        query.agent_id.as_ref().map(|_| {
            "GPTBots conversations are between an end user and an AI agent: there is no human \
             agent to filter by agent_id"
                .to_owned()
        })
    }

    /// The cursor is the vendor page number. GPTBots filters on the last chat time, with
    /// both ends inclusive, so the window's exclusive end is sent as `until` − 1 ms.
    async fn list_conversations(
        &self,
        ctx: &CallContext,
        query: &ConversationQuery,
        cursor: Option<&str>,
    ) -> Result<ConversationBatch, VendorError> {
        let page = match cursor {
            None => 1,
            Some(cursor) => cursor
                .parse::<u32>()
                .ok()
                .filter(|page| *page > 1)
                .ok_or_else(|| VendorError::Decode("not a GPTBots page cursor".to_owned()))?,
        };
        // An empty window holds nothing; GPTBots would refuse its reversed bounds.
        if query.until <= query.since {
            return Ok(ConversationBatch::empty());
        }
        let params = ListParams {
            conversation_type: &self.conversation_type,
            start_ms: query.since.timestamp_millis(),
            end_ms: query.until.timestamp_millis().saturating_sub(1),
            page,
            user_id: query.customer_id.as_deref().filter(|id| !id.is_empty()),
        };
        let Some((batch, text)) = self.client.conversation_page(ctx, &params).await? else {
            return beyond_data(page).map(|()| ConversationBatch::empty());
        };
        let total = batch.total_hint();
        let items = batch.into_items(text);
        // `total`'s meaning is unclear (../shared/vendors/gptbots.md §2): a full page is
        // the only sign that another one may follow.
        let next_cursor = (items.len() >= PAGE_SIZE as usize).then(|| (page + 1).to_string());
        Ok(ConversationBatch {
            items: items
                .into_iter()
                .map(|item| item.into_domain(&self.source))
                .collect(),
            next_cursor,
            total,
        })
    }

    async fn list_messages(
        &self,
        ctx: &CallContext,
        native_id: &str,
    ) -> Result<Vec<Message>, VendorError> {
        let mut items = Vec::new();
        for page in 1..=MAX_MESSAGE_PAGES {
            let Some((batch, text)) = self.client.message_page(ctx, native_id, page).await? else {
                beyond_data(page)?;
                return Ok(model::into_messages(items));
            };
            let total = batch.total();
            let received = batch.into_items(text);
            let short = received.len() < PAGE_SIZE as usize;
            items.extend(received);
            if short || total.is_some_and(|total| items.len() as u64 >= total) {
                return Ok(model::into_messages(items));
            }
        }
        Err(VendorError::endless_paging("messages", MAX_MESSAGE_PAGES))
    }
}

/// "Page beyond data" ends the reading after the first page; on the first page it is a
/// refusal like any other code.
fn beyond_data(page: u32) -> Result<(), VendorError> {
    if page > 1 {
        Ok(())
    } else {
        Err(VendorError::Rejected {
            code: BEYOND_DATA.to_owned(),
        })
    }
}
