//! The one place where failures become HTTP responses: JSON for the API, pages for people.

use std::sync::Arc;

use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::json;
use rocket::{Request, Response};

use crate::domain::access::Reason;
use crate::domain::error::DomainError;
use crate::domain::ingest::{IngestError, human_bytes};
use crate::store::{StoreError, is_full};
use crate::views;
use crate::views::refusal::Refusal;
use crate::web::error_log::ErrorLog;

/// Seconds a refused upload (too many at once, buffers taken) is told to wait: about the
/// time a few uploads take to finish.
pub const UPLOAD_RETRY_AFTER: u64 = 5;

/// Every way a request can fail, with its status and stable machine-readable code.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A gallery/domain rule or storage failure.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A file was refused.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// More `file` parts than allowed.
    #[error("too many files: the limit is {max} per {what}")]
    TooManyFiles {
        /// The limit.
        max: usize,
        /// "gallery" or "upload request".
        what: &'static str,
    },
    /// No `file` part.
    #[error("no file was sent: add 1 to {max} parts named “file”")]
    NoFiles {
        /// The limit.
        max: usize,
    },
    /// The request body is larger than any valid upload could be.
    #[error("the request is larger than the limit of {}", human_bytes(*.limit))]
    RequestTooLarge {
        /// The limit.
        limit: u64,
    },
    /// Malformed request (not multipart, bad JSON…).
    #[error("{0}")]
    BadRequest(String),
    /// No such page, gallery or image.
    #[error("not found")]
    NotFound,
    /// An image requested without the ticket that opening the gallery gives.
    #[error("images are shown only inside their gallery: open the gallery link")]
    NoTicket,
    /// A speculative prefetch of a gallery page, which must not count as an open.
    #[error("prefetching a gallery is not supported")]
    PrefetchRefused,
    /// Too many wrong passwords from this client; try again after this many seconds.
    #[error("too many wrong passwords; try again in {0} seconds")]
    TooManyAttempts(u64),
    /// Every password verifier stayed busy for a while; try again after this many seconds.
    /// Nothing was counted against the client.
    #[error("the server is busy checking passwords; try again in {0} seconds")]
    Busy(u64),
    /// The gallery exists but may not be shown now.
    #[error("this gallery is not available ({})", .0.reason.slug())]
    Denied(Refusal),
    /// Something broke on our side; the error behind it goes to the log, not the client.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
    /// Over a per-client rate limit (uploads or new galleries); try again after this many
    /// seconds. The message says which limit and when.
    #[error("{message}")]
    RateLimited {
        /// What the client reads.
        message: String,
        /// Seconds until the next request is allowed.
        retry_after: u64,
    },
    /// This client already has as many uploads in flight as it may.
    #[error(
        "{max} uploads from your address are still being received; this one will be sent \
         when one of them is done"
    )]
    TooManyParallelUploads {
        /// Uploads one client may send at once.
        max: usize,
    },
    /// The memory for receiving uploads is taken by other uploads.
    #[error("the server is receiving many uploads right now; try again in a few seconds")]
    UploadsBusy,
    /// The instance is private and no upload password came with the request.
    #[error(
        "this server is private: uploading needs its upload password (send it in the X-Upload-Password header)"
    )]
    UploadPasswordRequired,
    /// The upload password sent is wrong.
    #[error("the upload password is not right")]
    UploadPasswordWrong,
    /// The storage quota is used up; viewing still works.
    #[error(
        "this server's storage is full: {} of its {} are in use and this upload does not fit, so nothing was stored (galleries already shared still work)",
        human_bytes(*.used), human_bytes(*.limit)
    )]
    StorageFull {
        /// Bytes stored.
        used: u64,
        /// The quota (`max_storage_bytes`).
        limit: u64,
    },
    /// The data directory's filesystem is below `min_free_disk_bytes`; viewing still works.
    #[error(
        "this server's disk is almost full: {} free, and it keeps {} in reserve, so nothing was stored (galleries already shared still work)",
        human_bytes(*.free), human_bytes(*.reserve)
    )]
    DiskReserve {
        /// Free bytes on the filesystem.
        free: u64,
        /// The reserve (`min_free_disk_bytes`).
        reserve: u64,
    },
    /// An admin form without the session's CSRF token: nothing was changed.
    #[error(
        "this form is out of date or did not come from the admin page, so nothing was changed; reload the admin page and try again"
    )]
    Csrf,
    /// An admin action without a signed-in admin session.
    #[error("sign in to the admin page first")]
    AdminSignIn,
    /// A wrong admin token at sign-in.
    #[error("that admin token is not right")]
    AdminTokenWrong,
}

