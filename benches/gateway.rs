//! The benchmark: the release gateway and nginx over the same vendor simulators, driven by
//! wrk, printed as one Markdown table with the vendor calls each run cost. Run it with `scripts/bench.sh` (which installs nginx
//! and wrk) or `cargo bench --bench gateway`. Knobs (environment): `BENCH_SECONDS` (per
//! run, default 10), `BENCH_CONNECTIONS` (default 32), `BENCH_LATENCY_MS` (simulator latency
//! of the single-source runs, default 0), `BENCH_CONVERSATIONS` (per vendor, default 2000).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use chrono::Utc;
mod common;

use conversation_gateway::sandbox::{self, Faults, Sandbox, SandboxConfig, SimVendor};
use conversation_gateway::vendors::reads::{DEFAULT_MAX_CONCURRENT_READS, MAX_CONCURRENT_READS};
use serde_json::Value;

const GATEWAY: &str = env!("CARGO_BIN_EXE_conversation-gateway");
/// The vendor list endpoints' labels in the simulators' call log.
const LIST_ENDPOINTS: [(SimVendor, &str, &str); 3] = [
    (SimVendor::Megaview, "list", "sales"),
    (SimVendor::Gptbots, "list", "assistant"),
    (SimVendor::Udesk, "sessions", "helpdesk"),
];
const SOURCES: [&str; 4] = ["sales", "assistant", "helpdesk", "inbox"];
/// Reads of a source at once when they should never be what limits a run.
const OUT_OF_THE_WAY_READS: usize = MAX_CONCURRENT_READS;

fn main() -> anyhow::Result<()> {
    // `cargo test --all-targets` runs this binary without `--bench`: nothing to measure then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return Ok(());
    }
    let settings = Settings::from_env()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(settings))
}

struct Settings {
    seconds: u64,
    connections: u32,
    latency_ms: u64,
    conversations: usize,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
            match std::env::var(name) {
                Ok(raw) => raw
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{name}={raw} is not a number")),
                Err(_) => Ok(default),
            }
        }
        Ok(Self {
            seconds: var("BENCH_SECONDS", 10)?,
            connections: var("BENCH_CONNECTIONS", 32)?,
            latency_ms: var("BENCH_LATENCY_MS", 0)?,
            conversations: var("BENCH_CONVERSATIONS", 2000)?,
        })
    }
}

/// One wrk run.
#[derive(Clone, Debug)]
struct Load {
    requests_per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    failures: u64,
    peak_rss_mb: Option<f64>,
    /// CPU time (user + system, from /proc) the measured processes spent per request.
    cpu_us_per_request: Option<f64>,
    /// Calls the simulators received during the run, per request answered.
    vendor_calls_per_request: f64,
    /// Requests answered.
    requests: u64,
}

struct Row {
    name: String,
    load: Load,
}

/// The same upstream call through nginx and through the gateway, at one load.
struct Pair {
    nginx: Load,
    gateway: Load,
}

