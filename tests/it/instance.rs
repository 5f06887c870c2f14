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
mod limits;
mod upgrade;

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
        galleries
            .blob_path(&image.original.digest)
            .expect("on disk")
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

/// What a closed instance's database and blob tree say, checked: every blob a gallery
/// references exists and is counted, and every counted blob exists (no dangling
/// reference). Files nobody references are returned, not refused: after a crash they are
/// allowed (marked by the next start, collected an hour later). Returns (galleries,
/// orphan files).
fn store_state(data: &Path) -> (usize, Vec<Digest>) {
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
    let missing: Vec<_> = referenced.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "counted blobs without a file: {missing:?}"
    );
    (galleries, files.difference(&referenced).copied().collect())
}

/// [`store_state`] with no orphan either: what a clean run leaves. Returns the galleries.
fn assert_consistent(data: &Path) -> usize {
    let (galleries, orphans) = store_state(data);
    assert!(orphans.is_empty(), "orphan files: {orphans:?}");
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
