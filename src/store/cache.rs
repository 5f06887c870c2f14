//! Committed gallery records and their open counts, kept in memory.
//!
//! Every page and image request needs its gallery's record; reading and decoding it from
//! redb costs a trip through the blocking pool that dominates a small request. The cache
//! only ever holds what was committed: writers drop an entry after their commit, the
//! recorder sets counts after its commit, and a loader that raced with any commit does not
//! insert what it read (the generation tells), so a stale record can never be stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::model::GalleryRecord;

/// Galleries kept; beyond this an arbitrary entry makes room (a miss only costs a read).
const CAPACITY: usize = 10_000;

/// A committed record and its committed open count.
#[derive(Clone, Debug)]
pub struct Cached {
    /// The record.
    pub record: Arc<GalleryRecord>,
    /// Opens admitted so far.
    pub opens: u64,
}

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every commit that touches a gallery or a count.
    generation: u64,
    entries: HashMap<String, Cached>,
}

/// The cache. Cheap to consult: one uncontended mutex and a hash lookup.
#[derive(Debug, Default)]
pub struct GalleryCache {
    inner: Mutex<Inner>,
}

impl GalleryCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves the map valid, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached entry for `id`.
    pub fn get(&self, id: &str) -> Option<Cached> {
        self.lock().entries.get(id).cloned()
    }

    /// The generation to pass to [`GalleryCache::fill`] for a read that starts now.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keep what a read that began at `generation` found, unless a commit came in between.
    pub fn fill(&self, id: &str, generation: u64, entry: Cached) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= CAPACITY
            && !inner.entries.contains_key(id)
            && let Some(victim) = inner.entries.keys().next().cloned()
        {
            inner.entries.remove(&victim);
        }
        inner.entries.insert(id.to_owned(), entry);
    }

    /// A commit changed or removed `id`'s record.
    pub fn invalidate(&self, id: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.remove(id);
    }

    /// The galleries held now.
    pub fn ids(&self) -> Vec<String> {
        self.lock().entries.keys().cloned().collect()
    }

    /// Hold exactly these entries, read from a file no one else can write yet (it was
    /// re-opened after a fault): what was in memory may include a commit that failed to
    /// report, so only the file is believed, and viewers are still served from memory if
    /// the disk fails again.
    pub fn replace(&self, entries: impl IntoIterator<Item = (String, Cached)>) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries = entries.into_iter().collect();
    }

    /// The recorder committed these counts.
    pub fn set_opens<'a>(&self, counts: impl IntoIterator<Item = (&'a str, u64)>) {
        let mut inner = self.lock();
        inner.generation += 1;
        for (id, opens) in counts {
            if let Some(entry) = inner.entries.get_mut(id) {
                entry.opens = entry.opens.max(opens);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(title: &str, opens: u64) -> Cached {
        Cached {
            record: Arc::new(GalleryRecord::blank(title)),
            opens,
        }
    }

    #[test]
    fn a_read_that_raced_with_a_commit_is_not_kept() {
        let cache = GalleryCache::default();
        let before = cache.generation();
        cache.invalidate("g");
        cache.fill("g", before, entry("old", 0));
        assert!(cache.get("g").is_none());

        let now = cache.generation();
        cache.fill("g", now, entry("new", 1));
        assert_eq!(
            cache.get("g").map(|c| c.record.title.clone()),
            Some("new".into())
        );

        let before = cache.generation();
        cache.set_opens([("g", 5)]);
        cache.fill("g", before, entry("new", 1));
        assert_eq!(cache.get("g").map(|c| c.opens), Some(5));
    }

    #[test]
    fn a_refill_keeps_only_what_the_file_holds_and_outdates_reads_in_flight() {
        let cache = GalleryCache::default();
        let now = cache.generation();
        cache.fill("a", now, entry("a in memory", 7));
        cache.fill("b", now, entry("b", 1));
        let mut ids = cache.ids();
        ids.sort();
        assert_eq!(ids, ["a", "b"]);
        let in_flight = cache.generation();
        // The file has `a` with fewer opens (a count that failed to commit) and no `b`.
        cache.replace([("a".to_owned(), entry("a on disk", 6))]);
        assert_eq!(cache.get("a").map(|c| c.opens), Some(6));
        assert!(cache.get("b").is_none());
        cache.fill("b", in_flight, entry("b", 1));
        assert!(
            cache.get("b").is_none(),
            "a read from before the refill was kept"
        );
    }
}
