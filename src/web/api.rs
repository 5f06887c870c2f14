//! The JSON API: create galleries (one multipart request, or staged browser uploads);
//! the staged uploads themselves are `uploads_api`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome};
use rocket::response::status::Created;
use rocket::serde::json::Json;
use rocket::tokio::sync::Semaphore;
use rocket::{Data, Request, Route, State, post, routes};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, WebError};
use super::inflight::SPOOL_THRESHOLD;
use super::limits::{self, CreateAllowed};
use super::multipart::{Part, Reader};
use super::owner_api::{OwnerKeyHeader, creation_owner};
use super::{App, blocking};
use crate::domain::galleries::{self, PendingImage};
use crate::domain::settings::SettingsInput;
use crate::ids::{GalleryId, UploadId};
use crate::model::{ImageRecord, MediaFormat};
use crate::spool::{Body, Spool};

/// `Authorization: Bearer <manage key>`, if present. Never logged.
pub struct Bearer(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Bearer {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let key = req
            .headers()
            .get_one("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(|k| k.trim().to_owned());
        Outcome::Success(Bearer(key))
    }
}

#[derive(Serialize)]
pub(super) struct ImageJson {
    index: usize,
    name: String,
    width: u32,
    height: u32,
    format: MediaFormat,
    bytes: u64,
    animated: bool,
    caption: String,
    thumb_url: String,
    display_url: String,
}

#[derive(Serialize)]
struct CreatedJson {
    id: String,
    share_url: String,
    manage_url: String,
    manage_key: String,
    qr_png_url: String,
    qr_svg_url: String,
    images: Vec<ImageJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    #[serde(default)]
    title: String,
    uploads: Vec<String>,
    #[serde(default)]
    settings: SettingsInput,
    /// File the new gallery under this owner key at once.
    #[serde(default)]
    owner_key: Option<String>,
}

pub(super) fn images_json(app: &App, id: &GalleryId, images: &[ImageRecord]) -> Vec<ImageJson> {
    images
        .iter()
        .enumerate()
        .map(|(index, image)| ImageJson {
            index,
            name: image.name.clone(),
            width: image.original.width,
            height: image.original.height,
            format: image.original.format,
            bytes: image.original.bytes,
            animated: image.animated,
            caption: image.caption.clone(),
            thumb_url: format!("{}/g/{id}/i/{index}/thumb", app.config.public_url()),
            display_url: format!("{}/g/{id}/i/{index}/display", app.config.public_url()),
        })
        .collect()
}

fn created_response(app: &App, created: galleries::Created) -> Created<Json<CreatedJson>> {
    let id = &created.id;
    let share_url = app.share_url(id);
    let body = CreatedJson {
        id: id.to_string(),
        manage_url: app.manage_url(id, created.key.as_str()),
        manage_key: created.key.as_str().to_owned(),
        qr_png_url: format!("{share_url}/qr.png"),
        qr_svg_url: format!("{share_url}/qr.svg"),
        images: images_json(app, id, &created.record.images),
        share_url: share_url.clone(),
    };
    Created::new(share_url).body(Json(body))
}

/// Ingest one file and write its blobs (pinned until the gallery commits).
pub(super) async fn ingest_and_write(
    app: Arc<App>,
    body: Body,
    name: String,
) -> Result<PendingImage, WebError> {
    // The decode's memory stays counted until its files are written and dropped.
    let (ingested, _admitted) = app.pool.ingest(body, name).await?;
    limits::check_room(&app, limits::stored_bytes(&ingested))?;
    Ok(blocking(&app, move |app| app.galleries.write_image(&ingested)).await??)
}

/// Where this app spools large files.
pub(super) fn spool(app: &App) -> Spool {
    Spool {
        threshold: SPOOL_THRESHOLD,
        dir: app.galleries.spool_dir().to_owned(),
    }
}

/// Give back whatever was written for a request that failed, then read the rest of its
/// body so the client sees the answer.
async fn abandon(app: &Arc<App>, images: Vec<PendingImage>, reader: Reader<'_>) {
    if !images.is_empty()
        && let Ok(Err(e)) = blocking(app, move |app| app.galleries.discard(images)).await
    {
        app.log_error(&format!(
            "could not discard the blobs of a failed upload: {e}"
        ));
    }
    reader.drain().await;
}

/// `POST /api/galleries` with `multipart/form-data`: 1–25 `file` parts and an optional
/// `title`. Each file is ingested as soon as its last byte arrives (overlapping the rest of
/// the upload); if any file is refused, nothing is stored.
#[post("/api/galleries", format = "multipart/form-data", data = "<data>")]
async fn create_multipart(
    app: &State<Arc<App>>,
    content_type: Option<&ContentType>,
    owner_header: OwnerKeyHeader,
    gate: Result<CreateAllowed, WebError>,
    data: Data<'_>,
) -> Result<Created<Json<CreatedJson>>, ApiError> {
    // The ticket keeps this request's place among the uploads in flight until it answers.
    let (client, _ticket) = match gate {
        Ok(gate) => (gate.client, gate.ticket),
        Err(e) => return Err(limits::refuse(data, e).await),
    };
    let app = Arc::clone(app.inner());
    let config = &app.config;
    let mut reader = Reader::new(
        content_type,
        data,
        config.max_request_bytes(),
        config.max_images(),
        config.max_file_bytes(),
        "gallery",
        spool(&app),
    )?;
    // Files received but not yet ingested wait here (spooled when large); bounding them
    // bounds what one request keeps in `tmp/` and in memory.
    let queue = Arc::new(Semaphore::new(
        std::thread::available_parallelism().map_or(2, |n| n.get()) + 1,
    ));
    let refused = Arc::new(AtomicBool::new(false));
    let mut title = String::new();
    let mut owner_field = None;
    let mut settings = SettingsInput::default();
    let mut tasks = Vec::new();
    let mut failure = None;
    loop {
        match reader.next().await {
            Ok(None) => break,
            Ok(Some(Part::Text { name, value })) => {
                if name == "title" {
                    title = value;
                } else if name == "owner_key" {
                    owner_field = Some(value);
                } else if !settings.set(&name, value) {
                    failure = Some(WebError::BadRequest(format!(
                        "unknown field “{name}”: send title, file and the access settings"
                    )));
                    break;
                }
            }
            Ok(Some(Part::File { name, body })) => {
                if let Err(e) = app.limits.take_file(&app, client) {
                    failure = Some(e);
                    break;
                }
                let Ok(slot) = Arc::clone(&queue).acquire_owned().await else {
                    break;
                };
                // One refused file decides the request: stop reading and ingesting.
                if refused.load(Ordering::Relaxed) {
                    break;
                }
                let app = Arc::clone(&app);
                let refused = Arc::clone(&refused);
                tasks.push(rocket::tokio::spawn(async move {
                    let result = ingest_and_write(app, body, name).await;
                    if result.is_err() {
                        refused.store(true, Ordering::Relaxed);
                    }
                    drop(slot);
                    result
                }));
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }

    let mut images = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(Ok(image)) => images.push(image),
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(WebError::internal(e))),
        }
    }
    if failure.is_none() && images.is_empty() {
        failure = Some(WebError::NoFiles {
            max: config.max_images(),
        });
    }
    let owner = match creation_owner(owner_field, owner_header) {
        Ok(owner) => owner,
        Err(e) => {
            failure = failure.or(Some(e));
            None
        }
    };
    if let Some(e) = failure {
        abandon(&app, images, reader).await;
        return Err(e.into());
    }
    let created = blocking(&app, move |app| {
        let now = app.clock.now();
        app.galleries
            .create_filed(owner, &title, &settings, images, &[], now)
    })
    .await??;
    Ok(created_response(&app, created))
}

