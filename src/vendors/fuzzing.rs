//! Fuzzing entry points: raw vendor answers through each adapter's parsing and mapping.
//!
//! Each function takes arbitrary bytes: the first picks the endpoint, the second the HTTP
//! status and whether a `Retry-After` comes along, the rest is the body. Any input must end
//! in `Ok` or a `VendorError`, never a panic.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

use crate::domain::SourceName;
use crate::vendors::http::UpstreamResponse;
use crate::vendors::{VendorError, gptbots, jijyun, megaview, udesk};

const STATUSES: [u16; 12] = [200, 200, 200, 200, 201, 400, 401, 403, 404, 429, 500, 504];
const RETRY_AFTERS: [&str; 4] = ["1", "0.5", "-3", "18446744073709551616"];

/// What the fuzzed call answered: how many items it mapped, or the error it mapped to.
pub type Outcome = Result<usize, VendorError>;

/// Splits fuzzer bytes into an endpoint selector and a vendor answer.
fn answer(data: &[u8]) -> (u8, UpstreamResponse) {
    let endpoint = data.first().copied().unwrap_or(0);
    let shape = data.get(1).copied().unwrap_or(0);
    let status = STATUSES[usize::from(shape) % STATUSES.len()];
    let mut headers = HeaderMap::new();
    if shape & 0x80 != 0 {
        let value = RETRY_AFTERS[usize::from(shape >> 4) % RETRY_AFTERS.len()];
        headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
    }
    let response = UpstreamResponse::new(
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers,
        Bytes::copy_from_slice(data.get(2..).unwrap_or_default()),
    );
    (endpoint, response)
}

fn source() -> SourceName {
    "fuzz".parse().expect("`fuzz` is a valid source name")
}

/// Megaview: token, list, `asr_data`, transcript and single-conversation answers.
pub fn megaview(data: &[u8]) -> Outcome {
    let (endpoint, response) = answer(data);
    match endpoint % 5 {
        0 => megaview::fuzz::token(&response).map(|_| 1),
        1 => megaview::fuzz::list(&response, &source()),
        2 => megaview::fuzz::asr_data(&response).map(|()| 1),
        3 => megaview::fuzz::conversation(&response).map(|()| 1),
        _ => megaview::fuzz::transcript(&response),
    }
}

/// GPTBots: conversation and message pages.
pub fn gptbots(data: &[u8]) -> Outcome {
    let (endpoint, response) = answer(data);
    match endpoint % 2 {
        0 => gptbots::fuzz::list(&response, &source()),
        _ => gptbots::fuzz::messages(&response),
    }
}

/// Udesk KM: session and session log pages.
pub fn udesk(data: &[u8]) -> Outcome {
    let (endpoint, response) = answer(data);
    match endpoint % 2 {
        0 => udesk::fuzz::list(response, &source()),
        _ => udesk::fuzz::logs(response),
    }
}

