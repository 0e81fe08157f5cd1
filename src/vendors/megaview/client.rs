//! Megaview's HTTP side: URLs, the cached app token, sending through `Upstream`, and reading
//! the `{code, msg, data}` envelope into `VendorError`. Knows nothing of domain types.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::config::MegaviewSettings;
use super::model::{AsrData, Envelope, ListData, ListRequest, TokenData};
use crate::vendors::http::UpstreamResponse;
use crate::vendors::wire::{AnswerText, parse_raw};
use crate::vendors::{CallContext, Upstream, VendorError};

const TOKEN_PATH: &[&str] = &["openapi", "auth", "v1", "app_access_token", "internal"];
const LIST_PATH: &[&str] = &["openapi", "conversation", "v1", "conversations", "list"];
const CONVERSATIONS_PATH: &[&str] = &["openapi", "conversation", "v1", "conversations"];
const ASR_SEGMENT: &str = "asr_data";

/// A token is refreshed this long before it lapses (or at half-life, if it lives shorter).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// When to ask again for a transcript still being made; Megaview gives no hint.
pub(super) const TRANSCRIPT_RETRY: Duration = Duration::from_secs(30);

/// HTTP 400: the conversation does not exist.
const CONVERSATION_MISSING: i64 = 401_200;
/// HTTP 400: an origin id that maps to no Megaview conversation.
const ORIGIN_ID_UNMAPPED: i64 = 401_215;
/// HTTP 500: the transcript is not finished yet; retryable.
const TRANSCRIPT_UNFINISHED: i64 = 501_200;

/// Talks to one Megaview app: every call takes a permit through [`Upstream::send`].
pub(super) struct MegaviewClient {
    upstream: Upstream,
    base_url: Url,
    settings: MegaviewSettings,
    token: TokenCache,
}

/// The app token, shared by every call of the source; refreshed by one call at a time.
#[derive(Default)]
struct TokenCache {
    state: Mutex<TokenState>,
    /// Token fetches finished so far; read before waiting for the lock to learn whether
    /// another call fetched meanwhile.
    fetches: AtomicU64,
}

#[derive(Default)]
struct TokenState {
    current: Option<CachedToken>,
    /// How the latest fetch went: `None` when it succeeded.
    last_failure: Option<VendorError>,
    next_id: u64,
}

struct CachedToken {
    token: Token,
    refresh_at: Instant,
    expires_at: Instant,
}

/// A bearer token and which fetch produced it.
#[derive(Clone)]
struct Token {
    id: u64,
    value: SecretString,
}

impl MegaviewClient {
    pub(super) fn new(base_url: Url, settings: MegaviewSettings, upstream: Upstream) -> Self {
        Self {
            upstream,
            base_url,
            settings,
            token: TokenCache::default(),
        }
    }

    /// One page of `POST /openapi/conversation/v1/conversations/list`.
    pub(super) async fn list_conversations(
        &self,
        ctx: &CallContext,
        body: &ListRequest<'_>,
    ) -> Result<(ListData, AnswerText), VendorError> {
        let url = self.url(LIST_PATH);
        self.call_keeping_text(ctx, "list", |http| http.post(url.clone()).json(body))
            .await
    }

