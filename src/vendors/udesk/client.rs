//! Udesk KM HTTP: URLs, the signed query of every call, and the envelope read into errors.

use chrono::Utc;
use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use url::Url;

use super::config::SignAlgorithm;
use super::model::{Envelope, LogItem, Paging, Session, SessionQuery};
use crate::vendors::http::UpstreamResponse;
use crate::vendors::wire::{AnswerText, WithRaw};
use crate::vendors::{CallContext, Upstream, VendorError};

/// Largest page KM serves: `pageSize` must be below 100.
pub(super) const PAGE_SIZE: u32 = 99;
/// The envelope `code` for an unknown resource (as its HTTP status would be).
const NOT_FOUND_CODE: i64 = 404;
/// The envelope `code` of a successful answer.
const SUCCESS_CODE: i64 = 200;

/// One page of a KM list: its items and its paging block.
#[derive(Debug)]
pub(super) struct Page<T> {
    /// The items, each with its text as the vendor sent it.
    pub(super) items: Vec<WithRaw<T>>,
    /// Page size and total (empty when the vendor sent none).
    pub(super) paging: Paging,
}

/// Knows the KM base URL and how to sign a call. Knows nothing about domain types.
pub(super) struct UdeskClient {
    upstream: Upstream,
    base_url: Url,
    email: String,
    api_token: SecretString,
    algorithm: SignAlgorithm,
}

impl UdeskClient {
    /// A client for one KM account.
    pub(super) fn new(
        upstream: Upstream,
        base_url: Url,
        email: String,
        api_token: SecretString,
        algorithm: SignAlgorithm,
    ) -> Self {
        Self {
            upstream,
            base_url,
            email,
            api_token,
            algorithm,
        }
    }

    /// `POST /api/v1/sessions`: one page of the robot's sessions.
    pub(super) async fn list_sessions(
        &self,
        ctx: &CallContext,
        query: &SessionQuery,
    ) -> Result<Page<Session>, VendorError> {
        let url = self.url(&["api", "v1", "sessions"])?;
        let request = self
            .upstream
            .http()
            .post(url)
            .query(&self.auth_query())
            .header(ACCEPT, "application/json")
            .json(query);
        read_page(self.upstream.send(ctx, "list", request).await?)
    }

    /// `GET /api/v1/sessions/{id}/logs`: one page of a session's messages.
    pub(super) async fn session_logs(
        &self,
        ctx: &CallContext,
        session_id: &str,
        page_num: u32,
    ) -> Result<Page<LogItem>, VendorError> {
        let url = self.url(&["api", "v1", "sessions", session_id, "logs"])?;
        let request = self
            .upstream
            .http()
            .get(url)
            .query(&[("pageNum", page_num), ("pageSize", PAGE_SIZE)])
            .query(&self.auth_query())
            .header(ACCEPT, "application/json");
        read_page(self.upstream.send(ctx, "messages", request).await?)
    }

    /// `segments` appended to the base URL (keeping any path prefix), each percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url, VendorError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| VendorError::Transport("the base URL cannot take a path".to_owned()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// `email`, `timestamp` and `sign`, made afresh for every call: KM refuses a timestamp
    /// older than five minutes (../shared/vendors/udesk.md §1).
    fn auth_query(&self) -> [(&'static str, String); 3] {
        let timestamp = Utc::now().timestamp();
        let sign = sign(
            &self.email,
            self.api_token.expose_secret(),
            timestamp,
            self.algorithm,
        );
        [
            ("email", self.email.clone()),
            ("timestamp", timestamp.to_string()),
            ("sign", sign),
        ]
    }
}

/// The request signature: lower-case hex of `SHA1("{email}&{api_token}&{timestamp}")`, or
/// of SHA-256 for tenants configured with it.
pub(super) fn sign(
    email: &str,
    api_token: &str,
    timestamp: i64,
    algorithm: SignAlgorithm,
) -> String {
    let plain = format!("{email}&{api_token}&{timestamp}");
    match algorithm {
        SignAlgorithm::Sha1 => hex::encode(Sha1::digest(plain.as_bytes())),
        SignAlgorithm::Sha256 => hex::encode(Sha256::digest(plain.as_bytes())),
    }
}

/// Reads an answer: non-2xx by its status, then the envelope, whose `code` must be 200.
/// The items are read typed in the same pass as the envelope; each keeps the answer's text
/// for its `vendor_data`.
pub(super) fn read_page<T: DeserializeOwned>(
    response: UpstreamResponse,
) -> Result<Page<T>, VendorError> {
    if !response.status.is_success() {
        return Err(response.status_error());
    }
    let (typed, text) = AnswerText::read_body::<Envelope<Vec<T>>>(&response.body);
    let (code, paging, items) = match typed {
        Ok(envelope) => (envelope.code, envelope.paging, Ok(envelope.data)),
        // Only a body whose `data` is not a list of `T` pays for a second look at its code.
        Err(err) => {
            let envelope = response.json::<Envelope<IgnoredAny>>()?;
            (envelope.code, envelope.paging, Err(err))
        }
    };
    // KM's envelope mirrors REST codes: a body `code` 404 on HTTP 200 is "not found" too.
    if code == NOT_FOUND_CODE {
        return Err(VendorError::NotFound);
    }
    if code != SUCCESS_CODE {
        return Err(VendorError::Rejected {
            code: code.to_string(),
        });
    }
    let (items, text) = match (items, text) {
        (Ok(items), Some(text)) => (items.unwrap_or_default(), text),
        (Err(err), _) if response.json::<Envelope<Vec<IgnoredAny>>>().is_ok() => {
            return Err(VendorError::Decode(format!("list item: {err}")));
        }
        _ => return Err(VendorError::Decode("`data` is not a list".to_owned())),
    };
    Ok(Page {
        items: text.into_items(items, |text| {
            let raw: Envelope<Vec<&RawValue>> = serde_json::from_str(text)?;
            Ok(raw.data.unwrap_or_default())
        }),
        paging: paging.unwrap_or_default(),
    })
}
