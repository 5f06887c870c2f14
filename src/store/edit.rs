//! Changing which images a gallery holds, with its blob references in the same transaction.

use std::collections::HashMap;

use super::tables::{BLOB_REFS, GALLERIES, UPLOADS};
use redb::ReadableTable;

use super::{Failure, Store, StoreError, add_ref, decode, drop_ref, encode};
use crate::ids::{GalleryId, UploadId};
use crate::model::{Digest, GalleryRecord, ImageRecord, StagedUpload};

/// How many times each blob is referenced by these images.
fn references(images: &[ImageRecord]) -> HashMap<Digest, u64> {
    let mut counts = HashMap::new();
    for image in images {
        for digest in image.digests() {
            *counts.entry(digest).or_insert(0) += 1;
        }
    }
    counts
}

impl Store {
    /// Change a gallery, images included, in one transaction: the staged `uploads` are
    /// taken out of their table and handed to `change` (in order) with the record; whatever
    /// references the record gains or loses afterwards are counted in the same commit.
    /// Returns the record as stored and the blobs that lost their last reference (to be
    /// collected after this commit), or `Ok(None)` if the gallery does not exist. If
    /// `change` fails, nothing is written.
    pub fn edit_gallery<E: From<StoreError> + Failure>(
        &self,
        id: &GalleryId,
        uploads: &[UploadId],
        change: impl FnOnce(&mut GalleryRecord, Vec<ImageRecord>) -> std::result::Result<(), E>,
    ) -> std::result::Result<Option<(GalleryRecord, Vec<Digest>)>, E> {
        self.observed(|| -> std::result::Result<Option<(GalleryRecord, Vec<Digest>)>, E> {
            let txn = self.db()?.begin_write().map_err(StoreError::from)?;
            let edited = (|| -> std::result::Result<Option<(GalleryRecord, Vec<Digest>)>, E> {
                let mut galleries = txn.open_table(GALLERIES).map_err(StoreError::from)?;
                let mut staged_rows = txn.open_table(UPLOADS).map_err(StoreError::from)?;
                let mut refs = txn.open_table(BLOB_REFS).map_err(StoreError::from)?;
                let mut record: GalleryRecord =
                    match galleries.get(id.as_str()).map_err(StoreError::from)? {
                        Some(v) => decode(v.value())?,
                        None => return Ok(None),
                    };
                let mut staged = Vec::with_capacity(uploads.len());
                for upload in uploads {
                    let row: StagedUpload = match staged_rows
                        .remove(upload.as_str())
                        .map_err(StoreError::from)?
                    {
                        Some(v) => decode(v.value())?,
                        None => return Err(StoreError::UploadMissing(upload.to_string()).into()),
                    };
                    staged.push(row.image);
                }
                let handed_over = references(&staged);
                let before = references(&record.images);
                change(&mut record, staged)?;
                let after = references(&record.images);
                let mut freed = Vec::new();
                // Gains first, so a blob that moves from a staged upload into the gallery never
                // touches zero on the way.
                for (digest, n) in &after {
                    for _ in before.get(digest).copied().unwrap_or(0)..*n {
                        add_ref(&mut refs, digest)?;
                    }
                }
                let losses = before
                    .iter()
                    .map(|(d, n)| (d, n.saturating_sub(after.get(d).copied().unwrap_or(0))))
                    .chain(handed_over.iter().map(|(d, n)| (d, *n)));
                for (digest, n) in losses {
                    for _ in 0..n {
                        drop_ref(&mut refs, digest, &mut freed)?;
                    }
                }
                galleries
                    .insert(id.as_str(), encode(&record)?.as_slice())
                    .map_err(StoreError::from)?;
                Ok(Some((record, freed)))
            })()?;
            if edited.is_some() {
                txn.commit().map_err(StoreError::from)?;
                self.cache.invalidate(id.as_str());
            }
            Ok(edited)
        })
    }
}
