//! Content-addressed files, on the server's own disk (`disk.rs`) or in an S3-compatible
//! bucket (`bucket.rs`): the same promises on both. A blob is whole before it can be
//! found under its name (a renamed temp file; an atomic PUT whose body the store checked
//! against its SHA-256), and an acknowledged write survives a crash.
//!
//! Whether a blob may be deleted is decided by the refcount table in the store, which this
//! module does not know. What it does know is which blobs are *pinned*: written for a request
//! whose database transaction has not committed yet. A pinned blob is never deleted, and a
//! writer pins before it checks whether the file exists, so the collector and a concurrent
//! upload of the same bytes cannot lose the file between them. A deletion does not hold the
//! pin lock while it runs (a bucket's DELETE can take seconds, and every write needs that
//! lock): it marks its blob instead, and only a writer of those same bytes waits for it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::model::Digest;

mod bucket;
mod chunks;
mod disk;
mod inspection;
mod pins;
mod presign;

pub use presign::Answer;
use presign::Presigner;

pub use bucket::Bucket;
pub use bucket::{S3Target, is_bucket_failure};
pub use chunks::Chunks;
use disk::Disk;
pub use inspection::Inspection;
use pins::{Deleting, Pins};
pub use pins::{Hold, Pin};

/// The file (or object) that names the database this tree belongs to (see
/// `domain::binding`): a database that is new, lost or another instance's must never decide
/// which of these files are orphans.
const MARKER: &str = "INSTANCE";

/// Where the blobs are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// `blobs/` in the data directory.
    #[default]
    Disk,
    /// A bucket of an S3-compatible object store.
    S3(S3Target),
}

#[derive(Debug)]
enum Place {
    Disk(Disk),
    Bucket(Bucket),
}

/// The blobs plus the set of pinned digests.
#[derive(Debug)]
pub struct BlobStore {
    place: Place,
    /// Signs GETs of the bucket's blobs when it has an access key to sign with.
    presigner: Option<Presigner>,
    /// Temp files (upload spools, and on disk the blobs being written): local in both
    /// backends, emptied at start-up.
    tmp: PathBuf,
    pins: Mutex<Pins>,
    /// Signalled when a deletion ends (a writer of those bytes, or a hold, may go on).
    deleted: Condvar,
    /// Bytes and number of blobs, kept as blobs come and go so the storage quota costs no
    /// walk or listing; [`BlobStore::recount`] corrects any drift.
    usage_bytes: AtomicU64,
    usage_files: AtomicU64,
}

