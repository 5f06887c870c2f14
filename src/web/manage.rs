//! `/m/<id>`: the owner's pages (manage, statistics) and the owner's poster. The manage key
//! never travels in these URLs: the pages read it from the fragment and send it as a
//! Bearer header to the API, and the poster's form posts it in its body.

use std::sync::Arc;

use rocket::form::{Form, FromForm};
use rocket::{Route, State, get, post, routes};

use crate::ids::GalleryId;
use crate::views;
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::error_response::PageError;
use crate::web::viewer::poster::poster;

/// `GET /m/<id>`: the owner's page. The key is in the URL fragment; the page's script
/// sends it as a Bearer header, so the server never sees it in a URL.
#[get("/<id>")]
async fn manage_page(app: &State<Arc<App>>, id: &str) -> Result<maud::Markup, PageError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    blocking(app.inner(), move |app| app.galleries.get(&lookup)).await??;
    Ok(views::manage::page(id.as_str()))
}

/// `GET /m/<id>/stats`: the owner's statistics and access log (key in the fragment, as
/// for the manage page).
#[get("/<id>/stats")]
async fn stats_page(app: &State<Arc<App>>, id: &str) -> Result<maud::Markup, PageError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    blocking(app.inner(), move |app| app.galleries.get(&lookup)).await??;
    Ok(views::stats::page(id.as_str()))
}

#[derive(FromForm)]
struct OwnerForm {
    key: String,
}

/// `POST /m/<id>/poster`: the whole poster for the owner, whatever the gallery's state
/// (printing it before a scheduled release or for a password gallery is its main use). The
/// manage page's poster button posts the key in the form body, so it never appears in a
/// URL, a log line or a Referer.
#[post("/<id>/poster", data = "<form>")]
async fn owner_poster(
    app: &State<Arc<App>>,
    id: &str,
    form: Form<OwnerForm>,
) -> Result<maud::Markup, PageError> {
    let id = GalleryId::parse(id).ok_or(WebError::NotFound)?;
    let lookup = id.clone();
    let key = form.into_inner().key;
    let record = blocking(app.inner(), move |app| {
        app.galleries.authorize(&lookup, Some(&key))
    })
    .await??;
    poster(app, &id, &record, true)
}

pub fn routes() -> Vec<Route> {
    routes![manage_page, stats_page, owner_poster]
}
