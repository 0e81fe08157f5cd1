//! Fuzzing entry points: Jijyun answers read the way the adapter reads them.

use super::client;
use super::model::ChatMessage;
use crate::domain::SourceName;
use crate::vendors::VendorError;
use crate::vendors::http::UpstreamResponse;
use crate::vendors::wire::WithRaw;

/// A chat record answer, mapped to domain conversations (`as_messages`: to messages).
pub(in crate::vendors) fn record(
    response: &UpstreamResponse,
    source: &SourceName,
    as_messages: bool,
) -> Result<usize, VendorError> {
    if as_messages {
        let chats = client::read::<WithRaw<ChatMessage>>(response)?;
        Ok(chats
            .into_iter()
            .map(|chat| {
                let _ = chat.chat_id();
                chat.into_messages().len()
            })
            .sum())
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
