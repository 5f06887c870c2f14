//! A disk that fails with EIO, on the real binary: `eio.c`, loaded with `LD_PRELOAD`, makes
//! the writes or syncs of the files a control file names fail while that file exists, at
//! moments the test chooses. The database's writes, its syncs alone (the data reached the
//! page cache, the disk never confirmed it), an image file's temp file and its directory's
//! sync each fail in turn; every failure is one clear refusal, the rest goes on, and after a
//! `kill -9` everything acknowledged is there, byte for byte.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::{health, wait_until};
use crate::common::*;

/// `eio.c` built once per test run with the system's C compiler (which cargo needs anyway).
fn shim() -> &'static Path {
    static SHIM: OnceLock<PathBuf> = OnceLock::new();
    SHIM.get_or_init(|| {
        let out = std::env::temp_dir().join(format!("maiimg-eio-{}.so", std::process::id()));
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/faults/eio.c");
        let built = Command::new("cc")
            .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"])
            .arg(&out)
            .arg(&source)
            .arg("-ldl")
            .status()
            .expect("cc (a C compiler) runs");
        assert!(built.success(), "building {} failed", source.display());
        out
    })
}

/// The control file: `fail(part, what)` makes the matching calls fail from now on.
struct Control(PathBuf);

impl Control {
    fn fail(&self, part: &Path, what: &str) {
        std::fs::write(&self.0, format!("{} {what}\n", part.display())).unwrap();
    }

    fn heal(&self) {
        std::fs::remove_file(&self.0).unwrap();
    }
}

fn create(base: &str, seed: u8) -> reqwest::blocking::Response {
    // Distinct bytes every time: a file already on disk is not written again.
    post_gallery(base, &[("p.jpg", jpeg(96, 64, seed))])
}

/// A refusal of the storage kind: 503 `storage_unavailable` with `Retry-After`.
fn assert_unavailable(res: reqwest::blocking::Response, when: &str) {
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").cloned();
    let body: Value = res.json().unwrap();
    assert_eq!(status, 503, "{when}: {body}");
    assert_eq!(
        body["error"]["code"], "storage_unavailable",
        "{when}: {body}"
    );
    assert!(retry.is_some(), "{when}: no Retry-After");
}

fn id_of(res: reqwest::blocking::Response) -> String {
    assert_eq!(res.status().as_u16(), 201);
    res.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_disk_failing_with_eio_refuses_what_it_hits_and_loses_nothing_acknowledged() {
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let control = Control(cwd.path().join("eio-control"));
    let log = cwd.path().join("server.log");
    let mut cmd = maiimg(cwd.path(), data.path(), port);
    cmd.env("LD_PRELOAD", shim())
        .env("EIO_CONTROL", &control.0)
        .env("MAIIMG_LOG_LEVEL", "normal");
    let server = Server::spawn_logged_to(&mut cmd, port, &log);
    let base = server.base.clone();
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();

    let mut acknowledged = vec![id_of(create(&base, 1))];
    let first = acknowledged[0].clone();
    let viewer = http();
    assert_eq!(get_with(&viewer, &format!("{base}/g/{first}")).0, 200);
    let original = get_with(&viewer, &format!("{base}/g/{first}/i/0/original"));
    assert_eq!(original.0, 200);

    let db = data.path().join("maiimg.redb");
    for (seed, what) in [(10, "write"), (20, "sync")] {
        // The database's writes (or only its syncs) fail: writes are refused, viewers who
        // were let in are served from memory.
        control.fail(&db, what);
        assert_unavailable(create(&base, seed), &format!("database {what}"));
        let (status, body) = health(&base, "/healthz");
        assert_eq!(status, 200);
        assert_eq!(body["writes"]["reason"], "io_error", "{body}");
        assert_eq!(health(&base, "/readyz").0, 503);
        assert_eq!(get_with(&viewer, &format!("{base}/g/{first}")).0, 200);
        assert_eq!(
            get_with(&viewer, &format!("{base}/g/{first}/i/0/original")),
            original
        );
        let newcomer = http().get(format!("{base}/g/{first}")).send().unwrap();
        assert_eq!(newcomer.status().as_u16(), 503, "a new viewer's open");

        // The disk is healthy again: writes resume without a restart.
        control.heal();
        wait_until(
            &format!("recovery after failing database {what}s"),
            Duration::from_secs(15),
            || health(&base, "/readyz").0 == 200,
        );
        acknowledged.push(id_of(create(&base, seed + 1)));
    }

    // An image file cannot be written (its temp file), then its name cannot be made durable
    // (its directory's sync): that upload alone is refused, the database stays healthy.
    let tmp = data.path().join("tmp");
    let blobs = data.path().join("blobs");
    for (seed, part, what) in [(30, &tmp, "write"), (40, &blobs, "sync")] {
        control.fail(part, what);
        let when = format!("file {what} under {}", part.display());
        assert_unavailable(create(&base, seed), &when);
        assert_eq!(health(&base, "/readyz").0, 200, "{when}");
        assert_eq!(get_with(&viewer, &format!("{base}/g/{first}")).0, 200);
        control.heal();
        // The same bytes again: the file left in place by the failed sync is synced anew.
        acknowledged.push(id_of(create(&base, seed)));
    }
    let leftovers: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let logged = log_text();
    assert!(
        logged.contains("an image file could not be written or read"),
        "the file fault is not in the log:\n{logged}"
    );
    assert!(!logged.contains("panicked"), "{logged}");

    // Everything acknowledged survives a crash, and the tree checks out.
    server.kill_9();
    let server = Server::start(cwd.path(), data.path(), port);
    for id in &acknowledged {
        let (status, _) = get(&format!("{}/g/{id}", server.base));
        assert_eq!(status, 200, "{id} was lost");
    }
    let again = http();
    assert_eq!(get_with(&again, &format!("{base}/g/{first}")).0, 200);
    assert_eq!(
        get_with(&again, &format!("{base}/g/{first}/i/0/original")),
        original
    );
    drop(server);
    let (code, report) = maiimg_check(cwd.path(), data.path());
    assert!(code == Some(0), "{report}");
}
