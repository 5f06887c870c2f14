//! Staged uploads: an image uploaded alone (the browser's first step) waits here, holding
//! references to its blobs, until a gallery takes it or it expires.

use redb::{ReadableDatabase, ReadableTable};
use time::OffsetDateTime;

use super::tables::{BLOB_REFS, UPLOADS};
use super::{Result, Store, add_ref, decode, drop_ref, encode};
use crate::ids::UploadId;
use crate::model::{Digest, StagedUpload};

impl Store {
    /// Stage an uploaded image, taking references to its blobs.
    pub fn insert_upload(&self, id: &UploadId, staged: &StagedUpload) -> Result<()> {
        self.write(|txn| {
            let mut uploads = txn.open_table(UPLOADS)?;
            let mut refs = txn.open_table(BLOB_REFS)?;
            for digest in staged.image.digests() {
                add_ref(&mut refs, &digest)?;
            }
            uploads.insert(id.as_str(), encode(staged)?.as_slice())?;
            Ok(())
        })
    }

    /// One staged upload, if it exists.
    pub fn upload(&self, id: &UploadId) -> Result<Option<StagedUpload>> {
        self.observed(|| -> Result<Option<StagedUpload>> {
            let txn = self.db()?.begin_read()?;
            let table = txn.open_table(UPLOADS)?;
            table
                .get(id.as_str())?
                .map(|v| decode(v.value()))
                .transpose()
        })
    }

    /// Remove staged uploads created before `cutoff`. Returns the blobs that lost their
    /// last reference.
    pub fn expire_uploads(&self, cutoff: OffsetDateTime) -> Result<Vec<Digest>> {
        self.write(|txn| {
            let mut uploads = txn.open_table(UPLOADS)?;
            let mut refs = txn.open_table(BLOB_REFS)?;
            let mut expired = Vec::new();
            for entry in uploads.iter()? {
                let (key, value) = entry?;
                let staged: StagedUpload = decode(value.value())?;
                if staged.created_at < cutoff {
                    expired.push((key.value().to_owned(), staged));
                }
            }
            let mut freed = Vec::new();
            for (key, staged) in expired {
                uploads.remove(key.as_str())?;
                for digest in staged.image.digests() {
                    drop_ref(&mut refs, &digest, &mut freed)?;
                }
            }
            Ok(freed)
        })
    }
}
