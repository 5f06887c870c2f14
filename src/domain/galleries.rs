//! Galleries: create (from staged uploads or directly), read, authorise, delete — and the
//! blob bookkeeping that goes with each.
//!
//! Write path of an image: blobs are written and pinned first, then one redb transaction
//! records the references; pins are released after that commit. A failure in between
//! leaves unreferenced files, which [`Galleries::discard`] (or a later collection)
//! removes. A reference to a missing file can never be committed.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::binding::{self, Binding};
pub use super::error::DomainError;
use super::ingest::{Encoded, Ingested};
use super::settings::{self, ExpiryPolicy, SettingsInput};
use super::tickets::Tickets;
use super::tracking::Tracker;
use crate::blobs::{BlobStore, Pin};
use crate::clock::millis;
use crate::ids::{GalleryId, InstanceId, ManageKey, UploadId, key_matches};
use crate::model::{BlobRef, Digest, GalleryRecord, ImageRecord, StagedUpload};
use crate::store::{Cached, Store, StoreError};

/// How long a browser's staged upload waits for its gallery before it is collected.
pub const UPLOAD_TTL: Duration = Duration::hours(24);
/// Longest title kept.
pub const MAX_TITLE_CHARS: usize = 200;

type Result<T> = std::result::Result<T, DomainError>;

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
    /// The secret, shown once.
    pub key: ManageKey,
    /// What was stored.
    pub record: GalleryRecord,
}

/// How to open the gallery service.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where the database and the blob tree live.
    pub data_dir: PathBuf,
    /// Most images in one gallery.
    pub max_images: usize,
    /// Default and longest expiry.
    pub expiry: ExpiryPolicy,
    /// Batch concurrent opens into one commit.
    pub group_commit: bool,
    /// Keep the access log (else open counts only).
    pub tracking: bool,
    /// Adopt a blob tree this database does not own (`serve --new-database`), keeping
    /// every file it does not know.
    pub new_database: bool,
}

impl Options {
    /// The defaults for a data directory: 25 images, no expiry policy, group commit, the
    /// access log on, no adoption.
    pub fn at(data_dir: PathBuf) -> Options {
        Options {
            data_dir,
            max_images: 25,
            expiry: ExpiryPolicy {
                default: None,
                max: None,
            },
            group_commit: true,
            tracking: true,
            new_database: false,
        }
    }
}

/// Tie the database and the tree together, or refuse to go on.
fn bind(store: &Store, blobs: &BlobStore, new_database: bool, now: OffsetDateTime) -> Result<()> {
    let identity = store.identity()?;
    let (_, files) = blobs.usage();
    let marker = blobs.marker()?;
    let binding = binding::judge(&identity, marker.as_deref(), files, new_database, || {
        InstanceId::generate().to_string()
    })?;
    let Binding::Bind {
        id,
        keep_unknown,
        marker_only,
    } = binding
    else {
        return Ok(());
    };
    // The marker first: a crash before the database's commit leaves a fresh database
    // beside an empty marked tree (bound again at the next start) or an adopted one that
    // is refused again until `--new-database` is given again.
    blobs.write_marker(&id)?;
    let adopted = if keep_unknown {
        blobs.all()?
    } else {
        Vec::new()
    };
    if !marker_only || !adopted.is_empty() {
        store.bind(&id, &adopted, millis(now))?;
    }
    if keep_unknown {
        rocket::warn!(
            "adopted blobs/ for instance {id}: files this database does not reference are \
             kept and never deleted automatically (`maiimg check` lists them)"
        );
    }
    Ok(())
}

/// The gallery service: owns the store and the blob directory.
#[derive(Debug)]
pub struct Galleries {
    pub(crate) store: Store,
    pub(crate) blobs: Arc<BlobStore>,
    pub(crate) max_images: usize,
    pub(crate) expiry: ExpiryPolicy,
    tickets: Tickets,
    pub(crate) tracker: Tracker,
}

