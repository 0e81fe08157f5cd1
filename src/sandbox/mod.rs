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

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use chrono::{DateTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

pub mod data;
mod gptbots;
mod jijyun;
mod megaview;
mod udesk;

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

/// Faults one vendor injects. `Default` injects none.
#[derive(Clone, Debug)]
pub struct Faults {
    /// Added before every answer, including throttled and failed ones.
    pub latency: Duration,
    /// Fraction of requests answered with the vendor's 5xx.
    pub error_rate: f64,
    /// Fraction of requests that hang for `hang` and then get a 504.
    pub timeout_rate: f64,
    /// How long a timed-out request hangs. Default 30 s.
    pub hang: Duration,
    /// Vendor-side rate limit; over it, the vendor's 429.
    pub throttle: Option<Throttle>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            error_rate: 0.0,
            timeout_rate: 0.0,
            hang: Duration::from_secs(30),
            throttle: None,
        }
    }
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    /// Refill rate. 0 means the bucket never refills.
    pub per_second: u32,
    /// Bucket size; at least 1 is used.
    pub burst: u32,
    /// Value of the `Retry-After` header on a 429, when set.
    pub retry_after_seconds: Option<u32>,
}

/// One request that reached a simulator route.
#[derive(Clone, Debug)]
pub struct RecordedCall {
    /// The vendor whose simulator got it.
    pub vendor: SimVendor,
    /// Short stable label of the route, e.g. `"list"`, `"asr_file"`, `"logs"`.
    pub endpoint: &'static str,
    /// Arrival time.
    pub at: Instant,
    /// HTTP status answered; 0 while unanswered or when the client went away first.
    pub status: u16,
    /// The W3C `traceparent` header the caller sent, if any.
    pub traceparent: Option<String>,
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
                calls: Mutex::new(Vec::new()),
                call_seq: AtomicU64::new(0),
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
        lock(&self.shared.calls)
            .iter()
            .map(|slot| slot.call.clone())
            .collect()
    }

    /// Forgets the recorded calls.
    pub fn reset_calls(&self) {
        lock(&self.shared.calls).clear();
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
    calls: Mutex<Vec<Slot>>,
    call_seq: AtomicU64,
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

    /// Records a new call; returns its sequence number and arrival time.
    fn record_arrival(
        &self,
        vendor: SimVendor,
        endpoint: &'static str,
        traceparent: Option<String>,
    ) -> (u64, Instant) {
        // The clock is read under the lock so the list order and `at` never disagree.
        let mut calls = lock(&self.calls);
        let at = Instant::now();
        let seq = self.call_seq.fetch_add(1, Ordering::Relaxed);
        calls.push(Slot {
            seq,
            call: RecordedCall {
                vendor,
                endpoint,
                at,
                status: 0,
                traceparent,
            },
        });
        (seq, at)
    }

    fn record_status(&self, seq: u64, status: u16) {
        let mut calls = lock(&self.calls);
        // The answered call is almost always among the last few.
        if let Some(slot) = calls.iter_mut().rev().find(|slot| slot.seq == seq) {
            slot.call.status = status;
        }
    }
}

struct Slot {
    seq: u64,
    call: RecordedCall,
}

struct FaultState {
    faults: Faults,
    rng: StdRng,
    bucket: Option<Bucket>,
}

impl FaultState {
    fn new(faults: Faults, seed: u64) -> Self {
        let mut state = Self {
            faults: Faults::default(),
            rng: StdRng::seed_from_u64(seed),
            bucket: None,
        };
        state.replace(faults);
        state
    }

    fn replace(&mut self, faults: Faults) {
        self.bucket = faults.throttle.map(|throttle| Bucket {
            tokens: f64::from(throttle.burst.max(1)),
            last: None,
        });
        self.faults = faults;
    }

