//! What a HEIF/AVIF file shows: its primary image, read from the file's boxes.

use std::collections::BTreeSet;

use super::boxes::{FourCc, children};
use super::error::HeifError;
use super::meta::{self, Meta};
use super::props::{self, Colour, Property, Transform, config_bit_depth, is_alpha_urn};

/// Which family the file belongs to, by the codec of its primary image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Brand {
    /// HEVC-coded (HEIC).
    Heic,
    /// AV1-coded (AVIF).
    Avif,
}

/// A coding format of image items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// `hvc1`, configured by `hvcC`.
    Hevc,
    /// `av01`, configured by `av1C`.
    Av1,
}

/// One coded image item: what a decoder is handed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coded {
    /// Its item id (for [`item_data`](crate::domain::ingest::heif::item_data)).
    pub item: u32,
    /// Its size (`ispe`).
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// The body of its `hvcC` or `av1C` box.
    pub config: Vec<u8>,
}

/// How an image is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One coded item.
    Single,
    /// A `grid` of coded tiles, row by row.
    Grid {
        /// Rows of tiles.
        rows: u32,
        /// Tiles per row.
        columns: u32,
    },
}

/// An image (the primary, or its alpha plane).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Its item id.
    pub item: u32,
    /// Its coding format.
    pub codec: Codec,
    /// One item or a grid.
    pub layout: Layout,
    /// Output width before any transform (the grid's output width for a grid).
    pub width: u32,
    /// Output height before any transform.
    pub height: u32,
    /// The coded items: the image itself, or the grid's tiles in order.
    pub tiles: Vec<Coded>,
    /// Bits per sample (of the first channel, from `pixi` or the decoder configuration).
    pub bit_depth: u8,
}

impl Image {
    /// Pixels the decoder has to produce: the tiles' sizes added up.
    pub fn decoded_pixels(&self) -> u64 {
        self.tiles
            .iter()
            .map(|t| u64::from(t.width) * u64::from(t.height))
            .sum()
    }
}

/// The primary image of a HEIF/AVIF file and what showing it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heif {
    /// HEIC or AVIF.
    pub brand: Brand,
    /// The primary image.
    pub primary: Image,
    /// Its transforms in the order they apply (`clap`, `irot`, `imir` as listed).
    pub transforms: Vec<Transform>,
    /// Its colour.
    pub colour: Colour,
    /// Its alpha plane, if it has one.
    pub alpha: Option<Image>,
    /// The TIFF bytes of the Exif item describing it (after the item's 4-byte offset).
    pub exif: Option<Vec<u8>>,
    /// Every item in the file: id, type and (for `mime` items) content type.
    pub items: Vec<(u32, FourCc, String)>,
}

impl Heif {
    /// The size as displayed: after the crop and the rotation.
    pub fn upright_size(&self) -> (u32, u32) {
        let (mut w, mut h) = (self.primary.width, self.primary.height);
        for t in &self.transforms {
            match t {
                Transform::Crop(clap) => (_, _, w, h) = clap.rect(w, h),
                Transform::Rotate(90 | 270) => (w, h) = (h, w),
                _ => {}
            }
        }
        (w, h)
    }
}

/// Ftyp brands of HEIF still images; a file has to name one of them.
const STILL_BRANDS: [&[u8; 4]; 10] = [
    b"mif1", b"heic", b"heix", b"heim", b"heis", b"avif", b"miaf", b"mif2", b"avio", b"MA1B",
];

/// The boxes of a file's top level that count: its brands and its `meta` body.
pub(super) struct TopLevel<'a> {
    pub(super) ftyp: &'a [u8],
    pub(super) meta: &'a [u8],
}

