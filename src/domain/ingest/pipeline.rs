//! The pipeline for one file: sniff → check the header against the limits → decode (with
//! `image::Limits`) → bake in the EXIF orientation → strip metadata → renditions.

use std::io::Cursor;

use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageError, ImageReader};

use crate::domain::ingest::colour;
use crate::domain::ingest::error::IngestError;
use crate::domain::ingest::render::{DISPLAY_EDGE, Encoded, Pixels, RENDITION_QUALITY};
use crate::domain::ingest::text::{clean_name, megapixels};
use crate::domain::ingest::{animation, jpeg, pipeline_heif, sniff, strip};

use crate::model::MediaFormat;

/// What an instance accepts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest file.
    pub max_file_bytes: u64,
    /// Largest image (width × height; for an animation, the canvas once per frame).
    pub max_pixels: u64,
    /// Longest side.
    pub max_dimension: u32,
}

/// One ingested image, ready to be written to the blob store.
#[derive(Debug)]
pub struct Ingested {
    /// Cleaned-up file name.
    pub name: String,
    /// An animated GIF, APNG or WebP (more than one frame).
    pub animated: bool,
    /// The stripped original.
    pub original: Encoded,
    /// Lightbox rendition.
    pub display: Encoded,
    /// Grid rendition.
    pub thumb: Encoded,
    /// A full-resolution JPEG of a HEIC/AVIF original, for downloads.
    pub download: Option<Encoded>,
}

impl Ingested {
    /// Every file to store for this image.
    pub fn files(&self) -> impl Iterator<Item = &Encoded> {
        [&self.original, &self.display, &self.thumb]
            .into_iter()
            .chain(self.download.as_ref())
    }
}

/// Ingest one file. CPU-bound: run it on a blocking thread through [`Pool`](crate::domain::ingest::Pool).
pub fn ingest(bytes: &[u8], name: &str, limits: &Limits) -> Result<Ingested, IngestError> {
    let name = clean_name(name);
    if bytes.is_empty() {
        return Err(IngestError::Empty { name });
    }
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(IngestError::TooLarge {
            name,
            limit: limits.max_file_bytes,
        });
    }
    let format = sniff::sniff(bytes).map_err(|detected| IngestError::Unsupported {
        name: name.clone(),
        detected: detected.to_uppercase(),
    })?;
    if matches!(format, MediaFormat::Heic | MediaFormat::Avif) {
        let files = pipeline_heif::ingest(bytes, &name, format, heif_bounds(limits))?;
        return Ok(Ingested {
            name,
            animated: false,
            original: files.original,
            display: files.display,
            thumb: files.thumb,
            download: Some(files.download),
        });
    }
    if format == MediaFormat::Jpeg
        && let Some(kind) = sniff::unreadable_jpeg(bytes)
    {
        return Err(IngestError::UnsupportedVariant { name, kind });
    }
    let corrupt = |reason: String| IngestError::Corrupt {
        name: name.clone(),
        format: format.label(),
        reason,
    };
    let too_big = |detail: String| IngestError::TooManyPixels {
        name: name.clone(),
        detail,
    };
    // JPEGs take libjpeg-turbo's path (`jpeg/`): lossless turns, renditions at a DCT scale.
    if format == MediaFormat::Jpeg {
        let (stripped, head) = jpeg::open(bytes).map_err(&corrupt)?;
        if let Some(detail) = size_refusal(head.width, head.height, limits) {
            return Err(too_big(detail));
        }
        let (original, display, thumb) = jpeg::render(bytes, stripped, head).map_err(&corrupt)?;
        return Ok(Ingested {
            name,
            animated: false,
            original,
            display,
            thumb,
            download: None,
        });
    }

    let moving = animation::admit(bytes, format, limits.max_pixels, &too_big, &corrupt)?;
    let (mut decoder, orientation) = open_decoder(bytes, format, limits, &too_big, &corrupt)?;
    // What the numbers mean: kept with every original, applied to every rendition.
    let icc = decoder.icc_profile().ok().flatten();
    let profile = icc.as_deref().and_then(colour::source_profile);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        ImageError::Limits(_) => too_big("decoding it would need too much memory".into()),
        e => corrupt(e.to_string()),
    })?;

    // Containers are rebuilt for every file, which also validates their structure (a
    // truncated file may decode "successfully", but its container ends too early).
    let (original, pixels, animated) = match format {
        MediaFormat::Gif => {
            let gif = strip::gif(bytes, limits.max_pixels).map_err(|e| match e {
                strip::GifError::Corrupt(r) => corrupt(r),
                strip::GifError::TooManyPixels(p) => too_big(format!(
                    "its frames add up to {} megapixels; the limit is {}",
                    p / 1_000_000,
                    megapixels(limits.max_pixels)
                )),
            })?;
            let original = Encoded {
                bytes: gif.clean,
                format,
                width: gif.width.into(),
                height: gif.height.into(),
            };
            (original, Pixels::from_image(image), gif.animated)
        }
        _ => {
            let stripped = match format {
                MediaFormat::Png => strip::png(bytes),
                _ => strip::webp(bytes),
            }
            .map_err(&corrupt)?;
            // An animation is kept as recorded: turning it would mean encoding every frame
            // of the original again. The strip removes the EXIF that asked for a turn, so
            // every viewer shows the frames as they are stored.
            if orientation == Orientation::NoTransforms || moving.is_some() {
                let original = Encoded {
                    bytes: stripped,
                    format,
                    width: image.width(),
                    height: image.height(),
                };
                (original, Pixels::from_image(image), moving.is_some())
            } else {
                // The rotation must be in the pixels of everything served, the original
                // included, and no EXIF may remain to describe it: encode it again (PNG and
                // WebP losslessly; JPEGs are turned in the DCT domain on their own path).
                image.apply_orientation(orientation);
                let original =
                    reencode_lossless(&image, format, icc.as_deref()).map_err(&corrupt)?;
                (original, Pixels::from_image(image), false)
            }
        }
    };
    // An animation's thumbnail is its first frame.
    let display_pixels = pixels.fit(DISPLAY_EDGE).map_err(&corrupt)?;
    let (display_pixels, thumb) =
        colour::shown(display_pixels, profile.as_ref()).map_err(&corrupt)?;
    let display = if animated {
        if original.width.max(original.height) <= DISPLAY_EDGE {
            original.clone()
        } else if let Some(header) = &moving {
            animation::shrink(bytes, header, profile.as_ref()).map_err(&corrupt)?
        } else {
            animation::shrink_gif(bytes).map_err(&corrupt)?
        }
    } else {
        display_pixels.encode(RENDITION_QUALITY).map_err(&corrupt)?
    };
    Ok(Ingested {
        name,
        animated,
        original,
        display,
        thumb,
        download: None,
    })
}

