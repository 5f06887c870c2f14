//! Container-level stripping (JPEG, PNG, WebP, GIF) of any bytes: what comes out keeps no
//! EXIF, XMP, text or comment block, parses again, and stripping it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::strip;
use maiimg::model::MediaFormat;
use maiimg_fuzz::assert_no_metadata;

fuzz_target!(|data: &[u8]| {
    type Strip = fn(&[u8]) -> Result<Vec<u8>, String>;
    let containers: [(MediaFormat, Strip); 3] = [
        (MediaFormat::Jpeg, strip::jpeg),
        (MediaFormat::Png, strip::png),
        (MediaFormat::Webp, strip::webp),
    ];
    for (format, run) in containers {
        if let Ok(clean) = run(data) {
            assert_no_metadata(&clean, format);
            let again = run(&clean).expect("a stripped file strips again");
            assert_eq!(again, clean, "{format:?}: stripping is not idempotent");
        }
    }
    let max_pixels = 1_000_000;
    match strip::gif(data, max_pixels) {
        Ok(gif) => {
            assert!(u64::from(gif.width) * u64::from(gif.height) > 0 || !gif.clean.is_empty());
            assert_no_metadata(&gif.clean, MediaFormat::Gif);
        }
        Err(strip::GifError::TooManyPixels(p)) => assert!(p > max_pixels),
        Err(strip::GifError::Corrupt(_)) => {}
    }
});
