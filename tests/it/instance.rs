//! Abuse and capacity controls (rate limits, the upload password, the storage quota), the
//! purge of closed galleries, and crash safety of every removal of blob files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration as StdDuration, Instant};

use crate::common::*;
use maiimg::domain::collector::MassDeletion::{Allow, Hold};
use maiimg::domain::galleries::{Galleries, OpenOptions};
use maiimg::domain::ingest::{Limits, ingest};
use maiimg::domain::settings::SettingsInput;
use maiimg::model::Digest;
use maiimg::store::Store;
use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

fn retry_after(res: &rocket::local::blocking::LocalResponse<'_>) -> u64 {
    res.headers()
        .get_one("Retry-After")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds")
}

fn upload<'c>(
    app: &'c TestApp,
    bytes: &[u8],
    headers: Vec<Header<'static>>,
) -> rocket::local::blocking::LocalResponse<'c> {
    let (ct, body) = Form::new().file("p.jpg", bytes).finish();
    headers
        .into_iter()
        .fold(app.client.post("/api/uploads").header(ct), |r, h| {
            r.header(h)
        })
        .body(body)
        .dispatch()
}

fn views(app: &TestApp, id: &str) -> bool {
    app.get(&format!("/g/{id}")).status == Status::Ok
        && app.image(id, 0, "original").status == Status::Ok
}

mod collection;

#[test]
fn uploads_over_the_rate_limit_are_refused_and_nothing_is_lost() {
    let app = TestApp::with(|c| c.rate_limit_uploads_per_hour = 3);
    // Two files in one gallery, one staged upload: the allowance of three is used up.
    let first = app.create(&[("a.jpg", &jpeg(64, 48, 1)), ("b.jpg", &jpeg(64, 48, 2))]);
    let first = field(&first, "id").to_owned();
    let res = upload(&app, &jpeg(64, 48, 3), vec![]);
    assert_eq!(res.status(), Status::Created);
    let staged = field(&json_of(res), "upload_id").to_owned();

    let blobs = app.blob_count();
    let res = upload(&app, &jpeg(64, 48, 4), vec![]);
    assert_eq!(res.status(), Status::TooManyRequests);
    let wait = retry_after(&res);
    assert!((1..=3600).contains(&wait), "{wait}");
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "rate_limited");
    assert!(
        message.contains("try again in") && message.contains("minute"),
        "{message}"
    );
    // A multipart gallery counts its files too; the refused request stores nothing.
    let form = Form::new().file("c.jpg", &jpeg(64, 48, 5));
    app.refuse(
        "/api/galleries",
        form,
        Status::TooManyRequests,
        "rate_limited",
    );
    assert_eq!(
        app.blob_count(),
        blobs,
        "nothing of the refused uploads was kept"
    );

    // What was stored is intact, and the staged upload still makes its gallery.
    assert!(views(&app, &first));
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .body(json!({ "uploads": [staged] }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Created);

    // Another client has its own allowance.
    let (ct, body) = Form::new().file("d.jpg", &jpeg(64, 48, 6)).finish();
    let res = app
        .client
        .post("/api/uploads")
        .header(ct)
        .remote(SocketAddr::from(([198, 51, 100, 7], 40_000)))
        .body(body)
        .dispatch();
    assert_eq!(res.status(), Status::Created);
}

#[test]
fn gallery_creation_over_the_rate_limit_is_refused() {
    let app = TestApp::with(|c| c.rate_limit_galleries_per_hour = 2);
    let ids: Vec<String> = (1..=2)
        .map(|i| field(&app.create(&[("a.jpg", &jpeg(64, 48, i))]), "id").to_owned())
        .collect();
    let res = app.post_form(
        "/api/galleries",
        Form::new().file("c.jpg", &jpeg(64, 48, 9)),
    );
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(retry_after(&res) > 0);
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "rate_limited");
    assert!(
        message.contains("galleries") && message.contains("try again in"),
        "{message}"
    );
    // The browser flow too (its upload is allowed: files and galleries count apart).
    let res = upload(&app, &jpeg(64, 48, 10), vec![]);
    let staged = field(&json_of(res), "upload_id").to_owned();
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .body(json!({ "uploads": [staged] }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::TooManyRequests);
    for id in &ids {
        assert!(views(&app, id), "{id} is intact");
    }
}

