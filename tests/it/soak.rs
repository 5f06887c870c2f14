//! The kill -9 soak (run by `bash bench/soak.sh`, ignored in the normal suite): uploads,
//! edits, deletes and counted opens against the real binary, a SIGKILL at a random moment,
//! a restart, and after each restart every invariant the server promises: each gallery it
//! answered 2xx for is there and byte-identical (unless a 2xx deleted it), titles are one
//! that was sent, counts never below what was admitted, and `maiimg check` finds no
//! missing or damaged file. At the end, the start-up collection run on clocks two and four
//! hours ahead must leave no orphan at all (none kept past the grace period) and delete
//! nothing a gallery uses. Bounded by `SOAK_SECS` (default 60).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{Value, json};

/// What the server acknowledged about one gallery.
#[derive(Clone, Debug, Default)]
struct Known {
    key: String,
    /// The originals as served right after creation.
    originals: Vec<Vec<u8>>,
    /// Titles sent; the stored one must be one of them (the last 2xx or a later one).
    titles: Vec<String>,
    /// The title of the last 2xx edit.
    acknowledged_title: String,
    /// Opens answered 200 to new viewers.
    admitted: u64,
    /// A delete was sent (it may have landed although no answer came).
    delete_sent: bool,
    deleted: bool,
}

type Ledger = Arc<Mutex<HashMap<String, Known>>>;

fn noise(seed: u64) -> u64 {
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^ (x << 17)
}

fn create(base: &str, seed: u64, ledger: &Ledger) -> Option<()> {
    let bytes = jpeg(96 + (seed % 64) as u32, 64, (seed % 251) as u8);
    let part = reqwest::blocking::multipart::Part::bytes(bytes).file_name("s.jpg");
    let form = reqwest::blocking::multipart::Form::new()
        .text("title", format!("t{seed}"))
        .part("file", part);
    let res = http()
        .post(format!("{base}/api/galleries"))
        .multipart(form)
        .send()
        .ok()?;
    if res.status().as_u16() != 201 {
        return None;
    }
    let json: Value = res.json().ok()?;
    let id = json["id"].as_str()?.to_owned();
    let known = Known {
        key: json["manage_key"].as_str()?.to_owned(),
        titles: vec![format!("t{seed}")],
        acknowledged_title: format!("t{seed}"),
        ..Known::default()
    };
    ledger.lock().unwrap().insert(id.clone(), known);
    // Read back what is stored; a crash right now just leaves it unread.
    let viewer = http();
    let page = viewer.get(format!("{base}/g/{id}")).send().ok()?;
    if page.status().as_u16() != 200 {
        return None;
    }
    let original = viewer
        .get(format!("{base}/g/{id}/i/0/original"))
        .send()
        .ok()?;
    let bytes = original.bytes().ok()?.to_vec();
    let mut ledger = ledger.lock().unwrap();
    let known = ledger.get_mut(&id)?;
    known.admitted += 1;
    known.originals = vec![bytes];
    Some(())
}

fn change(base: &str, seed: u64, ledger: &Ledger) -> Option<()> {
    let (id, known) = {
        let ledger = ledger.lock().unwrap();
        let live: Vec<_> = ledger.iter().filter(|(_, k)| !k.deleted).collect();
        if live.is_empty() {
            return None;
        }
        let (id, known) = live[(seed as usize) % live.len()];
        (id.clone(), known.clone())
    };
    let client = http();
    let auth = format!("Bearer {}", known.key);
    match seed % 4 {
        0 => {
            ledger.lock().unwrap().get_mut(&id)?.delete_sent = true;
            let res = client
                .delete(format!("{base}/api/galleries/{id}"))
                .header("Authorization", &auth)
                .send()
                .ok()?;
            if res.status().is_success() {
                ledger.lock().unwrap().get_mut(&id)?.deleted = true;
            }
        }
        1 => {
            let title = format!("edit{seed}");
            ledger
                .lock()
                .unwrap()
                .get_mut(&id)?
                .titles
                .push(title.clone());
            let res = client
                .patch(format!("{base}/api/galleries/{id}"))
                .header("Authorization", &auth)
                .json(&json!({ "title": title }))
                .send()
                .ok()?;
            if res.status().is_success() {
                ledger.lock().unwrap().get_mut(&id)?.acknowledged_title = title;
            }
        }
        _ => {
            let res = http().get(format!("{base}/g/{id}")).send().ok()?;
            if res.status().as_u16() == 200 {
                ledger.lock().unwrap().get_mut(&id)?.admitted += 1;
            }
        }
    }
    Some(())
}

