//! Animated PNG and WebP: sized from their chunk headers and refused over the frame budget
//! before any pixel is decoded, then kept animated in the display rendition (the stripped
//! original when it fits, else shrunk frame by frame into the same format).
//!
//! GIFs have their own path (`strip::gif` decodes every frame to rebuild the file anyway).

pub mod apng;
mod apng_frames;
mod display;
mod header;
pub mod webp;

pub use display::{shrink, shrink_gif};
pub use header::{Header, Kind};

use crate::domain::ingest::error::IngestError;
use crate::domain::ingest::text::megapixels;
use crate::model::MediaFormat;

/// The animation `bytes` declare, if they are an APNG or an animated WebP.
pub fn header(bytes: &[u8], format: MediaFormat) -> Result<Option<Header>, String> {
    match format {
        MediaFormat::Png => apng::header(bytes),
        MediaFormat::Webp => webp::header(bytes),
        _ => Ok(None),
    }
}

/// Whether the first bytes of a file say it is an APNG or an animated WebP (for the decode
/// pool's estimate, from a head that may end mid-chunk).
pub fn declared(head: &[u8]) -> bool {
    apng::declares_animation(head) || webp::declares_animation(head)
}

/// An APNG or animated WebP of more than one frame (`None` for a still, a single frame or
/// another format), refused when its frames add up to more than the pixel limit: checked
/// from its chunk headers before any pixel is decoded, as GIFs are from theirs.
pub fn admit(
    bytes: &[u8],
    format: MediaFormat,
    max_pixels: u64,
    too_big: &dyn Fn(String) -> IngestError,
    corrupt: &dyn Fn(String) -> IngestError,
) -> Result<Option<Header>, IngestError> {
    let Some(header) = header(bytes, format).map_err(corrupt)? else {
        return Ok(None);
    };
    if header.pixels() > max_pixels {
        return Err(too_big(format!(
            "its {} frames of {}×{} add up to {} megapixels; the limit is {}",
            header.frames,
            header.width,
            header.height,
            header.pixels() / 1_000_000,
            megapixels(max_pixels)
        )));
    }
    Ok(Some(header).filter(Header::animated))
}

#[cfg(test)]
mod tests;
