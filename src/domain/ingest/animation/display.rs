//! The display rendition of an animation larger than the lightbox: every frame composited
//! (one canvas in memory at a time), shrunk, converted to sRGB and handed to an encoder of
//! the same format, with its delay and the loop count.

use std::io::Cursor;

use image::AnimationDecoder;
use moxcms::ColorProfile;

use crate::domain::ingest::animation::apng_frames;
use crate::domain::ingest::animation::header::{Header, Kind};
use crate::domain::ingest::animation::{apng, webp};
use crate::domain::ingest::colour;
use crate::domain::ingest::render::{DISPLAY_EDGE, Encoded, Pixels, RENDITION_QUALITY, fit_within};
use crate::model::MediaFormat;

/// Shrink the animation `bytes` hold (whose headers said `header`) to fit `DISPLAY_EDGE`,
/// converting each frame from `profile` to sRGB when there is one.
pub fn shrink(
    bytes: &[u8],
    header: &Header,
    profile: Option<&ColorProfile>,
) -> Result<Encoded, String> {
    let (width, height) = fit_within(header.width, header.height, DISPLAY_EDGE);
    let small = |frame: &Pixels| -> Result<Pixels, String> {
        let mut small = frame.fit(DISPLAY_EDGE)?;
        if let Some(profile) = profile {
            colour::to_srgb(&mut small, profile)?;
        }
        Ok(small)
    };
    let (bytes, format) = match header.kind {
        Kind::Apng => {
            let mut frames = apng_frames::Frames::new(bytes)?;
            let mut out = Vec::new();
            let mut encoder =
                apng::Encoder::new(&mut out, width, height, frames.count, header.loops)?;
            while let Some((frame, delay)) = frames.next_frame()? {
                encoder.add(&small(frame)?.data, delay)?;
            }
            encoder.finish()?;
            (out, MediaFormat::Png)
        }
        Kind::Webp { lossy } => {
            let decoder = image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
                .map_err(|e| e.to_string())?;
            let mut encoder =
                webp::Encoder::new(width, height, header.loops, lossy, RENDITION_QUALITY)?;
            for frame in decoder.into_frames() {
                let frame = frame.map_err(|e| e.to_string())?;
                let (numer, denom) = frame.delay().numer_denom_ms();
                encoder.add(&small(&canvas_of(frame))?.data, milliseconds(numer, denom))?;
            }
            (encoder.finish()?, MediaFormat::Webp)
        }
    };
    Ok(Encoded {
        bytes,
        format,
        width,
        height,
    })
}

/// A composited frame's canvas as RGBA pixels.
fn canvas_of(frame: image::Frame) -> Pixels {
    let canvas = frame.into_buffer();
    Pixels {
        width: canvas.width(),
        height: canvas.height(),
        data: canvas.into_raw(),
        alpha: true,
    }
}

/// `numer / denom` milliseconds, rounded.
fn milliseconds(numer: u32, denom: u32) -> u32 {
    let denom = u64::from(denom.max(1));
    ((u64::from(numer) + denom / 2) / denom).min(u64::from(u32::MAX)) as u32
}

/// A GIF too large for the lightbox: composite and shrink frame by frame (one canvas in
/// memory at a time) and encode a new GIF.
pub fn shrink_gif(bytes: &[u8]) -> Result<Encoded, String> {
    let decoder =
        image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut size = (0, 0);
    {
        let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 20);
        encoder
            .set_repeat(image::codecs::gif::Repeat::Infinite)
            .map_err(|e| e.to_string())?;
        for frame in decoder.into_frames() {
            let frame = frame.map_err(|e| e.to_string())?;
            let delay = frame.delay();
            let pixels = canvas_of(frame).fit(DISPLAY_EDGE)?;
            size = (pixels.width, pixels.height);
            let buffer = image::RgbaImage::from_raw(pixels.width, pixels.height, pixels.data)
                .ok_or("resized frame has the wrong size")?;
            encoder
                .encode_frame(image::Frame::from_parts(buffer, 0, 0, delay))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(Encoded {
        bytes: out,
        format: MediaFormat::Gif,
        width: size.0,
        height: size.1,
    })
}
