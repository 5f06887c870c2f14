//! Staged browser uploads: `POST /api/uploads` takes one file (kept for a day until a
//! gallery uses it) and its thumbnail is served by upload id.

use std::sync::Arc;

use rocket::http::ContentType;
use rocket::response::status::Created;
use rocket::serde::json::Json;
use rocket::{Data, Route, State, get, post, routes};
use serde::Serialize;

use crate::ids::UploadId;
use crate::model::MediaFormat;
use crate::web::api::receive::{ingest_and_write, spool};
use crate::web::app::{App, blocking};
use crate::web::blob_response::BlobResponse;
use crate::web::error::WebError;
use crate::web::error_response::ApiError;
use crate::web::guards::caching::IfNoneMatch;
use crate::web::guards::uploads::{UploadAllowed, max_upload_request_bytes, refuse};
use crate::web::multipart::{Part, Reader};

#[derive(Serialize)]
struct UploadJson {
    upload_id: String,
    name: String,
    width: u32,
    height: u32,
    format: MediaFormat,
    bytes: u64,
    animated: bool,
    thumb_url: String,
}

/// `POST /api/uploads`: one file, ingested and kept for a day until a gallery uses it.
#[post("/", data = "<data>")]
async fn upload(
    app: &State<Arc<App>>,
    content_type: Option<&ContentType>,
    gate: Result<UploadAllowed, WebError>,
    data: Data<'_>,
) -> Result<Created<Json<UploadJson>>, ApiError> {
    // The ticket keeps this request's place among the uploads in flight until it answers.
    let _ticket = match gate {
        Ok(ticket) => ticket,
        Err(e) => return Err(refuse(data, e).await),
    };
    let app = Arc::clone(app.inner());
    let config = &app.config;
    let mut reader = Reader::new(
        content_type,
        data,
        max_upload_request_bytes(&app),
        1,
        config.max_file_bytes(),
        "upload request",
        spool(&app),
    )?;
    let mut file = None;
    let result = loop {
        match reader.next().await {
            Ok(None) => break Ok(()),
            Ok(Some(Part::File { name, body })) => file = Some((name, body)),
            Ok(Some(Part::Text { .. })) => {}
            Err(e) => break Err(e),
        }
    };
    let image = match (result, file) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(WebError::NoFiles { max: 1 }),
        (Ok(()), Some((name, body))) => ingest_and_write(Arc::clone(&app), body, name).await,
    };
    let image = match image {
        Ok(image) => image,
        Err(e) => {
            reader.drain().await;
            return Err(e.into());
        }
    };
    let record = image.record.clone();
    let id = blocking(&app, move |app| app.galleries.stage(image, app.clock.now())).await??;
    let body = UploadJson {
        thumb_url: format!("/api/uploads/{id}/thumb"),
        upload_id: id.to_string(),
        name: record.name,
        width: record.original.width,
        height: record.original.height,
        format: record.original.format,
        bytes: record.original.bytes,
        animated: record.animated,
    };
    Ok(Created::new(format!("/api/uploads/{id}")).body(Json(body)))
}

/// The thumbnail of a staged upload (its id is the capability).
#[get("/<id>/thumb")]
async fn upload_thumb(
    app: &State<Arc<App>>,
    id: &str,
    inm: IfNoneMatch,
) -> Result<BlobResponse, ApiError> {
    let id = UploadId::parse(id).ok_or(WebError::NotFound)?;
    let app = Arc::clone(app.inner());
    let staged = blocking(&app, move |app| app.galleries.upload(&id)).await??;
    Ok(BlobResponse::open(&app, &staged.image.thumb, None, &inm).await?)
}

pub fn routes() -> Vec<Route> {
    routes![upload, upload_thumb]
}
