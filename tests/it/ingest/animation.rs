//! APNG and animated WebP: kept animated (frames, loop count, timing), shrunk frame by
//! frame when larger than the lightbox, refused from their headers when their frames add up
//! past the pixel limit, and stripped of metadata, on generated fixtures and the realworld
//! files.

use std::io::Cursor;

use bytes::Bytes;
use image::AnimationDecoder;
use img_parts::ImageICC;
use maiimg::domain::ingest::animation::{self, Kind};

use super::*;

pub mod fixtures;
use fixtures::{apng, apng_timing, shade, webp_anim, webp_frames};

fn secrets_gone(bytes: &[u8], what: &str) {
    assert!(
        !bytes.windows(6).any(|w| w == b"Secret"),
        "{what}: metadata left"
    );
}

#[test]
fn small_animations_are_their_own_display_without_metadata() {
    let app = TestApp::new();
    let png = apng(120, 80, &[(7, 100), (1, 3), (250, 1000), (0, 0)], 3);
    let webp = webp_anim(90, 60, &[40, 90, 250], 5, true);
    let json = app.create(&[("bounce.png", &png), ("spin.webp", &webp)]);
    let id = field(&json, "id");
    for (i, ctype) in [(0, "image/png"), (1, "image/webp")] {
        assert_eq!(json["images"][i]["animated"], true, "image {i}");
        let original = app.image(id, i, "original");
        let display = app.image(id, i, "display");
        assert_eq!(display.ctype(), ctype);
        assert_eq!(
            display.body, original.body,
            "the stripped original is the display"
        );
        secrets_gone(&original.body, ctype);
        let thumb = app.image(id, i, "thumb");
        assert_eq!(thumb.ctype(), "image/jpeg", "the thumbnail is a still");
    }
    let display = app.image(id, 0, "display").body;
    assert_eq!(
        apng_timing(&display),
        (4, 3, vec![(7, 100), (1, 3), (250, 1000), (0, 0)])
    );
    let display = app.image(id, 1, "display").body;
    let header = animation::header(&display, MediaFormat::Webp)
        .unwrap()
        .unwrap();
    assert_eq!((header.frames, header.loops), (3, 5));
    let delays: Vec<u32> = webp_frames(&display).iter().map(|f| f.0).collect();
    assert_eq!(delays, [40, 90, 250]);
    // The grid marks them as animations, by their format.
    let page = app.get(&format!("/g/{id}")).text();
    assert!(page.contains(">APNG<") && page.contains(">WebP<"), "badges");
}

#[test]
fn a_large_apng_is_shrunk_frame_by_frame_keeping_timing_and_loops() {
    let delays = [(1, 3), (1, 10), (65535, 1000)];
    let png = apng(2600, 600, &delays, 2);
    let out = ingest(&png, "wide.png", &limits()).expect("accepted");
    assert!(out.animated);
    assert!(
        out.original.bytes.len() < png.len(),
        "metadata chunks dropped"
    );
    assert_eq!(out.display.format, MediaFormat::Png);
    let size = fit_within(2600, 600, DISPLAY_EDGE);
    assert_eq!((out.display.width, out.display.height), size);
    assert_eq!(apng_timing(&out.display.bytes), (3, 2, delays.to_vec()));
    let frames = image::codecs::png::PngDecoder::new(Cursor::new(&out.display.bytes))
        .unwrap()
        .apng()
        .unwrap()
        .into_frames();
    for (i, frame) in frames.enumerate() {
        let rgb = image::DynamicImage::ImageRgba8(frame.unwrap().into_buffer()).to_rgb8();
        assert_eq!(rgb.dimensions(), size);
        let want = shade(i as u32);
        let got = mean_rgb(&rgb, 100, 100, 200);
        for c in 0..3 {
            assert!(
                (got[c] - f64::from(want[c])).abs() < 2.0,
                "frame {i}: {got:?}"
            );
        }
    }
    secrets_gone(&out.display.bytes, "display");
    assert_eq!(out.thumb.format, MediaFormat::Jpeg);
}

