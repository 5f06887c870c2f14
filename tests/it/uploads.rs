//! Uploads in flight over real HTTP against the built binary: large files are spooled to
//! `tmp/` while they stream, a client has at most 4 at once (429 with `Retry-After`,
//! counted per forwarded client behind a trusted proxy, the proxy itself exempt), and the
//! server's upload buffers in all are bounded (503 with `Retry-After`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::*;

const BOUNDARY: &str = "maiimg-test-boundary";
/// More than the spool threshold (1 MiB): enough for a held upload to be spooled.
const SENT: usize = 1536 * 1024;

/// An upload that sends its headers and the first [`SENT`] bytes of a 4 MiB file, then
/// waits: the server holds it in flight until the stream is dropped.
fn held_upload(port: u16, forwarded_for: Option<&str>) -> TcpStream {
    let part_head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    );
    let length = part_head.len() + 4 * 1024 * 1024 + BOUNDARY.len() + 8;
    let xff = forwarded_for.map_or(String::new(), |a| format!("X-Forwarded-For: {a}\r\n"));
    let head = format!(
        "POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\
         {xff}\r\n{part_head}"
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.write_all(head.as_bytes()).expect("send headers");
    stream
        .write_all(&vec![0x5a; SENT])
        .expect("send the first bytes");
    stream
}

/// Files being spooled in the data directory's `tmp/`.
fn spooled(data: &Path) -> usize {
    std::fs::read_dir(data.join("tmp"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".upload"))
                .count()
        })
        .unwrap_or(0)
}

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        sleep(Duration::from_millis(20));
    }
}

/// A small complete upload: (status, Retry-After, error code).
fn small_upload(base: &str, forwarded_for: Option<&str>) -> (u16, Option<String>, String) {
    use reqwest::blocking::multipart::{Form, Part};
    let part = Part::bytes(jpeg(64, 48, 3)).file_name("small.jpg");
    let mut request = stranger()
        .post(format!("{base}/api/uploads"))
        .multipart(Form::new().part("file", part));
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    let res = request.send().expect("upload");
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("Retry-After")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body: serde_json::Value = res.json().unwrap_or_default();
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    (status, retry, code)
}

fn start(dir: &Path, env: &[(&str, &str)]) -> (Server, u16) {
    let port = free_port();
    let data = dir.join("data");
    (Server::start_with(dir, &data, port, env), port)
}

#[test]
fn a_client_has_at_most_four_uploads_in_flight_and_large_ones_are_spooled_meanwhile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (server, port) = start(dir.path(), &[]);
    let mut held: Vec<TcpStream> = (0..4).map(|_| held_upload(port, None)).collect();
    // Each held upload's file is in tmp/ while its body is still arriving.
    wait_for("four uploads are spooled", || spooled(&data) == 4);

    let (status, retry, code) = small_upload(&server.base, None);
    assert_eq!(status, 429, "a fifth upload from the same client");
    assert_eq!(code, "too_many_parallel_uploads");
    let retry: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry));

    // One upload ending (here: its client going away) makes room for one more, and its
    // spooled file goes with it.
    drop(held.pop());
    wait_for("the abandoned upload's file is removed", || {
        spooled(&data) == 3
    });
    wait_for("a new upload is accepted", || {
        small_upload(&server.base, None).0 == 201
    });
    drop(held);
    wait_for("every spooled file is removed", || spooled(&data) == 0);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_counts_and_the_proxy_itself_is_exempt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (server, port) = start(dir.path(), &[("MAIIMG_TRUSTED_PROXIES", "127.0.0.1")]);
    let alice = "198.51.100.7";
    let _held: Vec<TcpStream> = (0..4).map(|_| held_upload(port, Some(alice))).collect();
    wait_for("four uploads are spooled", || spooled(&data) == 4);
    let (status, retry, _) = small_upload(&server.base, Some(alice));
    assert_eq!(status, 429);
    assert!(retry.is_some());
    assert_eq!(small_upload(&server.base, Some("198.51.100.8")).0, 201);
    // The proxy's own requests (no forwarded address) are never capped.
    let _proxy: Vec<TcpStream> = (0..4).map(|_| held_upload(port, None)).collect();
    wait_for("the proxy's uploads are spooled", || spooled(&data) == 8);
    assert_eq!(small_upload(&server.base, None).0, 201);
}

#[test]
fn when_the_upload_buffers_are_taken_uploads_get_503_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // Room for one upload's buffer.
    let (server, port) = start(dir.path(), &[("MAIIMG_UPLOAD_BUFFER_BYTES", "1048576")]);
    let held = held_upload(port, None);
    wait_for("the first upload is spooled", || spooled(&data) == 1);
    let (status, retry, code) = small_upload(&server.base, Some("198.51.100.9"));
    assert_eq!((status, code.as_str()), (503, "server_busy"));
    assert!(retry.expect("Retry-After").parse::<u64>().expect("seconds") >= 1);
    drop(held);
    wait_for("the buffer is given back", || {
        small_upload(&server.base, None).0 == 201
    });
}
