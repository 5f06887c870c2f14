//! The whole database copied from one read snapshot into a new file (`maiimg backup`), and
//! such a copy read without changing it (`maiimg restore`).
//!
//! redb's maintainer is clear that a file being written must never be copied byte for byte:
//! a copy taken mid-commit can hold half of one. A read transaction sees one commit whole
//! while the recorder and the handlers go on writing, so the copy is made row by row from
//! it, table by table, into a fresh file. Writers are not held up: redb readers take no
//! lock a writer waits on; what the snapshot costs is that pages freed while it lives are
//! reused only after it ends.

use std::collections::HashSet;
use std::path::Path;

use redb::{
    Database, Durability, Key, MultimapTableHandle, ReadOnlyDatabase, ReadTransaction,
    ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle, Value,
};

use super::tables::{
    ACTIVITY, BLOB_REFS, EXHAUSTED, GALLERIES, KEPT_FILES, META, ORPHAN_MARKS, OWNER_GALLERIES,
    UPLOADS,
};
use super::{Result, Store, StoreError, collection};
use crate::model::Digest;

/// The copy's page cache (redb's default is 1 GiB, beside the live database's own): a
/// backup must not take a small server's memory.
const COPY_CACHE_BYTES: usize = 32 << 20;
/// Rows written per transaction of the copy, so a large log never sits in one.
const ROWS_PER_COMMIT: u64 = 20_000;

/// What a copy holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// The instance id of the database copied.
    pub instance_id: Option<String>,
    /// Galleries in it.
    pub galleries: u64,
    /// Every file it references or keeps (the files a backup must hold), sorted.
    pub files: Vec<Digest>,
}

/// Rows copied so far, of how many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rows {
    /// Copied.
    pub done: u64,
    /// In all.
    pub total: u64,
}

/// Every table of the schema: a copy that met a table not named here would be incomplete,
/// so it fails instead.
fn known_tables() -> HashSet<String> {
    [
        GALLERIES.name(),
        UPLOADS.name(),
        BLOB_REFS.name(),
        META.name(),
        ACTIVITY.name(),
        OWNER_GALLERIES.name(),
        EXHAUSTED.name(),
        ORPHAN_MARKS.name(),
        KEPT_FILES.name(),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

impl Store {
    /// Copy the database as of one commit into a new redb file at `path` (which must not
    /// exist), durably, reporting rows as they go. Returns what the copy holds, read from
    /// the same snapshot.
    pub fn copy_to(&self, path: &Path, report: impl FnMut(Rows)) -> Result<Contents> {
        self.observed(|| -> Result<Contents> {
            let txn = self.db()?.begin_read()?;
            copy_snapshot(&txn, path, report)
        })
    }
}

/// What a copy made by [`Store::copy_to`] holds, read without writing to it (a backup is
/// never changed by restoring from it).
pub fn read_copy(path: &Path) -> Result<Contents> {
    let db: ReadOnlyDatabase = Database::builder()
        .set_cache_size(COPY_CACHE_BYTES)
        .open_read_only(path)
        .map_err(redb::Error::from)?;
    contents(&db.begin_read()?)
}

fn copy_snapshot(
    from: &ReadTransaction,
    path: &Path,
    report: impl FnMut(Rows),
) -> Result<Contents> {
    let known = known_tables();
    for table in from.list_tables()? {
        if !known.contains(table.name()) {
            return Err(unknown(table.name()));
        }
    }
    if let Some(table) = from.list_multimap_tables()?.next() {
        return Err(unknown(table.name()));
    }
    let mut copy = Copy {
        from,
        to: Database::builder()
            .set_cache_size(COPY_CACHE_BYTES)
            .create(path)
            .map_err(copy_failed)?,
        rows: Rows::default(),
        report,
    };
    copy.rows.total = [
        from.open_table(GALLERIES)?.len()?,
        from.open_table(UPLOADS)?.len()?,
        from.open_table(BLOB_REFS)?.len()?,
        from.open_table(META)?.len()?,
        from.open_table(ACTIVITY)?.len()?,
        from.open_table(OWNER_GALLERIES)?.len()?,
        from.open_table(EXHAUSTED)?.len()?,
        from.open_table(ORPHAN_MARKS)?.len()?,
        from.open_table(KEPT_FILES)?.len()?,
    ]
    .iter()
    .sum();
    copy.table(GALLERIES)?;
    copy.table(UPLOADS)?;
    copy.table(BLOB_REFS)?;
    copy.table(META)?;
    copy.table(ACTIVITY)?;
    copy.table(OWNER_GALLERIES)?;
    copy.table(EXHAUSTED)?;
    copy.table(ORPHAN_MARKS)?;
    copy.table(KEPT_FILES)?;
    // The batches were committed without a sync; this commit makes all of them durable.
    copy.to
        .begin_write()
        .map_err(copy_failed)?
        .commit()
        .map_err(copy_failed)?;
    contents(from)
}

/// A failure of the copy's file (a full or failing backup disk), kept apart from the
/// database's own: the live file is fine and must not be closed for recovery.
fn copy_failed(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Copy(e.into().to_string())
}

fn unknown(name: &str) -> StoreError {
    StoreError::Unreadable(format!(
        "the database holds a table this version does not know ({name}): back it up with \
         the version that wrote it"
    ))
}

/// A copy in progress.
struct Copy<'a, F> {
    from: &'a ReadTransaction,
    to: Database,
    rows: Rows,
    report: F,
}

impl<F: FnMut(Rows)> Copy<'_, F> {
    /// Every row of one table, [`ROWS_PER_COMMIT`] to a transaction (the table is created
    /// even when empty, as the server would).
    fn table<K: Key + 'static, V: Value + 'static>(
        &mut self,
        definition: TableDefinition<K, V>,
    ) -> Result<()> {
        let source = self.from.open_table(definition)?;
        let mut rows = source.iter()?;
        loop {
            let mut txn = self.to.begin_write().map_err(copy_failed)?;
            txn.set_durability(Durability::None).map_err(copy_failed)?;
            let mut batch = 0;
            {
                let mut target = txn.open_table(definition).map_err(copy_failed)?;
                while batch < ROWS_PER_COMMIT {
                    let Some(row) = rows.next() else { break };
                    let (key, value) = row?;
                    target
                        .insert(key.value(), value.value())
                        .map_err(copy_failed)?;
                    batch += 1;
                }
            }
            txn.commit().map_err(copy_failed)?;
            self.rows.done += batch;
            (self.report)(self.rows);
            if batch < ROWS_PER_COMMIT {
                return Ok(());
            }
        }
    }
}

