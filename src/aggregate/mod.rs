//! Fan-out over the configured sources: reads each source's window in time slices sized
//! to about a vendor page, caches what was read, merges the sources in the gateway's
//! order, and applies the partial-failure policy. No HTTP types here: handlers turn
//! outcomes into responses.

mod flights;
mod memory;
mod read;
mod slices;
#[cfg(test)]
mod tests;
mod walk;

pub use self::walk::{
    AllFailed, MissingWindow, Position, ResumeError, SourceState, SourceStatus as WalkStatus,
    Verdict, Walk, WalkPage,
};

use std::collections::BTreeMap;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use self::flights::{Flights, Weight};
use self::memory::WalkMemory;
use self::read::{Slice, VendorPage};
use self::slices::{Density, Plan};
use crate::config::CacheConfig;
use crate::domain::{Conversation, ErrorCode, Message, SortKey, SourceName, VendorKind};
use crate::vendors::{
    CallContext, ConversationQuery, ReadTurn, ReadsSnapshot, SourceReads, Upstream,
    UpstreamSnapshot, VendorAdapter, VendorError, VendorRegistry,
};

/// Walk plans and density estimates kept at most (they are small: bounds, and one number).
const MAX_PLANS: NonZeroUsize = NonZeroUsize::new(10_000).unwrap();
/// A walk plan or density estimate not used for this long is dropped.
const PLAN_IDLE: Duration = Duration::from_secs(15 * 60);

/// Where walk plans and density estimates are kept: at most [`MAX_PLANS`], each dropped
/// after [`PLAN_IDLE`] unused, the least recently used first when full, so a new walk
/// keeps its plan however many walks came before it.
fn walk_memory<K: Hash + Eq, V: Clone>() -> WalkMemory<K, V> {
    WalkMemory::new(MAX_PLANS, PLAN_IDLE)
}

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
    pub items: Vec<Arc<Conversation>>,
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
    pub last_error: Option<(ErrorCode, DateTime<Utc>)>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
}

/// Everything known of how one source is doing, gathered in one place for `GET /sources`:
/// the outcomes of its reads, its circuit breaker, its quota and its reads at once.
#[derive(Debug, Clone, Default)]
pub struct SourceSnapshot {
    pub health: SourceHealth,
    pub upstream: UpstreamSnapshot,
    pub reads: ReadsSnapshot,
}

/// A slice of one source: its time span and filters.
type SliceKey = (SourceName, ConversationQuery);
/// One vendor page of a slice: the slice and the cursor it starts at.
type PageKey = (SourceName, ConversationQuery, Option<String>);
type MessagesKey = (SourceName, String);

/// Whose density an estimate is: a source under one set of filters (windows share it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DensityKey {
    source: SourceName,
    customer_id: Option<String>,
    agent_id: Option<String>,
}

impl DensityKey {
    fn of(source: &SourceName, query: &ConversationQuery) -> Self {
        Self {
            source: source.clone(),
            customer_id: query.customer_id.clone(),
            agent_id: query.agent_id.clone(),
        }
    }
}

/// The fan-out engine. One per process, shared by every request.
pub struct Aggregator {
    registry: VendorRegistry,
    /// Slices read whole (or found too full to read).
    slices: Flights<SliceKey, Arc<Slice>>,
    /// Vendor pages of slices still being read: a request that runs out of budget or
    /// quota mid-slice leaves them here, so asking again continues where it stopped.
    pages: Flights<PageKey, Arc<VendorPage>>,
    messages: Flights<MessagesKey, Arc<Vec<Message>>>,
    /// The slices each walk (a source and a query) has settled on.
    plans: WalkMemory<SliceKey, Arc<Mutex<Plan>>>,
    /// How dense each source is under each set of filters, as last seen.
    densities: WalkMemory<DensityKey, Density>,
    health: Mutex<BTreeMap<SourceName, SourceHealth>>,
}

impl<T> Weight for Arc<Vec<T>> {
    fn weight(&self) -> u32 {
        u32::try_from(self.len()).unwrap_or(u32::MAX).max(1)
    }
}

impl Aggregator {
    /// Vendor answers are reused as `[cache]` says (a zero TTL: never).
    pub fn new(registry: VendorRegistry, cache: &CacheConfig) -> Self {
        Self {
            registry,
            slices: Flights::new("slices", cache.ttl, cache.max_items),
            pages: Flights::new("pages", cache.ttl, cache.max_items),
            messages: Flights::new("messages", cache.ttl, cache.max_items),
            plans: walk_memory(),
            densities: walk_memory(),
            health: Mutex::new(BTreeMap::new()),
        }
    }

    /// The plan of one source's walk over `query`'s window.
    fn plan(&self, source: &SourceName, query: &ConversationQuery) -> Arc<Mutex<Plan>> {
        self.plans
            .get_with((source.clone(), query.clone()), Default::default)
    }

    /// Every configured source.
    pub fn registry(&self) -> &VendorRegistry {
        &self.registry
    }

    /// How a source is doing now.
    pub fn snapshot(&self, source: &SourceName) -> SourceSnapshot {
        SourceSnapshot {
            health: self
                .health
                .lock()
                .map(|health| health.get(source).cloned().unwrap_or_default())
                .unwrap_or_default(),
            upstream: self
                .registry
                .upstream(source)
                .map(Upstream::snapshot)
                .unwrap_or_default(),
            reads: self
                .registry
                .reads(source)
                .map(SourceReads::snapshot)
                .unwrap_or_default(),
        }
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
                    let read = self.read_source(ctx, adapter, query, after, page_size);
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
        items.sort_by(|a, b| a.list_order(b));
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
        adapter: &Arc<dyn VendorAdapter>,
        native_id: &str,
    ) -> Result<Arc<Vec<Message>>, VendorError> {
        let call = (
            adapter.clone(),
            ctx.clone(),
            native_id.to_owned(),
            self.registry.reads(adapter.source()).cloned(),
        );
        let load = async move {
            let (adapter, ctx, native_id, reads) = call;
            let _turn = take_turn(reads.as_ref(), adapter.source(), &ctx).await?;
            adapter.list_messages(&ctx, &native_id).await.map(Arc::new)
        };
        let outcome = self
            .messages
            .get_detached((adapter.source().clone(), native_id.to_owned()), load)
            .await;
        // A conversation the vendor does not know is an answer, not a failing source.
        match &outcome {
            Err(err) if err.kind().is_source_failure() => {
                self.record(adapter.source(), Err(err));
            }
            _ => self.record(adapter.source(), Ok(())),
        }
        outcome
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

/// A turn of `source`'s `reads` (`sources[].max_concurrent_reads`) for a read that is
/// about to start, waiting for one within `ctx`'s budget. Only reads that call the vendor
/// take one: a request that joins a read in flight, or finds it cached, does not.
async fn take_turn(
    reads: Option<&SourceReads>,
    source: &SourceName,
    ctx: &CallContext,
) -> Result<Option<ReadTurn>, VendorError> {
    match reads {
        Some(reads) => reads.take(source.as_str(), ctx.deadline).await.map(Some),
        None => Ok(None),
    }
}
