//! Backups: `POST /api/admin/backup` (what `maiimg backup` calls on a running server) and
//! `maiimg restore`: every gallery back byte for byte with its settings, counters and
//! access log, incremental copies, the directories refused, nothing deleted while a copy
//! runs. The real binary under load is in `backup/under_load.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod refusals;
mod under_load;

use std::path::Path;

use maiimg::blobs::Backend;
use maiimg::clock::Millis;
use maiimg::domain::backup::{Manifest, Progress};
use maiimg::domain::restore::restore;
use rocket::http::{ContentType, Header, Status};
use serde_json::Value;

use crate::common::*;

const TOKEN: &str = "admin-token-for-backups-0123456789";
/// Every rendition, and those of a gallery without downloads.
const ALL: &[&str] = &["original", "display", "thumb"];
const SHOWN: &[&str] = &["display", "thumb"];

/// The lines of a backup's answer: its progress, and its manifest or error.
struct Answer {
    status: Status,
    progress: Vec<Progress>,
    done: Option<Manifest>,
    body: String,
}

fn post_backup(app: &TestApp, dest: &Path, token: &str) -> Answer {
    let res = app
        .client
        .post("/api/admin/backup")
        .header(ContentType::JSON)
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .body(serde_json::json!({ "destination": dest }).to_string())
        .dispatch();
    let status = res.status();
    let body = res.into_string().unwrap_or_default();
    let mut answer = Answer {
        status,
        progress: Vec::new(),
        done: None,
        body: body.clone(),
    };
    if status == Status::Ok {
        for line in body.lines() {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            if let Some(p) = v.get("progress") {
                answer
                    .progress
                    .push(serde_json::from_value(p.clone()).unwrap());
            } else if let Some(m) = v.get("done") {
                answer.done = Some(serde_json::from_value(m.clone()).unwrap());
            } else {
                panic!("backup failed: {line}");
            }
        }
    }
    answer
}

fn backup_ok(app: &TestApp, dest: &Path) -> (Manifest, Progress) {
    let answer = post_backup(app, dest, TOKEN);
    assert_eq!(answer.status, Status::Ok, "{}", answer.body);
    let manifest = answer.done.expect("a done line");
    assert!(manifest.missing.is_empty(), "{manifest:?}");
    (
        manifest,
        answer.progress.last().copied().unwrap_or_default(),
    )
}

/// What an owner sees of gallery `id`: its JSON (settings, state, open count) and its
/// access log.
fn owned(app: &TestApp, id: &str, key: &str) -> (Value, Value) {
    let auth = || Header::new("Authorization", format!("Bearer {key}"));
    let get = |path: String| {
        let res = app.client.get(path).header(auth()).dispatch();
        assert_eq!(res.status(), Status::Ok);
        json_of(res)
    };
    (
        get(format!("/api/galleries/{id}")),
        get(format!("/api/galleries/{id}/log")),
    )
}

/// Renditions `rs` of the first `n` images of `id`, as a viewer gets them.
fn renditions(app: &TestApp, id: &str, n: usize, rs: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for index in 0..n {
        for r in rs {
            let res = app.image(id, index, r);
            assert_eq!(res.status, Status::Ok, "{id}/{index}/{r}");
            out.push(res.body);
        }
    }
    out
}

fn admin_app() -> TestApp {
    TestApp::with(|c| c.admin_token = TOKEN.into())
}

#[test]
fn a_restored_backup_gives_every_gallery_back_byte_for_byte() {
    let app = admin_app();
    let (plain, plain_key) = app.two_photo_gallery();
    let (limited, limited_key) = app.gallery(
        Form::new()
            .file("a.png", &png_rgb(90, 60))
            .file("b.jpg", &jpeg(64, 48, 3))
            .text("title", "Wedding <proofs>")
            .text("max_opens", "7")
            .text("allow_download", "false"),
    );
    let plain_bytes = renditions(&app, &plain, 2, ALL);
    let limited_bytes = renditions(&app, &limited, 2, SHOWN);
    let before = [
        owned(&app, &plain, &plain_key),
        owned(&app, &limited, &limited_key),
    ];
    assert_eq!(before[1].0["counters"]["opens"], 1, "{}", before[1].0);

    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("nightly");
    let (manifest, last) = backup_ok(&app, &dest);
    assert_eq!(manifest.galleries, 2);
    assert_eq!(manifest.files as usize, app.blob_count());
    assert_eq!(
        last.copied, manifest.files,
        "a first backup copies every file"
    );
    drop(app);

    let dir = tempfile::tempdir().unwrap();
    let done = restore(&dest, dir.path(), &Backend::Disk, false, Millis(0), |_| {}).unwrap();
    assert_eq!(done.manifest, manifest);
    assert!(done.missing.is_empty() && done.kept == 0 && done.set_aside.is_none());
    let cwd = tempfile::tempdir().unwrap();
    let (code, check) = maiimg_check(cwd.path(), dir.path());
    assert_eq!(code, Some(0), "{check}");

    let restored = TestApp::in_dir(dir, true, maiimg::Start::default(), |c| {
        c.admin_token = TOKEN.into()
    });
    // Read before anything is opened again: the counts and logs as they were.
    let after = [
        owned(&restored, &plain, &plain_key),
        owned(&restored, &limited, &limited_key),
    ];
    assert_eq!(after, before);
    assert_eq!(renditions(&restored, &plain, 2, ALL), plain_bytes);
    assert_eq!(renditions(&restored, &limited, 2, SHOWN), limited_bytes);
}

