//! Megaview's JSON as it is sent (serde only) and its mapping to domain types. No HTTP here.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::domain::{
    ContentType, Conversation, ConversationId, Message, Role, SourceName, VendorData, VendorKind,
};
use crate::vendors::VendorError;
use crate::vendors::time::{SPACE_FORMAT, format_local, parse_local};
use crate::vendors::wire::{self, AnswerText, Scalar, WithRaw, parse_raw};

/// Largest `page_size` the list endpoint accepts.
pub(super) const MAX_PAGE_SIZE: u32 = 100;
/// Sentence `begin_time` values above this are epoch seconds, not offsets: no recording
/// lasts 31 years (see `../shared/vendors/megaview.md` §4).
const EPOCH_SECONDS_THRESHOLD: f64 = 1e9;
/// Above this an epoch `begin_time` can only be milliseconds (year 5138 in seconds).
const EPOCH_MILLIS_THRESHOLD: f64 = 1e11;

/// The `{code, msg, data}` envelope of every Megaview answer. `code == 0` is success.
/// `T` is the payload's type, so an answer is read in one pass.
#[derive(Deserialize)]
pub(super) struct Envelope<T = Box<RawValue>> {
    /// `0` on success, a 6-digit business code otherwise.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub(super) code: Option<i64>,
    /// Human-readable text (never forwarded to clients).
    #[serde(default)]
    pub(super) msg: Option<String>,
    /// The payload.
    #[serde(default = "wire::none")]
    pub(super) data: Option<T>,
}

/// `data` of `POST /openapi/auth/v1/app_access_token/internal`.
#[derive(Deserialize)]
pub(super) struct TokenData {
    /// The bearer token of every business call.
    #[serde(default)]
    pub(super) app_access_token: String,
    /// Lifetime in seconds.
    #[serde(default)]
    pub(super) expire: Option<u64>,
}

/// Body of `POST /openapi/conversation/v1/conversations/list`.
#[derive(Debug, Serialize)]
pub(super) struct ListRequest<'a> {
    /// Wall-clock start in the source's zone, `YYYY-MM-DD HH:MM:SS`.
    pub(super) begin_time: String,
    /// Wall-clock end in the source's zone, `YYYY-MM-DD HH:MM:SS`.
    pub(super) end_time: String,
    /// Items per page.
    pub(super) page_size: u32,
    /// The previous page's `page_token`; absent on the first call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) page_token: Option<&'a str>,
    /// Customer filter (an integer on the request side).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) deal_id: Option<i64>,
    /// Salesperson filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) open_user_id: Option<&'a str>,
}

impl<'a> ListRequest<'a> {
    /// The request for `[begin, end]` (whole seconds, already checked) in `zone`.
    pub(super) fn new(
        begin: DateTime<Utc>,
        end: DateTime<Utc>,
        zone: Tz,
        page_token: Option<&'a str>,
        deal_id: Option<i64>,
        open_user_id: Option<&'a str>,
    ) -> Self {
        Self {
            begin_time: format_local(begin, zone, SPACE_FORMAT),
            end_time: format_local(end, zone, SPACE_FORMAT),
            page_size: MAX_PAGE_SIZE,
            page_token,
            deal_id,
            open_user_id,
        }
    }
}

/// `data` of the list answer, its items read as `I`: typed, or raw.
#[derive(Deserialize)]
#[serde(bound(deserialize = "I: Deserialize<'de>"))]
pub(super) struct ListData<I = ConversationItem> {
    /// Whether another page follows.
    #[serde(default)]
    pub(super) has_more: bool,
    /// The next page's cursor.
    #[serde(default)]
    pub(super) page_token: Option<String>,
    /// Conversations in the whole filtered window, when sent.
    #[serde(default)]
    total_count: Option<i64>,
    /// The page's items.
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    conversations: Vec<I>,
}

impl ListData {
    /// The page's items, in vendor order, each keeping `answer` for its `vendor_data`.
    pub(super) fn into_items(self, answer: AnswerText) -> Vec<WithRaw<ConversationItem>> {
        answer.into_items(self.conversations, |text| {
            let raw: Envelope<ListData<&RawValue>> = serde_json::from_str(text)?;
            Ok(raw.data.map(|data| data.conversations).unwrap_or_default())
        })
    }

