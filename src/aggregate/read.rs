//! Reading one source for one page: its window in time slices newest first (or whole, for
//! a source that cannot be sliced), each slice complete before anything of it is served,
//! since no vendor promises an order inside its answers.

use std::sync::{Arc, PoisonError};

// Each request hashes every conversation of its slices: foldhash (hashbrown's own default)
// halved hashing's share of a cached request's profile against std's SipHash (8% to 4%).
use foldhash::{HashSet, HashSetExt};
use futures::future::join_all;

use super::flights::Weight;
use super::slices::{Density, Planned, Span};
use super::{Aggregator, DensityKey, take_turn};
use crate::domain::{Conversation, SortKey};
use crate::vendors::reads::DEFAULT_MAX_ITEMS_PER_READ;
use crate::vendors::{
    CallContext, ConversationQuery, Slicing, SourceReads, VendorAdapter, VendorError,
};

/// Most vendor pages read for one piece that cannot be split: a guard against a vendor
/// cursor that never ends.
const MAX_PAGES_PER_PIECE: usize = 1000;
/// Most slices read or split for one page of one source.
const MAX_SLICE_STEPS: usize = 256;

/// When a slice is split rather than read on.
#[derive(Debug, Clone, Copy)]
struct SplitRule {
    /// Most conversations a vendor page holds.
    capacity: usize,
    /// Most vendor pages to read.
    max_pages: usize,
    /// Whether to read on past a full page without a vendor total.
    blind: bool,
}

impl SplitRule {
    /// Whether to stop after `pages` full pages holding `read` conversations, the vendor
    /// having said the slice holds `total`.
    fn gives_up(self, pages: usize, total: Option<u64>, read: usize) -> bool {
        // A total below what was already read is not believed.
        let said = total
            .filter(|total| *total >= read as u64)
            .map(|total| total.div_ceil(self.capacity.max(1) as u64));
        match said {
            Some(pages_said) => pages_said > self.max_pages as u64 || pages >= self.max_pages,
            None => !self.blind || pages >= self.max_pages,
        }
    }
}

/// A slice of a source's window, as read.
#[derive(Debug)]
pub(super) enum Slice {
    /// Every conversation in it, filtered exactly, in list order.
    Complete(Vec<Arc<Conversation>>),
    /// It needs more vendor pages than a slice may take, so it is split instead: the
    /// vendor's `total` for it (if sent), and how many conversations were seen.
    TooFull {
        total: Option<u64>,
        read: usize,
        /// Sort times (ms) of what was read: where in the slice its items lie.
        times: Vec<i64>,
    },
}

impl Weight for Arc<Slice> {
    fn weight(&self) -> u32 {
        match &**self {
            Slice::Complete(items) => u32::try_from(items.len()).unwrap_or(u32::MAX).max(1),
            Slice::TooFull { times, .. } => {
                u32::try_from(times.len() / 8).unwrap_or(u32::MAX).max(1)
            }
        }
    }
}

/// One vendor page of a slice being read, filtered exactly.
#[derive(Debug)]
pub(super) struct VendorPage {
    items: Vec<Arc<Conversation>>,
    next_cursor: Option<String>,
    total: Option<u64>,
}

impl Weight for Arc<VendorPage> {
    fn weight(&self) -> u32 {
        u32::try_from(self.items.len()).unwrap_or(u32::MAX).max(1)
    }
}

