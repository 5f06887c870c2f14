//! Creating galleries (from freshly written images, staged uploads, or both) and reading
//! them back: the images' files are written and pinned before the one transaction that
//! references them, and given up if it fails.

use time::{Duration, OffsetDateTime};

use crate::blobs::Pin;
use crate::domain::error::DomainError;
use crate::domain::galleries::service::{Galleries, Result, clean_title};
use crate::domain::ingest::{Encoded, Ingested};
use crate::domain::settings::{self, SettingsInput};
use crate::ids::{GalleryId, ManageKey, UploadId};
use crate::model::{BlobRef, Digest, GalleryRecord, ImageRecord, StagedUpload};
use crate::store::{Cached, StoreError};

/// How long a browser's staged upload waits for its gallery before it is collected.
pub const UPLOAD_TTL: Duration = Duration::hours(24);

/// An image whose blobs are on disk and pinned, not yet referenced by a committed record.
#[derive(Debug)]
pub struct PendingImage {
    /// What will be stored.
    pub record: ImageRecord,
    pins: Vec<Pin>,
}

impl PendingImage {
    /// The record, and the pins to drop once a commit references it.
    pub(crate) fn split(self) -> (ImageRecord, Vec<Pin>) {
        (self.record, self.pins)
    }
}

/// A freshly created gallery and the only copy of its manage key.
#[derive(Debug)]
pub struct Created {
    /// Public id.
    pub id: GalleryId,
    /// Its manage key, shown once.
    pub manage_key: ManageKey,
    /// What was stored.
    pub record: GalleryRecord,
}

