//! Upstream vendors. Each vendor is one folder implementing [`VendorAdapter`], with its
//! config keys in its own `config.rs`; vendor wire types never leave their folder.
//! [`VendorSettings`], [`vendor_config`] and [`VendorRegistry::from_config`] are the places
//! that list vendor kinds.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use url::Url;

use crate::domain::{Conversation, Message, SourceName, VendorKind};
use crate::ratelimit::{QuotaStore, RateLimit};

pub mod budget;
pub mod config;
pub mod download;
mod error;
#[cfg(test)]
mod error_tests;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod reads;
pub mod resilience;
#[cfg(test)]
mod testing;
pub mod time;
mod wire;

mod gptbots;
mod jijyun;
mod megaview;
mod udesk;

pub use budget::{BodyBudget, BodyLimits};
pub use error::{FailureKind, VendorError};
pub use gptbots::config::GptbotsSettings;
pub use http::{CallContext, Transport, Upstream, UpstreamSnapshot};
pub use jijyun::config::JijyunSettings;
pub use megaview::config::MegaviewSettings;
pub use reads::{ReadTurn, ReadsSnapshot, SourceReads};
pub use udesk::config::{SignAlgorithm, UdeskSettings};

/// One `[[sources]]` entry: one vendor account.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// `name`: `[a-z0-9-]+`, unique; the prefix of every id from this source.
    pub name: SourceName,
    /// `base_url`: the vendor's API root (http or https).
    pub base_url: Url,
    /// `timeout_ms`: time limit of one vendor call. Default 8000.
    pub timeout: std::time::Duration,
    /// `timezone`: IANA zone of times the vendor sends or expects without an offset.
    /// Default `Asia/Shanghai`.
    pub timezone: Tz,
    /// `rate_limit`: `{ tier = "low" | "medium" | "high" }` or `{ per_second, burst }`.
    /// Default: the vendor's tier (`medium` for megaview, `low` for the others).
    pub rate_limit: RateLimit,
    /// `max_concurrent_reads`: reads of this source in progress at once (a time slice of a
    /// listing, or a conversation's messages). Default 16.
    pub max_concurrent_reads: usize,
    /// `max_items_per_read`: most conversations one read of this source holds (a time
    /// slice that cannot be split further, or a whole window of a source that cannot be
    /// sliced). Default 10000.
    pub max_items_per_read: usize,
    /// `vendor` and the vendor's own keys.
    pub vendor: VendorSettings,
}

impl SourceConfig {
    /// Which vendor this source speaks to.
    pub fn vendor_kind(&self) -> VendorKind {
        self.vendor.kind()
    }
}

/// The vendor-specific keys of a source, each vendor's read by its own `config.rs`.
#[derive(Debug, Clone)]
pub enum VendorSettings {
    /// `vendor = "megaview"`.
    Megaview(MegaviewSettings),
    /// `vendor = "gptbots"`.
    Gptbots(GptbotsSettings),
    /// `vendor = "udesk"`.
    Udesk(UdeskSettings),
    /// `vendor = "jijyun"`.
    Jijyun(JijyunSettings),
}

impl VendorSettings {
    /// Which vendor these settings are for.
    pub fn kind(&self) -> VendorKind {
        match self {
            Self::Megaview(_) => VendorKind::Megaview,
            Self::Gptbots(_) => VendorKind::Gptbots,
            Self::Udesk(_) => VendorKind::Udesk,
            Self::Jijyun(_) => VendorKind::Jijyun,
        }
    }
}

/// A vendor's keys, checks and default tier, for the config loader: a new vendor adds one
/// arm here, naming the keys struct of its `config.rs`.
pub fn vendor_config(kind: VendorKind) -> config::VendorConfig {
    match kind {
        VendorKind::Megaview => config::VendorConfig::of::<megaview::config::RawMegaview>(),
        VendorKind::Gptbots => config::VendorConfig::of::<gptbots::config::RawGptbots>(),
        VendorKind::Udesk => config::VendorConfig::of::<udesk::config::RawUdesk>(),
        VendorKind::Jijyun => config::VendorConfig::of::<jijyun::config::RawJijyun>(),
    }
}

