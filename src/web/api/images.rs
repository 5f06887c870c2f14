//! The owner's image edits, authorised like every owner action (`Authorization: Bearer`):
//! add staged uploads, remove, reorder, caption. Each answers the gallery as it now is.

use std::sync::Arc;

use rocket::serde::json::Json;
use rocket::{Route, State, delete, patch, post, put, routes};
use serde::Deserialize;

use crate::domain::error::DomainError;
use crate::domain::galleries::edit::ImageEdit;
use crate::ids::UploadId;
use crate::web::api::gallery::owner_action;
use crate::web::api::json::GalleryJson;
use crate::web::app::App;
use crate::web::error::WebError;
use crate::web::error_response::ApiError;
use crate::web::guards::keys::Bearer;

type JsonBody<'a, T> = Result<Json<T>, rocket::serde::json::Error<'a>>;

fn body<T>(body: JsonBody<'_, T>) -> Result<T, WebError> {
    body.map(Json::into_inner)
        .map_err(|e| WebError::BadRequest(format!("invalid JSON body: {e}")))
}

fn index(segment: &str) -> Result<usize, WebError> {
    segment.parse().map_err(|_| WebError::NotFound)
}

/// Staged uploads to append.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddImages {
    uploads: Vec<String>,
}

/// `POST /api/galleries/<id>/images` with `{"uploads": [upload ids]}` (files uploaded to
/// `/api/uploads` first, as the upload page does): appended in that order.
#[post("/<id>/images", format = "json", data = "<input>")]
async fn add(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
    input: JsonBody<'_, AddImages>,
) -> Result<Json<GalleryJson>, ApiError> {
    let uploads = body(input)?
        .uploads
        .iter()
        .map(|u| {
            UploadId::parse(u)
                .ok_or_else(|| DomainError::UploadMissing(u.chars().take(40).collect()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(WebError::from)?;
    owner_action(app.inner(), id, move |app, id| {
        app.galleries
            .edit_images(id, key.0.as_deref(), ImageEdit::Add, Vec::new(), &uploads)
    })
    .await
}

/// `DELETE /api/galleries/<id>/images/<index>`: its files go unless another gallery uses
/// the same bytes. The last image cannot be removed (delete the gallery instead).
#[delete("/<id>/images/<n>")]
async fn remove(
    app: &State<Arc<App>>,
    id: &str,
    n: &str,
    key: Bearer,
) -> Result<Json<GalleryJson>, ApiError> {
    let n = index(n)?;
    owner_action(app.inner(), id, move |app, id| {
        app.galleries
            .edit_images(id, key.0.as_deref(), ImageEdit::Remove(n), Vec::new(), &[])
    })
    .await
}

/// A new order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Order {
    order: Vec<usize>,
}

/// `PUT /api/galleries/<id>/order` with `{"order": [2, 0, 1]}`: the current positions in
/// their new order (each exactly once).
#[put("/<id>/order", format = "json", data = "<input>")]
async fn reorder(
    app: &State<Arc<App>>,
    id: &str,
    key: Bearer,
    input: JsonBody<'_, Order>,
) -> Result<Json<GalleryJson>, ApiError> {
    let order = body(input)?.order;
    owner_action(app.inner(), id, move |app, id| {
        app.galleries.edit_images(
            id,
            key.0.as_deref(),
            ImageEdit::Reorder(order),
            Vec::new(),
            &[],
        )
    })
    .await
}

/// A caption.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Caption {
    caption: Option<String>,
}

/// `PATCH /api/galleries/<id>/images/<index>` with `{"caption": "…"}` (`null` or `""`
/// removes it).
#[patch("/<id>/images/<n>", format = "json", data = "<input>")]
async fn caption(
    app: &State<Arc<App>>,
    id: &str,
    n: &str,
    key: Bearer,
    input: JsonBody<'_, Caption>,
) -> Result<Json<GalleryJson>, ApiError> {
    let n = index(n)?;
    let caption = body(input)?.caption.unwrap_or_default();
    owner_action(app.inner(), id, move |app, id| {
        app.galleries.edit_images(
            id,
            key.0.as_deref(),
            ImageEdit::Caption(n, caption),
            Vec::new(),
            &[],
        )
    })
    .await
}

pub fn routes() -> Vec<Route> {
    routes![add, remove, reorder, caption]
}
