//! Fan-out over the configured sources: splits windows into each vendor's segments, reads
//! and caches whole segments, merges them in the gateway's order, and applies the
//! partial-failure policy. No HTTP types here: handlers turn outcomes into responses.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use moka::future::Cache;

use crate::domain::{Conversation, Message, SortKey, SourceName, VendorKind};
use crate::vendors::{
    CallContext, ConversationBatch, ConversationQuery, VendorAdapter, VendorError, VendorRegistry,
};

/// Most vendor pages read for one segment: a guard against a vendor cursor that never ends.
const MAX_PAGES_PER_SEGMENT: usize = 1000;
/// Most conversations (in cached segments) or messages (in cached transcripts) each cache
/// holds: bounds memory by what is cached, not by how many keys.
const CACHE_CAPACITY: u64 = 50_000;
/// A cached answer in use is kept at most this many times the TTL.
const CACHE_MAX_LIFE_FACTOR: u32 = 10;

/// What one source did for a request.
#[derive(Debug, Clone)]
pub enum SourceOutcome {
    /// It answered.
    Ok,
    /// It was not asked, for this reason (a filter it cannot apply exactly, say).
    Skipped(String),
    /// It failed.
    Failed(VendorError),
}

/// One source's outcome, named.
#[derive(Debug, Clone)]
pub struct SourceReport {
    /// The source.
    pub source: SourceName,
    /// Its vendor.
    pub vendor: VendorKind,
    /// What happened.
    pub outcome: SourceOutcome,
}

/// One page of the merged list.
#[derive(Debug, Clone)]
pub struct ConversationsPage {
    /// The page's conversations, in list order.
    pub items: Vec<Conversation>,
    /// Whether more conversations may follow the last one.
    pub has_more: bool,
    /// Every asked source's outcome.
    pub reports: Vec<SourceReport>,
}

