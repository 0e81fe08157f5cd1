//! A client that leaves: the gateway starts no vendor call for it afterwards.

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

/// Waits (at most `limit`) until the GPTBots simulator has had `n` calls.
async fn until_gptbots_calls(sandbox: &Sandbox, n: usize, limit: Duration) {
    let start = Instant::now();
    while gptbots_calls(sandbox) < n {
        assert!(start.elapsed() < limit, "fewer than {n} calls in {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_client_that_leaves_mid_request_gets_no_further_vendor_call() {
    // Arrange: a dense source whose every answer takes a second, so a page needs several
    // calls one after the other (the probe first, then the slices it plans).
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
    let path = format!("/conversations?{}&source=assistant", app.whole_history());
    let address = app.base_url.trim_start_matches("http://");

    // Act: ask, and leave once the first vendor call is on its way.
    let mut client = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: {address}\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    until_gptbots_calls(&app.sandbox, 1, Duration::from_secs(20)).await;
    drop(client);
    let at_leaving = gptbots_calls(&app.sandbox);
    // Long enough for several more calls, had the request gone on.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after_leaving = gptbots_calls(&app.sandbox);

    // Assert: nothing new started for the client that left...
    assert_eq!(
        after_leaving, at_leaving,
        "vendor calls after the client left"
    );
    // ...while a client that stays makes the request go on past its first call, so the
    // count above could have grown.
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200);
    assert!(
        gptbots_calls(&app.sandbox) > after_leaving + 1,
        "a page took a single call: the test proves nothing"
    );
}
