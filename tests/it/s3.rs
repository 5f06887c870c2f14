//! Image files on S3-compatible object storage, against a real server (SeaweedFS; see
//! `common/s3.rs`): the blob store's promises on a bucket, and the whole API on it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::Read;

use maiimg::blobs::{Backend, BlobStore};
use maiimg::model::Digest;
use rocket::http::Status;

use crate::common::*;

#[test]
fn the_blob_store_keeps_its_promises_on_a_bucket() {
    let Some(bucket) = test_bucket("blob-store") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::S3(bucket.target());
    let store = BlobStore::open_on(dir.path(), &backend).expect("open on the bucket");
    assert!(store.is_remote());
    assert_eq!(store.usage(), (0, 0));
    assert_eq!(store.marker().unwrap(), None);
    store.write_marker("instance-1").unwrap();
    assert_eq!(store.marker().unwrap().as_deref(), Some("instance-1"));

    // Large enough to arrive in several chunks when streamed.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let a = store.put(b"hello").unwrap();
    let b = store.put(&big).unwrap();
    let again = store.put(b"hello").unwrap();
    assert_eq!(a.digest(), again.digest());
    assert_eq!(
        store.usage(),
        (5 + big.len() as u64, 2),
        "one object per content"
    );
    assert_eq!(store.read(&a.digest()).unwrap(), b"hello");
    assert!(
        store.file(&a.digest()).is_none(),
        "no path for a bucket's blob"
    );
    let mut streamed = Vec::new();
    store
        .reader(&b.digest())
        .unwrap()
        .read_to_end(&mut streamed)
        .unwrap();
    assert!(streamed == big, "the streamed object is the stored bytes");

    let mut keys = bucket.objects();
    keys.sort();
    let mut expected = vec![
        "INSTANCE".to_owned(),
        format!("blobs/{}", a.digest().to_hex()),
        format!("blobs/{}", b.digest().to_hex()),
    ];
    expected.sort();
    assert_eq!(keys, expected, "the layout under the prefix");

    // A fresh store on the same bucket counts what is there.
    let reopened = BlobStore::open_on(dir.path(), &backend).unwrap();
    assert_eq!(reopened.usage(), store.usage());
    let mut all = reopened.all().unwrap();
    all.sort_by_key(Digest::to_hex);
    let mut want = vec![a.digest(), b.digest()];
    want.sort_by_key(Digest::to_hex);
    assert_eq!(all, want);

    // Pins and references keep objects; only an unpinned, unreferenced one goes.
    let (da, db) = (a.digest(), b.digest());
    assert_eq!(store.collect([da, db], |_| Ok(false)).unwrap(), 0, "pinned");
    drop((a, again));
    assert_eq!(store.collect([da, db], |d| Ok(*d == da)).unwrap(), 0);
    assert_eq!(store.collect([da], |_| Ok(false)).unwrap(), 1);
    assert!(!store.exists(&da).unwrap());
    assert!(store.exists(&db).unwrap());
    assert_eq!(store.usage(), (big.len() as u64, 1));
    drop(b);
    assert_eq!(store.collect([db, da], |_| Ok(false)).unwrap(), 1);
    assert_eq!(bucket.objects(), vec!["INSTANCE".to_owned()]);
    assert_eq!(store.usage(), (0, 0));
}

#[test]
fn the_api_works_the_same_on_a_bucket() {
    let Some(bucket) = test_bucket("api") else {
        return;
    };
    let app = TestApp::with(|c| bucket.configure(c));
    let shared = jpeg(500, 300, 4);
    let first = app.create(&[("own.png", &png_rgb(120, 90)), ("shared.jpg", &shared)]);
    let second = app.create(&[("shared-too.jpg", &shared)]);
    let (id, key) = (field(&first, "id"), field(&first, "manage_key"));
    assert_eq!(app.blob_count(), 0, "nothing on the server's disk");
    assert!(bucket.objects().contains(&"INSTANCE".to_owned()));

    // Every rendition served (through the server), with its digest as ETag, and a 304.
    let renditions = ["original", "display", "thumb"];
    let etags = |i| -> HashSet<String> { renditions.map(|r| app.etag(id, i, r)).into() };
    let (own, shared_blobs) = (etags(0), etags(1));
    let stored: HashSet<String> = bucket.blob_objects().into_iter().collect();
    assert_eq!(stored, own.union(&shared_blobs).cloned().collect());
    for r in renditions {
        let res = app.image(id, 1, r);
        assert_eq!(res.status, Status::Ok);
        assert_eq!(Digest::of(&res.body).to_hex(), app.etag(id, 1, r));
    }
    let tag = app.etag(id, 0, "thumb");
    let not_modified = app.get_with(
        &format!("/g/{id}/i/0/thumb"),
        vec![rocket::http::Header::new(
            "If-None-Match",
            format!("\"{tag}\""),
        )],
    );
    assert_eq!(not_modified.status, Status::NotModified);

    // The ZIP streams both originals out of the bucket.
    let zip = app.get(&format!("/g/{id}/zip"));
    assert_eq!(zip.status, Status::Ok);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.body)).unwrap();
    assert_eq!(archive.len(), 2);
    let mut second_entry = Vec::new();
    archive
        .by_index(1)
        .unwrap()
        .read_to_end(&mut second_entry)
        .unwrap();
    assert_eq!(
        Digest::of(&second_entry).to_hex(),
        app.etag(id, 1, "original")
    );

    // Deleting the gallery removes its own objects right away, not the shared ones.
    let bearer = Some(format!("Bearer {key}"));
    assert_eq!(app.manage(true, id, bearer).0, Status::NoContent);
    let left: HashSet<String> = bucket.blob_objects().into_iter().collect();
    assert_eq!(left, shared_blobs, "own objects gone, shared ones kept");
    let other = field(&second, "id");
    for r in renditions {
        assert_eq!(app.image(other, 0, r).status, Status::Ok);
    }
}

