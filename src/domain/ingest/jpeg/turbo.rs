//! libjpeg-turbo through the `turbojpeg` crate's safe API: the header, decoding at a DCT
//! scale, libjpeg's warnings turned into a verdict, and lossless transforms.
//!
//! libjpeg reports damage in the entropy-coded data as a warning and carries on, filling the
//! rest of the picture with grey; TurboJPEG then answers with an error whose text is that
//! warning, after writing every pixel. The text is all the crate hands over, so the verdict
//! is read from it: a short allow-list of warnings that leave the pixels as the encoder meant
//! them, and every other one refuses the file.

use image::metadata::Orientation;
use turbojpeg::{
    Colorspace, Decompressor, Image, OutputBuf, PixelFormat, ScalingFactor, Transform, TransformOp,
    Transformer,
};

use crate::domain::ingest::render::Pixels;

/// More scans than any encoder writes (progressive ones write about ten); each scan of a
/// crafted progressive file can make the decoder walk every coefficient again.
pub const MAX_SCANS: usize = 500;

/// What the frame header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// CMYK or YCCK: four inks, decoded through their profile (`colour::cmyk_jpeg_to_srgb`).
    pub inks: bool,
    /// Arithmetic-coded: valid JPEG, but not every browser or viewer reads it.
    pub arithmetic: bool,
}

/// The frame header of `bytes`, nothing decoded.
pub fn header(bytes: &[u8]) -> Result<Header, String> {
    let mut decompressor = Decompressor::new().map_err(message)?;
    let header = decompressor.read_header(bytes).map_err(message)?;
    let side = |v: usize| u32::try_from(v).map_err(|_| "a side is too long".to_owned());
    Ok(Header {
        width: side(header.width)?,
        height: side(header.height)?,
        inks: matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK),
        arithmetic: header.is_arithmetic,
    })
}

/// The scale to decode at for a rendition whose long edge is at most `edge`: the smallest
/// of 1/8, 1/4 and 1/2 whose long edge is still at least `edge` (the resize after it then
/// has the detail it needs, as libvips's shrink-on-load), or 1/2 when that falls short of
/// `edge` by less than a tenth.
///
/// The exception is the everyday 12-megapixel photo (4000 or 4032 pixels long): decoded at
/// 1/2 it is 2000–2016 pixels long, 2 % short of a 2048 display, where the strict rule
/// would decode all 12 megapixels to throw three quarters away. Halving in the DCT keeps
/// every frequency a 2000-pixel image can show (it is the inverse DCT of the low 4×4
/// coefficients of each block), so the display looks as sharp as a resize from the full
/// image would, at a quarter of the decoding work. Further short than that, a visibly
/// smaller display is not worth the time, and the full image is decoded.
pub fn shrink(width: u32, height: u32, edge: u32) -> ScalingFactor {
    let long = width.max(height);
    let scaled = |denom: u32| long.div_ceil(denom);
    match [8, 4, 2].into_iter().find(|&d| scaled(d) >= edge) {
        Some(denom) => ScalingFactor::new(1, denom as usize),
        None if u64::from(scaled(2)) * 10 >= u64::from(edge) * 9 && long > edge => {
            ScalingFactor::ONE_HALF
        }
        None => ScalingFactor::ONE,
    }
}

/// Decode `bytes` at `scale` to 8-bit RGB (greyscale too), refusing damaged data.
pub fn decode(bytes: &[u8], scale: ScalingFactor) -> Result<Pixels, String> {
    decode_as(bytes, scale, PixelFormat::RGB).map(|(data, width, height)| Pixels {
        data,
        width,
        height,
        alpha: false,
    })
}

/// Decode a CMYK or YCCK JPEG's inks at 1/8 scale and throw them away: the verdict on its
/// data for the inks decoder, which says nothing of damage.
pub fn check_inks(bytes: &[u8]) -> Result<(), String> {
    decode_as(bytes, ScalingFactor::ONE_EIGHTH, PixelFormat::CMYK).map(drop)
}

fn decode_as(
    bytes: &[u8],
    scale: ScalingFactor,
    format: PixelFormat,
) -> Result<(Vec<u8>, u32, u32), String> {
    check_scans(bytes)?;
    let mut decompressor = Decompressor::new().map_err(message)?;
    decompressor
        .set_scan_limit(MAX_SCANS as u32)
        .map_err(message)?;
    decompressor.set_scaling_factor(scale).map_err(message)?;
    let header = decompressor
        .read_header(bytes)
        .map_err(message)?
        .scaled(scale);
    let pitch = header.width * format.size();
    let mut data = vec![0u8; pitch * header.height];
    let image = Image {
        pixels: data.as_mut_slice(),
        width: header.width,
        pitch,
        height: header.height,
        format,
    };
    if let Err(e) = decompressor.decompress(bytes, image) {
        verdict(&message(e))?;
    }
    let side = |v: usize| u32::try_from(v).map_err(|_| "a side is too long".to_owned());
    Ok((data, side(header.width)?, side(header.height)?))
}

