//! A client generated from `openapi/openapi.json` walks the gateway with a key.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use conversation_gateway::sandbox::SimVendor;
use conversation_gateway::sandbox::data::SHARED_CUSTOMER_ID;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{Setup, TestApp};
use crate::node::NodeTools;

const KEY: &str = "generated-client-test-key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_client_walks_every_page_of_all_four_vendors_and_reads_messages() {
    // Arrange: generate the client's types (any warning fails), type-check its user.
    let tools = NodeTools::new("client");
    tools.copy_in("walk_client.ts");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let generated = tools.run(
        &tools.bin("openapi-typescript"),
        &[spec.to_str().unwrap(), "--output", "schema.d.ts"],
        Duration::from_secs(300),
    );
    let unexpected: Vec<&str> = generated
        .stdout
        .lines()
        .chain(generated.stderr.lines())
        .filter(|line| {
            // The banner and the one-line summary are all a clean run prints.
            !(line.starts_with("✨ openapi-typescript") || line.starts_with("🚀 "))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "openapi-typescript warned about the spec:\n{}",
        unexpected.join("\n")
    );
    tools.run(
        &tools.bin("tsc"),
        &[
            "--strict",
            "--noEmitOnError",
            "--noUnusedLocals",
            "--noUnusedParameters",
            "--target",
            "es2022",
            "--module",
            "nodenext",
            "--moduleResolution",
            "nodenext",
            "--types",
            "node",
            "walk_client.ts",
        ],
        Duration::from_secs(300),
    );

    let mut app = TestApp::spawn_with(Setup {
        edit: Box::new(|config| {
            config.auth.api_keys = vec![SecretString::from(KEY.to_owned())];
        }),
        ..Setup::default()
    })
    .await;
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {KEY}")).unwrap(),
    );
    app.http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    // Jijyun lists per customer: one the four simulators share makes every vendor answer.
    let customer = SHARED_CUSTOMER_ID.to_string();
    let until = app.anchor() + chrono::Duration::minutes(1);
    let since = until - chrono::Duration::days(i64::from(app.sandbox.config().history_days) + 1);
    let (since, until) = (since.to_rfc3339(), until.to_rfc3339());

    // Act
    let base_url = app.base_url.clone();
    let (customer_arg, since_arg, until_arg) = (customer.clone(), since.clone(), until.clone());
    let printed = tokio::task::spawn_blocking(move || {
        tools
            .run(
                Path::new("node"),
                &[
                    "walk_client.js",
                    &base_url,
                    KEY,
                    &since_arg,
                    &until_arg,
                    &customer_arg,
                    "7",
                ],
                Duration::from_secs(300),
            )
            .stdout
    })
    .await
    .unwrap();

    // Assert
    let seen: Value = serde_json::from_str(printed.trim())
        .unwrap_or_else(|err| panic!("the client printed no JSON ({err}): {printed}"));
    let pages: Vec<Vec<String>> = serde_json::from_value(seen["pages"].clone()).unwrap();
    assert!(pages.len() > 1, "one page proves no paging: {pages:?}");
    for page in &pages {
        let distinct: BTreeSet<&String> = page.iter().collect();
        assert_eq!(
            distinct.len(),
            page.len(),
            "a page repeats an item: {page:?}"
        );
        assert!(page.len() <= 7, "page larger than page_size: {page:?}");
    }
    let walked: Vec<String> = pages.concat();
    let distinct: BTreeSet<&String> = walked.iter().collect();
    assert_eq!(distinct.len(), walked.len(), "the walk repeats items");

    // What the gateway says, read without the generated client, in pages of 100.
    let (reference, _) = app
        .walk(&format!(
            "since={}&until={}&customer_id={customer}&page_size=100",
            crate::helpers::urlencode(&since),
            crate::helpers::urlencode(&until)
        ))
        .await;
    let reference: Vec<String> = reference
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(walked, reference);
    let simulated: usize = [
        SimVendor::Megaview,
        SimVendor::Gptbots,
        SimVendor::Udesk,
        SimVendor::Jijyun,
    ]
    .into_iter()
    .map(|vendor| {
        app.sandbox
            .records(vendor)
            .into_iter()
            .filter(|record| record.customer_id.as_deref() == Some(customer.as_str()))
            .count()
    })
    .sum();
    assert_eq!(walked.len(), simulated, "the simulators hold another count");

    for vendor in ["megaview", "gptbots", "udesk", "jijyun"] {
        let read = &seen["messages"][vendor];
        let id = read["conversation_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no conversation of {vendor} was read: {seen}"));
        assert!(walked.iter().any(|walked| walked == id), "{id}");
        assert_eq!(read["message_conversation_ids"], serde_json::json!([id]));
        let sequences: Vec<u64> = serde_json::from_value(read["sequences"].clone()).unwrap();
        assert!(!sequences.is_empty(), "{vendor}: no messages");
        assert_eq!(
            sequences,
            (0..sequences.len() as u64).collect::<Vec<_>>(),
            "{vendor}: messages out of order or missing"
        );
    }
}
