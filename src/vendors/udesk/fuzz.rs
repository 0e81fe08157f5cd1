//! Fuzzing entry points: Udesk KM answers read the way the adapter reads them.

use super::client::{self, PAGE_SIZE};
use super::model::{LogItem, Session};
use crate::domain::SourceName;
use crate::vendors::VendorError;
use crate::vendors::http::UpstreamResponse;

/// A session page, mapped to domain conversations.
pub(in crate::vendors) fn list(
    response: UpstreamResponse,
    source: &SourceName,
) -> Result<usize, VendorError> {
    let page = client::read_page::<Session>(response)?;
    let _ = page.paging.has_more(1, PAGE_SIZE, page.items.len());
    let mut count = 0;
    for item in page.items {
        item.item
            .into_domain(source, chrono_tz::Asia::Shanghai, item.raw);
        count += 1;
    }
    Ok(count)
}

/// A session log page, mapped to domain messages.
pub(in crate::vendors) fn logs(response: UpstreamResponse) -> Result<usize, VendorError> {
    let page = client::read_page::<LogItem>(response)?;
    let _ = page.paging.has_more(u32::MAX, PAGE_SIZE, page.items.len());
    let mut count = 0;
    for item in page.items {
        let _ = item.item.id();
        item.item.into_domain(chrono_tz::Asia::Shanghai, item.raw);
        count += 1;
    }
    Ok(count)
}
