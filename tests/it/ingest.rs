//! The ingest pipeline on real-world corpora (PngSuite, EXIF orientation samples) and on
//! broken input, called directly and through the API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crate::common::*;
use image::GenericImageView;
use maiimg::domain::ingest::{
    DISPLAY_EDGE, IngestError, Ingested, Limits, THUMB_EDGE, fit_within, ingest,
};
use maiimg::model::MediaFormat;
use rocket::http::Status;

mod animation;
pub(crate) mod colour;
mod corpora;
mod heif;
mod heif_container;
mod jpeg;
mod seeds;

fn limits() -> Limits {
    Limits {
        max_file_bytes: 50 * 1024 * 1024,
        max_pixels: 50_000_000,
        max_dimension: 20_000,
    }
}

/// `../shared/testdata/<name>`, or `None` (with a visible note) when it is not there.
fn testdata(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata")
        .join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: ../shared/testdata not found ({} is missing)",
            dir.display()
        );
        None
    }
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        .collect();
    out.sort();
    out
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_owned()
}

fn rgb(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory(bytes)
        .expect("rendition decodes")
        .to_rgb8()
}

/// Every output decodes to the size the record claims, renditions fit their edges.
fn check_outputs(out: &Ingested, what: &str) {
    for (label, e) in [
        ("original", &out.original),
        ("display", &out.display),
        ("thumb", &out.thumb),
    ] {
        let decoded =
            image::load_from_memory(&e.bytes).unwrap_or_else(|err| panic!("{what} {label}: {err}"));
        assert_eq!(
            (decoded.width(), decoded.height()),
            (e.width, e.height),
            "{what} {label}"
        );
        assert_no_metadata(&e.bytes, &format!("{what} {label}"));
    }
    let (w, h) = (out.original.width, out.original.height);
    let display = (out.display.width, out.display.height);
    // A JPEG whose half size falls short of the display edge by less than a tenth is shown
    // at exactly half size, decoded at 1/2 in the DCT; its thumbnail is made from that.
    let half = (w.div_ceil(2), h.div_ceil(2));
    let long_half = half.0.max(half.1);
    let halved = out.original.format == MediaFormat::Jpeg
        && long_half < DISPLAY_EDGE
        && long_half * 10 >= DISPLAY_EDGE * 9;
    let (expected, from) = if halved {
        (half, half)
    } else {
        (fit_within(w, h, DISPLAY_EDGE), (w, h))
    };
    assert_eq!(display, expected, "{what}");
    assert_eq!(
        (out.thumb.width, out.thumb.height),
        fit_within(from.0, from.1, THUMB_EDGE),
        "{what}"
    );
}

#[test]
fn broken_and_foreign_input_is_refused() {
    let good_jpeg = jpeg(400, 300, 3);
    let good_png = png_rgb(400, 300);
    let corrupt = |bytes: &[u8], name: &str| match ingest(bytes, name, &limits()) {
        Err(IngestError::Corrupt { name: n, .. }) => assert_eq!(n, name),
        other => panic!("{name}: expected Corrupt, got {other:?}"),
    };
    corrupt(&good_jpeg[..good_jpeg.len() / 2], "half.jpg");
    corrupt(&good_jpeg[..good_jpeg.len() - 2], "no-eoi.jpg");
    corrupt(&good_png[..good_png.len() / 2], "half.png");
    corrupt(&good_png[..good_png.len() - 12], "no-iend.png");
    let gif = gif_animated(40, 40, 3);
    corrupt(&gif[..gif.len() / 2], "half.gif");
    let webp = webp_lossless(200, 100);
    corrupt(&webp[..webp.len() / 2], "half.webp");

    assert!(matches!(
        ingest(&[], "empty.jpg", &limits()),
        Err(IngestError::Empty { .. })
    ));
    let mut state = 0x2545_F491_u32;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    match ingest(&random, "noise.jpg", &limits()) {
        Err(IngestError::Unsupported { name, .. }) => assert_eq!(name, "noise.jpg"),
        other => panic!("random bytes: expected Unsupported, got {other:?}"),
    }
    for (bytes, what) in [
        (&b"BM6\x00\x00\x00\x00\x00\x00\x006\x00\x00\x00"[..], "BMP"),
        // A video in the box layout HEIC and AVIF share.
        (b"\0\0\0\x18ftypisom\0\0\0\0isommp42", "MP4"),
    ] {
        match ingest(bytes, "photo.jpg", &limits()) {
            Err(IngestError::Unsupported { detected, .. }) => {
                assert!(detected.contains(what), "{what} described as {detected}")
            }
            other => panic!("{what}: expected Unsupported, got {other:?}"),
        }
    }
    // A HEIC's first bytes and nothing else: accepted by its brand, then found damaged.
    assert!(matches!(
        ingest(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "cut.heic", &limits()),
        Err(IngestError::Corrupt { format: "HEIC", .. })
    ));
    let small = Limits {
        max_file_bytes: 1024,
        ..limits()
    };
    assert!(matches!(
        ingest(&good_jpeg, "big.jpg", &small),
        Err(IngestError::TooLarge { limit: 1024, .. })
    ));
}

