//! What a file is, judged by its first bytes only.

use crate::model::MediaFormat;

/// The accepted format of `bytes`, or a short description of what it looks like instead.
pub fn sniff(bytes: &[u8]) -> Result<MediaFormat, &'static str> {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => Ok(MediaFormat::Jpeg),
        Ok(image::ImageFormat::Png) => Ok(MediaFormat::Png),
        Ok(image::ImageFormat::Gif) => Ok(MediaFormat::Gif),
        Ok(image::ImageFormat::WebP) => Ok(MediaFormat::Webp),
        Ok(other) => Err(other.extensions_str().first().copied().unwrap_or("image")),
        Err(_) => Err(describe_non_image(bytes)),
    }
}

/// Name a few common non-image types so the refusal says what was sent.
fn describe_non_image(bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(head)
        .trim_start()
        .to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}');
    if head.starts_with(b"%PDF") {
        "pdf"
    } else if text.contains("<svg") {
        "svg"
    } else if text.starts_with("<!doctype html") || text.starts_with("<html") {
        "html"
    } else if text.starts_with("<?xml") {
        "xml"
    } else if head.starts_with(b"PK\x03\x04") {
        "zip"
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        // HEIC/AVIF/MP4 share the ISO-BMFF box layout.
        "heic/avif/mp4"
    } else if std::str::from_utf8(head).is_ok() {
        "text"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_by_magic_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Ok(MediaFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Ok(MediaFormat::Png));
        assert_eq!(sniff(b"GIF89a...."), Ok(MediaFormat::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(MediaFormat::Webp));
    }

    #[test]
    fn everything_else_is_named() {
        assert_eq!(
            sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Err("svg")
        );
        assert_eq!(sniff(b"<?xml version='1.0'?><svg/>"), Err("svg"));
        assert_eq!(sniff(b"<!DOCTYPE html><p>hi"), Err("html"));
        assert_eq!(sniff(b"%PDF-1.7"), Err("pdf"));
        assert_eq!(sniff(b"just some words"), Err("text"));
        assert_eq!(sniff(b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0"), Err("bmp"));
    }
}