    fn decide(&mut self, now: Instant, throttle_exempt: bool) -> (Duration, Verdict) {
        let latency = self.faults.latency;
        if let (Some(throttle), Some(bucket), false) =
            (self.faults.throttle, self.bucket.as_mut(), throttle_exempt)
        {
            if !bucket.take(now, throttle) {
                return (latency, Verdict::Throttled(throttle.retry_after_seconds));
            }
        }
        if self.faults.timeout_rate > 0.0 && self.rng.random::<f64>() < self.faults.timeout_rate {
            return (latency, Verdict::Hang(self.faults.hang));
        }
        if self.faults.error_rate > 0.0 && self.rng.random::<f64>() < self.faults.error_rate {
            return (latency, Verdict::Error);
        }
        (latency, Verdict::Pass)
    }
}

struct Bucket {
    tokens: f64,
    last: Option<Instant>,
}

impl Bucket {
    fn take(&mut self, now: Instant, throttle: Throttle) -> bool {
        let capacity = f64::from(throttle.burst.max(1));
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * f64::from(throttle.per_second)).min(capacity);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

enum Verdict {
    Pass,
    Throttled(Option<u32>),
    Hang(Duration),
    Error,
}

/// What a vendor answers when the simulator, not the handler, decides.
#[derive(Clone, Copy, Debug)]
enum Generic {
    NotFound,
    MethodNotAllowed,
    ServerError,
    Throttled,
}

fn generic_response(shared: &Shared, vendor: SimVendor, endpoint: &str, kind: Generic) -> Response {
    match vendor {
        SimVendor::Megaview => megaview::generic(endpoint, kind),
        SimVendor::Gptbots => gptbots::generic(kind),
        SimVendor::Udesk => udesk::generic(kind),
        SimVendor::Jijyun => jijyun::generic(shared, kind),
    }
}

/// The page a load balancer in front of any vendor shows when the upstream never answered.
fn gateway_timeout() -> Response {
    let body = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n\
                <center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n\
                </body>\r\n</html>\r\n";
    (
        StatusCode::GATEWAY_TIMEOUT,
        [(header::CONTENT_TYPE, "text/html")],
        body,
    )
        .into_response()
}

#[derive(Clone)]
struct Gate {
    shared: Arc<Shared>,
    vendor: SimVendor,
    endpoint: &'static str,
}

async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let traceparent = request
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (seq, at) = gate
        .shared
        .record_arrival(gate.vendor, gate.endpoint, traceparent);
    // The object store serving Megaview transcripts is another host, outside the API quota.
    let exempt = gate.vendor == SimVendor::Megaview && gate.endpoint == "asr_file";
    let (latency, verdict) = lock(&gate.shared.faults[gate.vendor.index()]).decide(at, exempt);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = match verdict {
        Verdict::Pass => next.run(request).await,
        Verdict::Throttled(retry_after) => {
            let mut response =
                generic_response(&gate.shared, gate.vendor, gate.endpoint, Generic::Throttled);
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
        Verdict::Hang(hang) => {
            tokio::time::sleep(hang).await;
            gateway_timeout()
        }
        Verdict::Error => generic_response(
            &gate.shared,
            gate.vendor,
            gate.endpoint,
            Generic::ServerError,
        ),
    };
    gate.shared.record_status(seq, response.status().as_u16());
    response
}

/// Wraps one route of `vendor` in the recording and fault gate, labelled `name`; a wrong method
/// gets the vendor's own 405.
fn endpoint(
    shared: &Arc<Shared>,
    vendor: SimVendor,
    name: &'static str,
    route: MethodRouter<Arc<Shared>>,
) -> MethodRouter<Arc<Shared>> {
    let gate_state = Gate {
        shared: Arc::clone(shared),
        vendor,
        endpoint: name,
    };
    route
        .fallback(move |State(shared): State<Arc<Shared>>| async move {
            generic_response(&shared, vendor, name, Generic::MethodNotAllowed)
        })
        .layer(middleware::from_fn_with_state(gate_state, gate))
}

/// The vendor's answer to a path it does not serve, recorded as endpoint `"not_found"`.
fn unknown_path(shared: &Arc<Shared>, vendor: SimVendor) -> MethodRouter<Arc<Shared>> {
    let gate_state = Gate {
        shared: Arc::clone(shared),
        vendor,
        endpoint: "not_found",
    };
    axum::routing::any(move |State(shared): State<Arc<Shared>>| async move {
        generic_response(&shared, vendor, "not_found", Generic::NotFound)
    })
    .layer(middleware::from_fn_with_state(gate_state, gate))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether the request declares a JSON body.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// Query parameters, percent-decoded; a repeated name keeps its last value.
fn query_pairs(raw: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The credentials of `Authorization: Bearer <credentials>` (scheme matched case-insensitively).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod testing {
    //! Helpers the simulator tests share.

    use axum::body::Body;
    use axum::http::{HeaderMap, Request, StatusCode};
    use chrono::{DateTime, Utc};
    use serde_json::Value;
    use sha1::Sha1;
    use sha2::{Digest, Sha256};
    use tower::ServiceExt;

    use super::{Sandbox, SandboxConfig, SignAlgorithm};

    pub(super) fn anchor() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    pub(super) fn config() -> SandboxConfig {
        SandboxConfig {
            conversations_per_vendor: 120,
            anchor: anchor(),
            ..SandboxConfig::default()
        }
    }

    pub(super) fn sandbox() -> Sandbox {
        Sandbox::new(config())
    }

    /// `at` as the naive Asia/Shanghai time the vendors exchange.
    pub(super) fn shanghai(at: DateTime<Utc>) -> String {
        at.with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// Udesk's `email`, `timestamp` and `sign` query, signed with `algorithm`.
    pub(super) fn udesk_query(
        sandbox: &Sandbox,
        timestamp: i64,
        algorithm: SignAlgorithm,
    ) -> String {
        let credentials = sandbox.credentials();
        let plain = format!(
            "{}&{}&{timestamp}",
            credentials.udesk_email, credentials.udesk_api_token
        );
        let sign = match algorithm {
            SignAlgorithm::Sha1 => hex::encode(Sha1::digest(plain.as_bytes())),
            SignAlgorithm::Sha256 => hex::encode(Sha256::digest(plain.as_bytes())),
        };
        let email: String =
            url::form_urlencoded::byte_serialize(credentials.udesk_email.as_bytes()).collect();
        format!("email={email}&timestamp={timestamp}&sign={sign}")
    }

    pub(super) struct Answer {
        pub status: StatusCode,
        pub headers: HeaderMap,
        pub body: Vec<u8>,
    }

    impl Answer {
        pub fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap_or_else(|err| {
                panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body))
            })
        }

        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    pub(super) async fn send(sandbox: &Sandbox, request: Request<Body>) -> Answer {
        let response = sandbox.router().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub(super) fn get(uri: &str) -> axum::http::request::Builder {
        Request::builder().method("GET").uri(uri)
    }

    pub(super) fn post(uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .method("POST")
            .uri(uri)
            .header("content-type", "application/json")
    }

    pub(super) fn json_body(builder: axum::http::request::Builder, body: &Value) -> Request<Body> {
        builder.body(Body::from(body.to_string())).unwrap()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::StatusCode;
    use serde_json::json;

    use super::testing::{config, get, json_body, post, sandbox, send, udesk_query};
    use super::{Faults, ListOrder, Sandbox, SandboxConfig, SignAlgorithm, SimVendor, Throttle};

    fn gptbots_list(sandbox: &Sandbox) -> axum::http::Request<Body> {
        let key = &sandbox.credentials().gptbots_api_key;
        get("/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=0&end_time=9999999999999&page=1&page_size=10")
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn error_rate_one_answers_every_request_with_a_server_error() {
        let sandbox = sandbox();
        sandbox.set_faults(
            SimVendor::Gptbots,
            Faults {
                error_rate: 1.0,
                ..Faults::default()
            },
        );
        for _ in 0..5 {
            let answer = send(&sandbox, gptbots_list(&sandbox)).await;
            assert!(answer.status.is_server_error());
            assert_eq!(answer.json()["code"], 50000);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn throttle_answers_429_with_retry_after_once_the_burst_is_spent() {
        let sandbox = sandbox();
        sandbox.set_faults(
            SimVendor::Gptbots,
            Faults {
                throttle: Some(Throttle {
                    per_second: 1,
                    burst: 2,
                    retry_after_seconds: Some(3),
                }),
                ..Faults::default()
            },
        );
        let first = send(&sandbox, gptbots_list(&sandbox)).await;
        let second = send(&sandbox, gptbots_list(&sandbox)).await;
        let third = send(&sandbox, gptbots_list(&sandbox)).await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(second.status, StatusCode::OK);
        assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(third.headers["retry-after"], "3");

        tokio::time::advance(Duration::from_secs(1)).await;
        let refilled = send(&sandbox, gptbots_list(&sandbox)).await;
        assert_eq!(refilled.status, StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_fault_hangs_and_then_answers_504() {
        let sandbox = sandbox();
        sandbox.set_faults(
            SimVendor::Gptbots,
            Faults {
                timeout_rate: 1.0,
                hang: Duration::from_secs(30),
                ..Faults::default()
            },
        );
        let started = tokio::time::Instant::now();
        let answer = send(&sandbox, gptbots_list(&sandbox)).await;
        assert_eq!(answer.status, StatusCode::GATEWAY_TIMEOUT);
        assert!(started.elapsed() >= Duration::from_secs(30));
    }

    #[tokio::test]
    async fn faults_of_one_vendor_leave_the_others_alone() {
        let sandbox = sandbox();
        sandbox.set_faults(
            SimVendor::Megaview,
            Faults {
                error_rate: 1.0,
                ..Faults::default()
            },
        );
        let answer = send(&sandbox, gptbots_list(&sandbox)).await;
        assert_eq!(answer.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn calls_are_recorded_in_order_including_rejected_and_unknown_ones() {
        let sandbox = sandbox();
        send(&sandbox, gptbots_list(&sandbox)).await;
        let rejected = get("/gptbots/v2/messages?conversation_id=x&page=1&page_size=10")
            .body(Body::empty())
            .unwrap();
        send(&sandbox, rejected).await;
        let unknown = get("/udesk/api/v1/nothing-here")
            .body(Body::empty())
            .unwrap();
        send(&sandbox, unknown).await;

        let calls = sandbox.calls();
        let seen: Vec<_> = calls
            .iter()
            .map(|call| (call.vendor, call.endpoint, call.status))
            .collect();
        assert_eq!(
            seen,
            vec![
                (SimVendor::Gptbots, "list", 200),
                (SimVendor::Gptbots, "messages", 401),
                (SimVendor::Udesk, "not_found", 404),
            ]
        );
        assert!(calls[0].at <= calls[1].at && calls[1].at <= calls[2].at);

        sandbox.reset_calls();
        assert!(sandbox.calls().is_empty());
    }

    #[tokio::test]
    async fn two_sandboxes_with_the_same_config_answer_identically() {
        let first = sandbox();
        let second = sandbox();
        for vendor in SimVendor::ALL {
            assert_eq!(first.records(vendor), second.records(vendor));
        }
        let a = send(&first, gptbots_list(&first)).await;
        let b = send(&second, gptbots_list(&second)).await;
        assert_eq!(a.body, b.body);
    }

    /// One request per vendor whose answer must not depend on anything but the config and the
    /// order of requests.
    async fn fixed_sequence(sandbox: &Sandbox, udesk_timestamp: i64) -> Vec<Vec<u8>> {
        let credentials = sandbox.credentials().clone();
        let token_body = json!({
            "app_key": credentials.megaview_app_key,
            "app_secret": credentials.megaview_app_secret,
        });
        let token = send(
            sandbox,
            json_body(
                post("/megaview/openapi/auth/v1/app_access_token/internal"),
                &token_body,
            ),
        )
        .await;
        let bearer = format!(
            "Bearer {}",
            token.json()["data"]["app_access_token"].as_str().unwrap()
        );
        let list = send(
            sandbox,
            json_body(
                post("/megaview/openapi/conversation/v1/conversations/list").header("authorization", bearer),
                &json!({"begin_time": "2025-02-22 00:00:00", "end_time": "2025-03-01 00:00:00", "page_size": 100}),
            ),
        )
        .await;
        let udesk_uri = format!(
            "/udesk/api/v1/sessions?{}",
            udesk_query(sandbox, udesk_timestamp, SignAlgorithm::Sha1)
        );
        let sessions = send(
            sandbox,
            json_body(
                post(&udesk_uri),
                &json!({"robotId": credentials.udesk_robot_id, "startTime": "2025-02-01 00:00:00", "endTime": "2025-03-02 00:00:00", "pageSize": 99}),
            ),
        )
        .await;
        let jijyun_uri = format!(
            "/jijyun/v1/openapi/chat/record?apiKey={}",
            credentials.jijyun_api_key
        );
        let chats = send(
            sandbox,
            json_body(
                post(&jijyun_uri),
                &json!({"customer_id": sandbox.jijyun_customers()[1]}),
            ),
        )
        .await;
        let gptbots = send(sandbox, gptbots_list(sandbox)).await;
        [token, list, sessions, chats, gptbots]
            .into_iter()
            .map(|answer| {
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
                answer.body
            })
            .collect()
    }

    #[tokio::test]
    async fn the_same_config_and_requests_give_byte_identical_answers() {
        let timestamp = chrono::Utc::now().timestamp();
        let first = fixed_sequence(&sandbox(), timestamp).await;
        let second = fixed_sequence(&sandbox(), timestamp).await;
        assert_eq!(first, second);

        let other_seed = Sandbox::new(SandboxConfig {
            seed: 7,
            ..config()
        });
        let third = fixed_sequence(&other_seed, timestamp).await;
        assert_ne!(first[1], third[1]);
    }

    #[tokio::test(start_paused = true)]
    async fn latency_delays_every_answer() {
        let sandbox = sandbox();
        sandbox.set_faults(
            SimVendor::Gptbots,
            Faults {
                latency: Duration::from_millis(750),
                ..Faults::default()
            },
        );
        let started = tokio::time::Instant::now();
        let answer = send(&sandbox, gptbots_list(&sandbox)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(started.elapsed() >= Duration::from_millis(750));
    }

    #[tokio::test]
    async fn every_vendor_answers_faults_in_its_own_envelope() {
        let sandbox = sandbox();
        let broken = Faults {
            error_rate: 1.0,
            ..Faults::default()
        };
        for vendor in SimVendor::ALL {
            sandbox.set_faults(vendor, broken.clone());
        }
        let udesk = send(
            &sandbox,
            post("/udesk/api/v1/sessions").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(udesk.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(udesk.json()["code"], 500);
        let jijyun = send(
            &sandbox,
            post("/jijyun/v1/openapi/chat/record")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(jijyun.json()["Code"], 5000);
        let megaview = send(
            &sandbox,
            post("/megaview/openapi/conversation/v1/conversations/list")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(megaview.json()["code"], 500_000);
        let file = send(
            &sandbox,
            get("/megaview/files/asr/1.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(file.status.is_server_error());
        assert!(file.text().contains("<Code>InternalError</Code>"));
    }

    #[tokio::test]
    async fn the_megaview_file_host_is_outside_the_api_throttle() {
        let sandbox = sandbox();
        sandbox.set_faults(
            SimVendor::Megaview,
            Faults {
                throttle: Some(Throttle {
                    per_second: 0,
                    burst: 1,
                    retry_after_seconds: Some(1),
                }),
                ..Faults::default()
            },
        );
        let list = || {
            post("/megaview/openapi/conversation/v1/conversations/list")
                .body(Body::empty())
                .unwrap()
        };
        assert_eq!(
            send(&sandbox, list()).await.status,
            StatusCode::UNAUTHORIZED
        );
        let throttled = send(&sandbox, list()).await;
        assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.json()["code"], 429_001);
        assert_eq!(throttled.headers["retry-after"], "1");
        for _ in 0..3 {
            let file = send(
                &sandbox,
                get("/megaview/files/asr/1.json")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(file.status, StatusCode::FORBIDDEN);
        }
    }

    #[test]
    fn records_cover_every_vendor_with_the_configured_count() {
        let sandbox = sandbox();
        for vendor in SimVendor::ALL {
            let records = sandbox.records(vendor);
            assert_eq!(records.len(), 120, "{vendor:?}");
            let mut ids: Vec<_> = records.iter().map(|r| r.native_id.clone()).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 120, "{vendor:?} ids are unique");
        }
        let customers = sandbox.jijyun_customers();
        assert!((8..=12).contains(&customers.len()));
    }

    /// The message answers of the first `n` conversations of GPTBots and Udesk, asked for in
    /// the given order and returned in record order.
    async fn messages_of(sandbox: &Sandbox, n: usize, reverse: bool) -> Vec<Vec<u8>> {
        let key = &sandbox.credentials().gptbots_api_key;
        let timestamp = chrono::Utc::now().timestamp();
        let mut uris = Vec::new();
        for record in sandbox.records(SimVendor::Gptbots).into_iter().take(n) {
            uris.push(format!(
                "/gptbots/v2/messages?conversation_id={}&page=1&page_size=100",
                record.native_id
            ));
        }
        for record in sandbox.records(SimVendor::Udesk).into_iter().take(n) {
            uris.push(format!(
                "/udesk/api/v1/sessions/{}/logs?pageNum=1&pageSize=99&{}",
                record.native_id,
                udesk_query(sandbox, timestamp, SignAlgorithm::Sha1)
            ));
        }
        let mut order: Vec<usize> = (0..uris.len()).collect();
        if reverse {
            order.reverse();
        }
        let mut bodies = vec![Vec::new(); uris.len()];
        for at in order {
            let request = get(&uris[at])
                .header("authorization", format!("Bearer {key}"))
                .body(Body::empty())
                .unwrap();
            let answer = send(sandbox, request).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
            bodies[at] = answer.body;
        }
        bodies
    }

    #[tokio::test]
    async fn messages_are_the_same_whatever_the_order_they_are_asked_for() {
        let forward = messages_of(&sandbox(), 12, false).await;
        let backward = messages_of(&sandbox(), 12, true).await;
        assert_eq!(forward, backward);
        let again = sandbox();
        assert_eq!(messages_of(&again, 12, true).await, forward);
        assert_eq!(messages_of(&again, 12, false).await, forward);
    }

    #[test]
    fn the_list_order_comes_from_the_config_and_can_be_switched() {
        assert_eq!(sandbox().list_order(), ListOrder::Documented);
        let arbitrary = Sandbox::new(SandboxConfig {
            list_order: ListOrder::Arbitrary,
            ..config()
        });
        assert_eq!(arbitrary.list_order(), ListOrder::Arbitrary);
        arbitrary.set_list_order(ListOrder::Documented);
        assert_eq!(arbitrary.list_order(), ListOrder::Documented);
    }

    #[test]
    fn vendor_keys_match_their_prefixes() {
        let keys: Vec<_> = SimVendor::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(keys, ["megaview", "gptbots", "udesk", "jijyun"]);
    }
}