/// Whether `key` may manage the gallery `record`: the one place that decides (constant-time
/// comparisons of hashes).
pub(crate) fn may_manage(record: &GalleryRecord, key: Option<&str>) -> bool {
    key.is_some_and(|k| {
        let manage = key_matches(k, &record.manage_key_hash);
        // The owner key it is filed under manages it too: the manage key never leaves the
        // server again, so from another device the owner key is all there is.
        let owner = record.owner.as_ref().is_some_and(|o| key_matches(k, o));
        manage | owner
    })
}

/// Trim a title to one clean line of at most [`MAX_TITLE_CHARS`].
pub fn clean_title(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !super::names::is_bidi_control(*c))
        .take(MAX_TITLE_CHARS)
        .collect()
}

impl Galleries {
    /// Open the database and blob tree under `options.data_dir`, refusing a pair that does
    /// not belong together (see `binding.rs`), then expire abandoned uploads and mark (or,
    /// an hour after their mark, collect) what a crash left behind.
    pub fn open(options: Options, now: OffsetDateTime) -> Result<Galleries> {
        let store = Store::open(&options.data_dir, options.group_commit)?;
        let blobs = BlobStore::open(&options.data_dir)?;
        bind(&store, &blobs, options.new_database, now)?;
        let tickets =
            Tickets::new(store.secret("ticket_key", || rand::random::<[u8; 32]>().to_vec())?);
        let galleries = Galleries {
            store,
            blobs,
            max_images: options.max_images,
            expiry: options.expiry,
            tickets,
            tracker: Tracker::new(options.tracking),
        };
        galleries.housekeeping(now, None)?;
        galleries.start_up_collection(now)?;
        Ok(galleries)
    }

    /// Write an ingested image's three files and pin them.
    pub fn write_image(&self, ingested: &Ingested) -> Result<PendingImage> {
        let mut pins = Vec::with_capacity(3);
        let mut put = |encoded: &Encoded| -> Result<BlobRef> {
            let pin = self.blobs.put(&encoded.bytes)?;
            let blob = BlobRef {
                digest: pin.digest(),
                format: encoded.format,
                width: encoded.width,
                height: encoded.height,
                bytes: encoded.bytes.len() as u64,
            };
            pins.push(pin);
            Ok(blob)
        };
        let original = put(&ingested.original)?;
        let display = put(&ingested.display)?;
        let thumb = put(&ingested.thumb)?;
        Ok(PendingImage {
            record: ImageRecord {
                name: ingested.name.clone(),
                animated: ingested.animated,
                original,
                display,
                thumb,
                caption: String::new(),
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

    /// [`Galleries::create`], filed under the owner key hashing to `owner` in the same
    /// transaction (see `domain/owners.rs`).
    pub fn create_filed(
        &self,
        owner: Option<Digest>,
        title: &str,
        settings: &SettingsInput,
        images: Vec<PendingImage>,
        uploads: &[UploadId],
        now: OffsetDateTime,
    ) -> Result<Created> {
        let written: Vec<Digest> = images.iter().flat_map(|i| i.record.digests()).collect();
        let (records, pins): (Vec<_>, Vec<_>) =
            images.into_iter().map(|i| (i.record, i.pins)).unzip();
        let result = self.insert_new(title, settings, records, uploads, owner, now);
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
        owner: Option<Digest>,
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
        let key = ManageKey::generate();
        let template = GalleryRecord {
            title: clean_title(title),
            created_at: now,
            manage_key_hash: key.hash(),
            images,
            settings,
            owner,
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
                        key,
                        record: result?,
                    });
                }
            }
        }
    }

    /// Change a gallery's access settings (the key is checked in the same transaction).
    pub fn update_settings(
        &self,
        id: &GalleryId,
        key: Option<&str>,
        input: &SettingsInput,
        now: OffsetDateTime,
    ) -> Result<GalleryRecord> {
        // Check the key before the (slow) password hash, so guessing keys stays cheap to refuse.
        self.authorize(id, key)?;
        let mut input = input.clone();
        input.hash_password()?;
        self.change(id, key, |record| {
            let before = record.settings.password_hash.clone();
            record.settings = settings::apply(&record.settings, &input, &self.expiry, now, false)?;
            // Set, changed or removed: whoever was admitted before must be admitted again.
            if record.settings.password_hash != before {
                record.settings.revoke_tickets();
            }
            Ok(())
        })
    }

