//! The pipeline for HEIC and AVIF: read the container's header and check it against the
//! limits → decode upright pixels (heifer for HEVC, rav1d for AV1) → the original kept as
//! it came, metadata stripped → a full-resolution JPEG for the people who download it →
//! renditions, converted to sRGB as for every other format.

use crate::domain::ingest::error::IngestError;
use crate::domain::ingest::heif;
use crate::domain::ingest::render::{
    DISPLAY_EDGE, Encoded, ORIGINAL_QUALITY, Pixels, RENDITION_QUALITY,
};
use crate::domain::ingest::text::megapixels;
use crate::domain::ingest::{bmff, colour, decode_avif, decode_heif};
use crate::model::MediaFormat;

/// The limits the header is checked against (the pipeline's `Limits`, less the file size
/// it has already checked: this module does not import the pipeline that calls it).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Largest image (width × height).
    pub max_pixels: u64,
    /// Longest side.
    pub max_dimension: u32,
}

/// The files of one HEIC/AVIF image, ready to be written to the blob store.
pub struct Files {
    /// The original, metadata stripped.
    pub original: Encoded,
    /// Lightbox rendition.
    pub display: Encoded,
    /// Grid rendition.
    pub thumb: Encoded,
    /// The full-resolution JPEG for downloads.
    pub download: Encoded,
}

/// Width and height of the upright image, once its header is checked against `limits`.
pub(super) fn check_header(
    bytes: &[u8],
    name: &str,
    format: MediaFormat,
    limits: Bounds,
) -> Result<bmff::Header, IngestError> {
    let file = bmff::parse(bytes).map_err(|reason| refusal(bytes, name, format, reason))?;
    let header = bmff::header(&file).map_err(|reason| corrupt(name, format, reason))?;
    let (w, h) = (header.width, header.height);
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels || w > limits.max_dimension || h > limits.max_dimension {
        return Err(IngestError::TooManyPixels {
            name: name.into(),
            detail: format!(
                "it is {w}×{h} pixels ({}); the limit is {} and {} pixels per side",
                megapixels(pixels),
                megapixels(limits.max_pixels),
                limits.max_dimension
            ),
        });
    }
    if pixels == 0 {
        return Err(corrupt(name, format, "it has no pixels".into()));
    }
    Ok(header)
}

/// Ingest a HEIC or AVIF file whose size and name are already checked.
pub fn ingest(
    bytes: &[u8],
    name: &str,
    format: MediaFormat,
    limits: Bounds,
) -> Result<Files, IngestError> {
    let header = check_header(bytes, name, format, limits)?;
    let corrupt = |reason: String| corrupt(name, format, reason);
    let file = bmff::parse(bytes).map_err(&corrupt)?;
    let (pixels, stream_colour) = match header.coding {
        bmff::Coding::Hevc => (decode_heif::decode(bytes, limits.max_pixels), None),
        bmff::Coding::Av1 => match decode_avif::decode(&file, limits.max_pixels) {
            Ok((pixels, colour)) => (Ok(pixels), Some(colour)),
            Err(e) => (Err(e), None),
        },
    };
    let pixels = pixels.map_err(&corrupt)?;
    let icc = bmff::colour(&file, stream_colour).map_err(&corrupt)?;
    let profile = icc.as_deref().and_then(colour::source_profile);

    // HEIF metadata: stripped by heif::strip. The one place an original HEIC/AVIF is made
    // fit to store and serve; nothing else of the upload is kept.
    let clean = heif::strip(bytes).map_err(|e| corrupt(e.to_string()))?;
    let original = Encoded {
        bytes: clean,
        format,
        width: pixels.width,
        height: pixels.height,
    };
    // The JPEG keeps the full gamut: the source's numbers with its profile embedded (an
    // iPhone's Display P3 stays P3 in every viewer that manages colour, as the HEIC was),
    // which also spares a conversion of all twelve megapixels. sRGB needs no profile.
    let embed = profile.as_ref().and(icc.as_deref());
    let download = opaque(&pixels)
        .as_ref()
        .unwrap_or(&pixels)
        .encode_tagged(ORIGINAL_QUALITY, embed)
        .map_err(&corrupt)?;

    let display_pixels = pixels.fit(DISPLAY_EDGE).map_err(&corrupt)?;
    drop(pixels);
    let (display_pixels, thumb) =
        colour::shown(display_pixels, profile.as_ref()).map_err(&corrupt)?;
    let display = display_pixels.encode(RENDITION_QUALITY).map_err(&corrupt)?;
    Ok(Files {
        original,
        display,
        thumb,
        download,
    })
}

/// A transparent image over white, for the JPEG (which has no alpha); `None` when opaque.
fn opaque(pixels: &Pixels) -> Option<Pixels> {
    if !pixels.alpha {
        return None;
    }
    let data = pixels
        .data
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u32::from(p[3]);
            [p[0], p[1], p[2]].map(|c| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8)
        })
        .collect();
    Some(Pixels {
        data,
        width: pixels.width,
        height: pixels.height,
        alpha: false,
    })
}

fn corrupt(name: &str, format: MediaFormat, reason: String) -> IngestError {
    IngestError::Corrupt {
        name: name.into(),
        format: format.label(),
        reason,
    }
}

/// A container that does not parse: an image sequence without a still image (a HEIF
/// "animation": its frames are a video track, `moov`) is refused as videos are, anything
/// else as damaged.
fn refusal(bytes: &[u8], name: &str, format: MediaFormat, reason: String) -> IngestError {
    let video = heifer_isobmff::BoxIter::new(bytes)
        .map_while(Result::ok)
        .any(|b| b.header.box_type.0 == *b"moov");
    if video {
        return IngestError::Unsupported {
            name: name.into(),
            detected: "A HEIF IMAGE SEQUENCE (VIDEO)".into(),
        };
    }
    corrupt(name, format, reason)
}
