//! HEIC/HEIF pixels, decoded by heifer (pure Rust HEVC and HEIF, MIT/Apache, no unsafe):
//! grids of tiles assembled, alpha attached, and `clap`, `irot` and `imir` applied, so what
//! comes out is upright. The EXIF orientation inside the file is never looked at.

use crate::domain::ingest::render::Pixels;

/// Decode the primary image to upright 8-bit pixels, in the file's own colour space.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<Pixels, String> {
    let options = heifer::Options {
        // The decode pool runs one ingest per core: tiles decoded in parallel would only
        // compete with the other ingests (and hold more tiles in memory at once).
        max_threads: 1,
        // A grid's canvas may be padded past the image's declared size (tiles are whole);
        // the declared size was already checked against the limit.
        max_pixels: max_pixels.saturating_add(max_pixels / 4).max(1),
    };
    let image = heifer::decode_rgba8(bytes, &options).map_err(|e| e.to_string())?;
    let (width, height) = (image.width, image.height);
    let alpha = image.has_alpha && image.data.chunks_exact(4).any(|p| p[3] != 255);
    let data = if alpha { image.data } else { image.into_rgb8() };
    Ok(Pixels {
        data,
        width,
        height,
        alpha,
    })
}