/// The format and size an accepted file's header declares, checked against `limits` as
/// [`ingest`] checks it before decoding any pixel. Public so the fuzz targets can reach the
/// header checks on their own, far faster than a whole ingest.
pub fn check_header(bytes: &[u8], limits: &Limits) -> Result<(MediaFormat, u32, u32), IngestError> {
    let name = "file";
    let format = sniff::sniff(bytes).map_err(|detected| IngestError::Unsupported {
        name: name.into(),
        detected: detected.to_uppercase(),
    })?;
    if matches!(format, MediaFormat::Heic | MediaFormat::Avif) {
        let header = pipeline_heif::check_header(bytes, name, format, heif_bounds(limits))?;
        return Ok((format, header.width, header.height));
    }
    let corrupt = |reason: String| IngestError::Corrupt {
        name: name.into(),
        format: format.label(),
        reason,
    };
    let too_big = |detail: String| IngestError::TooManyPixels {
        name: name.into(),
        detail,
    };
    if format == MediaFormat::Jpeg {
        // The JPEG path reads its header with libjpeg-turbo (arithmetic coding included).
        let head = jpeg::header(bytes).map_err(&corrupt)?;
        if let Some(detail) = size_refusal(head.width, head.height, limits) {
            return Err(too_big(detail));
        }
        if head.width == 0 || head.height == 0 {
            return Err(corrupt("it has no pixels".into()));
        }
        return Ok((format, head.width, head.height));
    }
    animation::admit(bytes, format, limits.max_pixels, &too_big, &corrupt)?;
    let (decoder, _) = open_decoder(bytes, format, limits, &too_big, &corrupt)?;
    let (width, height) = decoder.dimensions();
    Ok((format, width, height))
}

fn heif_bounds(limits: &Limits) -> pipeline_heif::Bounds {
    pipeline_heif::Bounds {
        max_pixels: limits.max_pixels,
        max_dimension: limits.max_dimension,
    }
}

type DynDecoder<'a> = Box<dyn ImageDecoder + 'a>;

