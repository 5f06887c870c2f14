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
    } else if head.starts_with(b"\0\0\0\x0cjP  \r\n\x87\n")
        || head.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
    {
        "jpeg 2000"
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        // HEIC/AVIF/MP4 share the ISO-BMFF box layout.
        "heic/avif/mp4"
    } else if std::str::from_utf8(head).is_ok() {
        "text"
    } else {
        "unknown"
    }
}

/// A JPEG variant no decoder here reads, named from its frame header (`SOFn` and its
/// sample precision), or `None` for the 8-bit baseline, progressive and arithmetic kinds.
/// Read from the markers before the first scan only, so it costs nothing.
pub fn unreadable_jpeg(bytes: &[u8]) -> Option<&'static str> {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        match marker {
            // SOS: the scans begin and no frame header said anything unusual.
            0xDA => return None,
            0xC3 | 0xC7 | 0xCB | 0xCF => return Some("a lossless JPEG"),
            // Differential frames (hierarchical mode): libjpeg-turbo reads none.
            0xC5 | 0xC6 | 0xCD | 0xCE => return Some("a hierarchical JPEG"),
            // Arithmetic coding (SOF9, SOF10) is read by libjpeg-turbo, in 8 bits only.
            0xC0..=0xC2 | 0xC9 | 0xCA if bytes.get(at + 4).is_some_and(|p| *p > 8) => {
                return Some("a 12-bit JPEG");
            }
            _ => {}
        }
        at += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_variants_nobody_here_decodes_are_named() {
        // SOI, an APP0 segment to skip, then a frame header: marker, length, precision.
        let jpeg = |sof: u8, precision: u8| {
            let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00];
            b.extend_from_slice(&[0xFF, sof, 0x00, 0x0B, precision, 0, 8, 0, 8, 1, 1, 0x11, 0]);
            b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02]);
            b
        };
        assert_eq!(unreadable_jpeg(&jpeg(0xC0, 8)), None);
        assert_eq!(unreadable_jpeg(&jpeg(0xC2, 8)), None);
        assert_eq!(unreadable_jpeg(&jpeg(0xC1, 12)), Some("a 12-bit JPEG"));
        assert_eq!(unreadable_jpeg(&jpeg(0xC3, 8)), Some("a lossless JPEG"));
        // Arithmetic coding is read (libjpeg-turbo), but not at 12 bits.
        assert_eq!(unreadable_jpeg(&jpeg(0xC9, 8)), None);
        assert_eq!(unreadable_jpeg(&jpeg(0xCA, 8)), None);
        assert_eq!(unreadable_jpeg(&jpeg(0xC9, 12)), Some("a 12-bit JPEG"));
        assert_eq!(unreadable_jpeg(&jpeg(0xC5, 8)), Some("a hierarchical JPEG"));
        assert_eq!(unreadable_jpeg(&jpeg(0xCE, 8)), Some("a hierarchical JPEG"));
        assert_eq!(
            unreadable_jpeg(&[0xFF, 0xD8, 0xFF]),
            None,
            "too short to tell"
        );
        assert_eq!(
            describe_non_image(b"\0\0\0\x0cjP  \r\n\x87\n\0\0\0\x14ftypjp2 "),
            "jpeg 2000"
        );
    }

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