#[test]
fn a_large_animated_webp_is_shrunk_frame_by_frame_keeping_timing_and_loops() {
    for lossy in [true, false] {
        let webp = webp_anim(2100, 1200, &[40, 80, 120, 0], 4, lossy);
        let out = ingest(&webp, "big.webp", &limits()).expect("accepted");
        assert!(out.animated);
        assert_eq!(out.display.format, MediaFormat::Webp);
        assert_eq!(
            (out.display.width, out.display.height),
            fit_within(2100, 1200, DISPLAY_EDGE)
        );
        let header = animation::header(&out.display.bytes, MediaFormat::Webp)
            .unwrap()
            .unwrap();
        assert_eq!((header.frames, header.loops), (4, 4));
        assert_eq!(header.kind, Kind::Webp { lossy });
        let frames = webp_frames(&out.display.bytes);
        // libwebp needs at least 1 ms a frame; browsers show both as 100 ms.
        let delays: Vec<u32> = frames.iter().map(|f| f.0).collect();
        assert_eq!(delays, [40, 80, 120, 1]);
        for (i, (_, got)) in frames.iter().enumerate() {
            let want = shade(i as u32);
            for c in 0..3 {
                assert!(
                    (got[c] - f64::from(want[c])).abs() < 4.0,
                    "frame {i}: {got:?}"
                );
            }
        }
        secrets_gone(&out.display.bytes, "display");
        secrets_gone(&out.original.bytes, "original");
    }
}

#[test]
fn frames_of_a_tagged_animation_are_converted_to_srgb() {
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let mut png =
        img_parts::png::Png::from_bytes(Bytes::from(apng(2200, 300, &[(1, 10); 2], 0))).unwrap();
    png.set_icc_profile(Some(Bytes::from(p3)));
    let png = png.encoder().bytes().to_vec();
    let out = ingest(&png, "p3.png", &limits()).expect("accepted");
    let frames = image::codecs::png::PngDecoder::new(Cursor::new(&out.display.bytes))
        .unwrap()
        .apng()
        .unwrap()
        .into_frames();
    for (i, frame) in frames.enumerate() {
        let rgb = image::DynamicImage::ImageRgba8(frame.unwrap().into_buffer()).to_rgb8();
        let got = mean_rgb(&rgb, 50, 50, 100);
        let want = moxcms_probe(&shade(i as u32)[..3]);
        for c in 0..3 {
            assert!(
                (got[c] - f64::from(want[c])).abs() < 3.0,
                "frame {i}: {got:?} vs {want:?}"
            );
        }
    }
    assert_ne!(
        moxcms_probe(&shade(0)[..3]),
        shade(0)[..3],
        "P3 and sRGB differ here"
    );
    // The still thumbnail is converted as before.
    let thumb = rgb(&out.thumb.bytes);
    let got = mean_rgb(&thumb, 20, 20, 40);
    let want = moxcms_probe(&shade(0)[..3]);
    for c in 0..3 {
        assert!(
            (got[c] - f64::from(want[c])).abs() < 4.0,
            "thumb: {got:?} vs {want:?}"
        );
    }
}

/// One colour from Display P3 to sRGB by moxcms directly.
fn moxcms_probe(p3: &[u8]) -> [u8; 3] {
    let from = moxcms::ColorProfile::new_display_p3();
    let to = moxcms::ColorProfile::new_srgb();
    let t = from
        .create_transform_8bit(
            moxcms::Layout::Rgb,
            &to,
            moxcms::Layout::Rgb,
            Default::default(),
        )
        .unwrap();
    let mut out = [0u8; 3];
    t.transform(p3, &mut out).unwrap();
    out
}

