//! "Download all": a gallery's originals as one ZIP, streamed while it is written.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use rocket::response::{self, Responder};
use rocket::{Request, Response, Route, State, get, routes};

use super::App;
use super::error::{PageError, WebError};
use super::viewer::{CHUNK, admitted, attachment};
use super::visit::Visit;
use crate::domain::archive;

/// `GET /g/<id>/zip`: every original in one ZIP, streamed as it is written.
#[get("/g/<id>/zip")]
async fn zip(app: &State<Arc<App>>, id: &str, visit: Visit<'_>) -> Result<ZipStream, PageError> {
    let (id, record) = admitted(app.inner(), id, &visit).await?;
    if !record.settings.allow_download {
        return Err(WebError::NotFound.into());
    }
    let files: Vec<(String, PathBuf)> = archive::entry_names(&record.images)
        .into_iter()
        .zip(&record.images)
        .map(|(name, image)| (name, app.galleries.blob_path(&image.original.digest)))
        .collect();
    let (tx, rx) = rocket::tokio::sync::mpsc::channel::<io::Result<Bytes>>(8);
    rocket::tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx,
            buffer: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = archive::write_zip(&files, &mut out) {
            // The client sees a truncated download; nothing else can be done mid-stream.
            let _ = out.tx.blocking_send(Err(e));
        }
    });
    let title = if record.title.is_empty() {
        format!("maiimg-{id}")
    } else {
        record.title.clone()
    };
    Ok(ZipStream {
        chunks: rx,
        filename: format!("{title}.zip"),
    })
}

/// Hands what the ZIP writer produces to the response in 64 KiB pieces; blocks the writer
/// (not the executor) when the client reads slowly, so memory stays bounded.
struct ChannelWriter {
    tx: rocket::tokio::sync::mpsc::Sender<io::Result<Bytes>>,
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

/// The streamed archive response.
struct ZipStream {
    chunks: rocket::tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    filename: String,
}

impl<'r> Responder<'r, 'static> for ZipStream {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let stream = futures_util::stream::unfold(self.chunks, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        Response::build()
            .raw_header("Content-Type", "application/zip")
            .raw_header("Content-Disposition", attachment(&self.filename))
            .raw_header("Cache-Control", "private, no-store")
            .streamed_body(tokio_util::io::StreamReader::new(stream))
            .ok()
    }
}

pub fn routes() -> Vec<Route> {
    routes![zip]
}
