//! Udesk KM wire format (serde only) and its mapping onto domain types. No HTTP here.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::domain::{
    ContentType, Conversation, ConversationId, Message, Role, SourceName, VendorData, VendorKind,
};
use crate::vendors::time::parse_local;
use crate::vendors::wire::{self, Scalar};

/// The envelope of every KM answer: `{code, message, visible, paging, data}`.
/// `T` is the type `data` is read as, so an answer is read in one pass.
#[derive(Debug, Deserialize)]
pub(super) struct Envelope<T> {
    /// `200` on success; anything else is a business error.
    pub(super) code: i64,
    /// Page position and total, on list answers.
    #[serde(default)]
    pub(super) paging: Option<Paging>,
    /// The payload.
    #[serde(default = "wire::none")]
    pub(super) data: Option<T>,
}

/// `paging {pageNum, pageSize, total}`.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Paging {
    /// The page size the vendor applied.
    #[serde(default)]
    pub(super) page_size: Option<i64>,
    /// Items across all pages.
    #[serde(default)]
    pub(super) total: Option<i64>,
}

impl Paging {
    /// `total`, as a hint for sizing slices.
    pub(super) fn total_hint(&self) -> Option<u64> {
        self.total.and_then(|n| u64::try_from(n).ok())
    }

    /// Whether a page after `page_num` exists: the page was full and the pages so far do
    /// not yet cover `total`. Without a `total`, only a short page ends the listing.
    pub(super) fn has_more(&self, page_num: u32, requested_size: u32, received: usize) -> bool {
        // Trust the size the vendor says it applied: if it capped our `pageSize`, its own
        // size is what a full page and `pageNum * pageSize` are measured in.
        let page_size = self
            .page_size
            .and_then(|size| u64::try_from(size).ok())
            .filter(|size| *size > 0)
            .unwrap_or(u64::from(requested_size));
        let full = received as u64 >= page_size;
        let below_total = self.total.is_none_or(|total| {
            u64::try_from(total)
                .is_ok_and(|total| u64::from(page_num).saturating_mul(page_size) < total)
        });
        full && below_total
    }
}

/// The body of `POST /api/v1/sessions`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SessionQuery {
    /// The robot whose sessions are listed.
    pub(super) robot_id: i64,
    /// Window start, `yyyy-MM-dd HH:mm:ss` in the source's zone.
    pub(super) start_time: String,
    /// Window end, `yyyy-MM-dd HH:mm:ss` in the source's zone.
    pub(super) end_time: String,
    /// Page number, from 1.
    pub(super) page_num: u32,
    /// Page size, below 100.
    pub(super) page_size: u32,
    /// `0`: newest first.
    pub(super) sort_flag: u8,
    /// `4` searches by customer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) keywords_source: Option<u8>,
    /// The searched value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) keywords: Option<String>,
}

/// `keywordsSource` value that searches sessions by customer id.
pub(super) const KEYWORDS_SOURCE_CUSTOMER_ID: u8 = 4;

/// One item of the session list.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Session {
    id: i64,
    #[serde(default)]
    robot_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_text")]
    start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    end_time: Option<String>,
    #[serde(default)]
    total_count: Option<i64>,
    #[serde(default, deserialize_with = "lenient_text")]
    app_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    channel_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    dialogue_desc: Option<String>,
    #[serde(default)]
    customer: Option<Customer>,
}

/// `customer` of a session; `null` for some sessions.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Customer {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_text")]
    platform: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    dialogue_desc: Option<String>,
}

impl Session {
    /// Maps a session; `raw` is the same item, kept as `vendor_data`.
    pub(super) fn into_domain(
        self,
        source: &SourceName,
        zone: Tz,
        raw: VendorData,
    ) -> Conversation {
        let started_at = local_time(self.start_time.as_deref(), zone);
        let ended_at = local_time(self.end_time.as_deref(), zone);
        let duration_seconds = match (started_at, ended_at) {
            (Some(start), Some(end)) => u64::try_from((end - start).num_seconds()).ok(),
            _ => None,
        };
        let customer = self.customer.as_ref();
        Conversation {
            id: ConversationId::new(source.clone(), self.id.to_string()),
            vendor: VendorKind::Udesk,
            // `dialogueDesc` is in the example at the top level and in the field table
            // under `customer`; see ../shared/vendors/udesk.md §6.
            title: self
                .dialogue_desc
                .or_else(|| customer.and_then(|c| c.dialogue_desc.clone()))
                .or(self.app_name),
            channel: customer
                .and_then(|c| c.platform.clone())
                .or(self.channel_name),
            started_at,
            ended_at,
            // A KM session has no separate last-message time; it ends with its last log.
            last_message_at: ended_at,
            duration_seconds,
            message_count: self.total_count.and_then(|n| u64::try_from(n).ok()),
            customer_id: customer.and_then(|c| c.id).map(|id| id.to_string()),
            agent_id: None,
            bot_id: self.robot_id.map(|id| id.to_string()),
            vendor_data: raw,
        }
    }
}

/// One item of a session's logs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LogItem {
    id: i64,
    #[serde(default)]
    user_type: Option<i64>,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    content_type: Option<i64>,
    #[serde(default)]
    answer_content: Value,
    #[serde(default, deserialize_with = "lenient_text")]
    create_time: Option<String>,
}

impl LogItem {
    /// The message id: the log `id` (an int64) in decimal.
    pub(super) fn id(&self) -> String {
        self.id.to_string()
    }

    /// Maps a log; `raw` is the same item, kept as `vendor_data`.
    pub(super) fn into_domain(self, zone: Tz, raw: VendorData) -> Message {
        // Only 1 (robot) and 2 (user) are documented; anything else is taken to be a
        // human agent (../shared/vendors/udesk.md §3).
        let role = match self.user_type {
            Some(1) => Role::Bot,
            Some(2) => Role::Customer,
            _ => Role::Agent,
        };
        // Some rows carry no `contentType` (the seed's first two); they are plain text.
        let content_type = match self.content_type.unwrap_or(1) {
            1 => ContentType::Text,
            2 => ContentType::Html,
            9 => ContentType::Audio,
            10 => ContentType::Link,
            11 => ContentType::Image,
            19 => ContentType::Video,
            _ => ContentType::Other,
        };
        Message {
            id: self.id.to_string(),
            role,
            // Robot answers also carry `answerContent` (../shared/vendors/udesk.md §6).
            content: text_of(self.content)
                .or_else(|| text_of(self.answer_content))
                .unwrap_or_default(),
            content_type,
            sent_at: local_time(self.create_time.as_deref(), zone),
            sender_name: None,
            vendor_data: raw,
        }
    }
}

fn local_time(raw: Option<&str>, zone: Tz) -> Option<DateTime<Utc>> {
    raw.and_then(|raw| parse_local(raw, zone))
}

/// A content value as text: strings as they are, structured content as JSON.
fn text_of(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// A descriptive field: a non-blank string, or a number written out. Anything else is
/// absent, so one odd cosmetic field never fails a whole page.
fn lenient_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Scalar>::deserialize(deserializer)? {
        Some(Scalar::Text(text)) if !text.trim().is_empty() => Some(text),
        Some(Scalar::Int(number)) => Some(number.to_string()),
        Some(Scalar::Float(number)) => serde_json::Number::from_f64(number).map(|n| n.to_string()),
        _ => None,
    })
}
