//! Faults a real disk has, on the real binary: a full disk (simulated with a per-file size
//! limit, `ulimit -f`, which makes writes fail with EFBIG like ENOSPC would) while viewers
//! keep coming, and its recovery once space is back, without a restart; a disk that fails
//! with EIO (`eio.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod eio;
mod files;

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

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
    let res = post_gallery(
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
    let server = Server::spawn_logged_to(&mut cmd, port, &log);

    // A viewer admitted before the disk fills keeps seeing the gallery from memory.
    let viewer = http();
    assert_eq!(get_with(&viewer, &format!("{base}/g/{id}")).0, 200);
    let original = get_with(&viewer, &format!("{base}/g/{id}/i/0/original"));
    assert_eq!(original.0, 200);

    // Write until the database must grow: new galleries, then new viewers' opens.
    let mut acknowledged = vec![id.clone()];
    let mut refused = None;
    for seed in 0..400u32 {
        let res = post_gallery(&base, &[("c.jpg", jpeg(64, 48, (seed % 250) as u8))]);
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
    assert!(
        log_text().contains("database writes failed"),
        "the fault is not in the log:\n{}",
        log_text()
    );
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
    let res = post_gallery(&base, &[("e.jpg", jpeg(64, 48, 9))]);
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

#[test]
fn slow_sockets_from_one_client_do_not_lock_out_another() {
    use std::io::Write;
    use std::net::TcpStream;

    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    // A hard limit, so the server cannot raise it: 1,024 descriptors in all.
    let mut cmd = maiimg_in_shell("ulimit -n 1024", cwd.path(), data.path(), port);
    cmd.env("MAIIMG_HEADER_TIMEOUT_SECS", "2");
    let server = Server::spawn(cmd, port);
    let addr = format!("127.0.0.1:{port}");

    // 1,100 connections from 127.0.0.1 that start a request head and never finish it.
    let mut slow = Vec::new();
    for _ in 0..1100 {
        if let Ok(mut socket) = TcpStream::connect(&addr) {
            let _ = socket.write_all(b"GET / HTTP/1.1\r\nHost: maiimg\r\n");
            slow.push(socket);
        }
    }
    assert!(slow.len() >= 1000, "{} slow sockets", slow.len());

    // Another client, 127.0.0.2, is served as usual meanwhile.
    let other = reqwest::blocking::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for _ in 0..5 {
        let res = other.get(format!("{}/healthz", server.base)).send();
        assert_eq!(res.expect("127.0.0.2 is served").status().as_u16(), 200);
    }

    // Past the per-client cap the slow ones were closed at once; the rest are closed when
    // the head deadline passes, with a 408.
    let mut answers = vec![Vec::new(); slow.len()];
    let open = |slow: &mut Vec<TcpStream>, answers: &mut Vec<Vec<u8>>| {
        let mut open = 0;
        for (socket, answer) in slow.iter_mut().zip(answers.iter_mut()) {
            if !closed(socket, answer) {
                open += 1;
            }
        }
        open
    };
    let waiting = open(&mut slow, &mut answers);
    assert!(
        waiting <= 64,
        "{waiting} incomplete connections kept for one client"
    );
    let started = Instant::now();
    wait_until("the head deadline", Duration::from_secs(10), || {
        open(&mut slow, &mut answers) == 0
    });
    assert!(started.elapsed() < Duration::from_secs(8));
    let timed_out = answers
        .iter()
        .filter(|a| a.starts_with(b"HTTP/1.1 408"))
        .count();
    assert!(timed_out >= waiting.min(1), "{timed_out} answered 408");
    eprintln!(
        "slow sockets: {} opened, {waiting} kept until the 2 s head deadline, {timed_out} got 408",
        slow.len()
    );
}

#[test]
fn without_the_front_door_rocket_takes_the_port_and_sets_no_head_deadline() {
    use std::io::Write;

    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(
        cwd.path(),
        data.path(),
        port,
        &[
            ("MAIIMG_FRONT_DOOR", "false"),
            ("MAIIMG_HEADER_TIMEOUT_SECS", "1"),
        ],
    );
    assert_eq!(get(&format!("{}/healthz", server.base)).0, 200);
    // What a reverse proxy in front must now enforce: an unfinished head stays open.
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .write_all(b"GET / HTTP/1.1\r\nHost: maiimg\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let mut answer = Vec::new();
    assert!(
        !closed(&mut socket, &mut answer),
        "something closed the connection: {}",
        String::from_utf8_lossy(&answer)
    );
}

/// Whether the server closed `socket` (what it sent before that goes to `answer`).
fn closed(socket: &mut std::net::TcpStream, answer: &mut Vec<u8>) -> bool {
    use std::io::Read;
    socket
        .set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    let mut buf = [0u8; 256];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

#[test]
fn a_request_with_both_lengths_is_answered_and_the_connection_closed() {
    use std::io::{Read, Write};

    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = Server::start(cwd.path(), data.path(), port);
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
        .write_all(
            b"POST /api/uploads HTTP/1.1\r\nHost: maiimg\r\nContent-Length: 5\r\n\
              Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n\
              GET /healthz HTTP/1.1\r\nHost: maiimg\r\n\r\n",
        )
        .unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
}
