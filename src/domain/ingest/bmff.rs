//! The HEIF container (HEIC and AVIF) as both decoders read it before any pixel: the
//! primary image's coding and upright size (for the limits and the decode pool's estimate),
//! and the colour space its numbers are in. Parsed with `heifer-isobmff` (heifer's own
//! container crate: MIT/Apache, no unsafe code).
//!
//! Orientation comes from the container's `irot`/`imir` only: the EXIF item of a HEIF file
//! is informative (ISO/IEC 23008-12), and applying it on top rotates a photo twice.

use heifer_isobmff::boxes::{ColorInfo, Property};
use heifer_isobmff::{HeifFile, ItemId};
use moxcms::{CicpColorPrimaries, CicpProfile, ColorProfile, MatrixCoefficients};

/// How the primary image's pixels are coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// HEVC (HEIC), possibly in a grid of tiles, as iPhones write.
    Hevc,
    /// AV1 (AVIF).
    Av1,
}

/// What the container says of its primary image.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    /// Width once upright (after `irot`).
    pub width: u32,
    /// Height once upright.
    pub height: u32,
    /// The coding of its pixels.
    pub coding: Coding,
}

/// The "bytes per pixel of the decoded frame" the decode pool is told for a HEIF image
/// (it counts two frames): an ingest holds about twice this per pixel at its peak, as
/// measured (bench/heif.sh): the decoder's planes, the assembled 8-bit RGBA canvas and a
/// rotated copy of it, the RGB pixels, and the full-size JPEG written from them.
pub const FRAME_BYTES_PER_PIXEL: u64 = 6;

/// The boxes before the media data: `ftyp` and `meta` come first in the files phones and
/// encoders write, so a header read from a file's first bytes parses without the rest.
/// The whole of `bytes` when its boxes cannot be walked.
pub fn meta_prefix(bytes: &[u8]) -> &[u8] {
    let mut at = 0usize;
    while let Some(head) = bytes.get(at..at + 8) {
        let size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let size = match size {
            1 => bytes
                .get(at + 8..at + 16)
                .map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8]))),
            0 => return bytes,
            n => n,
        };
        let Some(end) = usize::try_from(size).ok().and_then(|s| at.checked_add(s)) else {
            return bytes;
        };
        if &head[4..8] == b"meta" {
            return bytes.get(..end).unwrap_or(bytes);
        }
        if size < 8 {
            return bytes;
        }
        at = end;
    }
    bytes
}

/// Parse the container.
pub fn parse(bytes: &[u8]) -> Result<HeifFile<'_>, String> {
    HeifFile::parse(bytes).map_err(|e| format!("its HEIF container is damaged ({e})"))
}

/// The primary image's coding and upright size, from its `ispe` and `irot`.
pub fn header(file: &HeifFile<'_>) -> Result<Header, String> {
    let id = file.primary_id;
    let coding = coding(file, id, 0).ok_or_else(|| {
        let kind = file.primary_item().map(|i| i.item_type.to_string());
        format!(
            "its image is coded as {}, which this server cannot decode",
            kind.unwrap_or_default()
        )
    })?;
    let (w, h) = file
        .image_size(id)
        .map_err(|e| e.to_string())?
        .ok_or("its image has no declared size")?;
    let quarter_turns = properties(file, id)
        .filter_map(|p| match p {
            Property::Rotation(q) => Some(u32::from(*q)),
            _ => None,
        })
        .sum::<u32>();
    let (width, height) = if quarter_turns % 2 == 1 {
        (h, w)
    } else {
        (w, h)
    };
    Ok(Header {
        width,
        height,
        coding,
    })
}

/// The coding of item `id`: its own, or for a derived image (grid, overlay, identity) that
/// of its first input.
fn coding(file: &HeifFile<'_>, id: ItemId, depth: u32) -> Option<Coding> {
    let item = file.item(id).ok()?;
    match &item.item_type.0 {
        b"hvc1" => Some(Coding::Hevc),
        b"av01" => Some(Coding::Av1),
        b"grid" | b"iovl" | b"iden" if depth < 4 => {
            let first = *file.referenced_items(id, b"dimg").first()?;
            coding(file, first, depth + 1)
        }
        _ => None,
    }
}