impl Aggregator {
    /// A source's conversations after `after`, in order, at most `page_size` of them, and
    /// whether it may have more.
    pub(super) async fn read_source(
        &self,
        ctx: &CallContext,
        adapter: &Arc<dyn VendorAdapter>,
        query: &ConversationQuery,
        after: Option<&SortKey>,
        page_size: usize,
    ) -> Result<(Vec<Arc<Conversation>>, bool), VendorError> {
        let mut found = match adapter.slicing() {
            Some(slicing) => {
                self.read_slices(ctx, adapter, slicing, query, after, page_size)
                    .await?
            }
            None => match &*self.slice(ctx, adapter, query, None).await? {
                Slice::Complete(items) => items
                    .iter()
                    .filter(|item| after.is_none_or(|after| item.lists_after(after)))
                    .take(page_size + 1)
                    .cloned()
                    .collect(),
                // Only a slice that may be split comes back too full.
                Slice::TooFull { .. } => {
                    return Err(VendorError::endless_paging(
                        "conversation list",
                        MAX_PAGES_PER_PIECE,
                    ));
                }
            },
        };
        found.sort_by(|a, b| a.list_order(b));
        let more = found.len() > page_size;
        found.truncate(page_size);
        Ok((found, more))
    }

    /// At least one more than a page of a sliced source's conversations after `after` (or
    /// all that are left), reading the slices that hold them newest first and learning the
    /// source's density from each.
    async fn read_slices(
        &self,
        ctx: &CallContext,
        adapter: &Arc<dyn VendorAdapter>,
        slicing: Slicing,
        query: &ConversationQuery,
        after: Option<&SortKey>,
        page_size: usize,
    ) -> Result<Vec<Arc<Conversation>>, VendorError> {
        let wanted = page_size + 1;
        let window = Span::of(query);
        // Everything newer than the last item served was on an earlier page. Items without
        // a time sort last and come from the oldest slice only.
        let mut frontier = match after.map(|after| after.time_ms) {
            None => window.until,
            Some(Some(time)) => time.saturating_add(1).min(window.until),
            Some(None) => window.since.saturating_add(1).min(window.until),
        };
        let plan = self.plan(adapter.source(), query);
        let density_key = DensityKey::of(adapter.source(), query);
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..MAX_SLICE_STEPS {
            if found.len() >= wanted || frontier <= window.since {
                return Ok(found);
            }
            let planned = plan.lock().unwrap_or_else(PoisonError::into_inner).next(
                window,
                slicing,
                self.densities.get(&density_key),
                frontier,
                wanted - found.len(),
            );
            // Slices wanted for one page go out together; the quota paces them.
            let queries: Vec<_> = planned.iter().map(|p| p.span.query(query)).collect();
            let reads = join_all(planned.iter().zip(&queries).map(|(planned, query)| {
                let split = planned.span.splittable().then_some(SplitRule {
                    capacity: slicing.page_capacity,
                    max_pages: planned.max_pages,
                    blind: !planned.probe,
                });
                self.slice(ctx, adapter, query, split)
            }))
            .await;
            for (Planned { span, .. }, read) in planned.into_iter().zip(reads) {
                let last = self.densities.get(&density_key);
                match &*read? {
                    Slice::Complete(items) => {
                        plan.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .complete(span, items.len());
                        self.densities.insert(
                            density_key.clone(),
                            Density::after_complete(last, span, items.len()),
                        );
                        let oldest = span.since == window.since;
                        for item in items {
                            let untimed = item.sort_time().is_none();
                            if (untimed && !oldest)
                                || after.is_some_and(|after| !item.lists_after(after))
                            {
                                continue;
                            }
                            if seen.insert(ById(item.clone())) {
                                found.push(item.clone());
                            }
                        }
                        frontier = span.since;
                    }
                    Slice::TooFull { total, read, times } => {
                        self.densities.insert(
                            density_key.clone(),
                            Density::after_too_full(
                                last,
                                span,
                                *total,
                                *read,
                                slicing.page_capacity,
                            ),
                        );
                        let mut plan = plan.lock().unwrap_or_else(PoisonError::into_inner);
                        plan.forget(span);
                        plan.learn_sample(span, total.unwrap_or(0), times);
                        // Older slices read alongside stay cached for the re-planned walk.
                        break;
                    }
                }
            }
        }
        Err(VendorError::endless_paging("time slices", MAX_SLICE_STEPS))
    }

