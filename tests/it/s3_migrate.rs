//! The tools on a real bucket: `maiimg migrate-store` (every file from the disk to the bucket
//! and back, each checked, resumable, the instance marker moved last, the galleries served
//! the same afterwards) and `maiimg check` (the bucket's files against the database).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::process::Command;

use maiimg::blobs::Backend;
use maiimg::domain::migrate_store::{MigrateError, migrate};
use rocket::http::Status;

use crate::common::*;

/// Every rendition of every image of `ids`, by (gallery, index, rendition): its bytes.
fn served(app: &TestApp, ids: &[&str]) -> BTreeMap<(String, usize, &'static str), Vec<u8>> {
    let mut out = BTreeMap::new();
    for id in ids {
        for index in 0..2 {
            for r in ["original", "display", "thumb"] {
                let res = app.image(id, index, r);
                assert_eq!(res.status, Status::Ok, "{id}/{index}/{r}");
                out.insert(((*id).to_owned(), index, r), res.body);
            }
        }
    }
    out
}

/// The `maiimg` command for `data_dir` with the bucket's `s3_*` keys (storage left as
/// configured by the caller), a clean environment and an empty working directory.
fn tool(bucket: &TestBucket, data_dir: &std::path::Path, cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(crate::common::launch::bin());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .current_dir(cwd)
        .env("MAIIMG_DATA_DIR", data_dir)
        .env("MAIIMG_S3_ENDPOINT", &bucket.endpoint)
        .env("MAIIMG_S3_BUCKET", &bucket.bucket)
        .env("MAIIMG_S3_PREFIX", &bucket.prefix)
        .env("MAIIMG_S3_ACCESS_KEY", &bucket.access_key)
        .env("MAIIMG_S3_SECRET_KEY", &bucket.secret_key)
        .env("MAIIMG_S3_PATH_STYLE", "true");
    cmd
}

/// The digests of the blob files under `data_dir/blobs`.
fn disk_blobs(data_dir: &std::path::Path) -> HashSet<String> {
    blob_files(data_dir)
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .filter(|name| maiimg::model::Digest::from_hex(name).is_some())
        .collect()
}

#[test]
fn files_move_to_a_bucket_and_back_byte_for_byte() {
    let Some(bucket) = test_bucket("migrate") else {
        return;
    };
    let disk = TestApp::new();
    let (first, _) = disk.two_photo_gallery();
    let (second, _) = disk.gallery(
        Form::new()
            .file("a.png", &png_rgb(90, 60))
            .file("b.jpg", &jpeg(64, 48, 1)),
    );
    let ids = [first.as_str(), second.as_str()];
    let before = served(&disk, &ids);
    let on_disk = disk_blobs(disk.dir.path());
    let TestApp { client, dir } = disk;
    drop(client);

    // Through the command, as a person runs it (the server stopped).
    let cwd = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let run = |to: &str| {
        let mut cmd = tool(&bucket, &data_dir, cwd.path());
        cmd.args(["migrate-store", "--to", to]);
        cmd
    };
    let out = run("s3").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("storage = \"s3\""), "{said}");
    let in_bucket: HashSet<String> = bucket.blob_objects().into_iter().collect();
    assert_eq!(in_bucket, on_disk, "every file, and only those");
    assert!(bucket.objects().contains(&"INSTANCE".to_owned()));

    // Interrupted half-way (each copy is atomic, so that leaves some objects missing): a
    // second run copies only what is missing.
    let target = Backend::S3(bucket.target());
    let mut missing = in_bucket.iter().take(2).cloned().collect::<Vec<_>>();
    missing.sort();
    let store = maiimg::blobs::BlobStore::open_on(dir.path(), &target).unwrap();
    let digests: Vec<_> = missing
        .iter()
        .map(|h| maiimg::model::Digest::from_hex(h).unwrap())
        .collect();
    assert_eq!(store.collect(digests, |_| Ok(false)).unwrap(), 2);
    drop(store);
    let again = migrate(dir.path(), &Backend::Disk, &target, |_| {}).unwrap();
    assert_eq!(again.done_files, on_disk.len() as u64);
    assert_eq!(
        again.skipped,
        on_disk.len() as u64 - 2,
        "only the missing two copied"
    );
    assert_eq!(
        bucket.blob_objects().into_iter().collect::<HashSet<_>>(),
        on_disk
    );

    // The galleries on the bucket: the same bytes.
    let dir = {
        let app = TestApp::in_dir(dir, true, maiimg::Start::default(), |c| bucket.configure(c));
        assert_eq!(served(&app, &ids), before);
        let TestApp { client, dir } = app;
        drop(client);
        dir
    };

    // And back to a disk that lost its files.
    std::fs::remove_dir_all(dir.path().join("blobs")).unwrap();
    let out = run("fs").env("MAIIMG_STORAGE", "s3").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = disk_blobs(dir.path());
    assert_eq!(back, on_disk);
    let app = TestApp::in_dir(dir, true, maiimg::Start::default(), |_| {});
    assert_eq!(
        served(&app, &ids),
        before,
        "byte for byte after the round trip"
    );
}

#[test]
fn a_bucket_of_another_instance_is_refused() {
    let Some(bucket) = test_bucket("migrate-other") else {
        return;
    };
    let other = TestApp::with(|c| bucket.configure(c));
    other.two_photo_gallery();
    let disk = TestApp::new();
    disk.two_photo_gallery();
    let TestApp { client, dir } = disk;
    drop(client);
    let refused = migrate(
        dir.path(),
        &Backend::Disk,
        &Backend::S3(bucket.target()),
        |_| {},
    );
    assert!(
        matches!(
            &refused,
            Err(MigrateError::Blobs {
                side: "destination",
                ..
            })
        ),
        "{refused:?}"
    );
    let same = migrate(dir.path(), &Backend::Disk, &Backend::Disk, |_| {});
    assert!(matches!(same, Err(MigrateError::SameBackend("fs"))));
}

#[test]
fn check_reads_the_bucket() {
    let Some(bucket) = test_bucket("check") else {
        return;
    };
    let app = TestApp::with(|c| bucket.configure(c));
    let (id, _) = app.two_photo_gallery();
    let thumb = app.etag(&id, 1, "thumb");
    let TestApp { client, dir } = app;
    drop(client);
    let cwd = tempfile::tempdir().unwrap();
    let check = || {
        tool(&bucket, dir.path(), cwd.path())
            .env("MAIIMG_STORAGE", "s3")
            .arg("check")
            .output()
            .unwrap()
    };
    let healthy = check();
    let said = String::from_utf8_lossy(&healthy.stdout).into_owned();
    assert!(healthy.status.success(), "{said}");
    let files = bucket.blob_objects().len();
    assert!(said.contains(&files.to_string()), "{said}");

    // An object lost from the bucket is named.
    let target = Backend::S3(bucket.target());
    let store = maiimg::blobs::BlobStore::open_on(dir.path(), &target).unwrap();
    let digest = maiimg::model::Digest::from_hex(&thumb).unwrap();
    assert_eq!(store.collect([digest], |_| Ok(false)).unwrap(), 1);
    drop(store);
    let broken = check();
    let said = String::from_utf8_lossy(&broken.stdout).into_owned();
    assert_eq!(broken.status.code(), Some(1), "{said}");
    assert!(said.contains(&thumb), "the missing file is named: {said}");
}
