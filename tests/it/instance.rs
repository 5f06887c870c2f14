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
use maiimg::domain::galleries::{Galleries, Options};
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
    let options = Options {
        tracking: false,
        ..Options::at(dir.to_path_buf())
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
    let blob = |g: &maiimg::domain::galleries::Created, i: usize| {
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
            Some(reopened.key.as_str()),
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

#[test]
fn a_crash_between_the_commit_and_the_file_removal_leaves_only_orphans() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(cwd.path(), data.path(), port);
    let base = server.base.clone();
    let shared = jpeg(300, 200, 7);
    let a = create_over_http(
        &base,
        &[("s.jpg", shared.clone()), ("a.jpg", jpeg(200, 150, 8))],
    );
    let b = create_over_http(&base, &[("s.jpg", shared), ("b.jpg", jpeg(220, 150, 9))]);
    let (a, b) = (field(&a, "id").to_owned(), field(&b, "id").to_owned());
    server.kill_9();

    // The deletion commits; then the process "dies" before removing any file.
    let freed = {
        let store = Store::open(data.path(), true).unwrap();
        let id = maiimg::ids::GalleryId::parse(&a).unwrap();
        store.delete_gallery(&id).unwrap().expect("it existed")
    };
    assert!(!freed.is_empty());
    let before = blob_files(data.path()).len();
    for digest in &freed {
        let hex = digest.to_hex();
        let path = data
            .path()
            .join("blobs")
            .join(&hex[..2])
            .join(&hex[2..4])
            .join(&hex);
        assert!(
            path.exists(),
            "still on disk: an orphan, not a dangling reference"
        );
    }

    // The next start marks the orphans but deletes nothing yet (a wrong database must not
    // be able to delete photos at once); the gallery sharing a file keeps it.
    let server = Server::start(cwd.path(), data.path(), port);
    assert_eq!(get(&format!("{base}/g/{a}")).0, 404);
    assert!(serves(&base, &b, 2));
    server.kill_9();
    assert_eq!(blob_files(data.path()).len(), before, "marked, not deleted");
    // A collection an hour after the marks deletes them.
    drop(open_galleries_at(
        data.path(),
        OffsetDateTime::now_utc() + Duration::minutes(61),
    ));
    assert_eq!(blob_files(data.path()).len(), before - freed.len());
    assert_eq!(assert_consistent(data.path()), 1);
}

fn admin_env(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut env = vec![("MAIIMG_ADMIN_TOKEN", "crash-test-admin-token-0123")];
    env.extend_from_slice(extra);
    env
}

/// A signed-in admin browser and the session's CSRF token.
fn admin(base: &str) -> (reqwest::blocking::Client, String) {
    let client = http();
    let res = client
        .post(format!("{base}/admin/login"))
        .form(&[("token", "crash-test-admin-token-0123")])
        .send()
        .expect("login");
    assert_eq!(res.status().as_u16(), 200, "followed to the dashboard");
    let page = res.text().unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf")
        .to_owned();
    (client, csrf)
}

/// A pseudo-random delay of up to `max_ms`, different on every run.
fn jitter(max_ms: u64) -> StdDuration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    StdDuration::from_millis(u64::from(nanos) % (max_ms + 1))
}

/// What a crash left: every blob a committed gallery references exists (no dangling
/// reference); files nobody references (orphans, marked by the next start and collected an
/// hour later) are allowed.
/// Returns (galleries, orphan files).
fn assert_crash_state(data: &Path) -> (usize, usize) {
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
                }
            }
        })
        .unwrap();
    let missing: Vec<_> = referenced.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "counted blobs without a file: {missing:?}"
    );
    (galleries, files.difference(&referenced).count())
}

