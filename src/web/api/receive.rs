//! Receiving image files, shared by gallery creation and staged uploads: each is ingested
//! and its blobs written (pinned until a gallery commits them), large ones spooled first.

use std::sync::Arc;

use crate::domain::galleries::create::PendingImage;
use crate::spool::{Body, Spool};
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::guards::uploads::{check_room, stored_bytes};
use crate::web::inflight::SPOOL_THRESHOLD;

/// Ingest one file and write its blobs (pinned until the gallery commits).
pub async fn ingest_and_write(
    app: Arc<App>,
    body: Body,
    name: String,
) -> Result<PendingImage, WebError> {
    // The decode's memory stays counted until its files are written and dropped.
    let (ingested, _admitted) = app.pool.ingest(body, name).await?;
    check_room(&app, stored_bytes(&ingested))?;
    Ok(blocking(&app, move |app| app.galleries.write_image(&ingested)).await??)
}

/// Where this app spools large files.
pub fn spool(app: &App) -> Spool {
    Spool {
        threshold: SPOOL_THRESHOLD,
        dir: app.galleries.spool_dir().to_owned(),
    }
}
