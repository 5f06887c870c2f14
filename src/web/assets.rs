//! Serving the embedded assets with ETags and long caching for versioned URLs.

use std::io::Cursor;
use std::path::PathBuf;

use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::response::{self, Responder};
use rocket::{Request, Response, Route, get, routes};

use crate::assets::Assets;

pub struct Versioned(bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Versioned {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(Versioned(req.query_value::<&str>("v").is_some()))
    }
}

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

pub struct IfNoneMatch(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfNoneMatch {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(IfNoneMatch(
            req.headers().get_one("If-None-Match").map(str::to_owned),
        ))
    }
}

impl IfNoneMatch {
    /// Does the client already hold this entity tag?
    pub fn matches(&self, etag: &str) -> bool {
        self.0
            .as_deref()
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    }
}

#[get("/assets/<path..>")]
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

#[get("/favicon.ico")]
fn favicon() -> Option<(ContentType, Vec<u8>)> {
    Some((ContentType::SVG, Assets::get("icon.svg")?.data.into_owned()))
}

pub fn routes() -> Vec<Route> {
    routes![asset, favicon]
}
