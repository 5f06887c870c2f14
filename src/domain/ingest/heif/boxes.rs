//! ISOBMFF boxes read from untrusted bytes, and written back.
//!
//! Every read is checked against what is left of its slice, so a length in the file can
//! never make us read past it or reserve memory it does not back.

use super::error::HeifError;

/// A box type or brand.
pub type FourCc = [u8; 4];

/// How big a 64-bit count may be before it stops being usable as an index.
fn to_usize(n: u64, what: &str) -> Result<usize, HeifError> {
    usize::try_from(n).map_err(|_| HeifError::corrupt(format!("{what} is too large ({n})")))
}

/// A cursor over a byte slice whose reads fail instead of running past its end.
#[derive(Clone, Debug)]
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(super) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(super) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], HeifError> {
        if n > self.remaining() {
            return Err(HeifError::corrupt(format!(
                "{what} needs {n} bytes, {} are left",
                self.remaining()
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(super) fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.pos..];
        self.pos = self.data.len();
        out
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], HeifError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self, what: &str) -> Result<u8, HeifError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(super) fn u16(&mut self, what: &str) -> Result<u16, HeifError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    pub(super) fn u32(&mut self, what: &str) -> Result<u32, HeifError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    pub(super) fn u64(&mut self, what: &str) -> Result<u64, HeifError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    pub(super) fn fourcc(&mut self, what: &str) -> Result<FourCc, HeifError> {
        self.array(what)
    }

    /// An unsigned field of 0, 1, 2, 4 or 8 bytes (`iloc` and `ipma` choose per file).
    pub(super) fn uint(&mut self, bytes: u8, what: &str) -> Result<u64, HeifError> {
        Ok(match bytes {
            0 => 0,
            1 => u64::from(self.u8(what)?),
            2 => u64::from(self.u16(what)?),
            4 => u64::from(self.u32(what)?),
            8 => self.u64(what)?,
            n => {
                return Err(HeifError::corrupt(format!(
                    "{what} has a size of {n} bytes"
                )));
            }
        })
    }

    /// An item id: 16 bits in version 0 of most boxes, 32 bits after.
    pub(super) fn item_id(&mut self, wide: bool, what: &str) -> Result<u32, HeifError> {
        if wide {
            self.u32(what)
        } else {
            Ok(u32::from(self.u16(what)?))
        }
    }

    /// A full box's version and flags.
    pub(super) fn full_header(&mut self, what: &str) -> Result<(u8, u32), HeifError> {
        let word = self.u32(what)?;
        Ok(((word >> 24) as u8, word & 0x00FF_FFFF))
    }

    /// A NUL-terminated string; writers that leave the NUL off end it at the box's end.
    pub(super) fn cstr(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == 0) {
            Some(end) => {
                self.pos += end + 1;
                &rest[..end]
            }
            None => self.rest(),
        }
    }

    /// Refuse a declared count of entries that the bytes left could not hold, before
    /// anything is reserved for them.
    pub(super) fn check_count(
        &self,
        count: u64,
        min_entry_bytes: usize,
        what: &str,
    ) -> Result<usize, HeifError> {
        let count = to_usize(count, what)?;
        if count.saturating_mul(min_entry_bytes.max(1)) > self.remaining() {
            return Err(HeifError::corrupt(format!(
                "{what} declares {count} entries, more than its {} bytes can hold",
                self.remaining()
            )));
        }
        Ok(count)
    }
}

/// One box: its type and its body (after the size, type and any `uuid` extension).
#[derive(Clone, Copy, Debug)]
pub(super) struct RawBox<'a> {
    pub(super) kind: FourCc,
    pub(super) body: &'a [u8],
}

/// The boxes one after another in `data`, until it ends or one is malformed.
pub(super) fn children(data: &[u8]) -> Children<'_> {
    Children {
        reader: Reader::new(data),
        failed: false,
    }
}

pub(super) struct Children<'a> {
    reader: Reader<'a>,
    failed: bool,
}

impl<'a> Children<'a> {
    fn next_box(&mut self) -> Result<RawBox<'a>, HeifError> {
        let r = &mut self.reader;
        let left = r.remaining() as u64;
        let size = r.u32("a box header")?;
        let kind = r.fourcc("a box header")?;
        let name = String::from_utf8_lossy(&kind).into_owned();
        let (size, mut header) = match size {
            0 => (left, 8),
            1 => (r.u64("a 64-bit box size")?, 16),
            n => (u64::from(n), 8),
        };
        if kind == *b"uuid" {
            r.take(16, "a uuid box's extended type")?;
            header += 16;
        }
        if size < header || size > left {
            return Err(HeifError::corrupt(format!(
                "box “{name}” claims {size} bytes where {left} are left"
            )));
        }
        let body = r.take(to_usize(size - header, "a box")?, "a box")?;
        Ok(RawBox { kind, body })
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<RawBox<'a>, HeifError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.remaining() == 0 {
            return None;
        }
        let result = self.next_box();
        self.failed = result.is_err();
        Some(result)
    }
}

/// The one child of type `kind`, refusing two (which one counts would be a guess).
pub(super) fn only<'a>(data: &'a [u8], kind: &FourCc) -> Result<Option<RawBox<'a>>, HeifError> {
    let mut found = None;
    for b in children(data) {
        let b = b?;
        if b.kind == *kind {
            if found.is_some() {
                return Err(HeifError::corrupt(format!(
                    "more than one “{}” box",
                    String::from_utf8_lossy(kind)
                )));
            }
            found = Some(b);
        }
    }
    Ok(found)
}

/// Append a box; the 64-bit size form only when the 32-bit one cannot hold it.
pub(super) fn write_box(out: &mut Vec<u8>, kind: &FourCc, body: &[u8]) {
    let size = body.len() as u64 + 8;
    match u32::try_from(size) {
        Ok(size) => {
            out.extend_from_slice(&size.to_be_bytes());
            out.extend_from_slice(kind);
        }
        Err(_) => {
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(&(size + 8).to_be_bytes());
        }
    }
    out.extend_from_slice(body);
}

/// Append a full box (version, flags, then `body`).
pub(super) fn write_full_box(
    out: &mut Vec<u8>,
    kind: &FourCc,
    version: u8,
    flags: u32,
    body: &[u8],
) {
    let mut full = Vec::with_capacity(body.len() + 4);
    full.extend_from_slice(&((u32::from(version) << 24) | (flags & 0x00FF_FFFF)).to_be_bytes());
    full.extend_from_slice(body);
    write_box(out, kind, &full);
}

/// Append a field of `bytes` bytes (as [`Reader::uint`] reads it back).
pub(super) fn put_uint(out: &mut Vec<u8>, bytes: u8, value: u64) {
    let all = value.to_be_bytes();
    out.extend_from_slice(&all[8 - usize::from(bytes)..]);
}
