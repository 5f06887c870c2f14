//! Content-addressed files on disk: `blobs/ab/cd/<sha256>`.
//!
//! A blob is written to `tmp/`, fsynced, renamed into place and its directory fsynced, so a
//! reader never sees a half-written file and an acknowledged write survives a crash.
//!
//! Whether a blob may be deleted is decided by the refcount table in the store, which this
//! module does not know. What it does know is which blobs are *pinned*: written for a request
//! whose database transaction has not committed yet. A pinned blob is never deleted, and a
//! writer pins before it checks whether the file exists, so the collector and a concurrent
//! upload of the same bytes cannot lose the file between them.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::ids::UploadId;
use crate::model::Digest;

/// The file in `blobs/` that names the database this tree belongs to (see
/// `domain::binding`): a database that is new, lost or another instance's must never decide
/// which of these files are orphans.
const MARKER: &str = "INSTANCE";

/// The blob directory tree plus the set of pinned digests.
#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    tmp: PathBuf,
    pins: Mutex<HashMap<Digest, usize>>,
    /// Bytes and number of blob files on disk, kept as files come and go so the storage
    /// quota costs no directory walk; [`BlobStore::recount`] corrects any drift.
    usage_bytes: AtomicU64,
    usage_files: AtomicU64,
    /// Blobs renamed into place whose directory then failed to sync: their names may not
    /// survive a power cut, so the next `put` of the same bytes syncs again rather than
    /// trust the file it finds.
    unsynced: Mutex<HashSet<Digest>>,
}

/// What a collection removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Freed {
    /// Files deleted.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
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
        if let Some(n) = pins.get_mut(&self.digest) {
            *n -= 1;
            if *n == 0 {
                pins.remove(&self.digest);
            }
        }
    }
}

impl Pin {
    /// The pinned blob.
    pub fn digest(&self) -> Digest {
        self.digest
    }
}

impl BlobStore {
    /// Open (and create) the tree under `data_dir`, removing temp files a crash left behind.
    pub fn open(data_dir: &Path) -> io::Result<Arc<BlobStore>> {
        let root = data_dir.join("blobs");
        let tmp = data_dir.join("tmp");
        fs::create_dir_all(&root)?;
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        let store = BlobStore {
            root,
            tmp,
            pins: Mutex::new(HashMap::new()),
            usage_bytes: AtomicU64::new(0),
            usage_files: AtomicU64::new(0),
            unsynced: Mutex::default(),
        };
        store.recount()?;
        Ok(Arc::new(store))
    }

    /// The instance id written in this tree's marker file, if there is one.
    pub fn marker(&self) -> io::Result<Option<String>> {
        read_marker(&self.root)
    }

    /// Write the marker naming instance `id` (atomically and durably, like a blob).
    pub fn write_marker(&self, id: &str) -> io::Result<()> {
        let path = self.root.join(MARKER);
        let tmp_path = self.tmp.join(format!("{MARKER}.tmp"));
        let mut file = File::create(&tmp_path)?;
        file.write_all(id.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp_path, &path)?;
        File::open(&self.root)?.sync_all()
    }

    /// The directory of temp files (emptied at start-up), where uploads are spooled too.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// Bytes and number of blob files on disk (kept up to date, no I/O).
    pub fn usage(&self) -> (u64, u64) {
        (
            self.usage_bytes.load(Ordering::Relaxed),
            self.usage_files.load(Ordering::Relaxed),
        )
    }

