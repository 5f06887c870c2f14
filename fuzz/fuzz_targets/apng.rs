//! The APNG chunk walk and frame budget, then the frame-by-frame path (composite, shrink,
//! encode) of any bytes whose headers pass: a refusal is an error, never a panic; an
//! admitted animation fits its budget, and what is encoded decodes again with the frames
//! declared.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::animation::{self, Kind};
use maiimg::model::MediaFormat;

/// Small enough that a whole composite-and-encode runs in milliseconds.
const MAX_PIXELS: u64 = 200_000;

fuzz_target!(|data: &[u8]| {
    let declared = animation::declared(data);
    let Ok(Some(header)) = animation::header(data, MediaFormat::Png) else {
        return;
    };
    assert!(
        declared,
        "a walked animation is seen in the file's head too"
    );
    assert_eq!(header.kind, Kind::Apng);
    assert!(header.frames >= 1 && header.width > 0 && header.height > 0);
    if header.pixels() > MAX_PIXELS {
        return;
    }
    if let Ok(shrunk) = animation::shrink(data, &header, None) {
        let png = png::Decoder::new(std::io::Cursor::new(&shrunk.bytes));
        let reader = png.read_info().expect("a shrunk APNG parses again");
        let control = reader.info().animation_control.expect("still animated");
        assert!(control.num_frames >= 1);
        assert_eq!(control.num_plays, header.loops, "the loop count is kept");
        assert!(shrunk.width.max(shrunk.height) <= maiimg::domain::ingest::DISPLAY_EDGE);
    }
});
