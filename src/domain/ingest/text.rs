//! The words ingest speaks in: sizes as people read them, and file names safe to show.

use crate::domain::names::is_bidi_control;

/// Format `n` bytes as "50 MB" (decimal, as people read file sizes).
pub fn human_bytes(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1} MB", n as f64 / 1e6).replace(".0 ", " ")
    } else if n >= 1_000 {
        format!("{:.0} KB", n as f64 / 1e3)
    } else {
        format!("{n} bytes")
    }
}

/// Keep a file name printable and short; never trust it for anything but display.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .filter(|c| !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "image".to_owned()
    } else {
        cleaned
    }
}

/// Format a pixel count as "12.5 megapixels".
pub fn megapixels(pixels: u64) -> String {
    format!("{:.1} megapixels", pixels as f64 / 1e6).replace(".0 ", " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("C:\\Users\\me\\IMG_1.JPG"), "IMG_1.JPG");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("<script>.png"), "script.png");
        assert_eq!(clean_name(""), "image");
        assert_eq!(clean_name(".hidden"), "hidden");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(50 * 1_000_000), "50 MB");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
        assert_eq!(human_bytes(2_000), "2 KB");
    }
}
