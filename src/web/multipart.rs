//! Streaming `multipart/form-data`: parts are read one at a time, each file is capped at
//! `max_file_bytes` while it arrives and spooled to `tmp/` past a threshold
//! (`crate::spool`), and the part count is checked as parts appear — a 26th file is
//! refused before its bytes are read.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use rocket::Data;
use rocket::data::ToByteUnit;
use rocket::http::ContentType;
use tokio_util::io::ReaderStream;

use crate::domain::error::DomainError;
use crate::domain::ingest::{IngestError, clean_name};
use crate::spool::{Body, Spool, Spooler};
use crate::web::error::WebError;

/// Longest accepted text field.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// After an error, read at most this much more of the body so the client gets to see the
/// answer (most clients only read a response once their upload is sent).
const DRAIN_BYTES: usize = 64 * 1024 * 1024;
/// Bytes read from the connection at a time (larger chunks: fewer, larger spool writes).
const READ_CHUNK: usize = 64 * 1024;

/// One part of the form.
pub enum Part {
    /// A part named `file`.
    File {
        /// The client's file name, cleaned (for messages and downloads only).
        name: String,
        /// Its bytes, in memory or spooled.
        body: Body,
    },
    /// Any other part, as text.
    Text {
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
}

/// Reads a multipart body part by part.
pub struct Reader<'r> {
    inner: multer::Multipart<'r>,
    max_files: usize,
    max_file_bytes: u64,
    files: usize,
    what: &'static str,
    spool: Spool,
}

/// Yields one chunk per poll. multer reads its stream until it is pending, so on a fast
/// link (loopback, or megabytes waiting in the socket buffer) it would copy everything
/// that has arrived into memory before the spool sees any of it; one chunk at a time, a
/// request holds about a chunk.
struct OneChunkPerPoll<S> {
    inner: S,
    yielded: bool,
}

impl<S: Stream + Unpin> Stream for OneChunkPerPoll<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.yielded {
            self.yielded = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        self.yielded = matches!(next, Poll::Ready(Some(_)));
        next
    }
}

fn malformed(e: multer::Error) -> WebError {
    WebError::BadRequest(format!("the upload could not be read: {e}"))
}

/// The spool failed (a full disk is told as such).
fn spool_failed(e: std::io::Error) -> WebError {
    WebError::Domain(DomainError::Blobs(e))
}

impl<'r> Reader<'r> {
    /// Start reading `data`, which must be `multipart/form-data` with a boundary; large
    /// files go to `spool`.
    pub fn new(
        content_type: Option<&ContentType>,
        data: Data<'r>,
        max_request_bytes: u64,
        max_files: usize,
        max_file_bytes: u64,
        what: &'static str,
        spool: Spool,
    ) -> Result<Reader<'r>, WebError> {
        let boundary = content_type
            .filter(|ct| ct.is_form_data())
            .and_then(|ct| ct.params().find(|(k, _)| *k == "boundary"))
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| {
                WebError::BadRequest(
                    "send the files as multipart/form-data with parts named “file”".into(),
                )
            })?;
        let stream = OneChunkPerPoll {
            inner: ReaderStream::with_capacity(data.open(max_request_bytes.bytes()), READ_CHUNK),
            yielded: false,
        };
        Ok(Reader::from_stream(
            stream,
            boundary,
            max_files,
            max_file_bytes,
            what,
            spool,
        ))
    }

    /// Read a body that arrives as `stream`, split by `boundary`, with the same caps as
    /// [`Reader::new`] (which bounds the whole request before this). Public so the fuzz
    /// target can drive the parsing without an HTTP request.
    pub fn from_stream<S, E>(
        stream: S,
        boundary: String,
        max_files: usize,
        max_file_bytes: u64,
        what: &'static str,
        spool: Spool,
    ) -> Reader<'r>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Send + 'r,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'r,
    {
        Reader {
            inner: multer::Multipart::new(stream, boundary),
            max_files,
            max_file_bytes,
            files: 0,
            what,
            spool,
        }
    }

    /// The next part, or `None` at the end of the form.
    pub async fn next(&mut self) -> Result<Option<Part>, WebError> {
        loop {
            let Some(mut field) = self.inner.next_field().await.map_err(malformed)? else {
                return Ok(None);
            };
            let field_name = field.name().unwrap_or("").to_owned();
            if field_name == "file" {
                let raw_name = field.file_name().unwrap_or("").to_owned();
                if !raw_name.is_empty() {
                    self.count_file()?;
                }
                let name = clean_name(&raw_name);
                let mut part = Spooler::new(&self.spool);
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    if part.len() + chunk.len() as u64 > self.max_file_bytes {
                        return Err(IngestError::TooLarge {
                            name,
                            limit: self.max_file_bytes,
                        }
                        .into());
                    }
                    part.push(&chunk).await.map_err(spool_failed)?;
                }
                if raw_name.is_empty() {
                    // A browser form with no file chosen still sends an empty, unnamed part.
                    if part.is_empty() {
                        continue;
                    }
                    self.count_file()?;
                }
                let body = part.finish().await.map_err(spool_failed)?;
                return Ok(Some(Part::File { name, body }));
            }
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                if value.len() + chunk.len() > MAX_TEXT_BYTES {
                    return Err(WebError::BadRequest(format!(
                        "the field “{field_name}” is too long"
                    )));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(|_| {
                WebError::BadRequest(format!("the field “{field_name}” is not UTF-8 text"))
            })?;
            return Ok(Some(Part::Text {
                name: field_name,
                value,
            }));
        }
    }

    fn count_file(&mut self) -> Result<(), WebError> {
        self.files += 1;
        if self.files > self.max_files {
            return Err(WebError::TooManyFiles {
                max: self.max_files,
                what: self.what,
            });
        }
        Ok(())
    }

    /// Consume (a bounded amount of) the rest of the body after an error.
    pub async fn drain(mut self) {
        let mut seen = 0usize;
        while let Ok(Some(mut field)) = self.inner.next_field().await {
            while let Ok(Some(chunk)) = field.chunk().await {
                seen += chunk.len();
                if seen > DRAIN_BYTES {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{FutureExt, StreamExt, stream};

    use super::*;

    #[test]
    fn multer_gets_one_chunk_per_poll_however_much_is_ready() {
        // Everything is ready at once, as on loopback; each poll still hands over one chunk.
        let chunks = stream::iter((0..3).map(|i| vec![i; 4]));
        let mut one = OneChunkPerPoll {
            inner: chunks,
            yielded: false,
        };
        assert_eq!(one.next().now_or_never(), Some(Some(vec![0; 4])));
        assert_eq!(one.next().now_or_never(), None, "pending after a chunk");
        assert_eq!(one.next().now_or_never(), Some(Some(vec![1; 4])));
        assert_eq!(one.next().now_or_never(), None);
        assert_eq!(one.next().now_or_never(), Some(Some(vec![2; 4])));
        assert_eq!(one.next().now_or_never(), None);
        assert_eq!(one.next().now_or_never(), Some(None), "then the end");
    }
}
