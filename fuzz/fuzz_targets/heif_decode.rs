//! The HEIC/AVIF pipeline on any bytes: heifer's HEVC decoder, rav1d's AV1 decoder and our
//! YCbCr conversion behind the container readers. Nothing panics; an accepted file decodes
//! to exactly the upright size our own container reader declares (the size the limits were
//! checked on), its JPEG for downloads has that size too, and its renditions fit their edges.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::pipeline_heif::{Bounds, ingest};
use maiimg::domain::ingest::{DISPLAY_EDGE, THUMB_EDGE, heif, jpeg, sniff::sniff};
use maiimg::model::MediaFormat;

/// A megapixel: room for the small realworld seeds (a grid, 10-bit, monochrome, alpha, a
/// quarter turn), while a decode under the sanitizers stays under a second.
const BOUNDS: Bounds = Bounds {
    max_pixels: 1_000_000,
    max_dimension: 2048,
};

fuzz_target!(|data: &[u8]| {
    let format = match sniff(data) {
        Ok(f @ (MediaFormat::Heic | MediaFormat::Avif)) => f,
        _ => return,
    };
    let Ok(files) = ingest(data, "fuzz.heic", format, BOUNDS) else {
        return;
    };
    let declared = heif::parse(data)
        .expect("an accepted file parses with our reader")
        .upright_size();
    let original = &files.original;
    assert_eq!((original.width, original.height), declared, "decoded size");
    assert!(u64::from(declared.0) * u64::from(declared.1) <= BOUNDS.max_pixels);
    let download = jpeg::header(&files.download.bytes).expect("the download is a JPEG");
    assert_eq!((download.width, download.height), declared, "download size");
    let (display, thumb) = (&files.display, &files.thumb);
    assert!(display.width.max(display.height) <= DISPLAY_EDGE);
    assert!(thumb.width.max(thumb.height) <= THUMB_EDGE);
    assert!(display.width > 0 && thumb.width > 0);
});
