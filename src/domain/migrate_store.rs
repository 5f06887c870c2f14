//! `maiimg migrate-store`: copy every file the database references (and every adopted file
//! it keeps) from the blob backend in use to another (disk → bucket, or back), with the
//! server stopped: it holds the database exclusively, and a copy made while galleries are
//! created could miss their files.
//!
//! Each file is read, checked against its digest, written to the destination (which checks
//! it again: the bucket against its SHA-256, the disk by the copy's own digest) and only then
//! counted as done. A file already at the destination is checked and skipped, so a run that
//! was interrupted resumes where it stopped. Nothing is switched and nothing deleted: the
//! destination gets the instance marker last, once every file is there, and the source stays
//! as it is until the configuration is changed by hand.

use std::io;
use std::path::Path;

use thiserror::Error;

use crate::blobs::{Backend, BlobStore};
use crate::model::Digest;
use crate::store::{Store, StoreError};

/// What went wrong; nothing is switched in any case.
#[derive(Debug, Error)]
pub enum MigrateError {
    /// The database could not be read (or is in use by a running server).
    #[error("the database: {0}")]
    Store(#[from] StoreError),
    /// A backend failed.
    #[error("{side}: {source}")]
    Blobs {
        /// `source` or `destination`.
        side: &'static str,
        /// What failed.
        source: io::Error,
    },
    /// A file of the source is missing or does not match its digest.
    #[error("{0} in the source is missing or damaged (run `maiimg check`); nothing was switched")]
    Damaged(String),
    /// The database has no instance id yet (the server never started on it).
    #[error("the database has no instance id yet: start the server once before migrating")]
    Unbound,
    /// Source and destination are the same backend.
    #[error("the files are already there (storage is {0})")]
    SameBackend(&'static str),
}

/// How far a migration is, after each file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Files in all.
    pub files: u64,
    /// Files copied or found in place.
    pub done_files: u64,
    /// Bytes copied or found in place.
    pub done_bytes: u64,
    /// Files that were at the destination already (skipped).
    pub skipped: u64,
}

fn side(side: &'static str) -> impl Fn(io::Error) -> MigrateError {
    move |source| MigrateError::Blobs { side, source }
}

/// Copy every referenced and kept file of the database in `data_dir` from `from` to `to`,
/// reporting after each file. Returns the final progress.
pub fn migrate(
    data_dir: &Path,
    from: &Backend,
    to: &Backend,
    mut report: impl FnMut(&Progress),
) -> Result<Progress, MigrateError> {
    if from == to {
        let name = match to {
            Backend::Disk => "fs",
            Backend::S3(_) => "s3",
        };
        return Err(MigrateError::SameBackend(name));
    }
    let store = Store::open(data_dir, true)?;
    let instance = store.identity()?.instance_id.ok_or(MigrateError::Unbound)?;
    let mut wanted: Vec<Digest> = store.referenced()?.into_iter().collect();
    wanted.extend(store.kept_files()?.into_keys());
    wanted.sort_by_key(Digest::to_hex);
    wanted.dedup();
    drop(store);

    let source = BlobStore::open_on(data_dir, from).map_err(side("source"))?;
    let destination = BlobStore::open_on(data_dir, to).map_err(side("destination"))?;
    let marker = destination.marker().map_err(side("destination"))?;
    if let Some(other) = marker.as_ref().filter(|m| **m != instance) {
        return Err(MigrateError::Blobs {
            side: "destination",
            source: io::Error::other(format!(
                "it belongs to another instance ({other}; this one is {instance}): choose an \
                 empty bucket or prefix"
            )),
        });
    }
    let mut progress = Progress {
        files: wanted.len() as u64,
        ..Progress::default()
    };
    report(&progress);
    for digest in &wanted {
        let bytes = if destination.exists(digest).map_err(side("destination"))? {
            // Written whole by an earlier run (each write is atomic); still checked, so
            // a damaged copy is replaced rather than trusted.
            let there = destination.read(digest).map_err(side("destination"))?;
            if Digest::of(&there) == *digest {
                progress.skipped += 1;
                Some(there.len() as u64)
            } else {
                // Not referenced there (no database uses the destination yet).
                destination
                    .collect([*digest], |_| Ok(false))
                    .map_err(side("destination"))?;
                None
            }
        } else {
            None
        };
        let bytes = match bytes {
            Some(bytes) => bytes,
            None => {
                // A missing file is damage to report; the store failing is not (run again).
                let data = source.read(digest).map_err(|e| match e.kind() {
                    io::ErrorKind::NotFound => MigrateError::Damaged(digest.to_hex()),
                    _ => MigrateError::Blobs {
                        side: "source",
                        source: e,
                    },
                })?;
                if Digest::of(&data) != *digest {
                    return Err(MigrateError::Damaged(digest.to_hex()));
                }
                let pin = destination.put(&data).map_err(side("destination"))?;
                drop(pin);
                data.len() as u64
            }
        };
        progress.done_files += 1;
        progress.done_bytes += bytes;
        report(&progress);
    }
    // Last: the destination is the instance's from now on, and a database that is not
    // this one will refuse it.
    if marker.is_none() {
        destination
            .write_marker(&instance)
            .map_err(side("destination"))?;
    }
    Ok(progress)
}
