//! What ties the database to its blob tree and what guards file deletion: the instance id,
//! which files are referenced, the marks of files seen unreferenced (mark, then sweep a
//! grace period later) and the files kept when a new database adopted an existing tree.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, WriteTransaction};

use super::tables::{BLOB_REFS, GALLERIES, KEPT_FILES, META, ORPHAN_MARKS, UPLOADS};
use super::{Result, Store};
use crate::clock::Millis;
use crate::model::Digest;

/// Where the instance id lives in the instance values.
pub(super) const INSTANCE_ID: &str = "instance_id";

/// Create the tables at start-up, so readers never meet a missing one.
pub(super) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(ORPHAN_MARKS)?;
    txn.open_table(KEPT_FILES)?;
    Ok(())
}

/// What the database says about itself, for tying it to a blob tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The instance id, once one was given.
    pub instance_id: Option<String>,
    /// No server ever started on this file: no instance value at all (every version
    /// stores its ticket key at the first start).
    pub fresh: bool,
    /// Blobs referenced by a gallery or staged upload.
    pub referenced: u64,
}

impl Store {
    /// The instance id and whether the file is fresh.
    pub fn identity(&self) -> Result<Identity> {
        self.observed(|| -> Result<Identity> {
            let txn = self.db()?.begin_read()?;
            let meta = txn.open_table(META)?;
            let instance_id = meta
                .get(INSTANCE_ID)?
                .map(|v| String::from_utf8_lossy(v.value()).into_owned());
            Ok(Identity {
                instance_id,
                fresh: meta.is_empty()?,
                referenced: txn.open_table(BLOB_REFS)?.len()?,
            })
        })
    }

    /// Give this database its instance id and keep `adopted` (files it does not reference,
    /// met when it adopted a tree) from ever being collected, in one transaction.
    pub fn bind(&self, instance_id: &str, adopted: &[Digest], now: Millis) -> Result<()> {
        self.write(|txn| {
            txn.open_table(META)?
                .insert(INSTANCE_ID, instance_id.as_bytes())?;
            let refs = txn.open_table(BLOB_REFS)?;
            let mut kept = txn.open_table(KEPT_FILES)?;
            for digest in adopted {
                if refs.get(&digest.0)?.is_none() {
                    kept.insert(&digest.0, now.0)?;
                }
            }
            Ok(())
        })
    }

    /// Does any committed record reference this blob?
    pub fn is_referenced(&self, digest: &Digest) -> Result<bool> {
        self.observed(|| -> Result<bool> {
            let txn = self.db()?.begin_read()?;
            let refs = txn.open_table(BLOB_REFS)?;
            Ok(refs.get(&digest.0)?.is_some())
        })
    }

    /// Every referenced blob.
    pub fn referenced(&self) -> Result<HashSet<Digest>> {
        self.observed(|| -> Result<HashSet<Digest>> {
            let txn = self.db()?.begin_read()?;
            let refs = txn.open_table(BLOB_REFS)?;
            let mut out = HashSet::new();
            for entry in refs.iter()? {
                out.insert(Digest(*entry?.0.value()));
            }
            Ok(out)
        })
    }

    /// Files kept since a new database adopted the tree.
    pub fn kept_files(&self) -> Result<HashMap<Digest, Millis>> {
        self.digest_times(KEPT_FILES)
    }

    /// Since when each marked file has been seen unreferenced.
    pub fn orphan_marks(&self) -> Result<HashMap<Digest, Millis>> {
        self.digest_times(ORPHAN_MARKS)
    }

    fn digest_times(
        &self,
        table: redb::TableDefinition<&[u8; 32], i64>,
    ) -> Result<HashMap<Digest, Millis>> {
        self.observed(|| -> Result<HashMap<Digest, Millis>> {
            let txn = self.db()?.begin_read()?;
            let table = txn.open_table(table)?;
            let mut out = HashMap::new();
            for entry in table.iter()? {
                let (digest, ms) = entry?;
                out.insert(Digest(*digest.value()), Millis(ms.value()));
            }
            Ok(out)
        })
    }

    /// Mark `seen` as unreferenced since `now` (a file already marked keeps its older
    /// mark) and drop the marks of `cleared`, in one transaction.
    pub fn set_orphan_marks(&self, seen: &[Digest], cleared: &[Digest], now: Millis) -> Result<()> {
        if seen.is_empty() && cleared.is_empty() {
            return Ok(());
        }
        self.write(|txn| {
            let mut marks = txn.open_table(ORPHAN_MARKS)?;
            for digest in seen {
                if marks.get(&digest.0)?.is_none() {
                    marks.insert(&digest.0, now.0)?;
                }
            }
            for digest in cleared {
                marks.remove(&digest.0)?;
            }
            Ok(())
        })
    }
}

/// A database as `maiimg check` sees it, read without changing it.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// What it says about itself.
    pub identity: Identity,
    /// Galleries.
    pub galleries: u64,
    /// Staged uploads.
    pub uploads: u64,
    /// Every referenced blob.
    pub referenced: HashSet<Digest>,
    /// Files kept since a new database adopted the tree.
    pub kept: HashMap<Digest, Millis>,
    /// Files marked unreferenced, and since when.
    pub marks: HashMap<Digest, Millis>,
}

impl Store {
    /// Everything `maiimg check` compares with the blob tree.
    pub fn inventory(&self) -> Result<Inventory> {
        self.observed(|| -> Result<Inventory> {
            let referenced = self.referenced()?;
            let txn = self.db()?.begin_read()?;
            Ok(Inventory {
                identity: self.identity()?,
                galleries: txn.open_table(GALLERIES)?.len()?,
                uploads: txn.open_table(UPLOADS)?.len()?,
                referenced,
                kept: self.kept_files()?,
                marks: self.orphan_marks()?,
            })
        })
    }
}

/// redb's own check of the file at `path` (it must not be open elsewhere): `true` if it is
/// consistent, `false` if it was not but redb repaired it.
pub fn verify_database(path: &Path) -> Result<bool> {
    super::undamaged(|| {
        let mut db = Database::open(path)?;
        Ok(db.check_integrity()?)
    })
}
