//! Fuzzing entry points: Jijyun answers read the way the adapter reads them.

use super::client;
use crate::domain::SourceName;
use crate::vendors::VendorError;
use crate::vendors::http::UpstreamResponse;

/// A chat record answer, mapped to domain conversations (`as_messages`: to messages).
pub(in crate::vendors) fn record(
    response: &UpstreamResponse,
    source: &SourceName,
    as_messages: bool,
) -> Result<usize, VendorError> {
    let chats = client::read(response)?;
    let mut count = 0;
    for chat in chats {
        let _ = chat.chat_id();
        count += if as_messages {
            chat.into_messages().len()
        } else {
            chat.into_domain(source, "88001234");
            1
        };
    }
    Ok(count)
}
