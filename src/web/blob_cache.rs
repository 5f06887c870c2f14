//! A small memory cache of renditions, by digest, for the blob responses.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

use crate::model::Digest;

/// Recently served renditions, by digest, up to a byte budget. Content addressing makes
/// it exact: a digest's bytes never change, so nothing is ever stale. The hot images of
/// a shared gallery are then served without touching the disk or the blocking pool.
#[derive(Debug)]
pub struct BlobCache {
    budget: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    used: usize,
    clock: u64,
    entries: HashMap<Digest, (Bytes, u64)>,
}

impl BlobCache {
    /// A cache holding at most `budget` bytes (0 disables it).
    pub fn new(budget: usize) -> BlobCache {
        BlobCache {
            budget,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, CacheInner> {
        // Every critical section leaves the map and the byte count consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The bytes of `digest`, if held (and now the most recently used).
    pub fn get(&self, digest: &Digest) -> Option<Bytes> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let (bytes, used) = inner.entries.get_mut(digest)?;
        *used = now;
        Some(bytes.clone())
    }

    /// Keep `bytes` as `digest`'s, evicting the least recently used past the budget.
    pub fn put(&self, digest: Digest, bytes: Bytes) {
        // One blob may take at most an eighth of the budget, so a few large ones cannot
        // flush everything else.
        if bytes.len() > self.budget / 8 {
            return;
        }
        let mut inner = self.lock();
        while inner.used + bytes.len() > self.budget {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(d, _)| *d)
            else {
                break;
            };
            if let Some((gone, _)) = inner.entries.remove(&oldest) {
                inner.used -= gone.len();
            }
        }
        inner.clock += 1;
        let now = inner.clock;
        inner.used += bytes.len();
        if let Some((old, _)) = inner.entries.insert(digest, (bytes, now)) {
            inner.used -= old.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_stays_within_its_budget_and_evicts_the_least_recently_used() {
        let cache = BlobCache::new(800);
        let blob = |n: u8| (Digest([n; 32]), Bytes::from(vec![n; 100]));
        for n in 0..8 {
            let (d, b) = blob(n);
            cache.put(d, b);
        }
        assert!(cache.get(&Digest([0; 32])).is_some());
        let (d, b) = blob(8);
        cache.put(d, b);
        assert_eq!(cache.lock().used, 800);
        assert!(cache.get(&Digest([0; 32])).is_some(), "recently used stays");
        assert!(
            cache.get(&Digest([1; 32])).is_none(),
            "least recently used goes"
        );
        cache.put(Digest([9; 32]), Bytes::from(vec![0; 101]));
        assert!(
            cache.get(&Digest([9; 32])).is_none(),
            "over an eighth: not kept"
        );
    }
}
