//! "Download all": a gallery's originals as one ZIP, streamed while it is written.

use std::sync::Arc;

use rocket::{Route, State, get, head, routes};

use crate::domain::archive;
use crate::domain::tracking::Event;
use crate::ids::GalleryId;
use crate::model::{Digest, GalleryRecord};
use crate::web::app::App;
use crate::web::error::WebError;
use crate::web::error_response::PageError;
use crate::web::guards::visit::Visit;
use crate::web::stream::Streamed;
use crate::web::viewer::admission::{admitted, note};

/// `GET /g/<id>/zip`: every original in one ZIP (a HEIC/AVIF as its JPEG copy, which
/// anyone can open), streamed as it is written.
#[get("/<id>/zip")]
async fn zip(app: &State<Arc<App>>, id: &str, visit: Visit<'_>) -> Result<Streamed, PageError> {
    let (id, record) = downloadable(app.inner(), id, &visit).await?;
    let files: Vec<(String, Digest)> = archive::entry_names(&record.images)
        .into_iter()
        .zip(&record.images)
        .map(|(name, image)| (name, image.download_blob().digest))
        .collect();
    let blobs = Arc::clone(app.galleries.blobs());
    note(app, &id, &record, Event::Zip, &visit, app.clock.now());
    Ok(Streamed::spawn(
        "application/zip",
        archive::zip_name(&record.title, id.as_str()),
        move |out| archive::write_zip(&blobs, &files, out),
    ))
}

/// `HEAD /g/<id>/zip`: the same checks and headers, but no archive is written and no
/// download is logged. (Rocket would otherwise run the GET handler for HEAD.)
#[head("/<id>/zip")]
async fn zip_head(
    app: &State<Arc<App>>,
    id: &str,
    visit: Visit<'_>,
) -> Result<Streamed, PageError> {
    let (id, record) = downloadable(app.inner(), id, &visit).await?;
    Ok(Streamed::empty(
        "application/zip",
        archive::zip_name(&record.title, id.as_str()),
    ))
}

/// The gallery, if this viewer may see it now and its owner allows downloads.
async fn downloadable(
    app: &Arc<App>,
    id: &str,
    visit: &Visit<'_>,
) -> Result<(GalleryId, Arc<GalleryRecord>), PageError> {
    let (id, record) = admitted(app, id, visit).await?;
    if !record.settings.allow_download {
        return Err(WebError::NotFound.into());
    }
    Ok((id, record))
}

pub fn routes() -> Vec<Route> {
    routes![zip, zip_head]
}
