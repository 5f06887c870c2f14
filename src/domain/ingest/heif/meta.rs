//! The `meta` box as it is written: items, their locations, references and property
//! associations, before any judgement of what the image is.

use std::collections::BTreeMap;

use super::boxes::{FourCc, Reader, children};
use super::error::HeifError;

/// More items than any real file has (a 256 × 256 grid is 65 536 tiles); past this a file is
/// an attack on our memory, not a photo.
const MAX_ITEMS: usize = 70_000;
/// Extents over all items; real files have one per item.
const MAX_EXTENTS: usize = 140_000;

/// An entry of `iinf`.
#[derive(Clone, Debug)]
pub(super) struct Item<'a> {
    pub(super) id: u32,
    pub(super) kind: FourCc,
    pub(super) hidden: bool,
    /// The MIME type of a `mime` item (XMP is `application/rdf+xml`).
    pub(super) content_type: &'a [u8],
}

/// Where an item's bytes are: in the file (method 0) or in `idat` (method 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Location {
    pub(super) in_idat: bool,
    /// Absolute (base offset added), each `(offset, length)`; a length of 0 runs to the end.
    pub(super) extents: Vec<(u64, u64)>,
}

/// One reference of `iref`: `from` refers to each of `to` as `kind` says.
#[derive(Clone, Debug)]
pub(super) struct Reference {
    pub(super) kind: FourCc,
    pub(super) from: u32,
    pub(super) to: Vec<u32>,
}

/// A property of `ipco` as written (the whole box, kept for the rewrite).
#[derive(Clone, Copy, Debug)]
pub(super) struct RawProperty<'a> {
    pub(super) kind: FourCc,
    pub(super) body: &'a [u8],
}

/// An `ipma` association: a 0-based index into the properties, and whether it is essential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Association {
    pub(super) index: usize,
    pub(super) essential: bool,
}

/// A parsed `meta` box.
#[derive(Debug, Default)]
pub(super) struct Meta<'a> {
    pub(super) handler: FourCc,
    pub(super) primary: Option<u32>,
    pub(super) items: Vec<Item<'a>>,
    /// Item id → its place in `items` (a grid of 65 536 tiles looked up one by one would
    /// otherwise cost billions of comparisons).
    index: BTreeMap<u32, usize>,
    pub(super) locations: BTreeMap<u32, Location>,
    pub(super) references: Vec<Reference>,
    pub(super) properties: Vec<RawProperty<'a>>,
    pub(super) associations: BTreeMap<u32, Vec<Association>>,
    pub(super) idat: &'a [u8],
}

impl<'a> Meta<'a> {
    pub(super) fn item(&self, id: u32) -> Option<&Item<'a>> {
        self.index.get(&id).map(|&i| &self.items[i])
    }

    /// The items `from` refers to by `kind`, in reference order.
    pub(super) fn refs_from(&self, from: u32, kind: &FourCc) -> Vec<u32> {
        self.references
            .iter()
            .filter(|r| r.from == from && r.kind == *kind)
            .flat_map(|r| r.to.iter().copied())
            .collect()
    }

    /// The items referring to `to` by `kind`.
    pub(super) fn refs_to(&self, to: u32, kind: &FourCc) -> Vec<u32> {
        self.references
            .iter()
            .filter(|r| r.kind == *kind && r.to.contains(&to))
            .map(|r| r.from)
            .collect()
    }

    /// An item's properties in association order.
    pub(super) fn properties_of(
        &self,
        id: u32,
    ) -> impl Iterator<Item = (Association, RawProperty<'a>)> {
        self.associations
            .get(&id)
            .into_iter()
            .flatten()
            .map(|a| (*a, self.properties[a.index]))
    }

    /// An item's bytes, its extents joined.
    pub(super) fn item_data(&self, file: &[u8], id: u32) -> Result<Vec<u8>, HeifError> {
        let Some(loc) = self.locations.get(&id) else {
            return Ok(Vec::new());
        };
        let source = if loc.in_idat { self.idat } else { file };
        let mut out = Vec::new();
        for &(offset, length) in &loc.extents {
            let bytes = extent(source, offset, length).ok_or_else(|| {
                HeifError::corrupt(format!("item {id}'s data lies past the end of the file"))
            })?;
            // Extents may overlap; joined, they still never come to more than their source.
            if out.len() + bytes.len() > source.len() {
                return Err(HeifError::corrupt(format!(
                    "item {id}'s extents add up to more than the file"
                )));
            }
            out.extend_from_slice(bytes);
        }
        Ok(out)
    }
}

