//! The page-cost benchmark: for windows of N conversations per vendor, what the first page
//! and a full walk cost in vendor calls (from the simulators' call log) and how long the
//! first page takes, at the default quotas and with quotas raised, against one vendor
//! round trip measured in the same run. Prints one Markdown table (the one in the README).
//! Run it with `scripts/bench.sh paging` or `cargo bench --bench paging`. Knobs
//! (environment): `BENCH_PAGING_SIZES` (comma-separated N, default `100,1000,10000,100000`),
//! `BENCH_LATENCY_MS` (simulator latency, default 50), `BENCH_RUNS` (fresh gateways per
//! first-page measurement, default 3), `BENCH_LIST_ORDER` (`arbitrary` or `documented`,
//! default `arbitrary`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
mod common;

use conversation_gateway::sandbox::{self, Faults, ListOrder, Sandbox, SandboxConfig, SimVendor};
use serde_json::Value;

const GATEWAY: &str = env!("CARGO_BIN_EXE_conversation-gateway");
/// Every time-sliced source: its simulator, list endpoint label, source name and vendor
/// page capacity.
const SLICED: [(SimVendor, &str, &str, usize); 3] = [
    (SimVendor::Megaview, "list", "sales", 100),
    (SimVendor::Gptbots, "list", "assistant", 100),
    (SimVendor::Udesk, "sessions", "helpdesk", 99),
];
/// Days of history: one Megaview window, so N is what every vendor holds in the window.
const HISTORY_DAYS: u32 = 7;

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
    sizes: Vec<usize>,
    latency_ms: u64,
    runs: usize,
    order: ListOrder,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let env = |name: &str| std::env::var(name).ok();
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            env(name).map_or(Ok(default), |raw| {
                raw.parse()
                    .map_err(|_| anyhow::anyhow!("{name}={raw} is not a number"))
            })
        };
        let sizes = env("BENCH_PAGING_SIZES")
            .unwrap_or_else(|| "100,1000,10000,100000".to_owned())
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("BENCH_PAGING_SIZES: `{n}` is not a number"))
            })
            .collect::<anyhow::Result<Vec<usize>>>()?;
        let order = match env("BENCH_LIST_ORDER").as_deref() {
            None | Some("arbitrary") => ListOrder::Arbitrary,
            Some("documented") => ListOrder::Documented,
            Some(other) => anyhow::bail!("BENCH_LIST_ORDER={other}: arbitrary or documented"),
        };
        Ok(Self {
            sizes,
            latency_ms: number("BENCH_LATENCY_MS", 50)?,
            runs: usize::try_from(number("BENCH_RUNS", 3)?)?.max(1),
            order,
        })
    }
}

/// What one source cost at one N.
struct Measured {
    n: usize,
    source: &'static str,
    first_calls_default: Vec<usize>,
    first_ms_default: Vec<f64>,
    first_status_default: Vec<u16>,
    first_calls_raised: Vec<usize>,
    first_ms_raised: Vec<f64>,
    walk_calls: usize,
    walk_items: usize,
    capacity: usize,
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-paging");
    std::fs::create_dir_all(&work)?;
    let http = reqwest::Client::new();
    let mut measured = Vec::new();
    let mut round_trips = Vec::new();
    for &n in &settings.sizes {
        let now = Utc::now();
        let anchor = DateTime::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(60), 0)
            .context("anchor")?;
        let started = Instant::now();
        let sandbox = Sandbox::new(SandboxConfig {
            conversations_per_vendor: n,
            history_days: HISTORY_DAYS,
            anchor,
            faults: Faults {
                latency: Duration::from_millis(settings.latency_ms),
                ..Faults::default()
            },
            list_order: settings.order,
            ..SandboxConfig::default()
        });
        eprintln!(
            "paging bench: N = {n}: simulators ready in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let sim = listener.local_addr()?;
        tokio::spawn(sandbox::serve(listener, sandbox.clone()));
        round_trips.push(round_trip(&http, sim, &sandbox).await?);

        let since = anchor - chrono::Duration::days(i64::from(HISTORY_DAYS));
        let window = format!(
            "since={}&until={}",
            stamp(since),
            stamp(anchor + chrono::Duration::seconds(1))
        );
        for (vendor, endpoint, source, capacity) in SLICED {
            let list_calls = || {
                sandbox
                    .calls()
                    .iter()
                    .filter(|call| call.vendor == vendor && call.endpoint == endpoint)
                    .count()
            };
            let mut m = Measured {
                n,
                source,
                first_calls_default: Vec::new(),
                first_ms_default: Vec::new(),
                first_status_default: Vec::new(),
                first_calls_raised: Vec::new(),
                first_ms_raised: Vec::new(),
                walk_calls: 0,
                walk_items: 0,
                capacity,
            };
            let first = format!("/conversations?{window}&source={source}&page_size=20");
            for raised in [false, true] {
                for run in 0..settings.runs {
                    let gateway = Gateway::start(&work, &format!("{source}-{run}"), sim, raised)?;
                    sandbox.reset_calls();
                    let started = Instant::now();
                    let response = http.get(gateway.url(&first)).send().await?;
                    let status = response.status().as_u16();
                    let _ = response.bytes().await?;
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    let calls = list_calls();
                    if raised {
                        ensure!(status == 200, "{source} first page answered {status}");
                        m.first_calls_raised.push(calls);
                        m.first_ms_raised.push(ms);
                    } else {
                        m.first_calls_default.push(calls);
                        m.first_ms_default.push(ms);
                        m.first_status_default.push(status);
                    }
                }
            }
            let gateway = Gateway::start(&work, &format!("{source}-walk"), sim, true)?;
            sandbox.reset_calls();
            m.walk_items = walk(&http, &gateway, &window, source).await?;
            m.walk_calls = list_calls();
            eprintln!(
                "paging bench: N = {n}, {source}: walk of {} items cost {} list calls",
                m.walk_items, m.walk_calls
            );
            measured.push(m);
        }
    }
    let out = report(&settings, &measured, &round_trips);
    std::io::stdout().lock().write_all(out.as_bytes())?;
    std::fs::write(work.join("paging.md"), &out)?;
    Ok(())
}

