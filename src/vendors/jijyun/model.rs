//! Jijyun wire format (`/v1/openapi/chat/record`) and its mapping to domain types.
//! Serde only: no HTTP here.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::{
    ContentType, Conversation, ConversationId, Message, Role, SourceName, VendorKind,
};
use crate::vendors::VendorError;
use crate::vendors::wire::{self, AnswerText, Scalar, WithRaw};

/// Prefixes Jijyun writes into human-chat contents (../shared/vendors/jijyun.md §2).
const CONTENT_PREFIXES: [&str; 3] = ["访客发送", "人工回复", "客服回复"];
/// Longest title taken from the first customer message, in characters.
const TITLE_CHARS: usize = 80;

/// Body of `POST /v1/openapi/chat/record`, every key as the vendor's example sends it.
#[derive(Debug, Serialize)]
pub(super) struct RecordRequest {
    /// The external contact whose chats are read.
    pub(super) customer_id: String,
    /// Look-back in days, as a string.
    pub(super) days: String,
    /// `yyyy-MM-dd HH:mm:ss` in the source's zone, or empty.
    pub(super) start_time: String,
    /// `yyyy-MM-dd HH:mm:ss` in the source's zone, or empty.
    pub(super) end_time: String,
    /// Channel filter; empty = all.
    pub(super) chat_source: Vec<String>,
    /// Assistant filter; empty = all.
    pub(super) chat_robot: Vec<String>,
    /// Human seat filter; empty = all.
    pub(super) seat_member: Vec<String>,
}

/// The envelope of every answer; its keys are capitalised. `T` is the type `Data` is read
/// as, so an answer is read in one pass.
#[derive(Debug, Deserialize)]
pub(super) struct Envelope<T> {
    #[serde(rename = "Code")]
    code: Option<Scalar>,
    /// The chats on success; a reason (or nothing) on failure.
    #[serde(rename = "Data", default = "wire::none")]
    pub(super) data: Option<T>,
}

impl<T> Envelope<T> {
    /// `Code` as text (`2000` = success), whether sent as a number or a string.
    pub(super) fn code(&self) -> Option<String> {
        self.code.as_ref()?.as_text()
    }
}

/// One chat of the contact, messages inline. `M` is how each message is read: the list
/// reads [`ChatMessage`] alone, so it never pays for keeping each message's text; the
/// messages route skips them ([`IgnoredAny`]) until it has found its chat, then reads that
/// one's as [`WithRaw<ChatMessage>`].
#[derive(Debug, Deserialize)]
pub(super) struct Chat<M> {
    chat_id: String,
    messages: Option<Vec<M>>,
}

/// One message of a chat: no id and no time.
#[derive(Debug, Deserialize)]
pub(super) struct ChatMessage {
    content: Option<String>,
    message_type: Option<MessageType>,
    sender_type: Option<SenderType>,
}

/// `sender_type`: who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum SenderType {
    /// The end user.
    #[serde(rename = "用户")]
    User,
    /// The service side (AI assistant or human seat).
    #[serde(rename = "客服")]
    Service,
    #[serde(other)]
    Other,
}

/// `message_type`: whether the assistant or a human seat was answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum MessageType {
    #[serde(rename = "AI对话")]
    Ai,
    #[serde(rename = "人工对话")]
    Human,
    #[serde(other)]
    Other,
}

impl<M> WithRaw<Chat<M>> {
    /// The vendor's chat id.
    pub(super) fn chat_id(&self) -> &str {
        &self.item.chat_id
    }
}

