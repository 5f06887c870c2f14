//! The gallery service itself: the struct, how it opens, and what its parts share (who may
//! manage a gallery, titles, giving files up).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::blobs::{Backend, BlobStore};
use crate::clock::Millis;
use crate::domain::binding::{self, Binding};
use crate::domain::error::DomainError;
use crate::domain::settings::ExpiryPolicy;
use crate::domain::tickets::Tickets;
use crate::domain::tracking::Tracker;
use crate::ids::{GalleryId, InstanceId, key_matches};
use crate::model::{Digest, GalleryRecord};
use crate::store::Store;

/// Longest title kept.
pub const MAX_TITLE_CHARS: usize = 200;

pub(super) type Result<T> = std::result::Result<T, DomainError>;

/// How to open the gallery service.
#[derive(Clone, Debug)]
pub struct OpenOptions {
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
    /// Where the blobs are (the disk tree under `data_dir`, or a bucket).
    pub backend: Backend,
}

impl OpenOptions {
    /// The defaults for a data directory: 25 images, no expiry policy, group commit, the
    /// access log on, no adoption.
    pub fn at(data_dir: PathBuf) -> OpenOptions {
        OpenOptions {
            data_dir,
            max_images: 25,
            expiry: ExpiryPolicy {
                default: None,
                max: None,
            },
            group_commit: true,
            tracking: true,
            new_database: false,
            backend: Backend::Disk,
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
        store.bind(&id, &adopted, Millis::of(now))?;
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

/// Whether `manage_or_owner_key` is the gallery's manage key or the owner key it is filed
/// under: the one place that decides (constant-time comparisons of hashes).
pub(crate) fn may_manage(record: &GalleryRecord, manage_or_owner_key: Option<&str>) -> bool {
    manage_or_owner_key.is_some_and(|k| {
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
        .filter(|c| !c.is_control() && !crate::domain::names::is_bidi_control(*c))
        .take(MAX_TITLE_CHARS)
        .collect()
}

impl Galleries {
    /// Open the database and blob tree under `options.data_dir`, refusing a pair that does
    /// not belong together (see `binding.rs`), then expire abandoned uploads and mark (or,
    /// an hour after their mark, collect) what a crash left behind.
    pub fn open(options: OpenOptions, now: OffsetDateTime) -> Result<Galleries> {
        let store = Store::open(&options.data_dir, options.group_commit)?;
        let blobs = BlobStore::open_on(&options.data_dir, &options.backend)?;
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
        galleries.start_up_chores(now)?;
        Ok(galleries)
    }

    /// A gallery, if `manage_or_owner_key` is its manage key or the owner key it is filed
    /// under.
    pub fn authorize(
        &self,
        id: &GalleryId,
        manage_or_owner_key: Option<&str>,
    ) -> Result<GalleryRecord> {
        let record = self.get(id)?;
        if may_manage(&record, manage_or_owner_key) {
            Ok(record)
        } else {
            Err(DomainError::Unauthorized)
        }
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

    /// The bytes of a stored blob.
    pub fn read_blob(&self, digest: &Digest) -> io::Result<Vec<u8>> {
        self.blobs.read(digest)
    }

    /// Where upload bodies too large for memory are spooled (`tmp/`, emptied at start-up).
    pub fn spool_dir(&self) -> &std::path::Path {
        self.blobs.tmp_dir()
    }

    /// The file of a stored blob when blobs are on this server's disk; `None` when they
    /// are in a bucket.
    pub fn blob_path(&self, digest: &Digest) -> Option<PathBuf> {
        self.blobs.file(digest)
    }

    /// The blobs themselves (for the ZIP).
    pub fn blobs(&self) -> &Arc<BlobStore> {
        &self.blobs
    }

    /// A blob in a bucket as a stream of chunks (an error when blobs are on disk: open its
    /// [`Galleries::blob_path`] instead).
    pub fn blob_stream(&self, digest: &Digest) -> io::Result<crate::blobs::Chunks> {
        self.blobs
            .stream(digest)
            .unwrap_or_else(|| Err(io::Error::other("blobs are on disk, not in a bucket")))
    }
}
