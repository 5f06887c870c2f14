//! The public side of a gallery: the page, its images and its QR codes.

use std::io::Cursor;
use std::sync::Arc;

use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder};
use rocket::{Request, Response, Route, State, get, routes};
use time::OffsetDateTime;

use super::assets::IfNoneMatch;
use super::error::{PageError, WebError};
use super::visit::Visit;
use super::{App, blocking};
use crate::domain::access::{self, Decision, Reason, Viewer};
use crate::domain::galleries::DomainError;
use crate::domain::{archive, qr};
use crate::ids::GalleryId;
use crate::model::{BlobRef, GalleryRecord, Rendition};
use crate::store::Admission;
use crate::views;
use crate::views::refusal::Refusal;

/// Images are served in 64 KiB chunks: Rocket's 4 KiB default costs a syscall per 4 KiB.
pub(super) const CHUNK: usize = 64 * 1024;
/// Viewers may keep a copy but must ask again each time (a 304 when unchanged), so a
/// gallery that is deleted (or, later, disabled) stops showing at once; shared caches
/// never store these.
const PRIVATE_REVALIDATE: &str = "private, no-cache";

/// A stored blob as an HTTP response: streamed from disk with its sniffed type and a strong
/// ETag (its SHA-256), or `304 Not Modified`.
pub struct BlobResponse {
    body: Option<Body>,
    mime: &'static str,
    etag: String,
    disposition: Option<String>,
}

/// Renditions (a few hundred KB) are read in one blocking call and sent from memory:
/// `tokio::fs::File` would make every chunk a trip through the blocking pool. Larger files
/// (originals) are streamed so memory stays bounded.
const READ_WHOLE_BELOW: u64 = 4 * 1024 * 1024;

enum Body {
    Memory(Vec<u8>),
    File(rocket::tokio::fs::File, u64),
}

impl BlobResponse {
    /// Open `blob` unless the client already has it. `download_name` makes it an attachment.
    pub async fn open(
        app: &Arc<App>,
        blob: &BlobRef,
        download_name: Option<String>,
        inm: &IfNoneMatch,
    ) -> Result<BlobResponse, WebError> {
        let etag = format!("\"{}\"", blob.digest.to_hex());
        let path = app.galleries.blob_path(&blob.digest);
        let missing =
            |e: std::io::Error| WebError::Internal(format!("blob {}: {e}", path.display()));
        let body = if inm.matches(&etag) {
            None
        } else if blob.bytes < READ_WHOLE_BELOW {
            let reading = path.clone();
            let bytes = blocking(app, move |_| std::fs::read(reading)).await?;
            Some(Body::Memory(bytes.map_err(missing)?))
        } else {
            let file = rocket::tokio::fs::File::open(&path)
                .await
                .map_err(missing)?;
            Some(Body::File(file, blob.bytes))
        };
        Ok(BlobResponse {
            body,
            mime: blob.format.mime(),
            etag,
            disposition: download_name.map(|name| attachment(&name)),
        })
    }
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266), since
/// header values must be ASCII.
pub(super) fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact = rocket::http::RawStr::new(name).percent_encode();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

impl<'r> Responder<'r, 'static> for BlobResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .raw_header("ETag", self.etag)
            .raw_header("Cache-Control", PRIVATE_REVALIDATE);
        match self.body {
            None => {
                response.status(Status::NotModified);
            }
            Some(body) => {
                response.raw_header("Content-Type", self.mime).raw_header(
                    "Content-Disposition",
                    self.disposition.unwrap_or_else(|| "inline".into()),
                );
                match body {
                    Body::Memory(bytes) => response.sized_body(bytes.len(), Cursor::new(bytes)),
                    Body::File(file, len) => response.sized_body(usize::try_from(len).ok(), file),
                };
                response.max_chunk_size(CHUNK);
            }
        }
        Ok(response.finalize())
    }
}

pub(super) async fn load(app: &Arc<App>, id: &str) -> Result<(GalleryId, GalleryRecord), WebError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    let record = blocking(app, move |app| app.galleries.get(&lookup)).await??;
    Ok((id, record))
}

