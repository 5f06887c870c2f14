use super::*;
use turbojpeg::ScalingFactor;

/// A JPEG of `w`×`h` with four differently coloured quadrants and a gradient, 4:2:0.
pub(super) fn fixture(w: u16, h: u16, icc: Option<&[u8]>) -> Vec<u8> {
    let mut data = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..h {
        for x in 0..w {
            let (right, low) = (x >= w / 2, y >= h / 2);
            let shade = ((x + y) % 64) as u8;
            data.extend_from_slice(&match (right, low) {
                (false, false) => [200, shade, 40],
                (true, false) => [30, 180, shade],
                (false, true) => [shade, 60, 220],
                (true, true) => [240, 240, 40 + shade],
            });
        }
    }
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 90);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    if let Some(icc) = icc {
        encoder.add_icc_profile(icc).expect("profile");
    }
    encoder
        .encode(&data, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encoded");
    bytes
}

/// `jpeg` with an EXIF APP1 segment holding `orientation` right after SOI.
pub(super) fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(app1.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The original and the display rendition the JPEG path makes of `bytes`.
#[derive(Debug)]
struct Out {
    original: Encoded,
    display: Encoded,
}

fn ingest(bytes: &[u8]) -> Result<Out, String> {
    let (stripped, head) = open(bytes)?;
    let (original, display, _) = render(bytes, stripped, head)?;
    Ok(Out { original, display })
}

#[test]
fn renditions_are_decoded_at_the_smallest_scale_that_keeps_their_detail() {
    let half = ScalingFactor::ONE_HALF;
    // 12-megapixel photos: half size, 2 % short of the display edge.
    assert_eq!(shrink(4000, 3000, 2048), half);
    assert_eq!(shrink(3024, 4032, 2048), half);
    // Further short than a tenth: the whole image, resized.
    assert_eq!(shrink(3600, 2400, 2048), ScalingFactor::ONE);
    assert_eq!(shrink(2100, 1400, 2048), ScalingFactor::ONE);
    assert_eq!(shrink(1000, 800, 2048), ScalingFactor::ONE);
    assert_eq!(shrink(2048, 1536, 2048), ScalingFactor::ONE);
    // Large enough for a smaller scale that is still at least the edge.
    assert_eq!(shrink(8000, 6000, 2048), half);
    assert_eq!(shrink(9000, 6000, 2048), ScalingFactor::ONE_QUARTER);
    assert_eq!(shrink(16384, 100, 2048), ScalingFactor::ONE_EIGHTH);
    // The estimate the pool admits a decode by follows the scale.
    let head = |width, height, inks| Header {
        width,
        height,
        inks,
        arithmetic: false,
    };
    assert_eq!(decoded_frame(&head(4000, 3000, false)), (2000, 1500, 3));
    assert_eq!(decoded_frame(&head(3000, 2000, false)), (3000, 2000, 3));
    assert_eq!(decoded_frame(&head(4000, 3000, true)), (4000, 3000, 4));
}

#[test]
fn warnings_that_lose_pixels_refuse_and_the_rest_do_not() {
    let refused = verdict("Corrupt JPEG data: found marker 0xd1 instead of RST5")
        .expect_err("a damaged scan");
    assert!(
        refused.contains(
            "a restart marker is missing or out of place (found marker 0xd1 instead of RST5)"
        ),
        "{refused}"
    );
    for damage in [
        "Corrupt JPEG data: premature end of data segment",
        "Corrupt JPEG data: bad Huffman code",
        "Corrupt JPEG data: bad arithmetic code",
        "Inconsistent progression sequence for component 0 coefficient 1",
        "Bogus marker length",
    ] {
        assert!(verdict(damage).is_err(), "{damage}");
    }
    let truncated = verdict("Premature end of JPEG file").expect_err("truncated");
    assert!(truncated.contains("truncated"), "{truncated}");
    for harmless in [
        "Corrupt JPEG data: 3 extraneous bytes before marker 0xd9",
        "Warning: unknown JFIF revision number 2.01",
        "Invalid SOS parameters for sequential JPEG",
        "Corrupt JPEG data: bad ICC marker",
    ] {
        assert_eq!(verdict(harmless), Ok(()), "{harmless}");
    }
}

#[test]
fn every_orientation_is_turned_upright_without_its_exif_and_with_its_profile() {
    let icc = moxcms::ColorProfile::new_display_p3()
        .encode()
        .expect("a P3 profile");
    let source = fixture(64, 48, Some(&icc));
    let decoded = |bytes: &[u8]| {
        let p = decode(bytes, ScalingFactor::ONE).expect("decodes");
        image::RgbImage::from_raw(p.width, p.height, p.data).expect("sized")
    };
    let upright_pixels = decoded(&source);
    for exif in 1..=8u16 {
        let tagged = with_orientation(&source, exif);
        let out = ingest(&tagged).expect("accepted");
        let original = &out.original.bytes;
        let parsed = Jpeg::from_bytes(Bytes::copy_from_slice(original)).expect("a JPEG");
        assert!(parsed.exif().is_none(), "orientation {exif}: EXIF left");
        assert_eq!(
            img_parts::ImageICC::icc_profile(&parsed).as_deref(),
            Some(&icc[..]),
            "orientation {exif}: profile lost"
        );
        // What the EXIF asked a viewer to do, done on the decoded source, matches the
        // DCT-domain result (64×48 is MCU-aligned: nothing trimmed).
        let mut expected = image::DynamicImage::ImageRgb8(decoded(&tagged));
        let orientation = Orientation::from_exif(exif as u8).expect("1-8");
        expected.apply_orientation(orientation);
        let got = decoded(original);
        assert_eq!(got.dimensions(), expected.to_rgb8().dimensions(), "{exif}");
        assert_eq!((out.original.width, out.original.height), got.dimensions());
        let diff = got
            .as_raw()
            .iter()
            .zip(expected.to_rgb8().as_raw())
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / got.as_raw().len() as f64;
        assert!(diff < 1.0, "orientation {exif}: {diff:.2} per channel");
        // The display rendition is the same upright picture.
        let display = image::load_from_memory(&out.display.bytes).expect("display");
        assert_eq!((display.width(), display.height()), got.dimensions());
    }
    assert_eq!(upright_pixels.dimensions(), (64, 48));
}

#[test]
fn partial_edge_blocks_are_trimmed_where_they_cannot_move() {
    // 4:2:0 moves 16×16 blocks; 40×24 ends mid-block on both sides.
    let source = fixture(40, 24, None);
    for (exif, size) in [
        (2, (32, 24)), // mirror: the right edge goes
        (3, (32, 16)), // half turn: both
        (4, (40, 16)), // flip: the bottom edge
        (5, (24, 40)), // transpose: nothing has to move past an edge
        (6, (16, 40)), // quarter turn clockwise: the source's bottom edge
        (7, (16, 32)), // transverse: both
        (8, (24, 32)), // quarter turn anticlockwise: the source's right edge
    ] {
        let out = ingest(&with_orientation(&source, exif)).expect("accepted");
        assert_eq!((out.original.width, out.original.height), size, "{exif}");
        let h = header(&out.original.bytes).expect("a JPEG");
        assert_eq!((h.width, h.height), size, "{exif}: header");
    }
}

#[test]
fn padding_between_header_segments_is_no_reason_to_refuse() {
    let source = fixture(32, 32, None);
    // Four stray bytes before the second segment: libjpeg's "extraneous bytes" warning.
    let at = 4 + usize::from(u16::from_be_bytes([source[4], source[5]]));
    let mut padded = source[..at].to_vec();
    padded.extend_from_slice(&[0, 0, 0, 0]);
    padded.extend_from_slice(&source[at..]);
    assert!(header(&padded).is_err(), "TurboJPEG stops at the warning");
    let out = ingest(&padded).expect("accepted");
    assert_eq!((out.original.width, out.original.height), (32, 32));
}

#[test]
fn a_file_of_endless_scans_is_refused_before_decoding() {
    let mut bytes = fixture(16, 16, None);
    let eoi = bytes.split_off(bytes.len() - 2);
    for _ in 0..=MAX_SCANS {
        bytes.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
    }
    bytes.extend_from_slice(&eoi);
    let refused = ingest(&bytes).expect_err("refused");
    assert!(refused.to_string().contains("scans"), "{refused}");
}
