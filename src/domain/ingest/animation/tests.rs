#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use super::apng_frames::Frames;
use super::*;

/// An APNG made by our own encoder: `frames` frames of `w`×`h`, frame `i` all grey `i * 40`.
fn apng_of(w: u32, h: u32, frames: u32, loops: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = apng::Encoder::new(&mut out, w, h, frames, loops).unwrap();
    for i in 0..frames {
        let v = (i * 40) as u8;
        encoder
            .add(&[v, v, v, 255].repeat((w * h) as usize), (1, 10))
            .unwrap();
    }
    encoder.finish().unwrap();
    out
}

fn webp_of(w: u32, h: u32, frames: u32, loops: u32, lossy: bool) -> Vec<u8> {
    let mut encoder = webp::Encoder::new(w, h, loops, lossy, 80).unwrap();
    for i in 0..frames {
        let v = (i * 60) as u8;
        encoder
            .add(&[v, 255 - v, v, 255].repeat((w * h) as usize), 50)
            .unwrap();
    }
    encoder.finish().unwrap()
}

/// `bytes` with the 4 bytes after the first `kind` at `offset` replaced (chunk CRCs are
/// the decoder's business, not the walk's).
fn patch(bytes: &[u8], kind: &[u8; 4], offset: usize, value: [u8; 4]) -> Vec<u8> {
    let at = bytes.windows(4).position(|w| w == kind).unwrap() + 4 + offset;
    let mut out = bytes.to_vec();
    out[at..at + 4].copy_from_slice(&value);
    out
}