impl Galleries {
    /// Write an ingested image's three files and pin them.
    pub fn write_image(&self, ingested: &Ingested) -> Result<PendingImage> {
        let encoded: Vec<&Encoded> = [
            Some(&ingested.original),
            Some(&ingested.display),
            Some(&ingested.thumb),
            ingested.download.as_ref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        // To a bucket each file is a round trip or two: the files of one photo go at once
        // rather than one after another. On disk each write ends in fsyncs of its own.
        let written: Vec<std::io::Result<Pin>> = if self.blobs.is_remote() {
            std::thread::scope(|scope| {
                let writers: Vec<_> = encoded
                    .iter()
                    .map(|e| scope.spawn(|| self.blobs.put(&e.bytes)))
                    .collect();
                writers
                    .into_iter()
                    .map(|w| {
                        w.join()
                            .unwrap_or_else(|_| Err(std::io::Error::other("a file write panicked")))
                    })
                    .collect()
            })
        } else {
            encoded.iter().map(|e| self.blobs.put(&e.bytes)).collect()
        };
        // Every file pinned until the record that references it is committed.
        let pins = written.into_iter().collect::<std::io::Result<Vec<Pin>>>()?;
        // In the order written above: original, display, thumb, then the JPEG copy.
        let blob = |i: usize| BlobRef {
            digest: pins[i].digest(),
            format: encoded[i].format,
            width: encoded[i].width,
            height: encoded[i].height,
            bytes: encoded[i].bytes.len() as u64,
        };
        let (original, display, thumb) = (blob(0), blob(1), blob(2));
        let download = ingested.download.as_ref().map(|_| blob(3));
        Ok(PendingImage {
            record: ImageRecord {
                name: ingested.name.clone(),
                animated: ingested.animated,
                original,
                display,
                thumb,
                caption: String::new(),
                download,
            },
            pins,
        })
    }

    /// Keep an image for a gallery the browser will create later.
    pub fn stage(&self, image: PendingImage, now: OffsetDateTime) -> Result<UploadId> {
        let id = UploadId::generate();
        let staged = StagedUpload {
            created_at: now,
            image: image.record,
        };
        let result = self.store.insert_upload(&id, &staged);
        drop(image.pins);
        if let Err(e) = result {
            self.collect(staged.image.digests().to_vec());
            return Err(e.into());
        }
        Ok(id)
    }

    /// A staged upload.
    pub fn upload(&self, id: &UploadId) -> Result<StagedUpload> {
        self.store.upload(id)?.ok_or(DomainError::NotFound)
    }

    /// Create a gallery from freshly written images followed by staged uploads. On any
    /// error the freshly written images are given up.
    pub fn create(
        &self,
        title: &str,
        settings: &SettingsInput,
        images: Vec<PendingImage>,
        uploads: &[UploadId],
        now: OffsetDateTime,
    ) -> Result<Created> {
        self.create_filed(None, title, settings, images, uploads, now)
    }

    /// [`Galleries::create`], filed under the owner key hashing to `owner_key_hash` in the
    /// same transaction (see `owners.rs`).
    pub fn create_filed(
        &self,
        owner_key_hash: Option<Digest>,
        title: &str,
        settings: &SettingsInput,
        images: Vec<PendingImage>,
        uploads: &[UploadId],
        now: OffsetDateTime,
    ) -> Result<Created> {
        let written: Vec<Digest> = images.iter().flat_map(|i| i.record.digests()).collect();
        let (records, pins): (Vec<_>, Vec<_>) = images.into_iter().map(PendingImage::split).unzip();
        let result = self.insert_new(title, settings, records, uploads, owner_key_hash, now);
        drop(pins);
        if result.is_err() {
            self.collect(written);
        }
        result
    }

    fn insert_new(
        &self,
        title: &str,
        settings: &SettingsInput,
        images: Vec<ImageRecord>,
        uploads: &[UploadId],
        owner_key_hash: Option<Digest>,
        now: OffsetDateTime,
    ) -> Result<Created> {
        let given = images.len() + uploads.len();
        if given == 0 {
            return Err(DomainError::NoImages);
        }
        if given > self.max_images {
            return Err(DomainError::TooManyImages {
                max: self.max_images,
                given,
            });
        }
        let mut settings = settings.clone();
        settings.hash_password()?;
        let settings = settings::apply(&Default::default(), &settings, &self.expiry, now, true)?;
        let manage_key = ManageKey::generate();
        let template = GalleryRecord {
            title: clean_title(title),
            created_at: now,
            manage_key_hash: manage_key.hash(),
            images,
            settings,
            owner: owner_key_hash,
            taken_down: false,
        };
        let mut attempt = 0;
        loop {
            let id = GalleryId::generate();
            match self.store.insert_gallery(&id, template.clone(), uploads) {
                Err(StoreError::Collision) if attempt < 3 => attempt += 1,
                result => {
                    return Ok(Created {
                        id,
                        manage_key,
                        record: result?,
                    });
                }
            }
        }
    }

    /// Give up on images that will not be stored; their files go unless something else
    /// references them.
    pub fn discard(&self, images: Vec<PendingImage>) -> Result<()> {
        let digests: Vec<Digest> = images.iter().flat_map(|i| i.record.digests()).collect();
        drop(images);
        self.collect(digests);
        Ok(())
    }

    /// Opens counted so far.
    pub fn opens(&self, id: &GalleryId) -> Result<u64> {
        Ok(self.store.opens(id)?)
    }

    /// A gallery and its open count from memory, if there (no I/O: callable anywhere).
    pub fn cached(&self, id: &GalleryId) -> Option<Cached> {
        self.store.cached(id)
    }

    /// A gallery and its open count (blocking on a miss).
    pub fn load(&self, id: &GalleryId) -> Result<Cached> {
        match self.store.cached(id) {
            Some(hit) => Ok(hit),
            None => self.store.load(id)?.ok_or(DomainError::NotFound),
        }
    }

    /// A gallery, for viewing.
    pub fn get(&self, id: &GalleryId) -> Result<GalleryRecord> {
        Ok(GalleryRecord::clone(&self.load(id)?.record))
    }
}
