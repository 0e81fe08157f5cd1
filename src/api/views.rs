//! The API's resource shapes (serde + utoipa) and the one mapping from domain types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::timestamp;
use crate::aggregate::{SourceState, WalkStatus};
use crate::domain::{self, ErrorCode, SourceName, VendorKind};
use crate::vendors::{FailureKind, VendorError};

/// A vendor key.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// Megaview (深维智信).
    Megaview,
    /// GPTBots.
    Gptbots,
    /// Udesk KM robot.
    Udesk,
    /// 语聚AI (Jijyun).
    Jijyun,
}

impl From<VendorKind> for Vendor {
    fn from(kind: VendorKind) -> Self {
        match kind {
            VendorKind::Megaview => Self::Megaview,
            VendorKind::Gptbots => Self::Gptbots,
            VendorKind::Udesk => Self::Udesk,
            VendorKind::Jijyun => Self::Jijyun,
        }
    }
}

/// A conversation from any vendor, in one shape. Fields the vendor does not give are absent.
// It borrows from the conversation it shows: a page is written straight from the
// conversations the gateway holds, without a copy of each one's strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView<'a> {
    /// `<source>:<native id>`, e.g. `helpdesk:457955`. Use it whole as one path segment.
    pub id: String,
    /// The configured source it came from.
    pub source: &'a str,
    /// The vendor of that source.
    pub vendor: Vendor,
    /// The vendor's own id.
    pub native_id: &'a str,
    /// Subject or name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    /// Channel or type, e.g. `voice_call`, `video_call`, `chat`, `api`, `web`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<&'a str>,
    /// When it started (RFC 3339, UTC).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timestamp::serialize"
    )]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (RFC 3339, UTC).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timestamp::serialize"
    )]
    pub ended_at: Option<DateTime<Utc>>,
    /// When its last message was sent (RFC 3339, UTC).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timestamp::serialize"
    )]
    pub last_message_at: Option<DateTime<Utc>>,
    /// Length in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
    /// Number of messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_count: Option<u64>,
    /// The vendor's customer or end-user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<&'a str>,
    /// The vendor's agent or salesperson id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<&'a str>,
    /// The vendor's bot id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<&'a str>,
    /// The vendor's own item, unchanged; only with `include=vendor_data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<serde_json::Value>)]
    pub vendor_data: Option<&'a domain::VendorData>,
}

impl<'a> ConversationView<'a> {
    /// The API shape of a conversation.
    pub fn new(conversation: &'a domain::Conversation, include_vendor_data: bool) -> Self {
        Self {
            id: conversation.id.to_string(),
            source: conversation.id.source().as_str(),
            vendor: conversation.vendor.into(),
            native_id: conversation.id.native(),
            title: conversation.title.as_deref(),
            channel: conversation.channel.as_deref(),
            started_at: conversation.started_at,
            ended_at: conversation.ended_at,
            last_message_at: conversation.last_message_at,
            duration_seconds: conversation.duration_seconds,
            message_count: conversation.message_count,
            customer_id: conversation.customer_id.as_deref(),
            agent_id: conversation.agent_id.as_deref(),
            bot_id: conversation.bot_id.as_deref(),
            vendor_data: include_vendor_data.then_some(&conversation.vendor_data),
        }
    }
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The end user or customer.
    Customer,
    /// A human agent or salesperson.
    Agent,
    /// A bot or AI assistant.
    Bot,
    /// The platform itself.
    System,
}

/// What a message's `content` holds.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    /// Plain text.
    Text,
    /// HTML or rich text.
    Html,
    /// An image URL.
    Image,
    /// An audio URL or transcript.
    Audio,
    /// A video URL.
    Video,
    /// A file URL.
    File,
    /// A link.
    Link,
    /// Anything else.
    Other,
}

/// One message of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    /// Unique within the conversation.
    pub id: String,
    /// The conversation's id.
    pub conversation_id: String,
    /// 0-based position in the conversation.
    pub sequence: u64,
    /// Who sent it.
    pub role: Role,
    /// Text, HTML, or the URL of an attachment.
    pub content: String,
    /// What `content` holds.
    pub content_type: ContentType,
    /// When it was sent (RFC 3339, UTC), where known.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timestamp::serialize"
    )]
    pub sent_at: Option<DateTime<Utc>>,
    /// The sender's display name, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// The vendor's own item, unchanged; only with `include=vendor_data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<serde_json::Value>)]
    pub vendor_data: Option<domain::VendorData>,
}

