//! Persistent state in one redb file: galleries, staged uploads and blob refcounts.
//!
//! Every change that gains or drops a blob reference updates the refcount table in the same
//! write transaction, so the counts can never disagree with the records. Methods block: call
//! them off the async executor.

mod activity;
mod admin;
mod cache;
mod collection;
mod edit;
mod error;
mod handle;
mod migrate;
mod owners;
mod recorder;
mod snapshot;
mod tables;
mod tally;
mod tracking;
mod uploads;

pub use activity::encode_record;
pub use admin::ExhaustedMark;
pub use cache::Cached;
pub use collection::{Identity, Inventory, verify_database};
pub use error::{Failure, StoreError};
pub use handle::{Fault, Health, is_full};
pub use owners::Filed;
pub use recorder::{Admission, Recorder, Tally};
pub use snapshot::{Contents, Rows, read_copy};
pub use tracking::{LogPage, RawStats};

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, Table, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ids::{GalleryId, UploadId};
use crate::model::{Digest, GalleryRecord, StagedUpload};
use cache::GalleryCache;
use handle::Handle;
use tables::{ACTIVITY, BLOB_REFS, GALLERIES, META, UPLOADS};

type Result<T> = std::result::Result<T, StoreError>;

/// The database handle. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    handle: Arc<Handle>,
    cache: Arc<GalleryCache>,
    recorder: Recorder,
    recovery: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.handle.stop();
        if let Some(thread) = self.recovery.take() {
            let _ = thread.join();
        }
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(value)?)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    Ok(serde_json::from_slice(bytes)?)
}

fn add_ref(refs: &mut Table<&[u8; 32], u64>, digest: &Digest) -> Result<()> {
    let count = refs.get(&digest.0)?.map(|v| v.value()).unwrap_or(0);
    refs.insert(&digest.0, count + 1)?;
    Ok(())
}

/// Drop one reference; record the digest in `freed` when it was the last one.
fn drop_ref(
    refs: &mut Table<&[u8; 32], u64>,
    digest: &Digest,
    freed: &mut Vec<Digest>,
) -> Result<()> {
    let count = refs.get(&digest.0)?.map(|v| v.value()).unwrap_or(0);
    if count <= 1 {
        refs.remove(&digest.0)?;
        freed.push(*digest);
    } else {
        refs.insert(&digest.0, count - 1)?;
    }
    Ok(())
}

/// Remove gallery `id` and every row kept for it, dropping its blob references, in `txn`
/// (the caller invalidates the cache after the commit). Returns its record and the blobs it
/// held the last reference to, or `None` if it did not exist.
fn remove_gallery(
    txn: &WriteTransaction,
    id: &str,
) -> Result<Option<(GalleryRecord, Vec<Digest>)>> {
    let mut galleries = txn.open_table(GALLERIES)?;
    let mut refs = txn.open_table(BLOB_REFS)?;
    let record: GalleryRecord = match galleries.remove(id)? {
        Some(v) => decode(v.value())?,
        None => return Ok(None),
    };
    tracking::forget(txn, id)?;
    owners::unindex(txn, record.owner.as_ref(), id)?;
    admin::forget(txn, id)?;
    let mut freed = Vec::new();
    for image in &record.images {
        for digest in image.digests() {
            drop_ref(&mut refs, &digest, &mut freed)?;
        }
    }
    Ok(Some((record, freed)))
}

/// Open or create the file and every table (upgrading an older layout), in one
/// transaction.
fn open_tables(path: &Path) -> Result<Database> {
    let db = Database::create(path)?;
    let txn = db.begin_write()?;
    txn.open_table(GALLERIES)?;
    txn.open_table(UPLOADS)?;
    txn.open_table(BLOB_REFS)?;
    txn.open_table(META)?;
    txn.open_table(ACTIVITY)?;
    migrate::activity_from_v1(&txn)?;
    owners::create_table(&txn)?;
    admin::create_table(&txn)?;
    collection::create_tables(&txn)?;
    txn.commit()?;
    Ok(db)
}

