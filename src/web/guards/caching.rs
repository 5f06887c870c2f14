//! Request headers about caching: `If-None-Match`, and whether an asset URL is versioned.

use rocket::Request;
use rocket::request::{FromRequest, Outcome};

/// Whether the asset URL carries a `?v=` version (then it may be cached for a year).
pub struct Versioned(pub bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Versioned {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(Versioned(req.query_value::<&str>("v").is_some()))
    }
}

/// The client's `If-None-Match`, for a `304 Not Modified`.
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
