//! The app's state, shared by every handler as `State<Arc<App>>`, and the way handlers run
//! blocking work.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::galleries::Galleries;
use crate::domain::ingest::Pool;
use crate::ids::GalleryId;
use crate::web::admin::sessions::Sessions;
use crate::web::blob_cache::BlobCache;
use crate::web::error::WebError;
use crate::web::error_log::ErrorLog;
use crate::web::inflight::InFlight;
use crate::web::throttle::{Attempts, Limits};

/// Everything a handler needs.
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
    pub clock: Clock,
    /// Wrong password attempts per client, for rate limiting.
    pub attempts: Attempts,
    /// Per-client upload and gallery allowances, wrong upload passwords.
    pub limits: Limits,
    /// Uploads being received: per client and their buffers in all.
    pub in_flight: InFlight,
    /// Signed-in administrators.
    pub admin: Sessions,
    /// Recently served renditions.
    pub blob_cache: BlobCache,
    /// The error log (also managed on its own, for the error responders).
    pub errors: Arc<ErrorLog>,
    /// The clients behind the front door's internal connections.
    pub peers: Arc<crate::front::Peers>,
    /// A backup is being made (one at a time).
    pub backing_up: std::sync::atomic::AtomicBool,
}

/// Memory for recently served renditions: the hot thumbnails and display images of a few
/// busy galleries.
pub const BLOB_CACHE_BYTES: usize = 64 * 1024 * 1024;

impl App {
    /// Log an error line, unless the same line was logged moments ago (then it is counted
    /// and the count comes with the next one).
    pub fn log_error(&self, line: &str) {
        self.errors.write(line);
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
