//! What walks remember between pages: small values, bounded in count, forgotten when idle.

use std::hash::{Hash, RandomState};
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lru::LruCache;

/// At most `capacity` values, the least recently used dropped first when full, each treated
/// as gone once unused for `idle`.
///
/// One lock around an LRU list: every call is one or two hashes and a few pointer moves,
/// far less than a concurrent cache's bookkeeping (write queues, housekeeping, timer
/// wheels), which cost about 8 µs per request here for values this small. The lock is
/// held for no longer than that. An idle value is dropped when next looked up, or when
/// newer ones push it out: either way the count never passes `capacity`.
pub(super) struct WalkMemory<K, V> {
    entries: Mutex<Entries<K, V>>,
    idle: Duration,
}

type Entries<K, V> = LruCache<K, Kept<V>, RandomState>;

struct Kept<V> {
    value: V,
    used: Instant,
}

impl<K: Hash + Eq, V: Clone> WalkMemory<K, V> {
    pub(super) fn new(capacity: NonZeroUsize, idle: Duration) -> Self {
        Self {
            // SipHash: the keys come from clients' queries.
            entries: Mutex::new(LruCache::with_hasher(capacity, RandomState::new())),
            idle,
        }
    }

    /// The value under `key`, if it was used within the idle time; it counts as a use.
    pub(super) fn get(&self, key: &K) -> Option<V> {
        self.fresh(&mut self.lock(), key, Instant::now())
    }

    /// The value under `key`, or `init`'s, which is kept. Callers racing on a new key get
    /// the same value: the lock is held while `init` runs.
    pub(super) fn get_with(&self, key: K, init: impl FnOnce() -> V) -> V {
        let now = Instant::now();
        let mut entries = self.lock();
        if let Some(value) = self.fresh(&mut entries, &key, now) {
            return value;
        }
        let value = init();
        entries.put(
            key,
            Kept {
                value: value.clone(),
                used: now,
            },
        );
        value
    }

    /// Keeps `value` under `key`, in place of any value there.
    pub(super) fn insert(&self, key: K, value: V) {
        let used = Instant::now();
        self.lock().put(key, Kept { value, used });
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The value under `key` as of `now`, marked used; an idle one is dropped instead.
    fn fresh(&self, entries: &mut Entries<K, V>, key: &K, now: Instant) -> Option<V> {
        let kept = entries.get_mut(key)?;
        if now.saturating_duration_since(kept.used) > self.idle {
            entries.pop(key);
            return None;
        }
        kept.used = now;
        Some(kept.value.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Entries<K, V>> {
        // What runs under the lock and could panic (hashing, `init`, cloning) runs before or
        // after lru's moves, never amid one, so a poisoned list is still whole.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;
    use std::time::Duration;

    use super::WalkMemory;

    fn memory(capacity: usize, idle: Duration) -> WalkMemory<u32, u32> {
        WalkMemory::new(NonZeroUsize::new(capacity).unwrap(), idle)
    }

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn a_kept_value_is_returned_without_asking_again() {
        let memory = memory(4, LONG);
        assert_eq!(memory.get_with(1, || 10), 10);
        assert_eq!(memory.get_with(1, || unreachable!("already kept")), 10);
        assert_eq!(memory.get(&1), Some(10));
        memory.insert(1, 11);
        assert_eq!(memory.get(&1), Some(11));
        assert_eq!(memory.get(&2), None);
    }

    #[test]
    fn when_full_the_value_used_longest_ago_goes_first() {
        let memory = memory(2, LONG);
        memory.insert(1, 10);
        memory.insert(2, 20);
        // A look-up is a use: 2 is now the one used longest ago.
        assert_eq!(memory.get(&1), Some(10));
        assert_eq!(memory.get_with(3, || 30), 30);
        assert_eq!(memory.get(&2), None);
        assert_eq!(memory.get(&1), Some(10));
        assert_eq!(memory.get(&3), Some(30));
        assert_eq!(memory.len(), 2);
    }

    #[test]
    fn a_value_unused_for_the_idle_time_is_gone() {
        let memory = memory(4, Duration::from_millis(5));
        memory.insert(1, 10);
        memory.insert(2, 20);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(memory.get(&1), None);
        assert_eq!(
            memory.get_with(2, || 21),
            21,
            "a fresh value, not the idle one"
        );
        assert_eq!(memory.len(), 1);
    }
}
