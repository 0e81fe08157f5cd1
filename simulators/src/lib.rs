//! Protocol-faithful simulators of the four vendor APIs, for demo mode, end-to-end tests, benchmarks
//! and the compose stack. A second, independent reading of the vendor documents: nothing here is
//! shared with the gateway's adapters.
//!
//! Every request that reaches a simulator route passes one gate, in this order: it is recorded
//! (arrival time, vendor, endpoint label), the vendor's throttle decides at arrival, then the
//! configured latency elapses, then the request is answered by the throttle (HTTP 429, plus
//! `Retry-After` when configured), by a hang (`hang`, then a load balancer's 504 page), by the
//! vendor's own 5xx, or by the simulator itself. Fault draws come from a generator seeded with
//! `seed`, so a given sequence of requests meets the same faults every run. Unknown paths under a
//! vendor prefix are recorded as endpoint `"not_found"` and answered with that vendor's 404.
//!
//! This crate depends on nothing of the gateway's, so the compiler keeps the two readings
//! apart: a simulator cannot borrow an adapter's wire struct, path or constant.
//!
//! Layout: this file holds the facade ([`Sandbox`]) and its configuration; `http` the gate
//! every route passes, `faults` the fault engine, `calls` the call log, `data` the dataset and
//! the generator keys and drawing functions every vendor shares, `phrases` the shared message
//! texts, and one folder per vendor its routes (`mod.rs`), records and generator (`data.rs`;
//! Udesk's logs in `logs.rs`) and tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

mod calls;
pub mod data;
mod faults;
mod gptbots;
mod http;
mod jijyun;
mod megaview;
mod phrases;
mod udesk;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod testing;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use calls::RecordedCall;
pub use faults::{Faults, Throttle};

use calls::CallLog;
use faults::FaultState;

/// One of the simulated vendors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimVendor {
    /// Megaview (深维智信), sales-conversation intelligence, under `/megaview`.
    Megaview,
    /// GPTBots, AI agent platform, under `/gptbots`.
    Gptbots,
    /// Udesk KM robot, under `/udesk`.
    Udesk,
    /// 语聚AI (Jijyun), aggregated inbox, under `/jijyun`.
    Jijyun,
}

impl SimVendor {
    /// Every simulated vendor, in a fixed order.
    pub const ALL: [Self; 4] = [Self::Megaview, Self::Gptbots, Self::Udesk, Self::Jijyun];

    /// The vendor key, which is also the path prefix of its simulator.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Megaview => "megaview",
            Self::Gptbots => "gptbots",
            Self::Udesk => "udesk",
            Self::Jijyun => "jijyun",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Megaview => 0,
            Self::Gptbots => 1,
            Self::Udesk => 2,
            Self::Jijyun => 3,
        }
    }
}

/// Everything a [`Sandbox`] is built from. Same config, same data, same answers.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Seed of the dataset and of the fault draws. Default 42.
    pub seed: u64,
    /// Conversations generated per vendor. Default 300.
    pub conversations_per_vendor: usize,
    /// Data is spread over `[anchor - history_days, anchor)`. Default 28.
    pub history_days: u32,
    /// Newest possible data time, and "now" of the simulated world (Megaview's default window,
    /// Jijyun's `days`). Default: the current time truncated to the minute.
    pub anchor: DateTime<Utc>,
    /// Zone of the naive times Megaview, Udesk and Jijyun send and expect. Default Asia/Shanghai.
    pub timezone: chrono_tz::Tz,
    /// Credentials the simulators accept.
    pub credentials: SandboxCredentials,
    /// Faults every vendor starts with.
    pub faults: Faults,
    /// `expire` of Megaview app tokens. Default 7200 s.
    pub megaview_token_ttl: Duration,
    /// Order of the items inside list answers. Default [`ListOrder::Documented`].
    pub list_order: ListOrder,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        let now = Utc::now();
        let anchor = DateTime::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(60), 0)
            .unwrap_or(now);
        Self {
            seed: 42,
            conversations_per_vendor: 300,
            history_days: 28,
            anchor,
            timezone: chrono_tz::Asia::Shanghai,
            credentials: SandboxCredentials::default(),
            faults: Faults::default(),
            megaview_token_ttl: Duration::from_secs(7200),
            list_order: ListOrder::default(),
        }
    }
}