#[test]
fn animation_bombs_are_refused_from_their_headers() {
    // 4000×4000 declaring 100 000 frames, with image data no decoder could read: refused
    // as too large (413), not as corrupt, so nothing was decoded.
    let mut ihdr = 4000u32.to_be_bytes().repeat(2);
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut actl = 100_000u32.to_be_bytes().to_vec();
    actl.extend_from_slice(&0u32.to_be_bytes());
    let mut fctl = 0u32.to_be_bytes().to_vec();
    fctl.extend_from_slice(&4000u32.to_be_bytes().repeat(2));
    fctl.extend_from_slice(&[0; 8]);
    fctl.extend_from_slice(&[0, 1, 0, 10, 0, 0]);
    let bomb = png_from_chunks(&[
        (b"IHDR", ihdr),
        (b"acTL", actl),
        (b"fcTL", fctl),
        (b"IDAT", b"not deflate".to_vec()),
        (b"IEND", Vec::new()),
    ]);
    let refused = ingest(&bomb, "bomb.png", &limits());
    match refused {
        Err(IngestError::TooManyPixels { detail, .. }) => {
            assert!(detail.contains("100000 frames"), "{detail}")
        }
        other => panic!("{other:?}"),
    }

    // WebP: 12 frames of a 4000×4000 canvas are 192 megapixels.
    let mut riff = b"WEBPVP8X\x0a\0\0\0\x02\0\0\0".to_vec();
    riff.extend_from_slice(&3999u32.to_le_bytes()[..3]);
    riff.extend_from_slice(&3999u32.to_le_bytes()[..3]);
    riff.extend_from_slice(b"ANIM\x06\0\0\0\0\0\0\0\0\0");
    for _ in 0..12 {
        riff.extend_from_slice(b"ANMF\x18\0\0\0");
        riff.extend_from_slice(&[0; 6]);
        riff.extend_from_slice(&3999u32.to_le_bytes()[..3]);
        riff.extend_from_slice(&3999u32.to_le_bytes()[..3]);
        riff.extend_from_slice(&[100, 0, 0, 0]);
        riff.extend_from_slice(b"VP8 \0\0\0\0");
    }
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&(riff.len() as u32).to_le_bytes());
    webp.extend_from_slice(&riff);
    assert!(matches!(
        ingest(&webp, "bomb.webp", &limits()),
        Err(IngestError::TooManyPixels { .. })
    ));

    // Through the API: 413 with the image-too-large code.
    let app = TestApp::new();
    for (name, bytes) in [("bomb.png", &bomb), ("bomb.webp", &webp)] {
        let form = Form::new().file(name, bytes);
        let message = app.refuse(
            "/api/galleries",
            form,
            Status::PayloadTooLarge,
            "image_too_large",
        );
        assert!(message.contains(name), "{message}");
    }
}

#[test]
fn realworld_animations_keep_frames_loops_and_timing() {
    let Some(dir) = testdata("realworld/animated") else {
        return;
    };
    let names = [
        "anim.webp",
        "animated-loop-3.webp",
        "big-height.webp",
        "ball-apng.png",
        "rgba16-apng.png",
    ];
    let app = TestApp::new();
    let files: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
        .collect();
    for (name, bytes) in &files {
        let format = if name.ends_with(".png") {
            MediaFormat::Png
        } else {
            MediaFormat::Webp
        };
        let out = ingest(bytes, name, &limits()).expect(name);
        assert!(out.animated, "{name}");
        let source = animation::header(bytes, format).unwrap().expect(name);
        let shown = animation::header(&out.display.bytes, format)
            .unwrap()
            .expect(name);
        assert_eq!(shown, source, "{name}: frames, loops and canvas");
        if format == MediaFormat::Png {
            let (frames, plays, delays) = apng_timing(bytes);
            assert_eq!(
                apng_timing(&out.display.bytes),
                (frames, plays, delays),
                "{name}"
            );
            assert_eq!(frames, source.frames);
        } else {
            let timing = |b: &[u8]| webp_frames(b).into_iter().map(|f| f.0).collect::<Vec<_>>();
            let delays = timing(bytes);
            assert_eq!(delays.len() as u32, source.frames, "{name}: frames decoded");
            assert_eq!(timing(&out.display.bytes), delays, "{name}: timing");
        }
        eprintln!(
            "{name}: {}×{}, {} frames, loops {}",
            source.width, source.height, source.frames, source.loops
        );
        check_outputs(&out, name);
    }
    let upload: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let json = app.create(&upload);
    for i in 0..names.len() {
        assert_eq!(json["images"][i]["animated"], true, "{}", names[i]);
    }
}
