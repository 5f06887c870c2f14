//! HEIC/HEIF and AVIF: the realworld files against their reference renderings (upright,
//! colours, no metadata), refusals from the header, and fixtures encoded here with heifer.

use std::io::Cursor;
use std::time::Instant;

use super::*;

/// Fail if served HEIF/AVIF bytes carry EXIF, XMP or the GPS position of `source`: the
/// checks every served file passes, then the payloads themselves (a TIFF header, the XMP
/// packet, any 24 bytes of the source's EXIF block, its GPS IFD among them).
pub fn assert_no_heif_metadata(served: &[u8], source: &[u8], what: &str) {
    assert_no_metadata(served, what);
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for needle in [
        &b"Exif\0\0MM\0*"[..],
        b"Exif\0\0II*\0",
        b"<x:xmpmeta",
        b"<?xpacket",
    ] {
        assert!(!contains(served, needle), "{what} carries {needle:?}");
    }
    let meta = heifer::read_metadata(source).expect("the source's metadata");
    if let Some(exif) = &meta.exif {
        // Any 24 bytes of the source's EXIF block (its GPS IFD among them).
        for window in exif
            .chunks(24)
            .filter(|c| c.len() == 24 && c.iter().any(|b| *b != 0))
        {
            assert!(!contains(served, window), "{what} carries EXIF bytes");
        }
    }
    if heifer::read_metadata(served)
        .is_ok_and(|m| m.exif.is_some() || m.xmp.is_some_and(|x| x.iter().any(|b| *b != 0)))
    {
        panic!("{what} still has readable EXIF or XMP");
    }
}

/// `image` over white: a transparent pixel's colour says nothing (the references keep
/// zeros there, renditions what the encoder left).
fn flat(image: &image::DynamicImage) -> image::RgbImage {
    let rgba = image.to_rgba8();
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        image::Rgb([0, 1, 2].map(|c| ((u32::from(p[c]) * a + 255 * (255 - a)) / 255) as u8))
    })
}

fn reference(name: &str) -> Option<image::RgbImage> {
    let path = testdata("realworld/refs")?.join(format!("{name}.png"));
    path.is_file()
        .then(|| flat(&image::open(path).expect("a reference PNG")))
}

/// Mean |Δ| of `jpeg` (a rendition, over white),
/// shrunk to the reference's size, against the reference.
fn delta_to_reference(jpeg: &[u8], reference: &image::RgbImage) -> f64 {
    let (w, h) = reference.dimensions();
    let ours = image::load_from_memory(jpeg).expect("the JPEG decodes");
    let small = ours.resize_exact(w, h, image::imageops::FilterType::Triangle);
    mean_abs_diff(&flat(&small), reference)
}