/// The most conversations per vendor the simulators are built and measured for.
pub const MAX_CONVERSATIONS_PER_VENDOR: usize = 100_000;

/// Order of the items inside a conversation or session list answer.
///
/// No vendor document promises an order inside a list, so a client must not rely on one;
/// `Arbitrary` lets tests prove that it does not. Its key is a hash of the seed, the vendor and
/// the conversation, applied to the matching items before paging: pages of one query stay
/// disjoint and together hold exactly the matching set, the same query gets the same order every
/// time, but a page holds items from anywhere in the window. Totals do not change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ListOrder {
    /// By time, as each simulator's module documentation describes.
    #[default]
    Documented,
    /// By a stable pseudo-random key per conversation, before paging.
    Arbitrary,
}

/// Credentials the simulators accept. The default values are fixed demo strings.
#[derive(Clone, Debug)]
pub struct SandboxCredentials {
    /// Megaview `app_key` of the token endpoint.
    pub megaview_app_key: String,
    /// Megaview `app_secret` of the token endpoint.
    pub megaview_app_secret: String,
    /// GPTBots API key, sent as `Authorization: Bearer <key>`.
    pub gptbots_api_key: String,
    /// Udesk admin `email` of the query signature.
    pub udesk_email: String,
    /// Udesk KM `api_token`, the secret part of the signature.
    pub udesk_api_token: String,
    /// The only `robotId` the Udesk simulator knows.
    pub udesk_robot_id: i64,
    /// Hash of the Udesk signature.
    pub udesk_sign_algorithm: SignAlgorithm,
    /// Jijyun `apiKey` query parameter.
    pub jijyun_api_key: String,
}

impl Default for SandboxCredentials {
    fn default() -> Self {
        Self {
            megaview_app_key: "demo-megaview-app-key".to_owned(),
            megaview_app_secret: "demo-megaview-app-secret".to_owned(),
            gptbots_api_key: "demo-gptbots-api-key".to_owned(),
            udesk_email: "admin@demo.udesk.cn".to_owned(),
            udesk_api_token: "demo-udesk-api-token".to_owned(),
            udesk_robot_id: 83,
            udesk_sign_algorithm: SignAlgorithm::Sha1,
            jijyun_api_key: "demo-jijyun-api-key".to_owned(),
        }
    }
}

/// Hash of Udesk's `sign = hex(HASH("{email}&{api_token}&{timestamp}"))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignAlgorithm {
    /// SHA-1, 40 lowercase hex characters (the documented KM robot scheme).
    #[default]
    Sha1,
    /// SHA-256, 64 lowercase hex characters (tenants that moved to it).
    Sha256,
}

/// Ground truth about one conversation, for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSummary {
    /// Id as the vendor exposes it: Megaview `id`, GPTBots `conversation_id`, Udesk session `id`,
    /// Jijyun `chat_id`.
    pub native_id: String,
    /// Megaview `deal_id`, GPTBots `user_id`, Udesk `customer.id`, Jijyun `customer_id`.
    pub customer_id: Option<String>,
    /// Megaview `open_user_id`; `None` for the others.
    pub agent_id: Option<String>,
    /// Megaview `begin_time`, GPTBots `recent_chat_time`, Udesk `startTime`; `None` for Jijyun.
    pub sort_time: Option<DateTime<Utc>>,
}

/// The four simulators over one generated dataset. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

impl Sandbox {
    /// Generates the conversation headers (messages come on request) and sets every vendor's
    /// faults to `config.faults`. Sized for up to [`MAX_CONVERSATIONS_PER_VENDOR`].
    pub fn new(config: SandboxConfig) -> Self {
        let data = data::Dataset::generate(&config);
        let arbitrary_order = AtomicBool::new(config.list_order == ListOrder::Arbitrary);
        let secret: [u8; 32] = Sha256::digest(format!("sandbox-secret:{}", config.seed)).into();
        let faults = SimVendor::ALL.map(|vendor| {
            Mutex::new(FaultState::new(
                config.faults.clone(),
                config.seed ^ (0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(vendor.index() as u64 + 1)),
            ))
        });
        Self {
            shared: Arc::new(Shared {
                config,
                data,
                calls: CallLog::default(),
                faults,
                megaview_tokens: Mutex::new(HashMap::new()),
                megaview_tokens_issued: AtomicU64::new(0),
                jijyun_requests: AtomicU64::new(0),
                arbitrary_order,
                secret,
            }),
        }
    }

