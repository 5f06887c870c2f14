//! HTTP: routes, request guards, responders and fairings. Handlers are thin: parse the
//! request, call the domain off the async executor, render.

mod admin;
mod admin_tools;
mod api;
mod archive;
mod assets;
mod backoff;
mod blob;
pub use blob::BlobCache;
pub mod client;
mod edit_api;
pub mod error;
mod galleries_page;
mod headers;
mod inflight;
pub mod limits;
mod manage_api;
pub mod multipart;
mod owner_api;
mod pages;
mod password;
mod poster;
mod repeats;
mod request_log;
mod stats_api;
mod stream;
mod uploads_api;
mod verified;
mod viewer;
mod visit;

use std::sync::Arc;

use rocket::http::Status;
use rocket::{Build, Request, Rocket, catch, catchers};

use crate::config::{Config, LogLevel};
use crate::domain::galleries::Galleries;
use crate::domain::ingest::Pool;
use crate::ids::GalleryId;
use error::{WebError, error_page, json_body};

/// Everything a handler needs, shared as `State<Arc<App>>`.
#[derive(Debug)]
pub struct App {
    /// The gallery service.
    pub galleries: Galleries,
    /// Free space on the data directory's filesystem and the reserve kept there.
    pub disk: crate::disk::Reserve,
    /// Bounded ingest workers.
    pub pool: Pool,
    /// Validated configuration.
    pub config: Config,
    /// Where time comes from.
    pub clock: crate::clock::Clock,
    /// Wrong password attempts per client, for rate limiting.
    pub attempts: password::Attempts,
    /// Per-client upload and gallery allowances, wrong upload passwords.
    pub limits: limits::Limits,
    /// Uploads being received: per client and their buffers in all.
    pub in_flight: inflight::InFlight,
    /// Signed-in administrators.
    pub admin: admin::Sessions,
    /// Recently served renditions.
    pub blob_cache: blob::BlobCache,
    /// Error lines written lately (a repeated one is written once per interval).
    pub repeats: repeats::Repeats,
    /// The clients behind the front door's internal connections.
    pub peers: Arc<crate::front::Peers>,
}

/// Memory for recently served renditions: the hot thumbnails and display images of a few
/// busy galleries.
pub const BLOB_CACHE_BYTES: usize = 64 * 1024 * 1024;

impl App {
    /// Log an error line, unless the same line was logged moments ago (then it is counted
    /// and the count comes with the next one).
    pub fn log_error(&self, line: &str) {
        if let Some(line) = self.repeats.admit(line, self.clock.instant()) {
            rocket::error!("{line}");
        }
    }

    /// Whether requests are logged now: tracking is on and the disk is above its reserve
    /// (below it, opens are still counted, but nothing that grows the database is written).
    pub fn logging(&self) -> bool {
        self.galleries.tracking() && !self.disk.low(self.clock.instant())
    }

    /// `<public_url>/g/<id>`: what the share link and QR code say.
    pub fn share_url(&self, id: &GalleryId) -> String {
        format!("{}/g/{id}", self.config.public_url())
    }

    /// `<public_url>/m/<id>#<key>`: the key rides in the fragment, which browsers never
    /// send to a server, so it cannot reach access logs or a Referer header.
    pub fn manage_url(&self, id: &GalleryId, key: &str) -> String {
        format!("{}/m/{id}#{key}", self.config.public_url())
    }
}

/// Run blocking work (redb, blob files) on the blocking pool.
pub async fn blocking<T, F>(app: &Arc<App>, f: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&App) -> T + Send + 'static,
{
    let app = Arc::clone(app);
    rocket::tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(WebError::internal)
}

/// Mount every URL area, the catchers and the security headers.
pub fn mount(rocket: Rocket<Build>, app: Arc<App>) -> Rocket<Build> {
    let log = request_log::RequestLog {
        on: matches!(app.config.log_level(), LogLevel::Normal | LogLevel::Debug),
    };
    rocket
        .manage(app)
        .attach(headers::SecurityHeaders)
        .attach(log)
        .mount("/", pages::routes())
        .mount("/", assets::routes())
        .mount("/", viewer::routes())
        .mount("/", archive::routes())
        .mount("/", password::routes())
        .mount("/", poster::routes())
        .mount("/", api::routes())
        .mount("/", uploads_api::routes())
        .mount("/", manage_api::routes())
        .mount("/", stats_api::routes())
        .mount("/", edit_api::routes())
        .mount("/", owner_api::routes())
        .mount("/", galleries_page::routes())
        .mount("/", admin::routes())
        .mount("/", admin_tools::routes())
        .mount("/", unmatched())
        .register("/", catchers![catch_all])
}

/// Paths no other route takes are taken here last (rank 100) and sent to the catcher as
/// 404s: Rocket itself would log each such path, which may carry an id or a key.
fn unmatched() -> Vec<rocket::Route> {
    use rocket::http::Method;
    use rocket::route::{Handler, Outcome, Route};

    #[derive(Clone)]
    struct NotFound;

    #[rocket::async_trait]
    impl Handler for NotFound {
        async fn handle<'r>(&self, _: &'r Request<'_>, _: rocket::Data<'r>) -> Outcome<'r> {
            Outcome::Error(Status::NotFound)
        }
    }

    [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
    ]
    .into_iter()
    .map(|method| Route::ranked(100, method, "/<_..>", NotFound))
    .collect()
}

/// Anything a route did not answer: JSON under `/api/`, a page elsewhere.
#[catch(default)]
fn catch_all(status: Status, req: &Request<'_>) -> (Status, (rocket::http::ContentType, String)) {
    if req.uri().path().starts_with("/api/") {
        let (code, message) = match status.code {
            404 => ("not_found", "no such API endpoint or resource".to_owned()),
            405 => ("method_not_allowed", "method not allowed".to_owned()),
            413 => ("request_too_large", "the request is too large".to_owned()),
            415 => (
                "unsupported_media_type",
                "unsupported content type".to_owned(),
            ),
            400 | 422 => (
                "bad_request",
                "the request could not be understood".to_owned(),
            ),
            _ => ("internal", "something went wrong on the server".to_owned()),
        };
        (
            status,
            (rocket::http::ContentType::JSON, json_body(code, &message)),
        )
    } else {
        let (status, markup) = error_page(status);
        (
            status,
            (rocket::http::ContentType::HTML, markup.into_string()),
        )
    }
}
