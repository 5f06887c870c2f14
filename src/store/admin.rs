//! What instance administration and purging read and write: every gallery in one pass,
//! the marks of galleries whose view limit is used up, and conditional deletion.

use std::collections::HashMap;
use std::ops::Bound;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, WriteTransaction};

use super::activity;
use super::tables::{ACTIVITY, EXHAUSTED, GALLERIES, META};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Result, Store, decode, encode, remove_gallery};
use crate::clock::Millis;
use crate::ids::GalleryId;
use crate::model::{Digest, GalleryRecord};

/// When housekeeping first found a gallery's view limit used up, and its count then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExhaustedMark {
    /// Milliseconds since the Unix epoch.
    pub since: Millis,
    /// Opens counted at that moment.
    pub opens: u64,
}

/// Create the table at start-up, so readers never meet a missing one.
pub(super) fn create_table(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(EXHAUSTED)?;
    Ok(())
}

/// Drop the mark of a gallery that is being deleted, in `txn`.
pub(super) fn forget(txn: &WriteTransaction, id: &str) -> Result<()> {
    txn.open_table(EXHAUSTED)?.remove(id)?;
    Ok(())
}

impl Store {
    /// Visit every gallery whose id starts with `prefix` (`""`: all) with its open count,
    /// in id order, from one consistent snapshot. Records are handed over one at a time so
    /// a caller can keep a summary instead of every record.
    pub fn each_gallery(
        &self,
        prefix: &str,
        mut visit: impl FnMut(&str, GalleryRecord, u64),
    ) -> Result<()> {
        self.observed(|| -> Result<()> {
            let txn = self.db()?.begin_read()?;
            let galleries = txn.open_table(GALLERIES)?;
            let opens = txn.open_table(ACTIVITY)?;
            for entry in galleries.range(prefix..)? {
                let (id, value) = entry?;
                let id = id.value();
                if !id.starts_with(prefix) {
                    break;
                }
                let count = activity::opens_of(&opens, id)?;
                visit(id, decode(value.value())?, count);
            }
            Ok(())
        })
    }

    /// How many galleries there are.
    pub fn gallery_count(&self) -> Result<u64> {
        self.observed(|| -> Result<u64> {
            let txn = self.db()?.begin_read()?;
            Ok(txn.open_table(GALLERIES)?.len()?)
        })
    }

    /// Every exhaustion mark, by gallery id.
    pub fn exhausted_marks(&self) -> Result<HashMap<String, ExhaustedMark>> {
        self.observed(|| -> Result<HashMap<String, ExhaustedMark>> {
            let txn = self.db()?.begin_read()?;
            let table = txn.open_table(EXHAUSTED)?;
            let mut marks = HashMap::new();
            for entry in table.iter()? {
                let (id, value) = entry?;
                let (since_ms, opens) = value.value();
                marks.insert(
                    id.value().to_owned(),
                    ExhaustedMark {
                        since: Millis(since_ms),
                        opens,
                    },
                );
            }
            Ok(marks)
        })
    }

    /// Set (`Some`) or clear (`None`) exhaustion marks, in one transaction. A mark is only
    /// set for a gallery that still exists.
    pub fn set_exhausted_marks(&self, changes: &[(String, Option<ExhaustedMark>)]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        self.write(|txn| {
            let galleries = txn.open_table(GALLERIES)?;
            let mut marks = txn.open_table(EXHAUSTED)?;
            for (id, mark) in changes {
                match mark {
                    Some(mark) if galleries.get(id.as_str())?.is_some() => {
                        marks.insert(id.as_str(), (mark.since.0, mark.opens))?;
                    }
                    _ => {
                        marks.remove(id.as_str())?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Delete each of `ids` that `doomed` still condemns, judged on the record, count and
    /// mark read in the deleting transaction (so an owner who revived a gallery a moment
    /// ago keeps it). One commit for all; returns the deleted ids and the blobs they held
    /// the last reference to, to be collected after this commit.
    pub fn delete_galleries_if(
        &self,
        ids: &[GalleryId],
        doomed: impl Fn(&GalleryRecord, u64, Option<ExhaustedMark>) -> bool,
    ) -> Result<(Vec<GalleryId>, Vec<Digest>)> {
        let result = self.write(|txn| {
            let mut deleted = Vec::new();
            let mut freed = Vec::new();
            for id in ids {
                let key = id.as_str();
                let condemned = {
                    let galleries = txn.open_table(GALLERIES)?;
                    let Some(value) = galleries.get(key)? else {
                        continue;
                    };
                    let record: GalleryRecord = decode(value.value())?;
                    let opens = activity::opens_of(&txn.open_table(ACTIVITY)?, key)?;
                    let mark = txn.open_table(EXHAUSTED)?.get(key)?.map(|v| {
                        let (since_ms, opens) = v.value();
                        ExhaustedMark {
                            since: Millis(since_ms),
                            opens,
                        }
                    });
                    doomed(&record, opens, mark)
                };
                if condemned && let Some((_, gone)) = remove_gallery(txn, key)? {
                    deleted.push(id.clone());
                    freed.extend(gone);
                }
            }
            Ok((deleted, freed))
        });
        for id in ids {
            self.cache.invalidate(id.as_str());
        }
        result
    }

    /// An instant kept in the instance values (milliseconds since the epoch), if set.
    pub fn meta_instant(&self, name: &str) -> Result<Option<Millis>> {
        self.observed(|| -> Result<Option<Millis>> {
            let txn = self.db()?.begin_read()?;
            let meta = txn.open_table(META)?;
            Ok(meta.get(name)?.and_then(|v| {
                let bytes: [u8; 8] = v.value().try_into().ok()?;
                Some(Millis(i64::from_be_bytes(bytes)))
            }))
        })
    }

    /// Keep an instant in the instance values.
    pub fn set_meta_instant(&self, name: &str, at: Millis) -> Result<()> {
        self.write(|txn| {
            txn.open_table(META)?
                .insert(name, at.0.to_be_bytes().as_slice())?;
            Ok(())
        })
    }

    /// A value kept in the instance values (in the records' encoding), if set.
    pub fn meta_value<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        self.observed(|| -> Result<Option<T>> {
            let txn = self.db()?.begin_read()?;
            let meta = txn.open_table(META)?;
            meta.get(name)?.map(|v| decode(v.value())).transpose()
        })
    }

    /// Keep a value in the instance values.
    pub fn set_meta_value<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let bytes = encode(value)?;
        self.write(|txn| {
            txn.open_table(META)?.insert(name, bytes.as_slice())?;
            Ok(())
        })
    }

    /// The first gallery in id order after `after` (`None`: the very first), for walks
    /// that resume where they stopped.
    pub fn gallery_after(&self, after: Option<&str>) -> Result<Option<(String, GalleryRecord)>> {
        self.observed(|| -> Result<Option<(String, GalleryRecord)>> {
            let txn = self.db()?.begin_read()?;
            let galleries = txn.open_table(GALLERIES)?;
            let start = after.map_or(Bound::Unbounded, Bound::Excluded);
            match galleries.range::<&str>((start, Bound::Unbounded))?.next() {
                Some(entry) => {
                    let (id, value) = entry?;
                    Ok(Some((id.value().to_string(), decode(value.value())?)))
                }
                None => Ok(None),
            }
        })
    }
}
