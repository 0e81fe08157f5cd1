//! Swagger UI at `/docs`, served by the gateway itself, renders the operations in a real
//! (headless) browser.

use std::process::Command;
use std::time::Duration;

use crate::helpers::TestApp;

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