#[test]
fn purge_killed_midway_leaves_no_dangling_reference() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = admin_env(&[("MAIIMG_PURGE_AFTER_DAYS", "1")]);
    let shared = jpeg(320, 240, 1);
    let long_ago = (OffsetDateTime::now_utc() - Duration::days(3))
        .format(&Rfc3339)
        .unwrap();
    let (mut kept, mut expired) = (Vec::new(), Vec::new());
    let mut seed = 2u8;
    // Each round: new galleries, some expired long ago; a purge; SIGKILL a moment later.
    // The growing delay lands before the purge, between its commit and its file removal
    // (the state then has orphans), during the removal, and after it.
    for round in 0..6u64 {
        let server = Server::start_with(cwd.path(), data.path(), port, &env);
        let base = server.base.clone();
        for i in 0..6 {
            let own = jpeg(160 + u32::from(seed), 120, seed);
            seed += 1;
            let json = create_over_http(&base, &[("s.jpg", shared.clone()), ("own.jpg", own)]);
            let id = field(&json, "id").to_owned();
            if i < 4 {
                let res = http()
                    .patch(format!("{base}/api/galleries/{id}"))
                    .bearer_auth(field(&json, "manage_key"))
                    .json(&json!({ "expires_at": long_ago }))
                    .send()
                    .unwrap();
                assert_eq!(res.status().as_u16(), 200);
                expired.push(id);
            } else {
                kept.push(id);
            }
        }
        let (client, csrf) = admin(&base);
        let purge = std::thread::spawn(move || {
            let _ = client
                .post(format!("{base}/admin/purge"))
                .form(&[("csrf", csrf)])
                .send();
        });
        std::thread::sleep(StdDuration::from_micros(round * 700) + jitter(1));
        server.kill_9();
        purge.join().unwrap();
        let (galleries, _) = assert_crash_state(data.path());
        assert!(galleries >= kept.len() && galleries <= kept.len() + expired.len());
    }

    // The restart marks any orphans; nothing a kept gallery uses is missing.
    let server = Server::start_with(cwd.path(), data.path(), port, &env);
    let base = server.base.clone();
    for id in &kept {
        assert!(serves(&base, id, 2), "{id} was not expired");
    }
    for id in &expired {
        let status = get(&format!("{base}/g/{id}")).0;
        assert!(status == 404 || status == 410, "{id}: {status}");
    }
    server.kill_9();
    collect_an_hour_later(data.path());
    assert_consistent(data.path());

    // Purging again finishes the job, and the shared file stays for the others.
    let server = Server::start_with(cwd.path(), data.path(), port, &env);
    let base = server.base.clone();
    let (client, csrf) = admin(&base);
    let res = client
        .post(format!("{base}/admin/purge"))
        .form(&[("csrf", csrf)])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    for id in &expired {
        assert_eq!(get(&format!("{base}/g/{id}")).0, 404, "{id}");
    }
    for id in &kept {
        assert!(serves(&base, id, 2), "{id}");
    }
    server.kill_9();
    // Consistent means the purged galleries' own files are gone too (no orphans).
    assert_eq!(assert_consistent(data.path()), kept.len());
}

