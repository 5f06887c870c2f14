//! Image fixtures generated in code (nothing binary is checked in), an EXIF block built by
//! hand, and pixel comparisons.

use std::io::Cursor;

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{
    DynamicImage, ExtendedColorType, Frame, ImageEncoder, ImageFormat, Rgb, RgbImage, Rgba,
};

/// A smooth, deterministic test pattern (compresses like a photo, not like noise).
pub fn pattern(w: u32, h: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            ((x * 255 / w.max(1)) as u8).wrapping_add(seed),
            (y * 255 / h.max(1)) as u8,
            (((x + y) * 2) as u8).wrapping_add(seed.wrapping_mul(3)),
        ])
    })
}

pub fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encode fixture");
    out
}

pub fn jpeg_of(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .expect("encode jpeg");
    out
}

pub fn jpeg(w: u32, h: u32, seed: u8) -> Vec<u8> {
    jpeg_of(&pattern(w, h, seed), 90)
}

pub fn png_rgb(w: u32, h: u32) -> Vec<u8> {
    encode(&DynamicImage::ImageRgb8(pattern(w, h, 7)), ImageFormat::Png)
}

/// RGBA whose left half is half transparent and right quarter fully transparent.
pub fn png_rgba(w: u32, h: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_fn(w, h, |x, y| {
        let a = if x < w / 2 {
            128
        } else if x >= w * 3 / 4 {
            0
        } else {
            255
        };
        Rgba([(x % 256) as u8, (y % 256) as u8, 200, a])
    });
    encode(&DynamicImage::ImageRgba8(image), ImageFormat::Png)
}

pub fn png_16bit(w: u32, h: u32) -> Vec<u8> {
    let image = image::ImageBuffer::<Rgb<u16>, _>::from_fn(w, h, |x, y| {
        Rgb([(x * 65535 / w) as u16, (y * 65535 / h) as u16, 12345])
    });
    encode(&DynamicImage::ImageRgb16(image), ImageFormat::Png)
}

pub fn png_gray(w: u32, h: u32) -> Vec<u8> {
    let image = image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x + y) % 256) as u8]));
    encode(&DynamicImage::ImageLuma8(image), ImageFormat::Png)
}

/// An 8-bit indexed PNG, built chunk by chunk (image's encoder cannot write palettes).
pub fn png_palette(w: u32, h: u32) -> Vec<u8> {
    let palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0];
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0); // filter: none
        raw.extend((0..w).map(|x| (((x / 16) + (y / 16)) % 4) as u8));
    }
    png_from_chunks(&[
        (b"IHDR", ihdr(w, h, 8, 3)),
        (b"PLTE", palette.to_vec()),
        (b"IDAT", zlib_stored(&raw)),
        (b"IEND", Vec::new()),
    ])
}

/// A PNG whose header claims `w`×`h` 8-bit grey pixels but carries almost no data.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    png_from_chunks(&[
        (b"IHDR", ihdr(w, h, 8, 0)),
        (b"IDAT", zlib_stored(&[0; 64])),
        (b"IEND", Vec::new()),
    ])
}

/// A real decompression bomb: `w`×`h` black pixels, maximally compressed.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let pixels = vec![0u8; (w as usize) * (h as usize)];
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Best, FilterType::NoFilter)
        .write_image(&pixels, w, h, ExtendedColorType::L8)
        .expect("encode bomb");
    out
}

fn ihdr(w: u32, h: u32, depth: u8, color: u8) -> Vec<u8> {
    let mut d = Vec::with_capacity(13);
    d.extend_from_slice(&w.to_be_bytes());
    d.extend_from_slice(&h.to_be_bytes());
    d.extend_from_slice(&[depth, color, 0, 0, 0]);
    d
}

pub fn png_from_chunks(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in chunks {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(*kind);
        out.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    out
}

/// CRC-32 (IEEE), as PNG chunks use.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zlib stream of uncompressed ("stored") deflate blocks.
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// An animated GIF: `frames` frames of different solid colours with a moving square.
pub fn gif_animated(w: u32, h: u32, frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).expect("repeat");
        for i in 0..frames {
            let shade = (i * 200 / frames.max(1)) as u8;
            let buffer = image::RgbaImage::from_fn(w, h, |x, y| {
                let in_square = x / 8 == i as u32 % (w / 8).max(1) && y < 8;
                if in_square {
                    Rgba([255, 255, 255, 255])
                } else {
                    Rgba([shade, 40, 255 - shade, 255])
                }
            });
            let delay = image::Delay::from_numer_denom_ms(100, 1);
            encoder
                .encode_frame(Frame::from_parts(buffer, 0, 0, delay))
                .expect("gif frame");
        }
    }
    out
}

pub fn gif_still(w: u32, h: u32) -> Vec<u8> {
    encode(
        &DynamicImage::ImageRgb8(pattern(w, h, 50)),
        ImageFormat::Gif,
    )
}

