//! Download control: originals and the streamed ZIP exist only when the owner allows them,
//! and the ZIP holds exactly the stripped originals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read};

use crate::common::*;
use rocket::http::{ContentType, Header, Status};

fn gallery(app: &TestApp, allow_download: &str) -> (String, String) {
    let form = Form::new()
        .text("title", "Holiday")
        .text("allow_download", allow_download)
        .file("beach.jpg", &jpeg(120, 80, 1))
        .file("beach.jpg", &jpeg(80, 120, 2))
        .file("sunset.png", &png_rgb(64, 64));
    app.gallery(form)
}

#[test]
fn with_downloads_each_original_and_a_zip_of_all_are_offered() {
    let app = TestApp::new();
    let (id, _) = gallery(&app, "true");
    let page = app.get(&format!("/g/{id}"));
    assert!(page.has_id("download-all"));
    assert!(page.text().contains("data-downloads=\"on\""));

    let originals: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let original = app.image(&id, i, "original");
            assert_eq!(original.status, Status::Ok);
            let disposition = original.header("Content-Disposition").unwrap();
            assert!(
                disposition.starts_with("attachment; filename=\""),
                "{disposition}"
            );
            original.body
        })
        .collect();
    assert!(
        app.image(&id, 2, "original")
            .header("Content-Disposition")
            .unwrap()
            .contains("sunset.png")
    );

    let zip = app.get(&format!("/g/{id}/zip"));
    assert_eq!(zip.status, Status::Ok);
    assert_eq!(zip.ctype(), "application/zip");
    assert!(
        zip.header("Content-Disposition")
            .unwrap()
            .contains("Holiday.zip")
    );
    let mut archive = zip::ZipArchive::new(Cursor::new(zip.body)).expect("a valid ZIP");
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.expect("entry name").into_owned())
        .collect();
    assert_eq!(names.len(), 3);
    for (i, original) in originals.iter().enumerate() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().expect("entry name").into_owned();
        assert!(name.starts_with(&format!("{:02}-", i + 1)), "{name}");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        assert!(&bytes == original, "entry {i} equals the stripped original");
        assert_no_metadata(&bytes, "zip entry");
    }
    assert_ne!(
        names[0], names[1],
        "same upload names stay distinct in the archive"
    );
}

