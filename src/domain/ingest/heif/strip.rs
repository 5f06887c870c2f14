//! The rewrite: a new file of `ftyp`, a rebuilt `meta` and one `mdat`, holding only the
//! primary image, its grid tiles and its alpha plane.
//!
//! Everything is written afresh (handler name, item names and `dinf` included) rather than
//! copied and patched, so nothing the allow-list does not name can ride along, and a stripped
//! file strips to itself.

use std::collections::{BTreeMap, BTreeSet};

use super::boxes::{FourCc, put_uint, write_box, write_full_box};
use super::container::{self, Heif};
use super::error::HeifError;
use super::meta::{self, Association, Meta, RawProperty};
use super::props::KEPT;

/// Brands that promise an image sequence (`moov`), which the rewrite drops.
const SEQUENCE_BRANDS: [&[u8; 4]; 6] = [b"avis", b"msf1", b"hevc", b"hevx", b"hevm", b"hevs"];
/// References between kept items that showing the image needs.
const KEPT_REFERENCES: [&[u8; 4]; 3] = [b"dimg", b"auxl", b"prem"];

/// Rebuild `file` without its metadata: see the module's documentation for what stays.
pub fn strip(file: &[u8]) -> Result<Vec<u8>, HeifError> {
    let top = container::top_level(file)?;
    let meta = meta::parse(top.meta)?;
    let heif = container::describe(file, &meta)?;
    let kept = kept_items(&heif);

    let (properties, associations) = kept_properties(&meta, &kept)?;

    // The data, in item order: what was in idat stays in a new idat, the rest goes to mdat.
    let mut idat = Vec::new();
    let mut mdat = Vec::new();
    let mut placed: BTreeMap<u32, (bool, u64, u64)> = BTreeMap::new();
    for &id in &kept {
        let Some(loc) = meta.locations.get(&id) else {
            continue;
        };
        let data = meta.item_data(file, id)?;
        let target = if loc.in_idat { &mut idat } else { &mut mdat };
        placed.insert(id, (loc.in_idat, target.len() as u64, data.len() as u64));
        target.extend_from_slice(&data);
        if idat.len() + mdat.len() > file.len() {
            return Err(HeifError::corrupt(
                "the items' data add up to more than the file".into(),
            ));
        }
    }

    let ftyp = ftyp(top.ftyp);
    let wide = placed
        .values()
        .any(|&(_, _, len)| len > u64::from(u32::MAX))
        || (ftyp.len() + top.meta.len() + mdat.len() + 64) as u64 > u64::from(u32::MAX);
    let parts = Parts {
        meta: &meta,
        kept: &kept,
        properties: &properties,
        associations: &associations,
        placed: &placed,
        idat: &idat,
        field: if wide { 8 } else { 4 },
        wide_ids: kept.iter().any(|&id| id > u32::from(u16::MAX)),
    };
    // The offsets depend on meta's length, which does not depend on them (fixed-size fields).
    let trial = parts.meta_box(0);
    let mdat_header = if mdat.len() as u64 + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    };
    let data_start = (ftyp.len() + trial.len() + mdat_header) as u64;

    let mut out = Vec::with_capacity(data_start as usize + mdat.len());
    out.extend_from_slice(&ftyp);
    out.extend_from_slice(&parts.meta_box(data_start));
    if !mdat.is_empty() {
        write_box(&mut out, b"mdat", &mdat);
    }
    Ok(out)
}

/// The primary, its tiles, its alpha plane and the alpha's tiles.
fn kept_items(heif: &Heif) -> BTreeSet<u32> {
    let images = std::iter::once(&heif.primary).chain(heif.alpha.as_ref());
    images
        .flat_map(|i| std::iter::once(i.item).chain(i.tiles.iter().map(|t| t.item)))
        .collect()
}

/// The properties of the kept items that are on the allow-list, renumbered in the order the
/// items first use them, with each item's associations in their old order.
#[allow(clippy::type_complexity)]
fn kept_properties<'a>(
    meta: &Meta<'a>,
    kept: &BTreeSet<u32>,
) -> Result<(Vec<RawProperty<'a>>, BTreeMap<u32, Vec<Association>>), HeifError> {
    let mut properties = Vec::new();
    let mut renumbered: BTreeMap<usize, usize> = BTreeMap::new();
    let mut associations = BTreeMap::new();
    for &id in kept {
        let mut list = Vec::new();
        for (a, p) in meta.properties_of(id) {
            if !KEPT.contains(&&p.kind) {
                // What we do not know we cannot vouch for; an essential one we cannot drop.
                if a.essential {
                    return Err(HeifError::Unsupported(format!(
                        "item {id} needs the unknown property “{}”",
                        String::from_utf8_lossy(&p.kind)
                    )));
                }
                continue;
            }
            let index = *renumbered.entry(a.index).or_insert_with(|| {
                properties.push(p);
                properties.len() - 1
            });
            list.push(Association {
                index,
                essential: a.essential,
            });
        }
        associations.insert(id, list);
    }
    Ok((properties, associations))
}

/// The major brand and compatible brands, without those of image sequences.
fn ftyp(body: &[u8]) -> Vec<u8> {
    let major: FourCc = body[..4].try_into().unwrap_or(*b"mif1");
    let major = match &major {
        b"avis" => *b"avif",
        m if SEQUENCE_BRANDS.contains(&m) => *b"mif1",
        _ => major,
    };
    let mut out = major.to_vec();
    out.extend_from_slice(&body[4..8]);
    let mut brands: Vec<&[u8]> = body[8..]
        .chunks(4)
        .filter(|b| !SEQUENCE_BRANDS.iter().any(|s| &s[..] == *b))
        .collect();
    if !brands.contains(&&b"mif1"[..]) {
        brands.push(b"mif1");
    }
    for b in brands {
        out.extend_from_slice(b);
    }
    let mut ftyp = Vec::new();
    write_box(&mut ftyp, b"ftyp", &out);
    ftyp
}

