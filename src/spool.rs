//! Upload bodies kept in memory while small and written to `tmp/` once they pass a
//! threshold (nginx's `client_body_buffer_size` and temp files), so a request being
//! received costs at most the threshold plus a write buffer of memory, however large its file.
//!
//! A spooled file is removed when its [`Body`] is dropped; what a crash leaves behind goes
//! with the rest of `tmp/` at the next start (`BlobStore::open`).

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use rocket::tokio::fs;
use rocket::tokio::io::{AsyncWriteExt, BufWriter};

use crate::ids::UploadId;

/// Where and from what size bodies are spooled.
#[derive(Clone, Debug)]
pub struct Spool {
    /// Parts larger than this go to a file.
    pub threshold: usize,
    /// The directory of temp files (the data directory's `tmp/`).
    pub dir: PathBuf,
}

/// Writes to a spooled file go through a buffer this size: few, large writes.
const WRITE_BUFFER: usize = 256 * 1024;

/// One received file: its bytes, or the temp file holding them.
#[derive(Debug)]
pub enum Body {
    /// Small enough to keep.
    Memory(Vec<u8>),
    /// Written to `tmp/` (removed on drop).
    File(Spooled),
}

/// A temp file of a known length, removed when dropped.
#[derive(Debug)]
pub struct Spooled {
    path: PathBuf,
    len: u64,
}

impl Spooled {
    /// Where it is (for tests and messages).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A readable, seekable view of a body's first bytes (for reading its header).
pub type HeaderReader = Cursor<Vec<u8>>;

impl Body {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Body::Memory(bytes) => bytes.len() as u64,
            Body::File(file) => file.len,
        }
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// At most its first `limit` bytes (blocking I/O for a spooled body).
    pub fn head(&self, limit: usize) -> io::Result<HeaderReader> {
        let head = match self {
            Body::Memory(bytes) => bytes[..bytes.len().min(limit)].to_vec(),
            Body::File(file) => {
                let mut head = Vec::with_capacity(limit.min(file.len as usize));
                File::open(&file.path)?
                    .take(limit as u64)
                    .read_to_end(&mut head)?;
                head
            }
        };
        Ok(Cursor::new(head))
    }

    /// All of its bytes in memory (blocking I/O for a spooled body, whose file then goes).
    pub fn load(self) -> io::Result<Vec<u8>> {
        match self {
            Body::Memory(bytes) => Ok(bytes),
            Body::File(file) => std::fs::read(&file.path),
        }
    }
}

/// Receives one part chunk by chunk and decides where it lives.
pub struct Spooler {
    spool: Spool,
    memory: Vec<u8>,
    file: Option<(BufWriter<fs::File>, Spooled)>,
}

impl Spooler {
    /// An empty part.
    pub fn new(spool: &Spool) -> Spooler {
        Spooler {
            spool: spool.clone(),
            memory: Vec::new(),
            file: None,
        }
    }

    /// Bytes received so far.
    pub fn len(&self) -> u64 {
        match &self.file {
            Some((_, spooled)) => spooled.len,
            None => self.memory.len() as u64,
        }
    }

    /// Whether nothing was received yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Take the next chunk: in memory up to the threshold, then into a new temp file.
    pub async fn push(&mut self, chunk: &[u8]) -> io::Result<()> {
        if self.file.is_none() && self.memory.len() + chunk.len() > self.spool.threshold {
            // Made first, so its drop removes the file whatever fails next.
            let spooled = Spooled {
                path: self
                    .spool
                    .dir
                    .join(format!("{}.upload", UploadId::generate())),
                len: self.memory.len() as u64,
            };
            let file = fs::File::create(&spooled.path).await?;
            let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
            writer.write_all(&self.memory).await?;
            self.memory = Vec::new();
            self.file = Some((writer, spooled));
        }
        match &mut self.file {
            Some((writer, spooled)) => {
                writer.write_all(chunk).await?;
                spooled.len += chunk.len() as u64;
            }
            None => self.memory.extend_from_slice(chunk),
        }
        Ok(())
    }

    /// The whole part. A spooled one is flushed (not fsynced: it lives only as long as the
    /// request, and a crash removes it anyway).
    pub async fn finish(self) -> io::Result<Body> {
        match self.file {
            None => Ok(Body::Memory(self.memory)),
            Some((mut writer, spooled)) => {
                writer.flush().await?;
                Ok(Body::File(spooled))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(dir: &Path, threshold: usize) -> Spool {
        Spool {
            threshold,
            dir: dir.to_owned(),
        }
    }

    fn files_in(dir: &Path) -> usize {
        std::fs::read_dir(dir).expect("read tmp").count()
    }

    #[rocket::async_test]
    async fn a_part_under_the_threshold_stays_in_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = spool(dir.path(), 1024);
        let mut part = Spooler::new(&spool);
        for _ in 0..4 {
            part.push(&[7; 256]).await.expect("push");
        }
        let body = part.finish().await.expect("finish");
        assert!(matches!(&body, Body::Memory(b) if b.len() == 1024));
        assert_eq!(files_in(dir.path()), 0);
    }

    #[rocket::async_test]
    async fn a_large_part_goes_to_tmp_as_it_arrives_and_leaves_with_its_body() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = spool(dir.path(), 1024);
        let mut part = Spooler::new(&spool);
        part.push(&[1; 1000]).await.expect("push");
        assert_eq!(files_in(dir.path()), 0, "still under the threshold");
        part.push(&[2; 1000]).await.expect("push");
        // The file exists while the body is still streaming, and memory holds nothing.
        assert_eq!(files_in(dir.path()), 1);
        assert!(part.memory.capacity() == 0);
        for _ in 0..100 {
            part.push(&[3; 1000]).await.expect("push");
        }
        assert_eq!(part.len(), 102_000);
        let body = part.finish().await.expect("finish");
        let Body::File(file) = &body else {
            panic!("a part over the threshold is spooled");
        };
        assert!(file.path().starts_with(dir.path()));
        assert_eq!(body.len(), 102_000);
        let mut head = Vec::new();
        body.head(1500)
            .expect("head")
            .read_to_end(&mut head)
            .expect("read");
        assert_eq!(head.len(), 1500);
        assert!(head[..1000].iter().all(|b| *b == 1) && head[1000..].iter().all(|b| *b == 2));
        let bytes = body.load().expect("load");
        assert_eq!(bytes.len(), 102_000);
        assert_eq!(bytes[101_999], 3);
        assert_eq!(files_in(dir.path()), 0, "loading consumed the temp file");
    }
}
