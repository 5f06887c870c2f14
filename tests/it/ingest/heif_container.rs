//! The HEIF/AVIF container layer on the real-world files in ../shared/testdata/realworld
//! (iPhone grids, 10-bit, alpha, irot, monochrome), where present: each is stripped, parsed
//! again and, where libheif's tools are installed, decoded before and after.

use super::*;
use maiimg::domain::ingest::heif::{self, HeifError};
use std::process::Command;

fn realworld() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for (dir, exts) in [
        ("realworld/heif", &["heic", "heif"][..]),
        ("realworld/avif", &["avif"]),
    ] {
        if let Some(dir) = testdata(dir) {
            for ext in exts {
                all.extend(files(&dir, ext));
            }
        }
    }
    all
}

/// Whether the bytes still hold an EXIF block, an XMP packet or a GPS IFD tag.
fn metadata_marker(bytes: &[u8]) -> Option<&'static str> {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if has(b"Exif\0\0") {
        return Some("Exif\\0\\0");
    }
    if has(b"<x:xmpmeta") || has(b"http://ns.adobe.com/xap") {
        return Some("XMP");
    }
    // A big-endian TIFF header followed (somewhere) by the GPS IFD pointer tag 0x8825.
    if has(b"MM\0\x2a") && has(&[0x88, 0x25, 0x00, 0x04]) {
        return Some("TIFF with a GPS IFD");
    }
    None
}

/// `tool args…`, or `None` (noted visibly) when it is not installed.
fn run(tool: &str, args: &[&std::ffi::OsStr]) -> Option<std::process::Output> {
    match Command::new(tool).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "SKIPPED: {tool} is not installed (Debian: libheif-examples, libvips-tools, exiftool)"
            );
            None
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}

/// The primary image as libheif decodes it (through libvips, which loads the primary item
/// and applies its transforms), or `None` when the tools are missing or refuse the file.
fn decoded(path: &Path) -> Option<image::DynamicImage> {
    let out = tempfile::Builder::new()
        .suffix(".png")
        .tempfile()
        .expect("temp file");
    let done = run(
        "vips",
        &["copy".as_ref(), path.as_os_str(), out.path().as_os_str()],
    )?;
    if !done.status.success() {
        return None;
    }
    Some(image::open(out.path()).expect("vips's PNG"))
}

/// libheif 1.15 refuses a file whose major brand is that of a sequence (`avis`), even with a
/// still primary image; the same file with only that brand changed is the reference then.
fn as_still(bytes: &[u8], dir: &Path, name: &str) -> Option<image::DynamicImage> {
    let still: &[u8; 4] = match bytes.get(8..12)? {
        b"avis" => b"avif",
        b"msf1" => b"mif1",
        _ => return None,
    };
    let mut patched = bytes.to_vec();
    patched[8..12].copy_from_slice(still);
    let path = dir.join(format!("{name}.still"));
    std::fs::write(&path, patched).expect("write");
    decoded(&path)
}