struct Parts<'p, 'a> {
    meta: &'p Meta<'a>,
    kept: &'p BTreeSet<u32>,
    properties: &'p [RawProperty<'a>],
    associations: &'p BTreeMap<u32, Vec<Association>>,
    /// Item → (in idat, offset in the new idat or mdat data, length).
    placed: &'p BTreeMap<u32, (bool, u64, u64)>,
    idat: &'p [u8],
    /// Bytes of iloc's offset and length fields.
    field: u8,
    /// Whether an item id needs 32 bits (and the boxes' wide versions).
    wide_ids: bool,
}

impl Parts<'_, '_> {
    fn put_id(&self, out: &mut Vec<u8>, id: u32) {
        put_uint(out, if self.wide_ids { 4 } else { 2 }, u64::from(id));
    }

    fn meta_box(&self, data_start: u64) -> Vec<u8> {
        let wide = self.wide_ids;
        let v = u8::from(wide);
        let mut body = Vec::new();

        let mut hdlr = vec![0; 4];
        hdlr.extend_from_slice(b"pict");
        hdlr.extend_from_slice(&[0; 13]);
        write_full_box(&mut body, b"hdlr", 0, 0, &hdlr);

        let mut url = Vec::new();
        write_full_box(&mut url, b"url ", 0, 1, &[]);
        let mut dref = 1u32.to_be_bytes().to_vec();
        dref.extend_from_slice(&url);
        let mut dinf = Vec::new();
        write_full_box(&mut dinf, b"dref", 0, 0, &dref);
        write_box(&mut body, b"dinf", &dinf);

        let mut pitm = Vec::new();
        self.put_id(&mut pitm, self.meta.primary.unwrap_or_default());
        write_full_box(&mut body, b"pitm", v, 0, &pitm);

        write_full_box(&mut body, b"iloc", 1 + v, 0, &self.iloc(data_start));

        let mut iinf = Vec::new();
        put_uint(&mut iinf, if wide { 4 } else { 2 }, self.kept.len() as u64);
        for item in self.meta.items.iter().filter(|i| self.kept.contains(&i.id)) {
            let mut infe = Vec::new();
            self.put_id(&mut infe, item.id);
            infe.extend_from_slice(&[0, 0]);
            infe.extend_from_slice(&item.kind);
            infe.push(0);
            write_full_box(&mut iinf, b"infe", 2 + v, u32::from(item.hidden), &infe);
        }
        write_full_box(&mut body, b"iinf", v, 0, &iinf);

        let mut iref = Vec::new();
        for r in &self.meta.references {
            if !KEPT_REFERENCES.contains(&&r.kind) || !self.kept.contains(&r.from) {
                continue;
            }
            let to: Vec<u32> =
                r.to.iter()
                    .copied()
                    .filter(|t| self.kept.contains(t))
                    .collect();
            if to.is_empty() {
                continue;
            }
            let mut entry = Vec::new();
            self.put_id(&mut entry, r.from);
            put_uint(&mut entry, 2, to.len() as u64);
            for t in to {
                self.put_id(&mut entry, t);
            }
            write_box(&mut iref, &r.kind, &entry);
        }
        if !iref.is_empty() {
            write_full_box(&mut body, b"iref", v, 0, &iref);
        }

        write_box(&mut body, b"iprp", &self.iprp());
        if !self.idat.is_empty() {
            write_box(&mut body, b"idat", self.idat);
        }
        let mut meta = Vec::new();
        write_full_box(&mut meta, b"meta", 0, 0, &body);
        meta
    }

    fn iloc(&self, data_start: u64) -> Vec<u8> {
        let f = self.field;
        let mut out = Vec::new();
        out.extend_from_slice(&(u16::from(f) << 12 | u16::from(f) << 8).to_be_bytes());
        put_uint(
            &mut out,
            if self.wide_ids { 4 } else { 2 },
            self.placed.len() as u64,
        );
        for (&id, &(in_idat, offset, length)) in self.placed {
            self.put_id(&mut out, id);
            put_uint(&mut out, 2, u64::from(in_idat));
            put_uint(&mut out, 2, 0);
            // No extent rather than one of length 0, which would mean "to the end".
            put_uint(&mut out, 2, u64::from(length > 0));
            if length > 0 {
                let base = if in_idat { 0 } else { data_start };
                put_uint(&mut out, f, base + offset);
                put_uint(&mut out, f, length);
            }
        }
        out
    }

    fn iprp(&self) -> Vec<u8> {
        let mut ipco = Vec::new();
        for p in self.properties {
            write_box(&mut ipco, &p.kind, p.body);
        }
        let wide_index = self.properties.len() > 127;
        let mut ipma = Vec::new();
        put_uint(&mut ipma, 4, self.associations.len() as u64);
        for (&id, list) in self.associations {
            self.put_id(&mut ipma, id);
            ipma.push(list.len() as u8);
            for a in list {
                let index = a.index as u64 + 1;
                if wide_index {
                    put_uint(&mut ipma, 2, index | u64::from(a.essential) << 15);
                } else {
                    put_uint(&mut ipma, 1, index | u64::from(a.essential) << 7);
                }
            }
        }
        let mut iprp = Vec::new();
        write_box(&mut iprp, b"ipco", &ipco);
        let version = u8::from(self.wide_ids);
        write_full_box(&mut iprp, b"ipma", version, u32::from(wide_index), &ipma);
        iprp
    }
}