/// What the last calls to a source did, for `GET /sources`.
#[derive(Debug, Clone, Default)]
pub struct SourceHealth {
    /// Last successful call.
    pub last_ok_at: Option<DateTime<Utc>>,
    /// Last failure: its code and when.
    pub last_error: Option<(&'static str, DateTime<Utc>)>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
}

type SegmentKey = (SourceName, ConversationQuery);
/// One vendor page of a segment: the segment and the cursor it starts at.
type PageKey = (SourceName, ConversationQuery, Option<String>);
type MessagesKey = (SourceName, String);

/// The fan-out engine. One per process, shared by every request.
pub struct Aggregator {
    registry: VendorRegistry,
    segments: Flights<SegmentKey, Arc<Vec<Conversation>>>,
    /// Vendor pages of segments still being read: a request that runs out of budget or
    /// quota mid-segment leaves them here, so asking again continues where it stopped.
    pages: Flights<PageKey, Arc<ConversationBatch>>,
    messages: Flights<MessagesKey, Arc<Vec<Message>>>,
    health: Mutex<BTreeMap<SourceName, SourceHealth>>,
}

impl Aggregator {
    /// Vendor answers are reused for `cache_ttl` (zero: never).
    pub fn new(registry: VendorRegistry, cache_ttl: Duration) -> Self {
        Self {
            registry,
            segments: Flights::new("segments", cache_ttl),
            pages: Flights::new("pages", cache_ttl),
            messages: Flights::new("messages", cache_ttl),
            health: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every configured source.
    pub fn registry(&self) -> &VendorRegistry {
        &self.registry
    }

    /// The latest health of a source.
    pub fn health(&self, source: &SourceName) -> SourceHealth {
        self.health
            .lock()
            .map(|health| health.get(source).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// The page of conversations that follows `after` (or the first page), merged across
    /// `sources`. Sources are asked concurrently, each within what is left of the budget.
    pub async fn list_conversations(
        &self,
        ctx: &CallContext,
        sources: &[Arc<dyn VendorAdapter>],
        query: &ConversationQuery,
        after: Option<&SortKey>,
        page_size: usize,
    ) -> ConversationsPage {
        let calls = sources.iter().map(|adapter| async move {
            let outcome = match adapter.unsupported(query) {
                Some(reason) => Err(SourceOutcome::Skipped(reason)),
                None => {
                    let read = self.read_source(ctx, adapter.as_ref(), query, after, page_size);
                    match tokio::time::timeout(ctx.remaining(), read).await {
                        Ok(Ok(found)) => Ok(found),
                        Ok(Err(err)) => Err(SourceOutcome::Failed(err)),
                        Err(_) => Err(SourceOutcome::Failed(VendorError::Timeout)),
                    }
                }
            };
            if let Err(SourceOutcome::Failed(err)) = &outcome {
                self.record(adapter.source(), Err(err));
            } else if outcome.is_ok() {
                self.record(adapter.source(), Ok(()));
            }
            (adapter, outcome)
        });

        let mut items = Vec::new();
        let mut has_more = false;
        let mut reports = Vec::with_capacity(sources.len());
        for (adapter, outcome) in join_all(calls).await {
            let outcome = match outcome {
                Ok((found, more)) => {
                    has_more |= more;
                    items.extend(found);
                    SourceOutcome::Ok
                }
                Err(outcome) => outcome,
            };
            reports.push(SourceReport {
                source: adapter.source().clone(),
                vendor: adapter.vendor(),
                outcome,
            });
        }
        items.sort_by_cached_key(Conversation::sort_key);
        if items.len() > page_size {
            items.truncate(page_size);
            has_more = true;
        }
        ConversationsPage {
            items,
            has_more,
            reports,
        }
    }

    /// Every message of a conversation, in order (cached for the TTL).
    pub async fn list_messages(
        &self,
        ctx: &CallContext,
        adapter: &dyn VendorAdapter,
        native_id: &str,
    ) -> Result<Arc<Vec<Message>>, VendorError> {
        let load = async { adapter.list_messages(ctx, native_id).await.map(Arc::new) };
        let outcome = self
            .messages
            .get((adapter.source().clone(), native_id.to_owned()), load)
            .await;
        // A conversation the vendor does not know is an answer, not a failing source.
        match &outcome {
            Err(err) if !matches!(err, VendorError::NotFound | VendorError::NotReady { .. }) => {
                self.record(adapter.source(), Err(err));
            }
            _ => self.record(adapter.source(), Ok(())),
        }
        outcome
    }

    /// A source's conversations after `after`, in order, at most `page_size` of them, and
    /// whether it may have more. Reads segments newest first and stops as soon as the
    /// page is full: older segments can only sort after what was found.
    async fn read_source(
        &self,
        ctx: &CallContext,
        adapter: &dyn VendorAdapter,
        query: &ConversationQuery,
        after: Option<&SortKey>,
        page_size: usize,
    ) -> Result<(Vec<Conversation>, bool), VendorError> {
        let segments = split_window(query, adapter.max_window());
        let after_ms = after.and_then(|key| key.time_ms);
        let mut found: Vec<Conversation> = Vec::new();
        let mut seen = HashSet::new();
        let mut unread = false;
        for segment in &segments {
            // Every item of a segment newer than the boundary was on an earlier page (a
            // segmented source gives every item a time: see `VendorAdapter::max_window`).
            if let Some(after_ms) = after_ms
                && segment.since.timestamp_millis() > after_ms
            {
                continue;
            }
            // One more than a page tells whether anything follows.
            if found.len() > page_size {
                unread = true;
                break;
            }
            let items = self.segment(ctx, adapter, segment).await?;
            let start = after.map_or(0, |after| {
                items.partition_point(|item| item.sort_key() <= *after)
            });
            for item in &items[start..] {
                if found.len() > page_size {
                    break;
                }
                if seen.insert(item.id.clone()) {
                    found.push(item.clone());
                }
            }
        }
        found.sort_by_cached_key(Conversation::sort_key);
        let more = unread || found.len() > page_size;
        found.truncate(page_size);
        Ok((found, more))
    }

    /// Every conversation of one segment, filtered exactly and sorted (cached).
    async fn segment(
        &self,
        ctx: &CallContext,
        adapter: &dyn VendorAdapter,
        segment: &ConversationQuery,
    ) -> Result<Arc<Vec<Conversation>>, VendorError> {
        let load = async { self.read_segment(ctx, adapter, segment).await.map(Arc::new) };
        self.segments
            .get((adapter.source().clone(), segment.clone()), load)
            .await
    }

    /// Reads every vendor page of one segment and keeps what matches the query exactly.
    /// Each page is kept on its own until the segment is complete (then the segment is).
    async fn read_segment(
        &self,
        ctx: &CallContext,
        adapter: &dyn VendorAdapter,
        segment: &ConversationQuery,
    ) -> Result<Vec<Conversation>, VendorError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen_cursors = HashSet::new();
        let mut read = Vec::new();
        for page in 0.. {
            if page == MAX_PAGES_PER_SEGMENT {
                return Err(VendorError::endless_paging(
                    "conversation list",
                    MAX_PAGES_PER_SEGMENT,
                ));
            }
            let key = (adapter.source().clone(), segment.clone(), cursor.clone());
            let load = async {
                let batch = adapter
                    .list_conversations(ctx, segment, cursor.as_deref())
                    .await?;
                Ok(Arc::new(ConversationBatch {
                    items: batch
                        .items
                        .into_iter()
                        .filter(|item| matches(item, segment))
                        .collect(),
                    next_cursor: batch.next_cursor,
                }))
            };
            let batch = self.pages.get(key.clone(), load).await?;
            read.push(key);
            items.extend(batch.items.iter().cloned());
            match &batch.next_cursor {
                // A cursor seen before would loop forever: the vendor has nothing new to give.
                Some(next) if seen_cursors.insert(next.clone()) => cursor = Some(next.clone()),
                _ => break,
            }
        }
        // The finished segment is cached whole: its pages need no second copy.
        for key in read {
            self.pages.forget(&key).await;
        }
        let mut seen = HashSet::new();
        items.retain(|item| seen.insert(item.id.clone()));
        items.sort_by_cached_key(Conversation::sort_key);
        Ok(items)
    }

    fn record(&self, source: &SourceName, result: Result<(), &VendorError>) {
        let Ok(mut health) = self.health.lock() else {
            return;
        };
        let entry = health.entry(source.clone()).or_default();
        let now = Utc::now();
        match result {
            Ok(()) => {
                entry.last_ok_at = Some(now);
                entry.consecutive_failures = 0;
            }
            Err(err) => {
                entry.last_error = Some((err.code(), now));
                entry.consecutive_failures = entry.consecutive_failures.saturating_add(1);
            }
        }
    }
}

/// Identical vendor reads in flight at once share one call; finished reads are kept for
/// the TTL (a zero TTL keeps nothing, but still shares the flight).
struct Flights<K, V> {
    name: &'static str,
    cache: Cache<K, V>,
    keep: bool,
}

/// How much room a cached answer takes: one unit per conversation or message.
trait Weight {
    fn weight(&self) -> u32;
}

impl<T> Weight for Arc<Vec<T>> {
    fn weight(&self) -> u32 {
        u32::try_from(self.len()).unwrap_or(u32::MAX).max(1)
    }
}

impl Weight for Arc<ConversationBatch> {
    fn weight(&self) -> u32 {
        u32::try_from(self.items.len()).unwrap_or(u32::MAX).max(1)
    }
}

impl<K, V> Flights<K, V>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Weight + Clone + Send + Sync + 'static,
{
    fn new(name: &'static str, ttl: Duration) -> Self {
        let builder = Cache::builder()
            .max_capacity(CACHE_CAPACITY)
            .weigher(|_key: &K, value: &V| value.weight());
        // Idle expiry keeps a segment alive while a walk is still reading it (so a long walk
        // costs each vendor page once); the max life bounds how stale it can get.
        let cache = if ttl.is_zero() {
            builder.build()
        } else {
            builder
                .time_to_idle(ttl)
                .time_to_live(ttl * CACHE_MAX_LIFE_FACTOR)
                .build()
        };
        Self {
            name,
            cache,
            keep: !ttl.is_zero(),
        }
    }

    async fn get(
        &self,
        key: K,
        load: impl std::future::Future<Output = Result<V, VendorError>>,
    ) -> Result<V, VendorError> {
        crate::metrics::cache_lookup(self.name, self.cache.contains_key(&key));
        // Failures are never kept: the next request asks the vendor again.
        let outcome = self
            .cache
            .try_get_with(key.clone(), load)
            .await
            .map_err(|err| (*err).clone());
        if !self.keep {
            self.cache.invalidate(&key).await;
        }
        outcome
    }

    /// Drops a kept answer (nothing happens when there is none).
    async fn forget(&self, key: &K) {
        self.cache.invalidate(key).await;
    }
}

/// Whether an item belongs to the query: its time inside the half-open window (items
/// without a time are the vendor's call) and no filtered field contradicting the filter.
fn matches(item: &Conversation, query: &ConversationQuery) -> bool {
    let in_window = item
        .sort_time()
        .is_none_or(|t| query.since <= t && t < query.until);
    let field_ok = |filter: &Option<String>, value: &Option<String>| match (filter, value) {
        (Some(wanted), Some(actual)) => wanted == actual,
        _ => true,
    };
    in_window
        && field_ok(&query.customer_id, &item.customer_id)
        && field_ok(&query.agent_id, &item.agent_id)
}

/// Splits the window into pieces no longer than `max`, newest first.
pub fn split_window(
    query: &ConversationQuery,
    max: Option<chrono::Duration>,
) -> Vec<ConversationQuery> {
    let Some(max) = max.filter(|max| *max > chrono::Duration::zero()) else {
        return vec![query.clone()];
    };
    let mut pieces = Vec::new();
    let mut until = query.until;
    while until > query.since {
        let since = (until - max).max(query.since);
        pieces.push(ConversationQuery {
            since,
            until,
            ..query.clone()
        });
        until = since;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConversationId, Message};
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A vendor that serves a fixed list in pages of `page`, in a scrambled order.
    struct FakeVendor {
        source: SourceName,
        items: Vec<Conversation>,
        page: usize,
        max_window: Option<chrono::Duration>,
        calls: AtomicUsize,
        fail: Option<VendorError>,
        delay: Duration,
    }

    impl FakeVendor {
        fn new(source: &str, times: &[Option<i64>]) -> Self {
            let source: SourceName = source.parse().unwrap();
            let items = times
                .iter()
                .enumerate()
                .map(|(n, time)| conversation(&source, &format!("{n:03}"), *time))
                .collect();
            Self {
                source,
                items,
                page: 3,
                max_window: None,
                calls: AtomicUsize::new(0),
                fail: None,
                delay: Duration::ZERO,
            }
        }
    }

    fn conversation(source: &SourceName, native: &str, time_s: Option<i64>) -> Conversation {
        Conversation {
            id: ConversationId::new(source.clone(), native),
            vendor: VendorKind::Udesk,
            title: None,
            channel: None,
            started_at: time_s.and_then(|s| DateTime::from_timestamp(s, 0)),
            ended_at: None,
            last_message_at: None,
            duration_seconds: None,
            message_count: None,
            customer_id: None,
            agent_id: None,
            bot_id: None,
            vendor_data: serde_json::Value::Null.into(),
        }
    }

    #[async_trait]
    impl VendorAdapter for FakeVendor {
        fn source(&self) -> &SourceName {
            &self.source
        }
        fn vendor(&self) -> VendorKind {
            VendorKind::Udesk
        }
        fn max_window(&self) -> Option<chrono::Duration> {
            self.max_window
        }
        fn unsupported(&self, query: &ConversationQuery) -> Option<String> {
            query.agent_id.as_ref().map(|_| "no agents here".to_owned())
        }
        async fn list_conversations(
            &self,
            _ctx: &CallContext,
            query: &ConversationQuery,
            cursor: Option<&str>,
        ) -> Result<crate::vendors::ConversationBatch, VendorError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            if let Some(err) = &self.fail {
                return Err(err.clone());
            }
            let mut matching: Vec<_> = self
                .items
                .iter()
                .filter(|item| {
                    item.sort_time()
                        .is_none_or(|t| query.since <= t && t < query.until)
                })
                .cloned()
                .collect();
            matching.reverse();
            let start: usize = cursor.map_or(0, |c| c.parse().unwrap());
            let end = (start + self.page).min(matching.len());
            Ok(crate::vendors::ConversationBatch {
                items: matching[start..end].to_vec(),
                next_cursor: (end < matching.len()).then(|| end.to_string()),
            })
        }
        async fn list_messages(
            &self,
            _ctx: &CallContext,
            _native_id: &str,
        ) -> Result<Vec<Message>, VendorError> {
            Ok(Vec::new())
        }
    }

    fn window(since: i64, until: i64) -> ConversationQuery {
        ConversationQuery {
            since: DateTime::from_timestamp(since, 0).unwrap(),
            until: DateTime::from_timestamp(until, 0).unwrap(),
            customer_id: None,
            agent_id: None,
        }
    }

    async fn walk(
        aggregator: &Aggregator,
        sources: &[Arc<dyn VendorAdapter>],
        query: &ConversationQuery,
        page_size: usize,
    ) -> Vec<String> {
        let ctx = CallContext::with_budget(Duration::from_secs(30));
        let mut after: Option<SortKey> = None;
        let mut ids = Vec::new();
        loop {
            let page = aggregator
                .list_conversations(&ctx, sources, query, after.as_ref(), page_size)
                .await;
            ids.extend(page.items.iter().map(|item| item.id.to_string()));
            if !page.has_more {
                return ids;
            }
            after = page.items.last().map(Conversation::sort_key);
        }
    }

    #[tokio::test]
    async fn walking_pages_returns_every_conversation_once_in_order_for_any_page_size() {
        let mut a = FakeVendor::new(
            "a",
            &[Some(10), Some(50), Some(50), None, Some(99), Some(70)],
        );
        a.max_window = Some(chrono::Duration::seconds(25));
        let b = FakeVendor::new("b", &[Some(50), None, Some(5), Some(98), Some(60)]);
        let sources: Vec<Arc<dyn VendorAdapter>> = vec![Arc::new(a), Arc::new(b)];
        let query = window(0, 100);
        let everything = walk(
            &Aggregator::new(VendorRegistry::default(), Duration::ZERO),
            &sources,
            &query,
            100,
        )
        .await;
        assert_eq!(
            everything,
            [
                "a:004", "b:003", "a:005", "b:004", "a:001", "a:002", "b:000", "a:000", "b:002",
                "a:003", "b:001"
            ]
        );
        for page_size in 1..=12 {
            let aggregator = Aggregator::new(VendorRegistry::default(), Duration::from_secs(60));
            assert_eq!(
                walk(&aggregator, &sources, &query, page_size).await,
                everything,
                "page size {page_size}"
            );
        }
    }

    #[tokio::test]
    async fn cached_segments_make_a_walk_cost_one_read_per_vendor_page() {
        let times: Vec<Option<i64>> = (0..30).map(|n| Some(n * 3)).collect();
        let vendor = Arc::new(FakeVendor::new("a", &times));
        let sources: Vec<Arc<dyn VendorAdapter>> = vec![vendor.clone()];
        let aggregator = Aggregator::new(VendorRegistry::default(), Duration::from_secs(60));
        let ids = walk(&aggregator, &sources, &window(0, 100), 1).await;
        assert_eq!(ids.len(), 30);
        assert_eq!(
            vendor.calls.load(Ordering::SeqCst),
            10,
            "30 items in vendor pages of 3"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_runs_out_of_budget_mid_segment_leaves_its_pages_for_the_retry() {
        // 30 conversations in vendor pages of 3: ten calls of 100 ms, while each request's
        // budget fits about four of them.
        let times: Vec<Option<i64>> = (0..30).map(|n| Some(n * 3)).collect();
        let mut vendor = FakeVendor::new("a", &times);
        vendor.delay = Duration::from_millis(100);
        let vendor = Arc::new(vendor);
        let sources: Vec<Arc<dyn VendorAdapter>> = vec![vendor.clone()];
        let aggregator = Aggregator::new(VendorRegistry::default(), Duration::from_secs(60));

        let mut tries = 0;
        let page = loop {
            tries += 1;
            assert!(tries <= 5, "no progress between tries");
            let ctx = CallContext::with_budget(Duration::from_millis(450));
            let page = aggregator
                .list_conversations(&ctx, &sources, &window(0, 100), None, 5)
                .await;
            if matches!(page.reports[0].outcome, SourceOutcome::Ok) {
                break page;
            }
            assert!(
                matches!(
                    &page.reports[0].outcome,
                    SourceOutcome::Failed(VendorError::Timeout)
                ),
                "{:?}",
                page.reports[0].outcome
            );
        };

        assert_eq!(tries, 3, "four pages per try: 4 + 4 + 2");
        assert_eq!(page.items.len(), 5);
        assert_eq!(page.items[0].id.to_string(), "a:029");
        // Each cut-short try loses at most the one call it was waiting on.
        let calls = vendor.calls.load(Ordering::SeqCst);
        assert!(calls <= 10 + 2, "{calls} vendor calls for 10 vendor pages");
    }

    #[tokio::test]
    async fn a_failing_source_is_reported_while_the_others_are_served() {
        let ok = FakeVendor::new("ok", &[Some(10)]);
        let mut broken = FakeVendor::new("broken", &[Some(20)]);
        broken.fail = Some(VendorError::Status(503));
        let mut slow = FakeVendor::new("slow", &[Some(30)]);
        slow.delay = Duration::from_secs(60);
        let sources: Vec<Arc<dyn VendorAdapter>> =
            vec![Arc::new(ok), Arc::new(broken), Arc::new(slow)];
        let aggregator = Aggregator::new(VendorRegistry::default(), Duration::ZERO);
        let ctx = CallContext::with_budget(Duration::from_millis(300));
        let page = aggregator
            .list_conversations(&ctx, &sources, &window(0, 100), None, 10)
            .await;
        assert_eq!(page.items.len(), 1);
        let outcomes: Vec<_> = page
            .reports
            .iter()
            .map(|r| format!("{}={:?}", r.source, r.outcome))
            .collect();
        assert!(outcomes[0].starts_with("ok=Ok"), "{outcomes:?}");
        assert!(outcomes[1].contains("Status(503)"), "{outcomes:?}");
        assert!(outcomes[2].contains("Timeout"), "{outcomes:?}");
    }

    #[tokio::test]
    async fn a_source_that_cannot_apply_a_filter_is_skipped_with_its_reason() {
        let sources: Vec<Arc<dyn VendorAdapter>> = vec![Arc::new(FakeVendor::new("a", &[Some(1)]))];
        let aggregator = Aggregator::new(VendorRegistry::default(), Duration::ZERO);
        let query = ConversationQuery {
            agent_id: Some("x".into()),
            ..window(0, 100)
        };
        let page = aggregator
            .list_conversations(
                &CallContext::with_budget(Duration::from_secs(5)),
                &sources,
                &query,
                None,
                10,
            )
            .await;
        assert!(page.items.is_empty());
        assert!(
            matches!(&page.reports[0].outcome, SourceOutcome::Skipped(reason) if reason == "no agents here")
        );
    }

    /// Serves its items in vendor pages of `page`, inserting an empty page after every
    /// `empty_every` pages, in an order unrelated to the gateway's.
    struct PagedVendor {
        inner: FakeVendor,
        empty_every: usize,
    }

    #[async_trait]
    impl VendorAdapter for PagedVendor {
        fn source(&self) -> &SourceName {
            &self.inner.source
        }
        fn vendor(&self) -> VendorKind {
            VendorKind::Gptbots
        }
        fn max_window(&self) -> Option<chrono::Duration> {
            self.inner.max_window
        }
        fn unsupported(&self, _query: &ConversationQuery) -> Option<String> {
            None
        }
        async fn list_conversations(
            &self,
            ctx: &CallContext,
            query: &ConversationQuery,
            cursor: Option<&str>,
        ) -> Result<crate::vendors::ConversationBatch, VendorError> {
            // Cursor: `<inner offset>/<pages served>`, `e` appended after an empty page.
            let (offset, pages, after_empty) = cursor.map_or((None, 0, false), |c| {
                let (offset, rest) = c.split_once('/').unwrap();
                let after_empty = rest.ends_with('e');
                let pages = rest.trim_end_matches('e').parse::<usize>().unwrap();
                (Some(offset.to_owned()), pages, after_empty)
            });
            if self.empty_every > 0 && pages > 0 && pages % self.empty_every == 0 && !after_empty {
                return Ok(crate::vendors::ConversationBatch {
                    items: Vec::new(),
                    next_cursor: Some(format!("{}/{pages}e", offset.unwrap_or_default())),
                });
            }
            let pages_now = pages + 1;
            let inner_cursor = offset.filter(|o| !o.is_empty());
            let batch = self
                .inner
                .list_conversations(ctx, query, inner_cursor.as_deref())
                .await?;
            Ok(crate::vendors::ConversationBatch {
                items: batch.items,
                next_cursor: batch.next_cursor.map(|next| format!("{next}/{pages_now}")),
            })
        }
        async fn list_messages(
            &self,
            _ctx: &CallContext,
            _native_id: &str,
        ) -> Result<Vec<Message>, VendorError> {
            Ok(Vec::new())
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn any_mix_of_sources_walks_exactly_once_in_order(
            sources in proptest::collection::vec(
                (
                    proptest::collection::vec(proptest::option::weighted(0.9, 0i64..40), 0..60),
                    1usize..12,
                    proptest::option::of(5i64..30),
                    0usize..4,
                ),
                1..5,
            ),
            page_size in 1usize..=100,
            cache in proptest::bool::ANY,
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let adapters: Vec<Arc<dyn VendorAdapter>> = sources
                .iter()
                .enumerate()
                .map(|(n, (times, page, max_window, empty_every))| {
                    let mut times = times.clone();
                    if max_window.is_some() {
                        // A segmented source gives every item a time.
                        times.iter_mut().for_each(|t| *t = Some(t.unwrap_or(0)));
                    }
                    let mut inner = FakeVendor::new(&format!("s{n}"), &times);
                    inner.page = *page;
                    inner.max_window = max_window.map(chrono::Duration::seconds);
                    Arc::new(PagedVendor { inner, empty_every: *empty_every }) as Arc<dyn VendorAdapter>
                })
                .collect();
            let mut expected: Vec<Conversation> = adapters
                .iter()
                .zip(&sources)
                .flat_map(|(adapter, (times, _, max_window, _))| {
                    times.iter().enumerate().map(move |(n, t)| {
                        let t = if max_window.is_some() { Some(t.unwrap_or(0)) } else { *t };
                        conversation(adapter.source(), &format!("{n:03}"), t)
                    })
                })
                .collect();
            expected.sort_by_cached_key(Conversation::sort_key);
            let expected: Vec<String> = expected.iter().map(|c| c.id.to_string()).collect();
            let ttl = if cache { Duration::from_secs(60) } else { Duration::ZERO };
            let aggregator = Aggregator::new(VendorRegistry::default(), ttl);
            let walked = runtime.block_on(walk(&aggregator, &adapters, &window(0, 40), page_size));
            proptest::prop_assert_eq!(walked, expected);
        }
    }

    #[test]
    fn split_window_makes_adjacent_pieces_newest_first() {
        let pieces = split_window(&window(0, 100), Some(chrono::Duration::seconds(40)));
        let bounds: Vec<_> = pieces
            .iter()
            .map(|p| (p.since.timestamp(), p.until.timestamp()))
            .collect();
        assert_eq!(bounds, [(60, 100), (20, 60), (0, 20)]);
    }
}
