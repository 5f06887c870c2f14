//! `maiimg backup DEST`: a consistent copy of the database and of every file it references,
//! taken while the server runs.
//!
//! A backup directory is laid out as a data directory (`maiimg.redb`, `blobs/ab/cd/<sha256>`,
//! `blobs/INSTANCE`) plus `BACKUP.json`, which says what it holds and is what marks the
//! directory as a backup. The database is copied from one read snapshot (never the file
//! itself, which may be mid-commit), then the files that snapshot references: only those
//! not there yet, since a content-addressed file never changes. While the files are copied
//! nothing is deleted from the blob store (a gallery deleted after the snapshot would
//! otherwise take files the copy still needs); what is freed meanwhile is left to the
//! hourly collection of orphans.
//!
//! An interrupted backup leaves the previous one whole: the new database is written beside
//! it as `maiimg.redb.partial` and renamed over it only once every file is in, and the
//! files it added are ones the next run would copy anyway. The one window is between the
//! database's rename and the manifest's: a crash there leaves a pair whose digests
//! disagree, which a restore refuses (never uses), and the next backup replaces.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use crate::blobs::{Backend, BlobStore};
use crate::domain::galleries::Galleries;
use crate::model::Digest;
use crate::store::{Rows, Store, StoreError};

mod destination;

pub use destination::check_destination;
pub(crate) use destination::overlapping;

/// The file that marks a directory as a backup and says what it holds.
pub const MANIFEST: &str = "BACKUP.json";
/// The database's name in a data directory and in a backup.
pub const DATABASE: &str = "maiimg.redb";
/// The layout of backup directories this version writes and reads.
const FORMAT: u32 = 1;

/// What a backup holds (`BACKUP.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The layout (1).
    pub format: u32,
    /// The version of maiimg that wrote it.
    pub maiimg: String,
    /// When the database was copied, RFC 3339 UTC.
    pub created: String,
    /// The instance backed up.
    pub instance_id: String,
    /// Galleries in the database.
    pub galleries: u64,
    /// Files the database references or keeps, all in `blobs/` unless listed as missing.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// SHA-256 of `maiimg.redb`, hex: a restore checks it.
    pub database_sha256: String,
    /// Files the database references that the blob store did not have or had damaged
    /// (hex digests; `maiimg check` on the server says more).
    pub missing: Vec<String>,
}

/// Why a backup or a restore stopped. Neither leaves anything half done in place.
#[derive(Debug, Error)]
pub enum BackupError {
    /// The database could not be read.
    #[error("the database: {0}")]
    Store(#[from] StoreError),
    /// The destination (or source) cannot be used, and why, in words.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing the backup directory or the data directory failed.
    #[error("{what}: {source}")]
    Io {
        /// Which directory.
        what: &'static str,
        /// What failed.
        source: io::Error,
    },
    /// The blob store failed (a bucket that cannot be reached): run it again later.
    #[error("the image files could not be read: {0}")]
    Blobs(io::Error),
}

/// In `what`, an I/O failure.
pub(crate) fn io_in(what: &'static str) -> impl Fn(io::Error) -> BackupError {
    move |source| BackupError::Io { what, source }
}

/// How far a backup or restore is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Database rows copied, of how many.
    pub rows: u64,
    /// Database rows in all.
    pub rows_total: u64,
    /// Files in all (known once the database is copied).
    pub files: u64,
    /// Files in place so far.
    pub done_files: u64,
    /// Their bytes.
    pub done_bytes: u64,
    /// Files that had to be copied (the rest were there already).
    pub copied: u64,
}

