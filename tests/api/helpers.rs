//! `TestApp::spawn()`: simulators and gateway on ephemeral loopback ports, plus a client;
//! `Simulators::start` and `TestApp::over` for several gateways (replicas) over one set.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;
use tokio::time::Instant;

use chrono::{DateTime, Utc};
use conversation_gateway::app::{self, AppState};
use conversation_gateway::config::Config;
use conversation_gateway::demo;
use conversation_gateway::ratelimit::RateLimit;
use conversation_gateway::sandbox::{self, Sandbox, SandboxConfig, SimVendor};
use serde_json::Value;
use tokio::net::TcpListener;

/// A running gateway over running simulators.
pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub sandbox: Sandbox,
    #[allow(dead_code)]
    pub state: AppState,
}

/// Knobs of a test setup.
pub struct Setup {
    pub conversations_per_vendor: usize,
    /// Simulator settings other than the number of conversations.
    pub sandbox: SandboxConfig,
    pub request_timeout: Duration,
    pub cache_ttl: Duration,
    /// Raise every source's quota far out of the way (quotas are tested on their own);
    /// `false` keeps each vendor's default tier.
    pub raise_quotas: bool,
    /// Change the config before the gateway starts.
    pub edit: Box<dyn FnOnce(&mut Config) + Send>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            conversations_per_vendor: 120,
            sandbox: SandboxConfig::default(),
            request_timeout: Duration::from_secs(10),
            cache_ttl: Duration::from_secs(30),
            raise_quotas: true,
            edit: Box::new(|_| {}),
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Setup::default()).await
    }

    pub async fn spawn_with(setup: Setup) -> Self {
        let simulators = Simulators::start(SandboxConfig {
            conversations_per_vendor: setup.conversations_per_vendor,
            ..setup.sandbox.clone()
        })
        .await;
        Self::over(&simulators, setup).await
    }

    /// A gateway with its own limiters and cache (a replica) over running `simulators`;
    /// `setup`'s simulator settings are theirs.
    pub async fn over(simulators: &Simulators, setup: Setup) -> Self {
        let sandbox = simulators.sandbox.clone();
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut config = demo::config(simulators.addr, sandbox.credentials(), listen).unwrap();
        config.server.request_timeout = setup.request_timeout;
        config.cache.ttl = setup.cache_ttl;
        if setup.raise_quotas {
            for source in &mut config.sources {
                source.rate_limit = RateLimit {
                    per_second: NonZeroU32::new(1000).unwrap(),
                    burst: NonZeroU32::new(1000).unwrap(),
                };
            }
        }
        (setup.edit)(&mut config);
        let (router, state) = app::build(&config).unwrap();
        let listener = TcpListener::bind(config.server.listen).await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(app::serve(listener, router, state.clone()));
        Self {
            base_url,
            http: reqwest::Client::new(),
            sandbox,
            state,
        }
    }

    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path_and_query}", self.base_url))
            .send()
            .await
            .unwrap()
    }

    /// GETs and returns the status and JSON body.
    pub async fn get_json(&self, path_and_query: &str) -> (u16, Value) {
        let response = self.get(path_and_query).await;
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap();
        (status, body)
    }

    /// What `GET /sources` says of source `name`.
    pub async fn source(&self, name: &str) -> Value {
        let (status, body) = self.get_json("/sources").await;
        assert_eq!(status, 200);
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|source| source["name"] == name)
            .cloned()
            .unwrap()
    }

    /// The newest time any simulated conversation can have.
    pub fn anchor(&self) -> DateTime<Utc> {
        self.sandbox.config().anchor
    }

    /// `since`/`until` query covering the simulators' whole history.
    pub fn whole_history(&self) -> String {
        let until = self.anchor() + chrono::Duration::minutes(1);
        let since =
            until - chrono::Duration::days(i64::from(self.sandbox.config().history_days) + 1);
        format!(
            "since={}&until={}",
            urlencode(&since.to_rfc3339()),
            urlencode(&until.to_rfc3339())
        )
    }

    /// Walks `next_page_token` to the end; returns every item and the last page's body.
    pub async fn walk(&self, query: &str) -> (Vec<Value>, Value) {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let url = match &token {
                Some(token) => format!("/conversations?{query}&page_token={}", urlencode(token)),
                None => format!("/conversations?{query}"),
            };
            let (status, body) = self.get_json(&url).await;
            assert_eq!(status, 200, "{url}: {body}");
            items.extend(body["data"].as_array().unwrap().iter().cloned());
            match body["next_page_token"].as_str() {
                Some(next) => token = Some(next.to_owned()),
                None => return (items, body),
            }
        }
    }
}

