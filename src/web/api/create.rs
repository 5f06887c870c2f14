//! The JSON API: create galleries (one multipart request, or staged browser uploads);
//! the staged uploads themselves are `uploads.rs`, and the receiving of each file `receive.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rocket::http::ContentType;
use rocket::response::status::Created;
use rocket::serde::json::Json;
use rocket::tokio::sync::Semaphore;
use rocket::{Data, Route, State, post, routes};
use serde::{Deserialize, Serialize};

use crate::domain::error::DomainError;
use crate::domain::galleries::create::{self, PendingImage};
use crate::domain::settings::SettingsInput;
use crate::ids::UploadId;
use crate::web::api::json::{ImageJson, images_json};
use crate::web::api::owner::creation_owner;
use crate::web::api::receive::{ingest_and_write, spool};
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::error_response::ApiError;
use crate::web::guards::keys::OwnerKeyHeader;
use crate::web::guards::uploads::{CreateAllowed, refuse, take_file};
use crate::web::multipart::{Part, Reader};

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

fn created_response(app: &App, created: create::Created) -> Created<Json<CreatedJson>> {
    let id = &created.id;
    let share_url = app.share_url(id);
    let body = CreatedJson {
        id: id.to_string(),
        manage_url: app.manage_url(id, created.manage_key.as_str()),
        manage_key: created.manage_key.as_str().to_owned(),
        qr_png_url: format!("{share_url}/qr.png"),
        qr_svg_url: format!("{share_url}/qr.svg"),
        images: images_json(app, id, &created.record.images),
        share_url: share_url.clone(),
    };
    Created::new(share_url).body(Json(body))
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
#[post("/", format = "multipart/form-data", data = "<data>")]
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
        Err(e) => return Err(refuse(data, e).await),
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
                if let Err(e) = take_file(&app, client) {
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
#[post("/", format = "json", data = "<body>", rank = 2)]
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
                WebError::Domain(DomainError::UploadMissing(u.chars().take(40).collect()))
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
#[post("/", rank = 3)]
fn create_other() -> ApiError {
    WebError::BadRequest(
        "send multipart/form-data with parts named “file” (or JSON with staged upload ids)".into(),
    )
    .into()
}

pub fn routes() -> Vec<Route> {
    routes![create_multipart, create_json, create_other]
}