#[test]
fn a_private_instance_needs_the_upload_password_to_upload_not_to_view() {
    const PASSWORD: &str = "family-2026";
    let app = TestApp::with(|c| c.upload_password = PASSWORD.into());
    let password = |p: &str| vec![Header::new("X-Upload-Password", p.to_owned())];

    let res = upload(&app, &jpeg(64, 48, 1), vec![]);
    assert_eq!(res.status(), Status::Unauthorized);
    assert!(res.headers().get_one("WWW-Authenticate").is_none());
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "upload_password_required");
    assert!(message.contains("X-Upload-Password"), "{message}");
    let res = upload(&app, &jpeg(64, 48, 1), password("family-2025"));
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(error_of(&json_of(res)).0, "upload_password_wrong");
    app.refuse(
        "/api/galleries",
        Form::new().file("a.jpg", &jpeg(64, 48, 1)),
        Status::Unauthorized,
        "upload_password_required",
    );
    assert_eq!(app.blob_count(), 0);

    let res = upload(&app, &jpeg(64, 48, 1), password(PASSWORD));
    assert_eq!(res.status(), Status::Created);
    let staged = field(&json_of(res), "upload_id").to_owned();
    let create = |headers: Vec<Header<'static>>| {
        headers
            .into_iter()
            .fold(app.client.post("/api/galleries"), |r, h| r.header(h))
            .header(ContentType::JSON)
            .body(json!({ "uploads": [staged] }).to_string())
            .dispatch()
    };
    assert_eq!(create(vec![]).status(), Status::Unauthorized);
    let res = create(password(PASSWORD));
    assert_eq!(res.status(), Status::Created);
    let id = field(&json_of(res), "id").to_owned();
    let (ct, body) = Form::new().file("b.jpg", &jpeg(64, 48, 2)).finish();
    let res = app
        .client
        .post("/api/galleries")
        .header(ct)
        .header(Header::new("X-Upload-Password", PASSWORD))
        .body(body)
        .dispatch();
    assert_eq!(res.status(), Status::Created);

    // Viewing needs nothing; the upload page asks for the password.
    assert!(views(&app, &id));
    let page = app.get("/").text();
    assert!(page.contains("id=\"upload-password\"") && page.contains("data-private=\"true\""));
    let public = TestApp::new().get("/").text();
    assert!(!public.contains("upload-password") && !public.contains("data-private"));
}

#[test]
fn wrong_upload_passwords_are_rate_limited() {
    let app = TestApp::with(|c| c.upload_password = "letmein".into());
    let wrong = || vec![Header::new("X-Upload-Password", "guess")];
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(upload(&app, &jpeg(16, 16, 1), wrong()).status());
    }
    assert!(statuses[..30].iter().all(|s| *s == Status::Unauthorized));
    assert_eq!(statuses[30], Status::TooManyRequests);
}

#[test]
fn a_declared_length_no_upload_may_have_is_refused_before_the_body_is_read() {
    let app = TestApp::with(|c| {
        c.max_file_bytes = 200_000;
        c.max_images = 2;
        c.rate_limit_uploads_per_hour = 2;
        c.rate_limit_galleries_per_hour = 1;
    });
    let photo = jpeg(40, 30, 1);
    // A small, valid body that claims to be far larger than any upload may be.
    for declared in ["1000000000000", "99999999999999999999999"] {
        let length = || Header::new("Content-Length", declared);
        let res = upload(&app, &photo, vec![length()]);
        assert_eq!(res.status(), Status::PayloadTooLarge);
        assert_eq!(error_of(&json_of(res)).0, "request_too_large");

        let (ct, body) = Form::new().file("p.jpg", &photo).finish();
        let req = app
            .client
            .post("/api/galleries")
            .header(ct)
            .header(length());
        let res = req.body(body).dispatch();
        assert_eq!(res.status(), Status::PayloadTooLarge);
        let (code, message) = error_of(&json_of(res));
        assert_eq!(code, "request_too_large");
        assert!(message.contains("MB"), "{message}");
    }
    assert_eq!(app.blob_count(), 0);
    // Nothing was read, so nothing of the hourly allowances was used either.
    assert_eq!(upload(&app, &photo, vec![]).status(), Status::Created);
    app.create(&[("p.jpg", &photo)]);
}

