//! A streamed blob that proves its bytes as they go: hashed on the fly, and if the file
//! does not hash to its name (bit rot, a truncated copy, a hand edit) the last chunk is
//! withheld and the body fails, so hyper aborts the connection and the client never keeps
//! a damaged file under the original's ETag.

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use rocket::tokio::io::{AsyncRead, AsyncSeek, ReadBuf};
use sha2::{Digest as _, Sha256};

use crate::model::Digest;

/// `inner`, checked against `expected` over exactly `len` bytes.
pub struct Verified<R> {
    inner: R,
    hasher: Sha256,
    expected: Digest,
    left: u64,
    /// Called once when the bytes do not match (to log it loudly).
    on_damage: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl<R> Verified<R> {
    /// Wrap `inner`, which should hold `len` bytes hashing to `expected`.
    pub fn new(
        inner: R,
        expected: Digest,
        len: u64,
        on_damage: Box<dyn FnOnce() + Send + Sync>,
    ) -> Verified<R> {
        Verified {
            inner,
            hasher: Sha256::new(),
            expected,
            left: len,
            on_damage: Some(on_damage),
        }
    }

    fn damaged(&mut self) -> io::Error {
        if let Some(report) = self.on_damage.take() {
            report();
        }
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stored file does not match its digest",
        )
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Verified<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.left == 0 {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        let read = &buf.filled()[before..];
        if read.is_empty() {
            // Shorter than recorded: a truncated file.
            return Poll::Ready(Err(self.damaged()));
        }
        let n = read.len() as u64;
        if n > self.left {
            return Poll::Ready(Err(self.damaged()));
        }
        self.hasher.update(read);
        self.left -= n;
        if self.left == 0 {
            let hasher = std::mem::take(&mut self.hasher);
            if Digest(hasher.finalize().into()) != self.expected {
                buf.set_filled(before);
                return Poll::Ready(Err(self.damaged()));
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// Rocket asks for `AsyncSeek` but seeks only to measure a body of unknown length, and
/// this one is always sent with its length. A seek anywhere else would make the check
/// meaningless, so it is refused.
impl<R: AsyncSeek + Unpin> AsyncSeek for Verified<R> {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        if position != SeekFrom::Current(0) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a verified stream is read front to back",
            ));
        }
        Pin::new(&mut self.inner).start_seek(position)
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Pin::new(&mut self.inner).poll_complete(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::tokio::io::AsyncReadExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    async fn read_all(
        bytes: &'static [u8],
        expected: Digest,
        len: u64,
    ) -> (io::Result<Vec<u8>>, bool) {
        let reported = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&reported);
        let mut reader = Verified::new(
            bytes,
            expected,
            len,
            Box::new(move || flag.store(true, Ordering::Relaxed)),
        );
        let mut out = Vec::new();
        let result = reader.read_to_end(&mut out).await.map(|_| out);
        (result, reported.load(Ordering::Relaxed))
    }

    #[rocket::async_test]
    async fn only_the_bytes_of_the_digest_get_through_whole() {
        let good: &'static [u8] = b"the stored original";
        let digest = Digest::of(good);
        let (ok, reported) = read_all(good, digest, good.len() as u64).await;
        assert_eq!(ok.expect("intact"), good);
        assert!(!reported);
        let (flipped, reported) = read_all(b"the stored origiNal", digest, good.len() as u64).await;
        assert!(flipped.is_err() && reported, "a flipped byte got through");
        let (short, reported) = read_all(b"the stored", digest, good.len() as u64).await;
        assert!(short.is_err() && reported, "a truncated file got through");
    }
}
