//! Animated WebP: the RIFF walk that sizes an animation from its `VP8X`, `ANIM` and `ANMF`
//! headers before any pixel is decoded, the frame clean-up the stripped original gets, and
//! the encoder of shrunk animations (libwebp's, through `webp-animation`).

use webp_animation::{EncoderOptions, EncodingConfig, EncodingType, LossyEncodingConfig};

use crate::domain::ingest::animation::header::{Header, Kind};

/// The animation bit of the `VP8X` flags.
const ANIMATION: u8 = 0x02;

/// The animation a WebP declares, or `None` for a still WebP (no `VP8X` with the animation
/// flag). Every `ANMF` frame is counted and must lie inside the canvas.
pub fn header(bytes: &[u8]) -> Result<Option<Header>, String> {
    // A still WebP's damage is the decoder's to name; only an animation's headers are
    // judged here.
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return Ok(None);
    }
    // The RIFF size bounds the walk; trailing bytes past it are not the image's. One too
    // small to hold even the form type leaves nothing to walk.
    let riff_end = (u64::from(le32(&bytes[4..8])) + 8).clamp(12, bytes.len() as u64) as usize;
    let mut chunks = Chunks {
        rest: &bytes[12..riff_end],
    };
    let Some(Ok((id, vp8x))) = chunks.next() else {
        return Ok(None);
    };
    if id != *b"VP8X" || vp8x.len() < 10 || vp8x[0] & ANIMATION == 0 {
        return Ok(None);
    }
    let (width, height) = (1 + le24(&vp8x[4..7]), 1 + le24(&vp8x[7..10]));
    let mut loops = None;
    let mut frames: u32 = 0;
    let mut lossy = false;
    for chunk in chunks {
        let (id, data) = chunk?;
        match &id {
            b"ANIM" if loops.is_none() => {
                if data.len() < 6 {
                    return Err("its animation chunk is too short".into());
                }
                loops = Some(u32::from(u16::from_le_bytes([data[4], data[5]])));
            }
            b"ANMF" => {
                lossy |= check_frame(data, width, height)?;
                frames = frames.saturating_add(1);
            }
            _ => {}
        }
    }
    let loops = loops.ok_or("it is marked animated but has no animation chunk")?;
    if frames == 0 {
        return Err("its animation has no frames".into());
    }
    Ok(Some(Header {
        width,
        height,
        frames,
        loops,
        kind: Kind::Webp { lossy },
    }))
}

/// A `VP8X` header with the animation flag.
pub fn declares_animation(head: &[u8]) -> bool {
    head.len() >= 21
        && &head[0..4] == b"RIFF"
        && &head[8..12] == b"WEBP"
        && &head[12..16] == b"VP8X"
        && head[20] & ANIMATION != 0
}

/// The frame must lie inside the canvas (offsets are stored halved). Whether its image
/// data is lossy (`VP8 `) rather than lossless (`VP8L`).
fn check_frame(data: &[u8], width: u32, height: u32) -> Result<bool, String> {
    if data.len() < 16 {
        return Err("a frame header is too short".into());
    }
    let (x, y) = (2 * le24(&data[0..3]), 2 * le24(&data[3..6]));
    let (w, h) = (1 + le24(&data[6..9]), 1 + le24(&data[9..12]));
    if x + w > width || y + h > height {
        return Err(format!(
            "a frame ({w}×{h} at {x},{y}) lies outside its {width}×{height} canvas"
        ));
    }
    let mut lossy = false;
    for sub in (Chunks { rest: &data[16..] }) {
        lossy |= sub?.0 == *b"VP8 ";
    }
    Ok(lossy)
}

/// What a frame is shown with: alpha and image data. The format lets a frame carry
/// chunks of its own after them, unknown to decoders, so metadata can hide there.
const FRAME_KEEP: [[u8; 4]; 3] = [*b"ALPH", *b"VP8 ", *b"VP8L"];

/// An `ANMF` payload with every sub-chunk but alpha and image data removed.
pub fn strip_frame(data: &[u8]) -> Result<Vec<u8>, String> {
    let header = data.get(..16).ok_or("a frame header is too short")?;
    let mut out = header.to_vec();
    for sub in (Chunks { rest: &data[16..] }) {
        let (id, body) = sub?;
        if FRAME_KEEP.contains(&id) {
            out.extend_from_slice(&id);
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(body);
            if body.len() % 2 == 1 {
                out.push(0);
            }
        }
    }
    Ok(out)
}

fn le24(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], 0])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// RIFF chunks: id and data, each padded to an even length.
struct Chunks<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<([u8; 4], &'a [u8]), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = self.rest.split_at_checked(8).and_then(|(head, after)| {
            let len = le32(&head[4..8]) as usize;
            let (data, after) = after.split_at_checked(len)?;
            // The pad byte may be missing at the very end of a file; decoders accept that.
            let after = after.get(len % 2..).unwrap_or(&[]);
            Some(([head[0], head[1], head[2], head[3]], data, after))
        });
        match parsed {
            Some((id, data, after)) => {
                self.rest = after;
                Some(Ok((id, data)))
            }
            None => {
                self.rest = &[];
                Some(Err("a chunk is cut short".into()))
            }
        }
    }
}

/// Writes composited frames (8-bit RGBA, the whole canvas each) as an animated WebP that
/// plays `loops` times (0: for ever): lossy at `quality` when the source was lossy, else
/// lossless, so pixel art stays crisp and photos stay small.
pub struct Encoder {
    inner: webp_animation::Encoder,
    elapsed_ms: i32,
}

impl Encoder {
    /// An animation of `width`×`height`.
    pub fn new(
        width: u32,
        height: u32,
        loops: u32,
        lossy: bool,
        quality: u8,
    ) -> Result<Self, String> {
        let encoding_type = if lossy {
            // libwebp's own defaults (cwebp's): the wrapper's default keeps one segment
            // where libwebp uses four.
            EncodingType::Lossy(LossyEncodingConfig {
                segments: 4,
                ..LossyEncodingConfig::new_from_default_preset()
            })
        } else {
            EncodingType::Lossless
        };
        let options = EncoderOptions {
            anim_params: webp_animation::AnimParams {
                loop_count: i32::try_from(loops).map_err(|e| e.to_string())?,
            },
            encoding_config: Some(EncodingConfig {
                encoding_type,
                quality: f32::from(quality),
                // Not passed on by webp-animation 0.10: libwebp's default, 4, applies.
                method: 4,
            }),
            ..EncoderOptions::default()
        };
        let inner = webp_animation::Encoder::new_with_options((width, height), options)
            .map_err(|e| format!("{e:?}"))?;
        Ok(Encoder {
            inner,
            elapsed_ms: 0,
        })
    }

    /// The next frame, shown for `ms` milliseconds. libwebp needs every frame to last at
    /// least 1 ms; browsers show anything up to 10 ms as 100 ms, so 0 and 1 look the same.
    pub fn add(&mut self, rgba: &[u8], ms: u32) -> Result<(), String> {
        self.inner
            .add_frame(rgba, self.elapsed_ms)
            .map_err(|e| format!("{e:?}"))?;
        let ms = i32::try_from(ms.max(1)).map_err(|e| e.to_string())?;
        self.elapsed_ms = self
            .elapsed_ms
            .checked_add(ms)
            .ok_or("the animation lasts too long")?;
        Ok(())
    }

    /// The encoded file.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        let data = self
            .inner
            .finalize(self.elapsed_ms)
            .map_err(|e| format!("{e:?}"))?;
        Ok(data.to_vec())
    }
}
