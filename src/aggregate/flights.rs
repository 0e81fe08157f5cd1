//! Shared vendor reads: identical reads in flight share one call, finished ones are kept
//! for the TTL, and every cache is bounded by the conversations or messages it holds.
//! With the cache off (a zero TTL) no cache is built at all: reads are only shared.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use moka::future::Cache;
use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::vendors::VendorError;

/// A cached answer in use is kept at most this many times the TTL.
const CACHE_MAX_LIFE_FACTOR: u32 = 10;

/// How much room a cached answer takes: one unit per conversation or message.
pub(super) trait Weight {
    fn weight(&self) -> u32;
}

/// Identical vendor reads in flight at once share one call; finished reads are kept for
/// the TTL (a zero TTL keeps nothing, but still shares the flight).
pub(super) struct Flights<K, V> {
    name: &'static str,
    /// `None` when the TTL is zero: a cache that keeps nothing would only cost CPU.
    cache: Option<Cache<K, V>>,
    /// Reads in progress by key, shared without a cache (a zero TTL).
    loading: Mutex<HashMap<K, Arc<Loading<V>>>>,
    /// Vendor calls running on their own task, by key, until they finish.
    detached: Arc<Mutex<HashMap<K, DetachedCall<V>>>>,
}

/// A vendor call on its own task, awaited by every request that wants its answer.
type DetachedCall<V> = Shared<BoxFuture<'static, Result<V, VendorError>>>;

/// The outcome of one read in progress, set by whichever waiting request runs its load:
/// when that request leaves first, another waiting one runs its own instead.
type Loading<V> = OnceCell<Result<V, VendorError>>;

impl<K, V> Flights<K, V>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Weight + Clone + Send + Sync + 'static,
{
    /// `name` labels the cache's hit, miss and eviction counts. The cache holds at most
    /// `max_items` conversations or messages: memory is bounded by what is cached, not by
    /// how many keys.
    pub(super) fn new(name: &'static str, ttl: Duration, max_items: u64) -> Self {
        // Least recently used goes first: the answer just paid for in quota is the one a
        // walk's next page or a repeated request wants. moka's default policy would refuse
        // it while the cache is full of answers read as often, and the quota would be spent
        // again for it.
        let builder = Cache::builder()
            .max_capacity(max_items)
            .weigher(|_key: &K, value: &V| value.weight())
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .eviction_listener(move |_key, _value, cause| {
                if cause == moka::notification::RemovalCause::Size {
                    crate::metrics::cache_evicted(name);
                }
            });
        // Idle expiry keeps a slice alive while a walk is still reading it (so a long walk
        // costs each vendor page once); the max life bounds how stale it can get.
        let cache = (!ttl.is_zero()).then(|| {
            builder
                .time_to_idle(ttl)
                .time_to_live(ttl * CACHE_MAX_LIFE_FACTOR)
                .build()
        });
        Self {
            name,
            cache,
            loading: Mutex::default(),
            detached: Arc::default(),
        }
    }

    /// The kept answer for `key`, or the outcome of `load` (shared with every identical
    /// request in flight). Failures are never kept.
    pub(super) async fn get(
        &self,
        key: K,
        load: impl std::future::Future<Output = Result<V, VendorError>>,
    ) -> Result<V, VendorError> {
        let Some(cache) = &self.cache else {
            crate::metrics::cache_lookup(self.name, false);
            return self.share(key, load).await;
        };
        crate::metrics::cache_lookup(self.name, cache.contains_key(&key));
        // Boxed: moka's future is large, and without the box every read of every request,
        // also one waiting for its turn with the cache off, would carry room for it.
        Box::pin(cache.try_get_with(key, load))
            .await
            .map_err(|err| (*err).clone())
    }

