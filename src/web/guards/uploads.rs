//! The checks in front of uploads, as request guards: the upload password of a private
//! instance, a declared size no valid upload has, the storage quota and the disk's reserve,
//! a place among the uploads in flight (`inflight.rs`), and the per-client allowances of
//! files and new galleries (`throttle.rs`).
//!
//! They run before a byte of the body is read: a refused upload costs no ingest and stores
//! nothing, and what was stored earlier is never touched.

use std::net::IpAddr;
use std::sync::Arc;

use rocket::Data;
use rocket::data::ToByteUnit;
use rocket::request::{FromRequest, Outcome, Request};

use crate::domain::ingest::Ingested;
use crate::ids::secrets_match;
use crate::web::app::App;
use crate::web::error::WebError;
use crate::web::error_response::ApiError;
use crate::web::guards::client::ClientAddr;
use crate::web::inflight::Ticket;
use crate::web::throttle::{minutes, retry_after};

/// Wrong upload passwords allowed per client and hour (the upload page may send a few
/// files in parallel with the same wrong one).
const PASSWORD_FAILURES_PER_HOUR: u32 = 30;
/// After a refusal, read at most this much of the body so the client sees the answer
/// (browsers report an unread upload as a network error, not as the response).
const DRAIN_BYTES: u64 = 64 * 1024 * 1024;
/// The header a private instance's uploads carry.
pub const PASSWORD_HEADER: &str = "X-Upload-Password";

/// Count one file against `client`'s upload allowance.
pub fn take_file(app: &App, client: ClientAddr) -> Result<(), WebError> {
    let limit = app.config.rate_limit_uploads_per_hour();
    app.limits
        .uploads
        .take(client.0, limit, app.clock.instant())
        .map_err(|wait| WebError::RateLimited {
            message: format!(
                "too many uploads from your address: this server accepts {limit} photos an \
                 hour from each address; nothing already uploaded is lost, try again in {}",
                minutes(wait)
            ),
            retry_after: retry_after(wait),
        })
}

/// Count one new gallery against `client`'s allowance.
pub fn take_gallery(app: &App, client: ClientAddr) -> Result<(), WebError> {
    let limit = app.config.rate_limit_galleries_per_hour();
    app.limits
        .galleries
        .take(client.0, limit, app.clock.instant())
        .map_err(|wait| WebError::RateLimited {
            message: format!(
                "too many new galleries from your address: this server allows {limit} an \
                 hour from each address; your earlier galleries are not affected, try \
                 again in {}",
                minutes(wait)
            ),
            retry_after: retry_after(wait),
        })
}

/// On a private instance, the upload password must come with the request. Wrong ones
/// are limited per client, like viewing passwords.
fn check_password(app: &App, client: ClientAddr, given: Option<&str>) -> Result<(), WebError> {
    let expected = &app.config.upload_password();
    if !expected.is_set() {
        return Ok(());
    }
    let Some(given) = given.filter(|g| !g.is_empty()) else {
        return Err(WebError::UploadPasswordRequired);
    };
    let now = app.clock.instant();
    app.limits
        .password_failures
        .check(client.0, PASSWORD_FAILURES_PER_HOUR, now)
        .map_err(|wait| WebError::TooManyAttempts(retry_after(wait)))?;
    if secrets_match(given, expected.expose()) {
        return Ok(());
    }
    let _ = app
        .limits
        .password_failures
        .take(client.0, PASSWORD_FAILURES_PER_HOUR, now);
    Err(WebError::UploadPasswordWrong)
}

/// Refuse if the disk is below its reserve, or if `incoming` more bytes would not fit
/// under `max_storage_bytes`.
pub fn check_room(app: &App, incoming: u64) -> Result<(), WebError> {
    let now = app.clock.instant();
    if app.disk.low(now) {
        return Err(WebError::DiskReserve {
            free: app.disk.free(now),
            reserve: app.disk.min_free(),
        });
    }
    let limit = app.config.max_storage_bytes();
    if limit == 0 {
        return Ok(());
    }
    let used = app.galleries.storage_bytes();
    if used >= limit || used.saturating_add(incoming) > limit {
        return Err(WebError::StorageFull { used, limit });
    }
    Ok(())
}

/// Bytes an ingested image would add (at most: identical files are stored once).
pub fn stored_bytes(ingested: &Ingested) -> u64 {
    ingested.files().map(|e| e.bytes.len() as u64).sum()
}