/// The bytes of one extent, or `None` when the file does not hold them.
pub(super) fn extent(source: &[u8], offset: u64, length: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = if length == 0 {
        source.len()
    } else {
        start.checked_add(usize::try_from(length).ok()?)?
    };
    source.get(start..end)
}

/// Parse the body of a `meta` box (a full box: version and flags first).
pub(super) fn parse(body: &[u8]) -> Result<Meta<'_>, HeifError> {
    let mut r = Reader::new(body);
    r.full_header("meta")?;
    let mut meta = Meta::default();
    let mut seen: Vec<FourCc> = Vec::new();
    for b in children(r.rest()) {
        let b = b?;
        let once = [
            b"hdlr", b"pitm", b"iinf", b"iloc", b"iref", b"iprp", b"idat",
        ];
        if once.contains(&&b.kind) {
            if seen.contains(&b.kind) {
                return Err(HeifError::corrupt(format!(
                    "two “{}” boxes in meta",
                    String::from_utf8_lossy(&b.kind)
                )));
            }
            seen.push(b.kind);
        }
        match &b.kind {
            b"hdlr" => {
                let mut r = Reader::new(b.body);
                r.full_header("hdlr")?;
                r.u32("hdlr")?;
                meta.handler = r.fourcc("hdlr")?;
            }
            b"pitm" => {
                let mut r = Reader::new(b.body);
                let (version, _) = r.full_header("pitm")?;
                meta.primary = Some(r.item_id(version > 0, "pitm")?);
            }
            b"iinf" => (meta.items, meta.index) = parse_iinf(b.body)?,
            b"iloc" => meta.locations = parse_iloc(b.body)?,
            b"iref" => meta.references = parse_iref(b.body)?,
            b"iprp" => parse_iprp(b.body, &mut meta)?,
            b"idat" => meta.idat = b.body,
            _ => {}
        }
    }
    Ok(meta)
}

type Items<'a> = (Vec<Item<'a>>, BTreeMap<u32, usize>);

fn parse_iinf(body: &[u8]) -> Result<Items<'_>, HeifError> {
    let mut r = Reader::new(body);
    let (version, _) = r.full_header("iinf")?;
    r.uint(if version == 0 { 2 } else { 4 }, "iinf")?;
    let mut items: Vec<Item<'_>> = Vec::new();
    let mut index = BTreeMap::new();
    for b in children(r.rest()) {
        let b = b?;
        if b.kind != *b"infe" {
            continue;
        }
        if items.len() >= MAX_ITEMS {
            return Err(HeifError::corrupt(format!("more than {MAX_ITEMS} items")));
        }
        let mut r = Reader::new(b.body);
        let (version, flags) = r.full_header("infe")?;
        if version < 2 {
            // Versions 0 and 1 describe files, not images; HEIF writes 2 and 3.
            continue;
        }
        let id = r.item_id(version > 2, "infe")?;
        if r.u16("infe")? != 0 {
            return Err(HeifError::Unsupported(format!("item {id} is protected")));
        }
        let kind = r.fourcc("infe")?;
        r.cstr();
        let content_type = if kind == *b"mime" { r.cstr() } else { &[] };
        if index.insert(id, items.len()).is_some() {
            return Err(HeifError::corrupt(format!("item {id} is declared twice")));
        }
        items.push(Item {
            id,
            kind,
            hidden: flags & 1 == 1,
            content_type,
        });
    }
    Ok((items, index))
}

