//! `maiimg check`: is this data directory whole? The database's own integrity, every
//! referenced file present with the digest it is named by, the tie between database and
//! blob tree, and every file nobody references (kept, marked, or not yet seen). It changes
//! nothing it finds wrong, so it can be run on a directory the server refuses to start on.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::blobs::{Backend, Inspection};
use crate::clock::Millis;
use crate::model::Digest;
use crate::store::{Inventory, Store, StoreError, verify_database};

/// What a check found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The database file is there (and not empty).
    pub database: bool,
    /// redb found the file consistent (it repairs an unclean shutdown itself).
    pub integrity: bool,
    /// What the database holds.
    pub inventory: Inventory,
    /// The tree's marker.
    pub marker: Option<String>,
    /// Blob files in the tree.
    pub files: usize,
    /// Referenced files that are missing.
    pub missing: Vec<Digest>,
    /// Referenced files whose bytes do not hash to their name.
    pub damaged: Vec<Digest>,
    /// Unreferenced files and what the collector thinks of each.
    pub unreferenced: BTreeMap<Digest, Orphan>,
}

/// An unreferenced file's standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orphan {
    /// Kept since `--new-database` adopted the tree: never collected.
    Kept(Millis),
    /// Marked unreferenced since then: collected an hour after.
    Marked(Millis),
    /// Not yet seen by a collection.
    Unseen,
}

impl Report {
    /// Whether anything is wrong: a damaged database, lost or damaged photos, or a tree
    /// that does not belong to the database.
    pub fn problems(&self) -> usize {
        let tie = match (&self.inventory.identity.instance_id, &self.marker) {
            (Some(a), Some(b)) => usize::from(a != b),
            (None, None) => 0,
            _ => 1,
        };
        usize::from(!self.database && self.files > 0)
            + usize::from(self.database && !self.integrity)
            + self.missing.len()
            + self.damaged.len()
            + tie
    }
}

/// What a check of every referenced file found (the admin's "verify files").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCheck {
    /// Files present with the right digest.
    pub intact: usize,
    /// Referenced files that are missing.
    pub missing: Vec<Digest>,
    /// Referenced files whose bytes do not hash to their name.
    pub damaged: Vec<Digest>,
}

/// Read every file in `referenced` (at `path_of`) and compare it with its digest.
pub(crate) fn verify_each<'a>(
    referenced: impl IntoIterator<Item = &'a Digest>,
    read: impl Fn(&Digest) -> std::io::Result<Vec<u8>>,
) -> FileCheck {
    let mut found = FileCheck::default();
    for digest in referenced {
        match read(digest) {
            Ok(bytes) if Digest::of(&bytes) == *digest => found.intact += 1,
            Ok(_) => found.damaged.push(*digest),
            Err(_) => found.missing.push(*digest),
        }
    }
    found
}

/// Check the data directory at `data_dir`, whose image files are on `backend`.
pub fn check(data_dir: &Path, backend: &Backend) -> Result<Report, StoreError> {
    let tree = Inspection::on(data_dir, backend).map_err(|e| StoreError::Db(e.into()))?;
    let files = tree.all().map_err(|e| StoreError::Db(e.into()))?;
    let mut report = Report {
        marker: tree.marker().map_err(|e| StoreError::Db(e.into()))?,
        files: files.len(),
        ..Report::default()
    };
    let db_file = data_dir.join("maiimg.redb");
    report.database = std::fs::metadata(&db_file).is_ok_and(|m| m.len() > 0);
    if report.database {
        match verify_database(&db_file) {
            Ok(consistent) => {
                report.integrity = consistent;
                report.inventory = Store::open(data_dir, true)?.inventory()?;
            }
            // Still list the files: they are what a restore is checked against.
            Err(StoreError::Damaged) => report.integrity = false,
            Err(e) => return Err(e),
        }
    }
    let inventory = &report.inventory;
    let found = verify_each(&inventory.referenced, |d| tree.read(d));
    report.missing = found.missing;
    report.damaged = found.damaged;
    for digest in files {
        if inventory.referenced.contains(&digest) {
            continue;
        }
        let standing = match (inventory.kept.get(&digest), inventory.marks.get(&digest)) {
            (Some(&ms), _) => Orphan::Kept(ms),
            (None, Some(&ms)) => Orphan::Marked(ms),
            (None, None) => Orphan::Unseen,
        };
        report.unreferenced.insert(digest, standing);
    }
    Ok(report)
}

fn when(ms: Millis) -> String {
    ms.time()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.0.to_string())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inv = &self.inventory;
        if !self.database {
            writeln!(f, "database: maiimg.redb is missing or empty")?;
        } else {
            let state = if self.integrity { "ok" } else { "DAMAGED" };
            writeln!(
                f,
                "database: integrity {state}; {} galleries, {} staged uploads, {} referenced files; instance {}",
                inv.galleries,
                inv.uploads,
                inv.referenced.len(),
                inv.identity.instance_id.as_deref().unwrap_or("(none yet)")
            )?;
        }
        let tie = match (&inv.identity.instance_id, &self.marker) {
            (Some(a), Some(b)) if a == b => "matches the database".to_owned(),
            (_, Some(b)) => format!("says instance {b}: DOES NOT MATCH the database"),
            (Some(_), None) => "MISSING".to_owned(),
            (None, None) => "none yet".to_owned(),
        };
        writeln!(f, "files: {} in blobs/; marker {tie}", self.files)?;
        writeln!(
            f,
            "referenced files: {} ok, {} missing, {} damaged",
            inv.referenced.len() - self.missing.len() - self.damaged.len(),
            self.missing.len(),
            self.damaged.len()
        )?;
        for d in &self.missing {
            writeln!(f, "  missing  {d}", d = d.to_hex())?;
        }
        for d in &self.damaged {
            writeln!(f, "  damaged  {d}", d = d.to_hex())?;
        }
        writeln!(f, "unreferenced files: {}", self.unreferenced.len())?;
        for (digest, standing) in &self.unreferenced {
            let standing = match standing {
                Orphan::Kept(ms) => format!("kept (adopted {}; never collected)", when(*ms)),
                Orphan::Marked(ms) => format!("marked {} (collected an hour after)", when(*ms)),
                Orphan::Unseen => "not yet seen by a collection".to_owned(),
            };
            writeln!(f, "  {}  {standing}", digest.to_hex())?;
        }
        match self.problems() {
            0 => writeln!(f, "no problems found"),
            n => writeln!(f, "{n} problems found"),
        }
    }
}
