//! Renditions: resize with fast_image_resize (SIMD), encode opaque images as JPEG with
//! libjpeg-turbo (4:2:0 chroma averaged over each 2×2 block, baseline, interleaved,
//! optimised Huffman tables), images with real transparency as lossless WebP.
//!
//! Not jpeg-encoder any more: libjpeg-turbo, already linked for decoding, encodes a
//! 2048-pixel rendition in about a third of the time, and writes its optimised tables in one
//! interleaved scan (jpeg-encoder 0.7 wrote one scan per component with them, which
//! zune-jpeg 0.5 decoded to green garbage, so it ran with standard tables, ~3 % larger).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ExtendedColorType, ImageEncoder};

use bytes::Bytes;
use img_parts::ImageICC;
use img_parts::jpeg::Jpeg;
use turbojpeg::{Compressor, PixelFormat, Subsamp};

use crate::model::MediaFormat;

/// Long edge of the grid rendition.
pub const THUMB_EDGE: u32 = 480;
/// Long edge of the lightbox rendition.
pub const DISPLAY_EDGE: u32 = 2048;
/// JPEG quality of both renditions (the benchmark runs vips at the same setting).
pub const RENDITION_QUALITY: u8 = 80;
/// JPEG quality when an original must be re-encoded (its orientation was baked in).
pub const ORIGINAL_QUALITY: u8 = 92;

/// Encoded bytes with what they are.
#[derive(Clone, Debug)]
pub struct Encoded {
    /// The file.
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: MediaFormat,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
}

/// 8-bit pixels ready to resize and encode.
pub struct Pixels {
    /// Row-major samples, 3 (RGB) or 4 (RGBA) per pixel.
    pub data: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA with at least one pixel not fully opaque.
    pub alpha: bool,
}

impl Pixels {
    /// Convert any decoded image to 8-bit RGB, or RGBA when transparency is actually used.
    pub fn from_image(image: DynamicImage) -> Pixels {
        let (width, height) = (image.width(), image.height());
        let alpha = image.color().has_alpha() && {
            let rgba = image.to_rgba8();
            rgba.pixels().any(|p| p.0[3] != 255)
        };
        let data = if alpha {
            image.into_rgba8().into_raw()
        } else {
            image.into_rgb8().into_raw()
        };
        Pixels {
            data,
            width,
            height,
            alpha,
        }
    }

    fn pixel_type(&self) -> PixelType {
        if self.alpha {
            PixelType::U8x4
        } else {
            PixelType::U8x3
        }
    }

    /// Scale down (never up) so the long edge is at most `edge`.
    pub fn fit(&self, edge: u32) -> Result<Pixels, String> {
        let (w, h) = fit_within(self.width, self.height, edge);
        if (w, h) == (self.width, self.height) {
            return Ok(Pixels {
                data: self.data.clone(),
                ..*self
            });
        }
        let src = ImageRef::new(self.width, self.height, &self.data, self.pixel_type())
            .map_err(|e| e.to_string())?;
        let mut dst = Image::new(w, h, self.pixel_type());
        // Catmull-Rom: as sharp as Lanczos for downscaling photos at two thirds the taps.
        let options =
            ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
        Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| e.to_string())?;
        Ok(Pixels {
            data: dst.into_vec(),
            width: w,
            height: h,
            alpha: self.alpha,
        })
    }

    /// JPEG (opaque) or lossless WebP (transparent), untagged: sRGB.
    pub fn encode(&self, quality: u8) -> Result<Encoded, String> {
        self.encode_tagged(quality, None)
    }

    /// As [`encode`](Pixels::encode), with `icc` embedded: the profile the numbers are in.
    pub fn encode_tagged(&self, quality: u8, icc: Option<&[u8]>) -> Result<Encoded, String> {
        let mut bytes = Vec::new();
        let format = if self.alpha {
            let mut encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut bytes);
            if let Some(icc) = icc {
                encoder
                    .set_icc_profile(icc.to_vec())
                    .map_err(|e| e.to_string())?;
            }
            encoder
                .write_image(
                    &self.data,
                    self.width,
                    self.height,
                    ExtendedColorType::Rgba8,
                )
                .map_err(|e| e.to_string())?;
            MediaFormat::Webp
        } else {
            if self.width > 65_535 || self.height > 65_535 {
                return Err("too large for JPEG".into());
            }
            // Each chroma sample the average of its 2×2 pixels (a point sample lost fine
            // colour detail: 1-px stripes came out wrong).
            bytes = encode_jpeg(&self.data, self.width, self.height, quality)?;
            if let Some(icc) = icc {
                let mut tagged = Jpeg::from_bytes(bytes.into()).map_err(|e| e.to_string())?;
                tagged.set_icc_profile(Some(Bytes::copy_from_slice(icc)));
                bytes = tagged.encoder().bytes().to_vec();
            }
            MediaFormat::Jpeg
        };
        Ok(Encoded {
            bytes,
            format,
            width: self.width,
            height: self.height,
        })
    }
}

/// Encode 8-bit RGB as a baseline JPEG at `quality`, 4:2:0 with each chroma sample the
/// average of its 2×2 pixels (libjpeg's downsampling), at libjpeg-turbo's SIMD speed. The
/// standard Huffman tables: optimised ones (a second pass over every block) make display
/// renditions 3.4 % smaller on the realworld camera photos (1.1 % on the bench's) and the
/// ingest 19 % slower (`bench/run.sh`, 2026-12-01: 73.5 against 59.4 ms a photo, medians of
/// 3), which missed the ingest goal; phones will mostly get the WebP renditions anyway.
fn encode_jpeg(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, String> {
    let mut compressor = Compressor::new().map_err(|e| e.to_string())?;
    compressor
        .set_quality(i32::from(quality))
        .map_err(|e| e.to_string())?;
    compressor
        .set_subsamp(Subsamp::Sub2x2)
        .map_err(|e| e.to_string())?;
    compressor.set_optimize(false).map_err(|e| e.to_string())?;
    let width = width as usize;
    let image = turbojpeg::Image {
        pixels: rgb,
        width,
        pitch: width * 3,
        height: height as usize,
        format: PixelFormat::RGB,
    };
    compressor.compress_to_vec(image).map_err(|e| e.to_string())
}

/// The largest size with the same aspect ratio whose long edge is at most `edge`.
pub fn fit_within(width: u32, height: u32, edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= edge {
        return (width, height);
    }
    let scale = |side: u32| {
        ((u64::from(side) * u64::from(edge) + u64::from(long) / 2) / u64::from(long)).max(1) as u32
    };
    (scale(width), scale(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit_within(4000, 3000, 2048), (2048, 1536));
        assert_eq!(fit_within(3000, 4000, 480), (360, 480));
        assert_eq!(fit_within(100, 50, 480), (100, 50));
        assert_eq!(fit_within(20000, 1, 480), (480, 1));
    }
}
