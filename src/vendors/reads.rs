//! How one source may be read: `sources[].max_concurrent_reads` reads at once (a read that
//! is about to call the vendor, a time slice of a listing or a conversation's messages,
//! takes a turn and gives it back when it ends) and `sources[].max_items_per_read`
//! conversations held by one read. So what a source's reads hold (their state, vendor
//! connections, answers and items) is bounded by configuration at any load.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

use super::VendorError;
use crate::metrics;

/// Default most reads of one source in progress at once.
pub const DEFAULT_MAX_CONCURRENT_READS: usize = 16;
/// Largest `sources[].max_concurrent_reads`.
pub const MAX_CONCURRENT_READS: usize = 4096;
/// Default most conversations one read of a source holds.
pub const DEFAULT_MAX_ITEMS_PER_READ: usize = 10_000;
/// Largest `sources[].max_items_per_read`.
pub const MAX_ITEMS_PER_READ: usize = 1_000_000;

/// How one source may be read: its turns and the items one read may hold. Cheap to clone;
/// clones share the turns.
#[derive(Debug, Clone)]
pub struct SourceReads {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    semaphore: Arc<Semaphore>,
    max: usize,
    max_items: usize,
    waited: AtomicU64,
    refused: AtomicU64,
}

/// One read's turn; the next waiting read goes when it is dropped.
#[derive(Debug)]
pub struct ReadTurn {
    _permit: OwnedSemaphorePermit,
}

/// How a source's turns stand, for `GET /sources`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadsSnapshot {
    /// Reads allowed at once.
    pub max: usize,
    /// Conversations one read may hold.
    pub max_items: usize,
    /// Reads in progress now.
    pub in_progress: usize,
    /// Reads that found every turn taken and waited, since start.
    pub waited: u64,
    /// Reads that got no turn within their budget (`SOURCE_BUSY`), since start.
    pub refused: u64,
}

impl SourceReads {
    /// `max` reads at once, each holding at most `max_items` conversations (both at least
    /// one).
    pub fn new(max: usize, max_items: usize) -> Self {
        let max = max.clamp(1, MAX_CONCURRENT_READS);
        Self {
            inner: Arc::new(Inner {
                semaphore: Arc::new(Semaphore::new(max)),
                max,
                max_items: max_items.clamp(1, MAX_ITEMS_PER_READ),
                waited: AtomicU64::new(0),
                refused: AtomicU64::new(0),
            }),
        }
    }

    /// The most conversations one read may hold.
    pub fn max_items(&self) -> usize {
        self.inner.max_items
    }

    /// A turn for a read of `source`, waiting first in line (turns are given in order of
    /// asking) until `deadline` at the latest; then the source is
    /// [`VendorError::SourceBusy`].
    pub async fn take(&self, source: &str, deadline: Instant) -> Result<ReadTurn, VendorError> {
        let semaphore = Arc::clone(&self.inner.semaphore);
        let permit = match Arc::clone(&semaphore).try_acquire_owned() {
            Ok(permit) => Ok(permit),
            Err(TryAcquireError::NoPermits) => {
                self.inner.waited.fetch_add(1, Ordering::Relaxed);
                match tokio::time::timeout_at(deadline, semaphore.acquire_owned()).await {
                    Ok(Ok(permit)) => Ok(permit),
                    // Never closed: only a timeout gets here in practice.
                    Ok(Err(_)) | Err(_) => Err(()),
                }
            }
            Err(TryAcquireError::Closed) => Err(()),
        };
        permit
            .map(|permit| ReadTurn { _permit: permit })
            .map_err(|()| {
                self.inner.refused.fetch_add(1, Ordering::Relaxed);
                metrics::source_read_refused(source);
                VendorError::SourceBusy
            })
    }

    /// Turns free now.
    pub fn available(&self) -> usize {
        self.inner.semaphore.available_permits()
    }

    /// How the turns stand.
    pub fn snapshot(&self) -> ReadsSnapshot {
        ReadsSnapshot {
            max: self.inner.max,
            max_items: self.inner.max_items,
            in_progress: self.inner.max - self.available(),
            waited: self.inner.waited.load(Ordering::Relaxed),
            refused: self.inner.refused.load(Ordering::Relaxed),
        }
    }
}

impl Default for SourceReads {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_CONCURRENT_READS, DEFAULT_MAX_ITEMS_PER_READ)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_read_past_the_limit_waits_for_a_turn_and_is_busy_when_none_comes_in_time() {
        let turns = SourceReads::new(2, 10);
        let far = Instant::now() + Duration::from_secs(60);
        let first = turns.take("a", far).await.unwrap();
        let _second = turns.take("a", far).await.unwrap();
        assert_eq!(turns.available(), 0);

        let soon = Instant::now() + Duration::from_secs(1);
        let err = turns.take("a", soon).await.unwrap_err();
        assert!(matches!(err, VendorError::SourceBusy), "{err:?}");
        assert_eq!(
            turns.snapshot(),
            ReadsSnapshot {
                max: 2,
                max_items: 10,
                in_progress: 2,
                waited: 1,
                refused: 1
            }
        );

        // A turn given back goes to the one waiting.
        let waiting = tokio::spawn({
            let turns = turns.clone();
            async move { turns.take("a", far).await.map(|_| ()) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(first);
        waiting.await.unwrap().unwrap();
        assert_eq!(turns.available(), 1);
    }

    #[tokio::test]
    async fn each_configured_source_gets_its_own_limits() {
        use crate::config::{Config, testing::env};
        use crate::ratelimit::QuotaStore;
        use crate::vendors::{Transport, VendorRegistry};

        let config = Config::parse(
            "[[sources]]\nname = \"a\"\nvendor = \"gptbots\"\nbase_url = \"http://x\"\napi_key = \"k\"\nmax_concurrent_reads = 3\nmax_items_per_read = 50\n\
             [[sources]]\nname = \"b\"\nvendor = \"gptbots\"\nbase_url = \"http://x\"\napi_key = \"k\"\n",
            env,
        )
        .unwrap();
        let registry = VendorRegistry::from_config(
            &config.sources,
            &QuotaStore::from_config(&config.rate_limit).unwrap(),
            &Transport::new(config.server.body_limits()).unwrap(),
        );
        let turns = |name: &str| registry.reads(&name.parse().unwrap()).unwrap().available();
        assert_eq!(turns("a"), 3);
        assert_eq!(turns("b"), DEFAULT_MAX_CONCURRENT_READS);
    }

    #[test]
    fn the_limits_are_at_least_one() {
        assert_eq!(SourceReads::new(0, 0).available(), 1);
        assert_eq!(SourceReads::new(0, 0).max_items(), 1);
        assert_eq!(SourceReads::new(7, 1).available(), 7);
    }
}