/// `POST /api/galleries` with JSON `{"title", "uploads": [upload ids]}`: the browser's
/// second step, after uploading each file to `/api/uploads`.
#[post("/api/galleries", format = "json", data = "<body>", rank = 2)]
async fn create_json(
    app: &State<Arc<App>>,
    owner_header: OwnerKeyHeader,
    gate: Result<CreateAllowed, WebError>,
    body: Result<Json<CreateRequest>, rocket::serde::json::Error<'_>>,
) -> Result<Created<Json<CreatedJson>>, ApiError> {
    gate?;
    let app = Arc::clone(app.inner());
    let body = body.map_err(|e| WebError::BadRequest(format!("invalid JSON body: {e}")))?;
    let CreateRequest {
        title,
        uploads,
        settings,
        owner_key,
    } = body.into_inner();
    let owner = creation_owner(owner_key, owner_header)?;
    let uploads = uploads
        .iter()
        .map(|u| {
            UploadId::parse(u).ok_or_else(|| {
                WebError::Domain(galleries::DomainError::UploadMissing(
                    u.chars().take(40).collect(),
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = blocking(&app, move |app| {
        app.galleries.create_filed(
            owner,
            &title,
            &settings,
            Vec::new(),
            &uploads,
            app.clock.now(),
        )
    })
    .await??;
    Ok(created_response(&app, created))
}

/// Any other body sent to `POST /api/galleries`.
#[post("/api/galleries", rank = 3)]
fn create_other() -> ApiError {
    WebError::BadRequest(
        "send multipart/form-data with parts named “file” (or JSON with staged upload ids)".into(),
    )
    .into()
}

pub fn routes() -> Vec<Route> {
    routes![create_multipart, create_json, create_other]
}