/// Most vendor pages read for one conversation's messages (10,000 messages at 100 a page):
/// one bound for every adapter's message paging, so a vendor that never stops paging costs
/// a known number of calls and then fails with [`VendorError::endless_paging`].
pub const MAX_MESSAGE_PAGES: u32 = 100;

/// A vendor's integer id in its one canonical spelling (`1001`; not `+1001`, `01001` or
/// ` 1001`). Other spellings name nothing, so a conversation has one id and one cache key,
/// and only the canonical one is ever sent to the vendor.
pub(crate) fn canonical_integer_id(native_id: &str) -> Option<i64> {
    native_id
        .parse::<i64>()
        .ok()
        .filter(|id| id.to_string() == native_id)
}

/// What a source is asked for when listing conversations. The window is half-open,
/// `since <= t < until`, on the time a conversation sorts by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationQuery {
    /// Start of the window (inclusive).
    pub since: DateTime<Utc>,
    /// End of the window (exclusive).
    pub until: DateTime<Utc>,
    /// Only conversations of this customer (the vendor's customer / end-user id).
    pub customer_id: Option<String>,
    /// Only conversations of this agent (the vendor's agent / salesperson id).
    pub agent_id: Option<String>,
}

/// One vendor page of conversations.
#[derive(Debug, Clone)]
pub struct ConversationBatch {
    /// The page's conversations, in whatever order the vendor sent them.
    pub items: Vec<Conversation>,
    /// Where the next vendor page starts, or `None` when this was the last one.
    pub next_cursor: Option<String>,
    /// How many conversations the vendor says the whole query holds, when it says. A hint
    /// for sizing time slices, never a reason to stop or skip paging.
    pub total: Option<u64>,
}

impl ConversationBatch {
    /// A last page with nothing on it.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            next_cursor: None,
            total: Some(0),
        }
    }
}

/// How a source's listing can be cut into time slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slicing {
    /// Longest window one listing may span (Megaview: 7 days), if the vendor has a limit.
    pub max_window: Option<chrono::Duration>,
    /// Most conversations one vendor page holds (the page size the adapter asks for).
    pub page_capacity: usize,
}

/// One configured, authenticated vendor account.
///
/// Implementations translate between the vendor's API and domain types. They must not
/// retry, fan out, sort or cache: fan-out and caching live in `crate::aggregate`. Every
/// call goes through their [`Upstream`], which applies the breaker, takes the quota permit,
/// honours vendor cool-downs, retries and enforces the budget.
#[async_trait]
pub trait VendorAdapter: Send + Sync {
    /// The configured source name: the prefix of every id this adapter issues.
    fn source(&self) -> &SourceName;

    /// Which vendor this source speaks to.
    fn vendor(&self) -> VendorKind;

    /// How the vendor's time filter lets the gateway read a window in slices, or `None`
    /// when a listing must be read whole (one piece per window). A sliced source's time
    /// filter must match the conversations' sort time (`started_at`, else
    /// `last_message_at`), so each conversation belongs to exactly one slice; any without
    /// a sort time are taken from the window's oldest slice only.
    fn slicing(&self) -> Option<Slicing> {
        None
    }

    /// Why this source cannot answer `query` exactly (it is then reported `skipped` with
    /// this reason), or `None` when it can.
    fn unsupported(&self, query: &ConversationQuery) -> Option<String>;

    /// One vendor page of the conversations in `query` (whose window is never longer than
    /// [`Slicing::max_window`]), starting at `cursor` (`None`: the first page).
    /// Always asks the vendor for its largest page. Items may be a little outside the
    /// window (vendors round to seconds); the gateway drops those.
    async fn list_conversations(
        &self,
        ctx: &CallContext,
        query: &ConversationQuery,
        cursor: Option<&str>,
    ) -> Result<ConversationBatch, VendorError>;

