//! Header limits: whatever the header claims, an accepted one is within the limits, has
//! pixels, and is of the sniffed format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::{Limits, check_header, sniff::sniff};

const LIMITS: Limits = Limits {
    max_file_bytes: 1 << 20,
    max_pixels: 1_000_000,
    max_dimension: 4096,
};

fuzz_target!(|data: &[u8]| {
    if let Ok((format, w, h)) = check_header(data, &LIMITS) {
        assert_eq!(sniff(data), Ok(format));
        assert!(w > 0 && h > 0, "{w}×{h}");
        assert!(
            w <= LIMITS.max_dimension && h <= LIMITS.max_dimension,
            "{w}×{h}"
        );
        assert!(u64::from(w) * u64::from(h) <= LIMITS.max_pixels, "{w}×{h}");
    }
});
