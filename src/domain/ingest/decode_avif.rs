//! AVIF pixels: the primary item's AV1 picture decoded by rav1d (`re_rav1d`: the pure-Rust
//! port of dav1d, BSD-2, with a safe API; our crate forbids `unsafe`), turned into 8-bit
//! RGB(A) here, with its alpha plane, then cropped, rotated and mirrored as the container's
//! `clap`, `irot` and `imir` say (in their order of association, as the standard wants).
//!
//! Not `avif-decode` (it needs rustc 1.98) nor `rav1d-safe`/`zenavif` (AGPL).

use heifer_isobmff::boxes::Property;
use heifer_isobmff::{HeifFile, ItemId};
use image::{DynamicImage, RgbaImage};
use re_rav1d::dav1d::{Decoder, Error as Av1Error, PixelLayout, PlanarImageComponent, Settings};

use crate::domain::ingest::bmff;
use crate::domain::ingest::render::Pixels;

/// A decoded AV1 picture's planes and what its sequence header says of its colour.
struct Planes {
    picture: re_rav1d::dav1d::Picture,
    /// Primaries and transfer of the coded stream (used when the container has no `colr`).
    colour: (u16, u16),
}

/// Decode the primary image: upright 8-bit pixels and the CICP primaries and transfer of
/// its stream, for when the container says nothing of its colour.
pub fn decode(file: &HeifFile<'_>, max_pixels: u64) -> Result<(Pixels, (u16, u16)), String> {
    let id = file.primary_id;
    let item = file.item(id).map_err(|e| e.to_string())?;
    if item.item_type.0 != *b"av01" {
        return Err(format!(
            "its image is an AVIF `{}` (a grid or overlay), which this server cannot decode",
            item.item_type
        ));
    }
    let planes = picture(file, id, max_pixels)?;
    let (matrix, full_range) = bmff::nclx(file, id).map_or_else(
        || {
            let p = &planes.picture;
            let full = p.color_range() == re_rav1d::dav1d::pixel::YUVRange::Full;
            (p.matrix_coefficients() as u16, full)
        },
        |(_, _, m, f)| (m, f),
    );
    let (width, height) = (planes.picture.width(), planes.picture.height());
    let mut rgba = to_rgba(&planes.picture, matrix, full_range);
    let alpha = match alpha_item(file, id) {
        Some(aux) => apply_alpha(&mut rgba, &picture(file, aux, max_pixels)?.picture)?,
        None => false,
    };
    let image = RgbaImage::from_raw(width, height, rgba).ok_or("its picture has no pixels")?;
    let image = transform(file, id, DynamicImage::ImageRgba8(image))?;
    let (width, height) = (image.width(), image.height());
    let data = if alpha {
        image.into_rgba8().into_raw()
    } else {
        image.into_rgb8().into_raw()
    };
    let pixels = Pixels {
        data,
        width,
        height,
        alpha,
    };
    Ok((pixels, planes.colour))
}

/// Decode item `id`'s AV1 picture, refusing one larger than `max_pixels` from its sequence
/// header (rav1d's frame size limit) before its pixels are decoded.
fn picture(file: &HeifFile<'_>, id: ItemId, max_pixels: u64) -> Result<Planes, String> {
    let data = file.item_data(id).map_err(|e| e.to_string())?.into_owned();
    let mut settings = Settings::new();
    // The decode pool runs one ingest per core: more threads per picture would only
    // compete with the others.
    settings.set_n_threads(1);
    settings.set_max_frame_delay(1);
    settings.set_frame_size_limit(u32::try_from(max_pixels).unwrap_or(u32::MAX));
    let mut decoder = Decoder::with_settings(&settings).map_err(|e| e.to_string())?;
    let failed = |e: Av1Error| format!("its AV1 picture does not decode ({e})");
    // `Again` from sending: the decoder holds the data until a picture is taken out.
    let mut pending = match decoder.send_data(data, None, None, None) {
        Ok(()) => false,
        Err(Av1Error::Again) => true,
        Err(e) => return Err(failed(e)),
    };
    let picture = loop {
        match decoder.get_picture() {
            Ok(picture) => break picture,
            Err(Av1Error::Again) if pending => match decoder.send_pending_data() {
                Ok(()) => pending = false,
                Err(Av1Error::Again) => {}
                Err(e) => return Err(failed(e)),
            },
            // Everything was sent and no picture came out (a stream of headers only, or
            // of frames never shown): nothing more will.
            Err(Av1Error::Again) => return Err("its AV1 stream holds no picture".into()),
            Err(e) => return Err(failed(e)),
        }
    };
    let colour = (
        picture.color_primaries() as u16,
        picture.transfer_characteristic() as u16,
    );
    Ok(Planes { picture, colour })
}

