//! HEIC and AVIF through the API: accepted upright, the original kept as HEIC/AVIF with no
//! metadata, a JPEG copy at `original.jpg` under the original's rules, the ZIP carrying the
//! JPEG, and nothing left behind when the gallery goes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read};
use std::path::Path;

use crate::common::*;
use rocket::http::Status;

/// The realworld files used here, when `../shared` is present (skipped visibly if not).
fn realworld(name: &str) -> Option<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/realworld")
        .join(name);
    if !path.is_file() {
        eprintln!("SKIPPED: {} is missing", path.display());
        return None;
    }
    Some(std::fs::read(path).expect("read"))
}

/// No EXIF payload, XMP packet or planted secret in served HEIF bytes (see
/// `ingest::heif::assert_no_heif_metadata` for why the bare word `Exif` is not looked for).
fn assert_clean_heif(bytes: &[u8], what: &str) {
    assert_no_metadata(bytes, what);
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for needle in [
        &b"Exif\0\0II*\0"[..],
        b"Exif\0\0MM\0*",
        b"II*\0",
        b"<x:xmpmeta",
        SECRET,
    ] {
        assert!(!contains(needle), "{what} carries {needle:?}");
    }
    let lat: Vec<u8> = GPS_LATITUDE.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert!(!contains(&lat), "{what} carries the GPS latitude");
}

#[test]
fn heic_and_avif_are_kept_and_offered_as_jpeg_and_leave_nothing_behind() {
    let app = TestApp::new();
    // Generated: 640×480 stored, EXIF orientation 6 inside (which must not turn it).
    let generated = heic(640, 480, &HeicExtras::default());
    let mut files: Vec<(String, Vec<u8>, (u64, u64))> =
        vec![("generated.heic".into(), generated, (640, 480))];
    if let Some(bytes) = realworld("heif/iphone_13_pro_max.HEIC") {
        // Stored 4032×3024; its `irot` makes it portrait.
        files.push(("IMG_0001.HEIC".into(), bytes, (3024, 4032)));
    }
    if let Some(bytes) = realworld("avif/kimono.rotate90.avif") {
        files.push(("kimono.avif".into(), bytes, (722, 1024)));
    }
    let form = files
        .iter()
        .fold(Form::new().text("title", "Phone"), |f, (n, b, _)| {
            f.file(n, b)
        });
    let res = app.post_form("/api/galleries", form);
    assert_eq!(res.status(), Status::Created);
    let json = json_of(res);
    let id = field(&json, "id").to_owned();
    let key = field(&json, "manage_key").to_owned();
    assert_eq!(app.get(&format!("/g/{id}")).status, Status::Ok);
    let page = app.get(&format!("/g/{id}")).text();
    assert!(
        page.contains(&format!("/g/{id}/i/0/original.jpg")),
        "the button offers the JPEG"
    );

    for (i, (name, _, upright)) in files.iter().enumerate() {
        let image = &json["images"][i];
        let format = if name.ends_with(".avif") {
            "avif"
        } else {
            "heic"
        };
        assert_eq!(image["format"], format, "{name}");
        assert_eq!(size(image), *upright, "{name} is upright");
        let jpg_url = image["original_jpg_url"].as_str().expect("a JPEG URL");
        assert!(
            jpg_url.ends_with(&format!("/g/{id}/i/{i}/original.jpg")),
            "{jpg_url}"
        );

        let jpeg = app.image(&id, i, "original.jpg");
        assert_eq!(jpeg.status, Status::Ok, "{name}");
        assert_eq!(jpeg.ctype(), "image/jpeg");
        let disposition = jpeg.header("Content-Disposition").unwrap();
        assert!(disposition.contains(".jpg\""), "{disposition}");
        let decoded = image::load_from_memory_with_format(&jpeg.body, image::ImageFormat::Jpeg)
            .expect("a JPEG");
        assert_eq!(
            (u64::from(decoded.width()), u64::from(decoded.height())),
            *upright
        );
        assert_no_metadata(&jpeg.body, &format!("{name} original.jpg"));
        for rendition in ["display", "thumb"] {
            assert_no_metadata(
                &app.image(&id, i, rendition).body,
                &format!("{name} {rendition}"),
            );
        }

        let original = app.image(&id, i, "original");
        assert_eq!(original.status, Status::Ok);
        assert_eq!(original.ctype(), format!("image/{format}"));
        assert_clean_heif(&original.body, &format!("{name} original"));
        assert_eq!(&original.body[4..8], b"ftyp", "still a HEIF file");
    }

    let zip = app.get(&format!("/g/{id}/zip"));
    assert_eq!(zip.status, Status::Ok);
    let mut archive = zip::ZipArchive::new(Cursor::new(zip.body)).expect("a ZIP");
    assert_eq!(archive.len(), files.len());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let entry_name = entry.name().unwrap().into_owned();
        assert!(entry_name.ends_with(".jpg"), "{entry_name}");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        assert_eq!(
            image::guess_format(&bytes).ok(),
            Some(image::ImageFormat::Jpeg)
        );
    }

    // Deleting the gallery removes every file, the JPEG copies included.
    assert_eq!(app.blob_count(), files.len() * 4);
    let (status, _) = app.manage(true, &id, Some(format!("Bearer {key}")));
    assert_eq!(status, Status::NoContent);
    assert_eq!(app.blob_count(), 0, "an unreferenced blob is left");
}

#[test]
fn without_downloads_the_jpeg_copy_is_not_served_either() {
    let app = TestApp::new();
    let form = Form::new()
        .text("allow_download", "false")
        .file("a.heic", &heic(320, 240, &HeicExtras::default()))
        .file("b.jpg", &jpeg(64, 48, 1));
    let (id, _) = app.gallery(form);
    assert_eq!(app.get(&format!("/g/{id}")).status, Status::Ok);
    assert_eq!(app.image(&id, 0, "original.jpg").status, Status::NotFound);
    assert_eq!(app.image(&id, 0, "original").status, Status::NotFound);
    assert_eq!(app.image(&id, 0, "display").status, Status::Ok);
    let app = TestApp::new();
    let (id, _) = app.gallery(Form::new().file("b.jpg", &jpeg(64, 48, 1)));
    assert_eq!(app.get(&format!("/g/{id}")).status, Status::Ok);
    // A JPEG original has no copy.
    assert_eq!(app.image(&id, 0, "original.jpg").status, Status::NotFound);
}

#[test]
fn videos_in_a_heif_box_are_refused_as_unsupported() {
    let app = TestApp::new();
    let mut mp4 = b"\0\0\0\x18ftypisom\0\0\0\0isommp42".to_vec();
    mp4.extend_from_slice(b"\0\0\0\x08moov");
    let form = Form::new().file("clip.mp4", &mp4);
    let message = app.refuse(
        "/api/galleries",
        form,
        Status::UnsupportedMediaType,
        "unsupported_format",
    );
    assert!(message.contains("MP4"), "{message}");
}
