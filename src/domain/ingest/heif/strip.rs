//! INTERIM metadata stripping of HEIF/AVIF originals: every `Exif` and `mime` (XMP) item's
//! payload is overwritten with zeros where it lies, so no offset in the file moves and the
//! image items are untouched. The items themselves stay listed (empty); the container
//! module's rewrite of `iinf`/`iloc`/`iref`/`ipma` replaces this and removes them.
//!
//! A payload that cannot be located exactly (built from other items, or running "to the
//! end of the file") is refused rather than served.

use heifer_isobmff::boxes::ConstructionMethod;
use heifer_isobmff::{BoxIter, HeifFile};

/// Why a HEIF/AVIF file could not be stripped.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HeifError(String);

/// `bytes` with the payload of every metadata item zero-filled in place.
pub fn strip(bytes: &[u8]) -> Result<Vec<u8>, HeifError> {
    let file = HeifFile::parse(bytes).map_err(|e| HeifError(format!("its container: {e}")))?;
    let mut ranges = Vec::new();
    for item in &file.items {
        if !matches!(&item.item_type.0, b"Exif" | b"mime") {
            continue;
        }
        let Some(location) = &item.location else {
            continue;
        };
        let base = match location.construction_method {
            ConstructionMethod::File => 0,
            ConstructionMethod::Idat => idat_start(bytes)
                .ok_or_else(|| HeifError("its metadata lies in a missing `idat`".into()))?,
            ConstructionMethod::Item => {
                return Err(HeifError(
                    "its metadata is built from other items, which cannot be stripped yet".into(),
                ));
            }
        };
        for extent in &location.extents {
            if extent.length == 0 {
                return Err(HeifError("its metadata has no stated length".into()));
            }
            let start = usize::try_from(extent.offset)
                .ok()
                .and_then(|o| o.checked_add(base));
            let end = start.and_then(|s| s.checked_add(usize::try_from(extent.length).ok()?));
            match (start, end) {
                (Some(start), Some(end)) if end <= bytes.len() => ranges.push(start..end),
                _ => return Err(HeifError("its metadata lies outside the file".into())),
            }
        }
    }
    let mut clean = bytes.to_vec();
    for range in ranges {
        clean[range].fill(0);
    }
    Ok(clean)
}

/// Where the content of the `idat` box inside the top-level `meta` starts in `bytes`.
fn idat_start(bytes: &[u8]) -> Option<usize> {
    let meta = BoxIter::new(bytes)
        .map_while(Result::ok)
        .find(|b| b.header.box_type.0 == *b"meta")?;
    let meta_content = meta.offset + usize::try_from(meta.header.header_size).ok()?;
    // `meta` is a full box: four bytes of version and flags before its children.
    let children = meta.content.get(4..)?;
    let idat = BoxIter::new(children)
        .map_while(Result::ok)
        .find(|b| b.header.box_type.0 == *b"idat")?;
    Some(meta_content + 4 + idat.offset + usize::try_from(idat.header.header_size).ok()?)
}
