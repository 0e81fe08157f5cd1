//! Vendor quotas end to end: the simulators record the arrival of every upstream call, and no
//! source ever gets more than its burst plus its rate over any window, with one gateway, two
//! sharing Redis, or Redis gone. Also waiting within the budget, 429s, vendor cool-downs, the
//! circuit breaker and the retry budget.

use std::collections::BTreeMap;
use std::net::TcpListener as StdListener;
use std::num::NonZeroU32;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use conversation_gateway::config::{Config, DEFAULT_REQUEST_TIMEOUT, RateLimitStore};
use conversation_gateway::ratelimit::{RateLimit, SourceLimiter};
use conversation_gateway::sandbox::{Faults, SandboxConfig, SimVendor, Throttle};
use conversation_gateway::vendors::resilience::ResiliencePolicy;
use conversation_gateway::vendors::{self, CallContext, Upstream};
use secrecy::SecretString;
use serde_json::Value;
use tokio::time::Instant;

use crate::helpers::{Setup, Simulators, TestApp, urlencode};

/// Time the network and the scheduler may add between a permit and the simulator's
/// record of the call's arrival: two calls a permit apart may arrive this much closer.
const JITTER: Duration = Duration::from_millis(300);

/// A redis-server of our own on a free loopback port, stopped on drop.
struct RedisServer {
    child: Child,
    url: String,
}