    /// `GET /openapi/conversation/v1/conversations/{id}/asr_data`: where the transcript is.
    pub(super) async fn asr_data(
        &self,
        ctx: &CallContext,
        conversation_id: i64,
    ) -> Result<AsrData, VendorError> {
        let id = conversation_id.to_string();
        let mut url = self.url(CONVERSATIONS_PATH);
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend([id.as_str(), ASR_SEGMENT]);
        }
        self.call(ctx, "messages", |http| {
            // The ASR page lists this header for the GET as well.
            http.get(url.clone())
                .header(CONTENT_TYPE, "application/json")
        })
        .await
    }

    /// `GET /openapi/conversation/v1/conversations/{id}`: one conversation's `data`.
    pub(super) async fn conversation(
        &self,
        ctx: &CallContext,
        conversation_id: i64,
    ) -> Result<Value, VendorError> {
        let id = conversation_id.to_string();
        let mut url = self.url(CONVERSATIONS_PATH);
        if let Ok(mut path) = url.path_segments_mut() {
            path.push(&id);
        }
        self.call(ctx, "conversation", |http| http.get(url.clone()))
            .await
    }

    /// Downloads a transcript file. `Upstream::download` sends no credentials: the file
    /// host is object storage, not Megaview's API, and must never see the bearer token. It
    /// reaches private addresses only for hosts in `transcript_hosts`, and answers every
    /// failure (a 403 from object storage included) with one `FileUnavailable`.
    pub(super) async fn download_transcript(
        &self,
        ctx: &CallContext,
        url: Url,
    ) -> Result<Vec<Box<RawValue>>, VendorError> {
        let response = self
            .upstream
            .download(ctx, "transcript", url, &self.settings.transcript_hosts)
            .await?;
        response.json()
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        // The base URL is checked to be http(s) at start, so it always has segments.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends an authenticated call and reads its envelope's `data`.
    async fn call<T: DeserializeOwned>(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T, VendorError> {
        let (data, _) = self.call_keeping_text(ctx, endpoint, build).await?;
        Ok(data)
    }

    /// Sends an authenticated call and reads its envelope's `data`, with the answer's
    /// text for the items read from it. A token the vendor refuses is replaced once and
    /// the call sent once more.
    async fn call_keeping_text<T: DeserializeOwned>(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<(T, AnswerText), VendorError> {
        let token = self.token(ctx).await?;
        // The first answer is dropped before the token is fetched again, so one call never
        // holds two answers' bytes of the in-flight budget.
        match read_envelope(&self.send_with(ctx, endpoint, &build, &token).await?) {
            Err(failure) if failure.token_refused => {}
            outcome => return outcome.map_err(|failure| failure.error),
        }
        self.invalidate(ctx, token.id).await?;
        let token = self.token(ctx).await?;
        let response = self.send_with(ctx, endpoint, &build, &token).await?;
        match read_envelope(&response) {
            Err(failure) if failure.token_refused => Err(VendorError::Unauthorized),
            outcome => outcome.map_err(|failure| failure.error),
        }
    }

    async fn send_with(
        &self,
        ctx: &CallContext,
        endpoint: &'static str,
        build: &impl Fn(&reqwest::Client) -> RequestBuilder,
        token: &Token,
    ) -> Result<UpstreamResponse, VendorError> {
        let request = build(self.upstream.http()).bearer_auth(token.value.expose_secret());
        self.upstream.send(ctx, endpoint, request).await
    }

    /// The cached token, or a new one. One fetch at a time: calls that waited for a fetch
    /// share its outcome instead of starting their own.
    async fn token(&self, ctx: &CallContext) -> Result<Token, VendorError> {
        let seen = self.token.fetches.load(Ordering::Acquire);
        let mut state = tokio::time::timeout_at(ctx.deadline, self.token.state.lock())
            .await
            .map_err(|_| VendorError::Timeout)?;
        let now = Instant::now();
        if let Some(cached) = state.current.as_ref().filter(|t| now < t.refresh_at) {
            return Ok(cached.token.clone());
        }
        if self.token.fetches.load(Ordering::Acquire) != seen {
            match (&state.current, &state.last_failure) {
                // Fresh from the fetch this call waited for, whatever its lifetime.
                (Some(cached), None) => return Ok(cached.token.clone()),
                (Some(cached), Some(_)) if now < cached.expires_at => {
                    return Ok(cached.token.clone());
                }
                (_, Some(failure)) => return Err(failure.clone()),
                (None, None) => {}
            }
        }
        let outcome = self.fetch_token(ctx).await;
        self.token.fetches.fetch_add(1, Ordering::Release);
        let now = Instant::now();
        match outcome {
            Ok((value, lifetime)) => {
                let token = Token {
                    id: state.next_id,
                    value,
                };
                state.next_id += 1;
                state.last_failure = None;
                state.current = Some(CachedToken {
                    token: token.clone(),
                    refresh_at: now + refresh_after(lifetime),
                    expires_at: now + lifetime,
                });
                tracing::debug!(
                    source = %self.upstream.source(),
                    lifetime_s = lifetime.as_secs(),
                    "Fetched a Megaview app token."
                );
                Ok(token)
            }
            Err(err) => {
                state.last_failure = Some(err.clone());
                // A token inside its refresh margin still works: keep using it meanwhile.
                match state.current.as_ref().filter(|t| now < t.expires_at) {
                    Some(cached) => Ok(cached.token.clone()),
                    None => Err(err),
                }
            }
        }
    }

    /// Forgets token `id` after the vendor refused it (unless a newer one replaced it).
    async fn invalidate(&self, ctx: &CallContext, id: u64) -> Result<(), VendorError> {
        let mut state = tokio::time::timeout_at(ctx.deadline, self.token.state.lock())
            .await
            .map_err(|_| VendorError::Timeout)?;
        if state.current.as_ref().is_some_and(|t| t.token.id == id) {
            state.current = None;
        }
        Ok(())
    }

    /// `POST /openapi/auth/v1/app_access_token/internal`. Its errors never quote the answer:
    /// it may hold a token.
    async fn fetch_token(
        &self,
        ctx: &CallContext,
    ) -> Result<(SecretString, Duration), VendorError> {
        let body = serde_json::json!({
            "app_key": self.settings.app_key.expose_secret(),
            "app_secret": self.settings.app_secret.expose_secret(),
        });
        let request = self.upstream.http().post(self.url(TOKEN_PATH)).json(&body);
        drop(body);
        let response = self.upstream.send(ctx, "token", request).await?;
        read_token(&response)
    }
}

/// Longest token lifetime believed. A larger `expire` is read as this much, so the refresh
/// time always fits the clock.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// Reads the token endpoint's answer: the token and its lifetime. Its errors never quote the
/// answer: it may hold a token.
pub(super) fn read_token(
    response: &UpstreamResponse,
) -> Result<(SecretString, Duration), VendorError> {
    match response.status {
        StatusCode::TOO_MANY_REQUESTS => {
            return Err(VendorError::RateLimited {
                retry_after: response.retry_after(),
            });
        }
        status if status.is_server_error() => return Err(VendorError::Status(status.as_u16())),
        // A redirect or other unexpected status says nothing about the app's credentials
        // (redirects are never followed).
        status if !status.is_success() && !status.is_client_error() => {
            return Err(VendorError::Status(status.as_u16()));
        }
        _ => {}
    }
    let unreadable =
        || VendorError::Decode("token answer is not the documented envelope".to_owned());
    let envelope: Envelope = serde_json::from_slice(&response.body).map_err(|_| unreadable())?;
    if envelope.code != Some(0) || !response.status.is_success() {
        // The token endpoint only fails for bad app credentials or a disabled app.
        return Err(VendorError::Unauthorized);
    }
    let data: TokenData = envelope
        .data
        .and_then(|data| parse_raw(&data).ok())
        .ok_or_else(unreadable)?;
    if data.app_access_token.is_empty() {
        return Err(unreadable());
    }
    // Without `expire` the token is used for this call only, rather than guessing a
    // lifetime (`../shared/vendors/megaview.md` §2: honour `expire`).
    let lifetime = Duration::from_secs(data.expire.unwrap_or(0)).min(MAX_TOKEN_LIFETIME);
    Ok((SecretString::from(data.app_access_token), lifetime))
}

/// When to refresh a token living `lifetime`: five minutes early, or at half-life.
pub(super) fn refresh_after(lifetime: Duration) -> Duration {
    if lifetime >= REFRESH_MARGIN * 2 {
        lifetime - REFRESH_MARGIN
    } else {
        lifetime / 2
    }
}

/// A business call that failed, and whether it was the bearer token the vendor refused.
pub(super) struct Failure {
    error: VendorError,
    token_refused: bool,
}

impl From<VendorError> for Failure {
    fn from(error: VendorError) -> Self {
        Self {
            error,
            token_refused: false,
        }
    }
}

/// Reads a business call's answer in one pass: `data` as a `T` on `code == 0`, with the
/// answer's text; the mapped error otherwise.
pub(super) fn read_envelope<T: DeserializeOwned>(
    response: &UpstreamResponse,
) -> Result<(T, AnswerText), Failure> {
    let status = response.status;
    match status {
        StatusCode::TOO_MANY_REQUESTS => {
            return Err(VendorError::RateLimited {
                retry_after: response.retry_after(),
            }
            .into());
        }
        StatusCode::UNAUTHORIZED => {
            return Err(Failure {
                error: VendorError::Unauthorized,
                token_refused: true,
            });
        }
        _ => {}
    }
    let (typed, text) = AnswerText::read_body::<Envelope<T>>(&response.body);
    let (code, msg, data) = match typed {
        Ok(envelope) => (envelope.code, envelope.msg, Ok(envelope.data)),
        // Only a body whose `data` is not a `T` pays for a second look at its code.
        Err(err) => match serde_json::from_slice::<Envelope<IgnoredAny>>(&response.body) {
            Ok(envelope) => (envelope.code, envelope.msg, Err(err)),
            Err(_) => (None, None, Err(err)),
        },
    };
    match code {
        Some(0) if status.is_success() => match (data, text) {
            (Ok(Some(data)), Some(text)) => Ok((data, text)),
            (Ok(Some(_)), None) => {
                Err(VendorError::Decode("answer is not UTF-8".to_owned()).into())
            }
            (Ok(None), _) => Err(VendorError::Decode("envelope without data".to_owned()).into()),
            (Err(err), _) => Err(VendorError::Decode(err.to_string()).into()),
        },
        Some(code) if code != 0 => Err(Failure {
            error: code_error(code, response),
            token_refused: names_the_access_token(msg.as_deref().unwrap_or_default()),
        }),
        _ if status.is_success() => {
            Err(VendorError::Decode("answer is not the documented envelope".to_owned()).into())
        }
        _ => Err(response.status_error().into()),
    }
}

/// Megaview's code for an expired or invalid token is unknown
/// (`../shared/vendors/megaview.md` §2), so a failure whose message names the access token
/// is read as one, like HTTP 401.
fn names_the_access_token(msg: &str) -> bool {
    let msg = msg.to_ascii_lowercase();
    msg.contains("token") && !msg.contains("page_token") && !msg.contains("page token")
}

/// A business call's `data` as a `T`, or its error.
pub(super) fn decode<T: DeserializeOwned>(
    response: &UpstreamResponse,
) -> Result<(T, AnswerText), VendorError> {
    read_envelope(response).map_err(|failure| failure.error)
}

/// The meaning of a business code (seed 000 and the ASR page's code tables).
fn code_error(code: i64, response: &UpstreamResponse) -> VendorError {
    match code {
        CONVERSATION_MISSING | ORIGIN_ID_UNMAPPED => VendorError::NotFound,
        TRANSCRIPT_UNFINISHED => VendorError::NotReady {
            what: "the transcript",
            retry_after: response.retry_after().or(Some(TRANSCRIPT_RETRY)),
        },
        _ => match response.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
                response.status_error()
            }
            status if status.is_server_error() => VendorError::Status(status.as_u16()),
            // 401201 deal, 400164 user, 401206 time format, and any code we do not know.
            _ => VendorError::Rejected {
                code: code.to_string(),
            },
        },
    }
}
