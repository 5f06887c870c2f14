//! Faults a real disk has, on the real binary: a full disk (simulated with a per-file size
//! limit, `ulimit -f`, which makes writes fail with EFBIG like ENOSPC would) while viewers
//! keep coming, and its recovery once space is back, without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn upload(base: &str, files: &[(&str, Vec<u8>)]) -> reqwest::blocking::Response {
    let mut form = reqwest::blocking::multipart::Form::new();
    for (name, bytes) in files {
        let part =
            reqwest::blocking::multipart::Part::bytes(bytes.clone()).file_name(name.to_string());
        form = form.part("file", part);
    }
    http()
        .post(format!("{base}/api/galleries"))
        .multipart(form)
        .send()
        .expect("upload")
}

fn health(base: &str, path: &str) -> (u16, Value) {
    let res = http().get(format!("{base}{path}")).send().expect("health");
    (res.status().as_u16(), res.json().expect("health json"))
}

/// Poll `ready` (bounded): the server recovers on its own thread, in its own time.
fn wait_until(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn error_lines(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.to_lowercase().contains("error"))
        .count()
}

#[test]
fn a_full_disk_answers_507_serves_viewers_and_recovers_by_itself() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();

    // A gallery made while the disk was fine.
    let server = Server::start(cwd.path(), data.path(), port);
    let base = server.base.clone();
    let res = upload(
        &base,
        &[("a.jpg", jpeg(400, 300, 1)), ("b.png", png_rgba(80, 60))],
    );
    assert_eq!(res.status().as_u16(), 201);
    let id = res.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server.kill_9();
    let db_bytes = std::fs::metadata(data.path().join("maiimg.redb"))
        .unwrap()
        .len();

    // No file may grow past the database's current size (rounded up to the next KiB).
    let blocks = db_bytes.div_ceil(1024) + 1;
    let log = cwd.path().join("server.log");
    let mut cmd = maiimg_in_shell(
        &format!("trap '' XFSZ; ulimit -S -f {blocks}"),
        cwd.path(),
        data.path(),
        port,
    );
    cmd.stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    let server = Server::spawn_logging(&mut cmd, port);

    // A viewer admitted before the disk fills keeps seeing the gallery from memory.
    let viewer = http();
    assert_eq!(get_with(&viewer, &format!("{base}/g/{id}")).0, 200);
    let original = get_with(&viewer, &format!("{base}/g/{id}/i/0/original"));
    assert_eq!(original.0, 200);

    // Write until the database must grow: new galleries, then new viewers' opens.
    let mut acknowledged = vec![id.clone()];
    let mut refused = None;
    for seed in 0..400u32 {
        let res = upload(&base, &[("c.jpg", jpeg(64, 48, (seed % 250) as u8))]);
        match res.status().as_u16() {
            201 => acknowledged.push(res.json::<Value>().unwrap()["id"].as_str().unwrap().into()),
            status => {
                refused = Some((status, res.json::<Value>().unwrap()));
                break;
            }
        }
    }
    let (status, body) = refused.expect("the database never had to grow");
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status, 507, "{body}\n{}", log_text());
    assert_eq!(body["error"]["code"], "storage_full", "{body}");

    // Health: viewers can be served (200) and writes cannot (readyz 503).
    let (status, body) = health(&base, "/healthz");
    assert_eq!(status, 200);
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["degraded"][0], "writes", "{body}");
    assert_eq!(body["writes"]["reason"], "disk_full", "{body}");
    assert_eq!(health(&base, "/readyz").0, 503);

    // While full: the admitted viewer still sees everything; a new one is told in words.
    assert_eq!(get_with(&viewer, &format!("{base}/g/{id}")).0, 200);
    let again = get_with(&viewer, &format!("{base}/g/{id}/i/0/original"));
    assert_eq!(again, original);
    let newcomer = http().get(format!("{base}/g/{id}")).send().unwrap();
    assert_eq!(newcomer.status().as_u16(), 507);
    assert!(newcomer.text().unwrap().contains("disk is full"));

    // A flood of new viewers (each open is a write) logs a handful of lines, not one per
    // request.
    let before = error_lines(&log);
    let flood_until = Instant::now() + Duration::from_secs(2);
    let mut flood = 0;
    while Instant::now() < flood_until {
        let (status, _) = get(&format!("{base}/g/{id}"));
        assert_eq!(status, 507);
        flood += 1;
    }
    assert!(flood >= 20, "{flood} requests");
    let logged = error_lines(&log) - before;
    assert!(
        logged <= 3,
        "{logged} error lines for {flood} refused requests"
    );
    eprintln!("full disk: {flood} refused opens in 2 s, {logged} error lines");

    // Space comes back: within seconds, without a restart, writes work again.
    let lifted = std::process::Command::new("prlimit")
        .args(["--pid", &server.pid().to_string(), "--fsize=unlimited:"])
        .status()
        .expect("prlimit");
    assert!(lifted.success());
    let lifted_at = Instant::now();
    wait_until("recovery", Duration::from_secs(15), || {
        health(&base, "/readyz").0 == 200
    });
    eprintln!(
        "writes back {:?} after the limit was lifted",
        lifted_at.elapsed()
    );
    let res = upload(&base, &[("e.jpg", jpeg(64, 48, 9))]);
    assert_eq!(res.status().as_u16(), 201);
    acknowledged.push(res.json::<Value>().unwrap()["id"].as_str().unwrap().into());
    assert_eq!(health(&base, "/healthz").1["status"], "ok");
    assert_eq!(
        http()
            .get(format!("{base}/g/{id}"))
            .send()
            .unwrap()
            .status(),
        200
    );

    // Nothing acknowledged was lost, also across a crash.
    server.kill_9();
    let server = Server::start(cwd.path(), data.path(), port);
    for id in &acknowledged {
        let (status, _) = get(&format!("{}/g/{id}", server.base));
        assert_eq!(status, 200, "{id} was lost");
    }
    let again = get_with(&http(), &format!("{base}/g/{id}"));
    assert_eq!(again.0, 200);
}
