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

/// Bytes left over at the end of the last scan (libjpeg warns "extraneous bytes before
/// marker 0xd9" and shows the whole picture; the file the `jpeg` fuzz target found had
/// them) are accepted upright, so they are accepted turned too, with the picture intact.
#[test]
fn leftover_bytes_before_the_end_turn_like_any_photo() {
    let clean = jpeg(227, 149, 7);
    let end = clean.len() - 2;
    let mut padded = clean[..end].to_vec();
    padded.extend((0..18_351u32).map(|i| (i * 37 % 251) as u8 | 1));
    padded.extend_from_slice(&clean[end..]);
    for orientation in [1u16, 3, 5, 6, 7, 8] {
        let file = with_exif(&padded, orientation);
        let done = ingest(&file, "padded.jpg", &limits())
            .unwrap_or_else(|e| panic!("orientation {orientation}: {e}"));
        let (w, h) = if orientation >= 5 {
            (149, 227)
        } else {
            (227, 149)
        };
        let original = image::load_from_memory(&done.original.bytes).expect("decodes");
        assert!(
            original.width().abs_diff(w) < 16 && original.height().abs_diff(h) < 16,
            "orientation {orientation}: {}×{}",
            original.width(),
            original.height()
        );
    }
}

/// A 434-byte JPEG the `jpeg` fuzz target found (and shrank): it decodes, but libjpeg-turbo's
/// transpose and transverse make files of it that do not. Every orientation is accepted
/// the same: the turns that cannot be done losslessly are done in pixels.
#[test]
fn a_file_the_lossless_turn_garbles_is_turned_in_pixels() {
    let hex = "ffd8ffe000104a46494600010100000100010100ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27edffffff3c2e333432ffdb0043010909090c0b0c180d0d1832211c213232323232323232323232323232323232323232323232323232323232323232323232323232323232323232323232323232ffc0001108009500e303012200021101031101ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b511000201020404030407050404000102770001020311040521310612415107f2e5cb9f1efdfd1ebf6fb311e7e3e7f2f97c9abb9998c72d474e9d775cf10000000000101625b42149d456c3ec9d9b0fdda18731bdc4e832079fa8b13d8b5ab15836f968ab9f4a40164d3c92a338a28ace3f0a335b1cfb380c463f5a28a2b7353fffd9a7a8a9aab2b3b4b50000b8b9bac2c3c4c5c6c7c8c9cad2d3d481000000d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311003f5894b1ad146e73b9d8b96ebd4d308706b532f80cee140eb7353fffd9";
    let source: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let mut garbled = Vec::new();
    for exif in 1..=8u8 {
        if let Ok(turned) = maiimg::domain::ingest::jpeg::turned(&source, exif, false)
            && maiimg::domain::ingest::jpeg::decoded_size(&turned, 8).is_err()
        {
            garbled.push(exif);
        }
        let file = with_exif(&source, u16::from(exif));
        let done = ingest(&file, "found.jpg", &limits())
            .unwrap_or_else(|e| panic!("orientation {exif}: {e}"));
        // Judged by libjpeg-turbo, which reads this odd file (not every decoder does).
        let (width, height) = maiimg::domain::ingest::jpeg::decoded_size(&done.original.bytes, 1)
            .unwrap_or_else(|e| panic!("orientation {exif}: the original: {e}"));
        let (w, h) = if exif >= 5 { (149, 227) } else { (227, 149) };
        assert!(
            width.abs_diff(w) < 16 && height.abs_diff(h) < 16,
            "orientation {exif}: {width}×{height}"
        );
    }
    assert!(
        !garbled.is_empty(),
        "the lossless turn garbles none: the test tests nothing"
    );
}
