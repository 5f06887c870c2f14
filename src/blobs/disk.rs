//! The blob tree on the server's own disk: `blobs/ab/cd/<sha256>`.
//!
//! A blob is written to `tmp/`, fsynced, renamed into place and its directory fsynced, so a
//! reader never sees a half-written file and an acknowledged write survives a crash.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::ids::UploadId;
use crate::model::Digest;

use super::MARKER;

/// The directory tree of one data directory.
#[derive(Debug)]
pub(super) struct Disk {
    root: PathBuf,
    tmp: PathBuf,
    /// Blobs renamed into place whose directory then failed to sync: their names may not
    /// survive a power cut, so the next write of the same bytes syncs again rather than
    /// trust the file it finds.
    unsynced: Mutex<HashSet<Digest>>,
}

impl Disk {
    /// The tree under `root`, created if missing, writing its temp files in `tmp`.
    pub(super) fn open(root: PathBuf, tmp: PathBuf) -> io::Result<Disk> {
        fs::create_dir_all(&root)?;
        Ok(Disk {
            root,
            tmp,
            unsynced: Mutex::default(),
        })
    }

    pub(super) fn marker(&self) -> io::Result<Option<String>> {
        read_marker(&self.root)
    }

    pub(super) fn write_marker(&self, id: &str) -> io::Result<()> {
        let path = self.root.join(MARKER);
        let tmp_path = self.tmp.join(format!("{MARKER}.tmp"));
        let mut file = File::create(&tmp_path)?;
        file.write_all(id.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp_path, &path)?;
        File::open(&self.root)?.sync_all()
    }

    pub(super) fn path(&self, digest: &Digest) -> PathBuf {
        blob_path(&self.root, digest)
    }

    /// Make sure the blob is durably there. `placed` is called once the file this call
    /// wrote is in place, before its name is synced: it is there (and must be counted) even
    /// when that sync then fails and the write reports the error.
    pub(super) fn write(
        &self,
        digest: &Digest,
        bytes: &[u8],
        placed: impl FnOnce(),
    ) -> io::Result<()> {
        let path = self.path(digest);
        if !path.exists() {
            return self.write_atomically(digest, &path, bytes, placed);
        }
        if self.lock_unsynced().contains(digest) {
            self.sync_dir_of(digest, &path)?;
        }
        Ok(())
    }

    fn lock_unsynced(&self) -> MutexGuard<'_, HashSet<Digest>> {
        self.unsynced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_atomically(
        &self,
        digest: &Digest,
        path: &Path,
        bytes: &[u8],
        placed: impl FnOnce(),
    ) -> io::Result<()> {
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir)?;
        let tmp_path = self.tmp.join(format!("{}.tmp", UploadId::generate()));
        let written = (|| {
            let mut file = File::create(&tmp_path)?;
            file.write_all(bytes)?;
            // A failed sync is never retried (after EIO the kernel may have dropped the
            // pages it reported): the temp file goes, and the next upload writes anew.
            file.sync_all()?;
            // Noted before the rename: a concurrent write that finds the file before its
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
        placed();
        self.sync_dir_of(digest, path)
    }

    /// Make the name of `path` durable; until that works, [`Disk::write`] tries again.
    fn sync_dir_of(&self, digest: &Digest, path: &Path) -> io::Result<()> {
        File::open(path.parent().unwrap_or(&self.root))?.sync_all()?;
        self.lock_unsynced().remove(digest);
        Ok(())
    }

    pub(super) fn exists(&self, digest: &Digest) -> io::Result<bool> {
        Ok(self.path(digest).exists())
    }

    pub(super) fn read(&self, digest: &Digest) -> io::Result<Vec<u8>> {
        fs::read(self.path(digest))
    }

    /// Delete a blob's file; its size when it was there.
    pub(super) fn remove(&self, digest: &Digest) -> io::Result<Option<u64>> {
        let path = self.path(digest);
        let bytes = fs::metadata(&path).map_or(0, |m| m.len());
        match fs::remove_file(&path) {
            Ok(()) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every blob with its size.
    pub(super) fn list(&self) -> io::Result<Vec<(Digest, u64)>> {
        let mut out = Vec::new();
        for digest in list(&self.root)? {
            match fs::metadata(self.path(&digest)) {
                Ok(meta) => out.push((digest, meta.len())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

pub(super) fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    let hex = digest.to_hex();
    root.join(&hex[0..2]).join(&hex[2..4]).join(hex)
}

pub(super) fn read_marker(root: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(root.join(MARKER)) {
        Ok(id) => Ok(Some(id.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) fn list(root: &Path) -> io::Result<Vec<Digest>> {
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
