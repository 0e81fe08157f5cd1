//! The binary at its most verbose log level, over a config full of secrets, driven through
//! every vendor: no secret (nor Jijyun's `apiKey` query parameter) reaches the output.

use std::process::{Command, Stdio};

use conversation_gateway::sandbox::{self, Sandbox, SandboxConfig, SandboxCredentials};
use tokio::net::TcpListener;

use crate::helpers::{follow_json_logs, urlencode};

const BIN: &str = env!("CARGO_BIN_EXE_conversation-gateway");
const CONSUMER_KEY: &str = "consumer-key-SECRET-5e1f";
const CURSOR_SECRET: &str = "cursor-secret-SECRET-77aa";
const REDIS_PASSWORD: &str = "redis-pass-SECRET-0c9d";

#[tokio::test]
async fn trace_logs_of_a_busy_gateway_hold_no_secret() {
    let credentials = SandboxCredentials {
        megaview_app_key: "mv-app-key-SECRET-1a2b".to_owned(),
        megaview_app_secret: "mv-app-secret-SECRET-3c4d".to_owned(),
        gptbots_api_key: "gb-api-key-SECRET-5e6f".to_owned(),
        udesk_api_token: "ud-api-token-SECRET-7a8b".to_owned(),
        jijyun_api_key: "jj-api-key-SECRET-9c0d".to_owned(),
        ..SandboxCredentials::default()
    };
    let sandbox = Sandbox::new(SandboxConfig {
        conversations_per_vendor: 30,
        credentials: credentials.clone(),
        ..SandboxConfig::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = listener.local_addr().unwrap();
    tokio::spawn(sandbox::serve(listener, sandbox.clone()));

    // Secrets come both literally and through ${NAME}, the way operators write them.
    let dir = std::env::temp_dir().join(format!("gateway-secrets-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[auth]
api_keys = ["${{TEST_CONSUMER_KEY}}"]
public_metrics = true
[cursor]
secret = "{CURSOR_SECRET}"
[rate_limit]
store = "memory"
redis_url = "redis://:{REDIS_PASSWORD}@127.0.0.1:6379"
{sources}"#,
            sources = crate::helpers::simulator_sources(sim, &credentials, "${TEST_MV_SECRET}"),
        ),
    )
    .unwrap();

    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--config",
        ])
        .arg(&config)
        .env("RUST_LOG", "trace")
        .env("TEST_CONSUMER_KEY", CONSUMER_KEY)
        .env("TEST_MV_SECRET", &credentials.megaview_app_secret)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (addr, lines_rx) = follow_json_logs(&mut child);
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let get = |path: String, key: &'static str| {
        let request = http.get(format!("{base}{path}")).bearer_auth(key);
        async move { request.send().await.unwrap() }
    };

    // Every vendor, listed and read, plus a refused key and the metrics page.
    let customer = sandbox.jijyun_customers()[0].clone();
    let until = sandbox.config().anchor + chrono::Duration::minutes(1);
    let since = until - chrono::Duration::days(29);
    let window = format!(
        "since={}&until={}",
        urlencode(&since.to_rfc3339()),
        urlencode(&until.to_rfc3339())
    );
    let listed = get(
        format!("/conversations?page_size=100&{window}"),
        CONSUMER_KEY,
    )
    .await;
    assert_eq!(listed.status(), 200);
    let listed: serde_json::Value = listed.json().await.unwrap();
    let inbox = get(
        format!("/conversations?source=inbox&customer_id={customer}&{window}"),
        CONSUMER_KEY,
    )
    .await;
    assert_eq!(inbox.status(), 200);
    let inbox: serde_json::Value = inbox.json().await.unwrap();
    let mut ids: Vec<String> = Vec::new();
    for body in [&listed, &inbox] {
        for item in body["data"].as_array().unwrap() {
            let source = item["source"].as_str().unwrap();
            if !ids.iter().any(|id| id.starts_with(&format!("{source}:"))) {
                ids.push(item["id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(ids.len(), 4, "one conversation per vendor: {ids:?}");
    for id in &ids {
        let messages = get(
            format!("/conversations/{}/messages", urlencode(id)),
            CONSUMER_KEY,
        )
        .await;
        assert_eq!(messages.status(), 200, "{id}");
    }
    assert_eq!(
        get("/sources".to_owned(), "wrong-key-SECRET-x")
            .await
            .status(),
        401
    );
    assert_eq!(get("/metrics".to_owned(), CONSUMER_KEY).await.status(), 200);

    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let output: Vec<String> = lines_rx.try_iter().collect();
    let output = output.join("\n");
    assert!(
        output.contains(r#""level":"TRACE""#),
        "the most verbose level was not on"
    );
    assert!(
        output.contains(r#""source":"inbox""#),
        "Jijyun calls were not traced"
    );
    if let Some(path) = std::env::var_os("SECRETS_TEST_DUMP") {
        std::fs::write(path, &output).unwrap();
    }
    for secret in [
        CONSUMER_KEY,
        CURSOR_SECRET,
        REDIS_PASSWORD,
        "wrong-key-SECRET-x",
        &credentials.megaview_app_key,
        &credentials.megaview_app_secret,
        &credentials.gptbots_api_key,
        &credentials.udesk_api_token,
        &credentials.jijyun_api_key,
        "apiKey",
        "SECRET",
    ] {
        assert!(
            !output.contains(secret),
            "`{secret}` appears in the log output"
        );
    }
}
