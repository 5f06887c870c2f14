//! What older versions of this pipeline got wrong, judged from a stored original alone, so
//! images stored before a fix can be found and made again (`domain/galleries/upgrade.rs`).
//!
//! Each fix that changes what a stored image should be bumps [`GENERATION`] and teaches
//! [`outdated`] to recognise the images it affects; the rest are left alone, because
//! making every image again would cost a whole collection's decode for nothing.

use std::io::Cursor;

use image::{ImageDecoder, ImageReader};

use crate::domain::ingest::{colour, strip};
use crate::model::MediaFormat;

/// The pipeline's generation: what a stored image made by this build looks like.
///
/// 1. WebP originals lose their RIFF `INFO`, `EXIF` and `XMP ` chunks (allow-list strip);
///    renditions of photos with a colour profile other than sRGB are colour-managed.
pub const GENERATION: u32 = 1;

/// What a stored image made before [`GENERATION`] needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outdated {
    /// Its original still carries what stripping now removes.
    pub original: bool,
    /// Its renditions were made without colour management.
    pub renditions: bool,
}

impl Outdated {
    /// Nothing to do.
    pub fn is_current(self) -> bool {
        !self.original && !self.renditions
    }
}

/// What the stored `original` (as an earlier generation stored it: stripped, upright)
/// needs to be what ingest makes of it today. Unreadable originals need nothing here:
/// `maiimg check` is where damage is reported.
pub fn outdated(original: &[u8], format: MediaFormat) -> Outdated {
    let original_outdated = format == MediaFormat::Webp
        && strip::webp(original).is_ok_and(|stripped| stripped != original);
    let renditions = match format {
        MediaFormat::Jpeg | MediaFormat::Png | MediaFormat::Webp => {
            icc_of(original, format).is_some_and(|icc| colour::needs_conversion(&icc))
        }
        _ => false,
    };
    Outdated {
        original: original_outdated,
        renditions,
    }
}

/// The embedded ICC profile, read from the header (no pixel is decoded).
fn icc_of(bytes: &[u8], format: MediaFormat) -> Option<Vec<u8>> {
    let image_format = match format {
        MediaFormat::Jpeg => image::ImageFormat::Jpeg,
        MediaFormat::Png => image::ImageFormat::Png,
        MediaFormat::Webp => image::ImageFormat::WebP,
        _ => return None,
    };
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), image_format)
        .into_decoder()
        .ok()?;
    decoder.icc_profile().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lossless 1×1 WebP with the given extra chunks after its image data.
    fn webp_with(extra: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut plain = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut plain)
            .encode(&[10, 20, 30, 255], 1, 1, image::ExtendedColorType::Rgba8)
            .expect("encodes");
        let mut body = plain[12..].to_vec();
        for (id, data) in extra {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        out.extend_from_slice(b"WEBP");
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn a_webp_with_an_info_chunk_needs_a_new_original() {
        let leaky = webp_with(&[(b"LIST", b"INFOIART\x06\0\0\0Alice\0")]);
        assert_eq!(
            outdated(&leaky, MediaFormat::Webp),
            Outdated {
                original: true,
                renditions: false
            }
        );
        let clean = strip::webp(&leaky).expect("strips");
        assert!(outdated(&clean, MediaFormat::Webp).is_current());
    }

    #[test]
    fn plain_srgb_photos_are_current() {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode(&[200; 8 * 8 * 3], 8, 8, image::ExtendedColorType::Rgb8)
            .expect("encodes");
        assert!(outdated(&jpeg, MediaFormat::Jpeg).is_current());
        assert!(outdated(b"GIF89a", MediaFormat::Gif).is_current());
        assert!(outdated(b"not a jpeg", MediaFormat::Jpeg).is_current());
    }

    #[test]
    fn a_display_p3_photo_needs_new_renditions_and_keeps_its_original() {
        let icc = moxcms::ColorProfile::new_display_p3()
            .encode()
            .expect("a P3 profile");
        let mut jpeg = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 90);
        encoder.add_icc_profile(&icc).expect("embedded");
        encoder
            .encode(&[200; 8 * 8 * 3], 8, 8, jpeg_encoder::ColorType::Rgb)
            .expect("encodes");
        assert_eq!(
            outdated(&jpeg, MediaFormat::Jpeg),
            Outdated {
                original: false,
                renditions: true
            }
        );
    }
}