    /// `total_count`, as a hint for sizing slices (paging still follows `has_more`).
    pub(super) fn total_hint(&self) -> Option<u64> {
        self.total_count.and_then(|n| u64::try_from(n).ok())
    }

    /// The cursor of the next page, or `None` on the last one.
    pub(super) fn next_cursor(&self) -> Result<Option<String>, VendorError> {
        if !self.has_more {
            return Ok(None);
        }
        match self.page_token.as_deref().map(str::trim) {
            Some(token) if !token.is_empty() => Ok(Some(token.to_owned())),
            // Stopping here would silently drop the rest of the window.
            _ => Err(VendorError::Decode(
                "list page says has_more but carries no page_token".to_owned(),
            )),
        }
    }
}

/// One item of `data.conversations`.
#[derive(Deserialize)]
pub(super) struct ConversationItem {
    #[serde(default, deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    begin_time: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
    // A string in responses, an integer in requests (seed 000).
    #[serde(default, deserialize_with = "lenient_string")]
    deal_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    open_user_id: Option<String>,
    #[serde(default)]
    customer_sentence_count: Option<u64>,
    #[serde(default)]
    salesman_sentence_count: Option<u64>,
}

/// Maps one list item, keeping it whole as `vendor_data`.
pub(super) fn conversation_into_domain(
    item: WithRaw<ConversationItem>,
    source: &SourceName,
    zone: Tz,
) -> Result<Conversation, VendorError> {
    let WithRaw { item, raw } = item;
    let native = item
        .id
        .ok_or_else(|| VendorError::Decode("conversation item without an id".to_owned()))?;
    let started_at = item
        .begin_time
        .as_deref()
        .and_then(|raw| parse_local(raw, zone));
    let is_call = matches!(item.kind.as_deref(), Some("audio" | "video"));
    // `duration` only means something for calls; chats send 0 (seed 000).
    let duration = item
        .duration
        .filter(|secs| is_call && secs.is_finite() && *secs >= 0.0);
    let message_count = match (item.customer_sentence_count, item.salesman_sentence_count) {
        (None, None) => None,
        (customer, salesman) => Some(customer.unwrap_or(0).saturating_add(salesman.unwrap_or(0))),
    };
    Ok(Conversation {
        id: ConversationId::new(source.clone(), native),
        vendor: VendorKind::Megaview,
        title: item.name.filter(|name| !name.is_empty()),
        channel: item.kind.as_deref().and_then(channel).map(str::to_owned),
        started_at,
        // Checked: a vendor's absurd duration must not overflow the clock.
        ended_at: started_at.zip(duration).and_then(|(start, secs)| {
            start.checked_add_signed(TimeDelta::try_milliseconds((secs * 1000.0).round() as i64)?)
        }),
        last_message_at: None,
        duration_seconds: duration.map(|secs| secs.round() as u64),
        message_count,
        customer_id: item.deal_id,
        agent_id: item.open_user_id,
        bot_id: None,
        vendor_data: raw,
    })
}

/// The gateway's channel for a Megaview `type`; unknown types get none (the raw value stays
/// in `vendor_data`).
fn channel(kind: &str) -> Option<&'static str> {
    match kind {
        "audio" => Some("voice_call"),
        "video" => Some("video_call"),
        "doc" => Some("chat"),
        _ => None,
    }
}

/// `data` of `GET /openapi/conversation/v1/conversations/{id}/asr_data`.
#[derive(Deserialize)]
pub(super) struct AsrData {
    /// Where the transcript file is (a signed object-storage URL, valid 2 hours).
    #[serde(default)]
    pub(super) asr_file_url: Option<String>,
}

/// One sentence of a transcript file.
#[derive(Deserialize)]
struct Sentence {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    entity_type: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    begin_time: Option<f64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    order: Option<i64>,
}

/// When a call (audio or video conversation) started, from the single-conversation answer
/// (read like a list item; a `conversation` wrapper is tolerated). Chats give none: their
/// sentence times are epoch times already.
pub(super) fn call_start(detail: &Value, zone: Tz) -> Option<DateTime<Utc>> {
    let item = detail.get("conversation").unwrap_or(detail);
    let is_call = matches!(
        item.get("type").and_then(Value::as_str),
        Some("audio" | "video")
    );
    let begin = item.get("begin_time")?.as_str()?;
    is_call.then(|| parse_local(begin, zone)).flatten()
}

