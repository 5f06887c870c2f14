//! The owner index: which galleries are filed under which owner key (by its hash).
//!
//! A record's `owner` field and its row here change in one transaction, so listing an
//! owner's galleries is one key range and never disagrees with the records.

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::activity;
use super::tables::{ACTIVITY, GALLERIES, OWNER_GALLERIES};
use super::{Failure, Result, Store, StoreError, decode, encode};
use crate::ids::GalleryId;
use crate::model::{Digest, GalleryRecord};

/// Above every gallery id (ids are URL-safe base64).
const LAST_ID: &str = "\u{10ffff}";

/// Create the table at start-up, so readers never meet a missing one.
pub(super) fn create_table(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(OWNER_GALLERIES)?;
    Ok(())
}

/// Add the index row of a gallery filed under `owner` (nothing without an owner).
pub(super) fn index(txn: &WriteTransaction, owner: Option<&Digest>, id: &str) -> Result<()> {
    if let Some(owner) = owner {
        txn.open_table(OWNER_GALLERIES)?.insert((owner.0, id), ())?;
    }
    Ok(())
}

/// Drop the index row of a gallery that leaves `owner` (deleted or filed elsewhere).
pub(super) fn unindex(txn: &WriteTransaction, owner: Option<&Digest>, id: &str) -> Result<()> {
    if let Some(owner) = owner {
        txn.open_table(OWNER_GALLERIES)?.remove((owner.0, id))?;
    }
    Ok(())
}

/// A gallery filed under an owner, as committed.
#[derive(Clone, Debug)]
pub struct Filed {
    /// Its id.
    pub id: GalleryId,
    /// Its record.
    pub record: GalleryRecord,
    /// Opens admitted so far.
    pub opens: u64,
}

impl Store {
    /// File gallery `id` under `owner`, taking it from any other owner, if `check` accepts
    /// the committed record (checked in the same transaction; on failure nothing changes).
    /// Returns `Ok(None)` if the gallery does not exist.
    pub fn file_gallery<E: From<StoreError> + Failure>(
        &self,
        id: &GalleryId,
        owner: &Digest,
        check: impl FnOnce(&GalleryRecord) -> std::result::Result<(), E>,
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
                check(&record)?;
                if record.owner.as_ref() == Some(owner) {
                    return Ok(Some(record));
                }
                unindex(&txn, record.owner.as_ref(), id.as_str())?;
                record.owner = Some(*owner);
                galleries
                    .insert(id.as_str(), encode(&record)?.as_slice())
                    .map_err(StoreError::from)?;
                index(&txn, Some(owner), id.as_str())?;
                record
            };
            txn.commit().map_err(StoreError::from)?;
            self.cache.invalidate(id.as_str());
            Ok(Some(record))
        })
    }

    /// Every gallery filed under `owner`, with its open count, read in one transaction.
    pub fn owner_galleries(&self, owner: &Digest) -> Result<Vec<Filed>> {
        self.observed(|| -> Result<Vec<Filed>> {
            let txn = self.db()?.begin_read()?;
            let index = txn.open_table(OWNER_GALLERIES)?;
            let galleries = txn.open_table(GALLERIES)?;
            let opens = txn.open_table(ACTIVITY)?;
            let mut out = Vec::new();
            for entry in index.range((owner.0, "")..=(owner.0, LAST_ID))? {
                let (key, _) = entry?;
                let (_, id) = key.value();
                // Every writer keeps the index in step; a row without its record (or with an
                // unreadable id) is skipped rather than failing the whole list.
                let Some(id) = GalleryId::parse(id) else {
                    continue;
                };
                let Some(value) = galleries.get(id.as_str())? else {
                    continue;
                };
                let record: GalleryRecord = decode(value.value())?;
                let opens = activity::opens_of(&opens, id.as_str())?;
                out.push(Filed { id, record, opens });
            }
            Ok(out)
        })
    }
}
