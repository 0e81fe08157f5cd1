//! The binary's subcommands, run as a user would.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_conversation-gateway");

#[test]
fn openapi_prints_the_committed_document() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

/// The allocator tuning in `.cargo/config.toml` is what keeps peak RSS low under load; a
/// build that lost it would still pass every other test.
#[test]
fn the_binary_runs_on_tuned_jemalloc() {
    let output = Command::new(BIN)
        .arg("openapi")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stats = String::from_utf8_lossy(&output.stderr);
    for option in [
        "opt.dirty_decay_ms: 200",
        "opt.muzzy_decay_ms: 0",
        "opt.tcache_max: 4096",
    ] {
        assert!(stats.contains(option), "{option} missing from:\n{stats}");
    }
}

#[test]
fn check_config_redacts_secrets_and_names_the_bad_key() {
    let dir = std::env::temp_dir().join(format!("gateway-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "[[sources]]\nname = \"inbox\"\nvendor = \"jijyun\"\nbase_url = \"https://chat.jijyun.cn\"\napi_key = \"${TEST_JIJYUN_KEY}\"\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&good)
        .env("TEST_JIJYUN_KEY", "very-secret-key-123")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("source inbox vendor=jijyun"), "{stdout}");
    assert!(!stdout.contains("very-secret-key-123"));

    let missing_var = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&good)
        .env_remove("TEST_JIJYUN_KEY")
        .output()
        .unwrap();
    assert_eq!(missing_var.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing_var.stderr);
    assert!(
        stderr.contains("TEST_JIJYUN_KEY") && stderr.contains("sources[0].api_key"),
        "{stderr}"
    );

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[sources]]\nname = \"a\"\nvendor = \"udesk\"\nbase_url = \"https://km.udesk.cn\"\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("sources[0].email"));

    // A shell with backtraces on still gets the one clear line.
    let output = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&bad)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("sources[0].email"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_mode_serves_the_simulators_and_says_where_docs_are() {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env_remove("GATEWAY_CONFIG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let docs = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let start = line.find("http://")?;
            let rest = &line[start..];
            let end = rest.find("/docs")?;
            Some(format!("{}/docs", &rest[..end]))
        });
    let docs = docs.expect("demo mode logs where /docs is");
    let health = blocking_get(&docs.replace("/docs", "/healthz"));
    let conversations = blocking_get(&docs.replace("/docs", "/conversations?page_size=5"));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health.0, 200);
    assert_eq!(conversations.0, 200, "{}", conversations.1);
    let body: serde_json::Value = serde_json::from_str(&conversations.1).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 5);
}

/// A blocking GET on a throwaway runtime: this test drives a child process, not tokio.
fn blocking_get(url: &str) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}