#[test]
fn apng_headers_give_canvas_frames_and_loops() {
    let png = apng_of(30, 20, 3, 7);
    let header = apng::header(&png).unwrap().unwrap();
    assert_eq!(
        header,
        Header {
            width: 30,
            height: 20,
            frames: 3,
            loops: 7,
            kind: Kind::Apng
        }
    );
    assert!(header.animated());
    assert_eq!(header.pixels(), 30 * 20 * 3);

    // A still PNG, or a damaged one, is the decoder's to judge.
    let mut still = Vec::new();
    image::DynamicImage::new_rgb8(4, 4)
        .write_to(&mut Cursor::new(&mut still), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(apng::header(&still).unwrap(), None);
    assert_eq!(apng::header(&still[..still.len() - 20]).unwrap(), None);
    assert_eq!(apng::header(b"not a png").unwrap(), None);
}

#[test]
fn apng_headers_that_do_not_hold_together_are_refused() {
    let png = apng_of(30, 20, 3, 0);
    let no_frames = patch(&png, b"acTL", 0, [0; 4]);
    assert!(apng::header(&no_frames).is_err());
    // A frame wider than the canvas (fcTL: sequence, width, height, x, y).
    let wide = patch(&png, b"fcTL", 4, 31u32.to_be_bytes());
    assert!(apng::header(&wide).unwrap_err().contains("outside"));
    let shifted = patch(&png, b"fcTL", 16, 1u32.to_be_bytes());
    assert!(apng::header(&shifted).is_err());
    // Cut short after its animation was declared.
    let at = png.windows(4).position(|w| w == b"IDAT").unwrap();
    assert!(apng::header(&png[..at + 10]).is_err());
    // Found by the `apng` fuzz target: a header with no width was walked as an animation
    // of no pixels; it is no animation (the decoder refuses it as a PNG without pixels).
    let no_width = patch(&png, b"IHDR", 0, [0; 4]);
    assert_eq!(apng::header(&no_width).unwrap(), None);
    // Declaring one frame while holding three: the three are counted.
    let under = patch(&png, b"acTL", 0, 1u32.to_be_bytes());
    assert_eq!(apng::header(&under).unwrap().unwrap().frames, 3);
}

#[test]
fn the_budget_counts_the_canvas_once_per_frame() {
    let png = apng_of(100, 50, 4, 0);
    let too_big = |d: String| IngestError::TooManyPixels {
        name: "a".into(),
        detail: d,
    };
    let corrupt = |r: String| IngestError::Corrupt {
        name: "a".into(),
        format: "PNG",
        reason: r,
    };
    let admit = |max| admit(&png, MediaFormat::Png, max, &too_big, &corrupt);
    assert!(admit(20_000).unwrap().is_some());
    match admit(19_999) {
        Err(IngestError::TooManyPixels { detail, .. }) => {
            assert!(detail.contains("4 frames of 100×50"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    // A single-frame APNG is a still.
    let one = apng_of(10, 10, 1, 0);
    assert!(
        super::admit(&one, MediaFormat::Png, 1000, &too_big, &corrupt)
            .unwrap()
            .is_none()
    );
    // Four billion frames declared over four: the declaration is what counts.
    let bomb = patch(&png, b"acTL", 0, u32::MAX.to_be_bytes());
    assert!(matches!(
        super::admit(&bomb, MediaFormat::Png, 50_000_000, &too_big, &corrupt),
        Err(IngestError::TooManyPixels { .. })
    ));
}

#[test]
fn webp_headers_give_canvas_frames_loops_and_kind() {
    for lossy in [true, false] {
        let webp = webp_of(40, 30, 3, 2, lossy);
        let header = webp::header(&webp).unwrap().unwrap();
        assert_eq!((header.width, header.height), (40, 30));
        assert_eq!((header.frames, header.loops), (3, 2));
        assert_eq!(header.kind, Kind::Webp { lossy });
        assert!(declared(&webp[..30]));
    }
    let mut still = Vec::new();
    image::DynamicImage::new_rgb8(4, 4)
        .write_to(&mut Cursor::new(&mut still), image::ImageFormat::WebP)
        .unwrap();
    assert_eq!(webp::header(&still).unwrap(), None);
    assert!(!declared(&still));
}

#[test]
fn webp_headers_that_do_not_hold_together_are_refused() {
    let webp = webp_of(40, 30, 2, 0, false);
    // ANMF: x/2, y/2 (3 bytes each), then width − 1: a frame wider than the canvas.
    let at = webp.windows(4).position(|w| w == b"ANMF").unwrap() + 8;
    let mut wide = webp.clone();
    wide[at + 6..at + 9].copy_from_slice(&[40, 0, 0]);
    assert!(webp::header(&wide).unwrap_err().contains("outside"));
    // Marked animated without an ANIM chunk.
    let mut no_anim = webp.clone();
    let anim = no_anim.windows(4).position(|w| w == b"ANIM").unwrap();
    // Renamed to an id no WebP reader knows, so the chunk is there but is no ANIM.
    no_anim[anim..anim + 4].copy_from_slice(b"ANIZ");
    assert!(webp::header(&no_anim).is_err());
    // Cut inside a frame.
    assert!(webp::header(&webp[..at + 20]).is_err());
    // Found by the `webp_anim` fuzz target: a RIFF size too small for the form type
    // panicked the walk (a slice ending before it starts).
    let mut tiny = webp.clone();
    tiny[4..8].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(webp::header(&tiny).unwrap(), None);
}

#[test]
fn a_frames_private_chunks_are_stripped_and_its_image_kept() {
    let mut frame = vec![0u8; 16];
    frame.extend_from_slice(b"VP8L\x03\0\0\0abc\0");
    frame.extend_from_slice(b"XMP \x06\0\0\0secret");
    frame.extend_from_slice(b"ALPH\x02\0\0\0xy");
    let clean = webp::strip_frame(&frame).unwrap();
    let mut want = vec![0u8; 16];
    want.extend_from_slice(b"VP8L\x03\0\0\0abc\0ALPH\x02\0\0\0xy");
    assert_eq!(clean, want);
    assert!(webp::strip_frame(&frame[..10]).is_err());
}

#[test]
fn frames_are_composited_with_their_offsets_blending_and_disposal() {
    // A 4×4 canvas: red, then a half-transparent blue 2×2 at (1,1) blended over and cleared
    // afterwards, then an opaque green 1×1 at (3,3) put back afterwards, then nothing new.
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, 4, 4);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_animated(4, 0).unwrap();
        let mut w = encoder.write_header().unwrap();
        w.set_frame_delay(1, 0).unwrap();
        w.write_image_data(&[255, 0, 0, 255].repeat(16)).unwrap();
        w.set_frame_dimension(2, 2).unwrap();
        w.set_frame_position(1, 1).unwrap();
        w.set_blend_op(png::BlendOp::Over).unwrap();
        w.set_dispose_op(png::DisposeOp::Background).unwrap();
        w.set_frame_delay(3, 7).unwrap();
        w.write_image_data(&[0, 0, 255, 128].repeat(4)).unwrap();
        w.set_frame_dimension(1, 1).unwrap();
        w.set_frame_position(3, 3).unwrap();
        w.set_blend_op(png::BlendOp::Source).unwrap();
        w.set_dispose_op(png::DisposeOp::Previous).unwrap();
        w.write_image_data(&[0, 255, 0, 255]).unwrap();
        w.set_frame_position(0, 0).unwrap();
        w.set_dispose_op(png::DisposeOp::None).unwrap();
        w.write_image_data(&[255, 0, 0, 255]).unwrap();
        w.finish().unwrap();
    }
    let mut frames = Frames::new(&png).unwrap();
    assert_eq!(frames.count, 4);
    let at = |p: &crate::domain::ingest::render::Pixels, x: usize, y: usize| {
        let i = (y * 4 + x) * 4;
        [p.data[i], p.data[i + 1], p.data[i + 2], p.data[i + 3]]
    };
    let (first, delay) = frames.next_frame().unwrap().unwrap();
    assert_eq!(delay, (1, 100), "a zero denominator means hundredths");
    assert!(first.data.chunks(4).all(|p| p == [255, 0, 0, 255]));
    let (second, delay) = frames.next_frame().unwrap().unwrap();
    assert_eq!(delay, (3, 7));
    let blended = at(second, 1, 1);
    assert!(
        blended[0].abs_diff(127) <= 1 && blended[2].abs_diff(128) <= 1,
        "{blended:?}"
    );
    assert_eq!(blended[3], 255);
    assert_eq!(at(second, 0, 0), [255, 0, 0, 255]);
    let (third, _) = frames.next_frame().unwrap().unwrap();
    assert_eq!(
        at(third, 1, 1),
        [0, 0, 0, 0],
        "the blue was disposed to background"
    );
    assert_eq!(at(third, 3, 3), [0, 255, 0, 255]);
    let (fourth, _) = frames.next_frame().unwrap().unwrap();
    assert_eq!(
        at(fourth, 3, 3),
        [255, 0, 0, 255],
        "the green was disposed to previous"
    );
    assert_eq!(at(fourth, 0, 0), [255, 0, 0, 255]);
    assert!(frames.next_frame().unwrap().is_none());
}

#[test]
fn sixteen_bit_frames_and_a_default_image_outside_the_animation() {
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, 2, 1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Sixteen);
        encoder.set_animated(2, 1).unwrap();
        encoder.set_sep_def_img(true).unwrap();
        let mut w = encoder.write_header().unwrap();
        // The default image (white), then two frames: 16-bit red and green.
        w.write_image_data(&[0xFF; 12]).unwrap();
        w.write_image_data(&[0xFF, 0xFF, 0, 0, 0, 0].repeat(2))
            .unwrap();
        w.write_image_data(&[0, 0, 0x80, 0x80, 0, 0].repeat(2))
            .unwrap();
        w.finish().unwrap();
    }
    let header = apng::header(&png).unwrap().unwrap();
    assert_eq!(header.frames, 2);
    let mut frames = Frames::new(&png).unwrap();
    let (first, _) = frames.next_frame().unwrap().unwrap();
    assert_eq!(&first.data[..4], &[255, 0, 0, 255]);
    let (second, _) = frames.next_frame().unwrap().unwrap();
    assert_eq!(&second.data[..4], &[0, 128, 0, 255]);
    assert!(frames.next_frame().unwrap().is_none());
}

#[test]
fn a_shrunk_animation_keeps_its_frames_and_loops() {
    let png = apng_of(2100, 30, 3, 4);
    let header = apng::header(&png).unwrap().unwrap();
    let out = shrink(&png, &header, None).unwrap();
    assert_eq!(out.format, MediaFormat::Png);
    assert_eq!((out.width, out.height), (2048, 29));
    let small = apng::header(&out.bytes).unwrap().unwrap();
    assert_eq!((small.frames, small.loops), (3, 4));

    let webp = webp_of(2100, 30, 3, 6, true);
    let header = webp::header(&webp).unwrap().unwrap();
    let out = shrink(&webp, &header, None).unwrap();
    assert_eq!(out.format, MediaFormat::Webp);
    let small = webp::header(&out.bytes).unwrap().unwrap();
    assert_eq!(
        (small.width, small.height, small.frames, small.loops),
        (2048, 29, 3, 6)
    );
}

/// What the phone-delivery renditions will use: one frame through the same encoder is a
/// still lossy WebP (libwebp writes a single frame without the animation chunks), its
/// size following the quality.
#[test]
fn one_frame_encodes_as_a_still_lossy_webp() {
    let (w, h) = (64u32, 48u32);
    let rgba: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            [
                (i % 251) as u8,
                (i * 7 % 253) as u8,
                (i / 3 % 255) as u8,
                255,
            ]
        })
        .collect();
    let encode = |quality| {
        let mut encoder = webp::Encoder::new(w, h, 0, true, quality).unwrap();
        encoder.add(&rgba, 100).unwrap();
        encoder.finish().unwrap()
    };
    let (low, high) = (encode(30), encode(95));
    for still in [&low, &high] {
        assert_eq!(webp::header(still).unwrap(), None, "not animated");
        assert!(still.windows(4).any(|c| c == b"VP8 "), "lossy");
        let decoded = image::load_from_memory(still).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (w, h));
    }
    assert!(low.len() < high.len(), "{} vs {}", low.len(), high.len());
}
