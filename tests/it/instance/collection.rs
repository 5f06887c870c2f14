//! Orphans and their collection against crashes and racing uploads: marked, swept an hour later, a mass deletion held, nothing acknowledged lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

mod orphans;

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
        let (galleries, _) = store_state(data.path());
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
                assert!(
                    galleries.blob_path(&digest).expect("on disk").exists(),
                    "a file was lost"
                );
            }
        }
    }
    drop(galleries);
    collect_an_hour_later(dir.path());
    assert_eq!(assert_consistent(dir.path()), made.len());
}

/// An ingested image written to the blob tree and pinned, not yet in a gallery.
fn pending(
    galleries: &Galleries,
    jpeg_bytes: Vec<u8>,
) -> maiimg::domain::galleries::create::PendingImage {
    let limits = Limits {
        max_file_bytes: 1 << 22,
        max_pixels: 1 << 22,
        max_dimension: 4000,
    };
    galleries
        .write_image(&ingest(&jpeg_bytes, "p.jpg", &limits).unwrap())
        .unwrap()
}
