//! APNG: the chunk walk that sizes an animation from its `IHDR`, `acTL` and `fcTL` headers
//! before any pixel is inflated, and the encoder of shrunk animations (the `png` crate's).

use crate::domain::ingest::animation::header::{Header, Kind};

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// The animation a PNG declares, or `None` for a still PNG (no `acTL` before the image
/// data: decoders that know APNG then show the still image, as browsers do).
///
/// Frames are the larger of what `acTL` declares and the `fcTL` chunks present, so neither
/// a small declaration over many frames nor the reverse slips past the budget.
pub fn header(bytes: &[u8]) -> Result<Option<Header>, String> {
    let Some(rest) = bytes.strip_prefix(SIGNATURE) else {
        return Ok(None);
    };
    let mut chunks = Chunks { rest };
    let Some(Ok((kind, ihdr))) = chunks.next() else {
        return Ok(None);
    };
    if kind != *b"IHDR" || ihdr.len() < 8 {
        return Ok(None);
    }
    let (width, height) = (be32(&ihdr[0..4]), be32(&ihdr[4..8]));
    // No canvas: nothing to budget, and the decoder refuses it by name.
    if width == 0 || height == 0 {
        return Ok(None);
    }
    let mut declared: Option<(u32, u32)> = None;
    let mut seen_data = false;
    let mut controls: u32 = 0;
    for chunk in chunks {
        // A still PNG's damage is the decoder's to name; only an animation's headers
        // are judged here.
        let (kind, data) = match chunk {
            Ok(chunk) => chunk,
            Err(_) if declared.is_none() => return Ok(None),
            Err(e) => return Err(e),
        };
        match &kind {
            b"acTL" if !seen_data && declared.is_none() => {
                if data.len() < 8 {
                    return Err("its animation control chunk is too short".into());
                }
                let frames = be32(&data[0..4]);
                if frames == 0 {
                    return Err("its animation declares no frames".into());
                }
                declared = Some((frames, be32(&data[4..8])));
            }
            b"fcTL" if declared.is_some() => {
                check_frame(data, width, height)?;
                controls = controls.saturating_add(1);
            }
            b"IDAT" => seen_data = true,
            b"IEND" => break,
            _ => {}
        }
    }
    let Some((frames, loops)) = declared else {
        return Ok(None);
    };
    Ok(Some(Header {
        width,
        height,
        frames: frames.max(controls),
        loops,
        kind: Kind::Apng,
    }))
}

/// An `acTL` chunk before the image data, as far as `head` goes.
pub fn declares_animation(head: &[u8]) -> bool {
    let Some(rest) = head.strip_prefix(SIGNATURE) else {
        return false;
    };
    for chunk in (Chunks { rest }) {
        match chunk {
            Ok((kind, _)) if kind == *b"acTL" => return true,
            Ok((kind, _)) if kind == *b"IDAT" => return false,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// A frame control chunk must describe a region inside the canvas (the APNG spec's rule;
/// decoders that do not check it write outside their buffer or refuse late).
fn check_frame(data: &[u8], width: u32, height: u32) -> Result<(), String> {
    if data.len() < 26 {
        return Err("a frame control chunk is too short".into());
    }
    let (w, h, x, y) = (
        be32(&data[4..8]),
        be32(&data[8..12]),
        be32(&data[12..16]),
        be32(&data[16..20]),
    );
    let inside = w > 0
        && h > 0
        && u64::from(x) + u64::from(w) <= u64::from(width)
        && u64::from(y) + u64::from(h) <= u64::from(height);
    if inside {
        Ok(())
    } else {
        Err(format!(
            "a frame ({w}×{h} at {x},{y}) lies outside its {width}×{height} canvas"
        ))
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The chunks after the signature: kind and data, CRCs left to the decoder.
struct Chunks<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<([u8; 4], &'a [u8]), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some((head, after)) = self.rest.split_at_checked(8) else {
            self.rest = &[];
            return Some(Err("a chunk header is cut short".into()));
        };
        let len = be32(&head[0..4]) as usize;
        let kind = [head[4], head[5], head[6], head[7]];
        // Data and the 4-byte CRC.
        let Some((data, after)) = after
            .split_at_checked(len)
            .and_then(|(data, after)| Some((data, after.get(4..)?)))
        else {
            self.rest = &[];
            return Some(Err(format!(
                "its {} chunk is cut short",
                String::from_utf8_lossy(&kind)
            )));
        };
        self.rest = after;
        Some(Ok((kind, data)))
    }
}

/// Writes composited frames, each the whole canvas (8-bit RGBA, no blending or disposal
/// needed on playback), as an APNG that plays `loops` times (0: for ever).
pub struct Encoder<'a> {
    writer: png::Writer<&'a mut Vec<u8>>,
}

impl<'a> Encoder<'a> {
    /// An APNG of `frames` frames of `width`×`height`.
    pub fn new(
        out: &'a mut Vec<u8>,
        width: u32,
        height: u32,
        frames: u32,
        loops: u32,
    ) -> Result<Self, String> {
        let mut encoder = png::Encoder::new(out, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .set_animated(frames, loops)
            .map_err(|e| e.to_string())?;
        let writer = encoder.write_header().map_err(|e| e.to_string())?;
        Ok(Encoder { writer })
    }

    /// The next frame, shown for `numer / denom` seconds (the source's own fraction).
    pub fn add(&mut self, rgba: &[u8], (numer, denom): (u16, u16)) -> Result<(), String> {
        self.writer
            .set_frame_delay(numer, denom)
            .map_err(|e| e.to_string())?;
        self.writer
            .write_image_data(rgba)
            .map_err(|e| e.to_string())
    }

    /// Close the file; fails if fewer frames came than were declared.
    pub fn finish(self) -> Result<(), String> {
        self.writer.finish().map_err(|e| e.to_string())
    }
}
