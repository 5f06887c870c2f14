//! The share link's QR code, as PNG and SVG, named sensibly when saved.

use std::sync::Arc;

use rocket::http::{ContentType, Header};
use rocket::response::{self, Responder};
use rocket::{Request, Response, Route, State, get, routes};

use crate::domain::qr;
use crate::web::app::{App, blocking};
use crate::web::blob_response::disposition;
use crate::web::error::WebError;
use crate::web::error_response::PageError;
use crate::web::viewer::admission::load;

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
                disposition("inline", &self.filename),
            ))
            .raw_header("Cache-Control", "private, max-age=3600")
            .ok()
    }
}

/// `GET /g/<id>/qr.png`.
#[get("/<id>/qr.png")]
async fn qr_png(app: &State<Arc<App>>, id: &str) -> Result<Qr, PageError> {
    let (id, _) = load(app.inner(), id).await?;
    let url = app.share_url(&id);
    let bytes = blocking(app.inner(), move |_| qr::png(&url))
        .await?
        .map_err(WebError::internal)?;
    Ok(Qr {
        content_type: ContentType::PNG,
        bytes,
        filename: format!("maiimg-{id}-qr.png"),
    })
}

/// `GET /g/<id>/qr.svg`.
#[get("/<id>/qr.svg")]
async fn qr_svg(app: &State<Arc<App>>, id: &str) -> Result<Qr, PageError> {
    let (id, _) = load(app.inner(), id).await?;
    let svg = qr::svg(&app.share_url(&id)).map_err(WebError::internal)?;
    Ok(Qr {
        content_type: ContentType::SVG,
        bytes: svg.into_bytes(),
        filename: format!("maiimg-{id}-qr.svg"),
    })
}

pub fn routes() -> Vec<Route> {
    routes![qr_png, qr_svg]
}