/// One vendor's comparison: at the benchmark's connections and at one, and at the
/// benchmark's connections with each proxy alone on a core (when there are two).
struct VendorPairs {
    vendor: &'static str,
    loaded: Pair,
    alone: Pair,
    pinned: Option<Pair>,
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench");
    std::fs::create_dir_all(&work)?;
    let sandbox = Sandbox::new(SandboxConfig {
        conversations_per_vendor: settings.conversations,
        faults: latency(settings.latency_ms),
        ..SandboxConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim = listener.local_addr()?;
    tokio::spawn(sandbox::serve(listener, sandbox.clone()));
    let customer = sandbox
        .jijyun_customers()
        .into_iter()
        .next()
        .context("the simulators have no Jijyun customer")?;

    let uncached = Gateway::start(&work, "uncached", sim, Some(0))?;
    let cached = Gateway::start(&work, "cached", sim, None)?;
    // One day: under one vendor page at the default size, so one upstream call per request.
    let until = Utc::now();
    let since = until - chrono::Duration::days(1);
    let wrk = Wrk::new(&work, settings.seconds, sandbox.clone())?;
    let c = settings.connections;
    let mut rows = Vec::new();
    let mut measure = |name: &str, load: Load| {
        rows.push(Row {
            name: name.to_owned(),
            load: load.clone(),
        });
        load
    };

    // 1. One source: gateway vs nginx, for each vendor whose list call nginx can make.
    // Every gateway request names a window of its own (`until` a millisecond later each
    // time), so it can share no vendor call with another and makes exactly the one call
    // nginx makes: the same work, compared. (Generating the URLs costs wrk a little more
    // CPU on the gateway's side of the comparison.)
    let stamp = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    // A request `query` that names a window of its own each time it is sent.
    let window_of_its_own = |query: String| Distinct {
        prefix: format!("/conversations?{query}&until="),
        base_ms: Utc::now().timestamp_millis(),
    };
    let mut pairs = Vec::new();
    let cores = Cores::apart()?;
    for baseline in [Baseline::Gptbots, Baseline::Megaview, Baseline::Udesk] {
        let source = baseline.source();
        // Started just before its runs: Udesk's signature holds for five minutes.
        let location = baseline.location(sim, since, until).await?;
        let nginx = Nginx::start(&work, source, sim, &location, "auto")?;
        let single = format!(
            "/conversations?source={source}&since={}&until={}",
            stamp(since),
            stamp(until)
        );
        let distinct = window_of_its_own(format!("source={source}&since={}", stamp(since)));
        wrk.run(&nginx.url("/list"), 2, None)?; // warm-up
        let base = measure(
            &format!(
                "nginx → the same {} list call (baseline)",
                baseline.vendor()
            ),
            wrk.run_with_rss(&nginx.url("/list"), c, None, &nginx.pids())?,
        );
        wrk.run(&uncached.url(&single), 2, None)?;
        let through = measure(
            &format!(
                "gateway `/conversations?source={source}`, one day, cache off, every request distinct"
            ),
            wrk.run_with_rss(&uncached.url(""), c, Some(&distinct), &[uncached.pid()])?,
        );
        if baseline == Baseline::Gptbots {
            measure(
                "gateway, the same, identical requests (concurrent ones share a vendor call)",
                wrk.run_with_rss(&uncached.url(&single), c, None, &[uncached.pid()])?,
            );
            measure(
                "gateway, the same, identical requests, cache on",
                wrk.run_with_rss(&cached.url(&single), c, None, &[cached.pid()])?,
            );
        }
        // One connection: the latency a hop adds when nothing queues for the CPU (at `c`
        // connections both are saturated, so their p50s only restate the throughput ratio).
        let base_alone = measure(
            &format!("nginx, {}, one connection", baseline.vendor()),
            wrk.run_with_rss(&nginx.url("/list"), 1, None, &nginx.pids())?,
        );
        let through_alone = measure(
            &format!("gateway, `{source}`, cache off, every request distinct, one connection"),
            wrk.run_with_rss(&uncached.url(""), 1, Some(&distinct), &[uncached.pid()])?,
        );
        drop(nginx);
        // The same two proxies, each alone on the first core while the simulators and wrk
        // run on the second: neither pays for being preempted by them, which on two shared
        // cores moves CPU per request by a third between runs.
        let pinned = match &cores {
            Some(cores) => {
                let location = baseline.location(sim, since, until).await?;
                let nginx = Nginx::start(&work, &format!("{source}-pinned"), sim, &location, "1")?;
                let gateway = Gateway::start(&work, &format!("pinned-{source}"), sim, Some(0))?;
                // Twice: a worker forked while the master was being moved is caught by the
                // second pass.
                for _ in 0..2 {
                    for pid in nginx.pids().into_iter().chain([gateway.pid()]) {
                        pin(pid, &cores.proxy)?;
                    }
                }
                pin(std::process::id(), &cores.others)?;
                wrk.run(&nginx.url("/list"), 2, None)?;
                let base = measure(
                    &format!(
                        "nginx, one worker, → the same {} list call, alone on a core",
                        baseline.vendor()
                    ),
                    wrk.run_with_rss(&nginx.url("/list"), c, None, &nginx.pids())?,
                );
                wrk.run(&gateway.url(&single), 2, None)?;
                let through = measure(
                    &format!(
                        "gateway, `{source}`, the same as nginx, alone on a core, cache off, every request distinct"
                    ),
                    wrk.run_with_rss(&gateway.url(""), c, Some(&distinct), &[gateway.pid()])?,
                );
                pin(std::process::id(), &cores.all)?;
                Some(Pair {
                    nginx: base,
                    gateway: through,
                })
            }
            None => None,
        };
        pairs.push(VendorPairs {
            vendor: baseline.vendor(),
            loaded: Pair {
                nginx: base,
                gateway: through,
            },
            alone: Pair {
                nginx: base_alone,
                gateway: through_alone,
            },
            pinned,
        });
    }

    // 2. Four sources, each 50 ms away: the fan-out costs about the slowest one. Every
    // request its own window again, so each one costs every asked vendor a call.
    for vendor in SimVendor::ALL {
        sandbox.set_faults(vendor, latency(50));
    }
    let filter = format!("customer_id={customer}");
    let mut slowest: Option<Load> = None;
    for source in SOURCES {
        let load = measure(
            &format!("gateway, `{source}` alone, 50 ms upstream, every request distinct"),
            wrk.run_with_rss(
                &uncached.url(""),
                c,
                Some(&window_of_its_own(format!("source={source}&{filter}"))),
                &[uncached.pid()],
            )?,
        );
        if slowest.as_ref().is_none_or(|s| load.p50_ms > s.p50_ms) {
            slowest = Some(load);
        }
    }
    let slowest = slowest.context("no single-source run")?;
    let fanout = measure(
        "gateway, four sources, 50 ms upstream each, every request distinct",
        wrk.run_with_rss(
            &uncached.url(""),
            c,
            Some(&window_of_its_own(filter.clone())),
            &[uncached.pid()],
        )?,
    );
    // The same at 256 connections: memory. `sources[].max_concurrent_reads` bounds what
    // reads in progress hold, trading memory against reads at once; each setting on a
    // fresh gateway, so its peak RSS is its own.
    let mut wide = None;
    for reads in [DEFAULT_MAX_CONCURRENT_READS, 32, OUT_OF_THE_WAY_READS] {
        let gateway = Gateway::start_with(
            &work,
            &format!("reads{reads}"),
            sim,
            Some(0),
            &format!("max_concurrent_reads = {reads}"),
        )?;
        let default = if reads == DEFAULT_MAX_CONCURRENT_READS {
            ", the default"
        } else {
            ""
        };
        let load = measure(
            &format!("gateway, the same, 256 connections, `max_concurrent_reads` {reads}{default}"),
            wrk.run_with_rss(
                &gateway.url(""),
                256,
                Some(&window_of_its_own(filter.clone())),
                &[gateway.pid()],
            )?,
        );
        if reads == DEFAULT_MAX_CONCURRENT_READS {
            wide = Some(load);
        }
    }
    let wide = wide.context("no run at the default reads at once")?;

    // 3. Walking a large window: vendor list calls against the fewest possible.
    for vendor in SimVendor::ALL {
        sandbox.set_faults(vendor, latency(settings.latency_ms));
    }
    let mut walks = Vec::new();
    for page_size in [20, 100] {
        // Requests of the last load run may still be calling vendors (a server notices a
        // client gone only when it answers): count from when the call log is quiet.
        wait_until_quiet(&sandbox);
        sandbox.reset_calls();
        let fresh = Gateway::start(&work, &format!("walk{page_size}"), sim, None)?;
        let seen = walk(&fresh, page_size).await?;
        drop(fresh);
        let calls = sandbox.calls();
        for (vendor, endpoint, source) in LIST_ENDPOINTS {
            let n = seen.get(source).copied().unwrap_or(0);
            let made = calls
                .iter()
                .filter(|call| call.vendor == vendor && call.endpoint == endpoint)
                .count();
            walks.push((page_size, source, n, made));
        }
    }

    let report = report(&settings, &rows, &pairs, &slowest, &fanout, &wide, &walks);
    std::io::stdout().lock().write_all(report.as_bytes())?;
    Ok(())
}

/// Waits until the simulators have had no call for a second (at most 30 s). It blocks its
/// thread, as the wrk runs do; the simulators keep serving on the runtime's other worker.
fn wait_until_quiet(sandbox: &Sandbox) {
    let mut last = sandbox.calls().len();
    for _ in 0..30 {
        std::thread::sleep(Duration::from_secs(1));
        let now = sandbox.calls().len();
        if now == last {
            return;
        }
        last = now;
    }
}

fn latency(ms: u64) -> Faults {
    Faults {
        latency: Duration::from_millis(ms),
        ..Faults::default()
    }
}

/// Walks the simulators' whole history with `page_size`; conversations seen per source.
async fn walk(gateway: &Gateway, page_size: u32) -> anyhow::Result<BTreeMap<String, usize>> {
    let http = reqwest::Client::new();
    let until = Utc::now();
    let since = until - chrono::Duration::days(29);
    let mut seen = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![
            ("since", since.to_rfc3339()),
            ("until", until.to_rfc3339()),
            ("page_size", page_size.to_string()),
        ];
        if let Some(token) = &token {
            query.push(("page_token", token.clone()));
        }
        let response = http
            .get(gateway.url("/conversations"))
            .query(&query)
            .send()
            .await?;
        ensure!(
            response.status().is_success(),
            "walk page answered {}",
            response.status()
        );
        let page: Value = response.json().await?;
        for item in page["data"].as_array().context("page without data")? {
            let source = item["source"].as_str().unwrap_or_default().to_owned();
            *seen.entry(source).or_insert(0) += 1;
        }
        match page["next_page_token"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => return Ok(seen),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    settings: &Settings,
    rows: &[Row],
    pairs: &[VendorPairs],
    slowest: &Load,
    fanout: &Load,
    wide: &Load,
    walks: &[(u32, &str, usize, usize)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", machine());
    let _ = writeln!(
        out,
        "wrk, {} s per run, {} connections unless noted, {} conversations per vendor, \
         simulator latency {} ms unless noted; gateway logs at `warn`, nginx without access log.\n",
        settings.seconds, settings.connections, settings.conversations, settings.latency_ms
    );
    let _ = writeln!(
        out,
        "| run | requests/s | p50 ms | p95 ms | p99 ms | failed | peak RSS MB | CPU µs / request | vendor calls / request |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for row in rows {
        let l = &row.load;
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {:.2} |",
            row.name,
            l.requests_per_second,
            l.p50_ms,
            l.p95_ms,
            l.p99_ms,
            l.failures,
            l.peak_rss_mb
                .map_or_else(|| "–".to_owned(), |mb| format!("{mb:.1}")),
            l.cpu_us_per_request
                .map_or_else(|| "–".to_owned(), |us| format!("{us:.0}")),
            l.vendor_calls_per_request,
        );
    }
    let _ = writeln!(
        out,
        "\n| ratio | measured | target | met |\n|---|---:|---:|---|"
    );
    let mut ratio = |name: &str, value: f64, target: &str, met: bool| {
        let _ = writeln!(
            out,
            "| {name} | {value:.2} | {target} | {} |",
            if met { "yes" } else { "**no**" }
        );
    };
    for VendorPairs {
        vendor,
        loaded,
        alone,
        pinned,
    } in pairs
    {
        let throughput = loaded.gateway.requests_per_second / loaded.nginx.requests_per_second;
        ratio(
            &format!(
                "{vendor}: throughput, gateway / nginx (cache off, distinct requests, {} connections)",
                settings.connections
            ),
            throughput,
            "≥ 0.8",
            throughput >= 0.8,
        );
        let loaded_label = format!("{} connections", settings.connections);
        let pinned_label = format!("{loaded_label}, each alone on a core");
        let cases = [
            Some((loaded, loaded_label.as_str())),
            Some((alone, "one connection")),
            pinned.as_ref().map(|pair| (pair, pinned_label.as_str())),
        ];
        for (pair, connections) in cases.into_iter().flatten() {
            if let (Some(gateway), Some(nginx)) = (
                pair.gateway.cpu_us_per_request,
                pair.nginx.cpu_us_per_request,
            ) {
                ratio(
                    &format!(
                        "{vendor}: CPU per request, gateway / nginx (cache off, distinct requests, {connections})"
                    ),
                    gateway / nginx,
                    "≤ 3",
                    gateway / nginx <= 3.0,
                );
            }
        }
        let added = loaded.gateway.p50_ms - loaded.nginx.p50_ms;
        ratio(
            &format!(
                "{vendor}: added p50 latency, ms ({} connections)",
                settings.connections
            ),
            added,
            "≤ 1",
            added <= 1.0,
        );
        let added = alone.gateway.p50_ms - alone.nginx.p50_ms;
        ratio(
            &format!("{vendor}: added p50 latency, ms (one connection)"),
            added,
            "≤ 0.5",
            added <= 0.5,
        );
    }
    let p50 = fanout.p50_ms / slowest.p50_ms;
    ratio(
        "p50, four sources / slowest single source",
        p50,
        "≤ 1.1",
        p50 <= 1.1,
    );
    let p99 = fanout.p99_ms / slowest.p99_ms;
    ratio(
        "p99, four sources / slowest single source",
        p99,
        "≤ 1.3",
        p99 <= 1.3,
    );
    for (page_size, source, n, made) in walks {
        let fewest = n.div_ceil(100).max(1);
        let value = *made as f64 / fewest as f64;
        ratio(
            &format!(
                "walk, page_size {page_size}: `{source}` list calls / ceil({n} / 100) ({made} / {fewest})"
            ),
            value,
            "≤ 1.2",
            value <= 1.2,
        );
    }
    let rss = wide.peak_rss_mb.unwrap_or(f64::NAN);
    ratio(
        "peak RSS at 256 connections, default `max_concurrent_reads`, MB",
        rss,
        "≤ 50",
        rss <= 50.0,
    );
    out
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{} · commit {commit} · {cpu}, {cores} cores, {memory_gb:.0} GB RAM, {}",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::env::consts::OS,
    )
}

fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?)
}