impl RedisServer {
    async fn start() -> Self {
        let binary = std::env::var("REDIS_SERVER")
            .expect("REDIS_SERVER is not set: run the suite with scripts/test.sh");
        let port = free_port();
        let child = Command::new(binary)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The simulators with `conversations_per_vendor` each, for any number of gateways.
async fn simulators(conversations_per_vendor: usize) -> Simulators {
    Simulators::start(SandboxConfig {
        conversations_per_vendor,
        ..SandboxConfig::default()
    })
    .await
}

/// A gateway with its own limiters (a replica) over `simulators`, its cache off, each
/// vendor's default quota, then configured by `edit`.
async fn replica(
    simulators: &Simulators,
    edit: impl FnOnce(&mut Config) + Send + 'static,
) -> TestApp {
    TestApp::over(
        simulators,
        Setup {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            cache_ttl: Duration::ZERO,
            raise_quotas: false,
            edit: Box::new(edit),
            ..Setup::default()
        },
    )
    .await
}

fn limit(per_second: u32, burst: u32) -> RateLimit {
    RateLimit {
        per_second: NonZeroU32::new(per_second).unwrap(),
        burst: NonZeroU32::new(burst).unwrap(),
    }
}

fn every_source(config: &mut Config, rate: RateLimit) {
    for source in &mut config.sources {
        source.rate_limit = rate;
    }
}

/// Paths that make every source call its vendor: lists (every vendor page of a month,
/// Megaview in 7-day pieces) and messages.
fn load_paths(sims: &Simulators) -> Vec<String> {
    let until = sims.sandbox.config().anchor + chrono::Duration::minutes(1);
    let since = until - chrono::Duration::days(29);
    let window = format!(
        "since={}&until={}&page_size=100",
        urlencode(&since.to_rfc3339()),
        urlencode(&until.to_rfc3339())
    );
    let customer = &sims.sandbox.jijyun_customers()[0];
    let mut paths = vec![
        format!("/conversations?{window}"),
        format!("/conversations?{window}&source=inbox&customer_id={customer}"),
    ];
    for (vendor, source) in [
        (SimVendor::Udesk, "helpdesk"),
        (SimVendor::Gptbots, "assistant"),
        (SimVendor::Megaview, "sales"),
    ] {
        for record in sims.sandbox.records(vendor).iter().take(3) {
            paths.push(format!(
                "/conversations/{}/messages",
                urlencode(&format!("{source}:{}", record.native_id))
            ));
        }
    }
    paths
}

/// `clients` concurrent clients cycle through `paths` on the gateways for `length`;
/// returns how many answers had each status.
/// Drives `clients` concurrent loops of GETs over `paths` for at least `length`, then until
/// `enough()` says the load has reached every quota (at most 30 s more, so a slow, shared
/// machine lengthens the run instead of failing it).
async fn drive(
    gateways: Vec<Arc<TestApp>>,
    paths: Vec<String>,
    clients: usize,
    length: Duration,
    enough: impl Fn() -> bool,
) -> BTreeMap<u16, usize> {
    let paths = Arc::new(paths);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let gateway = gateways[client % gateways.len()].clone();
            let paths = paths.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut statuses = BTreeMap::new();
                let mut next = client;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let status = gateway.get(&paths[next % paths.len()]).await.status();
                    *statuses.entry(status.as_u16()).or_insert(0) += 1;
                    next += 1;
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(length).await;
    let give_up = Instant::now() + Duration::from_secs(30);
    while !enough() && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = BTreeMap::new();
    for task in futures::future::join_all(tasks).await {
        for (status, count) in task.unwrap() {
            *total.entry(status).or_insert(0) += count;
        }
    }
    total
}

/// Whether every simulated vendor has received at least `calls` calls.
fn every_vendor_reached(sims: &Simulators, calls: usize) -> bool {
    SimVendor::ALL
        .into_iter()
        .all(|vendor| sims.arrivals(vendor).len() >= calls)
}

/// Asserts that no window of the arrivals holds more than `burst + per_second × t` calls
/// (t widened by [`JITTER`]); returns the most calls seen in any 1-second window.
fn assert_within_quota(label: &str, arrivals: &[Instant], per_second: f64, burst: f64) -> usize {
    let mut arrivals = arrivals.to_vec();
    arrivals.sort();
    for (i, first) in arrivals.iter().enumerate() {
        for (j, last) in arrivals.iter().enumerate().skip(i) {
            let span = (*last - *first + JITTER).as_secs_f64();
            let count = (j - i + 1) as f64;
            assert!(
                count <= burst + per_second * span,
                "{label}: {count} calls within {:?}, over the quota ({burst} + {per_second}/s)",
                *last - *first
            );
        }
    }
    (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|at| **at - arrivals[i] < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

fn check_every_vendor(sims: &Simulators, per_second: f64, burst: f64, min_calls: usize) {
    for vendor in SimVendor::ALL {
        let arrivals = sims.arrivals(vendor);
        let busiest_second = assert_within_quota(vendor.as_str(), &arrivals, per_second, burst);
        eprintln!(
            "quota {per_second}/s burst {burst}: {} got {} calls, at most {busiest_second} in any 1 s",
            vendor.as_str(),
            arrivals.len()
        );
        assert!(
            arrivals.len() >= min_calls,
            "{}: only {} calls: the load did not reach the quota",
            vendor.as_str(),
            arrivals.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_source_gets_more_than_its_quota_under_far_more_load() {
    // Arrange
    let sims = simulators(30).await;
    let gateway = Arc::new(
        replica(&sims, |config| {
            every_source(config, limit(5, 5));
            config.server.request_timeout = Duration::from_millis(800);
        })
        .await,
    );

    // Act
    let length = Duration::from_secs(4);
    let statuses = drive(vec![gateway.clone()], load_paths(&sims), 24, length, || {
        every_vendor_reached(&sims, 10)
    })
    .await;

    // Assert
    eprintln!("one gateway, 24 clients for {length:?}: answers by status {statuses:?}");
    assert!(statuses.get(&429).copied().unwrap_or(0) > 0, "{statuses:?}");
    check_every_vendor(&sims, 5.0, 5.0, 10);
    // The 429 answers must come from counted refusals; which source refused depends on how the
    // clients' requests interleave (a source may wait out every permit), so they are summed.
    let mut refused = 0;
    for name in ["sales", "assistant", "helpdesk", "inbox"] {
        let source = gateway.source(name).await;
        assert_eq!(source["rate_limit"]["store"], "memory", "{source}");
        refused += source["rate_limit"]["refused"].as_u64().unwrap();
    }
    assert!(refused > 0, "no source counted a refusal: {statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_sharing_redis_stay_within_one_quota() {
    // Arrange
    let redis = RedisServer::start().await;
    let sims = simulators(30).await;
    let mut gateways = Vec::new();
    for _ in 0..2 {
        let url = redis.url.clone();
        gateways.push(Arc::new(
            replica(&sims, move |config| {
                every_source(config, limit(5, 5));
                config.server.request_timeout = Duration::from_millis(800);
                config.rate_limit.store = RateLimitStore::Redis;
                config.rate_limit.redis_url = Some(SecretString::from(url));
            })
            .await,
        ));
    }

    // Act
    let length = Duration::from_secs(4);
    let statuses = drive(gateways.clone(), load_paths(&sims), 24, length, || {
        every_vendor_reached(&sims, 10)
    })
    .await;

    // Assert
    eprintln!("two gateways on Redis, 24 clients for {length:?}: answers by status {statuses:?}");
    check_every_vendor(&sims, 5.0, 5.0, 10);
    for gateway in &gateways {
        let udesk = gateway.source("helpdesk").await;
        assert_eq!(udesk["rate_limit"]["store"], "redis");
        assert_eq!(udesk["rate_limit"]["store_reachable"], true);
        assert_eq!(udesk["rate_limit"]["fallback"], 0);
        assert!(
            udesk["rate_limit"]["granted"].as_u64().unwrap() > 0,
            "{udesk}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_gateway_falls_back_to_its_share_of_the_quota() {
    // Arrange: Redis is configured but nothing listens there.
    let sims = simulators(30).await;
    let dead = format!("redis://127.0.0.1:{}", free_port());
    let gateway = Arc::new(
        replica(&sims, move |config| {
            every_source(config, limit(6, 6));
            config.server.request_timeout = Duration::from_millis(800);
            config.rate_limit.store = RateLimitStore::Redis;
            config.rate_limit.redis_url = Some(SecretString::from(dead));
            config.rate_limit.replicas = NonZeroU32::new(2);
        })
        .await,
    );

    // Act
    let length = Duration::from_secs(3);
    let statuses = drive(vec![gateway.clone()], load_paths(&sims), 16, length, || {
        every_vendor_reached(&sims, 3)
    })
    .await;

    // Assert: it still serves, within half the quota.
    eprintln!("Redis down, 16 clients for {length:?}: answers by status {statuses:?}");
    assert!(statuses.get(&200).copied().unwrap_or(0) > 0, "{statuses:?}");
    check_every_vendor(&sims, 3.0, 3.0, 3);
    let udesk = gateway.source("helpdesk").await;
    assert_eq!(udesk["rate_limit"]["store"], "redis");
    assert_eq!(udesk["rate_limit"]["store_reachable"], false);
    assert!(
        udesk["rate_limit"]["fallback"].as_u64().unwrap() > 0,
        "{udesk}"
    );
}

#[tokio::test]
async fn a_vendor_429_seen_by_one_gateway_holds_the_other_through_redis() {
    // Arrange: two gateways sharing Redis; Udesk lets one call through, then throttles
    // with `Retry-After: 5`, longer than the 2 s budget.
    let redis = RedisServer::start().await;
    let sims = simulators(20).await;
    let mut gateways = Vec::new();
    for _ in 0..2 {
        let url = redis.url.clone();
        gateways.push(
            replica(&sims, move |config| {
                config.server.request_timeout = Duration::from_secs(2);
                config.rate_limit.store = RateLimitStore::Redis;
                config.rate_limit.redis_url = Some(SecretString::from(url));
            })
            .await,
        );
    }
    sims.sandbox.set_faults(
        SimVendor::Udesk,
        Faults {
            throttle: Some(Throttle {
                per_second: 0,
                burst: 1,
                retry_after_seconds: Some(5),
            }),
            ..Faults::default()
        },
    );
    assert_eq!(
        gateways[0]
            .get_json("/conversations?source=helpdesk")
            .await
            .0,
        200
    );
    let (status, _) = gateways[0].get_json("/conversations?source=helpdesk").await;
    assert_eq!(status, 429);
    let calls = sims.arrivals(SimVendor::Udesk).len();

    // Act: the other replica is asked.
    let (status, body) = gateways[1].get_json("/conversations?source=helpdesk").await;

    // Assert: it holds too, without calling the vendor.
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["sources"][0]["status"], "rate_limited");
    assert!(
        body["sources"][0]["retry_after_seconds"].as_u64().unwrap() >= 3,
        "{body}"
    );
    assert_eq!(sims.arrivals(SimVendor::Udesk).len(), calls);
}

#[tokio::test]
async fn a_call_waits_for_its_permit_when_the_budget_allows() {
    // Arrange: one permit a second; a budget of several seconds.
    let sims = simulators(20).await;
    let gateway = replica(&sims, |config| {
        every_source(config, limit(1, 1));
        config.server.request_timeout = Duration::from_secs(5);
    })
    .await;

    // Act: the second request finds the bucket empty.
    let first = gateway.get_json("/conversations?source=helpdesk").await;
    let started = Instant::now();
    let second = gateway.get_json("/conversations?source=helpdesk").await;

    // Assert
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(second.0, 200, "{}", second.1);
    assert_eq!(second.1["sources"][0]["status"], "ok");
    assert!(started.elapsed() >= Duration::from_millis(500));
    let udesk = gateway.source("helpdesk").await;
    assert!(
        udesk["rate_limit"]["waited"].as_u64().unwrap() >= 1,
        "{udesk}"
    );
    assert_eq!(udesk["rate_limit"]["refused"], 0);
}

#[tokio::test]
async fn no_permit_within_the_budget_is_a_429_with_retry_after() {
    // Arrange: one permit a second; a budget of half a second.
    let sims = simulators(20).await;
    let gateway = replica(&sims, |config| {
        every_source(config, limit(1, 1));
        config.server.request_timeout = Duration::from_millis(500);
    })
    .await;
    let first = gateway.get_json("/conversations?source=helpdesk").await;
    assert_eq!(first.0, 200, "{}", first.1);
    let calls_before = sims.arrivals(SimVendor::Udesk).len();

    // Act
    let response = gateway.get("/conversations?source=helpdesk").await;

    // Assert
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "ALL_SOURCES_RATE_LIMITED", "{body}");
    assert_eq!(body["sources"][0]["status"], "rate_limited");
    assert_eq!(
        body["sources"][0]["error"]["code"],
        "SOURCE_QUOTA_EXHAUSTED"
    );
    assert!(body["sources"][0]["retry_after_seconds"].as_u64().unwrap() >= 1);
    assert_eq!(sims.arrivals(SimVendor::Udesk).len(), calls_before);
}

#[tokio::test]
async fn a_vendor_429_holds_every_call_to_that_source_for_its_retry_after() {
    // Arrange: Udesk lets one call through, then throttles with `Retry-After: 3`; the
    // request budget (2 s) is shorter than that.
    let sims = simulators(20).await;
    let gateway = replica(&sims, |config| {
        config.server.request_timeout = Duration::from_secs(2)
    })
    .await;
    sims.sandbox.set_faults(
        SimVendor::Udesk,
        Faults {
            throttle: Some(Throttle {
                per_second: 0,
                burst: 1,
                retry_after_seconds: Some(3),
            }),
            ..Faults::default()
        },
    );
    let (status, _) = gateway.get_json("/conversations?source=helpdesk").await;
    assert_eq!(status, 200);

    // Act: the vendor throttles; then more requests come while the cool-down lasts.
    let throttled = gateway.get("/conversations?source=helpdesk").await;
    let throttled_at = *sims.arrivals(SimVendor::Udesk).last().unwrap();
    assert_eq!(throttled.status().as_u16(), 429);
    assert_eq!(throttled.headers()["retry-after"], "3");
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["sources"][0]["error"]["code"], "UPSTREAM_RATE_LIMITED");
    assert_eq!(body["sources"][0]["retry_after_seconds"], 3);
    let held = gateway.source("helpdesk").await;
    assert!(
        held["rate_limit"]["cool_down_ms"].as_u64().unwrap() > 0,
        "{held}"
    );
    for _ in 0..5 {
        let (status, body) = gateway.get_json("/conversations?source=helpdesk").await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["sources"][0]["status"], "rate_limited");
    }
    sims.sandbox.set_faults(SimVendor::Udesk, Faults::default());
    tokio::time::sleep_until(throttled_at + Duration::from_millis(3100)).await;
    let (status, body) = gateway.get_json("/conversations?source=helpdesk").await;

    // Assert: nothing reached Udesk during the cool-down; afterwards it is asked again.
    assert_eq!(status, 200, "{body}");
    let arrivals = sims.arrivals(SimVendor::Udesk);
    let during = arrivals
        .iter()
        .filter(|at| **at > throttled_at && **at < throttled_at + Duration::from_secs(3))
        .count();
    assert_eq!(during, 0, "calls went out during the vendor's cool-down");
    assert!(
        arrivals
            .iter()
            .any(|at| *at >= throttled_at + Duration::from_secs(3))
    );
}

#[tokio::test]
async fn a_vendor_cool_down_longer_than_the_maximum_is_cut_to_it_and_shown() {
    // Arrange: Udesk lets one call through, then throttles with `Retry-After: 86400`; the
    // gateway allows 2 s at most, and a request's budget is 1 s.
    let sims = simulators(20).await;
    let gateway = replica(&sims, |config| {
        config.server.request_timeout = Duration::from_secs(1);
        config.rate_limit.max_cool_down = Duration::from_secs(2);
    })
    .await;
    sims.sandbox.set_faults(
        SimVendor::Udesk,
        Faults {
            throttle: Some(Throttle {
                per_second: 0,
                burst: 1,
                retry_after_seconds: Some(86_400),
            }),
            ..Faults::default()
        },
    );
    let (status, _) = gateway.get_json("/conversations?source=helpdesk").await;
    assert_eq!(status, 200);

    // Act
    let throttled = gateway.get("/conversations?source=helpdesk").await;
    let throttled_at = *sims.arrivals(SimVendor::Udesk).last().unwrap();

    // Assert: the refusal says 2 s, not a day; /sources shows the cut; the source is asked
    // again once the 2 s have passed.
    assert_eq!(throttled.status().as_u16(), 429);
    assert_eq!(throttled.headers()["retry-after"], "2");
    let held = gateway.source("helpdesk").await;
    assert!(
        held["rate_limit"]["cool_down_ms"].as_u64().unwrap() <= 2_000,
        "{held}"
    );
    assert_eq!(held["rate_limit"]["max_cool_down_ms"], 2_000, "{held}");
    assert_eq!(held["rate_limit"]["cool_downs_clamped"], 1, "{held}");
    sims.sandbox.set_faults(SimVendor::Udesk, Faults::default());
    tokio::time::sleep_until(throttled_at + Duration::from_millis(2_100)).await;
    let (status, body) = gateway.get_json("/conversations?source=helpdesk").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_vendor_429_within_the_budget_is_waited_out_and_retried() {
    // Arrange: one call a second at the vendor, `Retry-After: 1`, a budget of 5 s.
    let sims = simulators(20).await;
    let gateway = replica(&sims, |config| {
        config.server.request_timeout = Duration::from_secs(5)
    })
    .await;
    sims.sandbox.set_faults(
        SimVendor::Udesk,
        Faults {
            throttle: Some(Throttle {
                per_second: 1,
                burst: 1,
                retry_after_seconds: Some(1),
            }),
            ..Faults::default()
        },
    );
    let (status, _) = gateway.get_json("/conversations?source=helpdesk").await;
    assert_eq!(status, 200);

    // Act
    let (status, body) = gateway.get_json("/conversations?source=helpdesk").await;

    // Assert: the 429 was answered by waiting a second and asking again.
    assert_eq!(status, 200, "{body}");
    let calls: Vec<_> = sims
        .sandbox
        .calls()
        .into_iter()
        .filter(|call| call.vendor == SimVendor::Udesk)
        .collect();
    assert_eq!(
        calls.iter().map(|call| call.status).collect::<Vec<_>>(),
        [200, 429, 200]
    );
    assert!(calls[2].at - calls[1].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_failing_source_opens_its_breaker_and_a_probe_closes_it() {
    // Arrange
    let app = TestApp::spawn_with(crate::helpers::Setup {
        conversations_per_vendor: 20,
        request_timeout: Duration::from_secs(3),
        cache_ttl: Duration::ZERO,
        ..crate::helpers::Setup::default()
    })
    .await;
    app.sandbox.set_faults(
        SimVendor::Udesk,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );

    // Act: fail until the breaker opens.
    let mut opened = false;
    for _ in 0..10 {
        let (status, body) = app.get_json("/conversations?source=helpdesk").await;
        assert_eq!(status, 502, "{body}");
        if body["sources"][0]["error"]["code"] == "UPSTREAM_CIRCUIT_OPEN" {
            opened = true;
            break;
        }
    }
    assert!(opened, "the breaker never opened");
    let calls_when_open = app
        .sandbox
        .calls()
        .iter()
        .filter(|call| call.vendor == SimVendor::Udesk)
        .count();
    let (_, body) = app.get_json("/sources").await;
    let udesk = &body["data"].as_array().unwrap()[2];
    assert_eq!(udesk["name"], "helpdesk");
    assert_eq!(udesk["breaker"]["state"], "open", "{udesk}");
    let (status, body) = app.get_json("/conversations?source=helpdesk").await;
    assert_eq!(status, 502);
    assert_eq!(body["sources"][0]["status"], "error");
    assert_eq!(body["sources"][0]["error"]["code"], "UPSTREAM_CIRCUIT_OPEN");
    let calls_while_open = app
        .sandbox
        .calls()
        .iter()
        .filter(|call| call.vendor == SimVendor::Udesk)
        .count();
    assert_eq!(
        calls_while_open, calls_when_open,
        "an open breaker let a call through"
    );

    // The vendor recovers; after the open spell one probe closes the breaker.
    app.sandbox.set_faults(SimVendor::Udesk, Faults::default());
    let open_for = ResiliencePolicy::default().open_for;
    tokio::time::sleep(open_for + Duration::from_millis(200)).await;
    let (status, body) = app.get_json("/conversations?source=helpdesk").await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = app.get_json("/sources").await;
    let udesk = &body["data"].as_array().unwrap()[2];
    assert_eq!(udesk["breaker"]["state"], "closed", "{udesk}");
    assert_eq!(udesk["breaker"]["opened"], 1, "{udesk}");
}

#[tokio::test]
async fn the_retry_budget_caps_extra_calls_during_an_outage() {
    // Arrange: a vendor answering every call with a 5xx, and a breaker that never opens, so
    // only the retry budget limits retries.
    let sims = simulators(10).await;
    sims.sandbox.set_faults(
        SimVendor::Udesk,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let policy = ResiliencePolicy {
        failure_threshold: u32::MAX,
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..ResiliencePolicy::default()
    };
    let upstream = Upstream::new(
        "helpdesk".parse().unwrap(),
        &vendors::Transport::new(vendors::BodyLimits::default()).unwrap(),
        Arc::new(SourceLimiter::new(limit(10_000, 10_000))),
        Duration::from_secs(5),
    )
    .with_policy(&policy);
    let url = format!("http://{}/udesk/api/v1/sessions/1/logs", sims.addr);

    // Act
    let calls = 200;
    for _ in 0..calls {
        let ctx = CallContext::with_budget(Duration::from_secs(5));
        let response = upstream
            .send(&ctx, "messages", upstream.http().get(&url))
            .await
            .unwrap();
        assert_eq!(response.status.as_u16(), 500);
    }

    // Assert: retries add about 10% plus the small reserve, never one per failure.
    let made = sims.arrivals(SimVendor::Udesk).len();
    let reserve = policy.min_retries_per_second as usize * policy.budget_window.as_secs() as usize;
    eprintln!("outage: {calls} calls became {made} vendor calls (reserve {reserve})");
    assert!(made > calls, "no call was retried");
    assert!(
        made <= calls + calls / 10 + reserve + 1,
        "{made} vendor calls"
    );
}
