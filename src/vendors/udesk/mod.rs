//! Udesk KM robot: sessions become conversations and session logs messages (mapping only).

mod client;
pub(super) mod config;
#[doc(hidden)]
pub(super) mod fuzz;
mod model;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use async_trait::async_trait;
use chrono_tz::Tz;

use self::config::UdeskSettings;
use crate::domain::{Message, SourceName, VendorKind};
use crate::vendors::time::{SPACE_FORMAT, format_local};
use crate::vendors::wire::WithRaw;
use crate::vendors::{
    CallContext, ConversationBatch, ConversationQuery, MAX_MESSAGE_PAGES, Slicing, SourceConfig,
    Upstream, VendorAdapter, VendorError, canonical_integer_id,
};

use client::{PAGE_SIZE, UdeskClient};
use model::{KEYWORDS_SOURCE_CUSTOMER_ID, SessionQuery};

/// Longest `startTime`..`endTime` span KM accepts (JP doc, ../shared/vendors/udesk.md §2).
const MAX_WINDOW_DAYS: i64 = 365;
/// `sortFlag` 0: newest first.
const SORT_NEWEST_FIRST: u8 = 0;

/// A Udesk KM source: one admin account and one robot.
pub(super) struct UdeskAdapter {
    source: SourceName,
    robot_id: i64,
    timezone: Tz,
    client: UdeskClient,
}

impl UdeskAdapter {
    /// Builds the adapter of `source`.
    pub(super) fn new(source: &SourceConfig, settings: UdeskSettings, upstream: Upstream) -> Self {
        Self {
            source: source.name.clone(),
            robot_id: settings.robot_id,
            timezone: source.timezone,
            client: UdeskClient::new(
                upstream,
                source.base_url.clone(),
                settings.email,
                settings.api_token,
                settings.sign_algorithm,
            ),
        }
    }
}

#[async_trait]
impl VendorAdapter for UdeskAdapter {
    fn source(&self) -> &SourceName {
        &self.source
    }

    fn vendor(&self) -> VendorKind {
        VendorKind::Udesk
    }

    /// KM filters sessions by start time, which every session carries.
    fn slicing(&self) -> Option<Slicing> {
        Some(Slicing {
            max_window: Some(chrono::Duration::days(MAX_WINDOW_DAYS)),
            page_capacity: PAGE_SIZE as usize,
        })
    }

    fn unsupported(&self, query: &ConversationQuery) -> Option<String> {
        query.agent_id.as_ref().map(|_| {
            "Udesk KM robot sessions carry no agent id, so they cannot be filtered by agent"
                .to_owned()
        })
    }

    async fn list_conversations(
        &self,
        ctx: &CallContext,
        query: &ConversationQuery,
        cursor: Option<&str>,
    ) -> Result<ConversationBatch, VendorError> {
        let page_num = page_number(cursor)?;
        // KM takes whole seconds. Flooring both ends covers `[since, until)` whether KM
        // reads `endTime` as inclusive or not; the gateway drops the extra second.
        let request = SessionQuery {
            robot_id: self.robot_id,
            start_time: format_local(query.since, self.timezone, SPACE_FORMAT),
            end_time: format_local(query.until, self.timezone, SPACE_FORMAT),
            page_num,
            page_size: PAGE_SIZE,
            sort_flag: SORT_NEWEST_FIRST,
            keywords_source: query
                .customer_id
                .as_ref()
                .map(|_| KEYWORDS_SOURCE_CUSTOMER_ID),
            keywords: query.customer_id.clone(),
        };
        let page = self.client.list_sessions(ctx, &request).await?;
        let next_cursor = page
            .paging
            .has_more(page_num, PAGE_SIZE, page.items.len())
            .then(|| (page_num + 1).to_string());
        let total = page.paging.total_hint();
        let items = page
            .items
            .into_iter()
            .map(|item| item.item.into_domain(&self.source, self.timezone, item.raw))
            .collect();
        Ok(ConversationBatch {
            items,
            next_cursor,
            total,
        })
    }

    async fn list_messages(
        &self,
        ctx: &CallContext,
        native_id: &str,
    ) -> Result<Vec<Message>, VendorError> {
        // Session ids are integers; anything else cannot name a KM session.
        if canonical_integer_id(native_id).is_none() {
            return Err(VendorError::NotFound);
        }
        // Logs keep the order KM sends them in (oldest first in the seed); never re-sorted.
        let mut messages = Vec::new();
        let mut seen = HashSet::new();
        for page_num in 1..=MAX_MESSAGE_PAGES {
            let page = self.client.session_logs(ctx, native_id, page_num).await?;
            let more = page.paging.has_more(page_num, PAGE_SIZE, page.items.len());
            for WithRaw { item, raw } in page.items {
                // A log written while we page shifts the pages; never return it twice.
                if seen.insert(item.id()) {
                    messages.push(item.into_domain(self.timezone, raw));
                }
            }
            if !more {
                return Ok(messages);
            }
        }
        Err(VendorError::endless_paging(
            "session logs",
            MAX_MESSAGE_PAGES,
        ))
    }
}

/// The cursor is the next KM page number; no cursor is page 1.
fn page_number(cursor: Option<&str>) -> Result<u32, VendorError> {
    match cursor {
        None => Ok(1),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| VendorError::Decode("the page cursor is not a page number".to_owned())),
    }
}
