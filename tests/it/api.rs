//! The HTTP API and the viewer, through Rocket's local client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::*;
use image::GenericImageView;
use maiimg::domain::ingest::{DISPLAY_EDGE, THUMB_EDGE, fit_within};
use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

const TOO_LARGE: Status = Status::PayloadTooLarge;
const BAD: Status = Status::BadRequest;
const UNAUTHORIZED: Status = Status::Unauthorized;

#[test]
fn create_answers_links_and_every_format_round_trips() {
    let app = TestApp::new();
    let files = [
        ("a.jpg", jpeg(640, 480, 1), "jpeg"),
        ("b.png", png_rgb(300, 200), "png"),
        ("c.png", png_rgba(120, 80), "png"),
        ("d.png", png_16bit(90, 60), "png"),
        ("e.png", png_palette(64, 48), "png"),
        ("f.png", png_gray(50, 70), "png"),
        ("g.gif", gif_animated(64, 48, 4), "gif"),
        ("h.gif", gif_still(40, 30), "gif"),
        ("i.webp", webp_lossless(100, 60), "webp"),
    ];
    let form = Form::new().text("title", "  Summer\n 2024  ");
    let form = files.iter().fold(form, |f, (n, b, _)| f.file(n, b));
    let (ct, body) = form.finish();
    let res = app.client.post("/api/galleries").header(ct).body(body);
    let res = res
        .header(Header::new("Host", "evil.example:666"))
        .header(Header::new("X-Forwarded-Host", "evil.example"))
        .dispatch();
    assert_eq!(res.status(), Status::Created);
    let location = res.headers().get_one("Location").map(str::to_owned);
    let json = json_of(res);
    let leaked = json.to_string().contains("evil.example");
    assert!(!leaked, "the Host header was used: {json}");

    let id = field(&json, "id");
    assert_eq!(id.len(), 16, "96 bits as URL-safe base64");
    let url_safe = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    assert!(id.bytes().all(url_safe), "{id}");
    let key = field(&json, "manage_key");
    assert!(key.len() >= 22, "manage key too short: {key}");
    let share = format!("{PUBLIC_URL}/g/{id}");
    assert_eq!(field(&json, "share_url"), share);
    assert_eq!(location.as_deref(), Some(share.as_str()));
    let manage = format!("{PUBLIC_URL}/m/{id}#{key}");
    assert_eq!(field(&json, "manage_url"), manage);
    assert_eq!(field(&json, "qr_png_url"), format!("{share}/qr.png"));
    assert_eq!(field(&json, "qr_svg_url"), format!("{share}/qr.svg"));

    let images = json["images"].as_array().expect("images");
    assert_eq!(images.len(), files.len());
    for (i, ((name, bytes, format), image)) in files.iter().zip(images).enumerate() {
        let source = decode(bytes).to_rgb8();
        let (w, h) = source.dimensions();
        assert_eq!(image["index"], i, "{name}");
        assert_eq!(image["format"], *format, "{name}");
        assert_eq!(size(image), (w.into(), h.into()), "{name}");
        let original = app.image(id, i, "original");
        assert_eq!(original.status, Status::Ok, "{name}");
        assert_eq!(image["bytes"], original.body.len(), "{name}: bytes");
        assert_eq!(original.ctype(), format!("image/{format}"));
        assert_eq!(decode(&original.body).dimensions(), (w, h), "{name}");
        for (rendition, edge) in [("display", DISPLAY_EDGE), ("thumb", THUMB_EDGE)] {
            let served = app.image(id, i, rendition);
            assert_eq!(served.status, Status::Ok, "{name} {rendition}");
            let pixels = decode(&served.body).to_rgb8();
            let expected = fit_within(w, h, edge);
            assert_eq!(pixels.dimensions(), expected, "{name} {rendition}");
            if pixels.dimensions() == (w, h) {
                // Decodable by the `image` crate (so by maiimg itself) in true colours.
                let diff = mean_abs_diff(&source, &pixels);
                assert!(diff < 12.0, "{name} {rendition}: colours off by {diff:.1}");
            }
        }
    }
    // Real transparency survives: the RGBA PNG's display rendition keeps its alpha.
    let display = app.image(id, 2, "display");
    assert_eq!(display.ctype(), "image/webp");
    let rgba = decode(&display.body).to_rgba8();
    let alpha = |x| rgba.get_pixel(x, 1).0[3];
    assert_eq!((alpha(1), alpha(119)), (128, 0));
    // An opaque photo becomes a JPEG rendition; the page shows the cleaned-up title.
    assert_eq!(app.image(id, 0, "display").ctype(), "image/jpeg");
    assert!(app.get(&share).text().contains("Summer 2024"));
}

