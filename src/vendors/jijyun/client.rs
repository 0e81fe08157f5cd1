//! Jijyun HTTP: the record endpoint, the `apiKey` query parameter and the capitalised
//! `{Code, Data, Msg, RequestId}` envelope read into `VendorError`. Never logs a URL: the
//! key is part of it.

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;
use url::Url;

use super::model::{Chat, Envelope, RecordRequest};
use crate::vendors::http::UpstreamResponse;
use crate::vendors::wire::{AnswerText, WithRaw};
use crate::vendors::{CallContext, Upstream, VendorError};

/// `Code` of a successful answer.
const SUCCESS: &str = "2000";

/// Talks to one Jijyun account with its API key.
pub(super) struct JijyunClient {
    upstream: Upstream,
    base_url: Url,
    api_key: SecretString,
}

impl JijyunClient {
    pub(super) fn new(upstream: Upstream, base_url: Url, api_key: SecretString) -> Self {
        Self {
            upstream,
            base_url,
            api_key,
        }
    }

    /// `POST /v1/openapi/chat/record`: every chat of one contact, messages inline, each
    /// message read as `M`.
    pub(super) async fn chat_record<M: DeserializeOwned>(
        &self,
        ctx: &CallContext,
        body: &RecordRequest,
    ) -> Result<Vec<WithRaw<Chat<M>>>, VendorError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| VendorError::Transport("the base URL cannot take a path".to_owned()))?
            .pop_if_empty()
            .extend(["v1", "openapi", "chat", "record"]);
        let request = self
            .upstream
            .http()
            .post(url)
            .query(&[("apiKey", self.api_key.expose_secret())])
            .json(body);
        let response = self.upstream.send(ctx, "record", request).await?;
        read(&response)
    }
}

/// Reads an answer. HTTP statuses carry the account-level failures (401 key, 402 balance,
/// 429 throttle: ../shared/vendors/jijyun.md §4–5); `Code` carries the business ones.
pub(super) fn read<M: DeserializeOwned>(
    response: &UpstreamResponse,
) -> Result<Vec<WithRaw<Chat<M>>>, VendorError> {
    match response.status {
        StatusCode::UNAUTHORIZED => return Err(VendorError::Unauthorized),
        StatusCode::PAYMENT_REQUIRED => {
            return Err(VendorError::Rejected {
                code: "402".to_owned(),
            });
        }
        // The throttle answers with plain text ("Too Many Requests in one second").
        StatusCode::TOO_MANY_REQUESTS => {
            return Err(VendorError::RateLimited {
                retry_after: response.retry_after(),
            });
        }
        status if status.is_server_error() => return Err(response.status_error()),
        _ => {}
    }
    let (typed, text) = AnswerText::read_body::<Envelope<Vec<Chat<M>>>>(&response.body);
    let (code, chats) = match typed {
        Ok(envelope) => (envelope.code(), Ok(envelope.data.unwrap_or_default())),
        // A failure's `Data` is a reason, not chats: only then is the body read again, for
        // its `Code`.
        Err(err) => (
            serde_json::from_slice::<Envelope<IgnoredAny>>(&response.body)
                .ok()
                .and_then(|envelope| envelope.code()),
            Err(VendorError::Decode(err.to_string())),
        ),
    };
    match code.as_deref() {
        Some(SUCCESS) if response.status.is_success() => {
            let chats = chats?;
            let text =
                text.ok_or_else(|| VendorError::Decode("Jijyun's answer is not UTF-8".to_owned()))?;
            Ok(text.into_items(chats, |text| {
                let raw: Envelope<Vec<&RawValue>> = serde_json::from_str(text)?;
                Ok(raw.data.unwrap_or_default())
            }))
        }
        // 4000 is the documented business failure; any other code is refused the same way.
        Some(code) if code != SUCCESS => Err(VendorError::Rejected {
            code: code.to_owned(),
        }),
        _ if !response.status.is_success() => Err(response.status_error()),
        _ => Err(VendorError::Decode(
            "Jijyun answered without a `Code`".to_owned(),
        )),
    }
}
