//! GPTBots wire format (conversation list, v2 messages) and its mapping to domain types.
//! Serde only: no HTTP here.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::client::Answer;
use crate::domain::{
    ContentType, Conversation, ConversationId, Message, Role, SourceName, VendorKind,
};
use crate::vendors::time::from_millis;
use crate::vendors::wire::{AnswerText, Scalar, WithRaw};

/// Answer of `GET /v1/bot/conversation/page`, its items read as `I`: typed, or raw.
#[derive(Debug, Deserialize)]
pub(super) struct ConversationPage<I = ConversationItem> {
    list: Option<Vec<I>>,
    // Typed string in the field table but a number in the examples (gptbots.md §3).
    total: Option<Scalar>,
    code: Option<Scalar>,
}

impl Answer for ConversationPage {
    fn code(&self) -> Option<&Scalar> {
        self.code.as_ref()
    }
}

impl ConversationPage {
    /// `total` as sent. Its meaning is not documented (page count or grand total), so it is
    /// only ever a hint for sizing slices, never a reason to stop paging.
    pub(super) fn total_hint(&self) -> Option<u64> {
        self.total.as_ref().and_then(Scalar::as_u64)
    }

    /// The page's items, in vendor order, each with its text in `answer`.
    pub(super) fn into_items(self, answer: AnswerText) -> Vec<WithRaw<ConversationItem>> {
        answer.into_items(self.list.unwrap_or_default(), |text| {
            let raw: ConversationPage<&RawValue> = serde_json::from_str(text)?;
            Ok(raw.list.unwrap_or_default())
        })
    }
}

/// One row of the conversation list.
#[derive(Debug, Deserialize)]
pub(super) struct ConversationItem {
    conversation_id: String,
    user_id: Option<String>,
    anonymous_id: Option<String>,
    recent_chat_time: Option<Scalar>,
    subject: Option<String>,
    conversation_type: Option<String>,
    message_count: Option<Scalar>,
    bot_id: Option<String>,
}

impl WithRaw<ConversationItem> {
    /// The row as a domain conversation. The list has no start time, so the gateway sorts
    /// GPTBots conversations by their last chat time.
    pub(super) fn into_domain(self, source: &SourceName) -> Conversation {
        let item = self.item;
        Conversation {
            id: ConversationId::new(source.clone(), item.conversation_id),
            vendor: VendorKind::Gptbots,
            title: non_empty(item.subject),
            channel: non_empty(item.conversation_type).map(|kind| kind.to_lowercase()),
            started_at: None,
            ended_at: None,
            last_message_at: item
                .recent_chat_time
                .and_then(|ms| ms.as_i64())
                .and_then(from_millis),
            duration_seconds: None,
            message_count: item.message_count.and_then(|count| count.as_u64()),
            // Rows from non-API channels identify the end user by `anonymous_id` only.
            customer_id: non_empty(item.user_id).or_else(|| non_empty(item.anonymous_id)),
            agent_id: None,
            bot_id: non_empty(item.bot_id),
            vendor_data: self.raw,
        }
    }
}

/// Answer of `GET /v2/messages`, its items read as `I`: typed, or raw.
#[derive(Debug, Deserialize)]
pub(super) struct MessagePage<I = MessageItem> {
    total: Option<Scalar>,
    conversation_content: Option<Vec<I>>,
    code: Option<Scalar>,
}

impl Answer for MessagePage {
    fn code(&self) -> Option<&Scalar> {
        self.code.as_ref()
    }
}

impl MessagePage {
    /// How many messages the whole conversation has, if the vendor said.
    pub(super) fn total(&self) -> Option<u64> {
        self.total.as_ref().and_then(Scalar::as_u64)
    }

    /// The page's messages, in vendor order, each with its text in `answer`.
    pub(super) fn into_items(self, answer: AnswerText) -> Vec<WithRaw<MessageItem>> {
        answer.into_items(self.conversation_content.unwrap_or_default(), |text| {
            let raw: MessagePage<&RawValue> = serde_json::from_str(text)?;
            Ok(raw.conversation_content.unwrap_or_default())
        })
    }
}

