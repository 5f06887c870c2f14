//! The JPEG path's libjpeg-turbo calls on any bytes: decoding at every DCT scale gives the
//! scaled size of the header, and every lossless turn gives a JPEG of the header's size
//! (sides swapped by a quarter turn) less at most one partial MCU per side, which is decoded
//! again (without panicking; see below for why it may be refused).
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::jpeg::{decoded_size, header, turned};

/// A megapixel: enough for every MCU layout, small enough for thousands of runs a second.
const MAX_PIXELS: u64 = 1_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(head) = header(data) else {
        return;
    };
    let (w, h) = (head.width, head.height);
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return;
    }
    for denom in [1u8, 2, 4, 8] {
        if let Ok(size) = decoded_size(data, denom) {
            let d = u32::from(denom);
            assert_eq!(size, (w.div_ceil(d), h.div_ceil(d)), "1/{denom} of {w}×{h}");
        }
    }
    let decodable = decoded_size(data, 8).is_ok();
    for exif in 1..=8u8 {
        let Ok(out) = turned(data, exif, head.arithmetic) else {
            continue;
        };
        let back = header(&out).expect("a turned JPEG has a header");
        let (ew, eh) = if exif >= 5 { (h, w) } else { (w, h) };
        // Trimmed by less than the largest MCU (32 pixels for 4:1:1 and its kin).
        assert!(
            back.width <= ew && ew - back.width < 32 && back.height <= eh && eh - back.height < 32,
            "orientation {exif}: {w}×{h} became {}×{}",
            back.width,
            back.height
        );
        // Whether it decodes is not asked: libjpeg-turbo's transpose and transverse garble
        // some files that decode well themselves (found here), which the pipeline then
        // turns in pixels (see `jpeg::render`; the `ingest` target checks that path).
        if back.width > 0 && back.height > 0 && decodable {
            let _ = decoded_size(&out, 8);
        }
    }
});
