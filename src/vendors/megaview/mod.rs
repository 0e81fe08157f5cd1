//! Megaview (深维智信): sales calls, video and IM chats become conversations; their ASR
//! transcript sentences become messages. Facts and choices: `../shared/vendors/megaview.md`.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use url::Url;

use self::config::MegaviewSettings;
use crate::domain::{Message, SourceName, VendorKind};
use crate::vendors::{
    CallContext, ConversationBatch, ConversationQuery, Slicing, SourceConfig, Upstream,
    VendorAdapter, VendorError, canonical_integer_id,
};

mod client;
pub(super) mod config;
#[doc(hidden)]
pub(super) mod fuzz;
mod model;
#[cfg(test)]
mod tests;

/// Longest `begin_time`..`end_time` range the list endpoint accepts (seed 000).
const MAX_WINDOW_DAYS: i64 = 7;
/// Business codes of a `deal_id` / `open_user_id` filter naming nothing (seed 000).
const UNKNOWN_DEAL: &str = "401201";
const UNKNOWN_USER: &str = "400164";

/// One Megaview app (`app_key`/`app_secret`).
pub(super) struct MegaviewAdapter {
    source: SourceName,
    timezone: Tz,
    client: client::MegaviewClient,
}

impl MegaviewAdapter {
    pub(super) fn new(
        source: &SourceConfig,
        settings: MegaviewSettings,
        upstream: Upstream,
    ) -> Self {
        Self {
            source: source.name.clone(),
            timezone: source.timezone,
            client: client::MegaviewClient::new(source.base_url.clone(), settings, upstream),
        }
    }
}

#[async_trait]
impl VendorAdapter for MegaviewAdapter {
    fn source(&self) -> &SourceName {
        &self.source
    }

    fn vendor(&self) -> VendorKind {
        VendorKind::Megaview
    }

    /// Megaview filters by `begin_time`, at most seven days at a time.
    fn slicing(&self) -> Option<Slicing> {
        Some(Slicing {
            max_window: Some(TimeDelta::days(MAX_WINDOW_DAYS)),
            page_capacity: model::MAX_PAGE_SIZE as usize,
        })
    }

    fn unsupported(&self, query: &ConversationQuery) -> Option<String> {
        match query.customer_id.as_deref().map(deal_id) {
            Some(None) => Some(
                "Megaview filters customers by numeric deal id; this customer_id is not one"
                    .to_owned(),
            ),
            _ => None,
        }
    }

    async fn list_conversations(
        &self,
        ctx: &CallContext,
        query: &ConversationQuery,
        cursor: Option<&str>,
    ) -> Result<ConversationBatch, VendorError> {
        // Megaview's times are whole seconds: rounding both ends up keeps every item of
        // `[since, until)` and never lengthens the range past what the gateway split.
        let begin = ceil_to_second(query.since);
        let end = ceil_to_second(query.until);
        if end <= begin {
            return Ok(ConversationBatch::empty());
        }
        if end - begin > TimeDelta::days(MAX_WINDOW_DAYS) {
            return Err(VendorError::Rejected {
                code: "window_longer_than_7_days".to_owned(),
            });
        }
        // Listing without the filter would hand back every customer's conversations.
        let deal_id = match query.customer_id.as_deref().map(deal_id) {
            Some(None) => {
                return Err(VendorError::Rejected {
                    code: "customer_id_not_numeric".to_owned(),
                });
            }
            Some(id) => id,
            None => None,
        };
        let body = model::ListRequest::new(
            begin,
            end,
            self.timezone,
            cursor,
            deal_id,
            query.agent_id.as_deref(),
        );
        let (page, text) = match self.client.list_conversations(ctx, &body).await {
            // A filter naming a deal or user Megaview does not know matches nothing: that is
            // an empty answer, not a failing source.
            Err(VendorError::Rejected { code })
                if (code == UNKNOWN_DEAL && deal_id.is_some())
                    || (code == UNKNOWN_USER && query.agent_id.is_some()) =>
            {
                return Ok(ConversationBatch::empty());
            }
            page => page?,
        };
        let next_cursor = page.next_cursor()?;
        let total = page.total_hint();
        let items = page
            .into_items(text)
            .into_iter()
            .map(|item| model::conversation_into_domain(item, &self.source, self.timezone))
            .collect::<Result<_, _>>()?;
        Ok(ConversationBatch {
            items,
            next_cursor,
            total,
        })
    }

    async fn list_messages(
        &self,
        ctx: &CallContext,
        native_id: &str,
    ) -> Result<Vec<Message>, VendorError> {
        // Every id this source issues is Megaview's integer conversation id.
        let Some(conversation_id) = canonical_integer_id(native_id) else {
            return Err(VendorError::NotFound);
        };
        // The call's start places audio/video sentences (their times are offsets); it comes
        // from the single-conversation endpoint, asked alongside. Without it the messages are
        // still served, just without `sent_at`.
        let (asr, detail) = tokio::join!(
            self.client.asr_data(ctx, conversation_id),
            self.client.conversation(ctx, conversation_id)
        );
        let asr = asr?;
        let call_start = match detail {
            Ok(detail) => model::call_start(&detail, self.timezone),
            Err(err) => {
                tracing::debug!(source = %self.source, error = %err, "Conversation detail unavailable; sentence times stay relative.");
                None
            }
        };
        // An empty URL is read as "no transcript yet", like 501200 (our choice; the vendor
        // documents neither an empty URL nor conversations without speech).
        let raw_url = asr
            .asr_file_url
            .as_deref()
            .map(str::trim)
            .unwrap_or_default();
        if raw_url.is_empty() {
            return Err(VendorError::NotReady {
                what: "the transcript",
                retry_after: Some(client::TRANSCRIPT_RETRY),
            });
        }
        let url = Url::parse(raw_url)
            .map_err(|_| VendorError::Decode("asr_file_url is not a URL".to_owned()))?;
        let sentences = self.client.download_transcript(ctx, url).await?;
        model::transcript_into_messages(sentences, call_start)
    }
}

/// The integer `deal_id` a `customer_id` filter spells, if it spells one.
fn deal_id(customer_id: &str) -> Option<i64> {
    customer_id.trim().parse().ok()
}

fn ceil_to_second(instant: DateTime<Utc>) -> DateTime<Utc> {
    match instant.with_nanosecond(0) {
        Some(floor) if floor != instant => floor + TimeDelta::seconds(1),
        _ => instant,
    }
}
