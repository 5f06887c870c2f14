//! The public corpora in ../shared/testdata (PngSuite, EXIF orientations), where present.

use super::*;

#[test]
fn pngsuite_valid_files_are_accepted_and_broken_ones_refused() {
    let Some(dir) = testdata("pngsuite/png") else {
        return;
    };
    let all = files(&dir, "png");
    assert!(
        all.len() > 150,
        "PngSuite looks incomplete: {} files",
        all.len()
    );
    let (broken, valid): (Vec<_>, Vec<_>) = all.into_iter().partition(|p| stem(p).starts_with('x'));
    assert!(broken.len() >= 10);

    for path in &valid {
        let bytes = std::fs::read(path).expect("read");
        let name = stem(path);
        let out =
            ingest(&bytes, &name, &limits()).unwrap_or_else(|e| panic!("{name} refused: {e}"));
        assert_eq!(out.original.format, MediaFormat::Png, "{name}");
        check_outputs(&out, &name);
        // The stored original still shows the same pixels as the upload.
        let before = image::load_from_memory(&bytes)
            .expect("suite file decodes")
            .to_rgba16();
        let after = image::load_from_memory(&out.original.bytes)
            .expect("original decodes")
            .to_rgba16();
        assert!(
            before == after,
            "{name}: the stripped original changed pixels"
        );
    }
    for path in &broken {
        let bytes = std::fs::read(path).expect("read");
        let name = stem(path);
        match ingest(&bytes, &name, &limits()) {
            Ok(_) => panic!("{name} (deliberately broken) was accepted"),
            Err(e) => assert!(
                e.to_string().contains(&name),
                "{name}: message does not name the file: {e}"
            ),
        }
    }

    // Through the API: valid files in galleries of 25, broken ones refused with nothing kept.
    let app = TestApp::new();
    for path in &broken {
        let bytes = std::fs::read(path).expect("read");
        let res = app.post_form(
            "/api/galleries",
            Form::new().file(&format!("{}.png", stem(path)), &bytes),
        );
        let status = res.status();
        let (code, _) = error_of(&json_of(res));
        assert!(
            status.code >= 400 && status.code < 500,
            "{}: {status} {code}",
            stem(path)
        );
    }
    assert_eq!(
        app.blob_count(),
        0,
        "a refused PngSuite file left blobs behind"
    );
    for batch in valid.chunks(25) {
        let contents: Vec<(String, Vec<u8>)> = batch
            .iter()
            .map(|p| (format!("{}.png", stem(p)), std::fs::read(p).expect("read")))
            .collect();
        let refs: Vec<(&str, &[u8])> = contents
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let json = app.create(&refs);
        assert_eq!(json["images"].as_array().map(Vec::len), Some(batch.len()));
    }
}

#[test]
fn exif_orientations_come_out_upright() {
    let Some(dir) = testdata("exif-orientation") else {
        return;
    };
    for kind in ["Landscape", "Portrait"] {
        let read = |n: u32| std::fs::read(dir.join(format!("{kind}_{n}.jpg"))).expect("sample");
        let upright = ingest(&read(1), "upright.jpg", &limits()).expect("orientation 1");
        check_outputs(&upright, &format!("{kind}_1"));
        let reference =
            [&upright.original, &upright.display, &upright.thumb].map(|e| rgb(&e.bytes));
        for n in [0, 2, 3, 4, 5, 6, 7, 8] {
            let what = format!("{kind}_{n}");
            let out = ingest(&read(n), &what, &limits()).unwrap_or_else(|e| panic!("{what}: {e}"));
            check_outputs(&out, &what);
            let outputs = [&out.original, &out.display, &out.thumb];
            for ((label, e), expected) in ["original", "display", "thumb"]
                .into_iter()
                .zip(outputs)
                .zip(&reference)
            {
                let got = rgb(&e.bytes);
                // Turned losslessly, a side that ends mid-block loses that partial block
                // where the transform would have to move it (fewer than 16 pixels, as
                // `jpegtran -trim`; 1800 × 1200 at 4:2:0 becomes 1792 wide); the thumbnail
                // of that is a pixel or two off. Not upright would swap the sides.
                let slack = if label == "thumb" { 2 } else { 15 };
                let (g, x) = (got.dimensions(), expected.dimensions());
                assert!(
                    g.0.abs_diff(x.0) <= slack && g.1.abs_diff(x.1) <= slack,
                    "{what} {label}: not upright ({g:?} against {x:?})"
                );
                let diff = aligned_diff(&got, expected);
                assert!(
                    diff < 12.0,
                    "{what} {label}: differs from {kind}_1 by {diff:.1} per channel"
                );
            }
        }
    }
}

#[test]
fn jpeg_variants_and_jpeg_2000_are_refused_by_name() {
    let Some(dir) = testdata("realworld") else {
        return;
    };
    for (file, says) in [
        ("formats/monkey12.jpg", "is a 12-bit JPEG, which"),
        ("formats/testimgl.jpg", "is a lossless JPEG, which"),
        ("unsupported/relax.jp2", "it looks like JPEG 2000"),
    ] {
        let bytes = std::fs::read(dir.join(file)).expect("a corpus file");
        let refused = ingest(&bytes, file, &limits()).expect_err("refused");
        assert!(
            matches!(
                refused,
                IngestError::UnsupportedVariant { .. } | IngestError::Unsupported { .. }
            ),
            "{file}: {refused:?}"
        );
        assert!(refused.to_string().contains(says), "{file}: {refused}");
    }
}

/// Mean absolute difference per channel of the largest region both images have, at the
/// corner alignment that fits best (a trimmed edge may be on any side).
fn aligned_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let (w, h) = (a.width().min(b.width()), a.height().min(b.height()));
    let corners = |img: &image::RgbImage| {
        let (dx, dy) = (img.width() - w, img.height() - h);
        [(0, 0), (dx, 0), (0, dy), (dx, dy)]
    };
    let mut best = f64::INFINITY;
    for (ax, ay) in corners(a) {
        for (bx, by) in corners(b) {
            let ca = image::imageops::crop_imm(a, ax, ay, w, h).to_image();
            let cb = image::imageops::crop_imm(b, bx, by, w, h).to_image();
            best = best.min(mean_abs_diff(&ca, &cb));
        }
    }
    best
}