    /// Every message of one conversation, in conversation order, reading all vendor pages.
    async fn list_messages(
        &self,
        ctx: &CallContext,
        native_id: &str,
    ) -> Result<Vec<Message>, VendorError>;
}

/// Every configured adapter. Built once at startup, read-only afterwards.
#[derive(Clone, Default)]
pub struct VendorRegistry {
    adapters: BTreeMap<SourceName, Arc<dyn VendorAdapter>>,
    upstreams: BTreeMap<SourceName, Upstream>,
    reads: BTreeMap<SourceName, SourceReads>,
}

impl VendorRegistry {
    /// Builds one adapter per configured source, each with its own quota in `quotas`, its
    /// own circuit breaker and its own retry budget; all share `transport` and so its
    /// in-flight byte budget.
    pub fn from_config(
        sources: &[SourceConfig],
        quotas: &QuotaStore,
        transport: &Transport,
    ) -> Self {
        let mut registry = Self::default();
        for source in sources {
            let limiter = Arc::new(quotas.limiter(&source.name, source.rate_limit));
            let upstream = Upstream::new(source.name.clone(), transport, limiter, source.timeout);
            registry
                .upstreams
                .insert(source.name.clone(), upstream.clone());
            registry.insert(adapter_for(source, upstream));
            registry.limit_reads(
                &source.name,
                SourceReads::new(source.max_concurrent_reads, source.max_items_per_read),
            );
        }
        registry
    }

    /// Adds an adapter, with the default number of reads at once. Tests use this to
    /// register fakes.
    pub fn insert(&mut self, adapter: Arc<dyn VendorAdapter>) {
        let source = adapter.source().clone();
        self.reads.entry(source.clone()).or_default();
        self.adapters.insert(source, adapter);
    }

    /// Sets how `source` may be read.
    pub fn limit_reads(&mut self, source: &SourceName, reads: SourceReads) {
        self.reads.insert(source.clone(), reads);
    }

    /// How `source` may be read: the turn every read takes, the items one may hold.
    pub fn reads(&self, source: &SourceName) -> Option<&SourceReads> {
        self.reads.get(source)
    }

    /// How a configured source reaches its vendor: its quota, breaker and cool-down.
    pub fn upstream(&self, source: &SourceName) -> Option<&Upstream> {
        self.upstreams.get(source)
    }

    /// The adapter of a source.
    pub fn get(&self, source: &SourceName) -> Option<&Arc<dyn VendorAdapter>> {
        self.adapters.get(source)
    }

    /// Every adapter, by source name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn VendorAdapter>> {
        self.adapters.values()
    }
}

/// The adapter of `source`, calling its vendor through `upstream`. The only place that
/// lists vendor kinds for adapters: a new vendor adds one arm here.
pub(crate) fn adapter_for(source: &SourceConfig, upstream: Upstream) -> Arc<dyn VendorAdapter> {
    match &source.vendor {
        VendorSettings::Megaview(settings) => Arc::new(megaview::MegaviewAdapter::new(
            source,
            settings.clone(),
            upstream,
        )),
        VendorSettings::Gptbots(settings) => Arc::new(gptbots::GptbotsAdapter::new(
            source,
            settings.clone(),
            upstream,
        )),
        VendorSettings::Udesk(settings) => {
            Arc::new(udesk::UdeskAdapter::new(source, settings.clone(), upstream))
        }
        VendorSettings::Jijyun(settings) => Arc::new(jijyun::JijyunAdapter::new(
            source,
            settings.clone(),
            upstream,
        )),
    }
}

/// Builds the HTTP client every adapter shares (rustls, pooled connections).
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("conversation-gateway/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(5))
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}