/// One message of `/v2/messages`.
#[derive(Debug, Deserialize)]
pub(super) struct MessageItem {
    message_id: String,
    create_time: Option<Scalar>,
    role: Option<String>,
    content: Option<Vec<ContentEntry>>,
}

/// One component branch of a message (FlowAgents may answer from several).
#[derive(Debug, Deserialize)]
struct ContentEntry {
    branch_content: Option<Vec<Block>>,
}

/// One content block: a text, or a list of attachments under the key named by `type`.
#[derive(Debug, Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    image: Option<OneOrMany<Attachment>>,
    audio: Option<OneOrMany<Attachment>>,
    video: Option<OneOrMany<Attachment>>,
    document: Option<OneOrMany<Attachment>>,
    file: Option<OneOrMany<Attachment>>,
}

/// Attachments are a list in `/v2/messages` but a single object in some send examples.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            Self::Many(items) => items,
            Self::One(item) => vec![item],
        }
    }
}

#[derive(Debug, Deserialize)]
struct Attachment {
    url: Option<String>,
    transcript: Option<String>,
}

impl MessageItem {
    fn sent_at_ms(&self) -> Option<i64> {
        self.create_time.as_ref().and_then(Scalar::as_i64)
    }
}

impl WithRaw<MessageItem> {
    /// The message as a domain message: its text blocks (and audio transcripts) joined by
    /// line breaks, or else the URL of its first attachment.
    fn into_domain(self) -> Message {
        let item = self.item;
        let sent_at = item.sent_at_ms().and_then(from_millis);
        let mut texts = Vec::new();
        let mut first_attachment = None;
        let mut unknown_block = false;
        let blocks = item
            .content
            .into_iter()
            .flatten()
            .flat_map(|entry| entry.branch_content.into_iter().flatten());
        for block in blocks {
            if block.kind.as_deref() == Some("text") {
                texts.extend(non_empty(block.text));
            } else if !matches!(
                block.kind.as_deref(),
                Some("image" | "audio" | "video" | "document" | "file")
            ) {
                unknown_block = true;
            }
            let attachments = [
                (ContentType::Image, block.image),
                (ContentType::Audio, block.audio),
                (ContentType::Video, block.video),
                (ContentType::File, block.document),
                (ContentType::File, block.file),
            ];
            for (kind, list) in attachments {
                for attachment in list.map(OneOrMany::into_vec).unwrap_or_default() {
                    if kind == ContentType::Audio {
                        texts.extend(non_empty(attachment.transcript));
                    }
                    if first_attachment.is_none() {
                        first_attachment = non_empty(attachment.url).map(|url| (kind, url));
                    }
                }
            }
        }
        let (content, content_type) = if !texts.is_empty() {
            (texts.join("\n"), ContentType::Text)
        } else if let Some((kind, url)) = first_attachment {
            (url, kind)
        } else if unknown_block {
            (String::new(), ContentType::Other)
        } else {
            (String::new(), ContentType::Text)
        };
        Message {
            id: item.message_id,
            role: match item.role.as_deref() {
                Some("user") => Role::Customer,
                Some("assistant") => Role::Bot,
                _ => Role::System,
            },
            content,
            content_type,
            sent_at,
            sender_name: None,
            vendor_data: self.raw,
        }
    }
}

/// Every page's messages as one conversation: each `message_id` once (pages read while
/// the conversation grows may overlap), ordered by `create_time`, ties in vendor order.
pub(super) fn into_messages(items: Vec<WithRaw<MessageItem>>) -> Vec<Message> {
    let mut seen = HashSet::new();
    let mut items: Vec<_> = items
        .into_iter()
        .filter(|item| seen.insert(item.item.message_id.clone()))
        .collect();
    items.sort_by_key(|item| item.item.sent_at_ms().unwrap_or(i64::MAX));
    items
        .into_iter()
        .map(WithRaw::<MessageItem>::into_domain)
        .collect()
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}
