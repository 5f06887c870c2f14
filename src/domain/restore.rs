//! `maiimg restore SRC`: a backup made by `maiimg backup` put back as the data directory,
//! with the server stopped. The backup itself is only read.
//!
//! The order keeps every step safe to interrupt and run again: the database is staged
//! inside the data directory, the files go to the configured blob store (disk or bucket)
//! and are checked against their digests, files already there that the restored database
//! does not know are recorded as kept (a restore never makes photos collectable), the
//! staged database takes its place, and only then is the store's marker written (until
//! then, start-up refuses a store without one). A database that was there is renamed
//! aside under a name of its own, never deleted or replaced.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::blobs::{Backend, BlobStore};
use crate::clock::Millis;
use crate::domain::backup::{
    BackupError, DATABASE, Manifest, Progress, file_in, file_sha256, in_use, io_in, overlapping,
    read_manifest,
};
use crate::model::Digest;
use crate::store::{Store, read_copy};

/// Where the database is staged inside the data directory.
const STAGING: &str = "restore-staging";

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// Files copied, and files found in place already.
    pub progress: Progress,
    /// Files the database references that the backup lacks or has damaged (hex).
    pub missing: Vec<String>,
    /// Files in the blob store the restored database does not reference, now kept.
    pub kept: u64,
    /// Where the database that was in the data directory went.
    pub set_aside: Option<PathBuf>,
}

/// Restore the backup in `src` into `data_dir` with its files in `backend`. A data
/// directory that holds anything needs `force`; `now` names the database set aside and
/// dates the kept files.
pub fn restore(
    src: &Path,
    data_dir: &Path,
    backend: &Backend,
    force: bool,
    now: Millis,
    mut report: impl FnMut(&Progress),
) -> Result<Restored, BackupError> {
    let manifest = read_manifest(src)?.ok_or_else(|| {
        BackupError::Refused(format!(
            "{} is not a maiimg backup (it has no BACKUP.json)",
            src.display()
        ))
    })?;
    let source_db = src.join(DATABASE);
    if overlapping(src, data_dir).map_err(io_in("the data directory"))? {
        return Err(BackupError::Refused(format!(
            "{} is the data directory or inside or around it: restore into another one",
            src.display()
        )));
    }
    check_data_dir(data_dir, force)?;

    let staging = data_dir.join(STAGING);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io_in("the data directory"))?;
    }
    fs::create_dir_all(&staging).map_err(io_in("the data directory"))?;
    let staged = staging.join(DATABASE);
    fs::copy(&source_db, &staged)
        .and_then(|_| File::open(&staged)?.sync_all())
        .map_err(io_in("the data directory"))?;
    // The copy is what is checked: what was read is what will be used.
    if file_sha256(&staged).map_err(io_in("the data directory"))? != manifest.database_sha256 {
        return Err(BackupError::Refused(format!(
            "{} does not match its BACKUP.json: the backup was interrupted or is damaged",
            source_db.display()
        )));
    }
    let contents = read_copy(&staged)?;
    let instance_id = manifest.instance_id.clone();
    if contents.instance_id.as_deref() != Some(instance_id.as_str()) {
        return Err(BackupError::Refused(format!(
            "the backup's database is not instance {instance_id}, as BACKUP.json says"
        )));
    }

    let target = BlobStore::open_on(data_dir, backend).map_err(BackupError::Blobs)?;
    let marker = target.marker().map_err(BackupError::Blobs)?;
    if let Some(other) = marker.as_ref().filter(|m| **m != instance_id) {
        return Err(BackupError::Refused(format!(
            "the image store belongs to another instance ({other}; the backup is \
             {instance_id}): choose an empty bucket, prefix or data directory"
        )));
    }
    let mut progress = Progress {
        files: contents.files.len() as u64,
        ..Progress::default()
    };
    report(&progress);
    let mut missing = Vec::new();
    for digest in &contents.files {
        if target.exists(digest).map_err(BackupError::Blobs)? {
            progress.done_files += 1;
            report(&progress);
            continue;
        }
        match fs::read(file_in(src, digest)) {
            Ok(data) if Digest::of(&data) == *digest => {
                drop(target.put(&data).map_err(BackupError::Blobs)?);
                progress.copied += 1;
                progress.done_bytes += data.len() as u64;
            }
            Ok(_) => missing.push(digest.to_hex()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(digest.to_hex()),
            Err(e) => return Err(io_in("the backup")(e)),
        }
        progress.done_files += 1;
        report(&progress);
    }

    // Files the store holds that this database does not know (a bucket or tree that went
    // on after the backup): kept for good, as `serve --new-database` keeps adopted ones.
    let wanted: std::collections::HashSet<Digest> = contents.files.iter().copied().collect();
    let unknown: Vec<Digest> = target
        .all()
        .map_err(BackupError::Blobs)?
        .into_iter()
        .filter(|d| !wanted.contains(d))
        .collect();
    if !unknown.is_empty() {
        let store = Store::open(&staging, true)?;
        store.bind(&instance_id, &unknown, now)?;
    }
    let live = data_dir.join(DATABASE);
    let set_aside = if live.exists() {
        let aside = free_name(data_dir, &format!("{DATABASE}.before-restore-{}", now.0));
        fs::rename(&live, &aside).map_err(io_in("the data directory"))?;
        Some(aside)
    } else {
        None
    };
    File::open(&staged)
        .and_then(|f| f.sync_all())
        .and_then(|()| fs::rename(&staged, &live))
        .and_then(|()| File::open(data_dir)?.sync_all())
        .map_err(io_in("the data directory"))?;
    // Last: until the restored database is in place, a store without a marker keeps
    // start-up from letting any other database judge its files.
    if marker.is_none() {
        target
            .write_marker(&instance_id)
            .map_err(BackupError::Blobs)?;
    }
    drop(target);
    fs::remove_dir_all(&staging).map_err(io_in("the data directory"))?;
    Ok(Restored {
        manifest,
        progress,
        missing,
        kept: unknown.len() as u64,
        set_aside,
    })
}

/// `dir/base`, or `dir/base-2`, `-3`… if taken: a database set aside never replaces another.
fn free_name(dir: &Path, base: &str) -> PathBuf {
    let mut path = dir.join(base);
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{base}-{n}"));
    }
    path
}

/// A data directory we may restore into: missing or empty, or anything with `force`, but
/// never one whose database a running server holds.
fn check_data_dir(data_dir: &Path, force: bool) -> Result<(), BackupError> {
    fs::create_dir_all(data_dir).map_err(io_in("the data directory"))?;
    if in_use(data_dir) {
        return Err(BackupError::Refused(
            "the server is running on this data directory: stop it first".into(),
        ));
    }
    let busy = fs::read_dir(data_dir)
        .map_err(io_in("the data directory"))?
        .filter_map(Result::ok)
        .any(|entry| entry.file_name() != STAGING);
    if busy && !force {
        return Err(BackupError::Refused(format!(
            "{} is not empty: restore into an empty directory, or add --force (its database \
             is then renamed aside, and image files the backup does not know are kept)",
            data_dir.display()
        )));
    }
    Ok(())
}