/// The vendor simulators on an ephemeral loopback port.
pub struct Simulators {
    pub sandbox: Sandbox,
    pub addr: SocketAddr,
}

impl Simulators {
    pub async fn start(config: SandboxConfig) -> Self {
        let sandbox = Sandbox::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(sandbox::serve(listener, sandbox.clone()));
        Self { sandbox, addr }
    }

    /// Arrival times of the API calls `vendor` got (the Megaview file host is not its API).
    pub fn arrivals(&self, vendor: SimVendor) -> Vec<Instant> {
        self.sandbox
            .calls()
            .into_iter()
            .filter(|call| call.vendor == vendor && call.endpoint != "asr_file")
            .map(|call| call.at)
            .collect()
    }
}

/// The `[[sources]]` of a config file: one source per simulator at `sim`, with
/// `credentials`; Megaview's `app_secret` is written as `megaview_secret` (a literal, or a
/// `${NAME}` the test sets).
pub fn simulator_sources(
    sim: SocketAddr,
    credentials: &conversation_gateway::sandbox::SandboxCredentials,
    megaview_secret: &str,
) -> String {
    format!(
        r#"
[[sources]]
name = "sales"
vendor = "megaview"
base_url = "http://{sim}/megaview"
app_key = "{mv_key}"
app_secret = "{megaview_secret}"
transcript_hosts = ["{sim}"]
[[sources]]
name = "assistant"
vendor = "gptbots"
base_url = "http://{sim}/gptbots"
api_key = "{gb_key}"
[[sources]]
name = "helpdesk"
vendor = "udesk"
base_url = "http://{sim}/udesk"
email = "{email}"
api_token = "{ud_token}"
robot_id = {robot}
[[sources]]
name = "inbox"
vendor = "jijyun"
base_url = "http://{sim}/jijyun"
api_key = "{jj_key}"
"#,
        mv_key = credentials.megaview_app_key,
        gb_key = credentials.gptbots_api_key,
        email = credentials.udesk_email,
        ud_token = credentials.udesk_api_token,
        robot = credentials.udesk_robot_id,
        jj_key = credentials.jijyun_api_key,
    )
}

/// Follows the log of a gateway process started with `--log-format json` and its stderr
/// piped: waits for the address it says it listens on, and hands every log line on as it
/// comes.
pub fn follow_json_logs(child: &mut Child) -> (String, mpsc::Receiver<String>) {
    let (lines_tx, lines) = mpsc::channel::<String>();
    let (addr_tx, addr) = mpsc::channel::<String>();
    let stderr = child.stderr.take().expect("the gateway's stderr is piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("Gateway listening.") {
                let value: Value = serde_json::from_str(&line).unwrap();
                let _ = addr_tx.send(value["addr"].as_str().unwrap_or_default().to_owned());
            }
            let _ = lines_tx.send(line);
        }
    });
    let addr = addr
        .recv_timeout(Duration::from_secs(60))
        .expect("the gateway logs its address");
    (addr, lines)
}

pub fn urlencode(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// Asserts a problem+json answer with `status` and `code`, and returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "{field} missing: {body}");
    }
    body
}
