//! `POST /api/admin/backup`: the running server backs itself up into a directory on its own
//! filesystem (`maiimg backup DEST` calls it: only the process that holds the database can
//! read a snapshot of it). The admin token is the key, as `Authorization: Bearer`, with the
//! same slowing-down of wrong tries as the admin sign-in.
//!
//! The answer streams one JSON line per step (`application/x-ndjson`): `{"progress":…}`
//! about twice a second while it changes (and every few seconds regardless, so no proxy or
//! idle timeout closes a quiet connection), then `{"done":<manifest>}` or
//! `{"error":{"code","message"}}`. A client that goes away does not stop the backup.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rocket::http::ContentType;
use rocket::response::stream::TextStream;
use rocket::serde::json::Json;
use rocket::{Route, State, post, routes};
use serde::Deserialize;
use serde_json::json;

use crate::domain::backup::{Manifest, Progress};
use crate::web::admin::auth::{check_token, enabled};
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::error_response::ApiError;
use crate::web::guards::client::ClientAddr;
use crate::web::guards::keys::Bearer;

/// What the request asks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupRequest {
    /// An absolute directory on the server: empty, or an earlier backup of this instance.
    destination: PathBuf,
}

/// The backup's state, shared between the worker and the stream.
#[derive(Default)]
struct Shared {
    progress: Progress,
    outcome: Option<Result<Manifest, String>>,
}

/// Lets go of the one-backup-at-a-time flag however the worker ends.
struct Running(Arc<App>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.backing_up.store(false, Ordering::SeqCst);
    }
}

/// `POST /api/admin/backup` with `{"destination": "/abs/dir"}`.
#[post("/backup", data = "<body>")]
async fn start(
    app: &State<Arc<App>>,
    client: ClientAddr,
    bearer: Bearer,
    body: Result<Json<BackupRequest>, rocket::serde::json::Error<'_>>,
) -> Result<(ContentType, TextStream![String]), ApiError> {
    enabled(app)?;
    // The command runs on the server's machine; from anywhere else a leaked token would
    // be a way to write files as the server.
    if !client.0.is_loopback() {
        return Err(WebError::BackupNotLocal.into());
    }
    check_token(app, client.0, &bearer.0.unwrap_or_default(), "for a backup")?;
    let dest = body
        .map(Json::into_inner)
        .map_err(|e| WebError::BadRequest(format!("invalid JSON body: {e}")))?
        .destination;
    if app.backing_up.swap(true, Ordering::SeqCst) {
        return Err(WebError::BackupRunning.into());
    }
    let running = Running(Arc::clone(app.inner()));
    // Refusals (a wrong directory) are answered with a status, before the stream starts.
    let checked = dest.clone();
    blocking(app.inner(), move |app| {
        app.galleries
            .check_backup_destination(app.config.data_dir(), &checked)
    })
    .await?
    .map_err(WebError::Backup)?;

    rocket::info!("admin: backup into {} started", dest.display());
    let shared = Arc::new(Mutex::new(Shared::default()));
    let worker = Arc::clone(&shared);
    rocket::tokio::task::spawn_blocking(move || {
        let app = Arc::clone(&running.0);
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            app.galleries
                .backup(app.config.data_dir(), &dest, app.clock.now(), |p| {
                    worker
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .progress = *p;
                })
                .map_err(|e| e.to_string())
        }));
        // Done (or broken) either way: the next backup may start, and the stream ends.
        drop(running);
        let outcome = made.unwrap_or_else(|_| Err("the backup stopped unexpectedly".into()));
        match &outcome {
            Ok(m) => rocket::info!(
                "admin: backup into {} done: {} galleries, {} files",
                dest.display(),
                m.galleries,
                m.files
            ),
            Err(e) => app.log_error(&format!(
                "admin: backup into {} failed: {e}",
                dest.display()
            )),
        }
        worker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .outcome = Some(outcome);
    });

    let ndjson = ContentType::new("application", "x-ndjson");
    Ok((
        ndjson,
        TextStream! {
            let mut last = None;
            let mut quiet = 0;
            loop {
                let (progress, outcome) = {
                    let s = shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    (s.progress, s.outcome.clone())
                };
                if let Some(outcome) = outcome {
                    if last != Some(progress) {
                        yield format!("{}\n", json!({ "progress": progress }));
                    }
                    let line = match outcome {
                        Ok(manifest) => json!({ "done": manifest }),
                        Err(message) => json!({
                            "error": { "code": "backup_failed", "message": message }
                        }),
                    };
                    yield format!("{line}\n");
                    break;
                }
                if last != Some(progress) || quiet >= 10 {
                    yield format!("{}\n", json!({ "progress": progress }));
                    last = Some(progress);
                    quiet = 0;
                } else {
                    quiet += 1;
                }
                rocket::tokio::time::sleep(Duration::from_millis(500)).await;
            }
        },
    ))
}

/// The backup route, mounted under `/api/admin`.
pub fn routes() -> Vec<Route> {
    routes![start]
}