#[test]
fn without_downloads_only_the_display_rendition_is_served() {
    let app = TestApp::new();
    let (id, key) = gallery(&app, "false");
    let page = app.get(&format!("/g/{id}"));
    let html = page.text();
    assert!(html.contains("data-downloads=\"off\""));
    assert!(!html.contains("download-all") && !html.contains("lb-download"));
    assert!(!html.contains("/original"), "no original is linked");

    let display = app.image(&id, 0, "display");
    assert_eq!(display.status, Status::Ok);
    assert_eq!(display.header("Content-Disposition"), Some("inline"));
    assert_eq!(app.image(&id, 0, "original").status, Status::NotFound);
    assert_eq!(app.get(&format!("/g/{id}/zip")).status, Status::NotFound);

    // The owner turns downloads on: offered at once.
    let res = app
        .client
        .patch(format!("/api/galleries/{id}"))
        .header(Header::new("Authorization", format!("Bearer {key}")))
        .header(rocket::http::ContentType::JSON)
        .body(r#"{"allow_download": true}"#)
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(app.image(&id, 0, "original").status, Status::Ok);
}

#[test]
fn images_and_zip_stop_when_the_gallery_is_disabled() {
    let app = TestApp::new();
    let (id, key) = gallery(&app, "true");
    assert_eq!(app.image(&id, 0, "thumb").status, Status::Ok);
    assert_eq!(app.get(&format!("/g/{id}/zip")).status, Status::Ok);
    app.disable(&id, &key);
    assert_eq!(app.image(&id, 0, "thumb").status, Status::Forbidden);
    assert_eq!(app.image(&id, 0, "original").status, Status::Forbidden);
    assert_eq!(app.get(&format!("/g/{id}/zip")).status, Status::Forbidden);
}

/// A gallery of these files (downloads on) titled `title`; its id.
fn named_gallery(app: &TestApp, title: &str, files: &[(&str, Vec<u8>)]) -> String {
    let form = files.iter().fold(
        Form::new()
            .text("title", title)
            .text("allow_download", "true"),
        |form, (name, bytes)| form.file(name, bytes),
    );
    let res = app.post_form("/api/galleries", form);
    assert_eq!(res.status(), Status::Created);
    field(&json_of(res), "id").to_owned()
}

#[test]
fn hostile_names_cannot_choose_how_a_download_is_saved() {
    let app = TestApp::new();
    let id = named_gallery(
        &app,
        "Holiday.exe;",
        &[
            // A JPEG claiming to be HTML, then PNG: saved as JPEG, `;` harmless.
            ("holiday.html;.png", jpeg(40, 30, 1)),
            ("50% 'off' ü.png", png_rgb(16, 16)),
            // Invisible format characters go; the real type's extension replaces `.gif`.
            ("sun\u{200B}set\u{FEFF}.gif", png_rgb(16, 16)),
            ("..", webp_lossless(8, 8)),
        ],
    );
    let expected = [
        "attachment; filename=\"holiday.html_.jpg\"; filename*=UTF-8''holiday.html_.jpg",
        "attachment; filename=\"50_ 'off' _.png\"; filename*=UTF-8''50%25%20%27off%27%20%C3%BC.png",
        "attachment; filename=\"sunset.png\"; filename*=UTF-8''sunset.png",
        "attachment; filename=\"image.webp\"; filename*=UTF-8''image.webp",
    ];
    for (index, want) in expected.iter().enumerate() {
        let original = app.image(&id, index, "original");
        assert_eq!(original.status, Status::Ok);
        assert_eq!(original.header("Content-Disposition"), Some(*want));
    }
    let zip = app.get(&format!("/g/{id}/zip"));
    assert_eq!(
        zip.header("Content-Disposition"),
        Some("attachment; filename=\"Holiday.exe_.zip\"; filename*=UTF-8''Holiday.exe_.zip")
    );
}

#[test]
fn qr_codes_are_named_with_an_encoded_disposition() {
    let app = TestApp::new();
    let id = named_gallery(&app, "", &[("a.png", png_rgb(8, 8))]);
    let png = app.get(&format!("/g/{id}/qr.png"));
    let name = format!("maiimg-{id}-qr.png");
    assert_eq!(
        png.header("Content-Disposition"),
        Some(format!("inline; filename=\"{name}\"; filename*=UTF-8''{name}").as_str())
    );
}

/// Whether `c` would hide in a file name: a control, a bidi control or another invisible
/// format character.
fn hides(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}')
        || matches!(c, '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

#[test]
fn zip_entries_and_its_name_hold_no_path_and_no_invisible_characters() {
    let app = TestApp::new();
    let id = named_gallery(
        &app,
        "../../etc/Holiday\u{200B}",
        &[
            ("..\\..\\evil.jpg", jpeg(40, 30, 1)),
            ("sun\u{200B}set\u{FEFF}.png", png_rgb(16, 16)),
            ("\u{2067}x\u{2069}\u{200D}.jpg", jpeg(30, 40, 2)),
        ],
    );
    app.image(&id, 0, "thumb");
    let zip = app.get(&format!("/g/{id}/zip"));
    assert_eq!(zip.status, Status::Ok);
    assert_eq!(
        zip.header("Content-Disposition"),
        Some("attachment; filename=\"_.._etc_Holiday.zip\"; filename*=UTF-8''_.._etc_Holiday.zip")
    );
    let archive = zip::ZipArchive::new(Cursor::new(zip.body)).expect("a valid ZIP");
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.expect("entry name").into_owned())
        .collect();
    for name in &names {
        assert!(!name.contains(['/', '\\']), "{name:?}");
        assert!(!name.chars().any(hides), "{name:?}");
        assert!(!name.starts_with('.'), "{name:?}");
    }
    assert_eq!(names, ["01-evil.jpg", "02-sunset.png", "03-x.jpg"]);
}

#[test]
fn head_of_an_original_or_of_the_zip_is_not_a_download() {
    let app = TestApp::new();
    let (id, key) = gallery(&app, "true");
    app.image(&id, 0, "thumb");
    let original = app.client.head(format!("/g/{id}/i/0/original")).dispatch();
    assert_eq!(original.status(), Status::Ok);
    assert_eq!(original.content_type(), Some(ContentType::JPEG));
    let disposition = original.headers().get_one("Content-Disposition");
    assert!(disposition.unwrap().starts_with("attachment; "));
    assert!(original.into_bytes().unwrap_or_default().is_empty());
    let zip = app.client.head(format!("/g/{id}/zip")).dispatch();
    assert_eq!(zip.status(), Status::Ok);
    assert_eq!(
        zip.headers().get_one("Content-Type"),
        Some("application/zip")
    );
    let disposition = zip.headers().get_one("Content-Disposition");
    assert!(disposition.unwrap().contains("Holiday.zip"));
    assert!(zip.into_bytes().unwrap_or_default().is_empty());

    let downloads = || {
        let res = app
            .client
            .get(format!("/api/galleries/{id}/stats"))
            .header(Header::new("Authorization", format!("Bearer {key}")))
            .dispatch();
        let stats = json_of(res);
        let images = stats["images"].as_array().unwrap();
        let originals: u64 = images
            .iter()
            .map(|i| i["downloads"].as_u64().unwrap())
            .sum();
        (originals, stats["zip_downloads"].as_u64().unwrap())
    };
    assert_eq!(downloads(), (0, 0), "HEAD counted as a download");
    // A GET of each is counted (so the numbers above would have shown one).
    app.image(&id, 0, "original");
    app.get(&format!("/g/{id}/zip"));
    assert_eq!(downloads(), (1, 1));
}

#[test]
fn head_is_refused_like_get() {
    let app = TestApp::new();
    let (id, _) = gallery(&app, "false");
    let head = |path: String| app.client.head(path).dispatch().status();
    assert_eq!(
        head(format!("/g/{id}/zip")),
        Status::Forbidden,
        "no ticket yet"
    );
    app.image(&id, 0, "thumb");
    assert_eq!(head(format!("/g/{id}/i/0/original")), Status::NotFound);
    assert_eq!(head(format!("/g/{id}/zip")), Status::NotFound);
    assert_eq!(head(format!("/g/{id}/i/0/display")), Status::Ok);
}
