//! Our multipart reader over any body, delivered in chunks of a fuzzed size: every part
//! it yields respects the caps (files counted and bounded, text bounded and UTF-8) and
//! file names come out cleaned.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use maiimg::spool::Spool;
use maiimg::web::multipart::{MAX_TEXT_BYTES, Part, Reader};
use rocket::tokio::runtime::{Builder, Runtime};

const BOUNDARY: &str = "fuzzBOUNDARY";
const MAX_FILES: usize = 3;
const MAX_FILE_BYTES: u64 = 1024;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
});

fuzz_target!(|data: &[u8]| {
    // First byte: chunk size, so part boundaries fall anywhere in a chunk.
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let size = usize::from(split).max(1);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = body
        .chunks(size)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let stream = futures_util::stream::iter(chunks);
    // Parts stay in memory: the fuzz limits are far below any spooling threshold.
    let spool = Spool {
        threshold: usize::MAX,
        dir: std::env::temp_dir(),
    };
    let mut reader = Reader::from_stream(
        stream,
        BOUNDARY.into(),
        MAX_FILES,
        MAX_FILE_BYTES,
        "files",
        spool,
    );
    RUNTIME.block_on(async {
        let mut files = 0;
        while let Ok(Some(part)) = reader.next().await {
            match part {
                Part::File { name, body } => {
                    files += 1;
                    assert!(files <= MAX_FILES);
                    assert!(body.len() <= MAX_FILE_BYTES);
                    assert!(!name.is_empty());
                    assert!(!name.contains(['/', '\\']), "{name:?}");
                    assert!(!name.chars().any(char::is_control), "{name:?}");
                    assert!(
                        !name.chars().any(maiimg::domain::names::is_bidi_control),
                        "{name:?}"
                    );
                }
                Part::Text { value, .. } => assert!(value.len() <= MAX_TEXT_BYTES),
            }
        }
    });
});