pub fn webp_lossless(w: u32, h: u32) -> Vec<u8> {
    let image = pattern(w, h, 90);
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(image.as_raw(), w, h, ExtendedColorType::Rgb8)
        .expect("encode webp");
    out
}

/// Frames in a GIF.
pub fn gif_frame_count(bytes: &[u8]) -> usize {
    use image::AnimationDecoder;
    image::codecs::gif::GifDecoder::new(Cursor::new(bytes))
        .expect("gif")
        .into_frames()
        .count()
}

// ---------------------------------------------------------------------------------------
// EXIF: a JPEG carrying Orientation=6, GPS tags and a comment, built by hand
// ---------------------------------------------------------------------------------------

/// Text planted in the EXIF ImageDescription and in a JPEG comment; must never be served.
pub const SECRET: &[u8] = b"GPS-SECRET-PLACE 48.8584N";
/// The GPS latitude as stored (48° 51' 29.99"): three little-endian RATIONALs.
pub const GPS_LATITUDE: [u32; 6] = [48, 1, 51, 1, 2999, 100];

/// A little-endian TIFF block: IFD0 {ImageDescription, Orientation, GPS pointer} and a
/// GPS IFD {VersionID, LatitudeRef, Latitude, LongitudeRef, Longitude}.
pub fn exif_tiff(orientation: u16) -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    const ASCII: u16 = 2;
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    const BYTE: u16 = 1;
    let ifd0_at = 8u32;
    let ifd0_len = 2 + 3 * 12 + 4;
    let gps_at = ifd0_at + ifd0_len;
    let gps_len = 2 + 5 * 12 + 4;
    let lat_at = gps_at + gps_len;
    let lon_at = lat_at + 24;
    let desc_at = lon_at + 24;
    let mut desc = SECRET.to_vec();
    desc.push(0);

    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&ifd0_at.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(
        &mut t,
        0x010E,
        ASCII,
        desc.len() as u32,
        desc_at.to_le_bytes(),
    );
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, SHORT, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, LONG, 1, gps_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&5u16.to_le_bytes());
    entry(&mut t, 0x0000, BYTE, 4, [2, 3, 0, 0]);
    entry(&mut t, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, RATIONAL, 3, lat_at.to_le_bytes());
    entry(&mut t, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, RATIONAL, 3, lon_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    for v in GPS_LATITUDE.into_iter().chain([2, 1, 17, 1, 4015, 100]) {
        t.extend_from_slice(&v.to_le_bytes());
    }
    t.extend_from_slice(&desc);
    t
}

/// Insert APP1 (EXIF) and a COM segment right after the SOI marker of `jpeg`.
pub fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert_eq!(&jpeg[..2], [0xFF, 0xD8], "not a JPEG");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif_tiff(orientation));
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((SECRET.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(SECRET);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The stored pixels of the orientation fixture: 300×200, a red 40×40 block in the top-left
/// corner, the rest mid-grey. Orientation 6 (rotate 90° clockwise) puts the block top-right.
pub fn red_corner(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        if x < 40 && y < 40 {
            Rgb([230, 20, 20])
        } else {
            Rgb([120, 120, 120])
        }
    })
}

/// Mean colour of a `size`-square whose top-left corner is at (x, y).
pub fn mean_rgb(image: &RgbImage, x: u32, y: u32, size: u32) -> [f64; 3] {
    let mut sum = [0f64; 3];
    for yy in y..y + size {
        for xx in x..x + size {
            let p = image.get_pixel(xx, yy).0;
            for c in 0..3 {
                sum[c] += f64::from(p[c]);
            }
        }
    }
    sum.map(|s| s / f64::from(size * size))
}

pub fn is_red(c: [f64; 3]) -> bool {
    c[0] > 180.0 && c[1] < 80.0 && c[2] < 80.0
}

/// Mean absolute difference per channel of two same-sized images.
pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "sizes differ");
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// Fail if `bytes` carry any EXIF/GPS data or the planted secret.
pub fn assert_no_metadata(bytes: &[u8], what: &str) {
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Ok(found) => panic!(
            "{what} still has EXIF: {:?}",
            found.fields().map(|f| f.tag).collect::<Vec<_>>()
        ),
        Err(exif::Error::NotFound(_) | exif::Error::InvalidFormat(_)) => {}
        Err(e) => panic!("{what}: unexpected EXIF reader error {e}"),
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(b"Exif\0\0"), "{what} contains an Exif header");
    assert!(!contains(b"eXIf"), "{what} contains a PNG eXIf chunk");
    assert!(!contains(b"EXIF"), "{what} contains a WebP EXIF chunk");
    assert!(
        !contains(SECRET),
        "{what} contains the planted description/comment"
    );
    let lat: Vec<u8> = GPS_LATITUDE.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert!(!contains(&lat), "{what} contains the GPS latitude");
}