#[test]
fn refusals_are_json_errors_and_store_nothing() {
    let app = TestApp::with(|c| c.max_file_bytes = 200_000);
    let post = |form, status, code| app.refuse("/api/galleries", form, status, code);
    let good = jpeg(200, 150, 9);

    let empty = Form::new().text("title", "nothing attached");
    let message = post(empty, Status::BadRequest, "no_files");
    assert!(message.contains("25"), "{message}");

    let form = (0..26).fold(Form::new(), |f, i| f.file(&format!("p{i}.jpg"), &good));
    let message = post(form, Status::BadRequest, "too_many_files");
    assert!(message.contains("25"), "{message}");

    let mut big = jpeg(16, 16, 1);
    big.resize(250_000, 0);
    let form = Form::new().file("big.jpg", &big);
    let message = post(form, Status::PayloadTooLarge, "file_too_large");
    assert!(message.contains("big.jpg"), "{message}");
    assert!(message.contains("200 KB"), "{message}");

    let fakes: [&[u8]; 4] = [
        b"just some notes, not a photo\n",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"%PDF-1.7\n1 0 obj << >> endobj\n",
    ];
    for fake in fakes {
        let form = Form::new().file("photo.jpg", fake);
        let message = post(form, Status::UnsupportedMediaType, "unsupported_format");
        assert!(message.contains("photo.jpg"), "{message}");
        assert!(message.contains("JPEG, PNG, GIF, WebP"), "{message}");
    }

    let png = png_rgb(200, 150);
    let mut bad_crc = png.clone();
    bad_crc[png.len() - 30] ^= 0x55;
    let broken: [(&str, &[u8]); 4] = [
        ("half.jpg", &good[..good.len() / 2]),
        ("half.png", &png[..png.len() / 2]),
        ("no-frame.jpg", b"\xFF\xD8\xFF\xD9"),
        ("bad-crc.png", &bad_crc),
    ];
    for (name, bytes) in broken {
        let form = Form::new().file(name, bytes);
        let message = post(form, Status::UnprocessableEntity, "corrupt_image");
        assert!(message.contains(name), "{message}");
    }

    // One bad file among good ones, first, in the middle, or last: nothing is kept.
    for bad_at in [0, 2, 4] {
        let form = (0..5).fold(Form::new(), |f, i| match i == bad_at {
            true => f.file("bad.png", &png[..png.len() - 20]),
            false => f.file(&format!("ok{i}.jpg"), &jpeg(300, 200, i as u8)),
        });
        post(form, Status::UnprocessableEntity, "corrupt_image");
        assert_eq!(app.blob_count(), 0, "blobs left (bad file at {bad_at})");
    }
    let galleries = app.close_and_count_galleries();
    assert_eq!(galleries, 0, "a refused request created a gallery");
}

#[test]
fn pixel_bombs_are_refused_quickly_and_the_server_keeps_serving() {
    let app = TestApp::new();
    let bombs = [
        ("claims-60000.png", png_claiming(60_000, 60_000)),
        ("claims-52mp.png", png_claiming(7_500, 7_000)),
        ("black-100mp.png", png_bomb(10_000, 10_000)),
    ];
    for (name, bytes) in &bombs {
        assert!(bytes.len() < 200_000, "{name} is {} bytes", bytes.len());
        let started = Instant::now();
        let form = Form::new().file(name, bytes);
        let message = app.refuse("/api/galleries", form, TOO_LARGE, "image_too_large");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "{name} took {took:?}");
        assert!(message.contains(name), "{message}");
        app.create(&[("after.jpg", &jpeg(64, 64, 2))]);
    }

    let small = TestApp::with(|c| c.max_pixels = 1_000_000);
    let started = Instant::now();
    let bomb = Form::new().file("bomb.png", &png_bomb(2_000, 1_500));
    let message = small.refuse("/api/galleries", bomb, TOO_LARGE, "image_too_large");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(message.contains("1 megapixels"), "{message}");
    small.create(&[("fine.png", &png_rgb(1000, 1000))]);
    assert_eq!(small.blob_count(), 3);
}

