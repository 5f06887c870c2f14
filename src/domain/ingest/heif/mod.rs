//! HEIF and AVIF containers (ISOBMFF): what the primary image is, whether it fits the
//! limits, and the file rebuilt without its metadata.
//!
//! No maintained crate writes HEIF, so the boxes are read and written here: [`parse`]
//! describes the primary image for the decoders, [`check_limits`] refuses it from the header
//! alone, [`strip`] writes a new file holding only the primary image and what showing it
//! needs (an allow-list: Exif, XMP, thumbnails, depth maps, sequences and unknown boxes go).

mod boxes;
mod container;
mod meta;
mod props;
mod strip;
#[cfg(test)]
mod tests;

pub use container::{Brand, Codec, Coded, Heif, Image, Layout, parse};
pub use props::{CleanAperture, Colour, Mirror, Nclx, Transform};
pub use strip::strip;

use crate::domain::ingest::Limits;

/// Why a HEIF/AVIF file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeifError {
    /// The boxes contradict themselves or the file's size (an upload to refuse with 422).
    #[error("the HEIF container is damaged: {0}")]
    Corrupt(String),
    /// Well formed, but something this server does not read (an image sequence alone,
    /// another handler, protected items, data in another file, an unknown codec).
    #[error("this HEIF file is not supported: {0}")]
    Unsupported(String),
    /// More pixels than `max_pixels` (of the image, or of its tiles added up).
    #[error("the image has {pixels} pixels; the limit is {limit}")]
    TooManyPixels {
        /// Pixels of the image, or of its tiles added up.
        pixels: u64,
        /// `max_pixels`.
        limit: u64,
    },
    /// A side longer than `max_dimension`.
    #[error("the image is {side} pixels long on one side; the limit is {limit}")]
    TooLong {
        /// The longest side.
        side: u32,
        /// `max_dimension`.
        limit: u32,
    },
}

impl HeifError {
    fn corrupt(reason: String) -> Self {
        HeifError::Corrupt(reason)
    }
}

/// Refuse from the header what would be too large to decode: the primary's and its alpha
/// plane's output sizes, each of their tiles, and their tiles added up.
pub fn check_limits(heif: &Heif, limits: &Limits) -> Result<(), HeifError> {
    let images = std::iter::once(&heif.primary).chain(heif.alpha.as_ref());
    for image in images {
        let sides = std::iter::once((image.width, image.height))
            .chain(image.tiles.iter().map(|t| (t.width, t.height)));
        for (w, h) in sides {
            let side = w.max(h);
            if side > limits.max_dimension {
                return Err(HeifError::TooLong {
                    side,
                    limit: limits.max_dimension,
                });
            }
        }
        let pixels = (u64::from(image.width) * u64::from(image.height)).max(image.decoded_pixels());
        if pixels > limits.max_pixels {
            return Err(HeifError::TooManyPixels {
                pixels,
                limit: limits.max_pixels,
            });
        }
    }
    Ok(())
}

/// [`parse`] and [`check_limits`] together: what the pipeline calls before decoding.
pub fn check_header(file: &[u8], limits: &Limits) -> Result<Heif, HeifError> {
    let heif = parse(file)?;
    check_limits(&heif, limits)?;
    Ok(heif)
}

/// The bytes of an item (a tile, the image, its alpha plane) of `file`, its extents joined:
/// what a decoder is handed for each [`Coded`] item.
pub fn item_data(file: &[u8], item: u32) -> Result<Vec<u8>, HeifError> {
    let top = container::top_level(file)?;
    meta::parse(top.meta)?.item_data(file, item)
}
