//! The blobs as `maiimg check` sees them: read, never changed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Backend, Bucket, disk};
use crate::model::Digest;

/// A look at the blobs that changes nothing, not even the temp files (for `maiimg check`,
/// which must work on a data directory the server refuses to start on).
#[derive(Debug)]
pub enum Inspection {
    /// The tree under a data directory (which may not exist).
    Disk(PathBuf),
    /// A bucket.
    Bucket(Bucket),
}

impl Inspection {
    /// The tree under `data_dir` (which may not exist).
    pub fn of(data_dir: &Path) -> Inspection {
        Inspection::Disk(data_dir.join("blobs"))
    }

    /// The blobs of `backend` (for the disk, the tree under `data_dir`).
    pub fn on(data_dir: &Path, backend: &Backend) -> io::Result<Inspection> {
        Ok(match backend {
            Backend::Disk => Inspection::of(data_dir),
            Backend::S3(target) => Inspection::Bucket(Bucket::open(target)?),
        })
    }

    /// The marker's instance id, if there is one.
    pub fn marker(&self) -> io::Result<Option<String>> {
        match self {
            Inspection::Disk(root) => disk::read_marker(root),
            Inspection::Bucket(bucket) => bucket.marker(),
        }
    }

    /// Every blob (none if the tree does not exist).
    pub fn all(&self) -> io::Result<Vec<Digest>> {
        match self {
            Inspection::Disk(root) if !root.exists() => Ok(Vec::new()),
            Inspection::Disk(root) => disk::list(root),
            Inspection::Bucket(bucket) => Ok(bucket.list()?.into_iter().map(|(d, _)| d).collect()),
        }
    }

    /// A blob's bytes.
    pub fn read(&self, digest: &Digest) -> io::Result<Vec<u8>> {
        match self {
            Inspection::Disk(root) => fs::read(disk::blob_path(root, digest)),
            Inspection::Bucket(bucket) => bucket.read(digest),
        }
    }
}
