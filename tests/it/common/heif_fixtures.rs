//! HEIC fixtures encoded in code with heifer's encoder (nothing binary is checked in): a
//! photo-like pattern with planted EXIF (GPS, and an orientation that must not be applied),
//! XMP and, when asked, a Display P3 profile.

use image::RgbImage;

use super::fixtures::{SECRET, exif_tiff, pattern};

/// What a generated HEIC carries besides its pixels.
pub struct HeicExtras {
    /// An EXIF block with GPS, the planted secret and this orientation (6: "rotate 90°").
    pub exif_orientation: Option<u16>,
    /// Tag the pixels as Display P3 (as iPhones do).
    pub display_p3: bool,
    /// 16-bit samples, encoded as 10-bit HEVC (Main 10).
    pub ten_bit: bool,
    /// Make the left half transparent.
    pub alpha: bool,
}

impl Default for HeicExtras {
    fn default() -> Self {
        HeicExtras {
            exif_orientation: Some(6),
            display_p3: false,
            ten_bit: false,
            alpha: false,
        }
    }
}

/// A `w`×`h` HEIC of [`pattern`] with an XMP packet holding the secret and `extras`.
pub fn heic(w: u32, h: u32, extras: &HeicExtras) -> Vec<u8> {
    heic_of(&pattern(w, h, 7), extras)
}

/// `image` as a HEIC with `extras`.
pub fn heic_of(image: &RgbImage, extras: &HeicExtras) -> Vec<u8> {
    let (w, h) = image.dimensions();
    let depth: u8 = if extras.ten_bit { 16 } else { 8 };
    let widen = |v: u8| {
        if extras.ten_bit {
            u16::from(v) * 257
        } else {
            u16::from(v)
        }
    };
    let opaque = if extras.ten_bit { u16::MAX } else { 255 };
    let data = image
        .enumerate_pixels()
        .flat_map(|(x, _, p)| {
            let a = if extras.alpha && x < w / 2 { 0 } else { opaque };
            [widen(p[0]), widen(p[1]), widen(p[2]), a]
        })
        .collect();
    let decoded = heifer::Image {
        width: w,
        height: h,
        bit_depth: depth,
        has_alpha: extras.alpha,
        data,
    };
    let mut xmp = b"<?xpacket begin=''?><x:xmpmeta xmlns:x='adobe:ns:meta/'>".to_vec();
    xmp.extend_from_slice(SECRET);
    xmp.extend_from_slice(b"</x:xmpmeta><?xpacket end='w'?>");
    let metadata = heifer::Metadata {
        exif: extras.exif_orientation.map(exif_tiff),
        xmp: Some(xmp),
        icc_profile: extras
            .display_p3
            .then(|| moxcms::ColorProfile::new_display_p3().encode().expect("P3")),
    };
    let options = heifer::EncodeOptions {
        quality: 90,
        max_threads: 1,
    };
    heifer::encode_with_metadata(&decoded, &metadata, &options).expect("heifer encodes")
}
