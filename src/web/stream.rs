//! Responses produced by a blocking writer while they are sent (a ZIP, a CSV export), with
//! memory bounded by a small channel.

use std::io;

use bytes::Bytes;
use rocket::response::{self, Responder};
use rocket::tokio::sync::mpsc;
use rocket::{Request, Response};

use crate::web::blob_response::{CHUNK, attachment};

/// A download written by `write` on the blocking pool while the client reads it.
pub struct Streamed {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    content_type: &'static str,
    filename: String,
}

impl Streamed {
    /// Run `write` on the blocking pool; what it writes is sent as `filename`.
    pub fn spawn(
        content_type: &'static str,
        filename: String,
        write: impl FnOnce(&mut ChannelWriter) -> io::Result<()> + Send + 'static,
    ) -> Streamed {
        let (tx, chunks) = mpsc::channel::<io::Result<Bytes>>(8);
        rocket::tokio::task::spawn_blocking(move || {
            let mut out = ChannelWriter {
                tx,
                buffer: Vec::with_capacity(CHUNK),
            };
            let written = write(&mut out).and_then(|()| io::Write::flush(&mut out));
            if let Err(e) = written {
                // The client sees a truncated download; nothing else can be done mid-stream.
                let _ = out.tx.blocking_send(Err(e));
            }
        });
        Streamed {
            chunks,
            content_type,
            filename,
        }
    }

    /// The headers of a download without its body (for `HEAD`): nothing is written.
    pub fn empty(content_type: &'static str, filename: String) -> Streamed {
        let (_, chunks) = mpsc::channel::<io::Result<Bytes>>(1);
        Streamed {
            chunks,
            content_type,
            filename,
        }
    }
}

/// Hands what a writer produces to the response in 64 KiB pieces; blocks the writer (not
/// the executor) when the client reads slowly, so memory stays bounded.
pub struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            Ok(())
        } else {
            self.send()
        }
    }
}

impl<'r> Responder<'r, 'static> for Streamed {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let stream = futures_util::stream::unfold(self.chunks, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        Response::build()
            .raw_header("Content-Type", self.content_type)
            .raw_header("Content-Disposition", attachment(&self.filename))
            .raw_header("Cache-Control", "private, no-store")
            .streamed_body(tokio_util::io::StreamReader::new(stream))
            .ok()
    }
}