    /// Every simulator under its prefix: `/megaview`, `/gptbots`, `/udesk`, `/jijyun`.
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/megaview", megaview::router(&self.shared))
            .nest("/gptbots", gptbots::router(&self.shared))
            .nest("/udesk", udesk::router(&self.shared))
            .nest("/jijyun", jijyun::router(&self.shared))
    }

    /// Replaces one vendor's faults; the next request sees them. A throttle starts with a full
    /// bucket.
    pub fn set_faults(&self, vendor: SimVendor, faults: Faults) {
        lock(&self.shared.faults[vendor.index()]).replace(faults);
    }

    /// Switches the order inside every list answer; the next request sees it. Page tokens and
    /// page numbers of a walk begun in the other order do not carry over.
    pub fn set_list_order(&self, order: ListOrder) {
        self.shared
            .arbitrary_order
            .store(order == ListOrder::Arbitrary, Ordering::Relaxed);
    }

    /// The order list answers use now.
    pub fn list_order(&self) -> ListOrder {
        self.shared.list_order()
    }

    /// Every request received since the last reset, in arrival order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.calls.calls()
    }

    /// Forgets the recorded calls.
    pub fn reset_calls(&self) {
        self.shared.calls.clear();
    }

    /// The credentials the simulators accept.
    pub fn credentials(&self) -> &SandboxCredentials {
        &self.shared.config.credentials
    }

    /// The configuration this sandbox was built from (`list_order` as at start; see
    /// [`Sandbox::list_order`]).
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// Every conversation of `vendor`, oldest first by the vendor's own time (Jijyun: by hidden
    /// creation time).
    pub fn records(&self, vendor: SimVendor) -> Vec<RecordSummary> {
        self.shared.data.records(vendor)
    }

    /// The Jijyun `customer_id`s that have chats.
    pub fn jijyun_customers(&self) -> Vec<String> {
        self.shared.data.jijyun.customers.clone()
    }
}

/// Serves [`Sandbox::router`] on `listener` until the server stops.
pub async fn serve(listener: tokio::net::TcpListener, sandbox: Sandbox) -> std::io::Result<()> {
    axum::serve(listener, sandbox.router()).await
}

/// State shared by every simulator route.
struct Shared {
    config: SandboxConfig,
    data: data::Dataset,
    calls: CallLog,
    faults: [Mutex<FaultState>; 4],
    /// Live Megaview tokens and when they lapse (`None`: never).
    megaview_tokens: Mutex<HashMap<String, Option<Instant>>>,
    megaview_tokens_issued: AtomicU64,
    jijyun_requests: AtomicU64,
    /// Whether lists are in [`ListOrder::Arbitrary`] order.
    arbitrary_order: AtomicBool,
    /// Keys Megaview page tokens and ASR file signatures; derived from the seed.
    secret: [u8; 32],
}

impl Shared {
    fn list_order(&self) -> ListOrder {
        if self.arbitrary_order.load(Ordering::Relaxed) {
            ListOrder::Arbitrary
        } else {
            ListOrder::Documented
        }
    }

    /// Puts `items`, found in documented order, into the current list order.
    fn arrange<T>(&self, items: &mut [&T], keys: data::Keys, index: impl Fn(&T) -> u32) {
        if self.list_order() == ListOrder::Arbitrary {
            items.sort_by_cached_key(|item| {
                let index = index(item);
                (keys.order(index), index)
            });
        }
    }

    /// SHA-256 over the sandbox secret and `parts`, unambiguously separated.
    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.secret);
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    /// A `yyyy-MM-dd HH:mm:ss` time in the configured zone.
    fn parse_naive(&self, raw: &str) -> Option<DateTime<Utc>> {
        let naive = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S").ok()?;
        let local = self
            .config
            .timezone
            .from_local_datetime(&naive)
            .earliest()?;
        Some(local.with_timezone(&Utc))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
