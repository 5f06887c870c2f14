//! The instance side: what its administrator sees and does (every gallery, storage used,
//! takedown, blob garbage collection, verifying files) and the purge of galleries that are
//! over for good. The store's half is `store/admin.rs`.
//!
//! Every removal follows the order that keeps references safe: the transaction that drops
//! a blob's last reference commits first, then the file goes. A crash in between leaves an
//! orphan file, which a later collection (marked at start-up, hourly or by the admin's
//! button, deleted by one an hour later: `collector.rs`) removes; a committed record never
//! points at a missing file.

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};

use crate::blobs::Freed;
use crate::clock::Millis;
use crate::domain::access::GalleryState;
use crate::domain::check::{FileCheck, verify_each};
use crate::domain::collector::{GRACE, Held, MassDeletion, Sweep, plausible};
use crate::domain::error::DomainError;
use crate::domain::galleries::service::{Galleries, Result};
use crate::ids::GalleryId;
use crate::model::{Digest, GalleryRecord};
use crate::store::ExhaustedMark;

pub use crate::store::{Fault, Health};

/// Galleries deleted per purge transaction: a few commits for a large backlog, and no
/// transaction long enough to hold up the recorder.
const PURGE_CHUNK: usize = 64;

/// One gallery as the admin list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GallerySummary {
    /// Its id.
    pub id: String,
    /// Its title (may be empty).
    pub title: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// How many images it holds.
    pub images: usize,
    /// Bytes of the distinct files it references (originals and renditions).
    pub bytes: u64,
    /// Opens so far.
    pub opens: u64,
    /// What a new viewer would get now.
    pub state: GalleryState,
    /// Whether the owner switched it on (the admin's disable/enable button depends on it).
    pub enabled: bool,
    /// Whether it is filed under an owner key.
    pub owner: bool,
}

/// How the admin list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Most recently created first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Largest first.
    Size,
    /// Most opened first.
    Opens,
}

impl SortBy {
    /// Every order, with its query value.
    pub const ALL: [(SortBy, &'static str); 4] = [
        (SortBy::Newest, "newest"),
        (SortBy::Oldest, "oldest"),
        (SortBy::Size, "size"),
        (SortBy::Opens, "opens"),
    ];

    /// From the `sort` query value (`age` is an alias of `newest`).
    pub fn parse(raw: &str) -> Option<SortBy> {
        if raw == "age" {
            return Some(SortBy::Newest);
        }
        SortBy::ALL
            .iter()
            .find(|(_, name)| *name == raw)
            .map(|(sort, _)| *sort)
    }

    /// The query value.
    pub fn name(self) -> &'static str {
        SortBy::ALL
            .iter()
            .find(|(sort, _)| *sort == self)
            .map_or("newest", |(_, name)| name)
    }
}

/// One page of the admin list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The galleries of this page.
    pub galleries: Vec<GallerySummary>,
    /// How many galleries matched the search.
    pub matched: usize,
    /// This page, from 1.
    pub page: usize,
    /// How many pages there are (at least 1).
    pub pages: usize,
}

/// The disk as the admin page reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageUse {
    /// Bytes of blob files.
    pub bytes: u64,
    /// Number of blob files.
    pub blobs: u64,
    /// Number of galleries.
    pub galleries: u64,
}

/// What a purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Galleries deleted.
    pub galleries: usize,
    /// Files removed (and their bytes).
    pub freed: Freed,
}

/// Since when a gallery is over for good, if it is: the earliest of its expiry, its end
/// and the moment its view limit was found used up (only while the count is the one
/// marked then: a higher count means it was reopened, and the mark is renewed).
fn over_since(
    record: &GalleryRecord,
    opens: u64,
    mark: Option<ExhaustedMark>,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let settings = &record.settings;
    let exhausted = settings.max_opens.is_some_and(|max| opens >= max);
    let marked = mark
        .filter(|m| exhausted && m.opens == opens)
        .and_then(|m| m.since.time());
    [settings.expires_at, settings.available_until, marked]
        .into_iter()
        .flatten()
        .filter(|t| *t <= now)
        .min()
}

/// Bytes of the distinct files a gallery references.
fn gallery_bytes(record: &GalleryRecord) -> u64 {
    let mut seen = HashSet::new();
    record
        .images
        .iter()
        .flat_map(|i| i.blobs())
        .filter(|blob| seen.insert(blob.digest))
        .map(|blob| blob.bytes)
        .sum()
}

impl Galleries {
    /// Every gallery whose id starts with `search` (exact ids match themselves), ordered
    /// by `sort`, page `page` (from 1) of `per_page`.
    pub fn list_all(
        &self,
        search: &str,
        sort: SortBy,
        page: usize,
        per_page: usize,
        now: OffsetDateTime,
    ) -> Result<Listing> {
        let search = search.trim();
        let mut all = Vec::new();
        self.store.each_gallery(search, |id, record, opens| {
            all.push(GallerySummary {
                id: id.to_owned(),
                title: record.title.clone(),
                created_at: record.created_at,
                images: record.images.len(),
                bytes: gallery_bytes(&record),
                opens,
                state: GalleryState::of(&record.settings, opens, now),
                enabled: record.settings.enabled,
                owner: record.owner.is_some(),
            });
        })?;
        match sort {
            SortBy::Newest => all.sort_by_key(|g| std::cmp::Reverse(g.created_at)),
            SortBy::Oldest => all.sort_by_key(|g| g.created_at),
            SortBy::Size => all.sort_by_key(|g| std::cmp::Reverse(g.bytes)),
            SortBy::Opens => all.sort_by_key(|g| std::cmp::Reverse(g.opens)),
        }
        let per_page = per_page.max(1);
        let matched = all.len();
        let pages = matched.div_ceil(per_page).max(1);
        let page = page.clamp(1, pages);
        let galleries = all
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        Ok(Listing {
            galleries,
            matched,
            page,
            pages,
        })
    }

