//! Colour: renditions of a photo with a wide-gamut profile are converted to sRGB, originals
//! keep their profile (also when re-encoded to bake in the orientation), and subsampled
//! chroma is averaged so fine colour detail keeps its colour.

use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegDecoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, RgbImage};
use moxcms::{ColorProfile, Layout, RenderingIntent, TransformOptions};

use super::*;

/// A Display P3 colour inside sRGB's gamut, and the image of it.
pub(crate) const P3_COLOUR: [u8; 3] = [200, 120, 80];

/// A flat P3 photo tagged with moxcms's Display P3 profile (the profile's bytes returned
/// too), encoded at q95 4:4:4 so the colour arrives as it was written.
pub(crate) fn p3_photo(width: u16, height: u16) -> (Vec<u8>, Vec<u8>) {
    let icc = ColorProfile::new_display_p3()
        .encode()
        .expect("a P3 profile");
    let pixels = P3_COLOUR.repeat(usize::from(width) * usize::from(height));
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 95);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    encoder.add_icc_profile(&icc).expect("embedded");
    encoder
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("encoded");
    (bytes, icc)
}

/// What a colour-managed browser shows for [`P3_COLOUR`]: the colour through the profile,
/// to sRGB, relative colorimetric.
pub(crate) fn p3_in_srgb() -> [u8; 3] {
    let transform = ColorProfile::new_display_p3()
        .create_transform_8bit(
            Layout::Rgb,
            &ColorProfile::new_srgb(),
            Layout::Rgb,
            TransformOptions {
                rendering_intent: RenderingIntent::RelativeColorimetric,
                ..TransformOptions::default()
            },
        )
        .expect("a transform");
    let mut out = [0u8; 3];
    transform
        .transform(&P3_COLOUR, &mut out)
        .expect("converted");
    out
}

fn icc_of(jpeg: &[u8]) -> Option<Vec<u8>> {
    let mut decoder = JpegDecoder::new(Cursor::new(jpeg)).expect("a JPEG");
    decoder.icc_profile().expect("readable")
}

fn assert_near(got: [f64; 3], want: [u8; 3], what: &str) {
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - f64::from(w)).abs() <= 3.0,
            "{what}: {got:?}, expected {want:?}"
        );
    }
}

#[test]
fn a_display_p3_photo_is_shown_in_srgb_and_its_original_keeps_its_profile() {
    let (bytes, icc) = p3_photo(64, 48);
    let out = ingest(&bytes, "p3.jpg", &limits()).expect("accepted");
    let srgb = p3_in_srgb();
    assert_ne!(
        srgb, P3_COLOUR,
        "the test colour must differ between the two spaces"
    );
    for (rendition, what) in [(&out.display, "display"), (&out.thumb, "thumbnail")] {
        let pixels = decode(&rendition.bytes).to_rgb8();
        assert_near(mean_rgb(&pixels, 16, 16, 16), srgb, what);
        assert_eq!(icc_of(&rendition.bytes), None, "{what}: sRGB goes untagged");
    }
    // The original is the upload's own bytes (stripped), numbers and profile untouched.
    let original = decode(&out.original.bytes).to_rgb8();
    assert_near(mean_rgb(&original, 16, 16, 16), P3_COLOUR, "original");
    assert_eq!(icc_of(&out.original.bytes), Some(icc));
}

#[test]
fn a_rotated_p3_photo_keeps_its_profile_in_the_re_encoded_original() {
    let (bytes, icc) = p3_photo(64, 48);
    let out = ingest(&with_exif(&bytes, 6), "portrait.jpg", &limits()).expect("accepted");
    assert_eq!(
        (out.original.width, out.original.height),
        (48, 64),
        "upright"
    );
    assert_eq!(
        icc_of(&out.original.bytes),
        Some(icc),
        "the profile goes along"
    );
    let original = decode(&out.original.bytes).to_rgb8();
    assert_near(mean_rgb(&original, 16, 16, 16), P3_COLOUR, "original");
    let display = decode(&out.display.bytes).to_rgb8();
    assert_near(mean_rgb(&display, 16, 16, 16), p3_in_srgb(), "display");
    assert_no_metadata(&out.original.bytes, "original");
}