/// Answer `error` to a request whose body was not read, reading (a bounded part of) it
/// first so the client gets to see the answer.
pub async fn refuse(data: Data<'_>, error: WebError) -> ApiError {
    let mut body = data.open(DRAIN_BYTES.bytes());
    let _ = rocket::tokio::io::copy(&mut body, &mut rocket::tokio::io::sink()).await;
    error.into()
}

/// The checks every upload or creation passes first: the app, the client, and the
/// upload password.
async fn common<'r>(req: &'r Request<'_>) -> Result<(&'r Arc<App>, ClientAddr), WebError> {
    let app = req
        .rocket()
        .state::<Arc<App>>()
        .ok_or_else(|| WebError::internal("no app state"))?;
    let client = match req.guard::<ClientAddr>().await {
        Outcome::Success(client) => client,
        _ => ClientAddr(IpAddr::from([127, 0, 0, 1])),
    };
    check_password(app, client, req.headers().get_one(PASSWORD_HEADER))?;
    Ok((app, client))
}

/// The body's declared size, if any (a length too large for a `u64` is `u64::MAX`).
fn declared_length(req: &Request<'_>) -> Option<u64> {
    let declared = req.headers().get_one("Content-Length").map(str::trim);
    declared
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .map(|v| v.parse().unwrap_or(u64::MAX))
}

/// The body's declared size, or 0.
fn content_length(req: &Request<'_>) -> u64 {
    declared_length(req).unwrap_or(0)
}

/// A place among the uploads in flight. Taken after the checks that cost nothing and
/// before the allowance, so an upload refused here uses none of it. A trusted proxy's own
/// address is not counted per client: the clients it forwards are.
fn enter(app: &App, req: &Request<'_>, client: ClientAddr) -> Result<Ticket, WebError> {
    let proxy = app
        .config
        .trusted_proxies()
        .iter()
        .any(|n| n.contains(&client.0));
    let budget = app.config.upload_buffer_bytes();
    app.in_flight
        .enter(client.0, proxy, declared_length(req), budget)
}

/// Most bytes `POST /api/uploads` may carry: one file at its limit and its part headers.
pub fn max_upload_request_bytes(app: &App) -> u64 {
    app.config.max_file_bytes().saturating_add(64 * 1024)
}

/// Refuse a body that says it is larger than any valid one, before a byte of it is read.
fn check_declared(req: &Request<'_>, limit: u64) -> Result<(), WebError> {
    if content_length(req) > limit {
        return Err(WebError::RequestTooLarge { limit });
    }
    Ok(())
}

/// Guard of `POST /api/uploads`: password, a possible size, room for the body, a place
/// among the uploads in flight (held until the answer), and one file of the client's
/// allowance.
pub struct UploadAllowed {
    _ticket: Ticket,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for UploadAllowed {
    type Error = WebError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, WebError> {
        let checked = async {
            let (app, client) = common(req).await?;
            check_declared(req, max_upload_request_bytes(app))?;
            check_room(app, content_length(req))?;
            let ticket = enter(app, req, client)?;
            take_file(app, client)?;
            Ok::<_, WebError>(ticket)
        };
        match checked.await {
            Ok(ticket) => Outcome::Success(UploadAllowed { _ticket: ticket }),
            Err(e) => Outcome::Error((e.status_and_code().0, e)),
        }
    }
}

/// Guard of `POST /api/galleries`: password, for a multipart body a possible size, room
/// for it and a place among the uploads in flight, and one gallery of the client's allowance (its files are counted one by
/// one with [`take_file`] as they arrive).
pub struct CreateAllowed {
    /// Who is creating.
    pub client: ClientAddr,
    /// A multipart body's place among the uploads in flight, held until the answer.
    pub ticket: Option<Ticket>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CreateAllowed {
    type Error = WebError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, WebError> {
        let checked = async {
            let (app, client) = common(req).await?;
            let mut ticket = None;
            if req.content_type().is_some_and(|ct| ct.is_form_data()) {
                check_declared(req, app.config.max_request_bytes())?;
                check_room(app, content_length(req))?;
                ticket = Some(enter(app, req, client)?);
            }
            take_gallery(app, client)?;
            Ok::<_, WebError>(CreateAllowed { client, ticket })
        };
        match checked.await {
            Ok(allowed) => Outcome::Success(allowed),
            Err(e) => Outcome::Error((e.status_and_code().0, e)),
        }
    }
}
