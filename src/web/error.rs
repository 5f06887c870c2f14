//! The one place where failures become HTTP responses: JSON for the API, pages for people.

use std::sync::Arc;

use rocket::Request;
use rocket::http::Status;

use crate::blobs::is_bucket_failure;
use crate::domain::access::Reason;
use crate::domain::backup::BackupError;
use crate::domain::error::DomainError;
use crate::domain::ingest::{IngestError, human_bytes};
use crate::store::{StoreError, is_full};
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
    /// A backup asked for from another machine than the server's.
    #[error("backups are made only when asked from the server's own machine (`maiimg backup`)")]
    BackupNotLocal,
    /// A backup was asked for while one is being made.
    #[error("a backup is being made already; wait for it to finish")]
    BackupRunning,
    /// A backup could not start (the directory is refused or cannot be made).
    #[error("{0}")]
    Backup(crate::domain::backup::BackupError),
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
                IngestError::Unsupported { .. } | IngestError::UnsupportedVariant { .. } => {
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
            WebError::BackupRunning => (Status::Conflict, "backup_running"),
            WebError::BackupNotLocal => (Status::Forbidden, "backup_local_only"),
            WebError::Backup(BackupError::Refused(_)) => {
                (Status::UnprocessableEntity, "backup_refused")
            }
            WebError::Backup(_) => (Status::ServiceUnavailable, "backup_failed"),
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
            (_, "storage_unavailable") if matches!(self, WebError::Domain(DomainError::Blobs(e)) if is_bucket_failure(e)) => {
                "the server could not reach its object storage; nothing was stored, please \
                 try again in a few seconds (the server's log says what failed)"
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
    pub fn is_storage_fault(&self) -> bool {
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

    /// Write a failure the server must hear about (an internal error, a storage fault) to
    /// the error log, with its causes; refusals of clients are not logged.
    pub fn log_if_internal(&self, req: &Request<'_>) {
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

#[cfg(test)]
mod tests;
