//! What a file is, judged by its first bytes only.

use crate::model::MediaFormat;

/// The accepted format of `bytes`, or a short description of what it looks like instead.
pub fn sniff(bytes: &[u8]) -> Result<MediaFormat, &'static str> {
    if let Some(brands) = ftyp_brands(bytes) {
        return heif_kind(brands);
    }
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
    } else if std::str::from_utf8(head).is_ok() {
        "text"
    } else {
        "unknown"
    }
}

/// The brands of an ISO-BMFF `ftyp` box at the start of `bytes` (major brand first, then
/// the compatible ones, four bytes each), or `None` when the file does not start with one.
fn ftyp_brands(bytes: &[u8]) -> Option<impl Iterator<Item = &[u8]>> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.clamp(16, bytes.len().min(1024));
    // Major brand at 8, minor version at 12 (not a brand), compatible brands from 16.
    let compatible = bytes[16..end].chunks_exact(4);
    Some(std::iter::once(&bytes[8..12]).chain(compatible))
}

/// HEIC, AVIF, or the video (MP4, QuickTime, a HEIF image sequence) that shares their box
/// layout: a still image must declare a still-image brand, so a video is refused here (415)
/// before any decoder sees it. `mif1` alone is HEIF's generic brand: the decoder goes by the
/// primary item's coding, so an AVIF that declares only `mif1` still decodes.
fn heif_kind<'a>(brands: impl Iterator<Item = &'a [u8]>) -> Result<MediaFormat, &'static str> {
    let brands: Vec<&[u8]> = brands.collect();
    let has = |b: &[u8; 4]| brands.contains(&&b[..]);
    if has(b"avif") {
        Ok(MediaFormat::Avif)
    } else if [b"heic", b"heix", b"heim", b"heis", b"mif1", b"mif2"]
        .iter()
        .any(|b| has(b))
    {
        Ok(MediaFormat::Heic)
    } else if [b"msf1", b"hevc", b"hevx", b"avis"].iter().any(|b| has(b)) {
        Err("heif image sequence")
    } else if has(b"qt  ") {
        Err("mov")
    } else {
        Err("mp4")
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

    /// An `ftyp` box of `brands` (major first), as a file's first bytes.
    fn ftyp(brands: &[&[u8; 4]]) -> Vec<u8> {
        let mut b = ((16 + 4 * (brands.len() - 1)) as u32)
            .to_be_bytes()
            .to_vec();
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(brands[0]);
        b.extend_from_slice(&[0; 4]);
        brands[1..]
            .iter()
            .for_each(|brand| b.extend_from_slice(*brand));
        b.extend_from_slice(b"\0\0\0\x08meta");
        b
    }

    #[test]
    fn heif_stills_are_told_from_videos_by_their_brands() {
        // As iPhones, Nokia's samples and libavif write them.
        assert_eq!(
            sniff(&ftyp(&[b"heic", b"mif1", b"heic"])),
            Ok(MediaFormat::Heic)
        );
        assert_eq!(
            sniff(&ftyp(&[b"mif1", b"mif1", b"heic"])),
            Ok(MediaFormat::Heic)
        );
        assert_eq!(
            sniff(&ftyp(&[b"avif", b"avif", b"mif1"])),
            Ok(MediaFormat::Avif)
        );
        // An animated AVIF with a still item declares `avif` too.
        assert_eq!(
            sniff(&ftyp(&[b"avis", b"mif1", b"avif", b"msf1"])),
            Ok(MediaFormat::Avif)
        );
        assert_eq!(sniff(&ftyp(&[b"isom", b"isom", b"mp42"])), Err("mp4"));
        assert_eq!(sniff(&ftyp(&[b"qt  ", b"qt  "])), Err("mov"));
        assert_eq!(
            sniff(&ftyp(&[b"msf1", b"hevc"])),
            Err("heif image sequence")
        );
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