/// What a collection removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Freed {
    /// Files deleted.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl BlobStore {
    /// Open (and create) the blob tree under `data_dir`, removing temp files a crash left
    /// behind.
    pub fn open(data_dir: &Path) -> io::Result<Arc<BlobStore>> {
        BlobStore::open_on(data_dir, &Backend::Disk)
    }

    /// Open the blobs of `backend`, with the temp files under `data_dir` (removing those a
    /// crash left behind), and count them.
    pub fn open_on(data_dir: &Path, backend: &Backend) -> io::Result<Arc<BlobStore>> {
        let tmp = data_dir.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        let (place, presigner) = match backend {
            Backend::Disk => (
                Place::Disk(Disk::open(data_dir.join("blobs"), tmp.clone())?),
                None,
            ),
            Backend::S3(target) => (
                Place::Bucket(Bucket::open(target)?),
                Presigner::new(target).ok(),
            ),
        };
        let store = BlobStore {
            place,
            presigner,
            tmp,
            pins: Mutex::default(),
            deleted: Condvar::new(),
            usage_bytes: AtomicU64::new(0),
            usage_files: AtomicU64::new(0),
        };
        store.recount()?;
        Ok(Arc::new(store))
    }

    /// Where the data directory (or backup) `dir` keeps `digest` on disk.
    pub fn path_in(dir: &Path, digest: &Digest) -> PathBuf {
        disk::blob_path(&dir.join("blobs"), digest)
    }

    /// Whether the blobs are in a bucket rather than on this server's disk.
    pub fn is_remote(&self) -> bool {
        matches!(self.place, Place::Bucket(_))
    }

    /// `None` while the blobs can be reached (always on disk, whose failures the writes
    /// report), else what the bucket's last failure said; a failing bucket is asked again.
    pub fn remote_failure(&self) -> Option<String> {
        match &self.place {
            Place::Disk(_) => None,
            Place::Bucket(bucket) => bucket.failure(),
        }
    }

    /// The origin of presigned URLs; `None` when blobs cannot be presigned (on disk, or no
    /// access key to sign with).
    pub fn presign_origin(&self) -> Option<String> {
        self.presigner.as_ref().map(Presigner::origin)
    }

    /// A presigned GET of a blob in the bucket, answered with `answer`, good for at most
    /// `ttl` (see `presign.rs`); `None` when blobs cannot be presigned.
    pub fn presigned_get(
        &self,
        digest: &Digest,
        answer: Answer<'_>,
        now: time::OffsetDateTime,
        ttl: std::time::Duration,
    ) -> Option<String> {
        let presigner = self.presigner.as_ref()?;
        Some(presigner.get(digest, answer, now, ttl))
    }

    /// The instance id written in the marker, if there is one.
    pub fn marker(&self) -> io::Result<Option<String>> {
        match &self.place {
            Place::Disk(disk) => disk.marker(),
            Place::Bucket(bucket) => bucket.marker(),
        }
    }

    /// Write the marker naming instance `id` (atomically and durably, like a blob).
    pub fn write_marker(&self, id: &str) -> io::Result<()> {
        match &self.place {
            Place::Disk(disk) => disk.write_marker(id),
            Place::Bucket(bucket) => bucket.write_marker(id),
        }
    }

    /// The directory of temp files (emptied at start-up), where uploads are spooled too.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// Bytes and number of blobs (kept up to date, no I/O).
    pub fn usage(&self) -> (u64, u64) {
        (
            self.usage_bytes.load(Ordering::Relaxed),
            self.usage_files.load(Ordering::Relaxed),
        )
    }

    /// Measure the blobs again (two writers of the same new bytes both count their file).
    pub fn recount(&self) -> io::Result<(u64, u64)> {
        let listed = self.list()?;
        let bytes = listed.iter().map(|(_, size)| size).sum();
        let files = listed.len() as u64;
        self.usage_bytes.store(bytes, Ordering::Relaxed);
        self.usage_files.store(files, Ordering::Relaxed);
        Ok((bytes, files))
    }

    fn count(&self, bytes: u64) {
        self.usage_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.usage_files.fetch_add(1, Ordering::Relaxed);
    }

    fn uncount(&self, bytes: u64) {
        let less = |n: u64, by: u64| Some(n.saturating_sub(by));
        let _ = self
            .usage_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| less(n, bytes));
        let _ = self
            .usage_files
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| less(n, 1));
    }

    /// Where a blob lives on disk; `None` when it is in a bucket (read it with
    /// [`BlobStore::reader`] or [`BlobStore::stream`]).
    pub fn file(&self, digest: &Digest) -> Option<PathBuf> {
        match &self.place {
            Place::Disk(disk) => Some(disk.path(digest)),
            Place::Bucket(_) => None,
        }
    }

    /// Store `bytes` (once per content) and pin the blob until the returned pin is dropped.
    pub fn put(self: &Arc<Self>, bytes: &[u8]) -> io::Result<Pin> {
        let digest = Digest::of(bytes);
        let pin = self.pin(digest);
        let size = bytes.len() as u64;
        match &self.place {
            Place::Disk(disk) => disk.write(&digest, bytes, || self.count(size))?,
            Place::Bucket(bucket) => {
                if bucket.write(&digest, bytes)? {
                    self.count(size);
                }
            }
        }
        Ok(pin)
    }

    /// Whether the blob is there.
    pub fn exists(&self, digest: &Digest) -> io::Result<bool> {
        match &self.place {
            Place::Disk(disk) => disk.exists(digest),
            Place::Bucket(bucket) => bucket.exists(digest),
        }
    }

    /// Read a whole blob.
    pub fn read(&self, digest: &Digest) -> io::Result<Vec<u8>> {
        match &self.place {
            Place::Disk(disk) => disk.read(digest),
            Place::Bucket(bucket) => bucket.read(digest),
        }
    }

    /// A blocking reader of a blob, which never holds it whole (for the ZIP).
    pub fn reader(&self, digest: &Digest) -> io::Result<Box<dyn io::Read + Send>> {
        Ok(match &self.place {
            Place::Disk(disk) => Box::new(fs::File::open(disk.path(digest))?),
            Place::Bucket(bucket) => Box::new(bucket.stream(digest)?),
        })
    }

    /// A blob in a bucket as a stream of chunks; `None` on disk (open its
    /// [`BlobStore::file`]).
    pub fn stream(&self, digest: &Digest) -> Option<io::Result<Chunks>> {
        match &self.place {
            Place::Disk(_) => None,
            Place::Bucket(bucket) => Some(bucket.stream(digest)),
        }
    }

    /// Delete each candidate that is neither pinned nor referenced. `is_referenced` must read
    /// committed state; it is called with the pin lock held, and the blob is then marked as
    /// being deleted until it is gone, so no writer can pin (and then rely on the file)
    /// between the check and the delete. Returns how many were removed.
    pub fn collect(
        &self,
        candidates: impl IntoIterator<Item = Digest>,
        is_referenced: impl Fn(&Digest) -> io::Result<bool>,
    ) -> io::Result<usize> {
        let freed = self.collect_freed(candidates, is_referenced)?;
        Ok(usize::try_from(freed.files).unwrap_or(usize::MAX))
    }

    /// [`BlobStore::collect`], saying how many files and bytes went.
    pub fn collect_freed(
        &self,
        candidates: impl IntoIterator<Item = Digest>,
        is_referenced: impl Fn(&Digest) -> io::Result<bool>,
    ) -> io::Result<Freed> {
        let mut freed = Freed::default();
        for digest in candidates {
            {
                let mut pins = self.lock_pins();
                if pins.holds > 0 {
                    break;
                }
                // Another collection deleting it already: its end must not be mistaken
                // for this one's (a writer waiting for it would write the bytes again).
                if pins.deleting.contains(&digest)
                    || pins.counts.contains_key(&digest)
                    || is_referenced(&digest)?
                {
                    continue;
                }
                pins.deleting.insert(digest);
            }
            let deleting = Deleting {
                store: self,
                digest,
            };
            let removed = match &self.place {
                Place::Disk(disk) => disk.remove(&digest),
                Place::Bucket(bucket) => bucket.remove(&digest),
            };
            drop(deleting);
            if let Some(bytes) = removed? {
                self.uncount(bytes);
                freed.files += 1;
                freed.bytes += bytes;
            }
        }
        Ok(freed)
    }

    /// Every blob (for the collection of orphans).
    pub fn all(&self) -> io::Result<Vec<Digest>> {
        Ok(self.list()?.into_iter().map(|(d, _)| d).collect())
    }

    fn list(&self) -> io::Result<Vec<(Digest, u64)>> {
        match &self.place {
            Place::Disk(disk) => disk.list(),
            Place::Bucket(bucket) => bucket.list(),
        }
    }
}

#[cfg(test)]
mod tests;
