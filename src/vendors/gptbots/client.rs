//! GPTBots HTTP: endpoint URLs, the bearer key, and `{code, message}` failures read into
//! `VendorError`. Knows nothing about the gateway's domain.

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use url::Url;

use super::model::{ConversationPage, MessagePage};
use crate::vendors::http::UpstreamResponse;
use crate::vendors::wire::{AnswerText, Scalar};
use crate::vendors::{CallContext, Upstream, VendorError};

/// Largest page both list endpoints serve.
pub(super) const PAGE_SIZE: u32 = 100;
/// The vendor's code for "page beyond the available data".
pub(super) const BEYOND_DATA: &str = "40005";

/// One call of the conversation list.
pub(super) struct ListParams<'a> {
    /// `conversation_type`, e.g. `ALL`.
    pub(super) conversation_type: &'a str,
    /// `start_time`: earliest last-chat time, epoch ms (inclusive).
    pub(super) start_ms: i64,
    /// `end_time`: latest last-chat time, epoch ms (inclusive).
    pub(super) end_ms: i64,
    /// `page`, from 1.
    pub(super) page: u32,
    /// `user_id` filter.
    pub(super) user_id: Option<&'a str>,
}

/// Talks to one GPTBots agent with its API key.
pub(super) struct GptbotsClient {
    upstream: Upstream,
    base_url: Url,
    api_key: SecretString,
}

impl GptbotsClient {
    pub(super) fn new(upstream: Upstream, base_url: Url, api_key: SecretString) -> Self {
        Self {
            upstream: upstream.with_throttle_signal(is_throttle),
            base_url,
            api_key,
        }
    }

    /// One page of `GET /v1/bot/conversation/page`; `None` when the vendor says the page is
    /// beyond its data.
    pub(super) async fn conversation_page(
        &self,
        ctx: &CallContext,
        params: &ListParams<'_>,
    ) -> Result<Option<(ConversationPage, AnswerText)>, VendorError> {
        let mut query = vec![
            ("conversation_type", params.conversation_type.to_owned()),
            ("start_time", params.start_ms.to_string()),
            ("end_time", params.end_ms.to_string()),
            ("page", params.page.to_string()),
            ("page_size", PAGE_SIZE.to_string()),
        ];
        if let Some(user_id) = params.user_id {
            query.push(("user_id", user_id.to_owned()));
        }
        self.get(ctx, "list", &["v1", "bot", "conversation", "page"], &query)
            .await
    }

    /// One page of `GET /v2/messages`; `None` when the vendor says the page is beyond its
    /// data.
    pub(super) async fn message_page(
        &self,
        ctx: &CallContext,
        conversation_id: &str,
        page: u32,
    ) -> Result<Option<(MessagePage, AnswerText)>, VendorError> {
        let query = [
            ("conversation_id", conversation_id.to_owned()),
            ("page", page.to_string()),
            ("page_size", PAGE_SIZE.to_string()),
        ];
        self.get(ctx, "messages", &["v2", "messages"], &query).await
    }

    async fn get<T: Answer>(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Option<(T, AnswerText)>, VendorError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| VendorError::Transport("the base URL cannot take a path".to_owned()))?
            .pop_if_empty()
            .extend(segments);
        let request = self
            .upstream
            .http()
            .get(url)
            .bearer_auth(self.api_key.expose_secret())
            .query(query);
        let response = self.upstream.send(ctx, endpoint, request).await?;
        read(&response)
    }
}

/// Reads an answer in one pass: the bare payload on success, `{code, message}` on failure,
/// with the answer's text for the payload's items.
/// The failure body may come with HTTP 200 or an error status
/// (../shared/vendors/gptbots.md §5); every payload type reads `code` beside its own fields.
pub(super) fn read<T: Answer>(
    response: &UpstreamResponse,
) -> Result<Option<(T, AnswerText)>, VendorError> {
    let (answer, text) = AnswerText::read_body::<T>(&response.body);
    let code = match &answer {
        Ok(answer) => answer.failure_code(),
        // Only a body that is not the payload pays for a second look at its `code`.
        _ => failure_code(&response.body),
    };
    if let Some(code) = code {
        return if code == BEYOND_DATA {
            Ok(None)
        } else {
            Err(code_error(code, response))
        };
    }
    if !response.status.is_success() {
        return Err(response.status_error());
    }
    match (answer, text) {
        (Ok(answer), Some(text)) => Ok(Some((answer, text))),
        (Err(err), _) if serde_json::from_slice::<IgnoredAny>(&response.body).is_ok() => {
            Err(VendorError::Decode(err.to_string()))
        }
        _ => Err(VendorError::Decode(
            "GPTBots sent a non-JSON body".to_owned(),
        )),
    }
}

/// A payload GPTBots answers with, read together with the `code` of a failure body.
pub(super) trait Answer: DeserializeOwned {
    /// The `code` the body carried, if any.
    fn code(&self) -> Option<&Scalar>;

    /// The `code` of a failure body. Success bodies carry no `code` (0 is read as success).
    fn failure_code(&self) -> Option<String> {
        self.code().and_then(as_failure)
    }
}

