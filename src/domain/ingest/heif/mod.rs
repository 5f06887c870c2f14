//! HEIF and AVIF containers (ISOBMFF): what the primary image is, whether it fits the
//! limits, and the file rebuilt without its metadata.
//!
//! No maintained crate writes HEIF, so the boxes are read and written here: [`parse`]
//! describes the primary image for the decoders, [`check_limits`] refuses it from the header
//! alone, [`strip`] writes a new file holding only the primary image and what showing it
//! needs (an allow-list: Exif, XMP, thumbnails, depth maps, sequences and unknown boxes go).

mod boxes;
mod container;
mod error;
mod meta;
mod props;
mod strip;
#[cfg(test)]
mod tests;

pub use container::{Brand, Codec, Coded, Heif, Image, Layout, parse};
pub use props::{CleanAperture, Colour, Mirror, Nclx, Transform};
pub use strip::strip;

pub use error::HeifError;

/// Refuse from the header what would be too large to decode: the primary's and its alpha
/// plane's output sizes, each of their tiles, and their tiles added up, against the
/// pipeline's `Limits::max_pixels` and `max_dimension` (passed as numbers, as this module
/// must not import the pipeline that calls it).
pub fn check_limits(heif: &Heif, max_pixels: u64, max_dimension: u32) -> Result<(), HeifError> {
    let images = std::iter::once(&heif.primary).chain(heif.alpha.as_ref());
    for image in images {
        let sides = std::iter::once((image.width, image.height))
            .chain(image.tiles.iter().map(|t| (t.width, t.height)));
        for (w, h) in sides {
            let side = w.max(h);
            if side > max_dimension {
                return Err(HeifError::TooLong {
                    side,
                    limit: max_dimension,
                });
            }
        }
        let pixels = (u64::from(image.width) * u64::from(image.height)).max(image.decoded_pixels());
        if pixels > max_pixels {
            return Err(HeifError::TooManyPixels {
                pixels,
                limit: max_pixels,
            });
        }
    }
    Ok(())
}

/// [`parse`] and [`check_limits`] together: what the pipeline calls before decoding.
pub fn check_header(file: &[u8], max_pixels: u64, max_dimension: u32) -> Result<Heif, HeifError> {
    let heif = parse(file)?;
    check_limits(&heif, max_pixels, max_dimension)?;
    Ok(heif)
}

/// The bytes of one item of `file` (a tile, the image, its alpha plane), its extents joined;
/// [`tile_data`] reads all of an image's tiles at once.
pub fn item_data(file: &[u8], item: u32) -> Result<Vec<u8>, HeifError> {
    let top = container::top_level(file)?;
    meta::parse(top.meta)?.item_data(file, item)
}

/// The coded bytes of each of `image`'s tiles (one for a single image), in tile order: what
/// the decoder is handed, read with one pass over the boxes however many tiles there are.
pub fn tile_data(file: &[u8], image: &Image) -> Result<Vec<Vec<u8>>, HeifError> {
    let top = container::top_level(file)?;
    let meta = meta::parse(top.meta)?;
    image
        .tiles
        .iter()
        .map(|t| meta.item_data(file, t.item))
        .collect()
}
