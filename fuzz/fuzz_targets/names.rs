//! Download-name cleaning (`names`) and the display name of an upload (`clean_name`):
//! nothing left can pick a directory, hide or reorder text, or change the served type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maiimg::domain::ingest::clean_name;
use maiimg::domain::names::{clean, file_name, is_bidi_control, with_extension};

fn format_char(c: char) -> bool {
    // General category Cf, the ones a name may use to hide or reorder text.
    matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

fn assert_safe(name: &str) {
    assert!(!name.contains(['/', '\\', ';', '"']), "{name:?}");
    assert!(
        !name.chars().any(|c| c.is_control() || format_char(c)),
        "{name:?}"
    );
    assert!(
        !name.starts_with(['.', ' ']) && !name.ends_with(['.', ' ']),
        "{name:?}"
    );
    assert!(!name.contains("  "), "{name:?}");
}

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let cleaned = clean(&raw);
    assert_safe(&cleaned);
    assert_eq!(clean(&cleaned), cleaned, "clean is not idempotent");

    for ext in ["jpg", "png", "webp", "gif", "zip"] {
        let named = with_extension(&raw, ext, "photo");
        let stem = named
            .strip_suffix(&format!(".{ext}"))
            .unwrap_or_else(|| panic!("{named:?} does not end in .{ext}"));
        assert!(!stem.is_empty(), "{named:?}");
        assert_safe(&named);
        let zipped = file_name(&raw, ext, "maiimg");
        assert!(zipped.ends_with(&format!(".{ext}")), "{zipped:?}");
        assert_safe(&zipped);
    }

    let shown = clean_name(&raw);
    assert!(
        !shown.is_empty() && shown.chars().count() <= 120,
        "{shown:?}"
    );
    assert!(!shown.contains(['/', '\\']), "{shown:?}");
    assert!(
        !shown.chars().any(|c| c.is_control() || is_bidi_control(c)),
        "{shown:?}"
    );
    assert!(!shown.starts_with('.'), "{shown:?}");
});
