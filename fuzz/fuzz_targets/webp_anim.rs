//! The animated WebP walk (VP8X, ANIM, ANMF) and frame budget, the ANMF clean-up of the
//! stripper, then the frame-by-frame path (composite, shrink, encode with libwebp) of any
//! bytes whose headers pass: a refusal is an error, never a panic; what is encoded is an
//! animated WebP again with the loop count declared.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::animation::{self, Kind};
use maiimg::domain::ingest::strip;
use maiimg::model::MediaFormat;

/// Small enough that a whole composite-and-encode runs in milliseconds.
const MAX_PIXELS: u64 = 200_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(clean) = strip::webp(data) {
        // The stripped file declares the same animation, or none when the original's
        // headers were damaged past the point the stripper reads.
        if let (Ok(Some(before)), Ok(after)) = (
            animation::header(data, MediaFormat::Webp),
            animation::header(&clean, MediaFormat::Webp),
        ) {
            assert_eq!(after, Some(before), "stripping changed the animation");
        }
    }
    let Ok(Some(header)) = animation::header(data, MediaFormat::Webp) else {
        return;
    };
    assert!(animation::declared(data));
    assert!(matches!(header.kind, Kind::Webp { .. }));
    assert!(header.frames >= 1 && header.width > 0 && header.height > 0);
    if header.pixels() > MAX_PIXELS {
        return;
    }
    if let Ok(shrunk) = animation::shrink(data, &header, None) {
        let again = animation::header(&shrunk.bytes, MediaFormat::Webp)
            .expect("an encoded animation walks again");
        // libwebp writes a single unchanging frame as a still image.
        if let Some(again) = again {
            assert_eq!(again.loops, header.loops, "the loop count is kept");
            assert_eq!((again.width, again.height), (shrunk.width, shrunk.height));
        }
    }
});
