//! Fault-injection soak: the gateway binary over simulators answering 20% 5xx, 10% hangs
//! and bursts of 429, under mixed load. Checks: no 5xx while a source answered, no panic,
//! flat RSS, every answer within the request budget, no source over its quota.
//!
//! The suite runs it for `SOAK_SECONDS` (default 20); `scripts/soak.sh` runs it for five
//! minutes on a release build and prints the summary. The hostile phase (`hostile.rs`) is
//! the other test of this binary; the two never run at the same time.

#![allow(clippy::unwrap_used)]

mod hostile;

use std::net::{SocketAddr, TcpListener as StdListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conversation_gateway::sandbox::{
    self, Faults, RecordedCall, Sandbox, SandboxConfig, SandboxCredentials, SimVendor, Throttle,
};
use serde_json::Value;

/// The request budget the gateway is given, and how late an answer may still count as
/// within it (the client's own scheduling on a shared machine).
const BUDGET: Duration = Duration::from_millis(2000);
const SLACK: Duration = Duration::from_millis(1500);
/// Every source's quota.
const PER_SECOND: u32 = 20;
const BURST: u32 = 10;

/// The two phases each start a gateway and measure its RSS and latency: never both at once.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|raw| raw.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_stays_correct_under_vendor_faults() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let seconds = env_or("SOAK_SECONDS", 20);
    let workers = env_or("SOAK_CONNECTIONS", 8);
    let faults = Faults {
        latency: Duration::from_millis(5),
        error_rate: 0.2,
        timeout_rate: 0.1,
        hang: Duration::from_secs(5),
        throttle: None,
    };
    let sandbox = Sandbox::new(SandboxConfig {
        faults: faults.clone(),
        ..SandboxConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = listener.local_addr().unwrap();
    tokio::spawn(sandbox::serve(listener, sandbox.clone()));
    let mut gateway = Gateway::start(sim, "", "");
    let paths = Arc::new(request_mix(&sandbox));

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (paths, tally, base) = (paths.clone(), tally.clone(), gateway.url(""));
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = worker as usize * 7;
            while Instant::now() < deadline {
                let path = &paths[i % paths.len()];
                i += 1;
                let sent = Instant::now();
                let outcome = http.get(format!("{base}{path}")).send().await;
                let result = match outcome {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body = response.bytes().await.unwrap_or_default();
                        Ok((status, body))
                    }
                    Err(err) => Err(err.to_string()),
                };
                tally.lock().unwrap().add(path, sent.elapsed(), result);
            }
        }));
    }
    // Bursts of 429: every seventh second each vendor throttles hard for two seconds.
    let bursts = {
        let (sandbox, faults) = (sandbox.clone(), faults.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                set_throttle(&sandbox, &faults, true);
                tokio::time::sleep(Duration::from_secs(2)).await;
                set_throttle(&sandbox, &faults, false);
            }
        })
    };
    let mut rss = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss.extend(rss_mb(gateway.child.id()));
    }
    for task in tasks {
        task.await.unwrap();
    }
    bursts.abort();

    let still_running = gateway.child.try_wait().unwrap().is_none();
    let log = gateway.stop();
    let tally = tally.lock().unwrap();
    let quota = quota_overruns(&sandbox.calls());
    let (early, late) = rss_halves(&rss);
    eprintln!(
        "soak: {seconds} s, {workers} connections: {} requests, statuses {:?}, slowest {} ms \
         (budget {} ms), vendor calls {}, vendor statuses {:?}, RSS MB {early:.1} (early \
         peak) → {late:.1} (late peak)",
        tally.requests,
        tally.statuses,
        tally.slowest.as_millis(),
        BUDGET.as_millis(),
        sandbox.calls().len(),
        vendor_statuses(&sandbox.calls()),
    );
    assert!(still_running, "the gateway exited; its log:\n{log}");
    assert!(!log.contains("panicked"), "the gateway panicked:\n{log}");
    assert!(tally.problems.is_empty(), "{:#?}", tally.problems);
    assert!(quota.is_empty(), "sources over their quota: {quota:#?}");
    assert!(
        late <= early * 1.5 + 16.0,
        "RSS grew from {early:.1} MB to {late:.1} MB: {rss:?}"
    );
    assert!(tally.requests > workers, "too few requests to judge");
    assert!(
        tally.statuses.iter().any(|(status, _)| *status == 200),
        "no request succeeded"
    );
}