    /// Disable (`false`) or enable (`true`) any gallery, without its key (abuse takedown).
    /// Viewers see the change at once: the committed record replaces the cached one.
    pub fn admin_set_enabled(&self, id: &GalleryId, enabled: bool) -> Result<GalleryRecord> {
        self.store
            .update_gallery(id, |record| {
                record.settings.enabled = enabled;
                // A takedown sticks until the administrator lifts it, and lifting it lets
                // no one admitted before back in uncounted (same transaction: no ticket
                // can be issued in between).
                record.taken_down = !enabled;
                if !enabled {
                    record.settings.revoke_tickets();
                }
                Ok::<(), DomainError>(())
            })?
            .ok_or(DomainError::NotFound)
    }

    /// Delete any gallery for good, without its key; the files only it used go after the
    /// commit. Returns what was removed.
    pub fn admin_delete(&self, id: &GalleryId) -> Result<Freed> {
        let freed = self
            .store
            .delete_gallery(id)?
            .ok_or(DomainError::NotFound)?;
        self.remove_unreferenced(freed)
    }

    /// Whether the database takes writes now (no I/O).
    pub fn health(&self) -> Health {
        self.store.health()
    }

    /// `None` while the object store answers (or blobs are on disk), else what failed.
    pub fn object_storage_failure(&self) -> Option<String> {
        self.blobs.remote_failure()
    }

    /// Bytes and number of blob files, and number of galleries.
    pub fn storage(&self) -> Result<StorageUse> {
        let (bytes, blobs) = self.blobs.usage();
        Ok(StorageUse {
            bytes,
            blobs,
            galleries: self.store.gallery_count()?,
        })
    }

    /// Bytes of blob files on disk (kept up to date in memory; no I/O).
    pub fn storage_bytes(&self) -> u64 {
        self.blobs.usage().0
    }

    /// Delete every gallery over for good (expired, ended, or its view limit used up) for
    /// more than `after_days` days, then the files only they used. `0` purges nothing.
    ///
    /// "Used up since" is when a sweep first saw the limit reached with the count it has:
    /// kept in the store, independent of the access log (which may be off or pruned), and
    /// at most one sweep late, so a gallery is never purged early.
    pub fn purge(&self, now: OffsetDateTime, after_days: u32) -> Result<Purged> {
        if after_days == 0 {
            return Ok(Purged::default());
        }
        let cutoff = now - Duration::days(i64::from(after_days));
        let mut marks = self.store.exhausted_marks()?;
        let mut changes = Vec::new();
        let mut doomed = Vec::new();
        self.store.each_gallery("", |id, record, opens| {
            let exhausted = record.settings.max_opens.is_some_and(|max| opens >= max);
            let mut mark = marks.remove(id);
            match mark {
                Some(m) if exhausted && m.opens == opens => {}
                _ if exhausted => {
                    let fresh = ExhaustedMark {
                        since: Millis::of(now),
                        opens,
                    };
                    mark = Some(fresh);
                    changes.push((id.to_owned(), Some(fresh)));
                }
                Some(_) => {
                    mark = None;
                    changes.push((id.to_owned(), None));
                }
                None => {}
            }
            if over_since(&record, opens, mark, now).is_some_and(|t| t <= cutoff)
                && let Some(id) = GalleryId::parse(id)
            {
                doomed.push(id);
            }
        })?;
        // Marks of galleries deleted since the last sweep.
        changes.extend(marks.into_keys().map(|id| (id, None)));
        self.store.set_exhausted_marks(&changes)?;

        let mut purged = Purged::default();
        for chunk in doomed.chunks(PURGE_CHUNK) {
            // Judged again inside the deleting transaction: an owner may have just
            // extended the expiry or raised the limit.
            let (deleted, freed) =
                self.store
                    .delete_galleries_if(chunk, |record, opens, mark| {
                        over_since(record, opens, mark, now).is_some_and(|t| t <= cutoff)
                    })?;
            purged.galleries += deleted.len();
            let collected = self.remove_unreferenced(freed)?;
            purged.freed.files += collected.files;
            purged.freed.bytes += collected.bytes;
        }
        Ok(purged)
    }

    /// Mark the files no committed record references, and delete those marked at least
    /// [`GRACE`] before `now` (unless pinned by an upload in flight or referenced again),
    /// then measure the tree again.
    pub fn collect_garbage(&self, now: OffsetDateTime, mass: MassDeletion) -> Result<Sweep> {
        let now_ms = Millis::of(now);
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
                Some(&since) if now_ms.since(since) >= grace_ms && since <= now_ms => {
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
        // A blob whose presence cannot be told keeps its mark for the next sweep.
        cleared = due
            .into_iter()
            .filter(|d| !self.blobs.exists(d).unwrap_or(true))
            .collect();
        self.store.set_orphan_marks(&[], &cleared, now_ms)?;
        self.blobs.recount()?;
        Ok(sweep)
    }

    /// Hash every referenced file against its name, on a running server.
    pub fn verify_files(&self) -> Result<FileCheck> {
        let referenced = self.store.referenced()?;
        Ok(verify_each(&referenced, |d| self.blobs.read(d)))
    }
}

#[cfg(test)]
mod tests;