/// The manifest of the backup in `dir`, if it is one.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, BackupError> {
    let text = match fs::read(dir.join(MANIFEST)) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_in("the backup directory")(e)),
    };
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| {
        BackupError::Refused(format!(
            "{MANIFEST} in {} is unreadable: {e}",
            dir.display()
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(BackupError::Refused(format!(
            "the backup in {} has layout {} (this version reads {FORMAT})",
            dir.display(),
            manifest.format
        )));
    }
    Ok(Some(manifest))
}

/// Back up `store` and the files of `blobs` (the data directory `data_dir`'s) into `dest`,
/// reporting as it goes. `created` is the time written in the manifest.
pub fn backup(
    store: &Store,
    blobs: &Arc<BlobStore>,
    data_dir: &Path,
    dest: &Path,
    created: time::OffsetDateTime,
    mut report: impl FnMut(&Progress),
) -> Result<Manifest, BackupError> {
    let instance_id = store.identity()?.instance_id;
    check_destination(data_dir, dest, instance_id.as_deref())?;
    let mut progress = Progress::default();
    // Before the snapshot: from here on no file it can reference is deleted.
    let hold = blobs.hold();
    let partial = dest.join(format!("{DATABASE}.partial"));
    remove_if_there(&partial).map_err(io_in("the backup directory"))?;
    let contents = store.copy_to(&partial, |rows: Rows| {
        progress.rows = rows.done;
        progress.rows_total = rows.total;
        report(&progress);
    })?;
    let instance_id = contents.instance_id.ok_or_else(|| {
        BackupError::Refused("the database has no instance id yet: start the server once".into())
    })?;

    let target = BlobStore::open_on(dest, &Backend::Disk).map_err(io_in("the backup directory"))?;
    match target.marker().map_err(io_in("the backup directory"))? {
        Some(other) if other != instance_id => {
            return Err(BackupError::Refused(format!(
                "{}/blobs belongs to another instance ({other}): choose another directory",
                dest.display()
            )));
        }
        Some(_) => {}
        None => target
            .write_marker(&instance_id)
            .map_err(io_in("the backup directory"))?,
    }
    progress.files = contents.files.len() as u64;
    report(&progress);
    let mut missing = Vec::new();
    for digest in &contents.files {
        let size = match copy_in(blobs, &target, digest)? {
            FileCopy::There(size) => size,
            FileCopy::Copied(size) => {
                progress.copied += 1;
                size
            }
            FileCopy::Missing => {
                missing.push(digest.to_hex());
                0
            }
        };
        progress.done_files += 1;
        progress.done_bytes += size;
        report(&progress);
    }
    drop(hold);

    let manifest = Manifest {
        format: FORMAT,
        maiimg: env!("CARGO_PKG_VERSION").to_owned(),
        created: created
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        instance_id,
        galleries: contents.galleries,
        files: progress.files,
        bytes: progress.done_bytes,
        database_sha256: file_sha256(&partial).map_err(io_in("the backup directory"))?,
        missing,
    };
    // The new database replaces the old one only now, with its manifest right after: an
    // interruption before this leaves the previous backup as it was.
    let manifest_tmp = dest.join(format!("{MANIFEST}.tmp"));
    write_durably(
        &manifest_tmp,
        &serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
    )
    .map_err(io_in("the backup directory"))?;
    fs::rename(&partial, dest.join(DATABASE)).map_err(io_in("the backup directory"))?;
    fs::rename(&manifest_tmp, dest.join(MANIFEST)).map_err(io_in("the backup directory"))?;
    File::open(dest)
        .and_then(|d| d.sync_all())
        .map_err(io_in("the backup directory"))?;
    Ok(manifest)
}

/// Whether a running server holds the database in `data_dir` (redb locks its file).
pub fn in_use(data_dir: &Path) -> bool {
    matches!(
        redb::Database::builder().open_read_only(data_dir.join(DATABASE)),
        Err(redb::DatabaseError::DatabaseAlreadyOpen)
    )
}

/// [`backup`] with the server stopped: the database and the files of `backend` opened
/// here, for the copy only.
pub fn backup_stopped(
    data_dir: &Path,
    backend: &Backend,
    dest: &Path,
    created: time::OffsetDateTime,
    report: impl FnMut(&Progress),
) -> Result<Manifest, BackupError> {
    if !data_dir.join(DATABASE).exists() {
        return Err(BackupError::Refused(format!(
            "there is no database in {} to back up",
            data_dir.display()
        )));
    }
    let store = Store::open(data_dir, true)?;
    let blobs = BlobStore::open_on(data_dir, backend).map_err(BackupError::Blobs)?;
    backup(&store, &blobs, data_dir, dest, created, report)
}

impl Galleries {
    /// [`check_destination`] for this instance.
    pub fn check_backup_destination(
        &self,
        data_dir: &Path,
        dest: &Path,
    ) -> Result<(), BackupError> {
        let instance_id = self.store.identity()?.instance_id;
        check_destination(data_dir, dest, instance_id.as_deref())
    }

    /// [`backup`] of this instance's database and files.
    pub fn backup(
        &self,
        data_dir: &Path,
        dest: &Path,
        created: time::OffsetDateTime,
        report: impl FnMut(&Progress),
    ) -> Result<Manifest, BackupError> {
        backup(&self.store, &self.blobs, data_dir, dest, created, report)
    }
}

/// What became of one file.
enum FileCopy {
    /// Already at the destination, this size.
    There(u64),
    /// Copied now, this size.
    Copied(u64),
    /// The source lacks it or has it damaged.
    Missing,
}

/// Copy one file from `from` to `to` unless it is there, checking its digest on the way.
fn copy_in(
    from: &BlobStore,
    to: &Arc<BlobStore>,
    digest: &Digest,
) -> Result<FileCopy, BackupError> {
    if let Some(Ok(meta)) = to.file(digest).map(fs::metadata) {
        return Ok(FileCopy::There(meta.len()));
    }
    let data = match from.read(digest) {
        Ok(data) => data,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileCopy::Missing),
        Err(e) => return Err(BackupError::Blobs(e)),
    };
    if Digest::of(&data) != *digest {
        return Ok(FileCopy::Missing);
    }
    drop(to.put(&data).map_err(io_in("the backup directory"))?);
    Ok(FileCopy::Copied(data.len() as u64))
}

pub(crate) fn remove_if_there(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Write `bytes` to `path` and sync it.
fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The SHA-256 of a file, hex, read in pieces.
pub(crate) fn file_sha256(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Digest(hasher.finalize().into()).to_hex())
}

/// Where a backup (or data directory) keeps the file `digest`.
pub(crate) fn file_in(dir: &Path, digest: &Digest) -> PathBuf {
    BlobStore::path_in(dir, digest)
}