/// One vendor round trip as the gateway meets it: p50 of direct GPTBots list calls.
async fn round_trip(
    http: &reqwest::Client,
    sim: SocketAddr,
    sandbox: &Sandbox,
) -> anyhow::Result<f64> {
    let key = &sandbox.credentials().gptbots_api_key;
    let now = Utc::now().timestamp_millis();
    let url = format!(
        "http://{sim}/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time={}&end_time={now}&page=1&page_size=100",
        now - 3_600_000
    );
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let response = http.get(&url).bearer_auth(key).send().await?;
        ensure!(
            response.status().is_success(),
            "round trip answered {}",
            response.status()
        );
        let _ = response.bytes().await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(&mut times))
}

/// Walks one source's window at page_size 100; conversations seen.
async fn walk(
    http: &reqwest::Client,
    gateway: &Gateway,
    window: &str,
    source: &str,
) -> anyhow::Result<usize> {
    let mut seen = 0;
    let mut token: Option<String> = None;
    loop {
        let mut url = gateway.url(&format!(
            "/conversations?{window}&source={source}&page_size=100"
        ));
        if let Some(token) = &token {
            write!(url, "&page_token={token}")?;
        }
        let response = http.get(&url).send().await?;
        ensure!(
            response.status().is_success(),
            "walk page answered {}",
            response.status()
        );
        let page: Value = response.json().await?;
        seen += page["data"].as_array().context("page without data")?.len();
        match page["next_page_token"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => return Ok(seen),
        }
    }
}

fn report(settings: &Settings, measured: &[Measured], round_trips: &[f64]) -> String {
    let mut out = String::new();
    let rt = median(&mut round_trips.to_vec());
    let _ = writeln!(
        out,
        "Vendor latency {} ms, list order {:?}, one vendor round trip (p50, measured) {rt:.0} ms; \
         first page = page_size 20, p50 of {} fresh gateways; walk = page_size 100 with quotas \
         raised; N conversations per vendor in a {HISTORY_DAYS}-day window.\n",
        settings.latency_ms, settings.order, settings.runs
    );
    let _ = writeln!(
        out,
        "| N | source | first page calls (default quotas) | first page p50 (default quotas) | first page calls (raised) | first page p50 (raised) | ÷ round trip | walk calls | ÷ ceil(N/100) |"
    );
    let _ = writeln!(out, "|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for m in measured {
        let refused = m.first_status_default.iter().filter(|s| **s != 200).count();
        let default_p50 = median(&mut m.first_ms_default.clone());
        let raised_p50 = median(&mut m.first_ms_raised.clone());
        let pages = m.n.div_ceil(100).max(1);
        let walked = if m.walk_items == m.n {
            String::new()
        } else {
            format!(" (walked {} of {})", m.walk_items, m.n)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {}{} | {default_p50:.0} ms | {} | {raised_p50:.0} ms | {:.1}× | {}{walked} | {:.2} |",
            m.n,
            m.source,
            max(&m.first_calls_default),
            if refused > 0 {
                format!(" ({refused} refused)")
            } else {
                String::new()
            },
            max(&m.first_calls_raised),
            raised_p50 / rt,
            m.walk_calls,
            m.walk_calls as f64 / pages as f64,
        );
        let _ = m.capacity;
    }
    out
}

fn max(values: &[usize]) -> usize {
    values.iter().copied().max().unwrap_or(0)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A gateway process over the simulators, killed on drop.
struct Gateway {
    child: Child,
    addr: SocketAddr,
}

impl Gateway {
    fn start(work: &Path, name: &str, sim: SocketAddr, raised: bool) -> anyhow::Result<Self> {
        let addr = StdListener::bind("127.0.0.1:0")?.local_addr()?;
        let config = work.join(format!("gateway-{name}.toml"));
        std::fs::write(&config, gateway_config(addr, sim, raised))?;
        let log = std::fs::File::create(work.join(format!("gateway-{name}.log")))?;
        let mut child = Command::new(GATEWAY)
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start the gateway")?;
        for _ in 0..200 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Ok(Self { child, addr });
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("the gateway exited at start ({status})");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!("the gateway did not listen on {addr}")
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One source per simulator, at the default quotas or with quotas out of the way.
fn gateway_config(listen: SocketAddr, sim: SocketAddr, raised: bool) -> String {
    let limit = if raised {
        "rate_limit = { per_second = 10000, burst = 10000 }"
    } else {
        ""
    };
    let sources = common::simulator_sources(sim, limit);
    format!("[server]\nlisten = \"{listen}\"\n\n{sources}")
}