#[test]
fn viewer_page_images_and_headers() {
    let app = TestApp::new();
    let json = app.create(&[
        ("a.jpg", &jpeg(900, 600, 1)),
        ("b.png", &png_rgb(200, 400)),
        ("c.gif", &gif_animated(60, 40, 3)),
    ]);
    let id = field(&json, "id");

    let page = app.get(&format!("/g/{id}"));
    assert_eq!(page.status, Status::Ok);
    assert!(page.ctype().starts_with("text/html"));
    let html = page.text();
    let grid = html.split_once("id=\"grid\"").expect("grid").1;
    let grid = grid.split_once("</ul>").expect("grid end").0;
    let imgs: Vec<&str> = grid.split("<img").skip(1).collect();
    assert_eq!(imgs.len(), 3, "{grid}");
    let sizes = [(480, 320), (200, 400), (60, 40)];
    for (i, (tag, (w, h))) in imgs.iter().zip(sizes).enumerate() {
        let tag = tag.split_once('>').expect("tag end").0;
        let src = format!("src=\"/g/{id}/i/{i}/thumb\"");
        assert!(tag.contains(&src), "{tag}");
        let size = format!("width=\"{w}\" height=\"{h}\"");
        assert!(tag.contains(&size), "{tag}");
        assert!(tag.contains("loading=\""), "{tag}");
    }
    let csp = page.header("Content-Security-Policy").expect("CSP");
    let strict = !csp.contains("unsafe-inline") && csp.contains("default-src");
    assert!(strict, "{csp}");
    assert!(page.header("Referrer-Policy").is_some());
    assert_eq!(page.header("X-Frame-Options"), Some("DENY"));

    for (i, rendition, mime) in [
        (0, "thumb", "image/jpeg"),
        (0, "display", "image/jpeg"),
        (1, "original", "image/png"),
        (2, "display", "image/gif"),
    ] {
        let url = format!("/g/{id}/i/{i}/{rendition}");
        let res = app.get(&url);
        assert_eq!((res.status, res.ctype()), (Status::Ok, mime), "{url}");
        assert_eq!(res.header("X-Content-Type-Options"), Some("nosniff"));
        let cache = res.header("Cache-Control").expect("Cache-Control");
        assert!(cache.starts_with("private"), "{url}: {cache}");
        let etag = res.header("ETag").expect("etag").to_owned();
        assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
        let again = app.get_with(&url, vec![Header::new("If-None-Match", etag.clone())]);
        assert_eq!(again.status, Status::NotModified, "{url}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("ETag"), Some(etag.as_str()));
        let stale = app.get_with(&url, vec![Header::new("If-None-Match", "\"00\"")]);
        assert_eq!((stale.status, &stale.body), (Status::Ok, &res.body));
    }
    let download = app.image(id, 1, "original");
    let disposition = download.header("Content-Disposition");
    assert!(disposition.is_some_and(|d| d.contains("b.png")));

    let other = "AAAAAAAAAAAAAAAA";
    for url in [
        format!("/g/{other}"),
        format!("/g/{other}/i/0/thumb"),
        format!("/g/{id}/i/3/thumb"),
        format!("/g/{id}/i/0/huge"),
        format!("/g/{id}/i/x/thumb"),
        format!("/g/{id}/i/99999999999999999999999/thumb"),
        format!("/g/{other}/qr.png"),
        "/g/..%2f..%2fetc%2fpasswd".to_owned(),
    ] {
        let res = app.get(&url);
        assert_eq!(res.status, Status::NotFound, "{url}");
        assert!(res.ctype().starts_with("text/html"), "{url}");
        assert!(res.text().contains("Nothing here"), "{url}");
    }
}

#[test]
fn qr_codes_encode_the_share_link() {
    let app = TestApp::new();
    let json = app.create(&[("a.jpg", &jpeg(64, 64, 1))]);
    let png = app.get(field(&json, "qr_png_url"));
    assert_eq!((png.status, png.ctype()), (Status::Ok, "image/png"));
    let luma = decode(&png.body).to_luma8();
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        luma.get_pixel(x as u32, y as u32).0[0]
    });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().expect("QR decodes");
    assert_eq!(content, field(&json, "share_url"));

    let svg = app.get(field(&json, "qr_svg_url"));
    assert_eq!((svg.status, svg.ctype()), (Status::Ok, "image/svg+xml"));
    assert!(svg.text().contains("<svg"));
}