#[test]
fn a_second_backup_copies_only_new_files() {
    let app = admin_app();
    app.two_photo_gallery();
    let backups = tempfile::tempdir().unwrap();
    let (first, _) = backup_ok(&app, backups.path());
    app.gallery(Form::new().file("new.png", &png_rgb(40, 30)));
    let (second, last) = backup_ok(&app, backups.path());
    assert_eq!(second.galleries, 2);
    assert_eq!(second.instance_id, first.instance_id);
    assert_eq!(last.copied, second.files - first.files, "{last:?}");
    assert!(last.copied > 0);
    assert_ne!(second.database_sha256, first.database_sha256);
    assert!(!backups.path().join("maiimg.redb.partial").exists());

    // A first backup interrupted before its manifest resumes: the files it copied stay.
    let interrupted = tempfile::tempdir().unwrap();
    backup_ok(&app, interrupted.path());
    std::fs::rename(
        interrupted.path().join("maiimg.redb"),
        interrupted.path().join("maiimg.redb.partial"),
    )
    .unwrap();
    std::fs::remove_file(interrupted.path().join("BACKUP.json")).unwrap();
    let (resumed, last) = backup_ok(&app, interrupted.path());
    assert_eq!(last.copied, 0, "every file was there");
    assert_eq!(resumed.files, second.files);
}

#[test]
fn an_instance_on_a_bucket_is_backed_up_and_restored_into_another() {
    let Some(bucket) = test_bucket("backup-from") else {
        return;
    };
    let app = TestApp::with(|c| {
        bucket.configure(c);
        c.admin_token = TOKEN.into();
    });
    let (id, key) = app.two_photo_gallery();
    let bytes = renditions(&app, &id, 2, ALL);
    let before = owned(&app, &id, &key);
    let backups = tempfile::tempdir().unwrap();
    let (manifest, last) = backup_ok(&app, backups.path());
    assert_eq!(
        last.copied, manifest.files,
        "the files came from the bucket"
    );
    assert_eq!(manifest.files as usize, bucket.blob_objects().len());
    drop(app);

    // A lost server and a new, empty prefix: everything comes from the backup.
    let fresh = test_bucket("backup-to").expect("the same store");
    let dir = tempfile::tempdir().unwrap();
    let target = Backend::S3(fresh.target());
    let done = restore(
        backups.path(),
        dir.path(),
        &target,
        false,
        Millis(0),
        |_| {},
    )
    .unwrap();
    assert_eq!(done.progress.copied, manifest.files);
    let mut objects = fresh.blob_objects();
    objects.sort();
    let mut original = bucket.blob_objects();
    original.sort();
    assert_eq!(objects, original);
    let restored = TestApp::in_dir(dir, true, maiimg::Start::default(), |c| fresh.configure(c));
    assert_eq!(owned(&restored, &id, &key), before);
    assert_eq!(renditions(&restored, &id, 2, ALL), bytes);
}

#[test]
fn a_gallery_deleted_during_a_backup_keeps_its_files_in_it() {
    let app = admin_app();
    let (kept, _) = app.two_photo_gallery();
    let (doomed, doomed_key) = app.gallery(
        Form::new()
            .file("c.png", &png_rgb(70, 50))
            .file("d.jpg", &jpeg(50, 70, 4)),
    );
    let TestApp { client, dir } = app;
    drop(client);

    let now = time::OffsetDateTime::now_utc();
    let galleries = maiimg::domain::galleries::Galleries::open(
        maiimg::domain::galleries::OpenOptions::at(dir.path().to_path_buf()),
        now,
    )
    .unwrap();
    let doomed_id = maiimg::ids::GalleryId::parse(&doomed).unwrap();
    let backups = tempfile::tempdir().unwrap();
    let mut deleted = false;
    // Deleted once the snapshot is taken and before any file is copied: its files are
    // the snapshot's, and the hold keeps them until the copy is done.
    let manifest = galleries
        .backup(dir.path(), backups.path(), now, |p| {
            if p.files > 0 && p.done_files == 0 && !deleted {
                galleries.delete(&doomed_id, Some(&doomed_key)).unwrap();
                deleted = true;
            }
        })
        .unwrap();
    assert!(deleted);
    assert!(manifest.missing.is_empty(), "{manifest:?}");
    assert_eq!(manifest.galleries, 2);
    drop(galleries);

    let restored_dir = tempfile::tempdir().unwrap();
    restore(
        backups.path(),
        restored_dir.path(),
        &Backend::Disk,
        false,
        Millis(0),
        |_| {},
    )
    .unwrap();
    let restored = TestApp::in_dir(restored_dir, true, maiimg::Start::default(), |_| {});
    renditions(&restored, &kept, 2, ALL);
    renditions(&restored, &doomed, 2, ALL);
}
