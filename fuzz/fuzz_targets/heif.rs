//! HEIF/AVIF containers: parsing and the metadata-stripping rewrite of any bytes. Nothing
//! panics; a stripped file parses again to the same primary image without Exif or XMP, and
//! stripping it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::heif::{self, HeifError};

fuzz_target!(|data: &[u8]| {
    let parsed = heif::parse(data);
    if let Ok(h) = &parsed {
        let _ = h.upright_size();
        let (max_pixels, max_dimension) = (1_000_000, 4096);
        match heif::check_limits(h, max_pixels, max_dimension) {
            Ok(()) => {
                let p = &h.primary;
                assert!(u64::from(p.width) * u64::from(p.height) <= max_pixels);
                assert!(p.decoded_pixels() <= max_pixels);
                assert!(p.width.max(p.height) <= max_dimension);
            }
            Err(HeifError::TooManyPixels { pixels, limit }) => assert!(pixels > limit),
            Err(HeifError::TooLong { side, limit }) => assert!(side > limit),
            Err(e) => panic!("check_limits on a parsed file: {e}"),
        }
    }
    let Ok(clean) = heif::strip(data) else {
        return;
    };
    let before = parsed.expect("strip accepted what parse refused");
    let after = heif::parse(&clean).expect("a stripped file parses");
    assert_eq!(after.primary, before.primary, "primary image changed");
    assert_eq!(after.transforms, before.transforms, "transforms changed");
    assert_eq!(after.colour, before.colour, "colour changed");
    assert_eq!(after.alpha, before.alpha, "alpha changed");
    assert_eq!(after.exif, None, "Exif kept");
    for (id, kind, _) in &after.items {
        assert!(
            !matches!(kind, b"Exif" | b"mime" | b"uri "),
            "item {id} kept"
        );
    }
    let images = std::iter::once(&before.primary).chain(before.alpha.as_ref());
    for image in images {
        for id in std::iter::once(image.item).chain(image.tiles.iter().map(|t| t.item)) {
            assert_eq!(
                heif::item_data(data, id).ok(),
                heif::item_data(&clean, id).ok(),
                "item {id}'s data changed"
            );
        }
    }
    let again = heif::strip(&clean).expect("a stripped file strips again");
    assert!(again == clean, "stripping is not idempotent");
});
