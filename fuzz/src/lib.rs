//! What the fuzz targets assert about a stripped original, shared by `strip` and `ingest`.

use img_parts::jpeg::{Jpeg, markers};
use img_parts::png::Png;
use img_parts::webp::WebP;
use maiimg::domain::ingest::{heif, strip};
use maiimg::model::MediaFormat;

/// Panic unless `bytes`, a stripped container of `format`, keeps only what the stripper
/// promises: judged by parsing the container again (a byte search would trip over pixel data).
pub fn assert_no_metadata(bytes: &[u8], format: MediaFormat) {
    let owned = bytes::Bytes::copy_from_slice(bytes);
    match format {
        MediaFormat::Jpeg => {
            let jpeg = Jpeg::from_bytes(owned).expect("a stripped JPEG parses again");
            for s in jpeg.segments() {
                let m = s.marker();
                let c = s.contents();
                assert_ne!(m, markers::COM, "comment kept");
                if (markers::APP0..=markers::APP15).contains(&m) {
                    let allowed = (m == markers::APP0 && c.starts_with(b"JFIF\0"))
                        || (m == markers::APP2 && c.starts_with(b"ICC_PROFILE\0"))
                        || (m == markers::APP14 && c.starts_with(b"Adobe"));
                    assert!(allowed, "APP{} kept", m - markers::APP0);
                }
            }
        }
        MediaFormat::Png => {
            let png = Png::from_bytes(owned).expect("a stripped PNG parses again");
            for c in png.chunks() {
                let kind = c.kind();
                assert!(
                    !matches!(&kind, b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt" | b"tIME"),
                    "chunk {:?} kept",
                    String::from_utf8_lossy(&kind)
                );
                // Ancillary private chunks (lowercase first, uppercase second letter) go.
                assert!(
                    kind[0].is_ascii_uppercase() || kind[1].is_ascii_uppercase(),
                    "private chunk {:?} kept",
                    String::from_utf8_lossy(&kind)
                );
            }
        }
        MediaFormat::Webp => {
            let webp = WebP::from_bytes(owned).expect("a stripped WebP parses again");
            assert!(webp.chunk_by_id(*b"EXIF").is_none(), "EXIF kept");
            assert!(webp.chunk_by_id(*b"XMP ").is_none(), "XMP kept");
        }
        MediaFormat::Gif => {
            // The GIF is rebuilt by the encoder from frames alone; stripping it again must
            // give the same bytes, or something besides frames survived.
            let again = strip::gif(bytes, u64::MAX).expect("a stripped GIF decodes again");
            assert_eq!(again.clean, bytes, "stripping a stripped GIF changed it");
        }
        MediaFormat::Heic | MediaFormat::Avif => {
            // Rewritten from an allow-list: no metadata item survives, and the rewrite of a
            // rewrite is the same file.
            let heif = heif::parse(bytes).expect("a stripped HEIF parses again");
            assert!(heif.exif.is_none(), "Exif item kept");
            assert!(
                heif.items
                    .iter()
                    .all(|(_, kind, _)| !matches!(kind, b"Exif" | b"mime" | b"uri ")),
                "metadata item kept"
            );
            assert_eq!(
                heif::strip(bytes).expect("strips again"),
                bytes,
                "not idempotent"
            );
        }
    }
}
