//! A normalized message of a conversation.

use chrono::{DateTime, Utc};

use super::VendorData;

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end user or customer.
    Customer,
    /// A human agent or salesperson.
    Agent,
    /// A bot or AI assistant.
    Bot,
    /// The platform itself (welcome texts, notices).
    System,
}

/// What a message's `content` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// Plain text.
    Text,
    /// HTML or rich text.
    Html,
    /// An image (content is its URL).
    Image,
    /// Audio or voice (content is its URL or transcript).
    Audio,
    /// Video (content is its URL).
    Video,
    /// A document or other file (content is its URL).
    File,
    /// A link or link card.
    Link,
    /// Anything else (cards, forms, mini programs…).
    Other,
}

/// One message, in conversation order. Its position (`sequence`) is given by the gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Unique within its conversation and stable across calls.
    pub id: String,
    /// Who sent it.
    pub role: Role,
    /// Text, HTML, or the URL of the attachment.
    pub content: String,
    /// What `content` holds.
    pub content_type: ContentType,
    /// When it was sent, where the vendor says.
    pub sent_at: Option<DateTime<Utc>>,
    /// Display name of the sender, where the vendor gives one.
    pub sender_name: Option<String>,
    /// The vendor's own item, unchanged.
    pub vendor_data: VendorData,
}

impl Role {
    /// The lower-case name used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
            Self::Bot => "bot",
            Self::System => "system",
        }
    }
}

impl ContentType {
    /// The lower-case name used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Html => "html",
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::File => "file",
            Self::Link => "link",
            Self::Other => "other",
        }
    }
}