/// What an internal error came from, kept whole for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

impl WebError {
    /// An internal error caused by `cause` (an error, or a message when there is none).
    pub fn internal(cause: impl Into<Cause>) -> WebError {
        WebError::Internal(cause.into())
    }

    /// Status and stable code.
    pub fn status_and_code(&self) -> (Status, &'static str) {
        match self {
            WebError::Domain(e) => match e {
                DomainError::NoImages => (Status::BadRequest, "no_files"),
                DomainError::TooManyImages { .. } => (Status::BadRequest, "too_many_files"),
                DomainError::NotFound => (Status::NotFound, "not_found"),
                DomainError::UploadMissing(_) => (Status::BadRequest, "upload_missing"),
                DomainError::Unauthorized => (Status::Unauthorized, "unauthorized"),
                DomainError::Setting(_) => (Status::BadRequest, "invalid_setting"),
                DomainError::BadEdit(_) => (Status::BadRequest, "invalid_edit"),
                DomainError::TakenDown => (Status::Forbidden, "taken_down"),
                DomainError::Store(StoreError::Full) => {
                    (Status::InsufficientStorage, "storage_full")
                }
                DomainError::Blobs(io) if is_full(io) => {
                    (Status::InsufficientStorage, "storage_full")
                }
                DomainError::Store(StoreError::Unavailable) => {
                    (Status::ServiceUnavailable, "storage_unavailable")
                }
                // A missing or unreadable file is our fault; any other error is the disk's
                // (EIO, a read-only remount after errors): a fault to retry, not a bug.
                DomainError::Blobs(io) if !is_ours(io) => {
                    (Status::ServiceUnavailable, "storage_unavailable")
                }
                DomainError::Store(_) | DomainError::Blobs(_) | DomainError::Mismatch(_) => {
                    (Status::InternalServerError, "internal")
                }
            },
            WebError::Ingest(e) => match e {
                IngestError::Empty { .. } => (Status::UnprocessableEntity, "empty_file"),
                IngestError::TooLarge { .. } => (Status::PayloadTooLarge, "file_too_large"),
                IngestError::Unsupported { .. } => {
                    (Status::UnsupportedMediaType, "unsupported_format")
                }
                IngestError::TooManyPixels { .. } => (Status::PayloadTooLarge, "image_too_large"),
                IngestError::Corrupt { .. } => (Status::UnprocessableEntity, "corrupt_image"),
                IngestError::Unreadable { .. } => (Status::InternalServerError, "internal"),
            },
            WebError::TooManyFiles { .. } => (Status::BadRequest, "too_many_files"),
            WebError::NoFiles { .. } => (Status::BadRequest, "no_files"),
            WebError::RequestTooLarge { .. } => (Status::PayloadTooLarge, "request_too_large"),
            WebError::BadRequest(_) => (Status::BadRequest, "bad_request"),
            WebError::NotFound => (Status::NotFound, "not_found"),
            WebError::NoTicket => (Status::Forbidden, "no_ticket"),
            WebError::TooManyAttempts(_) => (Status::TooManyRequests, "too_many_attempts"),
            WebError::PrefetchRefused => (Status::ServiceUnavailable, "prefetch_refused"),
            WebError::Busy(_) => (Status::ServiceUnavailable, "busy"),
            WebError::Denied(refusal) => (refusal_status(refusal.reason), refusal.reason.slug()),
            WebError::Internal(_) => (Status::InternalServerError, "internal"),
            WebError::RateLimited { .. } => (Status::TooManyRequests, "rate_limited"),
            WebError::TooManyParallelUploads { .. } => {
                (Status::TooManyRequests, "too_many_parallel_uploads")
            }
            WebError::UploadsBusy => (Status::ServiceUnavailable, "server_busy"),
            WebError::UploadPasswordRequired => (Status::Unauthorized, "upload_password_required"),
            WebError::UploadPasswordWrong => (Status::Unauthorized, "upload_password_wrong"),
            WebError::StorageFull { .. } | WebError::DiskReserve { .. } => {
                (Status::InsufficientStorage, "storage_full")
            }
            WebError::Csrf => (Status::Forbidden, "csrf"),
            WebError::AdminSignIn => (Status::Unauthorized, "admin_sign_in"),
            WebError::AdminTokenWrong => (Status::Unauthorized, "admin_token_wrong"),
        }
    }