    /// The outcome of `load`, shared with every identical request in flight; nothing is
    /// kept once it is known.
    async fn share(
        &self,
        key: K,
        load: impl Future<Output = Result<V, VendorError>>,
    ) -> Result<V, VendorError> {
        let waiting = Waiting::join(&self.loading, key);
        waiting.loading.get_or_init(|| load).await.clone()
    }

    /// Like [`Flights::get`], for one vendor read that, once started, runs to its end on its
    /// own task: its quota is spent, so its answer is kept (for the TTL) even when every
    /// request that wanted it has left, and a request that asks meanwhile, or takes over
    /// from one that left, waits for it instead of calling again. Nothing starts for a
    /// request that has left: `load` is only started when a request is there to await it.
    pub(super) async fn get_detached(
        &self,
        key: K,
        load: impl Future<Output = Result<V, VendorError>> + Send + 'static,
    ) -> Result<V, VendorError> {
        if self.cache.is_none() {
            // The detached call is already shared by key.
            crate::metrics::cache_lookup(self.name, false);
            return self.join_or_start(key, load).await;
        }
        let call = async { self.join_or_start(key.clone(), load).await };
        self.get(key.clone(), call).await
    }

    /// The call in flight for `key`, or a new one running `load`.
    fn join_or_start(
        &self,
        key: K,
        load: impl Future<Output = Result<V, VendorError>> + Send + 'static,
    ) -> DetachedCall<V> {
        let mut detached = self.detached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(call) = detached.get(&key) {
            return call.clone();
        }
        let (cache, table, finished) = (self.cache.clone(), self.detached.clone(), key.clone());
        // The call's spans belong to the request that started it, also once it has left.
        let load = load.in_current_span();
        // The table stays locked until the call is in it, so the task cannot remove it first.
        let task = tokio::spawn(async move {
            let outcome = load.await;
            if let (Some(cache), Ok(value)) = (cache, &outcome) {
                cache.insert(finished.clone(), value.clone()).await;
            }
            table
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&finished);
            outcome
        });
        let call = async move {
            task.await.unwrap_or_else(|_| {
                Err(VendorError::Decode(
                    "the vendor call stopped unexpectedly".to_owned(),
                ))
            })
        }
        .boxed()
        .shared();
        detached.insert(key, call.clone());
        call
    }

    /// Drops a kept answer (nothing happens when there is none).
    pub(super) async fn forget(&self, key: &K) {
        if let Some(cache) = &self.cache {
            cache.invalidate(key).await;
        }
    }
}

/// One request waiting for a read in progress (see [`Flights::share`]).
struct Waiting<'a, K: std::hash::Hash + Eq, V> {
    table: &'a Mutex<HashMap<K, Arc<Loading<V>>>>,
    key: K,
    loading: Arc<Loading<V>>,
}

impl<'a, K: std::hash::Hash + Eq + Clone, V> Waiting<'a, K, V> {
    /// Joins the read in progress for `key`, or starts waiting for a new one.
    fn join(table: &'a Mutex<HashMap<K, Arc<Loading<V>>>>, key: K) -> Self {
        let loading = table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone();
        Self {
            table,
            key,
            loading,
        }
    }
}