/// The instance id, the galleries and every file referenced or kept, as `txn` sees them.
fn contents(txn: &ReadTransaction) -> Result<Contents> {
    let instance_id = txn
        .open_table(META)?
        .get(collection::INSTANCE_ID)?
        .map(|v| String::from_utf8_lossy(v.value()).into_owned());
    let mut files = HashSet::new();
    for row in txn.open_table(BLOB_REFS)?.iter()? {
        files.insert(Digest(*row?.0.value()));
    }
    for row in txn.open_table(KEPT_FILES)?.iter()? {
        files.insert(Digest(*row?.0.value()));
    }
    let mut files: Vec<Digest> = files.into_iter().collect();
    files.sort_by_key(|d| d.0);
    Ok(Contents {
        instance_id,
        galleries: txn.open_table(GALLERIES)?.len()?,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_holds_every_table_and_a_failed_one_leaves_the_database_open()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), true)?;
        let secret = store.secret("ticket_key", || b"k".to_vec())?;
        let copies = tempfile::tempdir()?;

        let mut reports = Vec::new();
        let copied = store.copy_to(&copies.path().join("a.redb"), |r| reports.push(r))?;
        assert_eq!(copied, read_copy(&copies.path().join("a.redb"))?);
        assert_eq!(copied.galleries, 0);
        let last = reports.last().copied().unwrap_or_default();
        assert_eq!(last.done, last.total);
        assert!(last.total >= 1, "the META row at least");
        let copy = Database::builder().open_read_only(copies.path().join("a.redb"))?;
        let txn = copy.begin_read()?;
        let names: HashSet<String> = txn.list_tables()?.map(|t| t.name().to_owned()).collect();
        assert_eq!(names, known_tables());
        let meta = txn.open_table(META)?;
        assert_eq!(
            meta.get("ticket_key")?.map(|v| v.value().to_vec()),
            Some(secret)
        );

        // The copy's disk failing is the copy's failure: the live database stays open.
        let nowhere = copies.path().join("missing").join("b.redb");
        let Err(err) = store.copy_to(&nowhere, |_| {}) else {
            return Err("a copy into a missing directory succeeded".into());
        };
        assert!(matches!(err, StoreError::Copy(_)), "{err}");
        assert_eq!(store.health().writes_failing, None);
        Ok(())
    }
}
