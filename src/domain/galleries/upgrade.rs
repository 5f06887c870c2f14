//! Bringing images stored by an earlier [`GENERATION`] of the ingest pipeline up to what
//! it makes today: a walk over every gallery in id order, resumable (the position is kept
//! in the instance values after each gallery, so `kill -9` costs at most one gallery's
//! work again), one image at a time.
//!
//! An outdated image is ingested again from its stored original (stripped and upright
//! already, so nothing is rotated twice) and its record swapped in one transaction that
//! moves the blob references ([`Store::edit_gallery`](crate::store::Store)); the files
//! that lost their last reference go the one guarded way files go. An image that changed
//! meanwhile (deleted, or the gallery edited) is left as it is and the new files given up.
//!
//! The steps are separate so the caller can run the decode through the ingest pool, which
//! shares memory and threads with uploads (`web/upgrade.rs`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock::Millis;
use crate::domain::error::DomainError;
use crate::domain::galleries::create::PendingImage;
use crate::domain::galleries::service::{Galleries, Result};
use crate::domain::ingest::Ingested;
use crate::domain::ingest::generation::{GENERATION, Outdated, outdated};
use crate::ids::GalleryId;
use crate::model::{GalleryRecord, ImageRecord};

/// Where the walk's state is kept in the instance values.
const STATE_KEY: &str = "upgrade";

/// The walk's state, kept between steps and restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpgradeState {
    /// The generation every stored image has reached (0: not walked yet).
    pub generation: u32,
    /// When the current walk began; galleries created since are made by this build.
    pub started: Option<Millis>,
    /// The last gallery done.
    pub cursor: Option<String>,
    /// Galleries looked at in the current walk.
    pub galleries: u64,
    /// Images made again.
    pub redone: u64,
    /// Images that could not be (their original no longer passes ingest); left as they are.
    pub failed: u64,
}

impl UpgradeState {
    /// Whether every stored image is of this build's generation.
    pub fn is_current(&self) -> bool {
        self.generation >= GENERATION
    }
}

/// One gallery to look at: the images to check, in order.
#[derive(Debug)]
pub struct GalleryToUpgrade {
    /// Its id.
    pub id: GalleryId,
    /// Its images as they were read.
    pub images: Vec<ImageRecord>,
}

/// What one image's step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Made again and swapped in.
    Redone,
    /// Nothing was outdated, or the image changed meanwhile.
    Unchanged,
}

impl Galleries {
    /// The walk's state as stored.
    pub fn upgrade_state(&self) -> Result<UpgradeState> {
        Ok(self.store.meta_value(STATE_KEY)?.unwrap_or_default())
    }

    fn save_upgrade_state(&self, state: &UpgradeState) -> Result<()> {
        Ok(self.store.set_meta_value(STATE_KEY, state)?)
    }

    /// The next gallery the walk must look at, or `None` once every stored image is of
    /// this generation (the state then says so). Starts a walk when none is under way.
    pub fn upgrade_next(&self, now: OffsetDateTime) -> Result<Option<GalleryToUpgrade>> {
        let mut state = self.upgrade_state()?;
        if state.is_current() {
            return Ok(None);
        }
        let started = match state.started.and_then(Millis::time) {
            Some(started) => started,
            None => {
                state = UpgradeState {
                    started: Some(Millis::of(now)),
                    ..UpgradeState::default()
                };
                self.save_upgrade_state(&state)?;
                now
            }
        };
        let mut after = state.cursor.clone();
        loop {
            let Some((id, record)) = self.store.gallery_after(after.as_deref())? else {
                let walked = UpgradeState {
                    generation: GENERATION,
                    started: None,
                    cursor: None,
                    ..state
                };
                self.save_upgrade_state(&walked)?;
                if walked.galleries == 0 {
                    return Ok(None);
                }
                rocket::info!(
                    "stored photos are up to date (generation {GENERATION}): {} galleries \
                     looked at, {} photos made again, {} could not be",
                    walked.galleries,
                    walked.redone,
                    walked.failed
                );
                return Ok(None);
            };
            if made_before(&record, started) {
                let id = GalleryId::parse(&id)
                    .ok_or_else(|| DomainError::BadEdit(format!("stored gallery id {id:?}")))?;
                return Ok(Some(GalleryToUpgrade {
                    id,
                    images: record.images,
                }));
            }
            // Made by this build: nothing to do, and no need to keep the position for it.
            after = Some(id);
        }
    }

    /// The stored original of `image` and what it needs, if ingest would now make
    /// something else of it.
    pub fn upgrade_original(&self, image: &ImageRecord) -> Result<Option<(Vec<u8>, Outdated)>> {
        let bytes = self.read_blob(&image.original.digest)?;
        let needs = outdated(&bytes, image.original.format);
        Ok((!needs.is_current()).then_some((bytes, needs)))
    }

    /// Swap in what ingest made again of `old`'s original, if the gallery still holds an
    /// image with `old`'s files (its caption may have changed meanwhile). The original is
    /// replaced only when it was outdated itself (`needs.original`), so an upright JPEG's
    /// original keeps its bytes.
    pub fn upgrade_image(
        &self,
        id: &GalleryId,
        old: &ImageRecord,
        needs: Outdated,
        fresh: &Ingested,
    ) -> Result<Step> {
        let pending = self.write_image(fresh)?;
        let written: Vec<_> = pending.record.digests().to_vec();
        let (new, pins) = PendingImage::split(pending);
        let mut swapped = false;
        let result = self.store.edit_gallery(id, &[], |record, _| {
            if let Some(image) = record
                .images
                .iter_mut()
                .find(|i| i.digests() == old.digests())
            {
                if needs.original {
                    image.original = new.original;
                }
                image.display = new.display;
                image.thumb = new.thumb;
                swapped = true;
            }
            Ok::<_, DomainError>(())
        });
        drop(pins);
        // What the swap did not take (or all of it, if the image went meanwhile) goes;
        // what it took is referenced now and stays.
        self.collect(written);
        match result {
            Ok(Some((_, freed))) => {
                self.collect(freed);
                Ok(if swapped {
                    Step::Redone
                } else {
                    Step::Unchanged
                })
            }
            Ok(None) => Ok(Step::Unchanged),
            Err(e) => Err(e),
        }
    }

    /// Keep the walk's position after `id`, with what its images' steps did.
    pub fn upgrade_done(&self, id: &GalleryId, redone: u64, failed: u64) -> Result<()> {
        let mut state = self.upgrade_state()?;
        state.cursor = Some(id.to_string());
        state.galleries += 1;
        state.redone += redone;
        state.failed += failed;
        self.save_upgrade_state(&state)
    }
}

/// Whether a gallery's images may come from an earlier build: created before the walk
/// began (images are only ever added by edits through ingest of this build, but an old
/// gallery keeps its old images).
fn made_before(record: &GalleryRecord, started: OffsetDateTime) -> bool {
    record.created_at < started
}