    /// The message shown to the client. Internal details are logged, not shown.
    pub fn public_message(&self) -> String {
        match self.status_and_code() {
            (status, _) if status == Status::InternalServerError => {
                "Something went wrong on the server; nothing was stored. Please try again.".into()
            }
            (_, "storage_full") if matches!(self, WebError::Domain(_)) => {
                "the server's disk is full: nothing new can be stored until space is freed \
                 (nothing was stored now); galleries already shared can still be viewed"
                    .into()
            }
            (_, "storage_unavailable")
                if matches!(self, WebError::Domain(DomainError::Blobs(_))) =>
            {
                "the server could not write to its disk; nothing was stored, please try again \
                 in a few seconds (the server's log says what failed)"
                    .into()
            }
            (_, "storage_unavailable") => {
                "the server's storage failed for a moment and is being recovered; nothing was \
                 stored, please try again in a few seconds"
                    .into()
            }
            _ => self.to_string(),
        }
    }

    /// Whether the disk or the database file is what failed (said in words on a page).
    fn is_storage_fault(&self) -> bool {
        matches!(
            self.status_and_code().1,
            "storage_full" | "storage_unavailable"
        )
    }

    /// Seconds a client should wait before trying again, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            WebError::TooManyAttempts(seconds) | WebError::Busy(seconds) => Some(*seconds),
            WebError::RateLimited { retry_after, .. } => Some(*retry_after),
            WebError::TooManyParallelUploads { .. } | WebError::UploadsBusy => {
                Some(UPLOAD_RETRY_AFTER)
            }
            _ if self.status_and_code().1 == "storage_unavailable" => Some(5),
            _ if self.status_and_code().1 == "storage_full" => Some(60),
            _ => None,
        }
    }

    fn log_if_internal(&self, req: &Request<'_>) {
        let line = match self {
            // The database's faults are logged where its handle closes; the files' here.
            WebError::Domain(DomainError::Blobs(io)) => {
                format!("an image file could not be written or read: {io}")
            }
            _ if self.status_and_code().0 == Status::InternalServerError => {
                // The whole chain: what failed, and what that failure came from.
                let mut line = format!("internal error: {self}");
                let mut source = std::error::Error::source(self);
                if matches!(self, WebError::Internal(_)) {
                    source = source.and_then(std::error::Error::source);
                }
                while let Some(cause) = source {
                    line.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                line
            }
            _ => return,
        };
        match req.rocket().state::<Arc<ErrorLog>>() {
            Some(log) => log.write(&line),
            None => rocket::error!("{line}"),
        }
    }
}

/// Whether a file error says the blob tree is wrong (a file missing or not what it should
/// be), rather than that the disk failed.
fn is_ours(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidData
    )
}