impl MessageView {
    /// The API shape of the message at `sequence` of `conversation_id`.
    pub fn new(
        message: &domain::Message,
        conversation_id: &str,
        sequence: u64,
        include_vendor_data: bool,
    ) -> Self {
        Self {
            id: message.id.clone(),
            conversation_id: conversation_id.to_owned(),
            sequence,
            role: match message.role {
                domain::Role::Customer => Role::Customer,
                domain::Role::Agent => Role::Agent,
                domain::Role::Bot => Role::Bot,
                domain::Role::System => Role::System,
            },
            content: message.content.clone(),
            content_type: match message.content_type {
                domain::ContentType::Text => ContentType::Text,
                domain::ContentType::Html => ContentType::Html,
                domain::ContentType::Image => ContentType::Image,
                domain::ContentType::Audio => ContentType::Audio,
                domain::ContentType::Video => ContentType::Video,
                domain::ContentType::File => ContentType::File,
                domain::ContentType::Link => ContentType::Link,
                domain::ContentType::Other => ContentType::Other,
            },
            sent_at: message.sent_at,
            sender_name: message.sender_name.clone(),
            vendor_data: include_vendor_data.then(|| message.vendor_data.clone()),
        }
    }
}

/// How a source fared in this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    /// It answered.
    Ok,
    /// It failed.
    Error,
    /// It did not answer within the request's budget.
    Timeout,
    /// It (or its quota) is throttling; see `retry_after_seconds`.
    RateLimited,
    /// It was not asked; `error.message` says why.
    Skipped,
}

/// Why a source is not `ok`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceErrorView {
    /// Stable machine code, e.g. `UPSTREAM_TIMEOUT`, `FILTER_NOT_SUPPORTED`.
    pub code: ErrorCode,
    /// Human-readable reason. Never contains secrets or upstream bodies.
    pub message: String,
}

/// One source's outcome in a response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceStatusView {
    /// The source name.
    pub source: String,
    /// Its vendor.
    pub vendor: Vendor,
    /// How it fared.
    pub status: SourceStatus,
    /// Why it is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SourceErrorView>,
    /// For `rate_limited`: seconds until it may be asked again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// When this source failed during a walk: the part of the window whose conversations
    /// from this source were not delivered. It is left out of the rest of the walk; fetch
    /// this window later with `source=<this source>` (items at its very end may repeat:
    /// dedupe by `id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingWindow>,
}

/// A window of one source not delivered by this walk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MissingWindow {
    /// Pass as `since`.
    pub since: DateTime<Utc>,
    /// Pass as `until`.
    pub until: DateTime<Utc>,
}

impl SourceStatusView {
    /// The view of one source's failure.
    pub fn failed(source: &SourceName, vendor: VendorKind, error: &VendorError) -> Self {
        let status = match error.kind() {
            FailureKind::TimedOut => SourceStatus::Timeout,
            FailureKind::RateLimited => SourceStatus::RateLimited,
            _ => SourceStatus::Error,
        };
        Self {
            source: source.to_string(),
            vendor: vendor.into(),
            status,
            error: Some(SourceErrorView {
                code: error.code(),
                message: error.to_string(),
            }),
            retry_after_seconds: (status == SourceStatus::RateLimited).then(|| {
                error
                    .retry_after()
                    .map_or(1, |wait| wait.as_secs_f64().ceil().max(1.0) as u64)
            }),
            missing: None,
        }
    }
}

impl From<&SourceState> for SourceStatusView {
    fn from(state: &SourceState) -> Self {
        let plain = |status, error| Self {
            source: state.source.to_string(),
            vendor: state.vendor.into(),
            status,
            error,
            retry_after_seconds: None,
            missing: None,
        };
        match &state.status {
            WalkStatus::Ok => plain(SourceStatus::Ok, None),
            WalkStatus::Skipped(reason) => plain(
                SourceStatus::Skipped,
                Some(SourceErrorView {
                    code: ErrorCode::FilterNotSupported,
                    message: reason.clone(),
                }),
            ),
            WalkStatus::Failed { error, missing } => Self {
                missing: missing.map(MissingWindow::from),
                ..Self::failed(&state.source, state.vendor, error)
            },
            WalkStatus::FailedEarlier { code, missing } => Self {
                missing: Some(MissingWindow::from(*missing)),
                ..plain(
                    SourceStatus::Skipped,
                    Some(SourceErrorView {
                        code: ErrorCode::FailedEarlierInWalk,
                        message: format!(
                            "failed earlier in this walk ({code}); left out of the rest of it: fetch `missing` later"
                        ),
                    }),
                )
            },
        }
    }
}

