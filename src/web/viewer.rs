//! The public side of a gallery: the page, its images and its QR codes.

use std::sync::Arc;

use rocket::http::{ContentType, Header};
use rocket::response::{self, Responder};
use rocket::{Request, Response, Route, State, get, routes};
use time::OffsetDateTime;

use super::assets::IfNoneMatch;
use super::blob::{BlobResponse, disposition};
use super::error::{PageError, WebError};
use super::visit::Visit;
use super::{App, blocking};
use crate::domain::access::{self, Decision, Reason, Viewer};
use crate::domain::tracking::Event;
use crate::domain::{archive, qr};
use crate::ids::GalleryId;
use crate::model::{GalleryRecord, Rendition};
use crate::store::{Admission, Cached};
use crate::views;
use crate::views::refusal::Refusal;

/// A gallery and its open count: from memory when there, else one blocking read.
pub(super) async fn load(app: &Arc<App>, id: &str) -> Result<(GalleryId, Cached), WebError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    if let Some(hit) = app.galleries.cached(&id) {
        return Ok((id, hit));
    }
    let lookup = id.clone();
    let entry = blocking(app, move |app| app.galleries.load(&lookup)).await??;
    Ok((id, entry))
}

/// Log `event` for the access log. Logging never fails a request: a failure is reported
/// in the server log and the viewer is served.
pub(super) fn note(
    app: &App,
    id: &GalleryId,
    record: &GalleryRecord,
    event: Event,
    visit: &Visit<'_>,
    now: OffsetDateTime,
) {
    if !app.logging() {
        return;
    }
    let who = visit.visitor(app);
    if let Err(e) = app.galleries.note(id, record, event, &who, now) {
        app.log_error(&format!("could not log a {event:?}: {e}"));
    }
}

pub(super) fn refusal(
    id: &GalleryId,
    reason: Reason,
    opens_at: Option<OffsetDateTime>,
    record: &GalleryRecord,
) -> WebError {
    WebError::Denied(Refusal {
        reason,
        opens_at,
        timezone: record.settings.timezone.clone(),
        gallery: id.to_string(),
        notice: None,
    })
}

/// `GET /g/<id>`: the gallery page. A new viewer's open is counted (exactly, durably,
/// within the view limit) and earns a ticket; reloads with the ticket, `HEAD`, prefetches
/// and link-preview bots are not counted.
#[get("/g/<id>")]
async fn gallery(
    app: &State<Arc<App>>,
    id: &str,
    visit: Visit<'_>,
) -> Result<maud::Markup, PageError> {
    show(app.inner(), id, &visit, true).await
}

/// `HEAD /g/<id>`: the same answer, never counted. (Rocket would otherwise run the GET
/// handler for HEAD, which counts.)
#[rocket::head("/g/<id>")]
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

/// Does `ticket` admit to this gallery now, under its current ticket epoch?
fn valid_ticket(
    app: &App,
    id: &GalleryId,
    record: &GalleryRecord,
    ticket: &str,
    now: OffsetDateTime,
) -> bool {
    let epoch = record.settings.ticket_epoch;
    app.galleries.tickets().verify(id, epoch, ticket, now)
}

/// Count a new viewer's open (exactly, durably) and hand out the ticket that admits them.
pub(super) async fn count_open(
    app: &Arc<App>,
    id: &GalleryId,
    record: &GalleryRecord,
    visit: &Visit<'_>,
    now: OffsetDateTime,
) -> Result<(), WebError> {
    // Below the disk reserve the open is still counted, with nothing logged.
    let who = app.logging().then(|| visit.visitor(app));
    match app.galleries.admit(id, record, who.as_ref(), now).await? {
        Admission::Admitted { .. } => {
            let epoch = record.settings.ticket_epoch;
            let ticket = app.galleries.tickets().issue(id, epoch, now);
            visit.admit(id, ticket, app.config.public_url().starts_with("https://"));
            Ok(())
        }
        Admission::LimitReached => Err(refusal(id, Reason::Limit, None, record)),
        Admission::Gone => Err(WebError::NotFound),
    }
}

/// The gallery, for a request that holds its viewer ticket and may see it right now.
/// Every image and archive request asks again, so a gallery switched off (or expired, or
/// out of its hours) stops serving at once.
pub(super) async fn admitted(
    app: &Arc<App>,
    id: &str,
    visit: &Visit<'_>,
) -> Result<(GalleryId, Arc<GalleryRecord>), WebError> {
    let (id, Cached { record, .. }) = load(app, id).await?;
    let now = app.clock.now();
    let ticket = visit.ticket(&id);
    if !ticket.is_some_and(|t| valid_ticket(app, &id, &record, &t, now)) {
        return Err(WebError::NoTicket);
    }
    if let Decision::Denied { reason, opens_at } =
        access::decide(&record.settings, 0, Viewer { admitted: true }, now)
    {
        return Err(refusal(&id, reason, opens_at, &record));
    }
    Ok((id, record))
}

/// `GET /g/<id>/i/<index>/<thumb|display|original>`. Originals only when the owner allows
/// downloads; otherwise no original is served at all.
#[get("/g/<id>/i/<index>/<rendition>")]
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
#[rocket::head("/g/<id>/i/<index>/<rendition>")]
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
    let download = match rendition {
        Rendition::Original if !record.settings.allow_download => {
            return Err(WebError::NotFound.into());
        }
        Rendition::Original => Some(archive::download_name(image)),
        _ => None,
    };
    let response = BlobResponse::open(app, image.blob(rendition), download, inm).await?;
    if count && rendition == Rendition::Original && response.has_body() {
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
#[rocket::post("/g/<id>/seen/<index>")]
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

/// A QR code with a sensible name when saved.
struct Qr {
    content_type: ContentType,
    bytes: Vec<u8>,
    filename: String,
}

impl<'r> Responder<'r, 'static> for Qr {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        Response::build_from((self.content_type, self.bytes).respond_to(req)?)
            .header(Header::new(
                "Content-Disposition",
                disposition("inline", &self.filename),
            ))
            .raw_header("Cache-Control", "private, max-age=3600")
            .ok()
    }
}

/// `GET /g/<id>/qr.png`.
#[get("/g/<id>/qr.png")]
async fn qr_png(app: &State<Arc<App>>, id: &str) -> Result<Qr, PageError> {
    let (id, _) = load(app.inner(), id).await?;
    let url = app.share_url(&id);
    let bytes = blocking(app.inner(), move |_| qr::png(&url))
        .await?
        .map_err(WebError::internal)?;
    Ok(Qr {
        content_type: ContentType::PNG,
        bytes,
        filename: format!("maiimg-{id}-qr.png"),
    })
}

/// `GET /g/<id>/qr.svg`.
#[get("/g/<id>/qr.svg")]
async fn qr_svg(app: &State<Arc<App>>, id: &str) -> Result<Qr, PageError> {
    let (id, _) = load(app.inner(), id).await?;
    let svg = qr::svg(&app.share_url(&id)).map_err(WebError::internal)?;
    Ok(Qr {
        content_type: ContentType::SVG,
        bytes: svg.into_bytes(),
        filename: format!("maiimg-{id}-qr.svg"),
    })
}

pub fn routes() -> Vec<Route> {
    routes![
        gallery,
        gallery_head,
        image,
        image_head,
        seen,
        qr_png,
        qr_svg
    ]
}
