//! Fuzzing entry points: Jijyun answers read the way the adapter reads them.

use serde::de::IgnoredAny;

use super::client;
use super::model::ChatMessage;
use crate::domain::SourceName;
use crate::vendors::VendorError;
use crate::vendors::http::UpstreamResponse;

/// A chat record answer, mapped to domain conversations (`as_messages`: to messages).
pub(in crate::vendors) fn record(
    response: &UpstreamResponse,
    source: &SourceName,
    as_messages: bool,
) -> Result<usize, VendorError> {
    if as_messages {
        let mut count = 0;
        for chat in client::read::<IgnoredAny>(response)? {
            let _ = chat.chat_id();
            count += chat.into_messages()?.len();
        }
        Ok(count)
    } else {
        let chats = client::read::<ChatMessage>(response)?;
        let count = chats.len();
        for chat in chats {
            let _ = chat.chat_id();
            chat.into_domain(source, "88001234");
        }
        Ok(count)
    }
}