fn wait_for(addr: SocketAddr, child: &mut Child, what: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited with {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{what} did not listen on {addr}")
}

/// A gateway process over the simulators, killed on drop.
struct Gateway {
    child: Child,
    addr: SocketAddr,
}

impl Gateway {
    /// `cache_ttl_ms`: `None` keeps the default. Reads at once are out of the way, like the
    /// quotas: the gateway's own cost is measured.
    fn start(
        work: &Path,
        name: &str,
        sim: SocketAddr,
        cache_ttl_ms: Option<u64>,
    ) -> anyhow::Result<Self> {
        let reads = format!("max_concurrent_reads = {OUT_OF_THE_WAY_READS}");
        Self::start_with(work, name, sim, cache_ttl_ms, &reads)
    }

    /// `source_keys`: more keys for every source.
    fn start_with(
        work: &Path,
        name: &str,
        sim: SocketAddr,
        cache_ttl_ms: Option<u64>,
        source_keys: &str,
    ) -> anyhow::Result<Self> {
        let addr = free_port()?;
        let config = work.join(format!("gateway-{name}.toml"));
        std::fs::write(
            &config,
            gateway_config(addr, sim, cache_ttl_ms, source_keys),
        )?;
        let log = std::fs::File::create(work.join(format!("gateway-{name}.log")))?;
        let mut child = Command::new(GATEWAY)
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start the gateway")?;
        wait_for(addr, &mut child, "the gateway")?;
        Ok(Self { child, addr })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config with one source per simulator, quotas out of the way, `source_keys` added to
/// every source.
fn gateway_config(
    listen: SocketAddr,
    sim: SocketAddr,
    cache_ttl_ms: Option<u64>,
    source_keys: &str,
) -> String {
    let cache = cache_ttl_ms.map_or_else(String::new, |ms| format!("[cache]\nttl_ms = {ms}\n"));
    let sources = common::simulator_sources(
        sim,
        &format!("rate_limit = {{ per_second = 10000, burst = 10000 }}\n{source_keys}"),
    );
    format!("[server]\nlisten = \"{listen}\"\nrequest_timeout_ms = 10000\n\n{cache}\n{sources}")
}

/// A vendor list call nginx can make as the gateway makes it for one source over one
/// window: the baseline of that vendor. (Jijyun is left out: its list is read whole per
/// customer, in as many calls as it has pages.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Baseline {
    Gptbots,
    Megaview,
    Udesk,
}

impl Baseline {
    fn source(self) -> &'static str {
        match self {
            Self::Gptbots => "assistant",
            Self::Megaview => "sales",
            Self::Udesk => "helpdesk",
        }
    }

    fn vendor(self) -> &'static str {
        match self {
            Self::Gptbots => "GPTBots",
            Self::Megaview => "Megaview",
            Self::Udesk => "Udesk",
        }
    }

    /// The nginx `location` body that makes the first list call of `[since, until)`, with
    /// the page size the gateway asks for, from the vendors' documents.
    async fn location(
        self,
        sim: SocketAddr,
        since: chrono::DateTime<Utc>,
        until: chrono::DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let credentials = sandbox::SandboxCredentials::default();
        // Megaview and Udesk read wall-clock seconds in the account's zone.
        let local = |t: chrono::DateTime<Utc>| {
            t.with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        let json_post = "proxy_method POST;\n      proxy_set_header Content-Type application/json;";
        Ok(match self {
            Self::Gptbots => {
                // The gateway's window is half-open; GPTBots' `end_time` is inclusive.
                format!(
                    "proxy_set_header Authorization \"Bearer {key}\";\n      \
                     proxy_pass http://simulators/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time={since}&end_time={until}&page=1&page_size=100;",
                    key = credentials.gptbots_api_key,
                    since = since.timestamp_millis(),
                    until = until.timestamp_millis() - 1,
                )
            }
            Self::Megaview => {
                let token = megaview_token(sim, &credentials).await?;
                let body = serde_json::json!({
                    "begin_time": local(since),
                    "end_time": local(until),
                    "page_size": 100,
                });
                format!(
                    "{json_post}\n      proxy_set_header Authorization \"Bearer {token}\";\n      \
                     proxy_set_body '{body}';\n      \
                     proxy_pass http://simulators/megaview/openapi/conversation/v1/conversations/list;"
                )
            }
            Self::Udesk => {
                let timestamp = Utc::now().timestamp();
                let plain = format!(
                    "{}&{}&{timestamp}",
                    credentials.udesk_email, credentials.udesk_api_token
                );
                let sign = match credentials.udesk_sign_algorithm {
                    sandbox::SignAlgorithm::Sha1 => {
                        hex::encode(<sha1::Sha1 as sha1::Digest>::digest(plain.as_bytes()))
                    }
                    sandbox::SignAlgorithm::Sha256 => {
                        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(plain.as_bytes()))
                    }
                };
                // Udesk's `endTime` is inclusive, to the second.
                let body = serde_json::json!({
                    "robotId": credentials.udesk_robot_id,
                    "startTime": local(since),
                    "endTime": local(until - chrono::Duration::seconds(1)),
                    "pageNum": 1,
                    "pageSize": 99,
                    "sortFlag": 0,
                });
                let email: String =
                    url::form_urlencoded::byte_serialize(credentials.udesk_email.as_bytes())
                        .collect();
                format!(
                    "{json_post}\n      proxy_set_body '{body}';\n      \
                     proxy_pass http://simulators/udesk/api/v1/sessions?email={email}&timestamp={timestamp}&sign={sign};"
                )
            }
        })
    }
}

