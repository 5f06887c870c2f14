//! The stored original: the uploaded file with every metadata block removed, rebuilt at the
//! container level so the pixels are untouched (no re-encoding, no quality loss).

use bytes::Bytes;
use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::png::Png;
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;
use img_parts::{ImageEXIF, ImageICC};

use crate::domain::ingest::animation;

/// Why a container could not be rebuilt.
pub type StripError = String;

/// JPEG: keep what decoding needs (tables, frame, scans), the JFIF header, the ICC profile
/// (colour, not personal data) and Adobe's colour-transform flag; drop EXIF/GPS/XMP (APP1),
/// IPTC (APP13), comments and every other APPn, and anything after the end-of-image marker
/// (phones append depth maps and secondary images there, each with its own EXIF).
pub fn jpeg(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    let mut jpeg = Jpeg::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|e| e.to_string())?;
    let icc = jpeg.icc_profile();
    jpeg.segments_mut().retain(|s| {
        let m = s.marker();
        let is_app = (markers::APP0..=markers::APP15).contains(&m);
        let keep_app = (m == markers::APP0 && s.contents().starts_with(b"JFIF\0"))
            || (m == markers::APP14 && s.contents().starts_with(b"Adobe"));
        m != markers::COM && (!is_app || keep_app)
    });
    jpeg.set_icc_profile(icc);

    let scan = jpeg
        .segments_mut()
        .pop()
        .filter(JpegSegment::has_entropy)
        .ok_or("the file has no image data")?;
    // The scan's entropy-coded data runs to the end of the input (img-parts keeps any
    // trailing bytes there); it ends at the first EOI, since 0xFF inside it is escaped.
    let start = bytes.len() - (scan.len_with_entropy() - scan.len());
    let end = bytes[start..]
        .windows(2)
        .position(|w| w == [0xFF, markers::EOI])
        .ok_or("the file is truncated (no end-of-image marker)")?;
    let scan = JpegSegment::new_with_entropy(
        scan.marker(),
        scan.contents().clone(),
        Bytes::copy_from_slice(&bytes[start..start + end + 2]),
    );
    jpeg.segments_mut().push(scan);
    Ok(jpeg.encoder().bytes().to_vec())
}

/// PNG: keep only chunks that affect how the image looks (and APNG's animation chunks);
/// text, EXIF, time stamps and private chunks go.
pub fn png(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    const KEEP: [&[u8; 4]; 18] = [
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
        b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCV", b"cLLI",
    ];
    let mut png = Png::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|e| e.to_string())?;
    png.chunks_mut().retain(|c| KEEP.contains(&&c.kind()));
    Ok(png.encoder().bytes().to_vec())
}

/// The chunks a WebP is shown with: image data, the extended header, alpha, animation and
/// the colour profile. Everything else goes: EXIF, XMP, the RIFF `LIST`/`INFO` chunks
/// (artist, copyright, title, comment) and any chunk nobody defined, an allow-list as for
/// PNG.
const WEBP_KEEP: [[u8; 4]; 7] = [
    *b"VP8 ", *b"VP8L", *b"VP8X", *b"ALPH", *b"ANIM", *b"ANMF", *b"ICCP",
];

/// WebP: keep only the chunks it is shown with (image data, VP8X, alpha, animation, ICC).
pub fn webp(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    let mut webp = WebP::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|e| e.to_string())?;
    webp.chunks_mut()
        .retain(|chunk| WEBP_KEEP.contains(&chunk.id()));
    // A frame may carry chunks of its own after its image data.
    for chunk in webp.chunks_mut() {
        if chunk.id() == *b"ANMF"
            && let RiffContent::Data(data) = chunk.content()
        {
            let clean = animation::webp::strip_frame(data)?;
            *chunk = RiffChunk::new(*b"ANMF", RiffContent::Data(Bytes::from(clean)));
        }
    }
    // Also brings the VP8X header's flags in line with the chunks that are left.
    webp.set_exif(None);
    Ok(webp.encoder().bytes().to_vec())
}

/// A GIF decoded to palette indices, every frame checked.
pub struct Gif {
    /// Canvas size.
    pub width: u16,
    /// Canvas size.
    pub height: u16,
    /// More than one frame.
    pub animated: bool,
    /// The GIF rebuilt from its frames alone: comments, XMP and other application
    /// extensions are gone, the loop count stays. Pixels are identical (indices are
    /// re-compressed, not re-quantised).
    pub clean: Vec<u8>,
}

