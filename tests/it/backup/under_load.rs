//! `maiimg backup` against the real server while counted opens, uploads and deletions run,
//! then `maiimg restore` into an empty directory and a second server on it: every gallery
//! acknowledged before the backup began is back (unless deleted before it began), whole
//! and byte for byte, with a count between the ones acknowledged before and after.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::*;

const TOKEN: &str = "admin-token-for-backups-0123456789";

/// A gallery made during the test: its key and its original's bytes as served.
#[derive(Clone)]
struct Made {
    key: String,
    original: Vec<u8>,
    created: Instant,
    deleted: Option<Instant>,
}

fn upload(base: &str, seed: u8) -> (String, String, Vec<u8>) {
    let res = post_gallery(base, &[("p.jpg", jpeg(80, 60, seed))]);
    assert_eq!(res.status().as_u16(), 201);
    let json: serde_json::Value = res.json().unwrap();
    let (id, key) = (
        field(&json, "id").to_owned(),
        field(&json, "manage_key").to_owned(),
    );
    let client = http();
    let (status, _) = get_with(&client, &format!("{base}/g/{id}"));
    assert_eq!(status, 200);
    let (status, original) = get_with(&client, &format!("{base}/g/{id}/i/0/original"));
    assert_eq!(status, 200);
    (id, key, original)
}

fn opens(base: &str, id: &str, key: &str) -> Option<u64> {
    let res = stranger()
        .get(format!("{base}/api/galleries/{id}"))
        .bearer_auth(key)
        .send()
        .unwrap();
    if res.status().as_u16() == 404 {
        return None;
    }
    assert_eq!(res.status().as_u16(), 200);
    res.json::<serde_json::Value>().unwrap()["counters"]["opens"].as_u64()
}

/// Run `maiimg ARGS` for `data_dir` (the server's port and admin token), which must
/// succeed; what it printed.
fn tool(cwd: &Path, data_dir: &Path, port: u16, args: &[&str]) -> String {
    let out = maiimg(cwd, data_dir, port)
        .env("MAIIMG_ADMIN_TOKEN", TOKEN)
        .args(args)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "maiimg {args:?}: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    said
}

#[test]
fn a_backup_under_load_restores_every_acknowledged_gallery() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = [
        ("MAIIMG_ADMIN_TOKEN", TOKEN),
        ("MAIIMG_RATE_LIMIT_GALLERIES_PER_HOUR", "0"),
        ("MAIIMG_RATE_LIMIT_UPLOADS_PER_HOUR", "100000"),
    ];
    let server = Server::start_with(cwd.path(), data.path(), port, &env);
    let base = server.base.clone();

    let made: Arc<Mutex<HashMap<String, Made>>> = Arc::default();
    for seed in 0..12 {
        let (id, key, original) = upload(&base, seed);
        made.lock().unwrap().insert(
            id,
            Made {
                key,
                original,
                created: Instant::now(),
                deleted: None,
            },
        );
    }
    let counted = made.lock().unwrap().keys().next().cloned().unwrap();
    let counted_key = made.lock().unwrap()[&counted].key.clone();

    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    {
        // Counted opens of one gallery, as new viewers.
        let (base, id, stop) = (base.clone(), counted.clone(), Arc::clone(&stop));
        load.push(thread::spawn(move || {
            let client = stranger();
            while !stop.load(Ordering::Relaxed) {
                let status = client
                    .get(format!("{base}/g/{id}"))
                    .send()
                    .unwrap()
                    .status();
                assert_eq!(status.as_u16(), 200);
            }
        }));
    }
    {
        // New galleries, and deletions of the oldest others.
        let (base, made, stop, counted) = (
            base.clone(),
            Arc::clone(&made),
            Arc::clone(&stop),
            counted.clone(),
        );
        load.push(thread::spawn(move || {
            let mut seed = 100u8;
            while !stop.load(Ordering::Relaxed) {
                let (id, key, original) = upload(&base, seed);
                seed = seed.wrapping_add(1);
                let created = Instant::now();
                let victim = {
                    let mut made = made.lock().unwrap();
                    made.insert(
                        id,
                        Made {
                            key,
                            original,
                            created,
                            deleted: None,
                        },
                    );
                    made.iter()
                        .filter(|(v, m)| m.deleted.is_none() && **v != counted)
                        .min_by_key(|(_, m)| m.created)
                        .map(|(v, m)| (v.clone(), m.key.clone()))
                };
                if let Some((victim, key)) = victim.filter(|_| seed.is_multiple_of(2)) {
                    let res = stranger()
                        .delete(format!("{base}/api/galleries/{victim}"))
                        .bearer_auth(key)
                        .send()
                        .unwrap();
                    assert_eq!(res.status().as_u16(), 204);
                    made.lock().unwrap().get_mut(&victim).unwrap().deleted = Some(Instant::now());
                }
            }
        }));
    }
    thread::sleep(Duration::from_millis(800));

    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("b");
    let opens_before = opens(&base, &counted, &counted_key).unwrap();
    let began = Instant::now();
    tool(
        cwd.path(),
        data.path(),
        port,
        &["backup", dest.to_str().unwrap()],
    );
    let ended = Instant::now();
    let opens_after = opens(&base, &counted, &counted_key).unwrap();
    thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    drop(server);
    let restored_dir = tempfile::tempdir().unwrap();
    tool(
        cwd.path(),
        restored_dir.path(),
        port,
        &["restore", dest.to_str().unwrap()],
    );
    let (code, report) = maiimg_check(cwd.path(), restored_dir.path());
    assert_eq!(code, Some(0), "{report}");

    // Again with the server stopped: the command makes the copy itself, adding only the
    // files of galleries made since.
    let said = tool(
        cwd.path(),
        data.path(),
        port,
        &["backup", dest.to_str().unwrap()],
    );
    assert!(said.contains("galleries and"), "{said}");

    let port = free_port();
    let server = Server::start(cwd.path(), restored_dir.path(), port);
    let base = server.base.clone();
    let count = opens(&base, &counted, &counted_key).unwrap();
    assert!(
        (opens_before..=opens_after).contains(&count),
        "{opens_before} ≤ {count} ≤ {opens_after}"
    );
    let made = made.lock().unwrap().clone();
    let (mut back, mut gone) = (0, 0);
    for (id, m) in &made {
        let present = opens(&base, id, &m.key).is_some();
        let must_be_there = m.created < began && m.deleted.is_none_or(|d| d > ended);
        let must_be_gone = m.deleted.is_some_and(|d| d < began);
        assert!(
            present || !must_be_there,
            "{id} was acknowledged before the backup"
        );
        assert!(
            !present || !must_be_gone,
            "{id} was deleted before the backup"
        );
        if present {
            back += 1;
            // Whole: a gallery in the backup has its files, even one deleted during it.
            let client = http();
            assert_eq!(get_with(&client, &format!("{base}/g/{id}")).0, 200);
            let (status, original) = get_with(&client, &format!("{base}/g/{id}/i/0/original"));
            assert_eq!(status, 200, "{id}");
            assert_eq!(original, m.original, "{id} byte for byte");
        }
        gone += usize::from(must_be_gone);
    }
    let during = made
        .values()
        .filter(|m| m.deleted.is_some_and(|d| d > began && d < ended))
        .count();
    eprintln!("{back} galleries back, {gone} deleted before the backup, {during} during it");
    assert!(back >= 12 && gone > 0, "{back} back, {gone} deleted before");
}