/// Read again, from `db`, every gallery the cache holds (dropping those that are gone).
fn refill_from(cache: &GalleryCache, db: &Database) -> Result<()> {
    let txn = db.begin_read()?;
    let galleries = txn.open_table(GALLERIES)?;
    let activity = txn.open_table(ACTIVITY)?;
    let mut entries = Vec::new();
    for id in cache.ids() {
        if let Some(record) = galleries.get(id.as_str())? {
            let entry = Cached {
                record: Arc::new(decode(record.value())?),
                opens: activity::opens_of(&activity, &id)?,
            };
            entries.push((id, entry));
        }
    }
    cache.replace(entries);
    Ok(())
}

/// Run `open`, turning redb's panics on a page it cannot read (its `unreachable!` on a
/// damaged table definition) and its corruption errors into [`StoreError::Damaged`].
fn undamaged<T>(open: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(open)) {
        Ok(Err(StoreError::Db(redb::Error::Corrupted(_)))) | Err(_) => Err(StoreError::Damaged),
        Ok(result) => result,
    }
}

impl Store {
    /// Open or create `maiimg.redb` in `data_dir`, creating every table, and start the
    /// recorder.
    pub fn open(data_dir: &Path, group_commit: bool) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Db(e.into()))?;
        let path = data_dir.join("maiimg.redb");
        let db = undamaged(|| open_tables(&path))?;
        let cache = Arc::new(GalleryCache::default());
        // What was in memory when a write failed may include a commit that failed to
        // report but reached the disk: after a re-open, only the file is believed.
        let refill = Arc::clone(&cache);
        let on_recovery: handle::OnRecovery = Box::new(move |db| refill_from(&refill, db));
        let handle = Arc::new(Handle::new(path, db, on_recovery));
        let recorder = Recorder::start(Arc::clone(&handle), Arc::clone(&cache), group_commit)?;
        let recovering = Arc::clone(&handle);
        let recovery = std::thread::Builder::new()
            .name("maiimg-store-recovery".into())
            .spawn(move || recovering.recover_until_stopped())
            .map_err(|e| StoreError::Db(e.into()))?;
        Ok(Store {
            handle,
            cache,
            recorder,
            recovery: Some(recovery),
        })
    }

    /// The database for one transaction (an error while it is being recovered).
    fn db(&self) -> Result<Arc<Database>> {
        self.handle.get()
    }

    /// Run `f`; an I/O failure in it closes the database for recovery.
    fn observed<T, E: From<StoreError> + Failure>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.handle.observe(f())
    }

    /// Whether the database takes writes now.
    pub fn health(&self) -> Health {
        self.handle.health()
    }

    /// A gallery and its open count from memory, if they are there (no I/O).
    pub fn cached(&self, id: &GalleryId) -> Option<Cached> {
        self.cache.get(id.as_str())
    }

    /// A gallery and its open count, read in one transaction and kept in memory.
    pub fn load(&self, id: &GalleryId) -> Result<Option<Cached>> {
        self.observed(|| -> Result<Option<Cached>> {
            let generation = self.cache.generation();
            let txn = self.db()?.begin_read()?;
            let Some(record) = txn.open_table(GALLERIES)?.get(id.as_str())? else {
                return Ok(None);
            };
            let entry = Cached {
                record: Arc::new(decode(record.value())?),
                opens: activity::opens_of(&txn.open_table(ACTIVITY)?, id.as_str())?,
            };
            self.cache.fill(id.as_str(), generation, entry.clone());
            Ok(Some(entry))
        })
    }

    /// The single writer of open counts.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Opens admitted so far.
    pub fn opens(&self, id: &GalleryId) -> Result<u64> {
        self.observed(|| -> Result<u64> {
            let txn = self.db()?.begin_read()?;
            activity::opens_of(&txn.open_table(ACTIVITY)?, id.as_str())
        })
    }

    /// An instance secret: created with `make` on first use, the same ever after.
    pub fn secret(&self, name: &str, make: impl FnOnce() -> Vec<u8>) -> Result<Vec<u8>> {
        self.write(|txn| {
            let mut meta = txn.open_table(META)?;
            if let Some(v) = meta.get(name)? {
                return Ok(v.value().to_vec());
            }
            let value = make();
            meta.insert(name, value.as_slice())?;
            Ok(value)
        })
    }

    /// The salt of UTC day `day`: the stored one if it is that day's, else a new one from
    /// `make` that replaces it (the old salt is gone for good).
    pub fn daily_salt(&self, day: u64, make: impl FnOnce() -> [u8; 32]) -> Result<[u8; 32]> {
        const SALT: &str = "visitor_salt";
        self.write(|txn| {
            let mut meta = txn.open_table(META)?;
            if let Some(v) = meta.get(SALT)? {
                let stored = v.value();
                if stored.len() == 40 && stored[..8] == day.to_be_bytes() {
                    let mut salt = [0; 32];
                    salt.copy_from_slice(&stored[8..]);
                    return Ok(salt);
                }
            }
            let salt = make();
            let mut value = day.to_be_bytes().to_vec();
            value.extend_from_slice(&salt);
            meta.insert(SALT, value.as_slice())?;
            Ok(salt)
        })
    }

    fn write<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T>) -> Result<T> {
        self.observed(|| -> Result<T> {
            let txn = self.db()?.begin_write()?;
            let value = f(&txn)?;
            txn.commit()?;
            Ok(value)
        })
    }

    /// One gallery, if it exists.
    pub fn gallery(&self, id: &GalleryId) -> Result<Option<GalleryRecord>> {
        self.observed(|| -> Result<Option<GalleryRecord>> {
            let txn = self.db()?.begin_read()?;
            let table = txn.open_table(GALLERIES)?;
            table
                .get(id.as_str())?
                .map(|v| decode(v.value()))
                .transpose()
        })
    }

    /// Insert a new gallery. The images of `consumed` staged uploads are appended to
    /// `record.images` in the given order and their rows removed, atomically: an upload
    /// goes into exactly one gallery. Returns the stored record.
    pub fn insert_gallery(
        &self,
        id: &GalleryId,
        mut record: GalleryRecord,
        consumed: &[UploadId],
    ) -> Result<GalleryRecord> {
        let inserted = self.write(|txn| {
            let mut galleries = txn.open_table(GALLERIES)?;
            let mut uploads = txn.open_table(UPLOADS)?;
            let mut refs = txn.open_table(BLOB_REFS)?;
            if galleries.get(id.as_str())?.is_some() {
                return Err(StoreError::Collision);
            }
            let direct = record.images.len();
            for upload in consumed {
                let staged: StagedUpload = match uploads.remove(upload.as_str())? {
                    Some(v) => decode(v.value())?,
                    None => return Err(StoreError::UploadMissing(upload.to_string())),
                };
                // The staged row's references move to the gallery: counts stay as they are.
                record.images.push(staged.image);
            }
            for image in &record.images[..direct] {
                for digest in image.digests() {
                    add_ref(&mut refs, &digest)?;
                }
            }
            galleries.insert(id.as_str(), encode(&record)?.as_slice())?;
            owners::index(txn, record.owner.as_ref(), id.as_str())?;
            Ok(record)
        });
        self.cache.invalidate(id.as_str());
        inserted
    }

    /// Change a gallery in one transaction. `change` sees the committed record; if it fails,
    /// nothing is written. Returns `Ok(None)` if the gallery does not exist.
    pub fn update_gallery<E: From<StoreError> + Failure>(
        &self,
        id: &GalleryId,
        change: impl FnOnce(&mut GalleryRecord) -> std::result::Result<(), E>,
    ) -> std::result::Result<Option<GalleryRecord>, E> {
        self.observed(|| -> std::result::Result<Option<GalleryRecord>, E> {
            let txn = self.db()?.begin_write().map_err(StoreError::from)?;
            let record = {
                let mut galleries = txn.open_table(GALLERIES).map_err(StoreError::from)?;
                let mut record: GalleryRecord =
                    match galleries.get(id.as_str()).map_err(StoreError::from)? {
                        Some(v) => decode(v.value())?,
                        None => return Ok(None),
                    };
                change(&mut record)?;
                galleries
                    .insert(id.as_str(), encode(&record)?.as_slice())
                    .map_err(StoreError::from)?;
                record
            };
            txn.commit().map_err(StoreError::from)?;
            self.cache.invalidate(id.as_str());
            Ok(Some(record))
        })
    }

    /// Delete a gallery. Returns `None` if it did not exist, else the blobs it held the
    /// last reference to (to be collected after this commit).
    pub fn delete_gallery(&self, id: &GalleryId) -> Result<Option<Vec<Digest>>> {
        let deleted =
            self.write(|txn| Ok(remove_gallery(txn, id.as_str())?.map(|(_, freed)| freed)));
        self.cache.invalidate(id.as_str());
        deleted
    }
}
