//! Who relies on which blobs: pins (a write whose commit has not happened yet), holds (a
//! backup copying a snapshot's files) and the blobs being deleted right now, all under the
//! one pin lock (see `blobs.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, MutexGuard};

use super::BlobStore;
use crate::model::Digest;

/// Who relies on which blobs, under one lock.
#[derive(Debug, Default)]
pub(super) struct Pins {
    /// Writers whose commit has not happened yet, by blob.
    pub(super) counts: HashMap<Digest, usize>,
    /// Blobs being deleted now. The lock is not held across a deletion (a bucket's DELETE
    /// may take seconds), so a writer of the same bytes waits for it to end and then writes
    /// them again, instead of trusting a file about to go.
    pub(super) deleting: HashSet<Digest>,
    /// Backups in progress: while one is, nothing is deleted.
    pub(super) holds: u64,
}

/// Keeps a blob from being collected until dropped (after the referencing commit).
#[derive(Debug)]
pub struct Pin {
    store: Arc<BlobStore>,
    digest: Digest,
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut pins = self.store.lock_pins();
        if let Some(n) = pins.counts.get_mut(&self.digest) {
            *n -= 1;
            if *n == 0 {
                pins.counts.remove(&self.digest);
            }
        }
    }
}

/// Keeps every blob from being deleted until dropped: a backup copies the files of a
/// snapshot that can be older than the last deletion's commit.
#[derive(Debug)]
pub struct Hold {
    store: Arc<BlobStore>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.store.lock_pins().holds -= 1;
    }
}

/// A blob marked as being deleted, unmarked however the deletion ends.
pub(super) struct Deleting<'a> {
    pub(super) store: &'a BlobStore,
    pub(super) digest: Digest,
}

impl Drop for Deleting<'_> {
    fn drop(&mut self) {
        self.store.lock_pins().deleting.remove(&self.digest);
        self.store.deleted.notify_all();
    }
}

impl Pin {
    /// The pinned blob.
    pub fn digest(&self) -> Digest {
        self.digest
    }
}

impl BlobStore {
    pub(super) fn lock_pins(&self) -> MutexGuard<'_, Pins> {
        // A panic while holding this lock cannot leave the sets inconsistent (single
        // insert/remove), so a poisoned lock is still usable.
        self.pins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pin lock, once no deletion `busy` says to wait for is under way.
    pub(super) fn lock_pins_when(&self, busy: impl Fn(&Pins) -> bool) -> MutexGuard<'_, Pins> {
        let mut pins = self.lock_pins();
        while busy(&pins) {
            pins = self.deleted.wait(pins).unwrap_or_else(|e| e.into_inner());
        }
        pins
    }

    pub(super) fn pin(self: &Arc<Self>, digest: Digest) -> Pin {
        let mut pins = self.lock_pins_when(|p| p.deleting.contains(&digest));
        *pins.counts.entry(digest).or_insert(0) += 1;
        Pin {
            store: Arc::clone(self),
            digest,
        }
    }

    /// Delete nothing until the returned hold is dropped. Files freed meanwhile stay as
    /// orphans, which the hourly collection removes a grace period later. Waits for the
    /// deletions under way, so once this returns no file of a snapshot taken after it can
    /// go.
    pub fn hold(self: &Arc<Self>) -> Hold {
        // Counted first, so no collection starts another deletion while this waits.
        self.lock_pins().holds += 1;
        let hold = Hold {
            store: Arc::clone(self),
        };
        drop(self.lock_pins_when(|p| !p.deleting.is_empty()));
        hold
    }
}
