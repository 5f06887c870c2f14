//! The upload page, the manage page and the health check.

use std::sync::Arc;

use rocket::http::Status;
use rocket::{Route, State, get, routes};

use super::error::{PageError, WebError};
use super::{App, blocking};
use crate::ids::GalleryId;
use crate::views;

/// `GET /`: drop photos, get a link.
#[get("/")]
fn upload_page(app: &State<Arc<App>>) -> maud::Markup {
    let c = &app.config;
    views::upload::page(&views::upload::UploadView {
        max_images: c.max_images,
        max_file_bytes: c.max_file_bytes,
        max_pixels: c.max_pixels,
    })
}

/// `GET /m/<id>`: the owner's page. The key is in the URL fragment; the page's script
/// sends it as a Bearer header, so the server never sees it in a URL.
#[get("/m/<id>")]
async fn manage_page(app: &State<Arc<App>>, id: &str) -> Result<maud::Markup, PageError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    blocking(app.inner(), move |app| app.galleries.get(&lookup)).await??;
    Ok(views::manage::page(id.as_str()))
}

/// `GET /healthz`: 200 when the database answers.
#[get("/healthz")]
async fn healthz(app: &State<Arc<App>>) -> (Status, &'static str) {
    let probe = GalleryId::generate();
    match blocking(app.inner(), move |app| app.galleries.get(&probe)).await {
        Ok(Ok(_) | Err(crate::domain::galleries::DomainError::NotFound)) => (Status::Ok, "ok\n"),
        _ => (Status::ServiceUnavailable, "database unavailable\n"),
    }
}

pub fn routes() -> Vec<Route> {
    routes![upload_page, manage_page, healthz]
}