/// A Megaview access token from the simulator's token endpoint.
async fn megaview_token(
    sim: SocketAddr,
    credentials: &sandbox::SandboxCredentials,
) -> anyhow::Result<String> {
    let answer: Value = reqwest::Client::new()
        .post(format!(
            "http://{sim}/megaview/openapi/auth/v1/app_access_token/internal"
        ))
        .json(&serde_json::json!({
            "app_key": credentials.megaview_app_key,
            "app_secret": credentials.megaview_app_secret,
        }))
        .send()
        .await?
        .json()
        .await?;
    answer["data"]["app_access_token"]
        .as_str()
        .map(str::to_owned)
        .context("the Megaview simulator gave no token")
}

/// nginx making one vendor's list call for every `GET /list`.
struct Nginx {
    child: Child,
    addr: SocketAddr,
}

impl Nginx {
    /// `workers`: nginx's `worker_processes`.
    fn start(
        work: &Path,
        name: &str,
        sim: SocketAddr,
        location: &str,
        workers: &str,
    ) -> anyhow::Result<Self> {
        let prefix = work.join(format!("nginx-{name}"));
        std::fs::create_dir_all(prefix.join("logs"))?;
        let addr = free_port()?;
        let conf = format!(
            r#"daemon off;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  upstream simulators {{ server {sim}; keepalive 64; }}
  server {{
    listen {addr};
    location = /list {{
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      {location}
    }}
  }}
}}
"#,
            prefix = prefix.display()
        );
        let conf_path = prefix.join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let nginx =
            which("nginx").context("nginx is not installed (scripts/bench.sh installs it)")?;
        let log = std::fs::File::create(prefix.join("logs/stderr.log"))?;
        let mut child = Command::new(nginx)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start nginx")?;
        wait_for(addr, &mut child, "nginx")?;
        Ok(Self { child, addr })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The master and its workers.
    fn pids(&self) -> Vec<u32> {
        let master = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{master}/task/{master}/children"))
            .unwrap_or_default();
        std::iter::once(master)
            .chain(children.split_whitespace().filter_map(|p| p.parse().ok()))
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGKILL would stop only the master and leave its workers running, orphaned, with
        // the port still open; on SIGTERM the master stops its workers first.
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if !terminated {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// wrk with a script that prints its summary as one JSON line.
struct Wrk {
    program: PathBuf,
    script: PathBuf,
    distinct_script: PathBuf,
    seconds: u64,
    /// Its call log counts the vendor calls of each run.
    sandbox: Sandbox,
}

/// Requests that each name a window of their own: `prefix` followed by an RFC 3339 time,
/// `base_ms` plus a millisecond more for every request (interleaved across wrk's threads).
#[derive(Clone)]
struct Distinct {
    prefix: String,
    base_ms: i64,
}

const WRK_DISTINCT: &str = include_str!("wrk-distinct.lua");

const WRK_SCRIPT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"errors\":%d,\"non2xx\":%d,\"p50\":%d,\"p95\":%d,\"p99\":%d}\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"#;

impl Wrk {
    fn new(work: &Path, seconds: u64, sandbox: Sandbox) -> anyhow::Result<Self> {
        let program =
            which("wrk").context("wrk is not installed (scripts/bench.sh installs it)")?;
        let script = work.join("summary.lua");
        std::fs::write(&script, WRK_SCRIPT)?;
        let distinct_script = work.join("distinct.lua");
        std::fs::write(&distinct_script, format!("{WRK_DISTINCT}{WRK_SCRIPT}"))?;
        Ok(Self {
            program,
            script,
            distinct_script,
            seconds,
            sandbox,
        })
    }

    /// Load with `connections` for the configured time (every request its own window when
    /// `distinct` is given); peak RSS of `pids` (summed) over the run.
    fn run_with_rss(
        &self,
        url: &str,
        connections: u32,
        distinct: Option<&Distinct>,
        pids: &[u32],
    ) -> anyhow::Result<Load> {
        for pid in pids {
            // "5" resets the peak RSS the kernel keeps (VmHWM) to the current RSS.
            let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        }
        let cpu_before: Option<f64> = pids.iter().map(|pid| cpu_seconds(*pid)).sum();
        let mut load = self.run(url, connections, distinct)?;
        let cpu_after: Option<f64> = pids.iter().map(|pid| cpu_seconds(*pid)).sum();
        let total: Option<f64> = pids.iter().map(|pid| peak_rss_mb(*pid)).sum();
        load.peak_rss_mb = total;
        load.cpu_us_per_request = cpu_before
            .zip(cpu_after)
            .map(|(before, after)| (after - before) * 1e6 / load.requests as f64);
        Ok(load)
    }

    fn run(
        &self,
        url: &str,
        connections: u32,
        distinct: Option<&Distinct>,
    ) -> anyhow::Result<Load> {
        let mut command = Command::new(&self.program);
        command
            // wrk wants at least one connection per thread.
            .args(["-t", &connections.min(2).to_string()])
            .args(["-c", &connections.to_string()])
            .args([
                "-d",
                &format!("{}s", self.seconds),
                "--timeout",
                "10s",
                "-s",
            ]);
        match distinct {
            Some(distinct) => command
                .arg(&self.distinct_script)
                .arg(url)
                .arg("--")
                .arg(&distinct.prefix)
                .arg(distinct.base_ms.to_string()),
            None => command.arg(&self.script).arg(url),
        };
        // Calls still made for the last run's requests would be counted against this one.
        wait_until_quiet(&self.sandbox);
        self.sandbox.reset_calls();
        let output = command.output().context("cannot run wrk")?;
        let vendor_calls = self.sandbox.calls().len() as f64;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix("WRK_JSON "))
            .with_context(|| format!("wrk printed no summary: {stdout}"))?;
        let summary: Value = serde_json::from_str(line)?;
        let number = |key: &str| summary[key].as_f64().unwrap_or(f64::NAN);
        Ok(Load {
            requests_per_second: number("requests") / (number("duration_us") / 1e6),
            p50_ms: number("p50") / 1000.0,
            p95_ms: number("p95") / 1000.0,
            p99_ms: number("p99") / 1000.0,
            failures: summary["errors"].as_u64().unwrap_or(0)
                + summary["non2xx"].as_u64().unwrap_or(0),
            peak_rss_mb: None,
            cpu_us_per_request: None,
            requests: summary["requests"].as_u64().unwrap_or(0).max(1),
            vendor_calls_per_request: vendor_calls / number("requests"),
        })
    }
}

/// CPUs to keep the measured proxy apart from the simulators and wrk.
struct Cores {
    /// Where the proxy runs: the first CPU this process may use.
    proxy: String,
    /// Where the simulators (this process) and wrk run meanwhile: the others.
    others: String,
    /// Every CPU this process may use, restored afterwards.
    all: String,
}

impl Cores {
    /// `None` with fewer than two CPUs.
    fn apart() -> anyhow::Result<Option<Self>> {
        let output = Command::new("taskset")
            .args(["-c", "-p", &std::process::id().to_string()])
            .output()
            .context("cannot run taskset (util-linux)")?;
        ensure!(
            output.status.success(),
            "taskset could not read this process's CPUs"
        );
        // "pid 42's current affinity list: 0-3,6"
        let text = String::from_utf8_lossy(&output.stdout);
        let all = text
            .rsplit_once(": ")
            .context("taskset printed no CPU list")?
            .1
            .trim()
            .to_owned();
        let mut cpus = Vec::new();
        for part in all.split(',') {
            let (first, last) = part.split_once('-').unwrap_or((part, part));
            let (first, last): (u32, u32) = (first.parse()?, last.parse()?);
            cpus.extend(first..=last);
        }
        let Some((proxy, others)) = cpus.split_first() else {
            return Ok(None);
        };
        if others.is_empty() {
            return Ok(None);
        }
        let others = others
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        Ok(Some(Self {
            proxy: proxy.to_string(),
            others,
            all,
        }))
    }
}

/// Moves every thread of process `pid` to `cpus`; threads and processes it starts later
/// inherit them.
fn pin(pid: u32, cpus: &str) -> anyhow::Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-c", "-p", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .context("cannot run taskset (util-linux)")?;
    ensure!(
        status.success(),
        "taskset could not move {pid} to CPUs {cpus}"
    );
    Ok(())
}

/// User plus system CPU seconds process `pid` has spent (its threads included).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks_per_second())
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux when unknown).
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}
