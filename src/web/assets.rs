//! Serving the embedded assets with ETags and long caching for versioned URLs.

use std::path::PathBuf;

use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, Responder, Route, get, routes};
use crate::assets::Assets;

pub struct Versioned(bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Versioned {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(Versioned(req.query_value::<&str>("v").is_some()))
    }
}

#[derive(Responder)]
pub enum AssetResponse {
    File(Vec<u8>, ContentType, Header<'static>, Header<'static>),
    NotModified(Status, Header<'static>),
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
fn asset(path: PathBuf, versioned: Versioned, inm: IfNoneMatch) -> Option<AssetResponse> {
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
    if inm.matches(&etag) {
        return Some(AssetResponse::NotModified(
            Status::NotModified,
            Header::new("ETag", etag),
        ));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let content_type = ContentType::from_extension(ext).unwrap_or(ContentType::Binary);
    Some(AssetResponse::File(
        file.data.into_owned(),
        content_type,
        Header::new("ETag", etag),
        Header::new("Cache-Control", cache),
    ))
}

#[get("/favicon.ico")]
fn favicon() -> Option<(ContentType, Vec<u8>)> {
    Some((ContentType::SVG, Assets::get("icon.svg")?.data.into_owned()))
}

pub fn routes() -> Vec<Route> {
    routes![asset, favicon]
}
