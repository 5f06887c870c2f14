//! Names that leave the server as file names (downloads, ZIP entries) and the characters
//! no stored text may keep: nothing an uploader types may choose where a file is saved,
//! what type it is saved as, or make a name read as something it is not.

use unicode_general_category::{GeneralCategory, get_general_category};

/// Whether `c` is a bidirectional embedding, override or isolate (U+202A–U+202E,
/// U+2066–U+2069). They reorder what follows, so `photo\u{202E}gpj.exe` reads as
/// "photoexe.jpg"; no title, caption or file name keeps them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Invisible in a file name: controls and every format character (general category Cf,
/// zero-width joiners included: a saved name has no emoji sequence to keep together).
fn invisible(c: char) -> bool {
    c.is_control() || get_general_category(c) == GeneralCategory::Format
}

/// Visible but unsafe in a saved name or a header: path separators, and what ends or
/// quotes a `Content-Disposition` parameter in a lax parser.
fn unsafe_visible(c: char) -> bool {
    matches!(c, '/' | '\\' | ';' | '"')
}

/// `raw` made safe as (part of) a file name: invisible characters dropped, unsafe visible
/// ones replaced by `_`, whitespace collapsed, and no leading or trailing dots (a leading
/// dot hides the file, `..` climbs a directory, Windows drops trailing dots, which can
/// uncover an extension). Empty when nothing is left.
pub fn clean(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .filter(|c| c.is_whitespace() || !invisible(*c))
        .map(|c| if unsafe_visible(c) { '_' } else { c })
        .collect();
    let spaced = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    spaced.trim_matches(['.', ' ']).to_owned()
}

/// `stem` made safe, then `.extension`: a download always ends with the extension of
/// the bytes served, whatever the stem says. `fallback` stands in for an empty stem.
pub fn file_name(stem: &str, extension: &str, fallback: &str) -> String {
    let stem = clean(stem);
    let stem = if stem.is_empty() { fallback } else { &stem };
    format!("{stem}.{extension}")
}

/// An uploaded file's name with its extension (if any) replaced by `extension`.
pub fn with_extension(name: &str, extension: &str, fallback: &str) -> String {
    let name = clean(name);
    let stem = match name.rsplit_once('.') {
        Some((stem, ext)) if looks_like_extension(ext) => stem,
        _ => name.as_str(),
    };
    file_name(stem, extension, fallback)
}

/// `jpeg`, `png`, `HEIC`: what follows the last dot of a name that has an extension (in
/// "Mum_.._Dad" it is just part of the name).
fn looks_like_extension(ext: &str) -> bool {
    (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_extension_always_ends_the_name() {
        let cases = [
            ("holiday.html;.png", "jpg", "holiday.html_.jpg"),
            ("holiday.png", "png", "holiday.png"),
            ("noextension", "gif", "noextension.gif"),
            ("..", "jpg", "photo.jpg"),
            ("../../etc/passwd", "jpg", "_.._etc_passwd.jpg"),
            ("a\\b.jpg.", "webp", "a_b.webp"),
            ("sun\u{200B}set\u{FEFF}\u{200D}.jpg", "png", "sunset.png"),
            ("photo\u{202E}gpj.exe", "jpg", "photogpj.jpg"),
            ("tab\tand\r\nnewline.jpg", "jpg", "tab and newline.jpg"),
        ];
        for (raw, ext, want) in cases {
            assert_eq!(with_extension(raw, ext, "photo"), want, "{raw:?}");
        }
        assert_eq!(file_name("Holiday.exe;", "zip", "x"), "Holiday.exe_.zip");
        assert_eq!(file_name(" . ", "zip", "maiimg-x"), "maiimg-x.zip");
    }

    #[test]
    fn bidi_controls_are_exactly_the_embeddings_overrides_and_isolates() {
        let bidi: Vec<char> = ('\u{2000}'..='\u{20FF}')
            .filter(|c| is_bidi_control(*c))
            .collect();
        assert_eq!(
            bidi,
            [
                '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
                '\u{2068}', '\u{2069}'
            ]
        );
        assert!(!is_bidi_control('\u{200D}'), "ZWJ is text, not a control");
    }
}
