//! The public gallery page and its images: `GET /g/<id>` (counted once per new viewer),
//! the renditions, and the "seen" beacon of the access log.

use std::sync::Arc;

use rocket::{Route, State, get, routes};

use crate::domain::access::{self, Decision, Viewer};
use crate::domain::archive;
use crate::domain::tracking::Event;
use crate::model::{GalleryRecord, Rendition};
use crate::store::Cached;
use crate::views;
use crate::web::app::App;
use crate::web::blob_response::BlobResponse;
use crate::web::delivery;
use crate::web::error::WebError;
use crate::web::error_response::PageError;
use crate::web::guards::caching::IfNoneMatch;
use crate::web::guards::visit::Visit;
use crate::web::viewer::admission::{admitted, count_open, load, note, refusal, valid_ticket};

/// `GET /g/<id>`: the gallery page. A new viewer's open is counted (exactly, durably,
/// within the view limit) and earns a ticket; reloads with the ticket, `HEAD`, prefetches
/// and link-preview bots are not counted.
#[get("/<id>")]
async fn gallery(
    app: &State<Arc<App>>,
    id: &str,
    visit: Visit<'_>,
) -> Result<maud::Markup, PageError> {
    show(app.inner(), id, &visit, true).await
}

/// `HEAD /g/<id>`: the same answer, never counted. (Rocket would otherwise run the GET
/// handler for HEAD, which counts.)
#[rocket::head("/<id>")]
async fn gallery_head(
    app: &State<Arc<App>>,
    id: &str,
    visit: Visit<'_>,
) -> Result<maud::Markup, PageError> {
    show(app.inner(), id, &visit, false).await
}

async fn show(
    app: &Arc<App>,
    id: &str,
    visit: &Visit<'_>,
    count: bool,
) -> Result<maud::Markup, PageError> {
    let (id, Cached { record, opens }) = load(app, id).await?;
    let now = app.clock.now();
    if let (Some(bot), true) = (visit.bot, count) {
        note(app, &id, &record, Event::Preview(bot), visit, now);
    }
    let admitted = visit
        .ticket(&id)
        .is_some_and(|t| valid_ticket(app, &id, &record, &t, now));
    if let Decision::Denied { reason, opens_at } =
        access::decide(&record.settings, opens, Viewer { admitted }, now)
    {
        if count && visit.bot.is_none() && !visit.prefetch {
            note(app, &id, &record, Event::Denied(reason), visit, now);
        }
        return Err(refusal(&id, reason, opens_at, &record).into());
    }
    let page = |record: &GalleryRecord| {
        views::gallery::page(&views::gallery::GalleryView {
            id: id.as_str(),
            title: &record.title,
            images: &record.images,
            allow_download: record.settings.allow_download,
        })
    };
    if admitted || !count {
        if admitted && count && !visit.prefetch {
            note(app, &id, &record, Event::Reload, visit, now);
        }
        return Ok(page(&record));
    }
    if visit.bot.is_some() {
        return Ok(views::gallery::preview(&record.title, record.images.len()));
    }
    if visit.prefetch {
        // Failing a prefetch makes the browser fetch for real when the person navigates.
        return Err(WebError::PrefetchRefused.into());
    }
    count_open(app, &id, &record, visit, now).await?;
    Ok(page(&record))
}

/// `GET /g/<id>/i/<index>/<thumb|display|original|original.jpg>`. Originals (and the JPEG
/// copy of a HEIC/AVIF original, under the same rules) only when the owner allows
/// downloads; otherwise no original is served at all.
#[get("/<id>/i/<index>/<rendition>")]
async fn image(
    app: &State<Arc<App>>,
    id: &str,
    index: &str,
    rendition: &str,
    inm: IfNoneMatch,
    visit: Visit<'_>,
) -> Result<BlobResponse, PageError> {
    serve_image(app.inner(), id, index, rendition, &inm, &visit, true).await
}

/// `HEAD /g/<id>/i/<index>/<rendition>`: the same headers, never logged as a download (a
/// link checker or a download manager probing the size is not a download).
#[rocket::head("/<id>/i/<index>/<rendition>")]
async fn image_head(
    app: &State<Arc<App>>,
    id: &str,
    index: &str,
    rendition: &str,
    inm: IfNoneMatch,
    visit: Visit<'_>,
) -> Result<BlobResponse, PageError> {
    serve_image(app.inner(), id, index, rendition, &inm, &visit, false).await
}

/// An image for a viewer with a ticket; an original sent is logged as a download when
/// `count`. The index is parsed here, not by Rocket: a segment that is not a number is an
/// image that does not exist (404), where Rocket's own parsing would forward with 422.
async fn serve_image(
    app: &Arc<App>,
    id: &str,
    index: &str,
    rendition: &str,
    inm: &IfNoneMatch,
    visit: &Visit<'_>,
    count: bool,
) -> Result<BlobResponse, PageError> {
    let index: usize = index.parse().map_err(|_| WebError::NotFound)?;
    let rendition = Rendition::from_segment(rendition).ok_or(WebError::NotFound)?;
    let (id, record) = admitted(app, id, visit).await?;
    let image = record.images.get(index).ok_or(WebError::NotFound)?;
    let original = matches!(rendition, Rendition::Original | Rendition::OriginalJpeg);
    if original && !record.settings.allow_download {
        return Err(WebError::NotFound.into());
    }
    let blob = image.blob(rendition).ok_or(WebError::NotFound)?;
    let download = original.then(|| archive::download_name(image, blob.format));
    let response = match delivery::presigned(app, &record, blob, download.as_deref()) {
        Some(url) => BlobResponse::redirect(url),
        None => BlobResponse::open(app, blob, download, inm).await?,
    };
    // Either file of the original is one download of the image.
    if count && original && response.has_body() {
        let event = Event::Download {
            index,
            image: image.original.digest,
        };
        note(app, &id, &record, event, visit, app.clock.now());
    }
    Ok(response)
}

/// `POST /g/<id>/seen/<index>`: the viewer's page reports (with `navigator.sendBeacon`)
/// that an image was shown in the lightbox. Only with the viewer's ticket; logged once per
/// viewer and image a day.
#[rocket::post("/<id>/seen/<index>")]
async fn seen(
    app: &State<Arc<App>>,
    id: &str,
    index: &str,
    visit: Visit<'_>,
) -> Result<rocket::response::status::NoContent, PageError> {
    let index: usize = index.parse().map_err(|_| WebError::NotFound)?;
    let (id, record) = admitted(app.inner(), id, &visit).await?;
    let image = record.images.get(index).ok_or(WebError::NotFound)?;
    let event = Event::View {
        index,
        image: image.original.digest,
    };
    note(app, &id, &record, event, &visit, app.clock.now());
    Ok(rocket::response::status::NoContent)
}

pub fn routes() -> Vec<Route> {
    routes![gallery, gallery_head, image, image_head, seen]
}