#[test]
fn a_full_disk_refuses_uploads_with_507_and_keeps_serving() {
    const QUOTA: u64 = 1_048_576;
    let app = TestApp::with(|c| c.max_storage_bytes = QUOTA);
    let first = field(&app.create(&[("a.jpg", &jpeg(400, 300, 1))]), "id").to_owned();

    // A body that cannot fit is refused before it is read (by its Content-Length; the
    // bytes are not even an image).
    let big = vec![0u8; 1_200_000];
    let length = Header::new("Content-Length", (big.len() + 200).to_string());
    let res = upload(&app, &big, vec![length]);
    assert_eq!(res.status(), Status::InsufficientStorage);
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "storage_full");
    assert!(message.contains("storage is full"), "{message}");

    // Fill it up with uploads until the server says no.
    let mut staged = Vec::new();
    let mut refused = None;
    for seed in 2..60u8 {
        let res = upload(&app, &jpeg(700, 500, seed), vec![]);
        if res.status() == Status::Created {
            staged.push(field(&json_of(res), "upload_id").to_owned());
        } else {
            refused = Some((res.status(), json_of(res)));
            break;
        }
    }
    let (status, body) = refused.expect("the quota was reached");
    assert_eq!(status, Status::InsufficientStorage, "{body}");
    assert_eq!(error_of(&body).0, "storage_full");
    assert!(!staged.is_empty());
    let on_disk: u64 = blob_files(app.dir.path())
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(
        on_disk <= QUOTA,
        "{on_disk} bytes stored over a quota of {QUOTA}"
    );
    app.refuse(
        "/api/galleries",
        Form::new().file("x.jpg", &jpeg(700, 500, 99)),
        Status::InsufficientStorage,
        "storage_full",
    );

    // Viewing keeps working, and what was uploaded can still become a gallery.
    assert!(views(&app, &first));
    let res = app
        .client
        .post("/api/galleries")
        .header(ContentType::JSON)
        .body(json!({ "uploads": staged }).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Created);
    let id = field(&json_of(res), "id").to_owned();
    assert!(views(&app, &id));
}

fn open_galleries(dir: &Path) -> Galleries {
    open_galleries_at(dir, OffsetDateTime::now_utc())
}

/// The gallery service on `dir`, started at `now` (its start-up collection sweeps then).
fn open_galleries_at(dir: &Path, now: OffsetDateTime) -> Galleries {
    let options = OpenOptions {
        tracking: false,
        ..OpenOptions::at(dir.to_path_buf())
    };
    Galleries::open(options, now).unwrap()
}

fn settings(pairs: &[(&str, &str)]) -> SettingsInput {
    let mut input = SettingsInput::default();
    for (name, value) in pairs {
        assert!(input.set(name, (*value).to_owned()), "{name}");
    }
    input
}

#[rocket::async_test]
async fn purge_deletes_only_galleries_closed_long_enough_and_keeps_shared_files() {
    let dir = tempfile::tempdir().unwrap();
    let galleries = open_galleries(dir.path());
    let limits = Limits {
        max_file_bytes: 1 << 22,
        max_pixels: 1 << 22,
        max_dimension: 4000,
    };
    let image = |seed: u8| {
        galleries
            .write_image(&ingest(&jpeg(80, 60, seed), "p.jpg", &limits).unwrap())
            .unwrap()
    };
    let now = OffsetDateTime::now_utc();
    let days = Duration::days;
    let make = |images, when: OffsetDateTime, pairs: &[(&str, &str)]| {
        galleries
            .create("", &settings(pairs), images, &[], when)
            .unwrap()
    };
    // Shares image 1 with `active`; image 2 is its own.
    let long_expired = make(
        vec![image(1), image(2)],
        now - days(40),
        &[("expires_in", "864000")],
    );
    let active = make(vec![image(1)], now - days(40), &[]);
    let lately_expired = make(vec![image(3)], now - days(4), &[("expires_in", "86400")]);
    let exhausted = make(vec![image(4)], now - days(20), &[("max_opens", "1")]);
    let reopened = make(vec![image(5)], now - days(20), &[("max_opens", "1")]);
    for g in [&exhausted, &reopened] {
        let admitted = galleries
            .admit(&g.id, &g.record, None, now - days(12))
            .await;
        assert!(admitted.is_ok());
    }
    let blob = |g: &maiimg::domain::galleries::create::Created, i: usize| {
        let image = &g.record.images[i];
        galleries.blob_path(&image.original.digest)
    };
    let (shared, own) = (blob(&long_expired, 0), blob(&long_expired, 1));

    // A sweep ten days ago finds both limits used up and marks them then.
    let first = galleries.purge(now - days(10), 7).unwrap();
    assert_eq!(first.galleries, 1, "only the long-expired gallery");
    assert!(
        galleries.get(&exhausted.id).is_ok(),
        "marked, not yet old enough"
    );
    // The owner of `reopened` raises its limit in between.
    galleries
        .update_settings(
            &reopened.id,
            Some(reopened.manage_key.as_str()),
            &settings(&[("max_opens", "10")]),
            now - days(9),
        )
        .unwrap();

    let purged = galleries.purge(now, 7).unwrap();
    assert_eq!(purged.galleries, 1, "the gallery used up ten days ago");
    assert!(purged.freed.files >= 1 && purged.freed.bytes > 0);
    for (g, kept) in [
        (&long_expired, false),
        (&active, true),
        (&lately_expired, true),
        (&exhausted, false),
        (&reopened, true),
    ] {
        assert_eq!(galleries.get(&g.id).is_ok(), kept, "{}", g.id);
    }
    assert!(shared.exists(), "a file another gallery uses stays");
    assert!(!own.exists(), "a file only the purged gallery used goes");
    assert!(!blob(&exhausted, 0).exists());
    assert!(blob(&lately_expired, 0).exists());

    // Newly used up: marked now, purged only `after_days` later. 0 purges nothing.
    let fresh = make(vec![image(6)], now, &[("max_opens", "1")]);
    galleries
        .admit(&fresh.id, &fresh.record, None, now)
        .await
        .unwrap();
    assert_eq!(galleries.purge(now, 7).unwrap().galleries, 0);
    assert_eq!(galleries.purge(now + days(30), 0).unwrap().galleries, 0);
    assert!(galleries.get(&fresh.id).is_ok());
    assert_eq!(galleries.purge(now + days(8), 7).unwrap().galleries, 2);
    assert!(galleries.get(&fresh.id).is_err() && galleries.get(&lately_expired.id).is_err());
    assert!(galleries.get(&active.id).is_ok() && shared.exists());
    drop(galleries);
    assert_consistent(dir.path());
}