/// Read the header, refuse oversized images before any pixel is decoded, and return the
/// decoder with the EXIF orientation it reports.
fn open_decoder<'a>(
    bytes: &'a [u8],
    format: MediaFormat,
    limits: &Limits,
    too_big: &dyn Fn(String) -> IngestError,
    corrupt: &dyn Fn(String) -> IngestError,
) -> Result<(DynDecoder<'a>, Orientation), IngestError> {
    let image_format = match format {
        MediaFormat::Jpeg => image::ImageFormat::Jpeg,
        MediaFormat::Png => image::ImageFormat::Png,
        MediaFormat::Gif => image::ImageFormat::Gif,
        MediaFormat::Webp => image::ImageFormat::WebP,
        MediaFormat::Heic | MediaFormat::Avif => {
            return Err(corrupt("it is read by its own decoder".into()));
        }
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(limits.max_dimension);
    decode_limits.max_image_height = Some(limits.max_dimension);
    // Room for the decoded frame as 8-bit RGBA plus decoder buffers; 16-bit images of the
    // largest allowed size are refused rather than allowed to take twice that.
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(4) + 32 * 1024 * 1024);
    reader.limits(decode_limits);
    let mut decoder: DynDecoder<'a> = Box::new(reader.into_decoder().map_err(|e| match e {
        ImageError::Limits(_) => too_big(format!(
            "a side is longer than the limit of {} pixels",
            limits.max_dimension
        )),
        e => corrupt(e.to_string()),
    })?);
    let (w, h) = decoder.dimensions();
    if let Some(detail) = size_refusal(w, h, limits) {
        return Err(too_big(detail));
    }
    if w == 0 || h == 0 {
        return Err(corrupt("it has no pixels".into()));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    Ok((decoder, orientation))
}

/// Why an image of `w`×`h` pixels is too large for `limits`, in words; `None` if it fits.
fn size_refusal(w: u32, h: u32, limits: &Limits) -> Option<String> {
    let pixels = u64::from(w) * u64::from(h);
    (pixels > limits.max_pixels || w > limits.max_dimension || h > limits.max_dimension).then(
        || {
            format!(
                "it is {w}×{h} pixels ({}); the limit is {} and {} pixels per side",
                megapixels(pixels),
                megapixels(limits.max_pixels),
                limits.max_dimension
            )
        },
    )
}

/// Encode an oriented PNG or WebP again, losslessly (PNG keeps its bit depth; WebP
/// becomes lossless WebP, the only WebP encoder available).
fn reencode_lossless(
    image: &DynamicImage,
    format: MediaFormat,
    icc: Option<&[u8]>,
) -> Result<Encoded, String> {
    let mut bytes = Vec::new();
    let written = if format == MediaFormat::Png {
        let mut encoder = PngEncoder::new(&mut bytes);
        if let Some(icc) = icc {
            encoder
                .set_icc_profile(icc.to_vec())
                .map_err(|e| e.to_string())?;
        }
        image.write_with_encoder(encoder)
    } else {
        let mut encoder = WebPEncoder::new_lossless(&mut bytes);
        if let Some(icc) = icc {
            encoder
                .set_icc_profile(icc.to_vec())
                .map_err(|e| e.to_string())?;
        }
        DynamicImage::ImageRgba8(image.to_rgba8()).write_with_encoder(encoder)
    };
    written.map_err(|e| e.to_string())?;
    Ok(Encoded {
        bytes,
        format,
        width: image.width(),
        height: image.height(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `ingest` fuzz target: a GIF with a 16×0 frame was accepted and its
    /// stored original did not decode.
    #[test]
    fn a_gif_frame_without_pixels_is_refused() {
        let bytes = b"\
            \x47\x49\x46\x38\x39\x61\x7a\x00\x0a\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x21\
            \xff\x0b\x4e\x45\x54\x53\x43\x41\x40\x45\x32\x2e\x30\x03\x01\x00\x00\x00\x21\xf9\
            \x04\x08\x0a\x00\x00\x00\x2c\x00\x00\x00\x00\x10\x00\x00\x00\xf8\x00\x28\xff\xff\
            \xff\xff\x02\x13\x8c\x6f\xa0\xab\x88\xcc\xdc\x81\x4b\x26\x0a\x6c\xc0\xd9\x72\xfd\
            \x38\x58\x01\x00\x3b";
        let limits = Limits {
            max_file_bytes: 1 << 20,
            max_pixels: 1_000_000,
            max_dimension: 4096,
        };
        let refused = ingest(bytes, "x.gif", &limits);
        assert!(
            matches!(refused, Err(IngestError::Corrupt { .. })),
            "{refused:?}"
        );
    }
}