pub(super) fn top_level(file: &[u8]) -> Result<TopLevel<'_>, HeifError> {
    let mut boxes = children(file);
    let ftyp = match boxes.next() {
        Some(Ok(b)) if b.kind == *b"ftyp" => b.body,
        Some(Err(e)) => return Err(e),
        _ => {
            return Err(HeifError::corrupt(
                "the file does not begin with ftyp".into(),
            ));
        }
    };
    if ftyp.len() < 8 || ftyp.len() % 4 != 0 {
        return Err(HeifError::corrupt("ftyp is malformed".into()));
    }
    let brands = std::iter::once(&ftyp[..4]).chain(ftyp[8..].chunks(4));
    if !brands
        .into_iter()
        .any(|b| STILL_BRANDS.iter().any(|s| &s[..] == b))
    {
        return Err(HeifError::Unsupported(
            "the file names no HEIF image brand (an image sequence or a video?)".into(),
        ));
    }
    let mut meta = None;
    for b in boxes {
        let b = b?;
        if b.kind == *b"meta" {
            if meta.is_some() {
                return Err(HeifError::corrupt("two meta boxes".into()));
            }
            meta = Some(b.body);
        }
    }
    let meta = meta.ok_or_else(|| {
        HeifError::Unsupported("the file has no still image (no meta box)".into())
    })?;
    Ok(TopLevel { ftyp, meta })
}

/// Parse a whole file.
pub fn parse(file: &[u8]) -> Result<Heif, HeifError> {
    let top = top_level(file)?;
    let meta = meta::parse(top.meta)?;
    describe(file, &meta)
}

pub(super) fn describe(file: &[u8], meta: &Meta<'_>) -> Result<Heif, HeifError> {
    if meta.handler != *b"pict" {
        return Err(HeifError::Unsupported(format!(
            "the meta handler is “{}”, not pict",
            String::from_utf8_lossy(&meta.handler)
        )));
    }
    let id = meta
        .primary
        .ok_or_else(|| HeifError::corrupt("no primary item (pitm)".into()))?;
    let primary = image(file, meta, id)?;
    let mut transforms = Vec::new();
    let mut colour = Colour::default();
    let first_tile = primary.tiles.first().map(|t| t.item).filter(|&t| t != id);
    // A grid without colour of its own takes its tiles' (libheif does the same).
    for item in [Some(id), first_tile].into_iter().flatten() {
        for (_, p) in meta.properties_of(item) {
            match props::parse(p)? {
                Property::Transform(t) if item == id => transforms.push(t),
                Property::Icc(icc) if colour.icc.is_none() => colour.icc = Some(icc.to_vec()),
                Property::Nclx(n) if colour.nclx.is_none() => colour.nclx = Some(n),
                _ => {}
            }
        }
    }
    let mut alpha = None;
    for aux in meta.refs_to(id, b"auxl") {
        let is_alpha = meta.properties_of(aux).any(
            |(_, p)| matches!(props::parse(p), Ok(Property::Auxiliary(urn)) if is_alpha_urn(urn)),
        );
        if is_alpha && alpha.is_none() && aux != id {
            alpha = Some(image(file, meta, aux)?);
        }
    }
    let described: BTreeSet<u32> = meta.refs_to(id, b"cdsc").into_iter().collect();
    let exif = meta
        .items
        .iter()
        .filter(|i| i.kind == *b"Exif")
        .find(|i| described.contains(&i.id))
        .or_else(|| meta.items.iter().find(|i| i.kind == *b"Exif"))
        // Exif is read for its orientation only and never kept: a damaged one is no reason to
        // refuse the photo.
        .and_then(|i| meta.item_data(file, i.id).ok())
        .and_then(|data| {
            let skip = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
            data.get(4usize.checked_add(skip)?..).map(<[u8]>::to_vec)
        });
    Ok(Heif {
        brand: match primary.codec {
            Codec::Hevc => Brand::Heic,
            Codec::Av1 => Brand::Avif,
        },
        primary,
        transforms,
        colour,
        alpha,
        exif,
        items: meta
            .items
            .iter()
            .map(|i| {
                (
                    i.id,
                    i.kind,
                    String::from_utf8_lossy(i.content_type).into_owned(),
                )
            })
            .collect(),
    })
}

