//! Swagger UI at `/docs`, served by the gateway itself, renders the operations in a real
//! (headless) browser, and runs them there with the key a person enters under Authorize.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{Setup, TestApp};
use crate::node::NodeTools;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_lists_every_operation_in_a_headless_browser() {
    // Arrange
    let chromium =
        std::env::var("CHROMIUM").expect("CHROMIUM is not set: run the suite with scripts/test.sh");
    let app = TestApp::spawn().await;
    let url = format!("{}/docs/", app.base_url);
    let profile = std::env::temp_dir().join(format!("gateway-docs-test-{}", std::process::id()));

    // Act
    let dom = tokio::task::spawn_blocking(move || {
        let output = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
                // Lets the page fetch /openapi.json and render before the DOM is taken.
                "--virtual-time-budget=15000",
                "--run-all-compositor-stages-before-draw",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(url)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&profile);
        String::from_utf8_lossy(&output.stdout).into_owned()
    });
    let dom = tokio::time::timeout(Duration::from_secs(120), dom)
        .await
        .unwrap()
        .unwrap();

    // Assert
    assert!(
        dom.contains("swagger-ui"),
        "Swagger UI did not load: {}",
        &dom[..dom.len().min(2000)]
    );
    for path in [
        "/conversations",
        "/conversations/{id}/messages",
        "/sources",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "operation {path} is not listed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_try_it_out_answers_401_until_authorized_then_200_with_items() {
    // Arrange
    const KEY: &str = "swagger-ui-test-key";
    // The script launches the browser CHROMIUM names.
    std::env::var("CHROMIUM").expect("CHROMIUM is not set: run the suite with scripts/test.sh");
    let tools = NodeTools::new("swagger-ui");
    let script = tools.copy_in("swagger_ui.mjs");
    let app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| {
            config.auth.api_keys = vec![SecretString::from(KEY.to_owned())];
        }),
        ..Setup::default()
    })
    .await;
    let base_url = app.base_url.clone();

    // Act: the script clicks through the page and prints what it shows.
    let shown = tokio::task::spawn_blocking(move || {
        let finished = tools.run(
            Path::new("node"),
            &[script.to_str().unwrap(), &base_url, KEY],
            Duration::from_secs(300),
        );
        finished.stdout
    })
    .await
    .unwrap();

    // Assert
    let shown: Value = serde_json::from_str(shown.trim()).unwrap_or_else(|err| {
        panic!("the browser script printed no JSON ({err}): {shown}");
    });
    let without_key = &shown["without_key"];
    assert_eq!(without_key["status"], "401", "{without_key}");
    let problem: Value = serde_json::from_str(without_key["body"].as_str().unwrap()).unwrap();
    assert_eq!(problem["code"], "UNAUTHORIZED", "{problem}");

    let with_key = &shown["with_key"];
    assert_eq!(with_key["status"], "200", "{with_key}");
    let page: Value = serde_json::from_str(with_key["body"].as_str().unwrap()).unwrap();
    let items = page["data"].as_array().unwrap();
    assert!(!items.is_empty(), "the page shows no conversations: {page}");
    assert!(items.iter().all(|item| item["id"].is_string()), "{page}");
}