    /// One-click disable (`false`) or enable (`true`).
    pub fn set_enabled(
        &self,
        id: &GalleryId,
        key: Option<&str>,
        enabled: bool,
    ) -> Result<GalleryRecord> {
        self.change(id, key, |record| {
            if enabled && record.taken_down {
                return Err(DomainError::TakenDown);
            }
            record.settings.enabled = enabled;
            Ok(())
        })
    }

    fn change(
        &self,
        id: &GalleryId,
        key: Option<&str>,
        change: impl FnOnce(&mut GalleryRecord) -> Result<()>,
    ) -> Result<GalleryRecord> {
        self.store
            .update_gallery(id, |record| {
                if !may_manage(record, key) {
                    return Err(DomainError::Unauthorized);
                }
                change(record)
            })?
            .ok_or(DomainError::NotFound)
    }

    /// Give up on images that will not be stored; their files go unless something else
    /// references them.
    pub fn discard(&self, images: Vec<PendingImage>) -> Result<()> {
        let digests: Vec<Digest> = images.iter().flat_map(|i| i.record.digests()).collect();
        drop(images);
        self.collect(digests);
        Ok(())
    }

    /// Remove these blobs' files unless something still references or pins them. Best
    /// effort: what cannot go now (the disk or the database failing) stays as an orphan for
    /// a later collection, and never turns a committed change or the real error of a failed
    /// one into another error.
    pub(crate) fn collect(&self, candidates: Vec<Digest>) {
        if let Err(e) = self.remove_unreferenced(candidates) {
            rocket::warn!("files left for a later collection: {e}");
        }
    }

    /// Remove these blobs' files unless something references or pins them (checked under
    /// the pin lock against committed state); what went. The one way files are deleted.
    pub(crate) fn remove_unreferenced(
        &self,
        candidates: impl IntoIterator<Item = Digest>,
    ) -> Result<crate::blobs::Freed> {
        Ok(self.blobs.collect_freed(candidates, |d| {
            self.store
                .is_referenced(d)
                .map_err(|e| io::Error::other(e.to_string()))
        })?)
    }

    /// Signs and checks viewer tickets.
    pub fn tickets(&self) -> &Tickets {
        &self.tickets
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

    /// A gallery, if `key` is its manage key (or the owner key it is filed under).
    pub fn authorize(&self, id: &GalleryId, key: Option<&str>) -> Result<GalleryRecord> {
        let record = self.get(id)?;
        if may_manage(&record, key) {
            Ok(record)
        } else {
            Err(DomainError::Unauthorized)
        }
    }

    /// Delete a gallery for good and collect the blobs only it used.
    pub fn delete(&self, id: &GalleryId, key: Option<&str>) -> Result<()> {
        self.authorize(id, key)?;
        let freed = self
            .store
            .delete_gallery(id)?
            .ok_or(DomainError::NotFound)?;
        self.collect(freed);
        Ok(())
    }

    /// The periodic chores: today's visitor salt, abandoned uploads, and (with a retention)
    /// access-log records older than `retention_days`.
    pub fn housekeeping(&self, now: OffsetDateTime, retention_days: Option<u32>) -> Result<()> {
        self.tracker.rotate(&self.store, now)?;
        self.expire_uploads(now)?;
        if let Some(days) = retention_days {
            self.prune_log(now, days)?;
        }
        Ok(())
    }

    /// Drop staged uploads older than [`UPLOAD_TTL`]. Returns how many blobs were removed.
    pub fn expire_uploads(&self, now: OffsetDateTime) -> Result<()> {
        let freed = self.store.expire_uploads(now - UPLOAD_TTL)?;
        self.collect(freed);
        Ok(())
    }

    /// The bytes of a stored blob.
    pub fn read_blob(&self, digest: &Digest) -> io::Result<Vec<u8>> {
        self.blobs.read(digest)
    }

    /// Where upload bodies too large for memory are spooled (`tmp/`, emptied at start-up).
    pub fn spool_dir(&self) -> &std::path::Path {
        self.blobs.tmp_dir()
    }

    /// Where a stored blob lives (for streaming it).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs.path(digest)
    }
}