fn set_throttle(sandbox: &Sandbox, faults: &Faults, on: bool) {
    for vendor in SimVendor::ALL {
        sandbox.set_faults(
            vendor,
            Faults {
                throttle: on.then_some(Throttle {
                    per_second: 1,
                    burst: 1,
                    retry_after_seconds: Some(1),
                }),
                ..faults.clone()
            },
        );
    }
}

/// Lists over three and four sources, one source paged, messages of every vendor, and the
/// operational routes.
fn request_mix(sandbox: &Sandbox) -> Vec<String> {
    let customer = sandbox.jijyun_customers().into_iter().next().unwrap();
    let mut paths = vec![
        "/conversations".to_owned(),
        format!("/conversations?customer_id={customer}"),
        "/conversations?source=assistant&page_size=5".to_owned(),
        "/conversations?vendor=udesk,megaview&page_size=50".to_owned(),
        "/sources".to_owned(),
        "/healthz".to_owned(),
    ];
    for (vendor, source) in [
        (SimVendor::Megaview, "sales"),
        (SimVendor::Gptbots, "assistant"),
        (SimVendor::Udesk, "helpdesk"),
        (SimVendor::Jijyun, "inbox"),
    ] {
        for record in sandbox.records(vendor).iter().rev().take(3) {
            let native = match vendor {
                SimVendor::Jijyun => format!(
                    "{}:{}",
                    record.customer_id.as_deref().unwrap_or_default(),
                    record.native_id
                ),
                _ => record.native_id.clone(),
            };
            paths.push(format!("/conversations/{source}:{native}/messages"));
        }
    }
    paths
}

#[derive(Default)]
struct Tally {
    requests: u64,
    statuses: std::collections::BTreeMap<u16, u64>,
    slowest: Duration,
    problems: Vec<String>,
    /// Path, status and problem code of the first answers that were not a success.
    failures: Vec<(String, u16, String)>,
    /// How often each problem code was answered.
    codes: std::collections::BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, path: &str, elapsed: Duration, result: Result<(u16, bytes::Bytes), String>) {
        self.requests += 1;
        self.slowest = self.slowest.max(elapsed);
        if elapsed > BUDGET + SLACK {
            self.problems
                .push(format!("{path}: answered after {} ms", elapsed.as_millis()));
        }
        let (status, body) = match result {
            Ok(answer) => answer,
            Err(err) => {
                self.problems.push(format!("{path}: no answer: {err}"));
                return;
            }
        };
        *self.statuses.entry(status).or_insert(0) += 1;
        let problem: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status >= 400 {
            let code = problem["code"].as_str().unwrap_or_default().to_owned();
            *self.codes.entry(code.clone()).or_insert(0) += 1;
            if self.failures.len() < 100 {
                self.failures.push((path.to_owned(), status, code));
            }
        }
        if status < 500 {
            return;
        }
        let answered = problem["sources"]
            .as_array()
            .is_some_and(|sources| sources.iter().any(|s| s["status"] == "ok"));
        if status == 500 || answered || problem["code"].is_null() {
            self.problems.push(format!(
                "{path}: {status} while a source answered: {problem}"
            ));
        }
    }
}