impl From<crate::aggregate::MissingWindow> for MissingWindow {
    fn from(window: crate::aggregate::MissingWindow) -> Self {
        Self {
            since: window.since,
            until: window.until,
        }
    }
}

/// A page of the merged conversation list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage<'a> {
    /// Conversations, newest first (see the ordering rules).
    pub data: Vec<ConversationView<'a>>,
    /// Pass as `page_token` for the next page; `null` on the last page.
    pub next_page_token: Option<String>,
    /// How every asked source fared.
    pub sources: Vec<SourceStatusView>,
}

/// A page of a conversation's messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// Messages in conversation order.
    pub data: Vec<MessageView>,
    /// Pass as `page_token` for the next page; `null` on the last page.
    pub next_page_token: Option<String>,
}

/// A source's quota and its limiter's state in this process.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitView {
    /// Sustained vendor calls per second.
    pub per_second: u32,
    /// Calls that may go out at once.
    pub burst: u32,
    /// Where the quota lives: `memory` (this process) or `redis` (shared by replicas).
    pub store: String,
    /// With `redis`: whether Redis answered the last permit (`false`: this replica runs on
    /// its local share of the quota until Redis is back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_reachable: Option<bool>,
    /// While a vendor throttle holds every call to the source: milliseconds left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cool_down_ms: Option<u64>,
    /// The longest a vendor's throttle may hold the source (`rate_limit.max_cool_down_ms`).
    pub max_cool_down_ms: u64,
    /// Vendor cool-downs cut to that maximum since start.
    pub cool_downs_clamped: u64,
    /// Permits given since start (retries included).
    pub granted: u64,
    /// Of those, permits given after waiting for the quota or a cool-down.
    pub waited: u64,
    /// Calls refused because no permit came within their request's budget.
    pub refused: u64,
    /// Permits taken from the local share while Redis was unreachable.
    pub fallback: u64,
}

/// Position of a source's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerStateView {
    /// Calls go through.
    Closed,
    /// The source failed repeatedly: it is answered at once as `error`
    /// (`UPSTREAM_CIRCUIT_OPEN`) until `retry_in_ms` has passed.
    Open,
    /// One probe call may go; its outcome closes or reopens the breaker.
    HalfOpen,
}

/// A source's circuit breaker (per process).
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakerView {
    /// Where it stands.
    pub state: BreakerStateView,
    /// Failed calls in a row (timeouts, transport errors, 5xx).
    pub consecutive_failures: u32,
    /// While open: milliseconds until a probe may go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
    /// Times it opened since start.
    pub opened: u64,
}

/// Recent health of a source, from the gateway's own calls.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceHealthView {
    /// `unknown` (not called yet), `ok` (last call succeeded) or `failing`.
    pub state: String,
    /// Last successful call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ok_at: Option<DateTime<Utc>>,
    /// Code of the last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_code: Option<ErrorCode>,
    /// When it last failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
}

/// A configured source, without secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// Source name: the prefix of its ids.
    pub name: String,
    /// Its vendor.
    pub vendor: Vendor,
    /// The vendor API root (without user info or query).
    pub base_url: String,
    /// Zone of the vendor's zone-less times.
    pub timezone: String,
    /// Time limit of one vendor call, in milliseconds.
    pub timeout_ms: u64,
    /// The source's quota.
    pub rate_limit: RateLimitView,
    /// Recent health.
    pub health: SourceHealthView,
    /// Its circuit breaker.
    pub breaker: BreakerView,
    /// Its reads at once (`max_concurrent_reads`).
    pub reads: ReadsView,
}

/// A source's reads at once in this process: each read that calls the vendor (a time
/// slice of a listing, or a conversation's messages) takes one of `max` turns.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadsView {
    /// Reads allowed at once (`sources[].max_concurrent_reads`).
    pub max: u64,
    /// Conversations one read may hold (`sources[].max_items_per_read`).
    pub max_items: u64,
    /// Reads in progress now.
    pub in_progress: u64,
    /// Reads that found every turn taken and waited, since start.
    pub waited: u64,
    /// Reads that got no turn within their request's budget (`SOURCE_BUSY`), since start.
    pub refused: u64,
}

/// Every configured source.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceList {
    /// The sources, by name.
    pub data: Vec<SourceView>,
}