/// Largest body probed for a throttle `code` before the adapter reads it. A failure body
/// is `{code, message}`; scanning every page for one would cost a parse of each.
const MAX_FAILURE_BODY: usize = 4096;

/// GPTBots throttles with HTTP 429, or with its failure body's `code` 429 on any status.
/// (A larger body with `code` 429 is still refused as throttled when the adapter reads it.)
fn is_throttle(response: &UpstreamResponse) -> bool {
    response.status == StatusCode::TOO_MANY_REQUESTS
        || (response.body.len() <= MAX_FAILURE_BODY
            && failure_code(&response.body).is_some_and(|code| code == "429"))
}

/// The one field read before knowing what an answer is; every other field is skipped.
#[derive(Deserialize)]
struct FailureProbe {
    #[serde(default)]
    code: Option<Scalar>,
}

/// The `code` of a failure body. Success bodies carry no `code` (0 is read as success too).
fn failure_code(body: &[u8]) -> Option<String> {
    as_failure(&serde_json::from_slice::<FailureProbe>(body).ok()?.code?)
}

/// A `code` as the failure it names: a number or a string, other than empty or 0.
fn as_failure(code: &Scalar) -> Option<String> {
    code.as_text()
        .filter(|code| !code.is_empty() && code != "0")
}

fn code_error(code: String, response: &UpstreamResponse) -> VendorError {
    match code.as_str() {
        "40127" => VendorError::Unauthorized,
        "40356" => VendorError::NotFound,
        "429" => VendorError::RateLimited {
            retry_after: response.retry_after(),
        },
        // Bad parameter, agent deleted (two codes), no credits left, API use forbidden.
        "40000" | "20059" | "40378" | "40379" | "20055" => VendorError::Rejected { code },
        // A code we do not know: a failing server or a refusal of our key says more.
        _ if response.status.is_server_error()
            || matches!(
                response.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
            ) =>
        {
            response.status_error()
        }
        _ => VendorError::Rejected { code },
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    use super::{failure_code, is_throttle, read};
    use crate::vendors::VendorError;
    use crate::vendors::gptbots::model::ConversationPage;
    use crate::vendors::http::UpstreamResponse;

    fn answer(status: StatusCode, body: String) -> UpstreamResponse {
        UpstreamResponse::new(status, HeaderMap::new(), Bytes::from(body))
    }

    #[test]
    fn a_failure_code_is_read_in_the_same_pass_as_the_page_whatever_else_the_body_holds() {
        let padding = "x".repeat(8192);
        for (body, expected) in [
            (
                r#"{"code": 40127, "message": "bad key"}"#.to_owned(),
                "Unauthorized",
            ),
            (
                format!(r#"{{"list": [], "code": "429", "pad": "{padding}"}}"#),
                "RateLimited",
            ),
            (r#"{"list": 5, "code": 40356}"#.to_owned(), "NotFound"),
        ] {
            let err = read::<ConversationPage>(&answer(StatusCode::OK, body)).unwrap_err();
            assert!(format!("{err:?}").starts_with(expected), "{err:?}");
        }
        let beyond = answer(StatusCode::OK, r#"{"code": 40005}"#.to_owned());
        assert!(read::<ConversationPage>(&beyond).unwrap().is_none());
        let wrong = answer(StatusCode::OK, r#"{"list": 5}"#.to_owned());
        assert!(matches!(
            read::<ConversationPage>(&wrong),
            Err(VendorError::Decode(_))
        ));
    }

    #[test]
    fn only_a_body_the_size_of_a_failure_is_probed_for_a_throttle_code() {
        let small = answer(
            StatusCode::OK,
            r#"{"code": 429, "message": "slow down"}"#.to_owned(),
        );
        assert!(is_throttle(&small));
        let page = format!(
            r#"{{"list": [], "code": 429, "pad": "{}"}}"#,
            "x".repeat(8192)
        );
        assert!(!is_throttle(&answer(StatusCode::OK, page)));
        assert!(is_throttle(&answer(
            StatusCode::TOO_MANY_REQUESTS,
            String::new()
        )));
    }

    #[test]
    fn reads_a_failure_code_written_as_a_number_or_a_string() {
        assert_eq!(
            failure_code(br#"{"code": 40005}"#).as_deref(),
            Some("40005")
        );
        assert_eq!(
            failure_code(br#"{"code": " 429 "}"#).as_deref(),
            Some("429")
        );
        assert_eq!(
            failure_code(br#"{"message": "x", "code": 40127, "data": [1, {"code": 1}]}"#)
                .as_deref(),
            Some("40127")
        );
    }

    #[test]
    fn sees_no_failure_in_success_bodies() {
        for body in [
            &br#"{"conversation": [{"code": 5}], "total": 1}"#[..],
            br#"{"code": 0}"#,
            br#"{"code": "0"}"#,
            br#"{"code": ""}"#,
            br#"{"code": null}"#,
            br#"{"code": {"nested": 1}}"#,
            br#"[{"code": 40005}]"#,
            b"not json",
        ] {
            assert_eq!(
                failure_code(body),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
