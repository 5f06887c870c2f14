//! The owner's API, authorised by the manage key as `Authorization: Bearer <key>`:
//! read a gallery with its settings and state, change settings, disable, enable, delete.

use std::sync::Arc;

use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{Route, State, delete, get, patch, post, routes};

use crate::domain::error::DomainError;
use crate::domain::settings::SettingsInput;
use crate::ids::GalleryId;
use crate::model::GalleryRecord;
use crate::web::api::json::{GalleryJson, gallery_json};
use crate::web::app::{App, blocking};
use crate::web::blob_response::BlobResponse;
use crate::web::error::WebError;
use crate::web::error_response::ApiError;
use crate::web::guards::caching::IfNoneMatch;
use crate::web::guards::keys::Bearer;

/// Run an owner action and answer with the gallery as it now is.
pub async fn owner_action<F>(
    app: &Arc<App>,
    id: &str,
    action: F,
) -> Result<Json<GalleryJson>, ApiError>
where
    F: FnOnce(&App, &GalleryId) -> Result<GalleryRecord, DomainError> + Send + 'static,
{
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    let (record, opens) = blocking(app, move |app| {
        let record = action(app, &lookup)?;
        Ok::<_, DomainError>((record, app.galleries.opens(&lookup)?))
    })
    .await??;
    Ok(Json(gallery_json(app, &id, &record, opens)))
}

/// `GET /api/galleries/<id>`: settings, state and images.
#[get("/<id>")]
async fn gallery(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
) -> Result<Json<GalleryJson>, ApiError> {
    owner_action(app.inner(), id, move |app, id| {
        app.galleries.authorize(id, key.0.as_deref())
    })
    .await
}

/// `PATCH /api/galleries/<id>` with JSON: `title` and/or access settings; absent fields
/// stay, `null` clears.
#[patch("/<id>", format = "json", data = "<body>")]
async fn update(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
    body: Result<Json<serde_json::Map<String, serde_json::Value>>, rocket::serde::json::Error<'_>>,
) -> Result<Json<GalleryJson>, ApiError> {
    let mut fields = body
        .map_err(|e| WebError::BadRequest(format!("invalid JSON body: {e}")))?
        .into_inner();
    let title = match fields.remove("title") {
        None => None,
        Some(serde_json::Value::String(title)) => Some(title),
        Some(serde_json::Value::Null) => Some(String::new()),
        Some(_) => return Err(WebError::BadRequest("`title` must be a string".into()).into()),
    };
    let settings = (!fields.is_empty())
        .then(|| serde_json::from_value::<SettingsInput>(serde_json::Value::Object(fields)))
        .transpose()
        .map_err(|e| WebError::BadRequest(format!("invalid JSON body: {e}")))?;
    owner_action(app.inner(), id, move |app, id| {
        let key = key.0.as_deref();
        let mut record = None;
        if let Some(settings) = &settings {
            record = Some(
                app.galleries
                    .update_settings(id, key, settings, app.clock.now())?,
            );
        }
        if let Some(title) = &title {
            record = Some(app.galleries.rename(id, key, title)?);
        }
        match record {
            Some(record) => Ok(record),
            None => app.galleries.authorize(id, key),
        }
    })
    .await
}

async fn switch(
    app: &Arc<App>,
    id: &str,
    key: Bearer,
    enabled: bool,
) -> Result<Json<GalleryJson>, ApiError> {
    owner_action(app, id, move |app, id| {
        app.galleries.set_enabled(id, key.0.as_deref(), enabled)
    })
    .await
}

/// `POST /api/galleries/<id>/disable`: the link stops working at once.
#[post("/<id>/disable")]
async fn disable(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
) -> Result<Json<GalleryJson>, ApiError> {
    switch(app.inner(), id, key, false).await
}

/// `POST /api/galleries/<id>/enable`: the link works again.
#[post("/<id>/enable")]
async fn enable(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
) -> Result<Json<GalleryJson>, ApiError> {
    switch(app.inner(), id, key, true).await
}

/// `GET /api/galleries/<id>/i/<index>/thumb`: the owner's view of a thumbnail, whatever
/// the gallery's state (viewers' image URLs need a ticket).
#[get("/<id>/i/<index>/thumb")]
async fn thumb(
    app: &State<Arc<App>>,
    id: &str,
    index: usize,
    key: Bearer,
    inm: IfNoneMatch,
) -> Result<BlobResponse, ApiError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let record = blocking(app.inner(), move |app| {
        app.galleries.authorize(&id, key.0.as_deref())
    })
    .await??;
    let image = record.images.get(index).ok_or(WebError::NotFound)?;
    Ok(BlobResponse::open(app.inner(), &image.thumb, None, &inm).await?)
}

/// `DELETE /api/galleries/<id>`: gone for good, blobs collected.
#[delete("/<id>")]
async fn delete_gallery(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
) -> Result<NoContent, ApiError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    blocking(app.inner(), move |app| {
        app.galleries.delete(&id, key.0.as_deref())
    })
    .await??;
    Ok(NoContent)
}

pub fn routes() -> Vec<Route> {
    routes![gallery, update, disable, enable, thumb, delete_gallery]
}
