//! Colour management: a photo's embedded ICC profile says what its numbers mean (Display
//! P3 on an iPhone, Adobe RGB from a camera). Renditions are converted to sRGB, which is
//! what every browser assumes of an untagged image, so they look like the original in a
//! colour-managed viewer; originals keep their numbers and their profile.
//!
//! The engine is moxcms (pure Rust, already inside `image`). Intent: relative colorimetric
//! (in-gamut colours exact, the rest clipped), as browsers render. moxcms has no black-point
//! compensation, which matters only for profiles whose black is not zero (print, CMYK).

use moxcms::{ColorProfile, DataColorSpace, Layout, RenderingIntent, TransformOptions};

use crate::domain::ingest::render::Pixels;

/// A source profile worth converting from: one that parses, describes RGB data and is not
/// sRGB already. Anything else (no profile, a broken one, grey or CMYK data, which `image`
/// hands over as RGB without its profile's meaning) is treated as sRGB, as browsers do.
pub fn source_profile(icc: &[u8]) -> Option<ColorProfile> {
    let profile = ColorProfile::new_from_slice(icc).ok()?;
    if profile.color_space != DataColorSpace::Rgb || is_srgb(&profile) {
        return None;
    }
    Some(profile)
}

/// Whether `profile` says what sRGB says: the same primaries and white and the same tone
/// curve, read off a few points (cameras embed sRGB under many names and byte layouts).
fn is_srgb(profile: &ColorProfile) -> bool {
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        profile.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, TransformOptions::default())
    else {
        return false;
    };
    let probe: Vec<u8> = [0u8, 17, 64, 128, 200, 255]
        .iter()
        .flat_map(|&v| [[v, 0, 0], [0, v, 0], [0, 0, v], [v, v, v]])
        .flatten()
        .collect();
    let mut out = vec![0u8; probe.len()];
    transform.transform(&probe, &mut out).is_ok()
        && probe.iter().zip(&out).all(|(a, b)| a.abs_diff(*b) <= 1)
}

/// Convert `pixels` from `profile` to sRGB in place (alpha untouched).
pub fn to_srgb(pixels: &mut Pixels, profile: &ColorProfile) -> Result<(), String> {
    let layout = if pixels.alpha {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    let options = TransformOptions {
        rendering_intent: RenderingIntent::RelativeColorimetric,
        ..TransformOptions::default()
    };
    let transform = profile
        .create_transform_8bit(layout, &ColorProfile::new_srgb(), layout, options)
        .map_err(|e| format!("its colour profile cannot be applied: {e}"))?;
    let source = pixels.data.clone();
    transform
        .transform(&source, &mut pixels.data)
        .map_err(|e| format!("its colour profile cannot be applied: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_profiles_are_left_alone_and_wide_gamut_ones_are_not() {
        let srgb = ColorProfile::new_srgb().encode().expect("an sRGB profile");
        assert!(source_profile(&srgb).is_none());
        let p3 = ColorProfile::new_display_p3()
            .encode()
            .expect("a P3 profile");
        assert!(source_profile(&p3).is_some());
        assert!(source_profile(b"not a profile").is_none());
    }

    #[test]
    fn display_p3_becomes_the_srgb_a_colour_managed_browser_shows() {
        let p3 = ColorProfile::new_display_p3();
        // A P3 colour inside sRGB's gamut, converted by hand with the published matrix
        // (linear P3 → linear sRGB, D65 both) and the sRGB curve.
        let p3_in = [200u8, 120, 80];
        let linear = |v: u8| {
            let c = f64::from(v) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let encode = |c: f64| {
            let c = c.clamp(0.0, 1.0);
            let v = if c <= 0.003_130_8 {
                c * 12.92
            } else {
                1.055 * c.powf(1.0 / 2.4) - 0.055
            };
            (v * 255.0).round() as i32
        };
        let [r, g, b] = p3_in.map(linear);
        let expected = [
            encode(1.224_940 * r - 0.224_940 * g),
            encode(-0.042_057 * r + 1.042_057 * g),
            encode(-0.019_638 * r - 0.078_636 * g + 1.098_274 * b),
        ];
        let mut pixels = Pixels {
            data: p3_in.repeat(4),
            width: 2,
            height: 2,
            alpha: false,
        };
        to_srgb(&mut pixels, &p3).expect("converted");
        for (got, want) in pixels.data[..3].iter().zip(expected) {
            assert!(
                (i32::from(*got) - want).abs() <= 2,
                "{:?} against {expected:?}",
                &pixels.data[..3]
            );
        }
        assert_ne!(&pixels.data[..3], &p3_in, "the numbers must change");
    }
}
