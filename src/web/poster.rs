//! The printable poster: for anyone, the link and its QR code, with the title and rules only
//! while a new viewer could open the gallery; for the owner, always the whole poster.

use std::sync::Arc;

use rocket::form::{Form, FromForm};
use rocket::{Route, State, get, post, routes};

use super::error::{PageError, WebError};
use super::viewer::load;
use super::{App, blocking};
use crate::domain::access::{self, Decision, Viewer};
use crate::domain::qr;
use crate::ids::GalleryId;
use crate::model::GalleryRecord;
use crate::store::Cached;
use crate::views;

/// `GET /g/<id>/poster`: the poster as anyone may see it. A gallery that a new viewer could
/// not open now (password, switched off, not yet or no longer open) is not named and its
/// rules are not told: the poster is public, so it must not say more than the gallery page
/// would. After an administrator's takedown there is no poster at all.
#[get("/g/<id>/poster")]
async fn public_poster(app: &State<Arc<App>>, id: &str) -> Result<maud::Markup, PageError> {
    let (id, Cached { record, opens }) = load(app.inner(), id).await?;
    if record.taken_down {
        return Err(WebError::NotFound.into());
    }
    let now = app.clock.now();
    let open = access::decide(&record.settings, opens, Viewer::default(), now);
    poster(app, &id, &record, open == Decision::Allowed)
}

#[derive(FromForm)]
struct OwnerForm {
    key: String,
}

/// `POST /m/<id>/poster`: the whole poster for the owner, whatever the gallery's state
/// (printing it before a scheduled release or for a password gallery is its main use). The
/// manage page's poster button posts the key in the form body, so it never appears in a
/// URL, a log line or a Referer.
#[post("/m/<id>/poster", data = "<form>")]
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

/// The poster page; `named` adds the title and the rules in words.
fn poster(
    app: &App,
    id: &GalleryId,
    record: &GalleryRecord,
    named: bool,
) -> Result<maud::Markup, PageError> {
    let url = app.share_url(id);
    let svg = qr::svg(&url).map_err(WebError::internal)?;
    if named {
        let rules = views::poster::rules(&record.settings);
        Ok(views::poster::page(&record.title, &url, &svg, &rules))
    } else {
        Ok(views::poster::page("", &url, &svg, &[]))
    }
}

pub fn routes() -> Vec<Route> {
    routes![public_poster, owner_poster]
}