/// Decode every frame of a GIF (bounded by `max_pixels`, each frame counted at the full
/// canvas size) and rebuild it.
pub fn gif(bytes: &[u8], max_pixels: u64) -> Result<Gif, GifError> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    options.set_memory_limit(gif::MemoryLimit::Bytes(
        std::num::NonZeroU64::new(max_pixels.max(1)).unwrap_or(std::num::NonZeroU64::MIN),
    ));
    let mut decoder = options
        .read_info(bytes)
        .map_err(|e| GifError::Corrupt(e.to_string()))?;
    let (width, height) = (decoder.width(), decoder.height());
    let global = decoder.global_palette().map(<[u8]>::to_vec);
    let mut frames: Vec<gif::Frame<'static>> = Vec::new();
    let mut pixels: u64 = 0;
    while let Some(frame) = decoder
        .read_next_frame()
        .map_err(|e| GifError::Corrupt(e.to_string()))?
    {
        // The encoder writes a frame without pixels in a form no decoder reads back, so
        // the stored original would be a broken file.
        if frame.width == 0 || frame.height == 0 {
            return Err(GifError::Corrupt("a frame has no pixels".into()));
        }
        // Every frame is composited onto the whole canvas to make the renditions, so the
        // work is canvas × frames however small each frame is: 2,000 frames of 1×1 on a
        // 3000-pixel-wide canvas took minutes of a decode thread (found by fuzzing).
        let canvas = u64::from(width) * u64::from(height);
        pixels += canvas.max(u64::from(frame.width) * u64::from(frame.height));
        if pixels > max_pixels {
            return Err(GifError::TooManyPixels(pixels));
        }
        frames.push(frame.clone());
    }
    if frames.is_empty() {
        return Err(GifError::Corrupt("the file has no frames".into()));
    }
    let repeat = decoder.repeat();
    let animated = frames.len() > 1;

    let mut clean = Vec::with_capacity(bytes.len());
    {
        let palette = global.as_deref().unwrap_or(&[]);
        let mut encoder = gif::Encoder::new(&mut clean, width, height, palette)
            .map_err(|e| GifError::Corrupt(e.to_string()))?;
        if animated {
            encoder
                .set_repeat(repeat)
                .map_err(|e| GifError::Corrupt(e.to_string()))?;
        }
        for frame in &frames {
            encoder
                .write_frame(frame)
                .map_err(|e| GifError::Corrupt(e.to_string()))?;
        }
    }
    Ok(Gif {
        width,
        height,
        animated,
        clean,
    })
}

/// Why a GIF was refused.
#[derive(Debug)]
pub enum GifError {
    /// Undecodable.
    Corrupt(String),
    /// Frames add up to more pixels than allowed (the count so far).
    TooManyPixels(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webp_keeps_only_what_it_is_shown_with() {
        use image::ImageEncoder;
        let pixels: Vec<u8> = (0..8 * 8 * 3).map(|i| (i * 7) as u8).collect();
        let mut lossless = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut lossless)
            .write_image(&pixels, 8, 8, image::ExtendedColorType::Rgb8)
            .expect("encoded");
        let mut webp = WebP::from_bytes(Bytes::from(lossless)).expect("a WebP");
        let info = b"INFOIART\x0e\0\0\0Secret Artist\0ICOP\x06\0\0\0(c) me".to_vec();
        let extra = |id: [u8; 4], data: &[u8]| {
            RiffChunk::new(id, RiffContent::Data(Bytes::copy_from_slice(data)))
        };
        webp.chunks_mut().push(extra(*b"LIST", &info));
        webp.chunks_mut().push(extra(*b"ZZZZ", b"Secret chunk"));
        webp.set_exif(Some(Bytes::from_static(b"Exif\0\0Secret GPS")));
        let tagged = webp.encoder().bytes().to_vec();
        assert!(tagged.windows(6).any(|w| w == b"Secret"));

        let clean = super::webp(&tagged).expect("stripped");
        assert!(!clean.windows(6).any(|w| w == b"Secret"), "metadata left");
        let kept = WebP::from_bytes(Bytes::from(clean.clone())).expect("still a WebP");
        assert!(kept.chunks().iter().all(|c| WEBP_KEEP.contains(&c.id())));
        let decoded = image::load_from_memory(&clean)
            .expect("still decodes")
            .to_rgb8();
        assert_eq!(decoded.into_raw(), pixels, "pixels untouched");
    }

    /// Found by the `strip` fuzz target: a frame 527 wide and 0 high was rebuilt into a GIF
    /// that does not decode ("image truncated").
    #[test]
    fn a_frame_without_pixels_is_refused() {
        let bytes = b"\
        \x47\x49\x46\x38\x39\x61\x10\x00\x08\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x21\
        \xff\x0b\x4e\x45\x54\x5d\x43\x41\x50\x45\x32\x2e\x30\x03\x01\x00\x00\x00\x21\xf9\
        \x04\x08\x0a\x00\x00\x00\x21\xf9\x04\x08\x0a\x00\x00\x00\x2c\x00\x00\xfa\xff\x0f\
        \x02\x00\x00\xc0\x42\x28\xbd\xff\xff\xff\x02\x13\x84\x6f\xa1\xab\xff\xff\xff\xff\
        \xff\xff\xff\x00\x21\xf9\x04\x08\x0a\xe4\x00\x00\x21\xf9\x04\x08\x0a\xff\x01\x00\
        \x3b";
        assert!(matches!(gif(bytes, 1_000_000), Err(GifError::Corrupt(_))));
    }

    #[test]
    fn tiny_frames_on_a_huge_canvas_count_as_the_canvas() {
        let (w, h) = (3000u16, 3000u16);
        let mut bytes = Vec::new();
        {
            let palette = [0u8, 0, 0, 255, 255, 255];
            let mut encoder = ::gif::Encoder::new(&mut bytes, w, h, &palette).expect("encoder");
            for i in 0..10 {
                let mut frame = ::gif::Frame::from_indexed_pixels(1, 1, vec![i % 2], None);
                frame.left = u16::from(i) * 10;
                encoder.write_frame(&frame).expect("frame");
            }
        }
        // 10 frames of one pixel each, but ten 9-megapixel composites: over a 50 MP limit.
        match gif(&bytes, 50_000_000) {
            Err(GifError::TooManyPixels(p)) => assert!(p > 50_000_000),
            Err(e) => panic!("refused for another reason: {e:?}"),
            Ok(_) => panic!("accepted 90 MP of compositing"),
        }
        assert!(gif(&bytes, 100_000_000).is_ok());
    }
}