/// After a restart: every promise about what was acknowledged.
fn verify(base: &str, ledger: &Ledger) -> usize {
    let mut ledger = ledger.lock().unwrap();
    let mut checked = 0;
    for (id, known) in ledger.iter_mut() {
        let res = http()
            .get(format!("{base}/api/galleries/{id}"))
            .header("Authorization", format!("Bearer {}", known.key))
            .send()
            .unwrap();
        let status = res.status().as_u16();
        if known.deleted {
            assert_eq!(status, 404, "{id} was deleted with a 2xx but is back");
            continue;
        }
        if known.delete_sent && status == 404 {
            // Deleted by a request the crash cut off before its answer.
            known.deleted = true;
            continue;
        }
        assert_eq!(status, 200, "{id} was acknowledged and is gone");
        let json: Value = res.json().unwrap();
        let title = json["title"].as_str().unwrap_or_default().to_owned();
        assert!(
            known.titles.contains(&title),
            "{id}: title {title:?} was never sent"
        );
        let opens = json["counters"]["opens"].as_u64().unwrap_or(0);
        assert!(
            opens >= known.admitted,
            "{id}: {opens} opens counted, {} admitted",
            known.admitted
        );
        if let Some(expected) = known.originals.first() {
            let viewer = http();
            let _ = viewer.get(format!("{base}/g/{id}")).send().unwrap();
            let served = viewer
                .get(format!("{base}/g/{id}/i/0/original"))
                .send()
                .unwrap()
                .bytes()
                .unwrap();
            assert!(served.as_ref() == expected.as_slice(), "{id} changed");
        }
        checked += 1;
    }
    checked
}

/// Start the app on `data` with a clock `hours` ahead: its start-up collection runs then.
fn start_up_collection_at(data: &std::path::Path, hours: i64) {
    use maiimg::clock::Clock;
    let config = maiimg::config::RawConfig {
        data_dir: data.to_path_buf(),
        log_level: "off".into(),
        ..maiimg::config::RawConfig::default()
    }
    .validated()
    .expect("config");
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(hours);
    let start = maiimg::Start {
        clock: Clock::manual(later),
        ..maiimg::Start::default()
    };
    drop(maiimg::build_with(config, start).expect("the app starts on the soaked data"));
}

/// Orphans left by the soak's crashes must all go once they have been unreferenced for the
/// grace period: two start-up collections, two and four hours later (the first marks what
/// no collection saw yet and sweeps what the soak's restarts marked, the second sweeps the
/// rest). Returns the orphans before and how many files the first sweep left.
fn collect_past_the_grace_period(data: &std::path::Path) -> (usize, usize) {
    use maiimg::domain::check::{Orphan, check};
    let before = check(data, &maiimg::blobs::Backend::Disk).expect("check");
    let orphans = before.unreferenced.len();
    assert!(
        before
            .unreferenced
            .values()
            .all(|o| !matches!(o, Orphan::Kept(_))),
        "the soak never adopts a tree"
    );
    start_up_collection_at(data, 2);
    let middle = check(data, &maiimg::blobs::Backend::Disk)
        .expect("check")
        .unreferenced
        .len();
    start_up_collection_at(data, 4);
    let after = check(data, &maiimg::blobs::Backend::Disk).expect("check");
    assert_eq!(after.problems(), 0, "{after}");
    assert!(
        after.unreferenced.is_empty(),
        "orphans kept past the grace period:\n{after}"
    );
    (orphans, middle)
}

#[test]
#[ignore = "long: run by bench/soak.sh"]
fn kill_9_soak_keeps_every_promise() {
    let seconds: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let until = Instant::now() + Duration::from_secs(seconds);
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let ledger: Ledger = Arc::default();
    let (mut rounds, mut seed) = (0u64, 1u64);
    while Instant::now() < until {
        let server = Server::start(cwd.path(), data.path(), port);
        if rounds > 0 {
            verify(&server.base, &ledger);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..3u64)
            .map(|w| {
                let (base, ledger, stop) = (server.base.clone(), ledger.clone(), stop.clone());
                let start = seed.wrapping_mul(7).wrapping_add(w);
                std::thread::spawn(move || {
                    let mut s = start;
                    while !stop.load(Ordering::Relaxed) {
                        s = noise(s);
                        if s % 3 == 0 {
                            create(&base, s, &ledger);
                        } else {
                            change(&base, s, &ledger);
                        }
                    }
                })
            })
            .collect();
        seed = noise(seed);
        std::thread::sleep(Duration::from_millis(300 + seed % 2500));
        server.kill_9();
        stop.store(true, Ordering::Relaxed);
        for worker in workers {
            worker.join().unwrap();
        }
        let (code, report) = maiimg_check(cwd.path(), data.path());
        assert!(code == Some(0), "round {rounds}: {report}");
        rounds += 1;
    }
    let (orphans, swept) = collect_past_the_grace_period(data.path());
    let server = Server::start(cwd.path(), data.path(), port);
    let checked = verify(&server.base, &ledger);
    let deleted = ledger
        .lock()
        .unwrap()
        .values()
        .filter(|k| k.deleted)
        .count();
    eprintln!(
        "soak: {seconds} s, {rounds} kill -9 rounds, {checked} galleries verified, {deleted} \
         deleted; {orphans} orphans at the end, none left after collections past the grace \
         period (first sweep {swept})"
    );
    assert!(rounds >= 3);
}
