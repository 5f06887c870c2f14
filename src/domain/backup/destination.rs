//! Where a backup may be written: never the data directory or anything inside or around it,
//! never a directory holding anything but a backup of this instance (or what an interrupted
//! first one left beside its marker), and nothing created before the path is judged.

use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::{BackupError, MANIFEST, io_in, read_manifest};

/// What a backup writes before its manifest: an interrupted first backup leaves only these.
const LEFT_BY_A_BACKUP: [&str; 5] = [
    "maiimg.redb.partial",
    "maiimg.redb",
    "BACKUP.json.tmp",
    "blobs",
    "tmp",
];
/// Refuse a destination that is not a directory we may write a backup into: the data
/// directory itself or anything inside it or around it, or a directory holding something
/// other than a backup (of this instance, when `instance_id` is known).
pub fn check_destination(
    data_dir: &Path,
    dest: &Path,
    instance_id: Option<&str>,
) -> Result<(), BackupError> {
    if !dest.is_absolute() {
        return Err(BackupError::Refused(format!(
            "the destination must be an absolute path (got {})",
            dest.display()
        )));
    }
    // Judged before anything is created, so a refused path leaves nothing behind.
    if overlapping(dest, data_dir).map_err(io_in("the backup directory"))? {
        return Err(BackupError::Refused(format!(
            "{} is the data directory or inside or around it: choose a directory of its own, \
             ideally on another disk",
            dest.display()
        )));
    }
    if !dest.exists() {
        // The database holds the instance's secrets: the backup is for its owner only.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dest)
            .map_err(io_in("the backup directory"))?;
    }
    let marker = fs::read_to_string(dest.join("blobs").join("INSTANCE")).ok();
    let ours = match (instance_id, marker.as_deref().map(str::trim)) {
        (Some(id), Some(marker)) if marker != id => {
            return Err(BackupError::Refused(format!(
                "{} holds the files of another instance ({marker}): choose another directory",
                dest.display(),
            )));
        }
        (Some(_), Some(_)) => true,
        _ => false,
    };
    match read_manifest(dest) {
        Ok(Some(manifest)) => match instance_id {
            Some(id) if manifest.instance_id != id => Err(BackupError::Refused(format!(
                "{} holds a backup of another instance ({}): choose another directory",
                dest.display(),
                manifest.instance_id
            ))),
            _ => Ok(()),
        },
        Ok(None) => {
            // Empty, or what an interrupted first backup of this instance leaves (it
            // resumes): only its own names, beside the marker naming this instance.
            let entries = fs::read_dir(dest).map_err(io_in("the backup directory"))?;
            for entry in entries {
                let name = entry.map_err(io_in("the backup directory"))?.file_name();
                if !ours || !LEFT_BY_A_BACKUP.iter().any(|n| name == *n) {
                    return Err(BackupError::Refused(format!(
                        "{} is neither empty nor a maiimg backup (it has no {MANIFEST}): \
                         choose an empty directory",
                        dest.display()
                    )));
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Whether `a` and `b` are the same directory or one is inside the other, judged on the
/// nearest existing ancestor of each (so nothing needs creating first) with links resolved.
pub(crate) fn overlapping(a: &Path, b: &Path) -> io::Result<bool> {
    fn resolved(path: &Path) -> io::Result<PathBuf> {
        let path = std::path::absolute(path)?;
        let mut existing = path.as_path();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    existing = parent;
                }
                _ => break,
            }
        }
        let mut out = existing.canonicalize()?;
        out.extend(rest.iter().rev());
        Ok(out)
    }
    let (a, b) = (resolved(a)?, resolved(b)?);
    Ok(a.starts_with(&b) || b.starts_with(&a))
}