/// Maps a transcript file (a JSON array of sentences) to messages in `order` order. Offsets
/// are placed after `call_start` when it is known.
pub(super) fn transcript_into_messages(
    raw: Vec<Box<RawValue>>,
    call_start: Option<DateTime<Utc>>,
) -> Result<Vec<Message>, VendorError> {
    let mut sentences = raw
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            parse_raw::<Sentence>(&raw)
                .map(|sentence| (index, sentence, raw))
                .map_err(|err| VendorError::Decode(format!("transcript sentence {index}: {err}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Sentences without an `order` keep their file position, after the ordered ones.
    sentences.sort_by_key(|(index, sentence, _)| (sentence.order.unwrap_or(i64::MAX), *index));
    let mut repeats = HashMap::new();
    Ok(sentences
        .into_iter()
        .map(|(index, sentence, raw)| Message {
            id: unique_id(&mut repeats, sentence.order, index),
            role: role(sentence.entity_type.as_deref()),
            content: sentence.content.unwrap_or_default(),
            content_type: ContentType::Text,
            sent_at: sentence
                .begin_time
                .and_then(|begin| epoch_time(begin).or_else(|| offset_time(call_start?, begin))),
            sender_name: sentence.name.filter(|name| !name.is_empty()),
            vendor_data: VendorData::from_raw(&raw),
        })
        .collect())
}

/// `order` as the message id (Megaview has no sentence id); a repeated `order` gets a
/// suffix (`-1`, `-2`, ...) so ids stay unique within the conversation, and a missing one
/// is `i<file position>`. Linear in the sentences, however many share an `order`: a
/// suffixed id contains a `-` after a digit, which no integer and no `i<n>` spells.
fn unique_id(repeats: &mut HashMap<i64, usize>, order: Option<i64>, index: usize) -> String {
    let Some(order) = order else {
        return format!("i{index}");
    };
    let seen = repeats.entry(order).or_insert(0);
    let id = match *seen {
        0 => order.to_string(),
        n => format!("{order}-{n}"),
    };
    *seen += 1;
    id
}

/// `host_salesman` is the agent and `customer_contact` the customer (ASR doc). Other
/// speakers are read by their suffix/prefix, and anything else is the platform.
fn role(entity_type: Option<&str>) -> Role {
    match entity_type {
        Some(kind) if kind.ends_with("salesman") => Role::Agent,
        Some(kind) if kind.starts_with("customer") => Role::Customer,
        _ => Role::System,
    }
}

/// A sentence time as an instant, when it is an epoch time (chats) rather than an offset
/// from a call's start, which the transcript alone cannot place.
fn epoch_time(begin: f64) -> Option<DateTime<Utc>> {
    if !begin.is_finite() || begin <= EPOCH_SECONDS_THRESHOLD {
        return None;
    }
    let millis = if begin > EPOCH_MILLIS_THRESHOLD {
        begin
    } else {
        begin * 1000.0
    };
    DateTime::from_timestamp_millis(millis.round() as i64)
}

/// A sentence's offset (seconds from the call's start) as an instant.
fn offset_time(call_start: DateTime<Utc>, offset: f64) -> Option<DateTime<Utc>> {
    // Anything past the epoch threshold is not an offset; checked arithmetic keeps absurd
    // values (which the fuzzer finds) from overflowing.
    if !(0.0..=EPOCH_SECONDS_THRESHOLD).contains(&offset) {
        return None;
    }
    let delta = TimeDelta::try_milliseconds((offset * 1000.0).round() as i64)?;
    call_start.checked_add_signed(delta)
}

fn lenient_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Scalar>::deserialize(deserializer)?.and_then(|scalar| scalar.as_i64()))
}

fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Scalar>::deserialize(deserializer)? {
        Some(Scalar::Int(value)) => Some(value.to_string()),
        Some(Scalar::Float(value)) => Some(value.to_string()),
        // The vendor's own string is kept when it needs no trimming, as it nearly always does.
        Some(Scalar::Text(text)) => match text.trim() {
            "" => None,
            trimmed if trimmed.len() == text.len() => Some(text),
            trimmed => Some(trimmed.to_owned()),
        },
        Some(Scalar::Other) | None => None,
    })
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
