//! The object store killed while a gallery is being uploaded, and started again: the real
//! binary on a SeaweedFS of the test's own (`common/seaweedfs`), so killing it disturbs
//! no other test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{self, Cursor, Read};
use std::sync::mpsc;
use std::thread::{self, sleep};
use std::time::{Duration, Instant};

use reqwest::blocking::{Body, Client};
use serde_json::Value;

use crate::common::*;

/// Photos of the gallery in flight, and how many are sent before SeaweedFS is killed.
const PHOTOS: u8 = 12;
const BEFORE_THE_KILL: usize = 6;
const RENDITIONS: [&str; 3] = ["original", "display", "thumb"];

/// A request body that pauses at `gate` bytes: says so on `reached`, then waits for `go`.
struct GatedBody {
    body: Cursor<Vec<u8>>,
    gate: u64,
    reached: Option<mpsc::Sender<()>>,
    go: mpsc::Receiver<()>,
}

impl Read for GatedBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let at = self.body.position();
        if at == self.gate
            && let Some(reached) = self.reached.take()
        {
            let _ = reached.send(());
            let _ = self.go.recv();
        }
        let room = if at < self.gate {
            buf.len().min(usize::try_from(self.gate - at).unwrap())
        } else {
            buf.len()
        };
        self.body.read(&mut buf[..room])
    }
}

/// A client with time for a whole upload (the shared one gives up after 30 s).
fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .cookie_store(true)
        .build()
        .unwrap()
}

fn json(res: reqwest::blocking::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let body = res.text().unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    (status, json)
}

/// `POST /api/galleries` with `form` (built by `Form`), sent through `body`.
fn post(base: &str, form: Form, gated: Option<GatedParts>) -> (u16, Value) {
    let (content_type, bytes) = form.finish();
    let len = bytes.len() as u64;
    let body = match gated {
        None => Body::from(bytes),
        Some(parts) => Body::sized(
            GatedBody {
                gate: parts.gate_in(&bytes),
                body: Cursor::new(bytes),
                reached: Some(parts.reached),
                go: parts.go,
            },
            len,
        ),
    };
    let res = client()
        .post(format!("{base}/api/galleries"))
        .header("Content-Type", content_type.to_string())
        .body(body)
        .send()
        .expect("the server answers the upload");
    json(res)
}

/// Where to hold a body: just inside the part after the first `files` file parts, so the
/// server has seen those whole (their closing boundary) and ingests them meanwhile.
struct GatedParts {
    files: usize,
    reached: mpsc::Sender<()>,
    go: mpsc::Receiver<()>,
}

impl GatedParts {
    fn gate_in(&self, body: &[u8]) -> u64 {
        let marker = b"name=\"file\"";
        let starts: Vec<usize> = body
            .windows(marker.len())
            .enumerate()
            .filter(|(_, w)| w == marker)
            .map(|(i, _)| i)
            .collect();
        starts[self.files] as u64
    }
}

/// A gallery of `photos` filed under `owner`.
fn gallery_form(owner: &str, seeds: std::ops::Range<u8>) -> Form {
    let form = Form::new().text("owner_key", owner).text("title", "Outage");
    seeds.fold(form, |form, seed| {
        form.file(&format!("p{seed}.jpg"), &jpeg(640, 480, seed))
    })
}

/// Every rendition of gallery `id` as served: (image, rendition) → (ETag, bytes).
fn served(
    base: &str,
    id: &str,
    images: usize,
) -> BTreeMap<(usize, &'static str), (String, Vec<u8>)> {
    let viewer = client();
    assert_eq!(get_with(&viewer, &format!("{base}/g/{id}")).0, 200);
    let mut out = BTreeMap::new();
    for i in 0..images {
        for r in RENDITIONS {
            let res = viewer
                .get(format!("{base}/g/{id}/i/{i}/{r}"))
                .send()
                .unwrap();
            assert_eq!(res.status().as_u16(), 200, "{id} image {i} {r}");
            let etag = res.headers()["etag"]
                .to_str()
                .unwrap()
                .trim_matches('"')
                .to_owned();
            out.insert((i, r), (etag, res.bytes().unwrap().to_vec()));
        }
    }
    out
}

/// The ids `owner`'s listing (My galleries) shows.
fn owned(base: &str, owner: &str) -> Vec<String> {
    let res = client()
        .get(format!("{base}/api/owner/galleries"))
        .bearer_auth(owner)
        .send()
        .unwrap();
    let (status, json) = json(res);
    assert_eq!(status, 200, "{json}");
    let mut ids: Vec<String> = json["galleries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| field(g, "id").to_owned())
        .collect();
    ids.sort();
    ids
}

fn health(base: &str) -> (u16, Value, u16) {
    let (status, report) = json(client().get(format!("{base}/healthz")).send().unwrap());
    let ready = client().get(format!("{base}/readyz")).send().unwrap();
    (status, report, ready.status().as_u16())
}

/// The galleries committed in the database of a stopped server.
fn committed_galleries(data_dir: &std::path::Path) -> u64 {
    use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};
    const GALLERIES: TableDefinition<&str, &[u8]> = TableDefinition::new("galleries_v1");
    let db = redb::Database::open(data_dir.join("maiimg.redb")).expect("open the database");
    let txn = db.begin_read().unwrap();
    txn.open_table(GALLERIES).unwrap().len().unwrap()
}

