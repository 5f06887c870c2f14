//! The whole ingest of any bytes under small limits: an accepted image respects the limits,
//! its renditions their edges, and its stored original carries no metadata.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::{DISPLAY_EDGE, Limits, THUMB_EDGE, ingest, sniff::sniff};
use maiimg::model::MediaFormat;
use maiimg_fuzz::assert_no_metadata;

// Small enough for thousands of runs a second, with a side longer than the display edge
// so that oversized animations take the frame-by-frame path.
const LIMITS: Limits = Limits {
    max_file_bytes: 256 * 1024,
    max_pixels: 300_000,
    max_dimension: 4096,
};

fuzz_target!(|data: &[u8]| {
    let Ok(done) = ingest(data, "fuzz.jpg", &LIMITS) else {
        return;
    };
    let original = &done.original;
    let (w, h) = (original.width, original.height);
    assert!(w > 0 && h > 0, "{w}×{h}");
    assert!(
        w <= LIMITS.max_dimension && h <= LIMITS.max_dimension,
        "{w}×{h}"
    );
    assert!(u64::from(w) * u64::from(h) <= LIMITS.max_pixels, "{w}×{h}");
    assert_eq!(Ok(original.format), sniff(data));
    assert_no_metadata(&original.bytes, original.format);
    assert!(done.display.width.max(done.display.height) <= DISPLAY_EDGE);
    assert!(done.thumb.width.max(done.thumb.height) <= THUMB_EDGE);
    assert!(done.display.width > 0 && done.thumb.width > 0);
    assert!(!done.animated || original.format == MediaFormat::Gif);
});
