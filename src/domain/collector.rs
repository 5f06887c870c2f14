//! Orphan files, collected the way that forgives mistakes: a file no committed record
//! references is first *marked*, and deleted only by a collection at least [`GRACE`] later
//! that still finds it unreferenced and unpinned. A collection that would delete more than
//! half of all files (and more than a handful) deletes nothing and says so loudly: that is
//! what a wrong database looks like, not what crashes leave behind.
//!
//! Files kept since `--new-database` adopted the tree are never collected. Deleting or
//! purging a gallery still removes its unshared files right after the commit
//! (`Galleries::collect`): those are known to be unreferenced by the transaction itself.

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};

use super::galleries::{DomainError, Galleries};
use crate::blobs::Freed;
use crate::clock::millis;
use crate::model::Digest;

type Result<T> = std::result::Result<T, DomainError>;

/// How long a file must stay unreferenced before a collection may delete it.
pub const GRACE: Duration = Duration::hours(1);
/// A sweep may always delete this many files, whatever share of the tree they are.
pub const HANDFUL: usize = 10;

/// What one collection did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Files deleted (marked at least [`GRACE`] ago, still unreferenced).
    pub freed: Freed,
    /// Files marked for the first time by this collection.
    pub marked: usize,
    /// Files marked earlier that are not due yet.
    pub waiting: usize,
    /// Set when the sweep refused to delete this many due files out of all files.
    pub held: Option<Held>,
}

/// A sweep that stopped because it would have deleted too much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    /// Files that were due.
    pub due: usize,
    /// All blob files.
    pub files: usize,
}

/// What a sweep does when more than half of all files (and more than a handful) are due.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MassDeletion {
    /// Delete nothing and say so (every automatic sweep).
    #[default]
    Hold,
    /// Go ahead: the administrator checked and confirmed.
    Allow,
}

/// Whether deleting `due` of `files` files is what crashes leave behind, not a disaster.
pub fn plausible(due: usize, files: usize) -> bool {
    due <= HANDFUL || due * 2 <= files
}

impl Galleries {
    /// The collection every start runs: automatic, so a mass deletion is held.
    pub(crate) fn start_up_collection(&self, now: OffsetDateTime) -> Result<Sweep> {
        self.collect_garbage(now, MassDeletion::Hold)
    }

    /// Mark the files no committed record references, and delete those marked at least
    /// [`GRACE`] before `now` (unless pinned by an upload in flight or referenced again),
    /// then measure the tree again.
    pub fn collect_garbage(&self, now: OffsetDateTime, mass: MassDeletion) -> Result<Sweep> {
        let now_ms = millis(now);
        let grace_ms = i64::try_from(GRACE.whole_milliseconds()).unwrap_or(i64::MAX);
        let referenced = self.store.referenced()?;
        let kept = self.store.kept_files()?;
        let marks = self.store.orphan_marks()?;
        let files = self.blobs.all()?;
        let on_disk: HashSet<Digest> = files.iter().copied().collect();

        let mut sweep = Sweep::default();
        let (mut seen, mut due) = (Vec::new(), Vec::new());
        for digest in &files {
            if referenced.contains(digest) || kept.contains_key(digest) {
                continue;
            }
            match marks.get(digest) {
                // A mark from the future (the clock went back) waits for the clock.
                Some(&since) if now_ms.saturating_sub(since) >= grace_ms && since <= now_ms => {
                    due.push(*digest);
                }
                Some(_) => sweep.waiting += 1,
                None => seen.push(*digest),
            }
        }
        let mut cleared: Vec<Digest> = marks
            .keys()
            .filter(|d| !on_disk.contains(d) || referenced.contains(d) || kept.contains_key(d))
            .copied()
            .collect();
        sweep.marked = seen.len();

        if mass == MassDeletion::Hold && !plausible(due.len(), files.len()) {
            let held = Held {
                due: due.len(),
                files: files.len(),
            };
            rocket::error!(
                "NOT deleting {} of {} image files: they are unreferenced, but a collection \
                 that would delete over half of all files looks like a wrong or damaged \
                 database. Run `maiimg check`; restore maiimg.redb from a backup if \
                 galleries are missing.",
                held.due,
                held.files
            );
            sweep.held = Some(held);
            due.clear();
        }
        self.store.set_orphan_marks(&seen, &cleared, now_ms)?;

        sweep.freed = self.remove_unreferenced(due.iter().copied())?;
        cleared = due.into_iter().filter(|d| !self.blobs.exists(d)).collect();
        self.store.set_orphan_marks(&[], &cleared, now_ms)?;
        self.blobs.recount()?;
        Ok(sweep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_may_take_a_handful_or_at_most_half() {
        assert!(plausible(0, 0));
        assert!(plausible(HANDFUL, HANDFUL));
        assert!(!plausible(HANDFUL + 1, HANDFUL + 1));
        assert!(plausible(50, 100));
        assert!(!plausible(51, 100));
    }
}
