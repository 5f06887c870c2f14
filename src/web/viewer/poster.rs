//! The printable poster: for anyone, the link and its QR code, with the title and rules only
//! while a new viewer could open the gallery; for the owner, always the whole poster.

use std::sync::Arc;

use rocket::{Route, State, get, routes};

use crate::domain::access::{self, Decision, Viewer};
use crate::domain::qr;
use crate::ids::GalleryId;
use crate::model::GalleryRecord;
use crate::store::Cached;
use crate::views;
use crate::web::app::App;
use crate::web::error::WebError;
use crate::web::error_response::PageError;
use crate::web::viewer::admission::load;

/// `GET /g/<id>/poster`: the poster as anyone may see it. A gallery that a new viewer could
/// not open now (password, switched off, not yet or no longer open) is not named and its
/// rules are not told: the poster is public, so it must not say more than the gallery page
/// would. After an administrator's takedown there is no poster at all.
#[get("/<id>/poster")]
async fn public_poster(app: &State<Arc<App>>, id: &str) -> Result<maud::Markup, PageError> {
    let (id, Cached { record, opens }) = load(app.inner(), id).await?;
    if record.taken_down {
        return Err(WebError::NotFound.into());
    }
    let now = app.clock.now();
    let open = access::decide(&record.settings, opens, Viewer::default(), now);
    poster(app, &id, &record, open == Decision::Allowed)
}

/// The poster page; `named` adds the title and the rules in words.
pub fn poster(
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
    routes![public_poster]
}