/// An image item: a coded one, or a grid of coded ones (never a grid of grids, which is
/// also what keeps a `dimg` loop from going round).
fn image(file: &[u8], meta: &Meta<'_>, id: u32) -> Result<Image, HeifError> {
    let item = meta
        .item(id)
        .ok_or_else(|| HeifError::corrupt(format!("item {id} is not declared")))?;
    if item.kind == *b"grid" {
        let data = meta.item_data(file, id)?;
        let grid = props::parse_grid(&data)?;
        let tile_ids = meta.refs_from(id, b"dimg");
        let expected = u64::from(grid.rows) * u64::from(grid.columns);
        if tile_ids.len() as u64 != expected {
            return Err(HeifError::corrupt(format!(
                "a {}×{} grid has {} tiles",
                grid.columns,
                grid.rows,
                tile_ids.len()
            )));
        }
        let mut seen = BTreeSet::new();
        let mut tiles = Vec::with_capacity(tile_ids.len());
        let mut codec = None;
        for tile in tile_ids {
            if tile == id || !seen.insert(tile) {
                return Err(HeifError::corrupt(format!("grid {id} repeats tile {tile}")));
            }
            let (c, coded) = coded(meta, tile)?;
            if codec.is_some_and(|k| k != c) {
                return Err(HeifError::corrupt("a grid mixes codecs".into()));
            }
            codec = Some(c);
            tiles.push(coded);
        }
        let (tw, th) = tiles
            .first()
            .map(|t| (t.width, t.height))
            .unwrap_or_default();
        if u64::from(grid.width) > u64::from(tw) * u64::from(grid.columns)
            || u64::from(grid.height) > u64::from(th) * u64::from(grid.rows)
        {
            return Err(HeifError::corrupt(format!(
                "grid {id} is larger than its tiles cover"
            )));
        }
        let bit_depth = bit_depth(meta, id)
            .or_else(|| tiles.first().and_then(|t| bit_depth(meta, t.item)))
            .unwrap_or(8);
        return Ok(Image {
            item: id,
            codec: codec.unwrap_or(Codec::Hevc),
            layout: Layout::Grid {
                rows: grid.rows,
                columns: grid.columns,
            },
            width: grid.width,
            height: grid.height,
            tiles,
            bit_depth,
        });
    }
    let (codec, single) = coded(meta, id)?;
    Ok(Image {
        item: id,
        codec,
        layout: Layout::Single,
        width: single.width,
        height: single.height,
        bit_depth: bit_depth(meta, id).unwrap_or(8),
        tiles: vec![single],
    })
}

fn coded(meta: &Meta<'_>, id: u32) -> Result<(Codec, Coded), HeifError> {
    let item = meta
        .item(id)
        .ok_or_else(|| HeifError::corrupt(format!("item {id} is not declared")))?;
    let (codec, config_kind) = match &item.kind {
        b"hvc1" => (Codec::Hevc, b"hvcC"),
        b"av01" => (Codec::Av1, b"av1C"),
        other => {
            return Err(HeifError::Unsupported(format!(
                "item {id} is coded as “{}”",
                String::from_utf8_lossy(other)
            )));
        }
    };
    let mut size = None;
    let mut config = None;
    for (_, p) in meta.properties_of(id) {
        match props::parse(p)? {
            Property::Size(w, h) if size.is_none() => size = Some((w, h)),
            Property::Config(c) if p.kind == *config_kind && config.is_none() => {
                config = Some(c.to_vec());
            }
            _ => {}
        }
    }
    let (width, height) =
        size.ok_or_else(|| HeifError::corrupt(format!("item {id} has no size (ispe)")))?;
    if width == 0 || height == 0 {
        return Err(HeifError::corrupt(format!("item {id} is {width}×{height}")));
    }
    let config = config.ok_or_else(|| {
        HeifError::corrupt(format!(
            "item {id} has no {}",
            String::from_utf8_lossy(config_kind)
        ))
    })?;
    Ok((
        codec,
        Coded {
            item: id,
            width,
            height,
            config,
        },
    ))
}

fn bit_depth(meta: &Meta<'_>, id: u32) -> Option<u8> {
    let mut from_config = None;
    for (_, p) in meta.properties_of(id) {
        match props::parse(p) {
            Ok(Property::BitDepths(d)) if !d.is_empty() => return Some(d[0]),
            Ok(Property::Config(c)) => from_config = config_bit_depth(&p.kind, c),
            _ => {}
        }
    }
    from_config
}