    /// Measure the tree again (two writers of the same new bytes both count their file).
    pub fn recount(&self) -> io::Result<(u64, u64)> {
        let (mut bytes, mut files) = (0, 0);
        for digest in self.all()? {
            match fs::metadata(self.path(&digest)) {
                Ok(meta) => {
                    bytes += meta.len();
                    files += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        self.usage_bytes.store(bytes, Ordering::Relaxed);
        self.usage_files.store(files, Ordering::Relaxed);
        Ok((bytes, files))
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

    fn lock_pins(&self) -> MutexGuard<'_, HashMap<Digest, usize>> {
        // A panic while holding this lock cannot leave the map inconsistent (single
        // insert/remove), so a poisoned lock is still usable.
        self.pins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where a blob lives.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        blob_path(&self.root, digest)
    }

    /// Store `bytes` (once per content) and pin the blob until the returned pin is dropped.
    pub fn put(self: &Arc<Self>, bytes: &[u8]) -> io::Result<Pin> {
        let digest = Digest::of(bytes);
        let pin = self.pin(digest);
        let path = self.path(&digest);
        if !path.exists() {
            self.write_atomically(&digest, &path, bytes)?;
        } else if self.lock_unsynced().contains(&digest) {
            self.sync_dir_of(&digest, &path)?;
        }
        Ok(pin)
    }

    fn pin(self: &Arc<Self>, digest: Digest) -> Pin {
        *self.lock_pins().entry(digest).or_insert(0) += 1;
        Pin {
            store: Arc::clone(self),
            digest,
        }
    }

    fn lock_unsynced(&self) -> MutexGuard<'_, HashSet<Digest>> {
        self.unsynced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_atomically(&self, digest: &Digest, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir)?;
        let tmp_path = self.tmp.join(format!("{}.tmp", UploadId::generate()));
        let written = (|| {
            let mut file = File::create(&tmp_path)?;
            file.write_all(bytes)?;
            // A failed sync is never retried (after EIO the kernel may have dropped the
            // pages it reported): the temp file goes, and the next upload writes anew.
            file.sync_all()?;
            // Noted before the rename: a concurrent `put` that finds the file before its
            // name is durable syncs the directory itself.
            self.lock_unsynced().insert(*digest);
            fs::rename(&tmp_path, path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp_path);
            if !path.exists() {
                self.lock_unsynced().remove(digest);
            }
            return Err(e);
        }
        // The file is in place (and counted) from here, whatever its directory's sync says.
        self.usage_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.usage_files.fetch_add(1, Ordering::Relaxed);
        self.sync_dir_of(digest, path)
    }

    /// Make the name of `path` durable; until that works, [`BlobStore::put`] tries again.
    fn sync_dir_of(&self, digest: &Digest, path: &Path) -> io::Result<()> {
        File::open(path.parent().unwrap_or(&self.root))?.sync_all()?;
        self.lock_unsynced().remove(digest);
        Ok(())
    }

    /// Whether the blob's file is there.
    pub fn exists(&self, digest: &Digest) -> bool {
        self.path(digest).exists()
    }

    /// Read a whole blob.
    pub fn read(&self, digest: &Digest) -> io::Result<Vec<u8>> {
        fs::read(self.path(digest))
    }

    /// Delete each candidate that is neither pinned nor referenced. `is_referenced` must read
    /// committed state; it is called with the pin lock held, so no writer can pin (and then
    /// rely on the file) between the check and the delete. Returns how many were removed.
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
        let pins = self.lock_pins();
        let mut freed = Freed::default();
        for digest in candidates {
            if pins.contains_key(&digest) || is_referenced(&digest)? {
                continue;
            }
            let path = self.path(&digest);
            let bytes = fs::metadata(&path).map_or(0, |m| m.len());
            match fs::remove_file(&path) {
                Ok(()) => {
                    self.uncount(bytes);
                    freed.files += 1;
                    freed.bytes += bytes;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(freed)
    }

    /// Every blob on disk (for the collection of orphans).
    pub fn all(&self) -> io::Result<Vec<Digest>> {
        list(&self.root)
    }
}

/// A look at a data directory's blob tree that changes nothing (for `maiimg check`, which
/// must work on a directory the server refuses to start on).
#[derive(Debug)]
pub struct Inspection {
    root: PathBuf,
}

impl Inspection {
    /// The tree under `data_dir` (which may not exist).
    pub fn of(data_dir: &Path) -> Inspection {
        Inspection {
            root: data_dir.join("blobs"),
        }
    }

    /// The marker's instance id, if there is one.
    pub fn marker(&self) -> io::Result<Option<String>> {
        read_marker(&self.root)
    }

    /// Every blob file (none if the tree does not exist).
    pub fn all(&self) -> io::Result<Vec<Digest>> {
        if !self.root.exists() {
            return Ok(Vec::new());
        }
        list(&self.root)
    }

    /// Where a blob lives.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        blob_path(&self.root, digest)
    }
}

fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    let hex = digest.to_hex();
    root.join(&hex[0..2]).join(&hex[2..4]).join(hex)
}

fn read_marker(root: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(root.join(MARKER)) {
        Ok(id) => Ok(Some(id.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn list(root: &Path) -> io::Result<Vec<Digest>> {
    let mut out = Vec::new();
    for a in fs::read_dir(root)? {
        let a = a?.path();
        if !a.is_dir() {
            continue;
        }
        for b in fs::read_dir(&a)? {
            let b = b?.path();
            if !b.is_dir() {
                continue;
            }
            for f in fs::read_dir(&b)? {
                let f = f?;
                if let Some(d) = f.file_name().to_str().and_then(Digest::from_hex) {
                    out.push(d);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
