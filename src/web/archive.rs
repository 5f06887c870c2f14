//! "Download all": a gallery's originals as one ZIP, streamed while it is written.

use std::path::PathBuf;
use std::sync::Arc;

use rocket::{Route, State, get, routes};
use time::OffsetDateTime;

use super::App;
use super::error::{PageError, WebError};
use super::stream::Streamed;
use super::viewer::{admitted, note};
use super::visit::Visit;
use crate::domain::archive;
use crate::domain::tracking::Event;

/// `GET /g/<id>/zip`: every original in one ZIP, streamed as it is written.
#[get("/g/<id>/zip")]
async fn zip(app: &State<Arc<App>>, id: &str, visit: Visit<'_>) -> Result<Streamed, PageError> {
    let (id, record) = admitted(app.inner(), id, &visit).await?;
    if !record.settings.allow_download {
        return Err(WebError::NotFound.into());
    }
    let files: Vec<(String, PathBuf)> = archive::entry_names(&record.images)
        .into_iter()
        .zip(&record.images)
        .map(|(name, image)| (name, app.galleries.blob_path(&image.original.digest)))
        .collect();
    note(
        app,
        &id,
        &record,
        Event::Zip,
        &visit,
        OffsetDateTime::now_utc(),
    );
    Ok(Streamed::spawn(
        "application/zip",
        archive::zip_name(&record.title, id.as_str()),
        move |out| archive::write_zip(&files, out),
    ))
}

pub fn routes() -> Vec<Route> {
    routes![zip]
}
