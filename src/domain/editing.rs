//! The owner's edits: title, captions, and adding, removing and reordering images. Each is
//! one transaction that checks the key, so a change is all or nothing and takes effect for
//! viewers at once (the cached record is replaced after the commit).

use super::galleries::{
    DomainError, Galleries, MAX_TITLE_CHARS, PendingImage, clean_title, may_manage,
};
use super::names::is_bidi_control;
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
    /// Rename a gallery (an empty title is allowed: the page then says "Untitled").
    pub fn rename(&self, id: &GalleryId, key: Option<&str>, title: &str) -> Result<GalleryRecord> {
        if title.chars().count() > MAX_TITLE_CHARS * 4 {
            return Err(bad(format!(
                "a title has at most {MAX_TITLE_CHARS} characters"
            )));
        }
        self.edit(id, key, Vec::new(), &[], |record, _| {
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
        key: Option<&str>,
        edit: ImageEdit,
        new: Vec<PendingImage>,
        uploads: &[UploadId],
    ) -> Result<GalleryRecord> {
        let max = self.max_images;
        self.edit(id, key, new, uploads, move |record, added| {
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
                    let mut slots: Vec<Option<ImageRecord>> = old.into_iter().map(Some).collect();
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
        })
    }

    /// One checked transaction; files of images that lost their last reference are
    /// collected after it commits, files written for it are given up if it fails.
    fn edit(
        &self,
        id: &GalleryId,
        key: Option<&str>,
        new: Vec<PendingImage>,
        uploads: &[UploadId],
        change: impl FnOnce(&mut GalleryRecord, Vec<ImageRecord>) -> Result<()>,
    ) -> Result<GalleryRecord> {
        let written: Vec<Digest> = new.iter().flat_map(|i| i.record.digests()).collect();
        let (fresh, pins): (Vec<_>, Vec<_>) = new.into_iter().map(PendingImage::split).unzip();
        let result = self.store.edit_gallery(id, uploads, |record, staged| {
            if !may_manage(record, key) {
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
