//! Animations made in code: APNGs with the `png` crate, animated WebPs with libwebp (as
//! maiimg encodes them), each with metadata planted where it must not survive; and readers
//! of their timing that do not go through maiimg's own parsers.

use std::io::Cursor;

use bytes::Bytes;
use image::AnimationDecoder;
use img_parts::ImageEXIF;
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;

use crate::common::mean_rgb;

/// The colour of frame `i`: far apart, so every frame differs from the one before.
pub fn shade(i: u32) -> [u8; 4] {
    [
        (40 + i * 70 % 200) as u8,
        (200 - i * 50 % 180) as u8,
        (i * 90 % 256) as u8,
        255,
    ]
}

fn canvas(w: u32, h: u32, i: u32) -> Vec<u8> {
    shade(i).repeat((w * h) as usize)
}

/// An APNG of `delays.len()` frames, each one colour, playing `loops` times, with text and
/// EXIF chunks that must not survive.
pub fn apng(w: u32, h: u32, delays: &[(u16, u16)], loops: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_animated(delays.len() as u32, loops).unwrap();
        encoder
            .add_text_chunk("Comment".into(), "Secret comment".into())
            .unwrap();
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_chunk(png::chunk::eXIf, b"MM\0*Secret GPS")
            .unwrap();
        for (i, &(n, d)) in delays.iter().enumerate() {
            writer.set_frame_delay(n, d).unwrap();
            writer.write_image_data(&canvas(w, h, i as u32)).unwrap();
        }
        writer.finish().unwrap();
    }
    out
}

/// An animated WebP of `delays.len()` frames, with EXIF, a RIFF INFO list and a private
/// chunk inside a frame that must not survive.
pub fn webp_anim(w: u32, h: u32, delays: &[u32], loops: u32, lossy: bool) -> Vec<u8> {
    use webp_animation::{EncoderOptions, EncodingConfig, EncodingType, LossyEncodingConfig};
    let encoding_type = if lossy {
        EncodingType::Lossy(LossyEncodingConfig::default())
    } else {
        EncodingType::Lossless
    };
    let options = EncoderOptions {
        anim_params: webp_animation::AnimParams {
            loop_count: loops as i32,
        },
        encoding_config: Some(EncodingConfig {
            encoding_type,
            quality: 90.0,
            method: 2,
        }),
        ..EncoderOptions::default()
    };
    let mut encoder = webp_animation::Encoder::new_with_options((w, h), options).unwrap();
    let mut t = 0;
    for (i, ms) in delays.iter().enumerate() {
        encoder.add_frame(&canvas(w, h, i as u32), t).unwrap();
        t += *ms as i32;
    }
    let bytes = encoder.finalize(t).unwrap().to_vec();
    let mut webp = WebP::from_bytes(Bytes::from(bytes)).unwrap();
    let data =
        |id: [u8; 4], d: &[u8]| RiffChunk::new(id, RiffContent::Data(Bytes::copy_from_slice(d)));
    for chunk in webp.chunks_mut() {
        if chunk.id() == *b"ANMF"
            && let RiffContent::Data(frame) = chunk.content()
        {
            let mut frame = frame.to_vec();
            frame.extend_from_slice(b"ZZZZ\x0c\0\0\0Secret frame");
            *chunk = data(*b"ANMF", &frame);
            break;
        }
    }
    webp.chunks_mut()
        .push(data(*b"LIST", b"INFOIART\x0e\0\0\0Secret Artist\0"));
    webp.set_exif(Some(Bytes::from_static(b"Exif\0\0Secret GPS")));
    webp.encoder().bytes().to_vec()
}

/// Frames, plays and each frame's delay (`fcTL`'s fraction) of an APNG, read with the `png`
/// crate (the default image outside the animation is not counted, as `acTL` counts).
pub fn apng_timing(bytes: &[u8]) -> (u32, u32, Vec<(u16, u16)>) {
    let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
    let control = reader.info().animation_control.expect("an APNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let mut delays = Vec::new();
    if reader.info().frame_control.is_none() {
        reader.next_frame(&mut buf).unwrap();
    }
    for _ in 0..control.num_frames {
        reader.next_frame(&mut buf).unwrap();
        let fc = reader.info().frame_control.unwrap();
        delays.push((fc.delay_num, fc.delay_den));
    }
    (control.num_frames, control.num_plays, delays)
}

/// Each frame's delay in milliseconds and mean colour, decoded by `image`.
pub fn webp_frames(bytes: &[u8]) -> Vec<(u32, [f64; 3])> {
    let decoder = image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).unwrap();
    decoder
        .into_frames()
        .map(|f| {
            let f = f.unwrap();
            let (n, d) = f.delay().numer_denom_ms();
            let rgb = image::DynamicImage::ImageRgba8(f.into_buffer()).to_rgb8();
            let (w, h) = rgb.dimensions();
            (n / d, mean_rgb(&rgb, 0, 0, w.min(h)))
        })
        .collect()
}