#[test]
fn realworld_heic_and_avif_come_out_upright_like_their_references_without_metadata() {
    let Some(dir) = testdata("realworld") else {
        return;
    };
    let mut table = Vec::new();
    let mut worst = 0f64;
    for folder in ["heif", "avif"] {
        for entry in std::fs::read_dir(dir.join(folder)).expect("read dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).expect("read");
            let started = Instant::now();
            let result = ingest(&bytes, &name, &limits());
            let ms = started.elapsed().as_millis();
            if name == "17000x17000.avif" {
                let refused = matches!(result, Err(IngestError::TooManyPixels { .. }));
                assert!(refused, "refused from the header: {:?}", result.err());
                continue;
            }
            // (`candle_animation.heic` is an image sequence that also holds a still item:
            // the still is what is kept, as for a Live Photo.)
            let out = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let expected = if folder == "heif" {
                MediaFormat::Heic
            } else {
                MediaFormat::Avif
            };
            assert_eq!(out.original.format, expected, "{name}");
            assert_no_heif_metadata(&out.original.bytes, &bytes, &name);
            let download = out.download.as_ref().expect("a JPEG for downloads");
            assert_eq!(download.format, MediaFormat::Jpeg, "{name}");
            assert_eq!(
                (download.width, download.height),
                (out.original.width, out.original.height)
            );
            for (label, e) in [
                ("display", &out.display),
                ("thumb", &out.thumb),
                ("download", download),
            ] {
                assert_no_metadata(&e.bytes, &format!("{name} {label}"));
                let decoded = decode(&e.bytes);
                assert_eq!(
                    (decoded.width(), decoded.height()),
                    (e.width, e.height),
                    "{name} {label}"
                );
            }
            let Some(reference) = reference(&name) else {
                continue;
            };
            let (rw, rh) = reference.dimensions();
            let (w, h) = (out.original.width, out.original.height);
            // Upright: the same orientation as the reference (portrait stays portrait).
            assert_eq!(
                w > h,
                rw > rh,
                "{name}: {w}×{h} against the reference's {rw}×{rh}"
            );
            // The references are sRGB renderings (colour-managed, transparency kept): what
            // the display rendition is. (The JPEG copy keeps the source's gamut: checked on
            // generated files below.)
            let reference = if name == "Monochrome.avif" {
                // Limited-range grey: libheif, which rendered the references, copies a
                // monochrome image's luma as it is; the AV1 and H.273 range (as libavif and
                // browsers read it) maps 16–235 to black–white, as done here.
                let mut expanded = reference;
                expanded
                    .pixels_mut()
                    .flat_map(|p| p.0.iter_mut())
                    .for_each(|v| {
                        *v = ((f64::from(*v) - 16.0) * 255.0 / 219.0)
                            .round()
                            .clamp(0.0, 255.0) as u8;
                    });
                expanded
            } else {
                reference
            };
            let delta = delta_to_reference(&out.display.bytes, &reference);
            let ours = middle(&out.display.bytes);
            let theirs = mean_rgb(&reference, rw / 4, rh / 4, rw.min(rh) / 2);
            table.push(format!(
                "{name:32} {w:>5}×{h:<5} mean |Δ| {delta:5.2} {ms:>6} ms  middle {:?} ref {:?}",
                ours.map(|v| v.round()),
                theirs.map(|v| v.round())
            ));
            let off = ours
                .iter()
                .zip(theirs)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(off < 4.0, "{name}: mean colour {ours:?} against {theirs:?}");
            worst = worst.max(delta);
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(worst < 5.0, "mean |Δ| {worst:.2} against a reference");
}

#[test]
fn the_header_alone_refuses_an_oversized_avif() {
    let Some(dir) = testdata("realworld/avif") else {
        return;
    };
    let bytes = std::fs::read(dir.join("17000x17000.avif")).expect("read");
    let checked = maiimg::domain::ingest::check_header(&bytes, &limits());
    match checked {
        Err(IngestError::TooManyPixels { detail, .. }) => {
            assert!(detail.contains("17000×17000"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
}

/// The mean colour of the middle of an encoded image.
fn middle(bytes: &[u8]) -> [f64; 3] {
    let image = flat(&decode(bytes));
    let (w, h) = image.dimensions();
    mean_rgb(&image, w / 4, h / 4, w.min(h) / 2)
}

#[test]
fn generated_heics_keep_their_size_colour_and_no_metadata() {
    // EXIF orientation 6 inside a HEIC is not applied: only `irot` turns an image.
    let plain = heic(640, 480, &HeicExtras::default());
    let out = ingest(&plain, "plain.heic", &limits()).expect("accepted");
    assert_eq!((out.original.width, out.original.height), (640, 480));
    assert_eq!((out.display.width, out.display.height), (640, 480));
    assert_no_heif_metadata(&out.original.bytes, &plain, "generated original");
    assert!(
        !out.original
            .bytes
            .windows(SECRET.len())
            .any(|w| w == SECRET)
    );
    let reference = pattern(640, 480, 7);
    let download = decode(&out.download.as_ref().expect("a JPEG").bytes).to_rgb8();
    let delta = mean_abs_diff(&download, &reference);
    assert!(
        delta < 3.0,
        "mean |Δ| {delta:.2} after HEVC q90 and JPEG q92"
    );

    // A Display P3 HEIC, as iPhones write: renditions in sRGB, the JPEG keeps P3 and says so.
    let p3_colour = image::Rgb([200u8, 120, 80]);
    let solid = image::RgbImage::from_pixel(256, 256, p3_colour);
    let extras = HeicExtras {
        display_p3: true,
        exif_orientation: None,
        ..HeicExtras::default()
    };
    let out = ingest(&heic_of(&solid, &extras), "p3.heic", &limits()).expect("accepted");
    let srgb = {
        let p3 = moxcms::ColorProfile::new_display_p3();
        let to = moxcms::ColorProfile::new_srgb();
        let layout = moxcms::Layout::Rgb;
        let t = p3
            .create_transform_8bit(layout, &to, layout, moxcms::TransformOptions::default())
            .expect("a transform");
        let mut out = [0u8; 3];
        t.transform(&p3_colour.0, &mut out).expect("converted");
        out
    };
    let display = middle(&out.display.bytes);
    for (got, want) in display.iter().zip(srgb) {
        assert!(
            (got - f64::from(want)).abs() < 4.0,
            "display {display:?}, sRGB {srgb:?}"
        );
    }
    let download = &out.download.as_ref().expect("a JPEG").bytes;
    let kept = middle(download);
    for (got, want) in kept.iter().zip(p3_colour.0) {
        assert!(
            (got - f64::from(want)).abs() < 4.0,
            "JPEG {kept:?}, P3 {p3_colour:?}"
        );
    }
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(download)).expect("a JPEG");
    let icc = image::ImageDecoder::icc_profile(&mut decoder)
        .expect("read")
        .expect("a profile");
    let profile = moxcms::ColorProfile::new_from_slice(&icc).expect("it parses");
    assert_ne!(
        profile.red_colorant,
        moxcms::ColorProfile::new_srgb().red_colorant
    );

    // 10-bit (HEVC Main 10) and a transparent half.
    let extras = HeicExtras {
        ten_bit: true,
        alpha: true,
        ..HeicExtras::default()
    };
    let out = ingest(&heic(320, 200, &extras), "deep.heic", &limits()).expect("accepted");
    assert_eq!(out.display.format, MediaFormat::Webp, "transparency kept");
    let display = decode(&out.display.bytes).to_rgba8();
    assert_eq!(display.get_pixel(10, 100)[3], 0);
    assert_eq!(display.get_pixel(300, 100)[3], 255);
    let jpeg = out.download.expect("a JPEG");
    assert_eq!(
        jpeg.format,
        MediaFormat::Jpeg,
        "over white, for anyone's viewer"
    );
    let flat = decode(&jpeg.bytes).to_rgb8();
    assert!(flat.get_pixel(10, 100).0.iter().all(|v| *v > 245), "white");
}

#[test]
fn damaged_heics_are_refused_as_corrupt() {
    let good = heic(320, 240, &HeicExtras::default());
    for cut in [good.len() / 2, good.len() - 10, 40] {
        match ingest(&good[..cut], "cut.heic", &limits()) {
            Err(IngestError::Corrupt { format, .. }) => assert_eq!(format, "HEIC"),
            other => panic!("cut at {cut}: {:?}", other.map(|o| o.name)),
        }
    }
}
