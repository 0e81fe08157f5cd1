//! A client that leaves: the gateway starts no vendor call for it afterwards, and a call
//! already made for it runs to its end (its quota is spent), for whoever else waits.

use std::time::{Duration, Instant};

use conversation_gateway::sandbox::{Faults, Sandbox, SandboxConfig, SimVendor};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{Setup, TestApp};

/// Calls the GPTBots simulator got so far.
fn gptbots_calls(sandbox: &Sandbox) -> usize {
    sandbox
        .calls()
        .iter()
        .filter(|call| call.vendor == SimVendor::Gptbots)
        .count()
}

/// GPTBots calls the gateway gave up on before the simulator answered.
fn abandoned_gptbots_calls(sandbox: &Sandbox) -> usize {
    sandbox
        .calls()
        .iter()
        .filter(|call| call.vendor == SimVendor::Gptbots && call.status == 0)
        .count()
}

/// Waits (at most `limit`) until the GPTBots simulator has had `n` calls.
async fn until_gptbots_calls(sandbox: &Sandbox, n: usize, limit: Duration) {
    let start = Instant::now();
    while gptbots_calls(sandbox) < n {
        assert!(start.elapsed() < limit, "fewer than {n} calls in {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A gateway over a dense GPTBots simulator whose every answer takes a second, so a page
/// needs several calls one after the other (the probe first, then the slices it plans).
async fn slow_dense_gptbots() -> TestApp {
    let app = TestApp::spawn_with(Setup {
        conversations_per_vendor: 3_000,
        sandbox: SandboxConfig::default(),
        request_timeout: Duration::from_secs(60),
        ..Setup::default()
    })
    .await;
    app.sandbox.set_faults(
        SimVendor::Gptbots,
        Faults {
            latency: Duration::from_secs(1),
            ..Faults::default()
        },
    );
    app.sandbox.reset_calls();
    app
}

/// Sends `GET path` on a connection of its own, and returns the connection.
async fn ask(app: &TestApp, path: &str) -> TcpStream {
    let address = app.base_url.trim_start_matches("http://");
    let mut client = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: {address}\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    client
}

#[tokio::test]
async fn a_client_that_leaves_mid_request_gets_no_further_vendor_call() {
    // Arrange
    let app = slow_dense_gptbots().await;
    let path = format!("/conversations?{}&source=assistant", app.whole_history());

    // Act: ask, and leave once the first vendor call is on its way.
    let client = ask(&app, &path).await;
    until_gptbots_calls(&app.sandbox, 1, Duration::from_secs(20)).await;
    drop(client);
    let at_leaving = gptbots_calls(&app.sandbox);
    // Long enough for several more calls, had the request gone on.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after_leaving = gptbots_calls(&app.sandbox);

    // Assert: nothing new started for the client that left, and the call it had made was
    // answered, not dropped half way (its quota was spent)...
    assert_eq!(
        after_leaving, at_leaving,
        "vendor calls after the client left"
    );
    assert_eq!(abandoned_gptbots_calls(&app.sandbox), 0);
    // ...while a client that stays makes the request go on past its first call, so the
    // count above could have grown.
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200);
    assert!(
        gptbots_calls(&app.sandbox) > after_leaving + 1,
        "a page took a single call: the test proves nothing"
    );
}

#[tokio::test]
async fn a_call_shared_with_a_client_that_leaves_goes_on_for_the_one_that_stays() {
    // Arrange
    let app = slow_dense_gptbots().await;
    let path = format!("/conversations?{}&source=assistant", app.whole_history());

    // Act: two clients ask the same; the first leaves once the first call is on its way.
    let leaving = ask(&app, &path).await;
    until_gptbots_calls(&app.sandbox, 1, Duration::from_secs(20)).await;
    let staying = tokio::spawn({
        let (http, url) = (app.http.clone(), format!("{}{path}", app.base_url));
        async move { http.get(url).send().await.unwrap().status() }
    });
    // Time for the second request to join the call in flight (which takes a second).
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(leaving);
    let status = staying.await.unwrap();

    // Assert: the one that stayed got its page, and no call was given up and made again.
    assert_eq!(status, 200);
    assert_eq!(abandoned_gptbots_calls(&app.sandbox), 0);
}
