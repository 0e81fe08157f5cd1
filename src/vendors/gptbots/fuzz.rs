//! Fuzzing entry points: GPTBots answers read the way the adapter reads them.

use super::{client, model};
use crate::domain::SourceName;
use crate::vendors::VendorError;
use crate::vendors::http::UpstreamResponse;

/// A conversation page, mapped to domain conversations.
pub(in crate::vendors) fn list(
    response: &UpstreamResponse,
    source: &SourceName,
) -> Result<usize, VendorError> {
    let Some((page, text)) = client::read::<model::ConversationPage>(response)? else {
        return Ok(0);
    };
    let conversations: Vec<_> = page
        .into_items(text)
        .into_iter()
        .map(|item| item.into_domain(source))
        .collect();
    Ok(conversations.len())
}

/// A message page, mapped to domain messages.
pub(in crate::vendors) fn messages(response: &UpstreamResponse) -> Result<usize, VendorError> {
    let Some((page, text)) = client::read::<model::MessagePage>(response)? else {
        return Ok(0);
    };
    let _ = page.total();
    Ok(model::into_messages(page.into_items(text)).len())
}