#[test]
fn garbage_collection_racing_uploads_and_killed_loses_nothing_acknowledged() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = admin_env(&[]);
    let server = Server::start_with(cwd.path(), data.path(), port, &env);
    let base = server.base.clone();
    let (client, csrf) = admin(&base);
    let stop = Arc::new(AtomicBool::new(false));

    // One thread keeps creating galleries (sharing one image), another keeps collecting.
    let creator = {
        let (base, stop) = (base.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let shared = jpeg(200, 150, 1);
            let mut acknowledged = Vec::new();
            let mut seed = 2u8;
            while !stop.load(Ordering::Relaxed) {
                let form = reqwest::blocking::multipart::Form::new()
                    .part(
                        "file",
                        reqwest::blocking::multipart::Part::bytes(shared.clone())
                            .file_name("s.jpg"),
                    )
                    .part(
                        "file",
                        reqwest::blocking::multipart::Part::bytes(jpeg(120, 90, seed))
                            .file_name("o.jpg"),
                    );
                seed = seed.wrapping_add(1).max(2);
                let Ok(res) = http()
                    .post(format!("{base}/api/galleries"))
                    .multipart(form)
                    .send()
                else {
                    break;
                };
                if res.status().as_u16() != 201 {
                    break;
                }
                let Ok(json) = res.json::<Value>() else { break };
                acknowledged.push(json["id"].as_str().unwrap().to_owned());
            }
            acknowledged
        })
    };
    let collector = {
        let (base, stop) = (base.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut runs = 0;
            while !stop.load(Ordering::Relaxed) {
                let sent = client
                    .post(format!("{base}/admin/gc"))
                    .form(&[("csrf", csrf.as_str())])
                    .send();
                match sent {
                    Ok(res) if res.status().as_u16() == 200 => runs += 1,
                    _ => break,
                }
            }
            runs
        })
    };
    let deadline = Instant::now() + StdDuration::from_millis(1500) + jitter(500);
    while Instant::now() < deadline {
        std::thread::sleep(StdDuration::from_millis(20));
    }
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    let acknowledged = creator.join().unwrap();
    let runs = collector.join().unwrap();
    assert!(acknowledged.len() >= 3, "{} galleries", acknowledged.len());
    assert!(runs >= 3, "{runs} collections");

    // Every gallery the server acknowledged is whole after the crash.
    let server = Server::start_with(cwd.path(), data.path(), port, &env);
    for id in &acknowledged {
        assert!(serves(&server.base, id, 2), "{id} lost files");
    }
    server.kill_9();
    collect_an_hour_later(data.path());
    let left = assert_consistent(data.path());
    assert!(left >= acknowledged.len());
}

#[test]
fn collections_always_due_racing_uploads_lose_nothing() {
    // Over HTTP the collector only marks (an hour has not passed); here every collection
    // runs hours after the last, so each deletes what the one before marked, while
    // galleries sharing an image are being created.
    let dir = tempfile::tempdir().unwrap();
    let t0 = OffsetDateTime::now_utc();
    let galleries = Arc::new(open_galleries_at(dir.path(), t0));
    let done = Arc::new(AtomicBool::new(false));
    let creator = {
        let (galleries, done) = (Arc::clone(&galleries), Arc::clone(&done));
        std::thread::spawn(move || {
            let shared = jpeg(160, 120, 1);
            let made: Vec<_> = (2..42u8)
                .map(|seed| {
                    let images = vec![
                        pending(&galleries, shared.clone()),
                        pending(&galleries, jpeg(90, 60, seed)),
                    ];
                    // Every other image is given up, as a failed upload would be.
                    if seed % 2 == 0 {
                        galleries
                            .discard(vec![pending(&galleries, jpeg(70, 50, seed))])
                            .unwrap();
                    }
                    let input = SettingsInput::default();
                    galleries.create("", &input, images, &[], t0).unwrap()
                })
                .collect();
            done.store(true, Ordering::Relaxed);
            made
        })
    };
    let mut sweeps = 0;
    while !done.load(Ordering::Relaxed) {
        sweeps += 1;
        let at = t0 + Duration::hours(2 * sweeps);
        galleries.collect_garbage(at, Allow).unwrap();
    }
    let made = creator.join().unwrap();
    assert!(sweeps >= 3, "{sweeps} collections");
    for created in &made {
        for image in &galleries.get(&created.id).unwrap().images {
            for digest in image.digests() {
                assert!(galleries.blob_path(&digest).exists(), "a file was lost");
            }
        }
    }
    drop(galleries);
    collect_an_hour_later(dir.path());
    assert_eq!(assert_consistent(dir.path()), made.len());
}

