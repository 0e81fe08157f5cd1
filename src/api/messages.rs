//! `GET /conversations/{id}/messages`: one conversation's messages, paged in order.

use axum::extract::{Path, RawQuery, State};

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::error::{ApiError, Problem};
use super::json::JsonBody;
use super::params::{ConversationIdParam, IncludeParam, PageTokenParam};
use super::query::QueryParams;
use super::views::{MessagePage, MessageView};
use crate::cursor::TokenError;
use crate::domain::ConversationId;
use crate::state::AppState;
use crate::vendors::CallContext;

/// Default `page_size`.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest `page_size`.
pub const MAX_PAGE_SIZE: usize = 100;
/// Purpose tag of message page tokens.
const TOKEN_KIND: &str = "messages/v1";
const PARAMETERS: &[&str] = &["page_size", "page_token", "include"];

/// Query string of `GET /conversations/{id}/messages`. Unknown parameters are refused.
// Documents the parameters for OpenAPI; the handler reads them with `QueryParams`.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMessagesQuery {
    /// Messages per page, 1 to 100. Default 50.
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    /// `next_page_token` of the previous page of this conversation.
    page_token: Option<PageTokenParam>,
    /// `vendor_data` adds each vendor's own item.
    include: Option<IncludeParam>,
}

#[derive(Debug, Serialize, Deserialize)]
struct MessagesToken {
    /// The conversation id.
    c: String,
    /// Offset of the next message.
    o: usize,
}

/// List the messages of one conversation, in conversation order.
#[utoipa::path(
    get,
    path = "/conversations/{id}/messages",
    tag = "conversations",
    params(
        ("id" = ConversationIdParam, Path, description = "Conversation id `<source>:<native id>`, as one path segment (percent-encode `/`, `?`, `#` and `%`)."),
        ListMessagesQuery,
    ),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 400, description = "Malformed id or bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Auth is on and the bearer key is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown source or conversation", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The source is rate limited beyond the request's budget", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The source failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Not ready yet (e.g. a Megaview transcript still being made); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The source timed out", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_messages(
    State(state): State<AppState>,
    ctx: CallContext,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<JsonBody<MessagePage>, ApiError> {
    let Path(raw_id) = path.map_err(|err| ApiError::InvalidId(err.body_text()))?;
    let id: ConversationId = raw_id
        .parse()
        .map_err(|err: crate::domain::InvalidId| ApiError::InvalidId(err.0))?;
    let params = QueryParams::parse(raw.as_deref(), PARAMETERS)?;
    let page_size = params.page_size(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let include_vendor_data = params.include_vendor_data()?;
    let id_text = id.to_string();
    let offset = match params.single("page_token")? {
        Some(token) => {
            let token: MessagesToken = state
                .cursor
                .open(TOKEN_KIND, token)
                .map_err(|err| ApiError::InvalidPageToken(err.to_string()))?;
            if token.c != id_text {
                return Err(ApiError::InvalidPageToken(TokenError::Foreign.to_string()));
            }
            token.o
        }
        None => 0,
    };
    let adapter = state
        .aggregator
        .registry()
        .get(id.source())
        .cloned()
        .ok_or_else(|| ApiError::SourceNotFound(id_text.clone(), id.source().clone()))?;
    let messages = state
        .aggregator
        .list_messages(&ctx, &adapter, id.native())
        .await
        .map_err(|error| match error {
            crate::vendors::VendorError::NotFound => {
                ApiError::ConversationNotFound(id_text.clone())
            }
            error => ApiError::Upstream {
                source_name: id.source().clone(),
                vendor: adapter.vendor(),
                error,
            },
        })?;
    let end = offset.saturating_add(page_size).min(messages.len());
    let data = messages
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(n, message)| {
            MessageView::new(message, &id_text, (offset + n) as u64, include_vendor_data)
        })
        .collect();
    let next_page_token = (end < messages.len()).then(|| {
        state.cursor.seal(
            TOKEN_KIND,
            &MessagesToken {
                c: id_text.clone(),
                o: end,
            },
        )
    });
    Ok(JsonBody(MessagePage {
        data,
        next_page_token,
    }))
}
