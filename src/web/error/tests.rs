//! The status mapping of storage faults.

use super::*;

#[test]
fn a_full_disk_is_507_storage_full_from_the_database_and_from_the_files() {
    let no_space = std::io::Error::from(std::io::ErrorKind::StorageFull);
    let too_big = std::io::Error::from(std::io::ErrorKind::FileTooLarge);
    for e in [
        WebError::Domain(DomainError::Store(StoreError::Full)),
        WebError::Domain(DomainError::Blobs(no_space)),
        WebError::Domain(DomainError::Blobs(too_big)),
    ] {
        assert_eq!(
            e.status_and_code(),
            (Status::InsufficientStorage, "storage_full")
        );
        assert!(e.public_message().contains("disk is full"));
        assert_eq!(e.retry_after(), Some(60));
    }
    let failing = WebError::Domain(DomainError::Store(StoreError::Unavailable));
    assert_eq!(
        failing.status_and_code(),
        (Status::ServiceUnavailable, "storage_unavailable")
    );
    // A disk that fails (EIO) is a fault to retry; a file that is missing is a bug.
    let eio = WebError::Domain(DomainError::Blobs(std::io::Error::from_raw_os_error(5)));
    assert_eq!(
        eio.status_and_code(),
        (Status::ServiceUnavailable, "storage_unavailable")
    );
    assert!(eio.public_message().contains("could not write to its disk"));
    assert_eq!(eio.retry_after(), Some(5));
    let missing = WebError::Domain(DomainError::Blobs(std::io::ErrorKind::NotFound.into()));
    assert_eq!(missing.status_and_code().0, Status::InternalServerError);
}

#[test]
fn an_internal_error_keeps_what_it_came_from() {
    let io = std::io::Error::other("the disk said no");
    let e = WebError::internal(io);
    assert_eq!(
        e.status_and_code(),
        (Status::InternalServerError, "internal")
    );
    let source = std::error::Error::source(&e).expect("a source");
    assert_eq!(source.to_string(), "the disk said no");
    assert!(source.downcast_ref::<std::io::Error>().is_some());
    // The client is told nothing of it.
    assert!(!e.public_message().contains("disk"));
}