fn parse_iloc(body: &[u8]) -> Result<BTreeMap<u32, Location>, HeifError> {
    let mut r = Reader::new(body);
    let (version, _) = r.full_header("iloc")?;
    if version > 2 {
        return Err(HeifError::Unsupported(format!("iloc version {version}")));
    }
    let sizes = r.u16("iloc")?;
    let field = |shift: u16| ((sizes >> shift) & 0xF) as u8;
    let (offset_size, length_size, base_size) = (field(12), field(8), field(4));
    let index_size = if version == 0 { 0 } else { field(0) };
    let count = if version < 2 {
        u64::from(r.u16("iloc")?)
    } else {
        u64::from(r.u32("iloc")?)
    };
    let min_item = 2 + 2 + usize::from(base_size) + 2;
    let count = r.check_count(count, min_item, "iloc")?;
    let mut out = BTreeMap::new();
    let mut total_extents = 0usize;
    for _ in 0..count {
        let id = r.item_id(version == 2, "iloc")?;
        let method = if version == 0 {
            0
        } else {
            r.u16("iloc")? & 0xF
        };
        if r.u16("iloc")? != 0 {
            return Err(HeifError::Unsupported(format!(
                "item {id}'s data is in another file"
            )));
        }
        let base = r.uint(base_size, "iloc")?;
        let extent_bytes = usize::from(index_size + offset_size + length_size);
        let n = u64::from(r.u16("iloc")?);
        let n = r.check_count(n, extent_bytes, "iloc extents")?;
        if extent_bytes == 0 && n > 1 {
            return Err(HeifError::corrupt(format!(
                "item {id} has {n} empty extents"
            )));
        }
        total_extents += n;
        if total_extents > MAX_EXTENTS {
            return Err(HeifError::corrupt(format!(
                "more than {MAX_EXTENTS} extents"
            )));
        }
        let mut extents = Vec::with_capacity(n);
        for _ in 0..n {
            r.uint(index_size, "iloc")?;
            let offset = r.uint(offset_size, "iloc")?;
            let length = r.uint(length_size, "iloc")?;
            let offset = base
                .checked_add(offset)
                .ok_or_else(|| HeifError::corrupt(format!("item {id}'s offset overflows")))?;
            extents.push((offset, length));
        }
        let in_idat = match method {
            0 => false,
            1 => true,
            m => {
                return Err(HeifError::Unsupported(format!(
                    "item {id} uses construction method {m}"
                )));
            }
        };
        if out.insert(id, Location { in_idat, extents }).is_some() {
            return Err(HeifError::corrupt(format!("item {id} is located twice")));
        }
    }
    Ok(out)
}

fn parse_iref(body: &[u8]) -> Result<Vec<Reference>, HeifError> {
    let mut r = Reader::new(body);
    let (version, _) = r.full_header("iref")?;
    let wide = version > 0;
    let mut out = Vec::new();
    for b in children(r.rest()) {
        let b = b?;
        let mut r = Reader::new(b.body);
        let from = r.item_id(wide, "iref")?;
        let count = u64::from(r.u16("iref")?);
        let count = r.check_count(count, if wide { 4 } else { 2 }, "iref")?;
        let to = (0..count)
            .map(|_| r.item_id(wide, "iref"))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Reference {
            kind: b.kind,
            from,
            to,
        });
    }
    Ok(out)
}

fn parse_iprp<'a>(body: &'a [u8], meta: &mut Meta<'a>) -> Result<(), HeifError> {
    let ipco = super::boxes::only(body, b"ipco")?
        .ok_or_else(|| HeifError::corrupt("iprp has no ipco".into()))?;
    for b in children(ipco.body) {
        let b = b?;
        meta.properties.push(RawProperty {
            kind: b.kind,
            body: b.body,
        });
    }
    for b in children(body) {
        let b = b?;
        if b.kind != *b"ipma" {
            continue;
        }
        let mut r = Reader::new(b.body);
        let (version, flags) = r.full_header("ipma")?;
        let wide_index = flags & 1 == 1;
        let count = u64::from(r.u32("ipma")?);
        let count = r.check_count(count, if version < 1 { 3 } else { 5 }, "ipma")?;
        for _ in 0..count {
            let id = r.item_id(version >= 1, "ipma")?;
            let n = r.u8("ipma")?;
            let mut list = Vec::with_capacity(usize::from(n));
            for _ in 0..n {
                let (essential, index) = if wide_index {
                    let v = r.u16("ipma")?;
                    (v & 0x8000 != 0, usize::from(v & 0x7FFF))
                } else {
                    let v = r.u8("ipma")?;
                    (v & 0x80 != 0, usize::from(v & 0x7F))
                };
                // Index 0 means "no property"; the rest count from 1.
                if index == 0 {
                    continue;
                }
                if index > meta.properties.len() {
                    return Err(HeifError::corrupt(format!(
                        "item {id} is given property {index} of {}",
                        meta.properties.len()
                    )));
                }
                list.push(Association {
                    index: index - 1,
                    essential,
                });
            }
            if meta.associations.insert(id, list).is_some() {
                return Err(HeifError::corrupt(format!(
                    "item {id} has two property lists"
                )));
            }
        }
    }
    Ok(())
}