impl<K: std::hash::Hash + Eq, V> Drop for Waiting<'_, K, V> {
    /// The first request to have the outcome, or the last one to leave without it, takes
    /// the read out of the table: the next identical request reads anew.
    fn drop(&mut self) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        // Clones are only made under this lock, so the count cannot grow meanwhile.
        let ours = table
            .get(&self.key)
            .is_some_and(|loading| Arc::ptr_eq(loading, &self.loading));
        if ours && (self.loading.initialized() || Arc::strong_count(&self.loading) == 2) {
            table.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures::FutureExt;

    use super::Flights;

    fn uncached() -> Flights<u32, Arc<Vec<u8>>> {
        Flights::new("test", Duration::ZERO, 10)
    }

    fn reads_in_progress(flights: &Flights<u32, Arc<Vec<u8>>>) -> usize {
        flights.loading.lock().unwrap().len()
    }

    #[tokio::test(start_paused = true)]
    async fn with_the_cache_off_identical_reads_in_flight_share_one_load_and_none_is_kept() {
        let flights = uncached();
        assert!(flights.cache.is_none());
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok(Arc::new(vec![1_u8]))
        };

        let (first, second) = tokio::join!(flights.get(7, load()), flights.get(7, load()));
        assert_eq!(*first.unwrap(), vec![1]);
        assert_eq!(*second.unwrap(), vec![1]);
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one load for both");
        assert_eq!(reads_in_progress(&flights), 0);

        flights.get(7, load()).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 2, "nothing was kept");
        assert_eq!(reads_in_progress(&flights), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn with_the_cache_off_a_waiting_request_takes_over_from_one_that_left() {
        let flights = uncached();
        let mut first = Box::pin(flights.get(7, std::future::pending()));
        assert!((&mut first).now_or_never().is_none(), "the first load runs");
        let second = flights.get(7, async { Ok(Arc::new(vec![2_u8])) });
        let mut second = Box::pin(second);
        assert!((&mut second).now_or_never().is_none(), "the second waits");

        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(1), second).await;
        assert_eq!(*second.expect("its own load ran").unwrap(), vec![2]);
        assert_eq!(reads_in_progress(&flights), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn with_the_cache_off_a_read_every_request_left_is_forgotten() {
        let flights = uncached();
        let mut first = Box::pin(flights.get(7, std::future::pending()));
        let mut second = Box::pin(flights.get(7, std::future::pending()));
        assert!((&mut first).now_or_never().is_none());
        assert!((&mut second).now_or_never().is_none());
        assert_eq!(reads_in_progress(&flights), 1);

        drop(first);
        assert_eq!(reads_in_progress(&flights), 1, "one request still waits");
        drop(second);
        assert_eq!(reads_in_progress(&flights), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn with_the_cache_off_a_failure_is_shared_with_the_requests_waiting_for_it() {
        let flights = uncached();
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            Err(crate::vendors::VendorError::Timeout)
        };
        let (first, second) = tokio::join!(flights.get(7, load()), flights.get(7, load()));
        assert!(first.is_err() && second.is_err());
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(reads_in_progress(&flights), 0);
    }

    #[tokio::test]
    async fn a_full_cache_keeps_the_newest_answer_and_lets_the_oldest_go() {
        crate::metrics::install();
        // Room for two answers of four items.
        let flights = Flights::new("unit-full", Duration::from_secs(60), 10);
        let cache = flights.cache.clone().expect("a TTL keeps a cache");
        for key in 0..20_u32 {
            flights
                .get(key, async { Ok(Arc::new(vec![0_u8; 4])) })
                .await
                .expect("a load that cannot fail");
            cache.run_pending_tasks().await;
            assert!(cache.contains_key(&key), "answer {key} was not kept");
        }
        assert!(!cache.contains_key(&0), "the oldest answer is gone");
        assert!(cache.weighted_size() <= 10);
        let counted = "gateway_cache_evictions_total{cache=\"unit-full\"} 18";
        let metrics = crate::metrics::render();
        assert!(metrics.contains(counted), "no {counted} in\n{metrics}");
    }

    #[tokio::test]
    async fn a_cache_never_holds_more_items_than_its_configured_size() {
        let flights = Flights::new("test", Duration::from_secs(60), 10);
        for key in 0..5_u32 {
            let items = flights
                .get(key, async { Ok(Arc::new(vec![0_u8; 4])) })
                .await
                .expect("a load that cannot fail");
            assert_eq!(items.len(), 4);
        }
        let cache = flights.cache.as_ref().expect("a TTL keeps a cache");
        cache.run_pending_tasks().await;

        let held = cache.weighted_size();
        assert!(held > 0 && held <= 10, "{held} items held");
    }
}