/// The item holding `id`'s alpha plane: an auxiliary image (`auxl`) of the alpha type.
fn alpha_item(file: &HeifFile<'_>, id: ItemId) -> Option<ItemId> {
    file.referencing_items(id, b"auxl")
        .into_iter()
        .find(|&aux| {
            bmff::properties(file, aux).any(|p| match p {
                Property::AuxiliaryType(urn) => {
                    urn == "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"
                        || urn == "urn:mpeg:hevc:2015:auxid:1"
                }
                _ => false,
            })
        })
}

/// A sample of `plane` (8 bits, or 16-bit little-endian words above 8 bits) at (`x`, `y`).
fn sample(plane: &[u8], stride: usize, high: bool, x: usize, y: usize) -> u16 {
    if high {
        let at = y * stride + 2 * x;
        u16::from_le_bytes([plane[at], plane[at + 1]])
    } else {
        u16::from(plane[y * stride + x])
    }
}

/// YCbCr to 8-bit RGBA with the matrix `matrix` (ITU-T H.273 code), at the picture's bit
/// depth, each chroma sample covering the pixels it was subsampled from.
fn to_rgba(picture: &re_rav1d::dav1d::Picture, matrix: u16, full_range: bool) -> Vec<u8> {
    let (w, h) = (picture.width() as usize, picture.height() as usize);
    let depth = picture.bit_depth() as i32;
    let high = depth > 8;
    let max = f32::from((1u16 << depth) - 1);
    let scale = f32::from(1u16 << (depth - 8));
    let (y_off, y_range, c_range) = if full_range {
        (0.0, max, max)
    } else {
        (16.0 * scale, 219.0 * scale, 224.0 * scale)
    };
    let half = f32::from(1u16 << (depth - 1));
    // Kr, Kb: BT.709, BT.2020, else (BT.601 and unspecified) BT.601, as libavif does.
    let (kr, kb) = match matrix {
        1 => (0.2126, 0.0722),
        9 | 10 => (0.2627, 0.0593),
        _ => (0.299, 0.114),
    };
    let kg = 1.0 - kr - kb;
    let layout = picture.pixel_layout();
    let (sx, sy) = match layout {
        PixelLayout::I420 => (1, 1),
        PixelLayout::I422 => (1, 0),
        _ => (0, 0),
    };
    let y_plane = picture.plane(PlanarImageComponent::Y);
    let y_stride = picture.stride(PlanarImageComponent::Y) as usize;
    let chroma = (layout != PixelLayout::I400).then(|| {
        (
            picture.plane(PlanarImageComponent::U),
            picture.plane(PlanarImageComponent::V),
            picture.stride(PlanarImageComponent::U) as usize,
        )
    });
    let to8 = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    let mut out = vec![255u8; w * h * 4];
    for (y, row) in out.chunks_exact_mut(w * 4).enumerate() {
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let luma = (f32::from(sample(&y_plane, y_stride, high, x, y)) - y_off) / y_range;
            let Some((u_plane, v_plane, c_stride)) = &chroma else {
                px[..3].fill(to8(luma));
                continue;
            };
            let (cx, cy) = (x >> sx, y >> sy);
            let cb = (f32::from(sample(u_plane, *c_stride, high, cx, cy)) - half) / c_range;
            let cr = (f32::from(sample(v_plane, *c_stride, high, cx, cy)) - half) / c_range;
            let [r, g, b] = if matrix == 0 {
                // Identity (GBR): the planes are G, B and R themselves.
                [cr + 0.5, luma, cb + 0.5]
            } else {
                let r = luma + 2.0 * (1.0 - kr) * cr;
                let b = luma + 2.0 * (1.0 - kb) * cb;
                [r, (luma - kr * r - kb * b) / kg, b]
            };
            px[..3].copy_from_slice(&[to8(r), to8(g), to8(b)]);
        }
    }
    out
}

