//! Shared vendor reads: identical reads in flight share one call, finished ones are kept
//! for the TTL, and every cache is bounded by the conversations or messages it holds.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use moka::future::Cache;
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
    cache: Cache<K, V>,
    keep: bool,
    /// Vendor calls running on their own task, by key, until they finish.
    detached: Arc<Mutex<HashMap<K, DetachedCall<V>>>>,
}

/// A vendor call on its own task, awaited by every request that wants its answer.
type DetachedCall<V> = Shared<BoxFuture<'static, Result<V, VendorError>>>;

impl<K, V> Flights<K, V>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Weight + Clone + Send + Sync + 'static,
{
    /// `name` labels the cache's hit and miss counts. The cache holds at most `max_items`
    /// conversations or messages: memory is bounded by what is cached, not by how many keys.
    pub(super) fn new(name: &'static str, ttl: Duration, max_items: u64) -> Self {
        let builder = Cache::builder()
            .max_capacity(max_items)
            .weigher(|_key: &K, value: &V| value.weight());
        // Idle expiry keeps a slice alive while a walk is still reading it (so a long walk
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
        crate::metrics::cache_lookup(self.name, self.cache.contains_key(&key));
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
        let (cache, keep, table, finished) = (
            self.cache.clone(),
            self.keep,
            self.detached.clone(),
            key.clone(),
        );
        // The call's spans belong to the request that started it, also once it has left.
        let load = load.in_current_span();
        // The table stays locked until the call is in it, so the task cannot remove it first.
        let task = tokio::spawn(async move {
            let outcome = load.await;
            if let (true, Ok(value)) = (keep, &outcome) {
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
        self.cache.invalidate(key).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::Flights;

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
        flights.cache.run_pending_tasks().await;

        let held = flights.cache.weighted_size();
        assert!(held > 0 && held <= 10, "{held} items held");
    }
}
