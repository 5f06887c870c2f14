//! The JPEG path on libjpeg-turbo: arithmetic coding, damaged scans, lossless rotation
//! against the real `jpegtran`, and renditions decoded at a DCT scale.

use std::process::Command;

use super::*;

/// A 4:2:0 JPEG of `image` at q90 with `icc` embedded and, when not 1, an EXIF orientation.
fn tagged_jpeg(image: &image::RgbImage, icc: &[u8], orientation: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 90);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder.add_icc_profile(icc).expect("profile");
    let (w, h) = (image.width() as u16, image.height() as u16);
    encoder
        .encode(image.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encoded");
    if orientation == 1 {
        bytes
    } else {
        with_exif(&bytes, orientation)
    }
}

fn p3() -> Vec<u8> {
    moxcms::ColorProfile::new_display_p3()
        .encode()
        .expect("a P3 profile")
}

fn icc_of(jpeg: &[u8]) -> Option<Vec<u8>> {
    let parsed = img_parts::jpeg::Jpeg::from_bytes(jpeg.to_vec().into()).expect("a JPEG");
    img_parts::ImageICC::icc_profile(&parsed).map(|p| p.to_vec())
}

/// `jpegtran <args> file`'s output, or `None` (with a visible note) where it is absent.
fn jpegtran(args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("in.jpg");
    std::fs::write(&path, input).expect("written");
    let out = match Command::new("jpegtran").args(args).arg(&path).output() {
        Ok(out) => out,
        Err(_) => {
            eprintln!("SKIPPED: jpegtran not found (apt-get install libjpeg-turbo-progs)");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "jpegtran {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

/// jpegtran's operation for an EXIF orientation.
fn operation(orientation: u16) -> &'static [&'static str] {
    match orientation {
        2 => &["-flip", "horizontal"],
        3 => &["-rotate", "180"],
        4 => &["-flip", "vertical"],
        5 => &["-transpose"],
        6 => &["-rotate", "90"],
        7 => &["-transverse"],
        8 => &["-rotate", "270"],
        _ => &[],
    }
}

#[test]
fn rotated_originals_are_jpegtrans_lossless_result_with_their_profile() {
    let icc = p3();
    // 4:2:0 moves 16×16 blocks: 96×64 is aligned, so `-perfect` succeeds.
    let source = pattern(96, 64, 9);
    for orientation in 2..=8 {
        let upload = tagged_jpeg(&source, &icc, orientation);
        let out = ingest(&upload, "phone.jpg", &limits()).expect("accepted");
        check_outputs(&out, &format!("orientation {orientation}"));
        let mut args = operation(orientation).to_vec();
        args.extend(["-perfect", "-copy", "icc"]);
        let Some(reference) = jpegtran(&args, &upload) else {
            return;
        };
        assert_eq!(
            rgb(&out.original.bytes),
            rgb(&reference),
            "orientation {orientation}: not jpegtran's pixels"
        );
        assert_eq!(icc_of(&out.original.bytes), Some(icc.clone()), "profile");
        assert_eq!(icc_of(&reference), Some(icc.clone()), "jpegtran's profile");
        // Renditions are the same upright picture.
        let display = rgb(&out.display.bytes);
        assert_eq!(display.dimensions(), rgb(&reference).dimensions());
    }
}

#[test]
fn realworld_rotated_photos_match_jpegtran() {
    let Some(dir) = testdata("realworld/orientation") else {
        return;
    };
    for path in files(&dir, "jpg") {
        let bytes = std::fs::read(&path).expect("read");
        let what = stem(&path);
        let out = ingest(&bytes, &what, &limits()).unwrap_or_else(|e| panic!("{what}: {e}"));
        check_outputs(&out, &what);
        let orientation = exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(&bytes))
            .ok()
            .and_then(|e| {
                e.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?
                    .value
                    .get_uint(0)
            })
            .unwrap_or(1) as u16;
        if orientation == 1 {
            continue;
        }
        let mut args = operation(orientation).to_vec();
        args.extend(["-trim", "-copy", "icc"]);
        let Some(reference) = jpegtran(&args, &bytes) else {
            return;
        };
        assert_eq!(
            rgb(&out.original.bytes),
            rgb(&reference),
            "{what}: not jpegtran's pixels"
        );
        assert_eq!(icc_of(&out.original.bytes), icc_of(&bytes), "{what}");
    }
}

#[test]
fn arithmetic_coded_jpeg_is_accepted() {
    let Some(dir) = testdata("realworld/formats") else {
        return;
    };
    let read = |f: &str| std::fs::read(dir.join(f)).expect("corpus file");
    let arithmetic = ingest(&read("testimgari.jpg"), "ari.jpg", &limits()).expect("accepted");
    check_outputs(&arithmetic, "testimgari");
    // The same picture as libjpeg's Huffman-coded test image.
    let huffman = ingest(&read("testorig.jpg"), "orig.jpg", &limits()).expect("accepted");
    let diff = mean_abs_diff(
        &rgb(&arithmetic.display.bytes),
        &rgb(&huffman.display.bytes),
    );
    assert!(diff < 3.0, "differs from testorig by {diff:.1} per channel");
}

#[test]
fn a_damaged_scan_is_refused_naming_the_damage() {
    if let Some(dir) = testdata("realworld/broken") {
        let bytes = std::fs::read(dir.join("corrupted.jpg")).expect("corpus file");
        let refused = ingest(&bytes, "corrupted.jpg", &limits()).expect_err("refused");
        assert!(
            matches!(refused, IngestError::Corrupt { .. }),
            "{refused:?}"
        );
        let text = refused.to_string();
        // libjpeg's first warning on it (the one TurboJPEG keeps); djpeg prints the same.
        assert!(
            text.contains(
                "damaged: a stretch of the image data is missing (premature end of data segment)"
            ),
            "{text}"
        );
    }
    // Made here: restart markers every MCU row, one of them replaced by the wrong one.
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 90);
    encoder.set_restart_interval(4);
    encoder
        .encode(
            pattern(64, 64, 1).as_raw(),
            64,
            64,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("encoded");
    let rst = bytes
        .windows(2)
        .rposition(|w| w == [0xFF, 0xD2])
        .expect("a third restart marker");
    let mut damaged = bytes.clone();
    damaged[rst + 1] = 0xD6;
    let refused = ingest(&damaged, "damaged.jpg", &limits()).expect_err("refused");
    assert!(refused.to_string().contains("instead of RST2"), "{refused}");
    // Bytes left over before the end-of-image marker lose nothing: accepted.
    let mut padded = bytes[..bytes.len() - 2].to_vec();
    padded.extend_from_slice(&[0x12, 0x34, 0x56, 0x78, 0xFF, 0xD9]);
    let out = ingest(&padded, "padded.jpg", &limits()).expect("accepted");
    assert!(mean_abs_diff(&rgb(&out.display.bytes), &rgb(&bytes)) < 3.0);
}

#[test]
fn camera_and_phone_jpegs_are_still_accepted() {
    let Some(root) = testdata("realworld") else {
        return;
    };
    let refused_by_name = ["monkey12", "testimgl"];
    let mut seen = 0;
    for folder in ["camera", "orientation", "colour", "formats"] {
        let dir = root.join(folder);
        let mut paths = files(&dir, "jpg");
        paths.extend(files(&dir, "jpeg"));
        for path in paths {
            let what = format!("{folder}/{}", stem(&path));
            if refused_by_name.contains(&stem(&path).as_str()) {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read");
            let out = ingest(&bytes, &what, &limits()).unwrap_or_else(|e| panic!("{what}: {e}"));
            check_outputs(&out, &what);
            seen += 1;
        }
    }
    assert!(seen > 40, "only {seen} JPEGs found");
}

#[test]
fn a_12_megapixel_photo_is_displayed_at_half_size_and_looks_as_good() {
    let photo = pattern(4000, 3000, 7);
    let upload = jpeg_of(&photo, 92);
    let out = ingest(&upload, "photo.jpg", &limits()).expect("accepted");
    assert_eq!((out.display.width, out.display.height), (2000, 1500));
    assert_eq!((out.thumb.width, out.thumb.height), (480, 360));
    // Against the full image resized the way other formats are (Catmull-Rom) and encoded
    // as renditions are: the difference is no larger than that encoding's own loss, so
    // halving in the DCT costs nothing a resize would not.
    let full = rgb(&upload);
    let resized = image::imageops::resize(&full, 2000, 1500, image::imageops::CatmullRom);
    let diff = mean_abs_diff(&rgb(&out.display.bytes), &resized);
    let mut encoded = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut encoded, 80);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder
        .encode(resized.as_raw(), 2000, 1500, jpeg_encoder::ColorType::Rgb)
        .expect("encoded");
    let encoding_loss = mean_abs_diff(&rgb(&encoded), &resized);
    assert!(
        diff <= encoding_loss * 1.1 + 0.2,
        "display differs by {diff:.2} per channel, encoding alone by {encoding_loss:.2}"
    );
    // Under nine tenths of the display edge at half size: decoded whole and resized.
    let smaller = ingest(&jpeg(3000, 2000, 3), "smaller.jpg", &limits()).expect("accepted");
    assert_eq!(
        (smaller.display.width, smaller.display.height),
        fit_within(3000, 2000, DISPLAY_EDGE)
    );
}