/// 410 Gone when the link is over for good, 403 when it is closed for now.
pub fn refusal_status(reason: Reason) -> Status {
    match reason {
        Reason::Expired | Reason::Limit => Status::Gone,
        Reason::Disabled | Reason::Scheduled | Reason::Ended | Reason::Hours => Status::Forbidden,
        Reason::Password => Status::Unauthorized,
    }
}

/// The JSON error body: `{"error":{"code":"…","message":"…"}}`.
pub fn json_body(code: &str, message: &str) -> String {
    json!({ "error": { "code": code, "message": message } }).to_string()
}

/// Errors of `/api/…` routes: JSON with the right status.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        self.0.log_if_internal(req);
        let (status, code) = self.0.status_and_code();
        let body = json_body(code, &self.0.public_message());
        let mut response = Response::build();
        response
            .status(status)
            .header(ContentType::JSON)
            .sized_body(body.len(), std::io::Cursor::new(body));
        let upload_password = matches!(
            self.0,
            WebError::UploadPasswordRequired | WebError::UploadPasswordWrong
        );
        if status == Status::Unauthorized && !upload_password {
            response.raw_header("WWW-Authenticate", "Bearer");
        }
        if let Some(seconds) = self.0.retry_after() {
            response.raw_header("Retry-After", seconds.to_string());
        }
        Ok(response.finalize())
    }
}

/// Errors of pages: an HTML page saying what happened in plain words.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl<'r> Responder<'r, 'static> for PageError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        self.0.log_if_internal(req);
        if let WebError::Denied(refusal) = &self.0 {
            return (
                refusal_status(refusal.reason),
                views::refusal::page(refusal),
            )
                .respond_to(req);
        }
        let (status, _) = self.0.status_and_code();
        let page = match &self.0 {
            WebError::AdminTokenWrong => {
                (status, views::admin::login(Some(&self.0.public_message())))
            }
            e if e.is_storage_fault() => (
                status,
                views::errors::page(status.code, "Not right now", &sentence(&self.0)),
            ),
            WebError::RateLimited { .. }
            | WebError::TooManyParallelUploads { .. }
            | WebError::UploadsBusy
            | WebError::Busy(_)
            | WebError::StorageFull { .. }
            | WebError::DiskReserve { .. }
            | WebError::Csrf
            | WebError::AdminSignIn
            | WebError::UploadPasswordRequired
            | WebError::UploadPasswordWrong => (
                status,
                views::errors::page(status.code, "That did not work", &sentence(&self.0)),
            ),
            _ => error_page(status),
        };
        let mut response = page.respond_to(req)?;
        if let Some(seconds) = self.0.retry_after() {
            response.set_raw_header("Retry-After", seconds.to_string());
        }
        Ok(response)
    }
}

/// A message as a sentence for a page: capitalised, with a full stop.
fn sentence(e: &WebError) -> String {
    let message = e.public_message();
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// The page for a status, in words a visitor understands.
pub fn error_page(status: Status) -> (Status, maud::Markup) {
    let (heading, text) = match status.code {
        404 => (
            "Nothing here",
            "This link does not lead to a gallery. It may have been mistyped, or the gallery was deleted.",
        ),
        403 => (
            "Not here",
            "Photos are shown only inside their gallery. Open the gallery link you were given.",
        ),
        401 => (
            "Manage link needed",
            "Only the gallery's owner can do this. Open the manage link you were given and try again from there.",
        ),
        429 => (
            "Too many attempts",
            "Too many wrong passwords were tried from here. Wait a few minutes, then try again.",
        ),
        507 => (
            "Storage full",
            "This server has no room for new photos right now. Galleries already shared still work.",
        ),
        413 => (
            "Too large",
            "What was sent is larger than this server accepts.",
        ),
        400 | 422 => (
            "That did not work",
            "The request could not be understood. Please go back and try again.",
        ),
        _ => (
            "Something went wrong",
            "The server could not answer this request. Please try again in a moment.",
        ),
    };
    (status, views::errors::page(status.code, heading, text))
}

#[cfg(test)]
mod tests;
