//! The item properties the pipeline needs, read from their boxes, and a grid item's data.

use super::boxes::Reader;
use super::error::HeifError;
use super::meta::RawProperty;

/// A clean aperture (`clap`): a crop centred on the image's centre plus an offset, each
/// value a fraction as the box writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CleanAperture {
    /// Width as numerator, denominator.
    pub width: (u32, u32),
    /// Height as numerator, denominator.
    pub height: (u32, u32),
    /// Horizontal offset of the centre.
    pub horizontal_offset: (i32, u32),
    /// Vertical offset of the centre.
    pub vertical_offset: (i32, u32),
}

impl CleanAperture {
    /// The crop of a `width` × `height` image as `(left, top, width, height)`, rounded as
    /// libheif rounds it and kept inside the image.
    pub fn rect(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let frac = |(n, d): (u32, u32)| f64::from(n) / f64::from(d);
        let signed = |(n, d): (i32, u32)| f64::from(n) / f64::from(d);
        let axis = |size: u32, crop: f64, offset: f64| {
            let crop = crop.round().clamp(1.0, f64::from(size.max(1)));
            let centre = offset + (f64::from(size) - 1.0) / 2.0;
            let start = (centre - (crop - 1.0) / 2.0).round();
            let start = start.clamp(0.0, f64::from(size) - crop);
            // Both are within 0..=size here, so the casts are exact.
            (start as u32, crop as u32)
        };
        let (left, w) = axis(width, frac(self.width), signed(self.horizontal_offset));
        let (top, h) = axis(height, frac(self.height), signed(self.vertical_offset));
        (left, top, w, h)
    }
}

/// Which way `imir` mirrors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mirror {
    /// About a vertical axis (`axis` 0): left and right swap.
    LeftRight,
    /// About a horizontal axis (`axis` 1): top and bottom swap.
    TopBottom,
}

/// A transformative property, applied in the order the item lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// `clap`.
    Crop(CleanAperture),
    /// `irot`: anticlockwise by this many degrees (0, 90, 180 or 270).
    Rotate(u16),
    /// `imir`.
    Mirror(Mirror),
}

/// The colour of `nclx`: coding-independent code points (ITU-T H.273).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nclx {
    /// Colour primaries (1 = BT.709/sRGB, 12 = P3 D65).
    pub primaries: u16,
    /// Transfer characteristics (13 = sRGB, 16 = PQ, 18 = HLG).
    pub transfer: u16,
    /// Matrix coefficients (0 = identity/RGB, 1 = BT.709, 6 = BT.601).
    pub matrix: u16,
    /// Full-range samples.
    pub full_range: bool,
}

/// An image's colour: an ICC profile, code points, both or neither (neither means sRGB).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Colour {
    /// The profile of a `prof` or `rICC` `colr`.
    pub icc: Option<Vec<u8>>,
    /// The code points of an `nclx` `colr`.
    pub nclx: Option<Nclx>,
}

