//! A blob's bytes as they arrive from the bucket: a bounded channel of chunks fed by the
//! bucket's runtime, read as [`AsyncRead`] by responses and as blocking [`io::Read`] by the
//! ZIP writer's thread, so a large original is never held whole.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use rocket::tokio::io::{AsyncRead, AsyncSeek, ReadBuf};
use rocket::tokio::sync::mpsc;

/// A blob's bytes arriving from the store, readable both ways: [`AsyncRead`] for responses,
/// [`io::Read`] (blocking) for the ZIP writer's thread.
#[derive(Debug)]
pub struct Chunks {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Chunks {
    /// The reader of what the bucket's task sends into `rx`.
    pub(super) fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> Chunks {
        Chunks {
            rx,
            current: Bytes::new(),
        }
    }

    fn take_into(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current.split_to(n));
        n
    }
}

impl io::Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        Ok(self.take_into(out))
    }
}

impl AsyncRead for Chunks {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.current.is_empty() {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(chunk))) => self.current = chunk,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = self.take_into(buf.initialize_unfilled());
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// Chunks are read front to back only: responses are told their size (from the record), so
/// nothing seeks them; a seek is refused rather than faked.
impl AsyncSeek for Chunks {
    fn start_seek(self: Pin<&mut Self>, _: io::SeekFrom) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a blob streamed from the bucket cannot seek",
        ))
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a blob streamed from the bucket cannot seek",
        )))
    }
}