/// Jijyun: the chat record answer, read as conversations or as one chat's messages.
pub fn jijyun(data: &[u8]) -> Outcome {
    let (endpoint, response) = answer(data);
    jijyun::fuzz::record(&response, &source(), endpoint % 2 == 1)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const FIXTURES: [(&str, &str); 9] = [
        (
            "megaview",
            include_str!("../../tests/api/fixtures/megaview/token.json"),
        ),
        (
            "megaview",
            include_str!("../../tests/api/fixtures/megaview/list.json"),
        ),
        (
            "megaview",
            include_str!("../../tests/api/fixtures/megaview/asr_data.json"),
        ),
        (
            "megaview",
            include_str!("../../tests/api/fixtures/megaview/transcript.json"),
        ),
        (
            "gptbots",
            include_str!("../../tests/api/fixtures/gptbots/conversations.json"),
        ),
        (
            "gptbots",
            include_str!("../../tests/api/fixtures/gptbots/messages.json"),
        ),
        (
            "udesk",
            include_str!("../../tests/api/fixtures/udesk/sessions.json"),
        ),
        (
            "udesk",
            include_str!("../../tests/api/fixtures/udesk/session_logs.json"),
        ),
        (
            "jijyun",
            include_str!("../../tests/api/fixtures/jijyun/record.json"),
        ),
    ];

    fn parse(vendor: &str, data: &[u8]) -> Outcome {
        match vendor {
            "megaview" => megaview(data),
            "gptbots" => gptbots(data),
            "udesk" => udesk(data),
            _ => jijyun(data),
        }
    }

    fn with_header(endpoint: u8, shape: u8, body: &[u8]) -> Vec<u8> {
        let mut data = vec![endpoint, shape];
        data.extend_from_slice(body);
        data
    }

    #[test]
    fn every_fixture_parses_through_its_endpoint() {
        let endpoints = [0, 1, 2, 4, 0, 1, 0, 1, 0];
        for ((vendor, body), endpoint) in FIXTURES.into_iter().zip(endpoints) {
            let outcome = parse(vendor, &with_header(endpoint, 0, body.as_bytes()));
            assert!(outcome.is_ok(), "{vendor} #{endpoint}: {outcome:?}");
        }
    }

    // Found by `arbitrary_json_never_panics`: a sentence time past the epoch range overflowed
    // when placed after the call's start.
    #[test]
    fn a_sentence_time_out_of_any_range_is_not_placed() {
        let body = br#"[{"order":0,"begin_time":1e300,"content":"x"},{"order":1,"begin_time":-5}]"#;
        assert_eq!(megaview(&with_header(4, 0, body)).ok(), Some(2));
    }

    // Found while writing the fuzz targets: `expire` near u64::MAX overflowed the refresh instant.
    #[test]
    fn a_token_expiring_at_the_end_of_time_is_capped() {
        let body = br#"{"code":0,"data":{"app_access_token":"t","expire":18446744073709551615}}"#;
        assert_eq!(megaview(&with_header(0, 0, body)).ok(), Some(1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            for vendor in ["megaview", "gptbots", "udesk", "jijyun"] {
                let _ = parse(vendor, &data);
            }
        }

        /// Fixtures with bytes overwritten, cut short or spliced: close to real answers, so
        /// the mapping code past the JSON parser is reached.
        #[test]
        fn mutated_fixtures_never_panic(
            fixture in 0..FIXTURES.len(),
            endpoint in any::<u8>(),
            shape in any::<u8>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let (vendor, body) = FIXTURES[fixture];
            let mut body = body.as_bytes().to_vec();
            for (at, byte) in edits {
                let at = at.index(body.len());
                body[at] = byte;
            }
            body.truncate(cut.index(body.len() + 1));
            let _ = parse(vendor, &with_header(endpoint, shape, &body));
        }

        /// Well-formed JSON of any shape where the vendor's answer belongs.
        #[test]
        fn arbitrary_json_never_panics(endpoint in any::<u8>(), value in json()) {
            let body = serde_json::to_vec(&value).unwrap();
            for vendor in ["megaview", "gptbots", "udesk", "jijyun"] {
                let _ = parse(vendor, &with_header(endpoint, 0, &body));
            }
        }
    }

    /// JSON values, biased to the keys and shapes vendors use.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let key = prop_oneof![
            Just("code".to_owned()),
            Just("data".to_owned()),
            Just("list".to_owned()),
            Just("conversations".to_owned()),
            Just("expire".to_owned()),
            Just("app_access_token".to_owned()),
            Just("paging".to_owned()),
            Just("Code".to_owned()),
            Just("Data".to_owned()),
            Just("has_more".to_owned()),
            Just("page_token".to_owned()),
            Just("begin_time".to_owned()),
            Just("id".to_owned()),
            Just("content".to_owned()),
            "[a-zA-Z_]{1,12}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::from),
            Just(Value::from(0)),
            Just(Value::from("2000")),
            Just(Value::from(200)),
        ];
        leaf.prop_recursive(4, 48, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(key.clone(), inner, 0..8)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }
}
