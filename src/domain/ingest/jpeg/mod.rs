//! The JPEG path of the ingest, on libjpeg-turbo (`turbo`): arithmetic coding read, damaged
//! scans refused by name, originals with an EXIF orientation turned upright in the DCT
//! domain (no generation of loss, the ICC profile kept), and renditions decoded at the
//! smallest DCT scale that still holds the display rendition's detail.
//!
//! Order: metadata stripped (which also finds truncated files) → header and limits → the
//! upright original → the renditions, decoded from that original, so they match it pixel
//! for pixel in orientation and size.

mod turbo;

use bytes::Bytes;
use image::metadata::Orientation;
use img_parts::ImageEXIF;
use img_parts::jpeg::Jpeg;

use crate::domain::ingest::render::{
    DISPLAY_EDGE, Encoded, ORIGINAL_QUALITY, Pixels, RENDITION_QUALITY,
};
use crate::domain::ingest::{colour, strip};
use crate::model::MediaFormat;

pub use turbo::{Header, header};
#[cfg(test)]
use turbo::{MAX_SCANS, verdict};
use turbo::{check_inks, decode, shrink, upright};

/// The JPEG rebuilt without its metadata (which also finds truncated files) and its frame
/// header, read from the rebuilt bytes: bytes between segments (padding some cameras write,
/// which libjpeg warns about and TurboJPEG then refuses to read a header past) are gone.
/// The pipeline checks the limits on the header before [`render`] decodes anything.
pub fn open(bytes: &[u8]) -> Result<(Vec<u8>, Header), String> {
    let stripped = strip::jpeg(bytes)?;
    let head = header(&stripped)?;
    if head.width == 0 || head.height == 0 {
        return Err("it has no pixels".into());
    }
    Ok((stripped, head))
}

/// The stored original (upright), the display and the thumbnail of the JPEG `bytes`, from
/// what [`open`] made of it. Errors are the reason the file is refused as corrupt.
pub fn render(
    bytes: &[u8],
    stripped: Vec<u8>,
    head: Header,
) -> Result<(Encoded, Encoded, Encoded), String> {
    let (icc, orientation) = icc_and_orientation(bytes);
    let turns = orientation != Orientation::NoTransforms || head.arithmetic;
    // A turned original keeps its source for the fallback below.
    let (mut original, mut width, mut height, source) = if turns {
        let turned = upright(&stripped, orientation, head.arithmetic)?;
        let h = header(&turned)?;
        (turned, h.width, h.height, Some(stripped))
    } else {
        (stripped, head.width, head.height, None)
    };

    let (pixels, profile) = if head.inks {
        // The inks decoder says nothing of damage: libjpeg-turbo judges the data first.
        check_inks(&original)?;
        let converted = icc
            .as_deref()
            .and_then(|p| colour::cmyk_jpeg_to_srgb(&original, p));
        let pixels = match converted {
            Some(converted) => converted?,
            None => image::load_from_memory_with_format(&original, image::ImageFormat::Jpeg)
                .map(Pixels::from_image)
                .map_err(|e| e.to_string())?,
        };
        // What follows is sRGB.
        (pixels, None)
    } else {
        let scale = shrink(width, height, DISPLAY_EDGE);
        let pixels = match decode(&original, scale) {
            Ok(pixels) => pixels,
            // libjpeg-turbo's transpose and transverse garble some odd files that decode
            // well themselves (found by the `jpeg` fuzz target): such a file is turned in
            // pixels instead, at the originals' quality, profile kept, when the decode pool
            // admitted its whole frame (twice), i.e. when renditions decode it whole anyway;
            // a larger one stays refused, as does a file damaged itself.
            Err(turned_damage)
                if scale == turbojpeg::ScalingFactor::ONE
                    && source.as_deref().is_some_and(|s| decode(s, scale).is_ok()) =>
            {
                let source = source.as_deref().unwrap_or_default();
                let redone = turned_in_pixels(source, orientation, icc.as_deref())
                    .map_err(|_| turned_damage)?;
                (original, width, height) = (redone.bytes, redone.width, redone.height);
                decode(&original, shrink(width, height, DISPLAY_EDGE))?
            }
            Err(e) => return Err(e),
        };
        (pixels, icc.as_deref().and_then(colour::source_profile))
    };

    let display = if pixels.width.max(pixels.height) > DISPLAY_EDGE {
        pixels.fit(DISPLAY_EDGE)?
    } else {
        pixels
    };
    let (display, thumb) = colour::shown(display, profile.as_ref())?;
    let display = display.encode(RENDITION_QUALITY)?;
    let original = Encoded {
        bytes: original,
        format: MediaFormat::Jpeg,
        width,
        height,
    };
    Ok((original, display, thumb))
}

/// The upright original made in pixels: decoded whole, turned, and encoded at the
/// originals' quality with its ICC profile (one generation of loss, for the rare file the
/// lossless turn cannot carry).
fn turned_in_pixels(
    stripped: &[u8],
    orientation: Orientation,
    icc: Option<&[u8]>,
) -> Result<Encoded, String> {
    let full = decode(stripped, turbojpeg::ScalingFactor::ONE)?;
    let rgb = image::RgbImage::from_raw(full.width, full.height, full.data)
        .ok_or("the decoded frame has the wrong size")?;
    let mut image = image::DynamicImage::ImageRgb8(rgb);
    image.apply_orientation(orientation);
    Pixels::from_image(image).encode_tagged(ORIGINAL_QUALITY, icc)
}

/// The embedded ICC profile and the EXIF orientation (normal when absent or unreadable).
fn icc_and_orientation(bytes: &[u8]) -> (Option<Vec<u8>>, Orientation) {
    let Ok(jpeg) = Jpeg::from_bytes(Bytes::copy_from_slice(bytes)) else {
        return (None, Orientation::NoTransforms);
    };
    let icc = img_parts::ImageICC::icc_profile(&jpeg).map(|p| p.to_vec());
    let orientation = jpeg
        .exif()
        .and_then(|exif| Orientation::from_exif_chunk(&exif))
        .unwrap_or(Orientation::NoTransforms);
    (icc, orientation)
}

/// Width, height and bytes per pixel of the frame the JPEG path decodes for `head`: at the
/// DCT scale of its renditions, or whole for four inks (decoded whole by their own decoder).
pub fn decoded_frame(head: &Header) -> (u32, u32, u64) {
    if head.inks {
        return (head.width, head.height, 4);
    }
    let scale = shrink(head.width, head.height, DISPLAY_EDGE);
    let side = |v: u32| scale.scale(v as usize) as u32;
    (side(head.width), side(head.height), 3)
}

/// For the `jpeg` fuzz target: `bytes` decoded at DCT scale 1/`denom` (1, 2, 4 or 8), the
/// size it came out at, or why it was refused.
pub fn decoded_size(bytes: &[u8], denom: u8) -> Result<(u32, u32), String> {
    let scale = turbojpeg::ScalingFactor::new(1, usize::from(denom.max(1)));
    decode(bytes, scale).map(|p| (p.width, p.height))
}

/// For the `jpeg` fuzz target: `bytes` turned by EXIF orientation `exif` (1–8) in the DCT
/// domain, as the ingest turns an original.
pub fn turned(bytes: &[u8], exif: u8, arithmetic: bool) -> Result<Vec<u8>, String> {
    let orientation = Orientation::from_exif(exif).ok_or("not an EXIF orientation")?;
    upright(bytes, orientation, arithmetic)
}

#[cfg(test)]
mod tests;
