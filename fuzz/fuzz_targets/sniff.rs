//! Format sniffing: any bytes; an accepted format must carry that format's magic bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::sniff::sniff;
use maiimg::model::MediaFormat;

fuzz_target!(|data: &[u8]| {
    match sniff(data) {
        Ok(MediaFormat::Jpeg) => assert!(data.starts_with(b"\xFF\xD8\xFF")),
        Ok(MediaFormat::Png) => assert!(data.starts_with(b"\x89PNG\r\n\x1a\n")),
        Ok(MediaFormat::Gif) => assert!(data.starts_with(b"GIF8")),
        Ok(MediaFormat::Webp) => {
            assert!(data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WEBP"))
        }
        // ISOBMFF: a `ftyp` box first, whose brands said HEIF or AVIF.
        Ok(MediaFormat::Heic | MediaFormat::Avif) => assert_eq!(data.get(4..8), Some(&b"ftyp"[..])),
        // The refusal message shows this to the uploader.
        Err(what) => assert!(!what.is_empty() && what.is_ascii()),
    }
});