/// Calls beyond what each source's quota allows in any stretch of time (GCRA: at most
/// `BURST + PER_SECOND * t` in `t`), with a little room for arrival jitter. Transcript
/// downloads go to object storage, not the vendor's API, and take no permit.
fn quota_overruns(calls: &[RecordedCall]) -> Vec<String> {
    let mut overruns = Vec::new();
    for vendor in SimVendor::ALL {
        let times: Vec<_> = calls
            .iter()
            .filter(|c| c.vendor == vendor && c.endpoint != "asr_file")
            .map(|c| c.at)
            .collect();
        for (i, first) in times.iter().enumerate() {
            for (j, last) in times.iter().enumerate().skip(i) {
                let span = last.duration_since(*first).as_secs_f64() + 0.1;
                let allowed = f64::from(BURST) + f64::from(PER_SECOND) * span + 1.0;
                if (j - i + 1) as f64 > allowed {
                    overruns.push(format!(
                        "{}: {} calls in {span:.2} s",
                        vendor.as_str(),
                        j - i + 1
                    ));
                    break;
                }
            }
        }
    }
    overruns.truncate(10);
    overruns
}

fn vendor_statuses(calls: &[RecordedCall]) -> std::collections::BTreeMap<u16, usize> {
    let mut statuses = std::collections::BTreeMap::new();
    for call in calls {
        *statuses.entry(call.status).or_insert(0) += 1;
    }
    statuses
}

/// Peak RSS of the first half of the run after warm-up, and of the second half.
fn rss_halves(samples: &[f64]) -> (f64, f64) {
    let warm = &samples[samples.len().min(4)..];
    let (early, late) = warm.split_at(warm.len() / 2);
    let peak = |s: &[f64]| s.iter().copied().fold(0.0, f64::max);
    (peak(early), peak(late))
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The gateway binary over the simulators; its log is read when it stops.
struct Gateway {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Gateway {
    /// `server` and `sources` are TOML appended to the `[server]` table and after the four
    /// sources over `sim`.
    fn start(sim: SocketAddr, server: &str, sources: &str) -> Self {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("soak");
        std::fs::create_dir_all(&dir).unwrap();
        let addr = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let config = dir.join(format!("gateway-{}.toml", addr.port()));
        std::fs::write(&config, config_toml(addr, sim, server, sources)).unwrap();
        let log = dir.join(format!("gateway-{}.log", addr.port()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_conversation-gateway"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        for _ in 0..400 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Self { child, addr, log };
            }
            assert!(child.try_wait().unwrap().is_none(), "the gateway exited");
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the gateway did not listen on {addr}");
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every source's call timeout and quota.
fn common_toml() -> String {
    format!("timeout_ms = 800\nrate_limit = {{ per_second = {PER_SECOND}, burst = {BURST} }}")
}

fn config_toml(listen: SocketAddr, sim: SocketAddr, server: &str, sources: &str) -> String {
    let c = SandboxCredentials::default();
    let common = common_toml();
    format!(
        r#"[server]
listen = "{listen}"
request_timeout_ms = {budget}
{server}

[cache]
ttl_ms = 0

[[sources]]
name = "sales"
vendor = "megaview"
base_url = "http://{sim}/megaview"
app_key = "{}"
app_secret = "{}"
transcript_hosts = ["{sim}"]
{common}

[[sources]]
name = "assistant"
vendor = "gptbots"
base_url = "http://{sim}/gptbots"
api_key = "{}"
{common}

[[sources]]
name = "helpdesk"
vendor = "udesk"
base_url = "http://{sim}/udesk"
email = "{}"
api_token = "{}"
robot_id = {}
{common}

[[sources]]
name = "inbox"
vendor = "jijyun"
base_url = "http://{sim}/jijyun"
api_key = "{}"
{common}
{sources}
"#,
        c.megaview_app_key,
        c.megaview_app_secret,
        c.gptbots_api_key,
        c.udesk_email,
        c.udesk_api_token,
        c.udesk_robot_id,
        c.jijyun_api_key,
        budget = BUDGET.as_millis(),
    )
}