/// Write a blob file nobody references, named by its digest, as a crash would leave it.
fn plant_orphan(data: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let hex = Digest::of(bytes).to_hex();
    let path = data
        .join("blobs")
        .join(&hex[..2])
        .join(&hex[2..4])
        .join(&hex);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn orphans_are_collected_an_hour_after_they_were_marked_and_a_mass_deletion_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = OffsetDateTime::now_utc();
    let galleries = open_galleries_at(dir.path(), t0);
    let kept = galleries
        .create(
            "",
            &SettingsInput::default(),
            vec![pending(&galleries, jpeg(320, 240, 3))],
            &[],
            t0,
        )
        .unwrap();
    drop(galleries);
    let referenced = blob_files(dir.path());

    // A few orphans from a crash: marked at one start, gone at a start an hour later.
    let few: Vec<_> = (0..3u8)
        .map(|i| plant_orphan(dir.path(), &[i; 9]))
        .collect();
    drop(open_galleries_at(dir.path(), t0));
    assert!(
        few.iter().all(|p| p.exists()),
        "deleted without a grace period"
    );
    let galleries = open_galleries_at(dir.path(), t0 + Duration::minutes(30));
    assert!(
        few.iter().all(|p| p.exists()),
        "deleted after half the grace period"
    );
    let sweep = galleries
        .collect_garbage(t0 + Duration::minutes(60), Hold)
        .unwrap();
    assert_eq!((sweep.freed.files, sweep.held), (3, None));
    assert!(few.iter().all(|p| !p.exists()));

    // Many files unreferenced at once (more than half of all, more than a handful): what a
    // wrong database looks like. Nothing is deleted, however long they wait.
    let many: Vec<_> = (0..20u8)
        .map(|i| plant_orphan(dir.path(), &[i; 17]))
        .collect();
    let t1 = t0 + Duration::hours(2);
    assert_eq!(galleries.collect_garbage(t1, Hold).unwrap().marked, 20);
    let sweep = galleries
        .collect_garbage(t1 + Duration::hours(5), Hold)
        .unwrap();
    assert_eq!(sweep.freed.files, 0);
    let held = sweep.held.expect("held back");
    assert_eq!(held.due, 20);
    assert!(
        many.iter().all(|p| p.exists()),
        "a mass deletion went ahead"
    );
    assert!(referenced.iter().all(|p| p.exists()));
    assert!(galleries.get(&kept.id).is_ok());
    // Confirmed by the administrator: they go, what is referenced stays.
    let sweep = galleries
        .collect_garbage(t1 + Duration::hours(5), Allow)
        .unwrap();
    assert_eq!((sweep.freed.files, sweep.held), (20, None));
    assert!(many.iter().all(|p| !p.exists()));
    assert!(referenced.iter().all(|p| p.exists()));

    // Files a crash left unreferenced, marked, then referenced again by a new gallery of
    // the same bytes: the mark is dropped and they stay.
    let bytes = jpeg(200, 100, 4);
    let left = pending(&galleries, bytes.clone());
    let files: Vec<_> = left
        .record
        .digests()
        .iter()
        .map(|d| galleries.blob_path(d))
        .collect();
    drop(left);
    assert!(
        galleries
            .collect_garbage(t1 + Duration::hours(6), Hold)
            .unwrap()
            .marked
            >= 1
    );
    let again = galleries
        .create(
            "",
            &SettingsInput::default(),
            vec![pending(&galleries, bytes)],
            &[],
            t1,
        )
        .unwrap();
    let sweep = galleries
        .collect_garbage(t1 + Duration::hours(9), Hold)
        .unwrap();
    assert_eq!((sweep.freed.files, sweep.marked, sweep.waiting), (0, 0, 0));
    assert!(files.iter().all(|p| p.exists()));
    assert!(galleries.get(&again.id).is_ok());
}

/// An ingested image written to the blob tree and pinned, not yet in a gallery.
fn pending(galleries: &Galleries, jpeg_bytes: Vec<u8>) -> maiimg::domain::galleries::PendingImage {
    let limits = Limits {
        max_file_bytes: 1 << 22,
        max_pixels: 1 << 22,
        max_dimension: 4000,
    };
    galleries
        .write_image(&ingest(&jpeg_bytes, "p.jpg", &limits).unwrap())
        .unwrap()
}
