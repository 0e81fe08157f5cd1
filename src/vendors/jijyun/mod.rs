//! Jijyun (语聚AI): the chats of one contact, messages inline, from the contact chat
//! record. Mapping calls only; HTTP lives in `client`, the wire format in `model`.

mod client;
pub(super) mod config;
#[doc(hidden)]
pub(super) mod fuzz;
mod model;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::de::IgnoredAny;

use self::client::JijyunClient;
use self::config::JijyunSettings;
use self::model::{ChatMessage, RecordRequest};
use crate::domain::{Message, SourceName, VendorKind};
use crate::vendors::time::{SPACE_FORMAT, format_local};
use crate::vendors::{
    CallContext, ConversationBatch, ConversationQuery, SourceConfig, Upstream, VendorAdapter,
    VendorError,
};

/// How far back the messages route looks for a chat. The record API has no "get one
/// chat" call, so the contact's chats are read again over this many days.
const MESSAGES_LOOKBACK_DAYS: i64 = 365;
const SECONDS_PER_DAY: i64 = 86_400;

/// A Jijyun source: one account's API key.
pub(super) struct JijyunAdapter {
    source: SourceName,
    timezone: Tz,
    client: JijyunClient,
}

impl JijyunAdapter {
    pub(super) fn new(source: &SourceConfig, settings: JijyunSettings, upstream: Upstream) -> Self {
        Self {
            source: source.name.clone(),
            timezone: source.timezone,
            client: JijyunClient::new(upstream, source.base_url.clone(), settings.api_key),
        }
    }

    fn record_request(&self, customer_id: &str, days: i64) -> RecordRequest {
        RecordRequest {
            customer_id: customer_id.to_owned(),
            days: days.to_string(),
            start_time: String::new(),
            end_time: String::new(),
            chat_source: Vec::new(),
            chat_robot: Vec::new(),
            seat_member: Vec::new(),
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

    fn unsupported(&self, query: &ConversationQuery) -> Option<String> {
        match query.customer_id.as_deref() {
            None | Some("") => {
                Some("Jijyun lists conversations per customer: pass customer_id".to_owned())
            }
            // Native ids are `{customer_id}:{chat_id}`, split at the first `:`.
            Some(id) if id.contains(':') => {
                Some("a Jijyun customer_id is a hex string and cannot contain `:`".to_owned())
            }
            Some(_) => None,
        }
    }

    /// One call returns every chat of the customer, so there is never a next page. The
    /// window goes both as explicit times (whole seconds, the end rounded down, so at most
    /// a second more than asked) and as `days` back from now, enough to cover `since`:
    /// which of the two the vendor prefers is not documented.
    async fn list_conversations(
        &self,
        ctx: &CallContext,
        query: &ConversationQuery,
        cursor: Option<&str>,
    ) -> Result<ConversationBatch, VendorError> {
        let customer_id = match query.customer_id.as_deref() {
            // No cursor is ever issued, and `unsupported` skips queries without a customer.
            Some(id) if !id.is_empty() && cursor.is_none() => id,
            _ => {
                return Ok(ConversationBatch::empty());
            }
        };
        let mut request = self.record_request(customer_id, days_back_to(query.since, Utc::now()));
        request.start_time = format_local(query.since, self.timezone, SPACE_FORMAT);
        request.end_time = format_local(query.until, self.timezone, SPACE_FORMAT);
        request.seat_member.extend(query.agent_id.clone());
        let chats = self
            .client
            .chat_record::<ChatMessage>(ctx, &request)
            .await?;
        Ok(ConversationBatch {
            items: chats
                .into_iter()
                .map(|chat| chat.into_domain(&self.source, customer_id))
                .collect(),
            next_cursor: None,
            total: None,
        })
    }

    /// `native_id` is `{customer_id}:{chat_id}`; the chat is looked up among the
    /// customer's chats of the last [`MESSAGES_LOOKBACK_DAYS`] days.
    async fn list_messages(
        &self,
        ctx: &CallContext,
        native_id: &str,
    ) -> Result<Vec<Message>, VendorError> {
        let (customer_id, chat_id) = native_id
            .split_once(':')
            .filter(|(customer, chat)| !customer.is_empty() && !chat.is_empty())
            .ok_or(VendorError::NotFound)?;
        let request = self.record_request(customer_id, MESSAGES_LOOKBACK_DAYS);
        let chats = self.client.chat_record::<IgnoredAny>(ctx, &request).await?;
        let chat = chats
            .into_iter()
            .find(|chat| chat.chat_id() == chat_id)
            .ok_or(VendorError::NotFound)?;
        chat.into_messages()
    }
}

/// Whole days from `since` back from `now`, rounded up, at least 1.
fn days_back_to(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let seconds = (now - since).num_seconds();
    (seconds + SECONDS_PER_DAY - 1)
        .div_euclid(SECONDS_PER_DAY)
        .max(1)
}
