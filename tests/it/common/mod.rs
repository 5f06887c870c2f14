//! Shared by the integration tests: the app on a temporary data directory, hand-built
//! multipart bodies and response helpers. Image fixtures are in `fixtures.rs`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod heif_fixtures;
pub mod launch;
mod page;
mod s3;
mod seaweedfs;
mod server;
mod tcp_proxy;

use std::path::{Path, PathBuf};

use maiimg::clock::Clock;
use maiimg::config::RawConfig;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use serde_json::Value;
use tempfile::TempDir;

pub use fixtures::*;
pub use heif_fixtures::*;
pub use page::*;
pub use s3::*;
pub use seaweedfs::*;
#[allow(unused_imports)] // only the tests that run the binary use it
pub use server::*;
pub use tcp_proxy::*;

pub const PUBLIC_URL: &str = "http://maiimg.test";

/// The whole application on its own temporary data directory.
pub struct TestApp {
    /// Dropped before `dir` (field order), so the database is closed first.
    pub client: Client,
    pub dir: TempDir,
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::with(|_| {})
    }

    /// Start with a configuration adjusted by `tweak` (e.g. smaller limits).
    pub fn with(tweak: impl FnOnce(&mut RawConfig)) -> TestApp {
        TestApp::build(true, Clock::system(), tweak)
    }

    /// [`TestApp::with`] on a clock the test moves (`Clock::manual`).
    pub fn on_clock(clock: &Clock, tweak: impl FnOnce(&mut RawConfig)) -> TestApp {
        TestApp::build(true, clock.clone(), tweak)
    }

    /// Like [`TestApp::with`], but the client keeps no cookies: every request is a new
    /// viewer unless it carries a ticket cookie itself.
    pub fn untracked(tweak: impl FnOnce(&mut RawConfig)) -> TestApp {
        TestApp::build(false, Clock::system(), tweak)
    }

    fn build(tracked: bool, clock: Clock, tweak: impl FnOnce(&mut RawConfig)) -> TestApp {
        let start = maiimg::Start {
            clock,
            ..maiimg::Start::default()
        };
        TestApp::started(tracked, start, tweak)
    }

    /// The app with start options of the test's own (a clock, a free-space source); a
    /// client that keeps cookies when `tracked`.
    pub fn started(
        tracked: bool,
        start: maiimg::Start,
        tweak: impl FnOnce(&mut RawConfig),
    ) -> TestApp {
        TestApp::in_dir(tempfile::tempdir().expect("tempdir"), tracked, start, tweak)
    }

    /// The app on a data directory the test prepared (or kept from an app it dropped).
    pub fn in_dir(
        dir: TempDir,
        tracked: bool,
        start: maiimg::Start,
        tweak: impl FnOnce(&mut RawConfig),
    ) -> TestApp {
        let mut config = RawConfig {
            data_dir: dir.path().to_path_buf(),
            public_url: PUBLIC_URL.into(),
            log_level: "off".into(),
            ..RawConfig::default()
        };
        tweak(&mut config);
        let config = config.validated().expect("valid test config");
        let rocket = maiimg::build_with(config, start).expect("app builds");
        let client = if tracked {
            Client::tracked(rocket)
        } else {
            Client::untracked(rocket)
        }
        .expect("rocket ignites");
        TestApp { client, dir }
    }

    /// How many blob files are on disk.
    pub fn blob_count(&self) -> usize {
        blob_files(self.dir.path()).len()
    }

    /// Where the blob with this SHA-256 (an ETag without quotes) lives.
    pub fn blob_path(&self, hex: &str) -> PathBuf {
        let blobs = self.dir.path().join("blobs");
        blobs.join(&hex[0..2]).join(&hex[2..4]).join(hex)
    }

    /// POST a multipart form to `path`.
    pub fn post_form(&self, path: &str, form: Form) -> LocalResponse<'_> {
        let (content_type, body) = form.finish();
        let req = self.client.post(path.to_owned()).header(content_type);
        req.body(body).dispatch()
    }

    /// POST a form that must be refused with `status` and error `code`; the message.
    pub fn refuse(&self, path: &str, form: Form, status: Status, code: &str) -> String {
        let res = self.post_form(path, form);
        let got = res.status();
        let (got_code, message) = error_of(&json_of(res));
        assert_eq!((got, got_code.as_str()), (status, code), "{message}");
        message
    }

    /// Create a gallery from files and return the 201 JSON.
    pub fn create(&self, files: &[(&str, &[u8])]) -> Value {
        let form = files.iter().fold(Form::new(), |f, (n, b)| f.file(n, b));
        let res = self.post_form("/api/galleries", form);
        let status = res.status();
        let json = json_of(res);
        assert_eq!(status, Status::Created, "gallery creation failed: {json}");
        json
    }

    /// POST `form` to `/api/galleries`, which must create the gallery: (id, manage key).
    pub fn gallery(&self, form: Form) -> (String, String) {
        let res = self.post_form("/api/galleries", form);
        let status = res.status();
        let json = json_of(res);
        assert_eq!(status, Status::Created, "gallery creation failed: {json}");
        (
            field(&json, "id").to_owned(),
            field(&json, "manage_key").to_owned(),
        )
    }

    /// A gallery of two small JPEGs, landscape then portrait: (id, manage key).
    pub fn two_photo_gallery(&self) -> (String, String) {
        self.gallery(
            Form::new()
                .file("first.jpg", &jpeg(64, 48, 1))
                .file("second.jpg", &jpeg(48, 64, 2)),
        )
    }

    /// GET a path (an absolute URL under [`PUBLIC_URL`] works too).
    pub fn get(&self, path: &str) -> Fetched {
        self.get_with(path, Vec::new())
    }

    /// POST a URL-encoded form body, as a browser's form submission.
    pub fn post_urlencoded(&self, path: &str, body: &str) -> Fetched {
        let req = self.client.post(path.to_owned()).header(ContentType::Form);
        Fetched::from(req.body(body).dispatch())
    }

    /// GET with extra headers.
    pub fn get_with(&self, path: &str, headers: Vec<Header<'static>>) -> Fetched {
        let path = path.trim_start_matches(PUBLIC_URL).to_owned();
        let req = headers
            .into_iter()
            .fold(self.client.get(path), |r, h| r.header(h));
        Fetched::from(req.dispatch())
    }

    /// GET `/g/<id>/i/<index>/<rendition>` as a viewer: the gallery page is opened first
    /// (once per gallery), which gives this client the ticket images need.
    pub fn image(&self, id: &str, index: usize, rendition: &str) -> Fetched {
        if self.client.cookies().get(&format!("t_{id}")).is_none() {
            self.client.get(format!("/g/{id}")).dispatch();
        }
        self.get(&format!("/g/{id}/i/{index}/{rendition}"))
    }

    /// The ETag of an image rendition, without quotes: its blob's SHA-256.
    pub fn etag(&self, id: &str, index: usize, rendition: &str) -> String {
        let res = self.image(id, index, rendition);
        res.header("ETag")
            .expect("ETag")
            .trim_matches('"')
            .to_owned()
    }

    /// Disable gallery `id` with its manage `key`, as its owner's one click does.
    pub fn disable(&self, id: &str, key: &str) {
        let res = self
            .client
            .post(format!("/api/galleries/{id}/disable"))
            .header(Header::new("Authorization", format!("Bearer {key}")))
            .dispatch();
        assert_eq!(res.status(), Status::Ok, "disable {id}");
    }

    /// GET or DELETE `/api/galleries/<id>` with this `Authorization` value, if any.
    /// Returns the status and the JSON body (`null` for 204).
    pub fn manage(&self, delete: bool, id: &str, auth: Option<String>) -> (Status, Value) {
        let url = format!("/api/galleries/{id}");
        let req = if delete {
            self.client.delete(url)
        } else {
            self.client.get(url)
        };
        let auth = auth.map(|a| Header::new("Authorization", a));
        let res = auth.into_iter().fold(req, |r, h| r.header(h)).dispatch();
        let status = res.status();
        let body = if status == Status::NoContent {
            Value::Null
        } else {
            json_of(res)
        };
        (status, body)
    }

    /// Shut the app down and count the galleries committed in its database.
    pub fn close_and_count_galleries(self) -> u64 {
        use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};
        const GALLERIES: TableDefinition<&str, &[u8]> = TableDefinition::new("galleries_v1");
        let TestApp { client, dir } = self;
        drop(client);
        let db = redb::Database::open(dir.path().join("maiimg.redb")).expect("reopen database");
        let txn = db.begin_read().expect("read txn");
        let table = txn.open_table(GALLERIES).expect("galleries table");
        table.len().expect("count")
    }
}

