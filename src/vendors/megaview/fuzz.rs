//! Fuzzing entry points: Megaview answers read the way the adapter reads them.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::{client, model};
use crate::domain::SourceName;
use crate::vendors::VendorError;
use crate::vendors::http::UpstreamResponse;

/// The token answer, down to the refresh time the client would keep.
pub(in crate::vendors) fn token(response: &UpstreamResponse) -> Result<Duration, VendorError> {
    let (_, lifetime) = client::read_token(response)?;
    let now = Instant::now();
    let _ = (now + client::refresh_after(lifetime), now + lifetime);
    Ok(lifetime)
}

/// A conversation list page, mapped to domain conversations.
pub(in crate::vendors) fn list(
    response: &UpstreamResponse,
    source: &SourceName,
) -> Result<usize, VendorError> {
    let (page, text): (model::ListData, _) = client::decode(response)?;
    page.next_cursor()?;
    let mut count = 0;
    for item in page.into_items(text) {
        model::conversation_into_domain(item, source, chrono_tz::Asia::Shanghai)?;
        count += 1;
    }
    Ok(count)
}

/// The `asr_data` answer and the transcript URL it names.
pub(in crate::vendors) fn asr_data(response: &UpstreamResponse) -> Result<(), VendorError> {
    let (asr, _): (model::AsrData, _) = client::decode(response)?;
    if let Some(raw) = asr.asr_file_url.as_deref().map(str::trim) {
        let _ = url::Url::parse(raw);
    }
    Ok(())
}

/// A transcript file, mapped to domain messages, with sentence offsets placed after a call
/// start (so offset arithmetic is exercised too).
pub(in crate::vendors) fn transcript(response: &UpstreamResponse) -> Result<usize, VendorError> {
    let sentences: Vec<Box<serde_json::value::RawValue>> = response.json()?;
    let call_start = chrono::DateTime::from_timestamp(1_700_000_000, 0);
    Ok(model::transcript_into_messages(sentences, call_start)?.len())
}

/// A single-conversation answer, read for the call's start.
pub(in crate::vendors) fn conversation(response: &UpstreamResponse) -> Result<(), VendorError> {
    let (detail, _): (Value, _) = client::decode(response)?;
    let _ = model::call_start(&detail, chrono_tz::Asia::Shanghai);
    Ok(())
}
