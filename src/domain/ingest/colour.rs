//! Colour management: a photo's embedded ICC profile says what its numbers mean (Display
//! P3 on an iPhone, Adobe RGB from a camera). Renditions are converted to sRGB, which is
//! what every browser assumes of an untagged image, so they look like the original in a
//! colour-managed viewer; originals keep their numbers and their profile.
//!
//! The engine is moxcms (pure Rust, already inside `image`). Intent: relative colorimetric
//! (in-gamut colours exact, the rest clipped), as browsers render, with black-point
//! compensation (which moxcms lacks, so it is done here): it matters for profiles whose
//! black is not zero (print, CMYK). CMYK JPEGs are decoded here for their inks.

use moxcms::{
    ColorProfile, DataColorSpace, Layout, RenderingIntent, Transform8BitExecutor, TransformOptions,
};

use crate::domain::ingest::render::{Encoded, Pixels, RENDITION_QUALITY, THUMB_EDGE};

/// A source profile worth converting from: one that parses, describes RGB data and is not
/// sRGB already. Anything else (no profile, a broken one, grey data) is treated as sRGB, as
/// browsers do; CMYK JPEGs have their own way ([`cmyk_jpeg_to_srgb`]).
pub fn source_profile(icc: &[u8]) -> Option<ColorProfile> {
    let profile = ColorProfile::new_from_slice(icc).ok()?;
    if profile.color_space != DataColorSpace::Rgb || is_srgb(&profile) {
        return None;
    }
    Some(profile)
}