#[test]
fn the_quota_counts_the_buckets_bytes() {
    let Some(bucket) = test_bucket("quota") else {
        return;
    };
    let app = TestApp::with(|c| {
        bucket.configure(c);
        c.max_storage_bytes = 1024 * 1024;
    });
    // Fill the quota with distinct photos until the server says it is full.
    let mut refused = None;
    for seed in 0..40u8 {
        let form = Form::new().file("p.jpg", &jpeg(1200, 900, seed.wrapping_add(10)));
        let res = app.post_form("/api/galleries", form);
        if res.status() != Status::Created {
            refused = Some((res.status(), error_of(&json_of(res)).0));
            break;
        }
    }
    let (status, code) = refused.expect("the quota was never reached");
    assert_eq!(
        (status, code.as_str()),
        (Status::InsufficientStorage, "storage_full")
    );
    let stored = bucket.blob_objects().len();
    assert!(stored >= 3, "at least one gallery's files went in first");
}

#[test]
fn an_object_store_outage_fails_uploads_plainly_and_the_server_recovers() {
    let Some(bucket) = test_bucket("outage") else {
        return;
    };
    let proxy = TcpProxy::start(bucket.endpoint.trim_start_matches("http://"));
    let app = TestApp::with(|c| bucket.configure_at(c, &proxy.url()));
    let (id, _) = app.two_photo_gallery();
    assert_eq!(
        app.image(&id, 0, "thumb").status,
        Status::Ok,
        "now in memory"
    );
    let stored_before = bucket.blob_objects();

    proxy.down();
    let res = app.post_form(
        "/api/galleries",
        Form::new().file("new.jpg", &jpeg(80, 60, 9)),
    );
    assert_eq!(res.status(), Status::ServiceUnavailable);
    assert!(res.headers().get_one("Retry-After").is_some());
    let (code, message) = error_of(&json_of(res));
    assert_eq!(code, "storage_unavailable");
    assert!(message.contains("object storage"), "{message}");
    // What is in memory is still shown; what is not fails as a fault to retry.
    assert_eq!(app.image(&id, 0, "thumb").status, Status::Ok);
    assert_eq!(
        app.image(&id, 1, "original").status,
        Status::ServiceUnavailable
    );
    let health = app.get("/healthz");
    assert_eq!(health.status, Status::Ok, "viewers can still be served");
    let report: serde_json::Value = serde_json::from_slice(&health.body).unwrap();
    assert_eq!(report["status"], "degraded");
    assert_eq!(report["degraded"], serde_json::json!(["object_storage"]));
    assert_eq!(report["object_storage"]["reason"], "unreachable");
    assert_eq!(app.get("/readyz").status, Status::ServiceUnavailable);

    proxy.restore();
    // The health checks ask the store again once their last answer is 2 s old.
    let restored = std::time::Instant::now();
    while app.get("/readyz").status != Status::Ok {
        assert!(
            restored.elapsed() < std::time::Duration::from_secs(10),
            "not back by itself"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let report: serde_json::Value = serde_json::from_slice(&app.get("/healthz").body).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(app.image(&id, 1, "original").status, Status::Ok);
    let (again, _) = app.gallery(Form::new().file("new.jpg", &jpeg(80, 60, 9)));
    assert_eq!(app.image(&again, 0, "display").status, Status::Ok);
    // The refused upload left nothing behind: the bucket holds the two galleries' files.
    let mut expected: HashSet<String> = stored_before.into_iter().collect();
    expected.extend(["original", "display", "thumb"].map(|r| app.etag(&again, 0, r)));
    let stored: HashSet<String> = bucket.blob_objects().into_iter().collect();
    assert_eq!(stored, expected);
}

#[test]
fn a_new_database_never_takes_over_a_populated_bucket() {
    let Some(bucket) = test_bucket("binding") else {
        return;
    };
    let first = TestApp::with(|c| bucket.configure(c));
    first.two_photo_gallery();
    let before = bucket.objects();
    // Another data directory (a lost or new database) pointed at the same prefix: it must
    // refuse to start, or its collector would take every object there for an orphan.
    let dir = tempfile::tempdir().unwrap();
    let mut raw = maiimg::config::RawConfig {
        data_dir: dir.path().to_path_buf(),
        log_level: "off".into(),
        ..maiimg::config::RawConfig::default()
    };
    bucket.configure(&mut raw);
    let Err(refused) = maiimg::build(raw.validated().unwrap()) else {
        panic!("a new database was bound to a populated bucket");
    };
    assert!(refused.to_string().contains("new-database"), "{refused}");
    assert_eq!(bucket.objects(), before, "nothing touched");
}

/// `/healthz` through the local client: how long it took, and its report.
fn timed_health(app: &TestApp) -> (std::time::Duration, serde_json::Value) {
    let asked = std::time::Instant::now();
    let res = app.get("/healthz");
    let took = asked.elapsed();
    assert_eq!(res.status, Status::Ok);
    (took, serde_json::from_slice(&res.body).unwrap())
}

#[test]
fn health_answers_promptly_from_one_shared_probe_while_the_store_hangs() {
    use std::time::{Duration, Instant};
    // A probe waits at most a second; the store's own calls would wait 30 s and more.
    const PROMPT: Duration = Duration::from_secs(4);
    let Some(bucket) = test_bucket("health-probe") else {
        return;
    };
    let proxy = TcpProxy::start(bucket.endpoint.trim_start_matches("http://"));
    let app = TestApp::with(|c| bucket.configure_at(c, &proxy.url()));
    let (id, _) = app.two_photo_gallery();
    assert_eq!(timed_health(&app).1["status"], "ok");

    // The store takes connections and never answers: every answer is prompt, and within
    // the probe's time limit (5 s) it says the store is unreachable.
    proxy.stall();
    let stalled = Instant::now();
    let (mut asked, mut slowest) = (0, Duration::ZERO);
    let report = loop {
        let (took, report) = timed_health(&app);
        (asked, slowest) = (asked + 1, slowest.max(took));
        assert!(
            took < PROMPT,
            "/healthz took {took:?} while the store hangs"
        );
        if report["status"] == "degraded" {
            break report;
        }
        assert!(
            stalled.elapsed() < Duration::from_secs(20),
            "the hanging store was never reported"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let degraded_after = stalled.elapsed();
    assert_eq!(report["degraded"], serde_json::json!(["object_storage"]));
    assert_eq!(report["object_storage"]["reason"], "unreachable");
    let error = report["object_storage"]["error"].as_str().unwrap();
    assert!(error.contains("no answer in time"), "{error}");
    // Asked again and again while the next probe hangs too: still prompt, still degraded,
    // and the store sees one probe at a time, not one per question.
    let again = Instant::now();
    while again.elapsed() < Duration::from_secs(3) {
        let (took, report) = timed_health(&app);
        asked += 1;
        assert!(
            took < PROMPT,
            "/healthz took {took:?} while the store hangs"
        );
        assert_eq!(report["status"], "degraded");
        std::thread::sleep(Duration::from_millis(100));
    }
    let readyz = Instant::now();
    assert_eq!(app.get("/readyz").status, Status::ServiceUnavailable);
    assert!(readyz.elapsed() < PROMPT);
    let probes = proxy.stalled_connections();
    eprintln!(
        "health while the store hangs: degraded after {:?}, {asked} checks, {probes} probes, \
         slowest answer {slowest:?}",
        degraded_after
    );
    assert!(
        probes <= 3 && asked >= 20,
        "{probes} connections to the store for {asked} health checks"
    );

    // Back: reported within a probe's freshness, and the bucket serves again.
    proxy.restore();
    let back = Instant::now();
    loop {
        let (took, report) = timed_health(&app);
        assert!(
            took < PROMPT,
            "/healthz took {took:?} as the store came back"
        );
        if report["status"] == "ok" {
            eprintln!("health: the store's return seen after {:?}", back.elapsed());
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "the store's return was never seen: {report}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(app.get("/readyz").status, Status::Ok);
    assert_eq!(app.image(&id, 1, "original").status, Status::Ok);
}