#[test]
fn large_animation_is_shrunk_but_stays_animated() {
    let gif = gif_animated(2100, 16, 3);
    let out = ingest(&gif, "wide.gif", &limits()).expect("wide gif");
    assert!(out.animated);
    assert_eq!(out.original.format, MediaFormat::Gif);
    assert_eq!(gif_frame_count(&out.original.bytes), 3);
    assert_eq!(out.display.format, MediaFormat::Gif);
    assert_eq!(
        (out.display.width, out.display.height),
        fit_within(2100, 16, DISPLAY_EDGE)
    );
    assert_eq!(gif_frame_count(&out.display.bytes), 3);
    assert_ne!(out.thumb.format, MediaFormat::Gif);
    check_outputs(&out, "wide.gif");

    // Frames are summed against max_pixels: 10 frames of 100×100 exceed 50 000 pixels.
    let tight = Limits {
        max_pixels: 50_000,
        ..limits()
    };
    assert!(matches!(
        ingest(&gif_animated(100, 100, 10), "long.gif", &tight),
        Err(IngestError::TooManyPixels { .. })
    ));
}

#[test]
fn served_renditions_can_be_uploaded_again_unchanged() {
    // maiimg decodes with the same library everyone using `image` does: what it serves must
    // decode there in true colours (a non-interleaved JPEG decodes to green garbage).
    let app = TestApp::new();
    let source = red_corner(900, 600);
    let first = app.create(&[("photo.jpg", &jpeg_of(&source, 92))]);
    let id = first["id"].as_str().expect("id");
    let display = app.image(id, 0, "display");
    assert_eq!(display.status, Status::Ok);
    let diff = mean_abs_diff(&rgb(&display.body), &source);
    assert!(diff < 6.0, "display decodes with wrong colours ({diff:.1})");

    let again = app.create(&[("again.jpg", &display.body)]);
    let id2 = again["id"].as_str().expect("id");
    let thumb = rgb(&app.image(id2, 0, "thumb").body);
    assert_eq!(thumb.dimensions(), (480, 320));
    assert!(
        is_red(mean_rgb(&thumb, 2, 2, 14)),
        "red corner lost: {:?}",
        mean_rgb(&thumb, 2, 2, 14)
    );
    let grey = mean_rgb(&thumb, 200, 200, 40);
    assert!(
        grey.iter().all(|c| (c - 120.0).abs() < 10.0),
        "grey area came out {grey:?}"
    );
}

#[test]
fn large_images_get_bounded_renditions() {
    let app = TestApp::new();
    let json = app.create(&[("big.jpg", &jpeg(3000, 1500, 3))]);
    let id = field(&json, "id");
    let dims = |r: &str| decode(&app.image(id, 0, r).body).dimensions();
    assert_eq!(dims("original"), (3000, 1500));
    assert_eq!(dims("display"), (2048, 1024));
    assert_eq!(dims("thumb"), (480, 240));
}

#[test]
fn animated_gif_keeps_animation_in_display_only() {
    let app = TestApp::new();
    let gif = gif_animated(80, 60, 5);
    assert_eq!(gif_frame_count(&gif), 5);
    let json = app.create(&[("anim.gif", &gif)]);
    let id = field(&json, "id");
    assert_eq!(json["images"][0]["animated"], true);
    let display = app.image(id, 0, "display");
    assert_eq!(display.ctype(), "image/gif");
    assert_eq!(gif_frame_count(&display.body), 5);
    let thumb = app.image(id, 0, "thumb");
    assert_ne!(thumb.ctype(), "image/gif");
    assert_eq!(decode(&thumb.body).dimensions(), (80, 60));
    assert!(app.get(&format!("/g/{id}")).text().contains("GIF"));
}

#[test]
fn exif_and_gps_are_stripped_and_orientation_is_applied() {
    let app = TestApp::new();
    let fixture = with_exif(&jpeg_of(&red_corner(300, 200), 92), 6);
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&fixture));
    let exif = exif.expect("the fixture has EXIF");
    let tag = |t| exif.get_field(t, exif::In::PRIMARY);
    let orientation = tag(exif::Tag::Orientation).expect("orientation");
    assert_eq!(orientation.value.get_uint(0), Some(6));
    assert!(tag(exif::Tag::GPSLatitude).is_some() && tag(exif::Tag::GPSLongitude).is_some());

    let json = app.create(&[("holiday.jpg", &fixture)]);
    let id = field(&json, "id");
    assert_eq!(size(&json["images"][0]), (200, 300));
    for rendition in ["original", "display", "thumb"] {
        let served = app.image(id, 0, rendition);
        assert_eq!(served.status, Status::Ok);
        assert_no_metadata(&served.body, rendition);
        let image = decode(&served.body).to_rgb8();
        assert_eq!(image.dimensions(), (200, 300), "{rendition} is not rotated");
        let red = is_red(mean_rgb(&image, 170, 5, 20));
        assert!(red, "{rendition}: red corner not top-right");
        for (x, y) in [(5, 5), (5, 275), (175, 275)] {
            let red = is_red(mean_rgb(&image, x, y, 20));
            assert!(!red, "{rendition}: red at ({x},{y})");
        }
    }

    // With orientation 1 the original keeps its exact pixels (stripped, not re-encoded).
    let plain = jpeg(120, 80, 5);
    let json = app.create(&[("plain.jpg", &with_exif(&plain, 1))]);
    let original = app.image(field(&json, "id"), 0, "original");
    assert_no_metadata(&original.body, "plain original");
    assert_eq!(decode(&original.body).to_rgb8(), decode(&plain).to_rgb8());
}
