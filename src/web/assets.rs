//! Serving the embedded assets with ETags and long caching for versioned URLs.

use std::io::Cursor;
use std::path::PathBuf;

use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder};
use rocket::{Request, Response, Route, get, routes};

use crate::assets::Assets;
use crate::web::guards::caching::{IfNoneMatch, Versioned};

/// An embedded file, or `304 Not Modified` when the client has it (`body` is `None`).
pub struct Asset {
    body: Option<Vec<u8>>,
    content_type: ContentType,
    etag: String,
    cache: &'static str,
}

impl<'r> Responder<'r, 'static> for Asset {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .raw_header("ETag", self.etag)
            .raw_header("Cache-Control", self.cache);
        match self.body {
            Some(body) => response
                .header(self.content_type)
                .sized_body(body.len(), Cursor::new(body)),
            None => response.status(Status::NotModified),
        };
        Ok(response.finalize())
    }
}

#[get("/<path..>")]
fn asset(path: PathBuf, versioned: Versioned, inm: IfNoneMatch) -> Option<Asset> {
    let name = path.to_str()?;
    let file = Assets::get(name)?;
    let etag = format!(
        "\"{}\"",
        data_encoding::HEXLOWER.encode(&file.metadata.sha256_hash()[..16])
    );
    let cache = if versioned.0 {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    Some(Asset {
        body: (!inm.matches(&etag)).then(|| file.data.into_owned()),
        content_type: ContentType::from_extension(ext).unwrap_or(ContentType::Binary),
        etag,
        cache,
    })
}

pub fn routes() -> Vec<Route> {
    routes![asset]
}