#[test]
fn browser_flow_stages_uploads_then_creates_a_gallery() {
    let app = TestApp::new();
    let mut ids = Vec::new();
    for (name, bytes, dims) in [
        ("a.jpg", jpeg(800, 600, 1), (800, 600)),
        ("b.png", png_rgba(40, 30), (40, 30)),
    ] {
        let res = app.post_form("/api/uploads", Form::new().file(name, &bytes));
        assert_eq!(res.status(), Status::Created);
        let up = json_of(res);
        assert_eq!(size(&up), dims);
        assert!(up["bytes"].as_u64().expect("bytes") > 0);
        assert!(up["format"].is_string());
        let thumb = app.get(field(&up, "thumb_url"));
        assert_eq!(thumb.status, Status::Ok);
        assert!(thumb.ctype().starts_with("image/"), "{}", thumb.ctype());
        assert!(decode(&thumb.body).width() <= 480);
        ids.push(field(&up, "upload_id").to_owned());
    }
    let small = jpeg(10, 10, 1);
    let two = Form::new().file("a.jpg", &small).file("b.jpg", &small);
    let message = app.refuse("/api/uploads", two, Status::BadRequest, "too_many_files");
    assert!(message.contains("limit is 1"), "{message}");

    let create = |body: Value| {
        let req = app.client.post("/api/galleries").header(ContentType::JSON);
        let res = req.body(body.to_string()).dispatch();
        (res.status(), json_of(res))
    };
    let (status, gallery) = create(json!({"title": "t", "uploads": &ids}));
    assert_eq!(status, Status::Created, "{gallery}");
    let id = field(&gallery, "id");
    assert_eq!(field(&gallery, "share_url"), format!("{PUBLIC_URL}/g/{id}"));
    let manage = format!("/m/{id}#{}", field(&gallery, "manage_key"));
    assert!(field(&gallery, "manage_url").ends_with(&manage));
    assert_eq!(size(&gallery["images"][0]), (800, 600));
    assert_eq!(gallery["images"][1]["format"], "png");
    assert_eq!(app.image(id, 1, "display").status, Status::Ok);

    let (status, err) = create(json!({"uploads": [ids[0]]}));
    let code = error_of(&err).0;
    assert_eq!((status, code.as_str()), (BAD, "upload_missing"));
    let used = app.get(&format!("/api/uploads/{}/thumb", ids[0]));
    assert_eq!(used.status, Status::NotFound);
    let (status, err) = create(json!({"uploads": []}));
    assert_eq!((status, error_of(&err).0.as_str()), (BAD, "no_files"));
}

#[test]
fn manage_key_guards_reading_and_deleting() {
    let app = TestApp::new();
    let shared = jpeg(500, 300, 4);
    let first = app.create(&[("own.png", &png_rgb(120, 90)), ("shared.jpg", &shared)]);
    let second = app.create(&[("shared-too.jpg", &shared)]);
    let (id, key) = (field(&first, "id"), field(&first, "manage_key"));
    let bearer = |k: &str| Some(format!("Bearer {k}"));

    let (status, info) = app.manage(false, id, bearer(key));
    assert_eq!(status, Status::Ok);
    assert_eq!(info["id"], id);
    assert_eq!(info["images"].as_array().map(Vec::len), Some(2));
    assert!(info.get("manage_key").is_none(), "the key is shown once");

    let other_key = bearer(field(&second, "manage_key"));
    for auth in [other_key, bearer(""), Some(key.to_owned()), None] {
        for delete in [false, true] {
            let (status, err) = app.manage(delete, id, auth.clone());
            let code = error_of(&err).0;
            assert_eq!((status, code.as_str()), (UNAUTHORIZED, "unauthorized"));
        }
    }
    let page = app.get(&format!("/g/{id}"));
    assert_eq!(page.status, Status::Ok, "refusals changed nothing");

    let renditions = ["original", "display", "thumb"];
    let etags = |i| -> HashSet<String> { renditions.map(|r| app.etag(id, i, r)).into() };
    let (own, shared_blobs) = (etags(0), etags(1));
    assert!(own.is_disjoint(&shared_blobs));
    let all: Vec<&String> = own.iter().chain(&shared_blobs).collect();
    assert!(all.iter().all(|hex| app.blob_path(hex).is_file()));
    assert_eq!(app.blob_count(), all.len());

    assert_eq!(app.manage(true, id, bearer(key)).0, Status::NoContent);
    assert_eq!(app.get(&format!("/g/{id}")).status, Status::NotFound);
    assert_eq!(app.image(id, 0, "thumb").status, Status::NotFound);
    assert_eq!(app.manage(false, id, bearer(key)).0, Status::NotFound);
    assert_eq!(app.manage(true, id, bearer(key)).0, Status::NotFound);
    // The PNG's files are gone; the JPEG's stay, the other gallery still uses them.
    let gone = own.iter().all(|hex| !app.blob_path(hex).exists());
    assert!(gone, "the deleted gallery's own blobs remain");
    let kept = shared_blobs.iter().all(|hex| app.blob_path(hex).is_file());
    assert!(kept, "blobs another gallery uses were removed");
    assert_eq!(app.blob_count(), shared_blobs.len());
    let other = field(&second, "id");
    for r in renditions {
        assert_eq!(app.image(other, 0, r).status, Status::Ok);
    }
    let other_key = bearer(field(&second, "manage_key"));
    assert_eq!(app.manage(true, other, other_key).0, Status::NoContent);
    assert_eq!(app.blob_count(), 0);
}
