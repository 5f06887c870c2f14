//! The domain's one error type: what a gallery operation can fail with.

use std::io;

use super::binding::Mismatch;
use super::settings::SettingError;
use crate::store::StoreError;

/// Why a gallery operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// A gallery needs at least one image.
    #[error("a gallery needs at least one image")]
    NoImages,
    /// More images than the instance allows.
    #[error("a gallery can hold at most {max} images; {given} were sent")]
    TooManyImages {
        /// The limit.
        max: usize,
        /// How many were sent.
        given: usize,
    },
    /// No such gallery (or upload).
    #[error("not found")]
    NotFound,
    /// A staged upload is unknown, expired or already in a gallery.
    #[error(
        "upload {0} does not exist, expired, or is already part of a gallery; upload the file again"
    )]
    UploadMissing(String),
    /// An access setting is invalid.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// The manage key is missing or wrong.
    #[error("the manage key is missing or wrong")]
    Unauthorized,
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// The blob directory failed.
    #[error("storage error: {0}")]
    Blobs(#[from] io::Error),
    /// The administrator switched the gallery off; its owner cannot switch it on.
    #[error(
        "the administrator of this server switched this gallery off; it cannot be switched on again here"
    )]
    TakenDown,
    /// An edit that cannot be applied (the message says why).
    #[error("{0}")]
    BadEdit(String),
    /// The database and the blob tree do not belong together: nothing was started.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UploadMissing(id) => DomainError::UploadMissing(id),
            e => DomainError::Store(e),
        }
    }
}

impl crate::store::Failure for DomainError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            DomainError::Store(e) => Some(e),
            _ => None,
        }
    }
}