#[test]
fn one_pixel_colour_stripes_keep_their_mean_colour() {
    // Alternating red and blue columns: mean (127.5, 0, 127.5). Taking one chroma sample
    // of each 2×2 block made it red (230, 0, 0); Pillow's averaging gives (126, 12, 126).
    let stripes = RgbImage::from_fn(64, 64, |x, _| {
        if x % 2 == 0 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    });
    let png = encode(&DynamicImage::ImageRgb8(stripes), ImageFormat::Png);
    let out = ingest(&png, "stripes.png", &limits()).expect("accepted");
    let display = decode(&out.display.bytes).to_rgb8();
    let [r, g, b] = mean_rgb(&display, 8, 8, 48);
    assert!(
        (r - 127.5).abs() < 12.0 && g < 25.0 && (b - 127.5).abs() < 12.0,
        "mean colour ({r:.0}, {g:.0}, {b:.0})"
    );
}

/// LittleCMS's sRGB rendering of `path` (relative colorimetric with black-point
/// compensation, through the file's own profile), upright; `None`, with a visible note,
/// where `jpgicc` (Debian's liblcms2-utils) is not installed.
fn lcms_srgb(path: &Path) -> Option<RgbImage> {
    let out = tempfile::Builder::new()
        .suffix(".jpg")
        .tempfile()
        .expect("a temp file");
    let run = std::process::Command::new("jpgicc")
        .args(["-t1", "-b", "-q100"])
        .arg(path)
        .arg(out.path())
        .output();
    match run {
        Ok(done) if done.status.success() => {}
        Ok(done) => panic!(
            "jpgicc failed on {}: {}",
            path.display(),
            String::from_utf8_lossy(&done.stderr)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: jpgicc (liblcms2-utils) is not installed");
            return None;
        }
        Err(e) => panic!("jpgicc: {e}"),
    }
    let bytes = std::fs::read(path).expect("the source");
    let orientation = image::ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .expect("a format")
        .into_decoder()
        .expect("a decoder")
        .orientation()
        .expect("an orientation");
    let mut reference = image::open(out.path()).expect("jpgicc's output");
    reference.apply_orientation(orientation);
    Some(reference.to_rgb8())
}

/// Mean and 95th percentile of CIEDE2000 between two renderings, both shrunk to 1/8 of the
/// larger one's size the same way.
fn delta_e(ours: &RgbImage, reference: &RgbImage) -> (f32, f32) {
    use palette::color_difference::Ciede2000;
    use palette::{IntoColor, Lab, Srgb};
    let (w, h) = (reference.width() / 8, reference.height() / 8);
    let shrink = |i: &RgbImage| image::imageops::resize(i, w, h, image::imageops::Triangle);
    let (a, b) = (shrink(ours), shrink(reference));
    let lab = |p: &image::Rgb<u8>| -> Lab {
        Srgb::new(p[0], p[1], p[2])
            .into_format::<f32>()
            .into_linear()
            .into_color()
    };
    let mut d: Vec<f32> = a
        .pixels()
        .zip(b.pixels())
        .map(|(x, y)| lab(x).difference(lab(y)))
        .collect();
    d.sort_by(f32::total_cmp);
    let mean = d.iter().sum::<f32>() / d.len() as f32;
    (mean, d[d.len() * 95 / 100])
}

#[test]
fn real_wide_gamut_photos_look_as_littlecms_renders_them() {
    let Some(dir) = testdata("realworld/colour") else {
        return;
    };
    // Every profile of the corpus: RGB (matrix and LUT, the XYB JPEG), grey and CMYK.
    for name in [
        "Channel_digital_image_CMYK_color.jpg",
        "concert.jpg",
        "vips-sample-xyb.jpg",
        "IMG_1063.JPG",
        "IMG_1183.JPG",
        "P3-sRGB-color-bars.jpg",
        "R2020-sRGB-color-bars.jpg",
        "Shoes-AdobeRGB.jpg",
        "Shoes-ProPhoto.jpg",
        "vips-sample-a98.jpg",
        "rgb-to-gbr-test.jpg",
        // A PNG's iCCP profile, judged against LittleCMS's rendering of the same bars as
        // JPEG (jpgicc reads JPEG only).
        "P3-sRGB-color-bars.png",
    ] {
        let path = dir.join(name);
        let source = match name.strip_suffix(".png") {
            Some(stem) => dir.join(format!("{stem}.jpg")),
            None => path.clone(),
        };
        let Some(reference) = lcms_srgb(&source) else {
            return;
        };
        let bytes = std::fs::read(&path).expect("a corpus file");
        let out = ingest(&bytes, name, &limits()).expect("accepted");
        let display = decode(&out.display.bytes).to_rgb8();
        let (mean, p95) = delta_e(&display, &reference);
        eprintln!("{name}: CIEDE2000 mean {mean:.2}, p95 {p95:.2}");
        assert!(
            mean <= 1.5 && p95 <= 3.5,
            "{name}: CIEDE2000 mean {mean:.2} (≤ 1.5), p95 {p95:.2} (≤ 3.5)"
        );
    }
}
