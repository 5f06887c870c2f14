//! Stored blobs (kept by `src/blobs.rs`) as HTTP responses: the response type (from the
//! memory cache, `blob_cache.rs`, or streamed and verified from disk or the bucket) and the
//! `Content-Disposition` it is sent with.

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;
use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::tokio::io::{AsyncRead, AsyncSeek};
use rocket::{Request, Response};

use crate::domain::error::DomainError;
use crate::model::{BlobRef, Digest};
use crate::web::app::{App, blocking};
use crate::web::error::WebError;
use crate::web::guards::caching::IfNoneMatch;
use crate::web::verified::Verified;

/// Streamed bodies go out in 64 KiB chunks: Rocket's 4 KiB default costs a syscall per 4 KiB.
pub const CHUNK: usize = 64 * 1024;
/// Viewers may keep a copy but must ask again each time (a 304 when unchanged), so a
/// gallery that is deleted or disabled stops showing at once; shared caches never store
/// these.
const PRIVATE_REVALIDATE: &str = "private, no-cache";
/// Renditions (a few hundred KB) are read in one blocking call and sent from memory:
/// `tokio::fs::File` would make every chunk a trip through the blocking pool. Larger files
/// (originals) are streamed so memory stays bounded.
const READ_WHOLE_BELOW: u64 = 4 * 1024 * 1024;

/// A stored blob as an HTTP response: from memory or streamed from disk, with its sniffed
/// type and a strong ETag (its SHA-256), or `304 Not Modified`.
pub struct BlobResponse {
    /// A presigned URL of the bucket to send the viewer to instead (`delivery = redirect`).
    redirect: Option<String>,
    body: Option<Body>,
    mime: &'static str,
    etag: String,
    disposition: Option<String>,
}

enum Body {
    Memory(Bytes),
    Stream(Box<Verified<Box<dyn Source>>>, u64),
}

/// What a large blob streams from: a file, or a bucket's chunks (whose size Rocket is told,
/// so it never seeks them).
trait Source: AsyncRead + AsyncSeek + Send + Unpin {}
impl<S: AsyncRead + AsyncSeek + Send + Unpin> Source for S {}

/// Say loudly that a stored file is not what was stored (once per interval per file).
fn damaged(app: &App, blob: &str) {
    app.log_error(&format!(
        "DAMAGED FILE {blob}: its bytes do not match its digest; not served. Run `maiimg \
         check` and restore the data directory from a backup"
    ));
}

impl BlobResponse {
    /// Open `blob` unless the client already has it. `download_name` makes it an attachment.
    pub async fn open(
        app: &Arc<App>,
        blob: &BlobRef,
        download_name: Option<String>,
        inm: &IfNoneMatch,
    ) -> Result<BlobResponse, WebError> {
        let etag = format!("\"{}\"", blob.digest.to_hex());
        let digest = blob.digest;
        let name = match app.galleries.blob_path(&digest) {
            Some(path) => path.display().to_string(),
            None => format!("blobs/{} in the bucket", digest.to_hex()),
        };
        // A missing file is our fault (500); the disk or the bucket failing is one to
        // retry (503), as the error layer decides.
        let missing = |e: std::io::Error| {
            let named = std::io::Error::new(e.kind(), format!("blob {name}: {e}"));
            WebError::from(DomainError::Blobs(named))
        };
        let body = if inm.matches(&etag) {
            None
        } else if let Some(bytes) = app.blob_cache.get(&digest) {
            Some(Body::Memory(bytes))
        } else if blob.bytes < READ_WHOLE_BELOW {
            // Hashed before it may enter the cache: a damaged file is never served whole.
            let read = blocking(app, move |app| {
                app.galleries.read_blob(&digest).map(|bytes| {
                    let intact = Digest::of(&bytes) == digest;
                    (bytes, intact)
                })
            })
            .await?;
            let (bytes, intact) = read.map_err(missing)?;
            if !intact {
                damaged(app, &name);
                return Err(WebError::internal(format!("{name} is damaged")));
            }
            let bytes = Bytes::from(bytes);
            app.blob_cache.put(digest, bytes.clone());
            Some(Body::Memory(bytes))
        } else {
            let source: Box<dyn Source> = match app.galleries.blob_path(&digest) {
                Some(path) => Box::new(
                    rocket::tokio::fs::File::open(&path)
                        .await
                        .map_err(missing)?,
                ),
                None => Box::new(app.galleries.blob_stream(&digest).map_err(missing)?),
            };
            let (app, at) = (Arc::clone(app), name.clone());
            let report = Box::new(move || damaged(&app, &at));
            Some(Body::Stream(
                Box::new(Verified::new(source, digest, blob.bytes, report)),
                blob.bytes,
            ))
        };
        Ok(BlobResponse {
            redirect: None,
            body,
            mime: blob.format.mime(),
            etag,
            disposition: download_name.map(|name| attachment(&name)),
        })
    }

    /// A `302` to `url`, a presigned GET of the blob, never cached itself: a viewer asks
    /// again (and is checked again) each time.
    pub fn redirect(url: String) -> BlobResponse {
        BlobResponse {
            redirect: Some(url),
            body: None,
            mime: "",
            etag: String::new(),
            disposition: None,
        }
    }

    /// Whether the bytes are sent (not a `304`), or the viewer is sent to them.
    pub fn has_body(&self) -> bool {
        self.body.is_some() || self.redirect.is_some()
    }
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266), since
/// header values must be ASCII.
pub fn attachment(name: &str) -> String {
    disposition("attachment", name)
}

/// A `Content-Disposition` of this `kind` naming `name` twice: `filename*` exactly (RFC
/// 8187) for browsers that read it, `filename` as an ASCII stand-in for those that do not.
/// Both are encoded so that no character of the name can end the parameter early: a raw
/// `;` made Chromium save `holiday.html;.png` as `holiday.html`.
pub fn disposition(kind: &str, name: &str) -> String {
    format!(
        "{kind}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(name),
        ext_value(name)
    )
}

/// RFC 8187 `attr-char`: the only bytes a `filename*` value may carry unencoded.
fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

/// The name's UTF-8 bytes, every one outside `attr-char` percent-encoded.
fn ext_value(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if is_attr_char(b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The name as a quoted string only a careful parser could not misread: printable ASCII
/// and spaces, with quotes, backslashes, `;` and `%` (which some browsers decode) and
/// everything else replaced by `_`.
fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '"' | '\\' | ';' | '%' => '_',
            ' ' => ' ',
            c if c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect()
}

impl<'r> Responder<'r, 'static> for BlobResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        if let Some(url) = self.redirect {
            return Ok(response
                .status(Status::Found)
                .raw_header("Location", url)
                .raw_header("Cache-Control", "no-store")
                .finalize());
        }
        response
            .raw_header("ETag", self.etag)
            .raw_header("Cache-Control", PRIVATE_REVALIDATE);
        match self.body {
            None => {
                response.status(Status::NotModified);
            }
            Some(body) => {
                response.raw_header("Content-Type", self.mime).raw_header(
                    "Content-Disposition",
                    self.disposition.unwrap_or_else(|| "inline".into()),
                );
                match body {
                    // In memory: one write of the whole body.
                    Body::Memory(bytes) => {
                        let len = bytes.len();
                        response
                            .sized_body(len, Cursor::new(bytes))
                            .max_chunk_size(len.max(1));
                    }
                    Body::Stream(source, len) => {
                        response
                            .sized_body(usize::try_from(len).ok(), source)
                            .max_chunk_size(CHUNK);
                    }
                };
            }
        }
        Ok(response.finalize())
    }
}