/// Put the alpha picture's luma into `rgba`'s alpha; whether any pixel is not opaque.
fn apply_alpha(rgba: &mut [u8], alpha: &re_rav1d::dav1d::Picture) -> Result<bool, String> {
    let (w, h) = (alpha.width() as usize, alpha.height() as usize);
    if w * h * 4 != rgba.len() {
        return Err("its alpha plane is not the size of its image".into());
    }
    let depth = alpha.bit_depth() as u32;
    let high = depth > 8;
    let max = u32::from(u16::MAX >> (16 - depth));
    let limited = alpha.color_range() == re_rav1d::dav1d::pixel::YUVRange::Limited;
    let plane = alpha.plane(PlanarImageComponent::Y);
    let stride = alpha.stride(PlanarImageComponent::Y) as usize;
    let mut translucent = false;
    for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
        let v = u32::from(sample(&plane, stride, high, i % w, i / w));
        let v = if limited {
            let lo = 16 << (depth - 8);
            let span = 219 << (depth - 8);
            (v.saturating_sub(lo) * max / span).min(max)
        } else {
            v
        };
        px[3] = ((v * 255 + max / 2) / max) as u8;
        translucent |= px[3] != 255;
    }
    Ok(translucent)
}

/// The container's transformative properties of item `id`, in association order.
fn transform(
    file: &HeifFile<'_>,
    id: ItemId,
    mut image: DynamicImage,
) -> Result<DynamicImage, String> {
    for property in bmff::properties(file, id) {
        image = match *property {
            Property::CleanAperture {
                width,
                height,
                horiz_offset,
                vert_offset,
            } => clean_aperture(image, width, height, horiz_offset, vert_offset)?,
            // Anti-clockwise quarter turns.
            Property::Rotation(1) => image.rotate270(),
            Property::Rotation(2) => image.rotate180(),
            Property::Rotation(3) => image.rotate90(),
            // As heifer and libheif read `imir`: coded 0 exchanges top and bottom.
            Property::Mirror(true) => image.flipv(),
            Property::Mirror(false) => image.fliph(),
            _ => image,
        };
    }
    Ok(image)
}

/// Crop to the clean aperture: a centred rectangle, offset from the centre.
fn clean_aperture(
    image: DynamicImage,
    (wn, wd): (u32, u32),
    (hn, hd): (u32, u32),
    (xn, xd): (i32, u32),
    (yn, yd): (i32, u32),
) -> Result<DynamicImage, String> {
    let bad = || "its clean aperture is malformed".to_string();
    if wd == 0 || hd == 0 || xd == 0 || yd == 0 {
        return Err(bad());
    }
    let (fw, fh) = (f64::from(image.width()), f64::from(image.height()));
    let (w, h) = (f64::from(wn) / f64::from(wd), f64::from(hn) / f64::from(hd));
    let left = (fw - w) / 2.0 + f64::from(xn) / f64::from(xd);
    let top = (fh - h) / 2.0 + f64::from(yn) / f64::from(yd);
    let (left, top, w, h) = (left.round(), top.round(), w.round(), h.round());
    if left < 0.0 || top < 0.0 || w < 1.0 || h < 1.0 || left + w > fw || top + h > fh {
        return Err(bad());
    }
    Ok(image.crop_imm(left as u32, top as u32, w as u32, h as u32))
}

#[cfg(test)]
mod tests {
    use image::RgbImage;

    use super::*;

    #[test]
    fn the_clean_aperture_is_centred_and_checked() {
        let image = DynamicImage::ImageRgb8(RgbImage::new(10, 8));
        let cropped = clean_aperture(image.clone(), (6, 1), (4, 1), (0, 1), (0, 1));
        let cropped = cropped.expect("inside");
        assert_eq!((cropped.width(), cropped.height()), (6, 4));
        assert!(clean_aperture(image.clone(), (12, 1), (4, 1), (0, 1), (0, 1)).is_err());
        assert!(clean_aperture(image, (6, 0), (4, 1), (0, 1), (0, 1)).is_err());
    }
}