/// A property as the parser understands it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Property<'a> {
    Size(u32, u32),
    Transform(Transform),
    Icc(&'a [u8]),
    Nclx(Nclx),
    BitDepths(Vec<u8>),
    /// `hvcC` or `av1C`: the decoder configuration.
    Config(&'a [u8]),
    /// `auxC`: what an auxiliary image is, as a URN.
    Auxiliary(&'a [u8]),
    Other,
}

/// The property types the rewrite keeps: none of them can carry text or personal data.
/// (`colr` holds ICC bytes, whose description tags name a colour space, not a person.)
pub(super) const KEPT: [&[u8; 4]; 19] = [
    b"ispe", b"pixi", b"colr", b"irot", b"imir", b"clap", b"hvcC", b"av1C", b"auxC", b"pasp",
    b"lsel", b"a1op", b"a1lx", b"clli", b"mdcv", b"cclv", b"amve", b"rloc", b"iscl",
];

/// Alpha planes by their `auxC` URN (MPEG-B CICP, and HEVC's older one).
pub(super) fn is_alpha_urn(urn: &[u8]) -> bool {
    urn == b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha" || urn == b"urn:mpeg:hevc:2015:auxid:1"
}

pub(super) fn parse(p: RawProperty<'_>) -> Result<Property<'_>, HeifError> {
    let mut r = Reader::new(p.body);
    let full = |r: &mut Reader<'_>, what: &str| r.full_header(what).map(|(v, _)| v);
    Ok(match &p.kind {
        b"ispe" => {
            full(&mut r, "ispe")?;
            Property::Size(r.u32("ispe")?, r.u32("ispe")?)
        }
        b"irot" => Property::Transform(Transform::Rotate(u16::from(r.u8("irot")? & 3) * 90)),
        b"imir" => Property::Transform(Transform::Mirror(if r.u8("imir")? & 1 == 0 {
            Mirror::LeftRight
        } else {
            Mirror::TopBottom
        })),
        b"clap" => {
            let mut v = [0u32; 8];
            for x in &mut v {
                *x = r.u32("clap")?;
            }
            if v[1] == 0 || v[3] == 0 || v[5] == 0 || v[7] == 0 {
                return Err(HeifError::corrupt("clap has a zero denominator".into()));
            }
            Property::Transform(Transform::Crop(CleanAperture {
                width: (v[0], v[1]),
                height: (v[2], v[3]),
                horizontal_offset: (v[4] as i32, v[5]),
                vertical_offset: (v[6] as i32, v[7]),
            }))
        }
        b"colr" => match &r.fourcc("colr")? {
            b"nclx" => Property::Nclx(Nclx {
                primaries: r.u16("colr")?,
                transfer: r.u16("colr")?,
                matrix: r.u16("colr")?,
                full_range: r.u8("colr")? & 0x80 != 0,
            }),
            b"prof" | b"rICC" => Property::Icc(r.rest()),
            _ => Property::Other,
        },
        b"pixi" => {
            full(&mut r, "pixi")?;
            let n = r.u8("pixi")?;
            Property::BitDepths(r.take(usize::from(n), "pixi")?.to_vec())
        }
        b"hvcC" | b"av1C" => Property::Config(p.body),
        b"auxC" => {
            full(&mut r, "auxC")?;
            Property::Auxiliary(r.cstr())
        }
        _ => Property::Other,
    })
}

/// The bit depth a decoder configuration declares (luma for HEVC).
pub(super) fn config_bit_depth(kind: &[u8; 4], config: &[u8]) -> Option<u8> {
    match kind {
        b"hvcC" => config.get(17).map(|b| (b & 7) + 8),
        b"av1C" => config.get(2).map(|b| match (b & 0x40 != 0, b & 0x20 != 0) {
            (true, true) => 12,
            (true, false) => 10,
            _ => 8,
        }),
        _ => None,
    }
}

/// A `grid` item's data: its tiles' arrangement and the output size.
pub(super) struct Grid {
    pub(super) rows: u32,
    pub(super) columns: u32,
    pub(super) width: u32,
    pub(super) height: u32,
}

pub(super) fn parse_grid(data: &[u8]) -> Result<Grid, HeifError> {
    let mut r = Reader::new(data);
    if r.u8("grid")? != 0 {
        return Err(HeifError::Unsupported(
            "a grid of an unknown version".into(),
        ));
    }
    let wide = r.u8("grid")? & 1 == 1;
    let rows = u32::from(r.u8("grid")?) + 1;
    let columns = u32::from(r.u8("grid")?) + 1;
    let (width, height) = if wide {
        (r.u32("grid")?, r.u32("grid")?)
    } else {
        (u32::from(r.u16("grid")?), u32::from(r.u16("grid")?))
    };
    if width == 0 || height == 0 {
        return Err(HeifError::corrupt(format!("a grid of {width}×{height}")));
    }
    Ok(Grid {
        rows,
        columns,
        width,
        height,
    })
}
