//! The owner's edits: access settings, switching the link off and on, deleting, the title,
//! captions, and adding, removing and reordering images. Each is one transaction that
//! checks the manage or owner key, so a change is all or nothing and takes effect for viewers at once (the
//! cached record is replaced after the commit).

use time::OffsetDateTime;

use crate::domain::error::DomainError;
use crate::domain::galleries::create::PendingImage;
use crate::domain::galleries::service::{Galleries, MAX_TITLE_CHARS, clean_title, may_manage};
use crate::domain::names::is_bidi_control;
use crate::domain::settings::{self, SettingsInput};
use crate::ids::{GalleryId, UploadId};
use crate::model::{Digest, GalleryRecord, ImageRecord};

/// Longest caption kept, in characters.
pub const MAX_CAPTION_CHARS: usize = 500;

type Result<T> = std::result::Result<T, DomainError>;

/// What to change in a gallery's images.
#[derive(Debug)]
pub enum ImageEdit {
    /// Append these images (new files first, then staged uploads).
    Add,
    /// Remove the image at this position.
    Remove(usize),
    /// Put the images in this order: a permutation of their current positions.
    Reorder(Vec<usize>),
    /// Set the caption of the image at this position.
    Caption(usize, String),
}

/// A caption as stored: one paragraph of plain text, trimmed, at most
/// [`MAX_CAPTION_CHARS`].
pub fn clean_caption(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(MAX_CAPTION_CHARS)
        .collect()
}

fn bad(message: impl Into<String>) -> DomainError {
    DomainError::BadEdit(message.into())
}

impl Galleries {
    /// Change a gallery's access settings (the manage or owner key is checked in the same
    /// transaction).
    pub fn update_settings(
        &self,
        id: &GalleryId,
        manage_or_owner_key: Option<&str>,
        input: &SettingsInput,
        now: OffsetDateTime,
    ) -> Result<GalleryRecord> {
        // Check the key before the (slow) password hash, so guessing keys stays cheap to refuse.
        self.authorize(id, manage_or_owner_key)?;
        let mut input = input.clone();
        input.hash_password()?;
        self.change(id, manage_or_owner_key, |record| {
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
        manage_or_owner_key: Option<&str>,
        enabled: bool,
    ) -> Result<GalleryRecord> {
        self.change(id, manage_or_owner_key, |record| {
            if enabled && record.taken_down {
                return Err(DomainError::TakenDown);
            }
            record.settings.enabled = enabled;
            Ok(())
        })
    }

    /// Delete a gallery for good and collect the blobs only it used.
    pub fn delete(&self, id: &GalleryId, manage_or_owner_key: Option<&str>) -> Result<()> {
        self.authorize(id, manage_or_owner_key)?;
        let freed = self
            .store
            .delete_gallery(id)?
            .ok_or(DomainError::NotFound)?;
        self.collect(freed);
        Ok(())
    }

    /// A checked change of the record alone (no images gained or lost).
    fn change(
        &self,
        id: &GalleryId,
        manage_or_owner_key: Option<&str>,
        change: impl FnOnce(&mut GalleryRecord) -> Result<()>,
    ) -> Result<GalleryRecord> {
        self.store
            .update_gallery(id, |record| {
                if !may_manage(record, manage_or_owner_key) {
                    return Err(DomainError::Unauthorized);
                }
                change(record)
            })?
            .ok_or(DomainError::NotFound)
    }

    /// Rename a gallery (an empty title is allowed: the page then says "Untitled").
    pub fn rename(
        &self,
        id: &GalleryId,
        manage_or_owner_key: Option<&str>,
        title: &str,
    ) -> Result<GalleryRecord> {
        if title.chars().count() > MAX_TITLE_CHARS * 4 {
            return Err(bad(format!(
                "a title has at most {MAX_TITLE_CHARS} characters"
            )));
        }
        self.edit(id, manage_or_owner_key, Vec::new(), &[], |record, _| {
            record.title = clean_title(title);
            Ok(())
        })
    }

    /// Apply one change to the images. `new` (written and pinned) and `uploads` (staged)
    /// are appended for [`ImageEdit::Add`]; the gallery never holds more than the
    /// instance's maximum or fewer than one image.
    pub fn edit_images(
        &self,
        id: &GalleryId,
        manage_or_owner_key: Option<&str>,
        edit: ImageEdit,
        new: Vec<PendingImage>,
        uploads: &[UploadId],
    ) -> Result<GalleryRecord> {
        let max = self.max_images;
        self.edit(
            id,
            manage_or_owner_key,
            new,
            uploads,
            move |record, added| {
                let images = &mut record.images;
                match edit {
                    ImageEdit::Add => {
                        if added.is_empty() {
                            return Err(DomainError::NoImages);
                        }
                        let given = images.len() + added.len();
                        if given > max {
                            return Err(DomainError::TooManyImages { max, given });
                        }
                        images.extend(added);
                    }
                    ImageEdit::Remove(index) => {
                        if index >= images.len() {
                            return Err(DomainError::NotFound);
                        }
                        if images.len() == 1 {
                            return Err(bad(
                                "a gallery keeps at least one photo; delete the gallery instead",
                            ));
                        }
                        images.remove(index);
                    }
                    ImageEdit::Reorder(order) => {
                        let mut seen = vec![false; images.len()];
                        let permutation = order.len() == images.len()
                            && order
                                .iter()
                                .all(|&i| i < seen.len() && !std::mem::replace(&mut seen[i], true));
                        if !permutation {
                            return Err(bad(format!(
                                "`order` must list each position from 0 to {} exactly once",
                                images.len().saturating_sub(1)
                            )));
                        }
                        let old = std::mem::take(images);
                        let mut slots: Vec<Option<ImageRecord>> =
                            old.into_iter().map(Some).collect();
                        images.extend(order.iter().filter_map(|&i| slots[i].take()));
                    }
                    ImageEdit::Caption(index, caption) => {
                        if caption.chars().count() > MAX_CAPTION_CHARS * 4 {
                            return Err(bad(format!(
                                "a caption has at most {MAX_CAPTION_CHARS} characters"
                            )));
                        }
                        let image = images.get_mut(index).ok_or(DomainError::NotFound)?;
                        image.caption = clean_caption(&caption);
                    }
                }
                Ok(())
            },
        )
    }

    /// One checked transaction; files of images that lost their last reference are
    /// collected after it commits, files written for it are given up if it fails.
    fn edit(
        &self,
        id: &GalleryId,
        manage_or_owner_key: Option<&str>,
        new: Vec<PendingImage>,
        uploads: &[UploadId],
        change: impl FnOnce(&mut GalleryRecord, Vec<ImageRecord>) -> Result<()>,
    ) -> Result<GalleryRecord> {
        let written: Vec<Digest> = new.iter().flat_map(|i| i.record.digests()).collect();
        let (fresh, pins): (Vec<_>, Vec<_>) = new.into_iter().map(PendingImage::split).unzip();
        let result = self.store.edit_gallery(id, uploads, |record, staged| {
            if !may_manage(record, manage_or_owner_key) {
                return Err(DomainError::Unauthorized);
            }
            let mut added = fresh;
            added.extend(staged);
            change(record, added)
        });
        drop(pins);
        match result {
            Ok(Some((record, freed))) => {
                self.collect(freed);
                Ok(record)
            }
            Ok(None) => {
                self.collect(written);
                Err(DomainError::NotFound)
            }
            Err(e) => {
                self.collect(written);
                Err(e)
            }
        }
    }
}
