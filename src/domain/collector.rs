//! Orphan files, collected the way that forgives mistakes: a file no committed record
//! references is first *marked*, and deleted only by a collection at least [`GRACE`] later
//! that still finds it unreferenced and unpinned. A collection that would delete more than
//! half of all files (and more than a handful) deletes nothing and says so loudly: that is
//! what a wrong database looks like, not what crashes leave behind.
//!
//! Files kept since `--new-database` adopted the tree are never collected. Deleting or
//! purging a gallery still removes its unshared files right after the commit
//! (`Galleries::collect`): those are known to be unreferenced by the transaction itself.
//!
//! This file holds the rules; the collection itself is `Galleries::collect_garbage`
//! (`galleries/admin.rs`), run at start-up, by the housekeeping and by the admin's button.

use time::Duration;

use crate::blobs::Freed;

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