/// What the hourly collection does to the orphans marked by a start: as an administrator
/// who confirmed, since a purge killed midway may leave more orphans than kept files.
fn collect_an_hour_later(data: &Path) {
    let later = OffsetDateTime::now_utc() + Duration::minutes(61);
    let galleries = open_galleries_at(data, later);
    let sweep = galleries.collect_garbage(later, Allow).unwrap();
    assert_eq!(sweep.held, None);
}

/// Every blob a committed gallery references exists (no dangling reference) and every
/// blob file is referenced (no orphan): the state after deletions that collected their
/// files, or a collection an hour after the orphans were marked.
fn assert_consistent(data: &Path) -> usize {
    let store = Store::open(data, true).unwrap();
    let referenced = store.referenced().unwrap();
    let files: HashSet<Digest> = blob_files(data)
        .iter()
        .map(|p| Digest::from_hex(p.file_name().unwrap().to_str().unwrap()).unwrap())
        .collect();
    let mut galleries = 0;
    store
        .each_gallery("", |id, record, _| {
            galleries += 1;
            for image in &record.images {
                for digest in image.digests() {
                    assert!(files.contains(&digest), "{id} references a missing file");
                    assert!(referenced.contains(&digest), "{id}: uncounted reference");
                }
            }
        })
        .unwrap();
    let orphans: Vec<_> = files.difference(&referenced).collect();
    assert!(orphans.is_empty(), "orphan files: {orphans:?}");
    let missing: Vec<_> = referenced.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "counted blobs without a file: {missing:?}"
    );
    galleries
}

fn create_over_http(base: &str, files: &[(&'static str, Vec<u8>)]) -> Value {
    let mut form = reqwest::blocking::multipart::Form::new();
    for (name, bytes) in files {
        let part = reqwest::blocking::multipart::Part::bytes(bytes.clone()).file_name(*name);
        form = form.part("file", part);
    }
    let res = http()
        .post(format!("{base}/api/galleries"))
        .multipart(form)
        .send()
        .expect("create");
    assert_eq!(res.status().as_u16(), 201);
    res.json().expect("json")
}

/// Every image of gallery `id` (with `n` images) is served to a fresh viewer.
fn serves(base: &str, id: &str, n: usize) -> bool {
    let viewer = http();
    if get_with(&viewer, &format!("{base}/g/{id}")).0 != 200 {
        return false;
    }
    (0..n).all(|i| {
        ["original", "display", "thumb"]
            .iter()
            .all(|r| get_with(&viewer, &format!("{base}/g/{id}/i/{i}/{r}")).0 == 200)
    })
}