/// Every blob file under `<data_dir>/blobs` (named by its SHA-256; not the marker).
pub fn blob_files(data_dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                walk(&path, out);
            } else if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data_dir.join("blobs"), &mut out);
    out
}

/// Decode any served image.
pub fn decode(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory(bytes).expect("served image decodes")
}

/// `width` and `height` of a JSON image record.
pub fn size(image: &Value) -> (u64, u64) {
    let side = |k: &str| image[k].as_u64().expect("a number");
    (side("width"), side("height"))
}

/// A response, read completely.
pub struct Fetched {
    pub status: Status,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Fetched {
    fn from(res: LocalResponse<'_>) -> Fetched {
        let status = res.status();
        let headers = res.headers().iter();
        let headers = headers
            .map(|h| (h.name().as_str().to_ascii_lowercase(), h.value().to_owned()))
            .collect();
        let body = res.into_bytes().unwrap_or_default();
        Fetched {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        let found = self.headers.iter().find(|(n, _)| *n == name);
        found.map(|(_, v)| v.as_str())
    }

    /// The Content-Type, or "" without one.
    pub fn ctype(&self) -> &str {
        self.header("Content-Type").unwrap_or("")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A refusal page's `data-reason` (`None` on a page that shows the gallery).
    pub fn reason(&self) -> Option<String> {
        attribute(&self.text(), "data-reason")
    }

    /// Whether the page has an element with this `id`.
    pub fn has_id(&self, id: &str) -> bool {
        has_id(&self.text(), id)
    }
}

/// The JSON body of a response (panics with the raw body if it is not JSON).
pub fn json_of(res: LocalResponse<'_>) -> Value {
    let body = res.into_string().unwrap_or_default();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// A string field of a JSON object.
pub fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    let value = v[key].as_str();
    value.unwrap_or_else(|| panic!("missing string {key}: {v}"))
}

/// `{"error":{"code","message"}}` → (code, message), checking the shape.
pub fn error_of(json: &Value) -> (String, String) {
    let code = json["error"]["code"].as_str();
    let message = json["error"]["message"].as_str();
    match (code, message) {
        (Some(c), Some(m)) if !c.is_empty() && !m.is_empty() => (c.to_owned(), m.to_owned()),
        _ => panic!("not an error body: {json}"),
    }
}

const BOUNDARY: &str = "----maiimgTestBoundary7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body, built by hand.
#[derive(Default)]
pub struct Form {
    body: Vec<u8>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// A part named `file`.
    pub fn file(mut self, filename: &str, bytes: &[u8]) -> Form {
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        self.body.extend_from_slice(head.as_bytes());
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// A text part.
    pub fn text(mut self, name: &str, value: &str) -> Form {
        let part = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
        self.body.extend_from_slice(part.as_bytes());
        self
    }

    pub fn finish(mut self) -> (ContentType, Vec<u8>) {
        let end = format!("--{BOUNDARY}--\r\n");
        self.body.extend_from_slice(end.as_bytes());
        let ct = ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY));
        (ct, self.body)
    }
}