    /// One slice or piece, read whole (cached), unless `split` says to give up on it.
    async fn slice(
        &self,
        ctx: &CallContext,
        adapter: &Arc<dyn VendorAdapter>,
        query: &ConversationQuery,
        split: Option<SplitRule>,
    ) -> Result<Arc<Slice>, VendorError> {
        // Boxed: the read is nested several futures deep, each of which would otherwise
        // carry room for it (and a request waiting for its turn holds them all).
        let load = Box::pin(async {
            let source = adapter.source();
            let reads = self.registry.reads(source);
            let _turn = take_turn(reads, source, ctx).await?;
            let max_items = reads.map_or(DEFAULT_MAX_ITEMS_PER_READ, SourceReads::max_items);
            // Boxed, so a read waiting for its turn holds a pointer, not the read's state.
            Box::pin(self.read_slice(ctx, adapter, query, split, max_items))
                .await
                .map(Arc::new)
        });
        self.slices
            .get((adapter.source().clone(), query.clone()), load)
            .await
    }

    /// Reads the vendor pages of one slice and keeps what matches the query exactly, at
    /// most `max_items` of them. Each page is kept on its own until the slice is complete
    /// (then the slice is), so a request cut short leaves its progress for the next one.
    async fn read_slice(
        &self,
        ctx: &CallContext,
        adapter: &Arc<dyn VendorAdapter>,
        query: &ConversationQuery,
        split: Option<SplitRule>,
        max_items: usize,
    ) -> Result<Slice, VendorError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen_cursors = HashSet::new();
        let mut read = Vec::new();
        let mut total = None;
        let mut too_full = false;
        let mut refused = None;
        for page in 0.. {
            if page == MAX_PAGES_PER_PIECE {
                refused = Some(VendorError::endless_paging(
                    "conversation list",
                    MAX_PAGES_PER_PIECE,
                ));
                break;
            }
            let key = (adapter.source().clone(), query.clone(), cursor.clone());
            let call = (adapter.clone(), ctx.clone(), query.clone(), cursor.clone());
            let load = async move {
                let (adapter, ctx, query, cursor) = call;
                let batch = adapter
                    .list_conversations(&ctx, &query, cursor.as_deref())
                    .await?;
                Ok(Arc::new(VendorPage {
                    items: batch
                        .items
                        .into_iter()
                        .filter(|item| matches(item, &query))
                        .map(Arc::new)
                        .collect(),
                    next_cursor: batch.next_cursor,
                    total: batch.total,
                }))
            };
            let batch = self.pages.get_detached(key.clone(), load).await?;
            read.push(key);
            if page == 0 {
                total = batch.total;
            }
            items.extend(batch.items.iter().cloned());
            if items.len() > max_items {
                // A slice that may be split is split instead of failing.
                match split {
                    Some(_) => too_full = true,
                    None => refused = Some(VendorError::TooManyItems { limit: max_items }),
                }
                break;
            }
            let next = match &batch.next_cursor {
                // A cursor seen before would loop forever: the vendor has nothing new to give.
                Some(next) if seen_cursors.insert(next.clone()) => next.clone(),
                _ => break,
            };
            if split.is_some_and(|split| split.gives_up(page + 1, total, items.len())) {
                too_full = true;
                break;
            }
            cursor = Some(next);
        }
        // A finished slice is cached whole and a split one is never read again: either way
        // its pages need no second copy.
        for key in read {
            self.pages.forget(&key).await;
        }
        if let Some(err) = refused {
            return Err(err);
        }
        if too_full {
            return Ok(Slice::TooFull {
                total,
                read: items.len(),
                times: items
                    .iter()
                    .filter_map(|item| item.sort_time())
                    .map(|t| t.timestamp_millis())
                    .collect(),
            });
        }
        let mut seen = HashSet::with_capacity(items.len());
        items.retain(|item| seen.insert(ById(item.clone())));
        items.sort_by(|a, b| a.list_order(b));
        Ok(Slice::Complete(items))
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

/// A conversation in a set of ids: equal to another with the same id.
struct ById(Arc<Conversation>);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for ById {}

impl std::hash::Hash for ById {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}