#[test]
fn s3_killed_mid_upload_leaves_no_half_gallery_and_the_server_recovers_when_it_is_back() {
    let Some(weed) = OwnSeaweed::start("mid-upload") else {
        return;
    };
    let started = Instant::now();
    let (cwd, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = weed.bucket.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(cwd.path(), data.path(), weed.spare_port, &env);
    let base = server.base.clone();
    let (status, made) = json(client().post(format!("{base}/api/owner")).send().unwrap());
    assert_eq!(status, 200);
    let owner = field(&made, "owner_key").to_owned();

    // A gallery from before the outage, its files read back as served.
    let (status, kept) = post(&base, gallery_form(&owner, 0..3), None);
    assert_eq!(status, 201, "{kept}");
    let kept = field(&kept, "id").to_owned();
    let kept_files = served(&base, &kept, 3);
    let stored_before = weed.bucket.blob_objects().len();
    assert_eq!(stored_before, 9, "three files per photo");

    // The big upload, held after six photos until SeaweedFS is killed.
    let (reached, at_gate) = mpsc::channel();
    let (release, go) = mpsc::channel();
    let gated = GatedParts {
        files: BEFORE_THE_KILL,
        reached,
        go,
    };
    let form = gallery_form(&owner, 10..10 + PHOTOS);
    let upload = {
        let base = base.clone();
        thread::spawn(move || post(&base, form, Some(gated)))
    };
    at_gate
        .recv_timeout(Duration::from_secs(30))
        .expect("the upload reaches its seventh photo");
    // The six photos sent go into the bucket while the gallery is not committed: what
    // would become a half gallery if anything were committed before every file is in.
    let deadline = Instant::now() + Duration::from_secs(20);
    while weed.bucket.blob_objects().len() < stored_before + BEFORE_THE_KILL * 3 {
        assert!(
            Instant::now() < deadline,
            "the first photos of the upload did not reach the bucket"
        );
        sleep(Duration::from_millis(50));
    }
    let in_before_the_kill = weed.bucket.blob_objects().len() - stored_before;
    weed.kill();
    release.send(()).unwrap();
    let (status, answer) = upload.join().expect("the upload's thread");

    // A plain refusal, to try again later.
    assert_eq!(status, 503, "{answer}");
    let (code, message) = error_of(&answer);
    assert_eq!(code, "storage_unavailable");
    assert!(
        message.contains("object storage") && message.contains("nothing was stored"),
        "{message}"
    );
    assert_eq!(owned(&base, &owner), vec![kept.clone()], "no half gallery");
    let (status, report, ready) = health(&base);
    assert_eq!(status, 200, "viewers can still be served");
    assert_eq!(report["status"], "degraded", "{report}");
    assert_eq!(report["degraded"], serde_json::json!(["object_storage"]));
    assert_eq!(report["object_storage"]["reason"], "unreachable");
    assert_eq!(ready, 503);
    // What is in memory is still shown.
    let viewer = client();
    get_with(&viewer, &format!("{base}/g/{kept}"));
    assert_eq!(
        get_with(&viewer, &format!("{base}/g/{kept}/i/0/thumb")).0,
        200
    );

    // SeaweedFS back on its directory and port: the server sees it by itself.
    weed.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, report, ready) = health(&base);
        if report["status"] == "ok" && ready == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not back 30 s after the store: {report}"
        );
        sleep(Duration::from_millis(100));
    }
    let (status, after) = post(&base, gallery_form(&owner, 30..32), None);
    assert_eq!(status, 201, "{after}");
    let after = field(&after, "id").to_owned();
    assert_eq!(served(&base, &after, 2).len(), 6);

    // The gallery from before is whole, byte for byte: as served, and in the bucket.
    assert_eq!(served(&base, &kept, 3), kept_files);
    for ((i, r), (etag, bytes)) in &kept_files {
        let stored = weed.bucket.object(&format!("blobs/{etag}"));
        assert!(
            stored == *bytes,
            "image {i} {r} in the bucket is what was served"
        );
    }
    // The refused upload's files that went in before the kill are orphans now (removing
    // them failed with the store down), the collector's to mark and sweep an hour on;
    // nothing else is in the bucket.
    let orphans = weed.bucket.blob_objects().len() - stored_before - 6;
    assert_eq!(
        orphans, in_before_the_kill,
        "only the refused upload's first files"
    );
    let mut expected = vec![kept, after];
    expected.sort();
    assert_eq!(owned(&base, &owner), expected);
    server.kill_9();
    assert_eq!(
        committed_galleries(data.path()),
        2,
        "nothing else committed"
    );
    eprintln!(
        "s3 outage mid-upload: {in_before_the_kill} files in before the kill, {:?} in all",
        started.elapsed()
    );
}