/// Whether renditions of a photo carrying `icc` differ from its plain numbers: an RGB
/// profile other than sRGB, or CMYK inks.
pub fn needs_conversion(icc: &[u8]) -> bool {
    source_profile(icc).is_some()
        || ColorProfile::new_from_slice(icc).is_ok_and(|p| p.color_space == DataColorSpace::Cmyk)
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

/// A CMYK JPEG's pixels through its CMYK profile to sRGB, or `None` when `icc` is not a
/// CMYK profile. `image` would hand over CMYK already turned into RGB by a formula that knows
/// no ink; the profile needs the inks, so the file is decoded for them instead. Photoshop
/// writes its CMYK inverted (an Adobe APP14 segment says so), as LittleCMS reads it.
pub fn cmyk_jpeg_to_srgb(bytes: &[u8], icc: &[u8]) -> Option<Result<Pixels, String>> {
    let profile = ColorProfile::new_from_slice(icc).ok()?;
    if profile.color_space != DataColorSpace::Cmyk {
        return None;
    }
    let transform = transform_to_srgb(&profile, Layout::Rgba, Layout::Rgb)?;
    Some(cmyk_pixels(bytes, &profile, transform.as_ref()))
}

fn cmyk_pixels(
    bytes: &[u8],
    profile: &ColorProfile,
    transform: &Transform8BitExecutor,
) -> Result<Pixels, String> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let decoder = |out| {
        let options = DecoderOptions::default().jpeg_set_out_colorspace(out);
        zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options)
    };
    let mut probe = decoder(ColorSpace::CMYK);
    probe.decode_headers().map_err(|e| e.to_string())?;
    // YCCK (Adobe's transform 2) comes out as its own four samples; the first three are
    // YCbCr of the inverted C, M and Y, so they become CMYK as libjpeg makes it.
    let ycck = probe.input_colorspace() == Some(ColorSpace::YCCK);
    let mut decoder = decoder(if ycck {
        ColorSpace::YCCK
    } else {
        ColorSpace::CMYK
    });
    let mut inks = decoder.decode().map_err(|e| e.to_string())?;
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| "it has no size".to_owned())?;
    if ycck {
        for px in inks.chunks_exact_mut(4) {
            let [y, cb, cr] = [px[0], px[1], px[2]].map(f32::from);
            let (cb, cr) = (cb - 128.0, cr - 128.0);
            let rgb = [
                y + 1.402 * cr,
                y - 0.344_136 * cb - 0.714_136 * cr,
                y + 1.772 * cb,
            ];
            for (ink, v) in px.iter_mut().zip(rgb) {
                *ink = 255 - v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    // APP14: FF EE, a two-byte length, then "Adobe".
    let adobe = bytes
        .windows(9)
        .any(|w| w[..2] == [0xFF, 0xEE] && &w[4..] == b"Adobe");
    if adobe {
        inks.iter_mut().for_each(|v| *v = 255 - *v);
    }
    let mut data = vec![0u8; inks.len() / 4 * 3];
    transform
        .transform(&inks, &mut data)
        .map_err(|e| format!("its colour profile cannot be applied: {e}"))?;
    compensate_black(&mut data, 3, black_of(profile, Layout::Rgba));
    Ok(Pixels {
        data,
        width: u32::try_from(width).map_err(|e| e.to_string())?,
        height: u32::try_from(height).map_err(|e| e.to_string())?,
        alpha: false,
    })
}

/// A transform from `profile` to sRGB: relative colorimetric, or perceptual where the
/// profile has tables for that intent alone (as LittleCMS falls back); `None` if neither
/// can be built, and the image is then shown as sRGB rather than refused.
fn transform_to_srgb(
    profile: &ColorProfile,
    from: Layout,
    to: Layout,
) -> Option<Box<Transform8BitExecutor>> {
    let srgb = ColorProfile::new_srgb();
    [
        RenderingIntent::RelativeColorimetric,
        RenderingIntent::Perceptual,
    ]
    .into_iter()
    .find_map(|rendering_intent| {
        let options = TransformOptions {
            rendering_intent,
            ..TransformOptions::default()
        };
        profile.create_transform_8bit(from, &srgb, to, options).ok()
    })
}

/// The display image as it is shown (converted from `profile`, if any, to sRGB) and the
/// thumbnail made from it. Converted after the shrink, as vips does: a quarter of the
/// pixels or fewer.
pub fn shown(
    mut display: Pixels,
    profile: Option<&ColorProfile>,
) -> Result<(Pixels, Encoded), String> {
    if let Some(profile) = profile {
        to_srgb(&mut display, profile)?;
    }
    let thumb = display.fit(THUMB_EDGE)?.encode(RENDITION_QUALITY)?;
    Ok((display, thumb))
}

/// Convert `pixels` from `profile` to sRGB in place (alpha untouched).
pub fn to_srgb(pixels: &mut Pixels, profile: &ColorProfile) -> Result<(), String> {
    let layout = if pixels.alpha {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    // A profile no transform can be built from: shown as sRGB, never refused for it.
    let Some(transform) = transform_to_srgb(profile, layout, layout) else {
        return Ok(());
    };
    let source = pixels.data.clone();
    transform
        .transform(&source, &mut pixels.data)
        .map_err(|e| format!("its colour profile cannot be applied: {e}"))?;
    let channels = if pixels.alpha { 4 } else { 3 };
    compensate_black(&mut pixels.data, channels, black_of(profile, layout));
    Ok(())
}

/// The relative luminance in sRGB of `profile`'s darkest colour (every ink at its full, or
/// RGB zero), as LittleCMS finds a black point: through the profile, relative colorimetric,
/// taken as neutral. Zero for the usual RGB profiles, whose black is black.
fn black_of(profile: &ColorProfile, layout: Layout) -> f32 {
    let options = TransformOptions {
        rendering_intent: RenderingIntent::RelativeColorimetric,
        ..TransformOptions::default()
    };
    let (darkest, src_layout): (&[f32], Layout) = match layout {
        Layout::Rgba if profile.color_space == DataColorSpace::Cmyk => (&[1.0; 4], Layout::Rgba),
        _ => (&[0.0; 3], Layout::Rgb),
    };
    let Ok(transform) =
        profile.create_transform_f32(src_layout, &ColorProfile::new_srgb(), Layout::Rgb, options)
    else {
        return 0.0;
    };
    let mut rgb = [0f32; 3];
    if transform.transform(darkest, &mut rgb).is_err() {
        return 0.0;
    }
    let [r, g, b] = rgb.map(linear);
    (0.2126 * r + 0.7152 * g + 0.0722 * b).clamp(0.0, 0.5)
}

/// Black-point compensation (LittleCMS's `-b`, what browsers and print tools apply): the
/// source's black, `black` in relative luminance, becomes sRGB's black and the tones between
/// it and white are scaled in linear light, so shadows stay black instead of the profile's
/// dark grey. A map in XYZ that keeps white and moves a neutral black is this same scale
/// on each linear sRGB channel.
fn compensate_black(data: &mut [u8], channels: usize, black: f32) {
    if black < 1e-4 {
        return;
    }
    let table: Vec<u8> = (0..=255u8)
        .map(|v| {
            let l = ((linear(f32::from(v) / 255.0) - black) / (1.0 - black)).max(0.0);
            (encode(l) * 255.0).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    for px in data.chunks_exact_mut(channels) {
        for v in &mut px[..3] {
            *v = table[usize::from(*v)];
        }
    }
}

/// The sRGB curve, from its encoded value to linear light.
fn linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// The sRGB curve, from linear light to its encoded value.
fn encode(l: f32) -> f32 {
    if l <= 0.003_130_8 {
        l * 12.92
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    }
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