pub(super) fn refusal(
    id: &GalleryId,
    reason: Reason,
    opens_at: Option<OffsetDateTime>,
    record: GalleryRecord,
) -> WebError {
    WebError::Denied(Refusal {
        reason,
        opens_at,
        timezone: record.settings.timezone,
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
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    let (record, opens) = blocking(app, move |app| {
        Ok::<_, DomainError>((app.galleries.get(&lookup)?, app.galleries.opens(&lookup)?))
    })
    .await??;
    let now = OffsetDateTime::now_utc();
    let admitted = visit
        .ticket(&id)
        .is_some_and(|t| app.galleries.tickets().verify(&id, &t, now));
    if let Decision::Denied { reason, opens_at } =
        access::decide(&record.settings, opens, Viewer { admitted }, now)
    {
        return Err(refusal(&id, reason, opens_at, record).into());
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
        return Ok(page(&record));
    }
    if visit.bot {
        return Ok(views::gallery::preview(&record.title, record.images.len()));
    }
    if visit.prefetch {
        // Failing a prefetch makes the browser fetch for real when the person navigates.
        return Err(WebError::PrefetchRefused.into());
    }
    let record = count_open(app, &id, record, visit, now).await?;
    Ok(page(&record))
}

/// Count a new viewer's open (exactly, durably) and hand out the ticket that admits them.
pub(super) async fn count_open(
    app: &Arc<App>,
    id: &GalleryId,
    record: GalleryRecord,
    visit: &Visit<'_>,
    now: OffsetDateTime,
) -> Result<GalleryRecord, WebError> {
    match app.galleries.admit(id).await? {
        Admission::Admitted { .. } => {
            let ticket = app.galleries.tickets().issue(id, now);
            visit.admit(id, ticket, app.config.public_url.starts_with("https://"));
            Ok(record)
        }
        Admission::LimitReached => Err(refusal(id, Reason::Limit, None, record)),
        Admission::Gone => Err(WebError::NotFound),
    }
}

/// `GET /g/<id>/i/<index>/<thumb|display|original>`. The index is parsed here, not by
/// Rocket: a segment that is not a number is an image that does not exist (404), where
/// Rocket's own parsing would forward with 422.
/// The gallery, for a request that holds its viewer ticket and may see it right now.
/// Every image and archive request asks again, so a gallery switched off (or expired, or
/// out of its hours) stops serving at once.
pub(super) async fn admitted(
    app: &Arc<App>,
    id: &str,
    visit: &Visit<'_>,
) -> Result<(GalleryId, GalleryRecord), WebError> {
    let (id, record) = load(app, id).await?;
    let now = OffsetDateTime::now_utc();
    let ticket = visit.ticket(&id);
    if !ticket.is_some_and(|t| app.galleries.tickets().verify(&id, &t, now)) {
        return Err(WebError::NoTicket);
    }
    if let Decision::Denied { reason, opens_at } =
        access::decide(&record.settings, 0, Viewer { admitted: true }, now)
    {
        return Err(refusal(&id, reason, opens_at, record));
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
    let index: usize = index.parse().map_err(|_| WebError::NotFound)?;
    let rendition = Rendition::from_segment(rendition).ok_or(WebError::NotFound)?;
    let (_, record) = admitted(app.inner(), id, &visit).await?;
    let image = record.images.get(index).ok_or(WebError::NotFound)?;
    let download = match rendition {
        Rendition::Original if !record.settings.allow_download => {
            return Err(WebError::NotFound.into());
        }
        Rendition::Original => Some(archive::download_name(image)),
        _ => None,
    };
    Ok(BlobResponse::open(app.inner(), image.blob(rendition), download, &inm).await?)
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
                format!("inline; filename=\"{}\"", self.filename),
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
        .map_err(|e| WebError::Internal(e.to_string()))?;
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
    let svg = qr::svg(&app.share_url(&id)).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Qr {
        content_type: ContentType::SVG,
        bytes: svg.into_bytes(),
        filename: format!("maiimg-{id}-qr.svg"),
    })
}

pub fn routes() -> Vec<Route> {
    routes![gallery, gallery_head, image, qr_png, qr_svg]
}