impl WithRaw<Chat<ChatMessage>> {
    /// The chat as a domain conversation with native id `{customer_id}:{chat_id}`: the
    /// messages route needs the customer to ask the vendor again. The record API gives no
    /// times, so the gateway lists these after every timed conversation.
    pub(super) fn into_domain(self, source: &SourceName, customer_id: &str) -> Conversation {
        let messages = self.item.messages.as_deref().unwrap_or_default();
        let title = messages
            .iter()
            .filter(|message| message.sender_type == Some(SenderType::User))
            .map(|message| strip_prefix(message.content.as_deref().unwrap_or_default()))
            .find(|content| !content.is_empty())
            .map(truncate_title);
        let is_human = |m: &ChatMessage| m.message_type == Some(MessageType::Human);
        let is_ai = |m: &ChatMessage| m.message_type == Some(MessageType::Ai);
        let channel = if messages.iter().any(is_human) {
            Some("human_handoff")
        } else if !messages.is_empty() && messages.iter().all(is_ai) {
            Some("bot")
        } else {
            None
        };
        Conversation {
            id: ConversationId::new(
                source.clone(),
                format!("{customer_id}:{}", self.item.chat_id),
            ),
            vendor: VendorKind::Jijyun,
            title,
            channel: channel.map(str::to_owned),
            started_at: None,
            ended_at: None,
            last_message_at: None,
            duration_seconds: None,
            message_count: Some(messages.len() as u64),
            customer_id: Some(customer_id.to_owned()),
            agent_id: None,
            bot_id: None,
            vendor_data: self.raw,
        }
    }
}

impl WithRaw<Chat<IgnoredAny>> {
    /// The chat's messages in the order the vendor sent them. Ids are their positions,
    /// which stay stable as long as the vendor's order does. Only this chat's messages are
    /// read, from a copy of its text that they share: the answer holds every chat of the
    /// customer over a year, and the messages must not keep it all.
    pub(super) fn into_messages(self) -> Result<Vec<Message>, VendorError> {
        let text = AnswerText::from(self.raw.json());
        let chat: Chat<ChatMessage> = text
            .read()
            .map_err(|err| VendorError::Decode(err.to_string()))?;
        let messages = text.into_items(chat.messages.unwrap_or_default(), |text| {
            let raw: Chat<&RawValue> = serde_json::from_str(text)?;
            Ok(raw.messages.unwrap_or_default())
        });
        Ok(messages
            .into_iter()
            .enumerate()
            .map(|(index, message)| message.into_domain(index))
            .collect())
    }
}

impl WithRaw<ChatMessage> {
    fn into_domain(self, index: usize) -> Message {
        let item = self.item;
        let role = match (item.sender_type, item.message_type) {
            (Some(SenderType::User), _) => Role::Customer,
            (Some(SenderType::Service), Some(MessageType::Ai)) => Role::Bot,
            (Some(SenderType::Service), Some(MessageType::Human)) => Role::Agent,
            _ => Role::System,
        };
        Message {
            id: index.to_string(),
            role,
            content: strip_prefix(item.content.as_deref().unwrap_or_default()).to_owned(),
            content_type: ContentType::Text,
            sent_at: None,
            sender_name: None,
            vendor_data: self.raw,
        }
    }
}

/// `访客发送: 777` → `777`. The prefix only repeats what `sender_type`/`message_type`
/// say; the raw text stays in `vendor_data`.
fn strip_prefix(content: &str) -> &str {
    let content = content.trim();
    for prefix in CONTENT_PREFIXES {
        if let Some(rest) = content.strip_prefix(prefix) {
            if let Some(rest) = rest.strip_prefix([':', '：']) {
                return rest.trim_start();
            }
        }
    }
    content
}

/// At most [`TITLE_CHARS`] characters, cut on a character boundary, `…` marking a cut.
fn truncate_title(text: &str) -> String {
    match text.char_indices().nth(TITLE_CHARS - 1) {
        Some((end, _)) if text[end..].chars().nth(1).is_some() => format!("{}…", &text[..end]),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_prefix_removes_the_documented_prefixes_only() {
        assert_eq!(strip_prefix("访客发送: 777"), "777");
        assert_eq!(strip_prefix("人工回复：好的"), "好的");
        assert_eq!(strip_prefix("客服回复:000"), "000");
        assert_eq!(strip_prefix("你好"), "你好");
        assert_eq!(strip_prefix("访客发送的文件"), "访客发送的文件");
    }

    #[test]
    fn truncate_title_cuts_long_text_on_a_character_boundary() {
        let exact = "字".repeat(TITLE_CHARS);
        assert_eq!(truncate_title(&exact), exact);
        let long = "字".repeat(TITLE_CHARS + 5);
        let title = truncate_title(&long);
        assert_eq!(title.chars().count(), TITLE_CHARS);
        assert!(title.ends_with('…'));
        assert_eq!(truncate_title("short"), "short");
    }
}