/// `stripped` turned upright in the DCT domain, as `jpegtran -trim` does: no pixel is
/// decoded and encoded again, the markers (the ICC profile among them) are copied.
///
/// A transform moves whole MCUs. Where the image does not end on an MCU boundary, the
/// partial blocks along the edges that the transform would have to move into the middle
/// (the bottom edge for a quarter turn clockwise, the right edge for a mirror, both for a
/// half turn) cannot move losslessly; they are trimmed, as `-trim` does: at most 15 pixel
/// rows or columns of one edge (7 without chroma subsampling), 0.4 % of a 4000-pixel side.
/// Re-encoding instead would keep those pixels and lose a generation of quality in all the
/// others, at several times the cost; a trim is what jpegtran users, and the photo tools
/// built on it, accept. When the sides are MCU-aligned nothing is trimmed and the result is
/// `jpegtran -perfect`'s.
///
/// An `arithmetic`-coded file is written with (optimised) Huffman codes in the same pass,
/// as `jpegtran -optimize` would: the same coefficients, so the same pixels, in the coding
/// every browser decodes.
pub fn upright(
    stripped: &[u8],
    orientation: Orientation,
    arithmetic: bool,
) -> Result<Vec<u8>, String> {
    let op = match orientation {
        Orientation::NoTransforms if !arithmetic => return Ok(stripped.to_vec()),
        Orientation::NoTransforms => TransformOp::None,
        Orientation::FlipHorizontal => TransformOp::Hflip,
        Orientation::Rotate180 => TransformOp::Rot180,
        Orientation::FlipVertical => TransformOp::Vflip,
        Orientation::Rotate90FlipH => TransformOp::Transpose,
        Orientation::Rotate90 => TransformOp::Rot90,
        Orientation::Rotate270FlipH => TransformOp::Transverse,
        Orientation::Rotate270 => TransformOp::Rot270,
    };
    check_scans(stripped)?;
    let mut transform = Transform::op(op);
    transform.trim = true;
    transform.optimize = arithmetic;
    let mut transformer = Transformer::new().map_err(message)?;
    let mut out = OutputBuf::new_owned();
    if let Err(e) = transformer.transform(&transform, stripped, &mut out) {
        // A harmless warning still leaves the whole transformed file in `out`.
        verdict(&message(e))?;
        if out.is_empty() {
            return Err("libjpeg-turbo could not transform it".into());
        }
    }
    Ok(out.to_vec())
}

/// Refuse a file with more scans than [`MAX_SCANS`] before any is decoded. Counting `FF DA`
/// counts the scans: inside entropy-coded data every `FF` byte is followed by `00` or a
/// restart marker.
fn check_scans(bytes: &[u8]) -> Result<(), String> {
    let scans = bytes.windows(2).filter(|w| w == &[0xFF, 0xDA]).count();
    if scans > MAX_SCANS {
        return Err(format!(
            "it has {scans} scans; no encoder writes more than a few dozen"
        ));
    }
    Ok(())
}

/// libjpeg's warnings that leave every pixel as the encoder meant it: padding before a
/// marker, a newer JFIF version, start-of-scan fields a baseline decoder ignores, an ICC
/// profile split wrongly (the pixels do not depend on it; an unreadable profile is then
/// treated as sRGB).
const HARMLESS: [&str; 4] = [
    "extraneous bytes before marker",
    "unknown JFIF revision number",
    "Invalid SOS parameters for sequential JPEG",
    "bad ICC marker",
];

/// libjpeg's words for damage in the image data, and what they mean to a person.
const DAMAGE: [(&str, &str); 4] = [
    (
        "premature end of data segment",
        "a stretch of the image data is missing",
    ),
    (
        "instead of RST",
        "a restart marker is missing or out of place",
    ),
    (
        "bad Huffman code",
        "the image data cannot be decoded from there on",
    ),
    (
        "bad arithmetic code",
        "the image data cannot be decoded from there on",
    ),
];

/// `Ok` for a warning in [`HARMLESS`]; otherwise the reason to refuse, in words.
pub fn verdict(message: &str) -> Result<(), String> {
    if HARMLESS.iter().any(|h| message.contains(h)) {
        return Ok(());
    }
    let detail = message.trim_start_matches("Corrupt JPEG data: ");
    Err(if message.contains("Premature end of JPEG file") {
        "the file is truncated (its image data stops before the end of the picture)".into()
    } else if let Some((_, plain)) = DAMAGE.iter().find(|(said, _)| message.contains(said)) {
        format!("its image data is damaged: {plain} ({detail}), so part of the picture is lost")
    } else if detail.len() < message.len() {
        format!("its image data is damaged ({detail}), so part of the picture is lost")
    } else {
        format!("libjpeg-turbo cannot decode it ({message})")
    })
}

fn message(error: turbojpeg::Error) -> String {
    match error {
        turbojpeg::Error::TurboJpegError(text) => text,
        other => other.to_string(),
    }
}