#[test]
fn realworld_heif_and_avif_strip_to_the_same_image_without_metadata() {
    let all = realworld();
    if all.is_empty() {
        return;
    }
    assert!(
        all.len() >= 12,
        "the realworld HEIF/AVIF set looks incomplete: {all:?}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pixel_checked = 0;
    for path in &all {
        let name = stem(path);
        let bytes = std::fs::read(path).expect("read");
        let before = heif::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let clean = heif::strip(&bytes).unwrap_or_else(|e| panic!("{name}: strip: {e}"));
        let after = heif::parse(&clean).unwrap_or_else(|e| panic!("{name}: stripped: {e}"));

        assert_eq!(
            after.primary, before.primary,
            "{name}: primary image changed"
        );
        assert_eq!(
            after.transforms, before.transforms,
            "{name}: transforms changed"
        );
        assert_eq!(after.colour, before.colour, "{name}: colour changed");
        assert_eq!(after.alpha, before.alpha, "{name}: alpha changed");
        assert_eq!(after.upright_size(), before.upright_size(), "{name}");
        assert_eq!(after.exif, None, "{name}: Exif kept");
        for (id, kind, content_type) in &after.items {
            assert!(
                !matches!(kind, b"Exif" | b"mime" | b"uri "),
                "{name}: item {id} ({content_type}) kept"
            );
        }
        if let Some(marker) = metadata_marker(&clean) {
            panic!("{name}: the stripped file still holds {marker}");
        }
        assert_eq!(
            heif::strip(&clean).as_ref(),
            Ok(&clean),
            "{name}: not idempotent"
        );

        let out = dir.path().join(format!(
            "{name}.{}",
            path.extension().unwrap().to_string_lossy()
        ));
        std::fs::write(&out, &clean).expect("write");
        if let Ok(keep) = std::env::var("HEIFBOX_KEEP") {
            std::fs::write(Path::new(&keep).join(out.file_name().unwrap()), &clean).unwrap();
        }
        if let Some(done) = run(
            "exiftool",
            &[
                "-a".as_ref(),
                "-G1".as_ref(),
                "-s".as_ref(),
                out.as_os_str(),
            ],
        ) {
            let text = String::from_utf8_lossy(&done.stdout);
            for line in text.lines() {
                let group = line.split(']').next().unwrap_or("").trim_start_matches('[');
                assert!(
                    ![
                        "IFD",
                        "ExifIFD",
                        "GPS",
                        "XMP",
                        "InteropIFD",
                        "MakerNotes",
                        "Apple"
                    ]
                    .iter()
                    .any(|g| group.starts_with(g)),
                    "{name}: exiftool still finds {line}"
                );
            }
        }
        let Some(reference) = decoded(path).or_else(|| as_still(&bytes, dir.path(), &name)) else {
            eprintln!(
                "SKIPPED: {name}: libvips/libheif cannot decode the original, pixels not compared"
            );
            continue;
        };
        let ours =
            decoded(&out).unwrap_or_else(|| panic!("{name}: libheif refuses the stripped file"));
        assert_eq!(
            (ours.width(), ours.height()),
            (reference.width(), reference.height()),
            "{name}: decoded size"
        );
        assert!(
            ours.color() == reference.color() && ours.as_bytes() == reference.as_bytes(),
            "{name}: the stripped file decodes to other pixels"
        );
        let converted = dir.path().join(format!("{name}.png"));
        let done = run(
            "heif-convert",
            &["--quiet".as_ref(), out.as_os_str(), converted.as_os_str()],
        )
        .expect("heif-convert beside vips");
        assert!(
            done.status.success(),
            "{name}: heif-convert: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        pixel_checked += 1;
    }
    eprintln!(
        "{pixel_checked} of {} stripped files decoded to the same pixels",
        all.len()
    );
}

#[test]
fn realworld_iphone_grid_is_described_as_it_is() {
    let Some(dir) = testdata("realworld/heif") else {
        return;
    };
    let bytes = std::fs::read(dir.join("iphone_13_pro_max.HEIC")).expect("read");
    let h = heif::parse(&bytes).expect("parse");
    assert_eq!(h.brand, heif::Brand::Heic);
    assert_eq!(
        h.primary.layout,
        heif::Layout::Grid {
            rows: 6,
            columns: 8
        }
    );
    assert_eq!((h.primary.width, h.primary.height), (4032, 3024));
    assert_eq!(h.primary.tiles.len(), 48);
    assert_eq!(h.transforms, vec![heif::Transform::Rotate(270)]);
    assert_eq!(h.upright_size(), (3024, 4032));
    assert!(
        h.colour.icc.as_ref().is_some_and(|icc| icc.len() == 548),
        "Display P3 ICC"
    );
    assert_eq!(h.primary.bit_depth, 8);
    // The HDR gain map is an auxiliary image but not alpha.
    assert_eq!(h.alpha, None);
    let exif = h.exif.expect("the iPhone's Exif");
    assert!(
        exif.starts_with(b"MM\0\x2a"),
        "TIFF header: {:?}",
        &exif[..8]
    );
    let tile = heif::item_data(&bytes, h.primary.tiles[0].item).expect("tile data");
    assert!(tile.len() > 1000);
}

#[test]
fn realworld_alpha_and_rotation_and_depth_are_read() {
    let Some(dir) = testdata("realworld/avif") else {
        return;
    };
    let read = |f: &str| heif::parse(&std::fs::read(dir.join(f)).expect("read")).expect(f);
    let alpha = read("alpha_video.avif");
    assert_eq!(alpha.brand, heif::Brand::Avif);
    assert_eq!(alpha.alpha.as_ref().map(|a| a.item), Some(3));
    let kimono = read("kimono.rotate90.avif");
    assert_eq!(kimono.transforms, vec![heif::Transform::Rotate(270)]);
    let (w, h) = (kimono.primary.width, kimono.primary.height);
    assert_eq!(kimono.upright_size(), (h, w));
    assert_eq!(read("fox.profile0.10bpc.yuv420.avif").primary.bit_depth, 10);
    let nclx = read("libheif-example.avif").colour.nclx.expect("nclx");
    assert_eq!(
        (nclx.primaries, nclx.transfer, nclx.matrix, nclx.full_range),
        (2, 2, 6, true)
    );
}

#[test]
fn realworld_17000_square_avif_is_too_many_pixels_not_unsupported() {
    let Some(dir) = testdata("realworld/avif") else {
        return;
    };
    let bytes = std::fs::read(dir.join("17000x17000.avif")).expect("read");
    match heif::check_header(&bytes, limits().max_pixels, limits().max_dimension) {
        Err(HeifError::TooManyPixels { pixels, limit }) => {
            assert_eq!(pixels, 17_000 * 17_000);
            assert_eq!(limit, limits().max_pixels);
        }
        other => panic!("17000×17000 AVIF: {other:?}"),
    }
    let roomy = Limits {
        max_pixels: 300_000_000,
        ..limits()
    };
    assert!(heif::check_header(&bytes, roomy.max_pixels, roomy.max_dimension).is_ok());
    let narrow = Limits {
        max_dimension: 16_000,
        ..roomy
    };
    assert_eq!(
        heif::check_header(&bytes, narrow.max_pixels, narrow.max_dimension),
        Err(HeifError::TooLong {
            side: 17_000,
            limit: 16_000
        })
    );
}
