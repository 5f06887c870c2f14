//! `POST /api/qr`: a QR code of text that must not travel in a URL (an owner key's link).

use rocket::http::ContentType;
use rocket::{Route, post, routes};
use serde::Deserialize;

use crate::domain::qr;
use crate::web::api::json::{Body, parsed};
use crate::web::error::WebError;
use crate::web::error_response::ApiError;

/// Longest text `POST /api/qr` encodes (a link with a key is under 100 characters).
const MAX_QR_TEXT: usize = 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QrRequest {
    text: String,
}

/// `POST /api/qr` with `{"text": …}`: an SVG QR code of the text. A POST, so that a
/// secret (an owner key's link) never appears in a URL or a server log.
#[post("/", data = "<body>")]
fn qr_svg(body: Body<'_, QrRequest>) -> Result<(ContentType, String), ApiError> {
    let text = parsed(body)?.text;
    if text.is_empty() || text.len() > MAX_QR_TEXT {
        return Err(
            WebError::BadRequest(format!("text must be 1 to {MAX_QR_TEXT} bytes long")).into(),
        );
    }
    let svg = qr::svg(&text).map_err(|e| WebError::BadRequest(e.to_string()))?;
    Ok((ContentType::SVG, svg))
}

pub fn routes() -> Vec<Route> {
    routes![qr_svg]
}