/// The properties of item `id` (none when it has none or does not exist).
pub fn properties<'f>(file: &'f HeifFile<'_>, id: ItemId) -> impl Iterator<Item = &'f Property> {
    file.item_properties(id).into_iter().flatten()
}

/// The `nclx` colour of item `id` (or of a grid's first tile), if it declares one.
pub fn nclx(file: &HeifFile<'_>, id: ItemId) -> Option<(u16, u16, u16, bool)> {
    let of = |id| {
        properties(file, id).find_map(|p| match p {
            Property::Color(ColorInfo::Nclx {
                primaries,
                transfer,
                matrix,
                full_range,
            }) => Some((*primaries, *transfer, *matrix, *full_range)),
            _ => None,
        })
    };
    // One level only: a tile that points back at its grid must not loop.
    of(id).or_else(|| of(*file.referenced_items(id, b"dimg").first()?))
}

/// The ICC profile the primary image's numbers are in: its own (`colr prof`, as iPhones
/// write Display P3), else one built from its `nclx` primaries and transfer (or from the
/// coded stream's, `stream`), else `None`: sRGB. BT.709 primaries with the BT.709 or sRGB
/// curve are taken as sRGB, as browsers show them.
pub fn colour(file: &HeifFile<'_>, stream: Option<(u16, u16)>) -> Result<Option<Vec<u8>>, String> {
    let id = file.primary_id;
    if let Some(icc) = file.icc_profile(id).map_err(|e| e.to_string())? {
        return Ok(Some(icc.to_vec()));
    }
    let declared = nclx(file, id).map(|(p, t, _, _)| (p, t)).or(stream);
    Ok(declared.and_then(|(p, t)| cicp_profile(p, t)))
}

/// An ICC profile for the CICP (ITU-T H.273) `primaries` and `transfer`, or `None` for sRGB
/// and for code points that say nothing (unspecified, reserved).
pub fn cicp_profile(primaries: u16, transfer: u16) -> Option<Vec<u8>> {
    let srgb_like_primaries = matches!(primaries, 1 | 2);
    // BT.709, unspecified, BT.601, sRGB, BT.2020 10/12-bit: the curves SDR video and
    // photos use; browsers show them as sRGB's.
    let srgb_like_transfer = matches!(transfer, 1 | 2 | 6 | 13 | 14 | 15);
    if srgb_like_primaries && srgb_like_transfer {
        return None;
    }
    let color_primaries = CicpColorPrimaries::try_from(u8::try_from(primaries).ok()?).ok()?;
    let transfer_characteristics =
        moxcms::TransferCharacteristics::try_from(u8::try_from(transfer).ok()?).ok()?;
    // SDR transfers that moxcms would otherwise take literally (BT.709's camera curve) are
    // shown with sRGB's, as for BT.709 primaries above.
    let transfer_characteristics = if srgb_like_transfer {
        moxcms::TransferCharacteristics::Srgb
    } else {
        transfer_characteristics
    };
    let profile = ColorProfile::new_from_cicp(CicpProfile {
        color_primaries,
        transfer_characteristics,
        matrix_coefficients: MatrixCoefficients::Identity,
        full_range: true,
    });
    profile.encode().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_found_before_the_media_data() {
        let mut file = b"\0\0\0\x10ftypavif\0\0\0\0".to_vec();
        file.extend_from_slice(b"\0\0\0\x0cmeta\0\0\0\0");
        let meta_end = file.len();
        file.extend_from_slice(b"\0\0\x10\0mdat");
        assert_eq!(meta_prefix(&file).len(), meta_end);
        // A box that claims more than there is: everything is kept.
        assert_eq!(meta_prefix(b"\0\0\x10\0ftyp").len(), 8);
    }

    #[test]
    fn srgb_needs_no_profile_and_wide_gamuts_get_one() {
        assert!(cicp_profile(1, 13).is_none(), "sRGB");
        assert!(cicp_profile(1, 1).is_none(), "BT.709");
        assert!(cicp_profile(2, 2).is_none(), "unspecified");
        for (primaries, transfer) in [(12, 13), (9, 14), (9, 1)] {
            let icc = cicp_profile(primaries, transfer).expect("a profile");
            let profile = ColorProfile::new_from_slice(&icc).expect("it parses");
            assert_eq!(profile.color_space, moxcms::DataColorSpace::Rgb);
        }
    }
}
