//! The store's one error type, and how redb's errors become it.

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb reported an error (I/O, corruption, a second process holding the file…).
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    /// A stored value could not be decoded.
    #[error("stored record is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// A row could not be encoded, or a stored one decoded.
    #[error("stored row is unreadable: {0}")]
    Unreadable(String),
    /// A staged upload named in a gallery does not exist (expired, used, or never made).
    #[error("upload {0} does not exist or was already used")]
    UploadMissing(String),
    /// The id is taken (astronomically unlikely with 96 random bits, but never overwrite).
    #[error("gallery id collision")]
    Collision,
    /// The recorder could not commit a batch (its error, shared by every request in it).
    #[error("recording failed: {0}")]
    Recorder(String),
    /// The disk is full: nothing can be written until space comes back.
    #[error("the disk is full: nothing can be written until space is freed")]
    Full,
    /// The database file cannot be read: a damaged page.
    #[error(
        "the database is damaged: stop the server and restore maiimg.redb from a backup \
         (`maiimg restore --force BACKUP_DIR` sets the damaged file aside and keeps every \
         image file; `maiimg check` shows what the files hold)"
    )]
    Damaged,
    /// A copy of the database (a backup) could not be written: the copy's own failure,
    /// which says nothing about the database itself.
    #[error("the copy of the database could not be written: {0}")]
    Copy(String),
    /// The database file failed (an I/O error) and is being re-opened.
    #[error("the database is unavailable for a moment (an I/O error); it is being re-opened")]
    Unavailable,
}

impl StoreError {
    /// The same failure again, for another request of a batch that failed as one.
    pub(crate) fn again(&self) -> StoreError {
        match self {
            StoreError::Full => StoreError::Full,
            StoreError::Unavailable => StoreError::Unavailable,
            other => StoreError::Recorder(other.to_string()),
        }
    }
}

/// An error that may carry a store failure: the generic store calls (`update_gallery`, …)
/// take their callers' error types and must still see a full disk through them.
pub trait Failure {
    /// The store's part of this error, if any.
    fn store_error(&self) -> Option<&StoreError>;
}

impl Failure for StoreError {
    fn store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}

macro_rules! redb_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.into())
            }
        }
    )*};
}
redb_errors!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<postcard::Error> for StoreError {
    fn from(e: postcard::Error) -> Self {
        StoreError::Unreadable(e.to_string())
    }
}
