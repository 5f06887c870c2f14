//! The keys a request carries in headers, never in its URL: the manage key or owner key as
//! `Authorization: Bearer`, and the owner key a new gallery is filed under
//! (`X-Owner-Key`). Neither guard fails: a missing key is `None`, and the domain decides
//! what a wrong one means. Neither is ever logged.

use rocket::Request;
use rocket::request::{FromRequest, Outcome};

/// `Authorization: Bearer <manage key>`, if present. Never logged.
pub struct Bearer(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Bearer {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let key = req
            .headers()
            .get_one("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(|k| k.trim().to_owned());
        Outcome::Success(Bearer(key))
    }
}

/// `X-Owner-Key: <owner key>`, if present: files a new gallery at once. Never logged.
pub struct OwnerKeyHeader(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for OwnerKeyHeader {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let key = req.headers().get_one("X-Owner-Key").map(|k| k.trim());
        Outcome::Success(OwnerKeyHeader(
            key.filter(|k| !k.is_empty()).map(str::to_owned),
        ))
    }
}
