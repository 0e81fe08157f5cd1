//! The walk over fake adapters: exactly once and in order, pages that cost their slices,
//! progress kept across requests, and the partial-failure policy.

use super::*;
use crate::domain::{ConversationId, Message};
use crate::vendors::Slicing;
use async_trait::async_trait;
use proptest::strategy::Strategy as _;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a fake vendor says the whole query holds.
#[derive(Debug, Clone, Copy)]
enum Totals {
    Exact,
    Absent,
    /// A number unrelated to the answer (GPTBots' `total` is undocumented).
    Wrong(u64),
}

/// A vendor that serves a fixed list in pages of `page`, in an arbitrary order that is
/// stable across calls (no vendor promises an order inside its answers).
struct FakeVendor {
    source: SourceName,
    items: Vec<Conversation>,
    page: usize,
    slicing: Option<Slicing>,
    totals: Totals,
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
            slicing: None,
            totals: Totals::Exact,
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
    fn slicing(&self) -> Option<Slicing> {
        self.slicing
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
        matching.sort_by_cached_key(|item| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            item.id.to_string().hash(&mut hasher);
            hasher.finish()
        });
        let start: usize = cursor.map_or(0, |c| c.parse().unwrap());
        let end = (start + self.page).min(matching.len());
        Ok(crate::vendors::ConversationBatch {
            items: matching[start..end].to_vec(),
            next_cursor: (end < matching.len()).then(|| end.to_string()),
            total: match self.totals {
                Totals::Exact => Some(matching.len() as u64),
                Totals::Absent => None,
                Totals::Wrong(n) => Some(n),
            },
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
        after = page.items.last().map(|last| last.sort_key());
    }
}

#[tokio::test]
async fn walking_pages_returns_every_conversation_once_in_order_for_any_page_size() {
    let mut a = FakeVendor::new(
        "a",
        &[Some(10), Some(50), Some(50), None, Some(99), Some(70)],
    );
    a.slicing = Some(Slicing {
        max_window: Some(chrono::Duration::seconds(25)),
        page_capacity: 3,
    });
    let b = FakeVendor::new("b", &[Some(50), None, Some(5), Some(98), Some(60)]);
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![Arc::new(a), Arc::new(b)];
    let query = window(0, 100);
    let everything = walk(
        &Aggregator::new(
            VendorRegistry::default(),
            &CacheConfig::with_ttl(Duration::ZERO),
        ),
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
        let aggregator = Aggregator::new(
            VendorRegistry::default(),
            &CacheConfig::with_ttl(Duration::from_secs(60)),
        );
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
    let aggregator = Aggregator::new(
        VendorRegistry::default(),
        &CacheConfig::with_ttl(Duration::from_secs(60)),
    );
    let ids = walk(&aggregator, &sources, &window(0, 100), 1).await;
    assert_eq!(ids.len(), 30);
    assert_eq!(
        vendor.calls.load(Ordering::SeqCst),
        10,
        "30 items in vendor pages of 3"
    );
}

/// `n` conversations spread unevenly over `[0, n * 100)` seconds, read in time slices of
/// vendor pages of 100.
fn dense_vendor(n: i64, totals: Totals) -> FakeVendor {
    let times: Vec<Option<i64>> = (0..n).map(|i| Some(i * 100 + (i * 7_919) % 100)).collect();
    let mut vendor = FakeVendor::new("dense", &times);
    vendor.page = 100;
    vendor.totals = totals;
    vendor.slicing = Some(Slicing {
        max_window: None,
        page_capacity: 100,
    });
    vendor
}

#[tokio::test]
async fn a_dense_window_costs_a_probe_and_a_slice_for_its_first_page_and_about_its_pages_to_walk() {
    for totals in [Totals::Exact, Totals::Absent, Totals::Wrong(7)] {
        let n = 10_000;
        let vendor = Arc::new(dense_vendor(n, totals));
        let sources: Vec<Arc<dyn VendorAdapter>> = vec![vendor.clone()];
        let aggregator = Aggregator::new(
            VendorRegistry::default(),
            &CacheConfig::with_ttl(Duration::from_secs(60)),
        );
        let query = window(0, n * 100);
        let ctx = CallContext::with_budget(Duration::from_secs(30));

        let first = aggregator
            .list_conversations(&ctx, &sources, &query, None, 20)
            .await;
        let first_calls = vendor.calls.load(Ordering::SeqCst);
        assert_eq!(first.items.len(), 20);
        assert_eq!(first.items[0].id.to_string(), "dense:9999");
        if matches!(totals, Totals::Exact) {
            assert!(first_calls <= 3, "{first_calls} calls for the first page");
        } else {
            assert!(first_calls <= 6, "{totals:?}: {first_calls} calls");
        }

        let ids = walk(&aggregator, &sources, &query, 100).await;
        let mut expected: Vec<String> = (0..n).map(|i| format!("dense:{i:03}")).collect();
        expected.reverse();
        assert_eq!(ids, expected, "{totals:?}");
        let walk_calls = vendor.calls.load(Ordering::SeqCst) - first_calls;
        let pages = (n as u64).div_ceil(100) as f64;
        if matches!(totals, Totals::Exact) {
            assert!(
                walk_calls as f64 <= 1.3 * pages,
                "{walk_calls} calls to walk {pages} vendor pages"
            );
        } else {
            assert!(walk_calls as f64 <= 1.5 * pages, "{totals:?}: {walk_calls}");
        }
    }
}

#[tokio::test]
async fn busy_hours_after_a_quiet_night_still_give_the_first_page_for_a_probe_and_a_slice() {
    // 9,990 conversations over 30 days, all in the first half of each day: the window
    // ends after half a day with none, as a sales team's night.
    let day = 86_400;
    let times: Vec<Option<i64>> = (0..9_990i64)
        .map(|i| Some((i / 333) * day + (i % 333) * 129 + (i * 7_919) % 100))
        .collect();
    let mut vendor = FakeVendor::new("sales", &times);
    vendor.page = 100;
    vendor.slicing = Some(Slicing {
        max_window: None,
        page_capacity: 100,
    });
    let vendor = Arc::new(vendor);
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![vendor.clone()];
    let aggregator = Aggregator::new(
        VendorRegistry::default(),
        &CacheConfig::with_ttl(Duration::from_secs(60)),
    );
    let ctx = CallContext::with_budget(Duration::from_secs(30));

    let page = aggregator
        .list_conversations(&ctx, &sources, &window(0, 30 * day), None, 20)
        .await;

    assert_eq!(page.items.len(), 20);
    assert_eq!(page.items[0].id.to_string(), "sales:9989");
    let calls = vendor.calls.load(Ordering::SeqCst);
    assert!(calls <= 3, "{calls} calls for the first page");
}

#[tokio::test]
async fn a_later_walk_over_the_same_source_skips_the_probe() {
    let vendor = Arc::new(dense_vendor(5_000, Totals::Exact));
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![vendor.clone()];
    let aggregator = Aggregator::new(
        VendorRegistry::default(),
        &CacheConfig::with_ttl(Duration::from_secs(60)),
    );
    let ctx = CallContext::with_budget(Duration::from_secs(30));
    aggregator
        .list_conversations(&ctx, &sources, &window(0, 500_000), None, 20)
        .await;
    let before = vendor.calls.load(Ordering::SeqCst);
    // A newer window (as "now" moves on): the density learnt sizes its first slice.
    let page = aggregator
        .list_conversations(&ctx, &sources, &window(1_000, 500_001), None, 20)
        .await;
    assert_eq!(page.items.len(), 20);
    let calls = vendor.calls.load(Ordering::SeqCst) - before;
    assert!(calls <= 2, "{calls} calls");
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
    let aggregator = Aggregator::new(
        VendorRegistry::default(),
        &CacheConfig::with_ttl(Duration::from_secs(60)),
    );

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

#[tokio::test(start_paused = true)]
async fn a_source_read_past_its_limit_waits_for_a_turn_and_is_busy_when_none_frees_in_time() {
    // `slow` may be read once at once; that read takes 10 s at the vendor.
    let mut slow = FakeVendor::new("slow", &[Some(10)]);
    slow.delay = Duration::from_secs(10);
    let slow = Arc::new(slow);
    let other = Arc::new(FakeVendor::new("other", &[Some(20)]));
    let mut registry = VendorRegistry::default();
    registry.insert(slow.clone());
    registry.insert(other.clone());
    registry.limit_reads(&slow.source, SourceReads::new(1, 100));
    let aggregator = Arc::new(Aggregator::new(
        registry,
        &CacheConfig::with_ttl(Duration::ZERO),
    ));

    let first = tokio::spawn({
        let (aggregator, slow) = (aggregator.clone(), slow.clone());
        async move {
            let ctx = CallContext::with_budget(Duration::from_secs(60));
            let sources: Vec<Arc<dyn VendorAdapter>> = vec![slow];
            aggregator
                .list_conversations(&ctx, &sources, &window(0, 100), None, 5)
                .await
        }
    });
    while slow.calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }

    // An identical request shares the read in flight: it needs no turn of its own.
    let (same, other_window) = (window(0, 100), window(0, 99));
    let joining_ctx = CallContext::with_budget(Duration::from_secs(60));
    let only_slow: Vec<Arc<dyn VendorAdapter>> = vec![slow.clone()];
    let joined = aggregator.list_conversations(&joining_ctx, &only_slow, &same, None, 5);

    // Another read of `slow` within a 1 s budget gets no turn, and calls no vendor; the
    // other source of the same request is read as usual. Reading a conversation's
    // messages takes a turn too.
    let ctx = CallContext::with_budget(Duration::from_secs(1));
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![slow.clone(), other.clone()];
    let slow_source: Arc<dyn VendorAdapter> = slow.clone();
    let (joined, page, messages) = tokio::join!(
        joined,
        async {
            let page = aggregator
                .list_conversations(&ctx, &sources, &other_window, None, 5)
                .await;
            assert_eq!(slow.calls.load(Ordering::SeqCst), 1);
            page
        },
        aggregator.list_messages(&ctx, &slow_source, "000"),
    );
    assert!(matches!(joined.reports[0].outcome, SourceOutcome::Ok));
    let outcome = |name: &str| {
        page.reports
            .iter()
            .find(|report| report.source.as_str() == name)
            .map(|report| report.outcome.clone())
            .unwrap()
    };
    assert!(
        matches!(
            outcome("slow"),
            SourceOutcome::Failed(VendorError::SourceBusy)
        ),
        "{:?}",
        outcome("slow")
    );
    assert!(matches!(outcome("other"), SourceOutcome::Ok));
    assert_eq!(page.items.len(), 1);
    assert!(
        matches!(messages, Err(VendorError::SourceBusy)),
        "{messages:?}"
    );

    // The first read ends and gives its turn back: the next read of `slow` goes.
    let first = first.await.unwrap();
    assert!(matches!(first.reports[0].outcome, SourceOutcome::Ok));
    let ctx = CallContext::with_budget(Duration::from_secs(60));
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![slow.clone()];
    let again = aggregator
        .list_conversations(&ctx, &sources, &window(0, 99), None, 5)
        .await;
    assert!(matches!(again.reports[0].outcome, SourceOutcome::Ok));
    assert_eq!(slow.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_read_holds_at_most_its_items_and_a_slice_that_can_be_split_is_split_instead() {
    // 30 conversations in vendor pages of 3; a read may hold 10 of them.
    let times: Vec<Option<i64>> = (0..30).map(|n| Some(n * 3)).collect();
    let whole = Arc::new(FakeVendor::new("whole", &times));
    let mut sliced = FakeVendor::new("sliced", &times);
    sliced.source = "sliced".parse().unwrap();
    sliced.slicing = Some(Slicing {
        max_window: None,
        page_capacity: 3,
    });
    let sliced = Arc::new(sliced);
    let mut registry = VendorRegistry::default();
    for source in [&whole.source, &sliced.source] {
        registry.limit_reads(source, SourceReads::new(16, 10));
    }
    let aggregator = Aggregator::new(registry, &CacheConfig::with_ttl(Duration::ZERO));
    let ctx = CallContext::with_budget(Duration::from_secs(30));

    // A source read whole stops at the limit, with the error naming it.
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![whole.clone()];
    let page = aggregator
        .list_conversations(&ctx, &sources, &window(0, 100), None, 5)
        .await;
    assert!(
        matches!(
            page.reports[0].outcome,
            SourceOutcome::Failed(VendorError::TooManyItems { limit: 10 })
        ),
        "{:?}",
        page.reports[0].outcome
    );
    assert!(
        whole.calls.load(Ordering::SeqCst) <= 4,
        "read on past the limit"
    );

    // A sliced source splits a slice that holds more, and serves the whole walk.
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![sliced.clone()];
    let ids = walk(&aggregator, &sources, &window(0, 100), 7).await;
    assert_eq!(ids.len(), 30);
}

#[tokio::test]
async fn a_failing_source_is_reported_while_the_others_are_served() {
    let ok = FakeVendor::new("ok", &[Some(10)]);
    let mut broken = FakeVendor::new("broken", &[Some(20)]);
    broken.fail = Some(VendorError::Status(503));
    let mut slow = FakeVendor::new("slow", &[Some(30)]);
    slow.delay = Duration::from_secs(60);
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![Arc::new(ok), Arc::new(broken), Arc::new(slow)];
    let aggregator = Aggregator::new(
        VendorRegistry::default(),
        &CacheConfig::with_ttl(Duration::ZERO),
    );
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
    let aggregator = Aggregator::new(
        VendorRegistry::default(),
        &CacheConfig::with_ttl(Duration::ZERO),
    );
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
    fn slicing(&self) -> Option<Slicing> {
        self.inner.slicing
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
                total: None,
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
            total: batch.total,
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
                proptest::option::of(proptest::option::of(5i64..30)),
                0usize..4,
                proptest::prop_oneof![
                    proptest::strategy::Just(Totals::Exact),
                    proptest::strategy::Just(Totals::Absent),
                    (0u64..100).prop_map(Totals::Wrong),
                ],
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
            .map(|(n, (times, page, slicing, empty_every, totals))| {
                let mut inner = FakeVendor::new(&format!("s{n}"), times);
                inner.page = *page;
                inner.totals = *totals;
                // Some sources are read in time slices (some with a longest window).
                inner.slicing = slicing.map(|max_window| Slicing {
                    max_window: max_window.map(chrono::Duration::seconds),
                    page_capacity: *page,
                });
                Arc::new(PagedVendor { inner, empty_every: *empty_every }) as Arc<dyn VendorAdapter>
            })
            .collect();
        let mut expected: Vec<Conversation> = adapters
            .iter()
            .zip(&sources)
            .flat_map(|(adapter, (times, ..))| {
                times.iter().enumerate().map(move |(n, t)| {
                    conversation(adapter.source(), &format!("{n:03}"), *t)
                })
            })
            .collect();
        expected.sort_by_cached_key(Conversation::sort_key);
        let expected: Vec<String> = expected.iter().map(|c| c.id.to_string()).collect();
        let ttl = if cache { Duration::from_secs(60) } else { Duration::ZERO };
        let aggregator = Aggregator::new(VendorRegistry::default(), &CacheConfig::with_ttl(ttl));
        let walked = runtime.block_on(walk(&aggregator, &adapters, &window(0, 40), page_size));
        proptest::prop_assert_eq!(walked, expected);
    }
}

fn report(source: &str, outcome: SourceOutcome) -> SourceReport {
    SourceReport {
        source: source.parse().unwrap(),
        vendor: VendorKind::Udesk,
        outcome,
    }
}

fn page_of(reports: Vec<SourceReport>, items: &[(&str, i64)], has_more: bool) -> ConversationsPage {
    ConversationsPage {
        items: items
            .iter()
            .map(|(id, t)| Arc::new(conversation(&"a".parse().unwrap(), id, Some(*t))))
            .collect(),
        has_more,
        reports,
    }
}

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap()
}

#[test]
fn a_source_that_fails_mid_walk_is_left_out_with_the_window_it_missed() {
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![
        Arc::new(FakeVendor::new("a", &[])),
        Arc::new(FakeVendor::new("b", &[])),
    ];
    let walk = Walk::start("filters".to_owned(), (at(0), at(100)));
    assert_eq!(walk.active(&sources).len(), 2);
    let first = walk
        .advance(
            &sources,
            page_of(
                vec![
                    report("a", SourceOutcome::Ok),
                    report("b", SourceOutcome::Ok),
                ],
                &[("090", 90), ("080", 80)],
                true,
            ),
        )
        .unwrap();
    let position = first.next.expect("more to come");

    // On the second page, b fails: what it would have delivered after the boundary is lost.
    let walk = Walk::resume(position, "filters").unwrap();
    assert_eq!(walk.after().unwrap().time_ms, Some(80_000));
    let second = walk
        .advance(
            &sources,
            page_of(
                vec![
                    report("a", SourceOutcome::Ok),
                    report("b", SourceOutcome::Failed(VendorError::Status(503))),
                ],
                &[("070", 70)],
                true,
            ),
        )
        .unwrap();
    let WalkStatus::Failed { missing, .. } = &second.sources[1].status else {
        panic!("{:?}", second.sources[1]);
    };
    let missed = MissingWindow {
        since: at(0),
        until: DateTime::from_timestamp_millis(80_001).unwrap(),
    };
    assert_eq!(*missing, Some(missed));

    // The third page leaves b out and still names it, with the same missing window.
    let walk = Walk::resume(second.next.unwrap(), "filters").unwrap();
    let active = walk.active(&sources);
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].source().as_str(), "a");
    let third = walk
        .advance(
            &sources,
            page_of(vec![report("a", SourceOutcome::Ok)], &[("060", 60)], false),
        )
        .unwrap();
    assert!(third.next.is_none(), "the last page has no next position");
    assert_eq!(third.sources.len(), 2);
    assert!(matches!(
        &third.sources[1].status,
        WalkStatus::FailedEarlier { code, missing } if code == "UPSTREAM_ERROR" && *missing == missed
    ));
}

#[test]
fn a_position_resumes_only_the_walk_it_came_from() {
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![Arc::new(FakeVendor::new("a", &[]))];
    let page = Walk::start("filters".to_owned(), (at(0), at(100)))
        .advance(
            &sources,
            page_of(vec![report("a", SourceOutcome::Ok)], &[("050", 50)], true),
        )
        .unwrap();
    let position = page.next.unwrap();
    assert_eq!(
        Walk::resume(position, "other filters").unwrap_err(),
        ResumeError::Foreign
    );
}

#[test]
fn the_verdict_names_why_every_asked_source_failed() {
    let sources: Vec<Arc<dyn VendorAdapter>> = vec![
        Arc::new(FakeVendor::new("a", &[])),
        Arc::new(FakeVendor::new("b", &[])),
    ];
    let verdict_of = |a: SourceOutcome, b: SourceOutcome| {
        Walk::start("f".to_owned(), (at(0), at(100)))
            .advance(
                &sources,
                page_of(vec![report("a", a), report("b", b)], &[], false),
            )
            .map(|_| ())
            .map_err(|failed| failed.verdict)
    };
    let limited = |secs| {
        SourceOutcome::Failed(VendorError::QuotaExhausted {
            retry_after: Duration::from_secs(secs),
        })
    };
    assert_eq!(
        verdict_of(limited(7), limited(3)),
        Err(Verdict::RateLimited {
            retry_after: Duration::from_secs(3)
        })
    );
    let timeout = || SourceOutcome::Failed(VendorError::Timeout);
    assert_eq!(verdict_of(timeout(), timeout()), Err(Verdict::TimedOut));
    assert_eq!(verdict_of(timeout(), limited(1)), Err(Verdict::Failed));
    let busy = || SourceOutcome::Failed(VendorError::SourceBusy);
    let memory = || SourceOutcome::Failed(VendorError::VendorBytesExhausted);
    assert_eq!(verdict_of(busy(), memory()), Err(Verdict::Busy));
    assert_eq!(verdict_of(busy(), timeout()), Err(Verdict::Failed));
    // A skipped source is no failure: one failure among skips is still all that failed.
    let skipped = || SourceOutcome::Skipped("filter".to_owned());
    assert_eq!(verdict_of(skipped(), timeout()), Err(Verdict::TimedOut));
    assert_eq!(verdict_of(skipped(), skipped()), Ok(()));
    assert_eq!(verdict_of(SourceOutcome::Ok, timeout()), Ok(()));
}

#[test]
fn a_source_read_waiting_for_its_turn_holds_little_memory() {
    // Every request holds one such read per source while it waits for turns, so at 256
    // connections of four-source requests 4 KiB more per read is 4 MiB more. (Before the
    // read of a slice was boxed: 3 KiB here, 6 KiB in a release build of the real adapters.)
    let vendor = Arc::new(FakeVendor::new("a", &[Some(1)]));
    let mut registry = VendorRegistry::default();
    registry.insert(vendor.clone());
    for ttl in [Duration::ZERO, Duration::from_secs(60)] {
        let aggregator = Aggregator::new(registry.clone(), &CacheConfig::with_ttl(ttl));
        let ctx = CallContext::with_budget(Duration::from_secs(1));
        let adapter: Arc<dyn VendorAdapter> = vendor.clone();
        let query = window(0, 100);
        let read = aggregator.read_source(&ctx, &adapter, &query, None, 20);
        let size = std::mem::size_of_val(&read);
        assert!(size <= 2048, "{size} bytes with a cache TTL of {ttl:?}");
    }
}

#[test]
fn a_new_walk_keeps_its_plan_when_the_walk_memory_is_full() {
    let memory = walk_memory::<usize, usize>();
    let walks = 3 * MAX_PLANS.get();
    for walk in 0..walks {
        memory.get_with(walk, || walk);
    }
    assert_eq!(
        memory.get(&(walks - 1)),
        Some(walks - 1),
        "the newest walk's plan"
    );
    assert_eq!(memory.get(&0), None, "the walk unused longest is dropped");
    assert_eq!(memory.len(), MAX_PLANS.get());
}
