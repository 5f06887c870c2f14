//! The blobs in an S3-compatible bucket: `<prefix>/blobs/<sha256>`, the instance marker at
//! `<prefix>/INSTANCE`.
//!
//! Requests go through `object_store` (retries with backoff, conditional create) on a
//! small runtime of this module's own, so the same calls work from the server's blocking
//! threads, its async handlers and the command-line tools, which have no runtime. Every
//! call is bounded in time: a store that hangs fails the request, never the server.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, Checksum};
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, PutMode, PutOptions, PutPayload, RetryConfig,
};
use rocket::tokio::runtime::Runtime;
use rocket::tokio::sync::mpsc;

use crate::model::Digest;

use super::MARKER;
use super::chunks::Chunks;

mod probe;

use probe::{Probe, Reachability};

/// Where the blobs live on object storage, as configured.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Target {
    /// Base URL of the S3 API (`https://s3.eu-central-1.amazonaws.com`, an R2 account's
    /// endpoint, `http://127.0.0.1:8333`); `None`: AWS's for the region.
    pub endpoint: Option<String>,
    /// Region the requests are signed for (`auto` for R2).
    pub region: String,
    /// Bucket name.
    pub bucket: String,
    /// Key prefix without slashes at either end; empty: the bucket's root.
    pub prefix: String,
    /// Access key and secret; `None`: the standard `AWS_*` environment variables (and the
    /// other sources the AWS SDKs read).
    pub credentials: Option<(String, String)>,
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`.
    pub path_style: bool,
}

impl std::fmt::Debug for S3Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Options end up in debug output; the secret must not.
        f.debug_struct("S3Target")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("access_key", &self.credentials.as_ref().map(|(key, _)| key))
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// A request that is not a whole-body stream gives up after this long (retries included).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// An upload may take this much longer per MiB of body (a 50 MB original on a 1 MB/s
/// uplink still gets through).
const PUT_TIME_PER_MIB: Duration = Duration::from_secs(1);
/// Chunks of a streamed object in flight between the store and its reader.
const STREAM_CHUNKS: usize = 4;
/// How long what a call or probe said about the store stands before a health check asks
/// the store again.
const HEALTH_FRESH: Duration = Duration::from_secs(2);
/// The longest a health check waits for a probe; then it answers from the last known state.
const HEALTH_WAIT: Duration = Duration::from_secs(1);
/// A probe (a `HEAD` of the marker, a few hundred bytes) that takes longer finds the
/// store unreachable: a health check should not wait out `CALL_TIMEOUT`'s retries.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One bucket (and prefix) of an S3-compatible store.
pub struct Bucket {
    store: Arc<AmazonS3>,
    prefix: String,
    /// What the last call or probe said about the store, for the health checks.
    reach: Arc<Reachability>,
    /// Taken out (and shut down without blocking) on drop, which may happen inside another
    /// runtime, where dropping one is not allowed.
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the client's own Debug, which shows the credentials it signs with.
        f.debug_struct("Bucket")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Drop for Bucket {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The object store failing (down, slow, refusing): carried inside an `io::Error`, so the
/// layers above can tell it from a disk's failure and word it.
#[derive(Debug, thiserror::Error)]
#[error("object storage: {0}")]
struct BucketFailure(String);

/// Whether `e` is the object store failing (rather than a disk).
pub fn is_bucket_failure(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<BucketFailure>())
}

fn store_error(what: &str, e: object_store::Error) -> io::Error {
    let kind = match e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, BucketFailure(format!("{what}: {e}")))
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        BucketFailure(format!("{what}: no answer in time")),
    )
}

impl Bucket {
    /// Connect to `target` (nothing is sent until the first call).
    pub(super) fn open(target: &S3Target) -> io::Result<Bucket> {
        let runtime = rocket::tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("maiimg-s3")
            .enable_all()
            .build()?;
        let mut builder = AmazonS3Builder::from_env()
            .with_region(&target.region)
            .with_bucket_name(&target.bucket)
            .with_virtual_hosted_style_request(!target.path_style)
            // The store checks each body against its SHA-256, which is also its key.
            .with_checksum_algorithm(Checksum::SHA256)
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    // A streamed original goes at the viewer's pace: the whole request
                    // may take long, each call above is bounded by its own timeout.
                    .with_timeout(Duration::from_secs(600))
                    .with_allow_http(
                        target
                            .endpoint
                            .as_deref()
                            .is_some_and(|e| e.starts_with("http://")),
                    ),
            );
        if let Some(endpoint) = &target.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some((key, secret)) = &target.credentials {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(Bucket {
            store: Arc::new(store),
            prefix: target.prefix.clone(),
            reach: Reachability::new(HEALTH_FRESH, HEALTH_WAIT),
            runtime: Some(runtime),
        })
    }

    fn key(&self, name: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(name)
        } else {
            Key::from(format!("{}/{name}", self.prefix))
        }
    }

    fn blob_key(&self, digest: &Digest) -> Key {
        self.key(&format!("blobs/{}", digest.to_hex()))
    }

    /// Run `call` on this bucket's runtime within `limit`, from any thread: the caller
    /// waits on a channel, never enters a runtime itself.
    fn run<T: Send + 'static>(
        &self,
        what: &'static str,
        limit: Duration,
        call: impl Future<Output = io::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.spawn(async move {
            let result = rocket::tokio::time::timeout(limit, call)
                .await
                .unwrap_or_else(|_| Err(timed_out(what)));
            let _ = tx.send(result);
        })?;
        let result = rx.recv().unwrap_or_else(|_| {
            Err(io::Error::other(BucketFailure(
                "the call was dropped".into(),
            )))
        });
        self.note(&result);
        result
    }

    /// Keep the store's state for the health checks.
    fn note<T>(&self, result: &io::Result<T>) {
        self.reach.note(result);
    }

    /// `None` while the store answers, else what its last failure said. Asks the store
    /// (one shared probe) when nothing recent is known, and waits for that at most
    /// `HEALTH_WAIT`, so the answer changes soon after the store fails or comes back
    /// and a hanging store does not hold the caller.
    pub(super) fn failure(&self) -> Option<String> {
        self.reach.failure(|probe| self.probe(probe))
    }

    /// Send `probe`'s request; if the runtime is gone, the dropped task ends the probe.
    fn probe(&self, probe: Probe) {
        let (store, key) = (Arc::clone(&self.store), self.key(MARKER));
        let _ = self.spawn(async move {
            let result = match rocket::tokio::time::timeout(PROBE_TIMEOUT, store.head(&key)).await {
                Ok(Ok(_)) => Ok(()),
                // A missing marker is an answer: `note` counts it as one.
                Ok(Err(e)) => Err(store_error("health probe", e)),
                Err(_) => Err(timed_out("health probe")),
            };
            probe.finish(&result);
        });
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| io::Error::other(BucketFailure("shut down".into())))?;
        runtime.spawn(task);
        Ok(())
    }

    pub(super) fn marker(&self) -> io::Result<Option<String>> {
        match self.read_key(self.key(MARKER), "read the instance marker") {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).trim().to_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) fn write_marker(&self, id: &str) -> io::Result<()> {
        let (store, key) = (Arc::clone(&self.store), self.key(MARKER));
        let body = PutPayload::from(id.to_owned());
        self.run("write the instance marker", CALL_TIMEOUT, async move {
            store
                .put(&key, body)
                .await
                .map(|_| ())
                .map_err(|e| store_error("write the instance marker", e))
        })
    }

    /// Make sure the blob is stored; `true` when this call uploaded it. An object already
    /// under its key has these very bytes (the key is their SHA-256), so it is left alone.
    pub(super) fn write(&self, digest: &Digest, bytes: &[u8]) -> io::Result<bool> {
        if self.exists(digest)? {
            return Ok(false);
        }
        let (store, key) = (Arc::clone(&self.store), self.blob_key(digest));
        let body = PutPayload::from(Bytes::copy_from_slice(bytes));
        let mib = u32::try_from(bytes.len() >> 20).unwrap_or(u32::MAX);
        let limit = CALL_TIMEOUT + PUT_TIME_PER_MIB * mib;
        self.run("upload", limit, async move {
            let create = PutOptions::from(PutMode::Create);
            match store.put_opts(&key, body, create).await {
                Ok(_) => Ok(true),
                // Written meanwhile by another upload of the same bytes.
                Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
                Err(e) => Err(store_error("upload", e)),
            }
        })
    }

    pub(super) fn exists(&self, digest: &Digest) -> io::Result<bool> {
        Ok(self.size(digest)?.is_some())
    }

    fn size(&self, digest: &Digest) -> io::Result<Option<u64>> {
        let (store, key) = (Arc::clone(&self.store), self.blob_key(digest));
        self.run("look up", CALL_TIMEOUT, async move {
            match store.head(&key).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(store_error("look up", e)),
            }
        })
    }

    pub(super) fn read(&self, digest: &Digest) -> io::Result<Vec<u8>> {
        self.read_key(self.blob_key(digest), "download")
            .map(Vec::from)
    }

    fn read_key(&self, key: Key, what: &'static str) -> io::Result<Bytes> {
        let store = Arc::clone(&self.store);
        self.run(what, CALL_TIMEOUT * 4, async move {
            let got = store.get(&key).await.map_err(|e| store_error(what, e))?;
            got.bytes().await.map_err(|e| store_error(what, e))
        })
    }

    /// Delete a blob's object; its size when it was there.
    pub(super) fn remove(&self, digest: &Digest) -> io::Result<Option<u64>> {
        let Some(bytes) = self.size(digest)? else {
            return Ok(None);
        };
        let (store, key) = (Arc::clone(&self.store), self.blob_key(digest));
        self.run("delete", CALL_TIMEOUT, async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(Some(bytes)),
                Err(e) => Err(store_error("delete", e)),
            }
        })
    }

    /// Every blob under the prefix with its size (objects not named by a digest are not
    /// blobs and are left out).
    pub(super) fn list(&self) -> io::Result<Vec<(Digest, u64)>> {
        let (store, key) = (Arc::clone(&self.store), self.key("blobs"));
        self.run("list", CALL_TIMEOUT * 10, async move {
            let mut listing = store.list(Some(&key));
            let mut out = Vec::new();
            while let Some(meta) = listing.next().await {
                let meta = meta.map_err(|e| store_error("list", e))?;
                if let Some(digest) = meta.location.filename().and_then(Digest::from_hex) {
                    out.push((digest, meta.size));
                }
            }
            Ok(out)
        })
    }

    /// The blob as a stream of chunks, fetched as they are read (for streaming responses
    /// and the ZIP: a large original is never held whole).
    pub(super) fn stream(&self, digest: &Digest) -> io::Result<Chunks> {
        let (store, key) = (Arc::clone(&self.store), self.blob_key(digest));
        let (tx, rx) = mpsc::channel(STREAM_CHUNKS);
        self.spawn(async move {
            let got = rocket::tokio::time::timeout(CALL_TIMEOUT, store.get(&key)).await;
            let mut stream = match got {
                Ok(Ok(got)) => got.into_stream(),
                Ok(Err(e)) => {
                    let _ = tx.send(Err(store_error("download", e))).await;
                    return;
                }
                Err(_) => {
                    let _ = tx.send(Err(timed_out("download"))).await;
                    return;
                }
            };
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| store_error("download", e));
                let failed = chunk.is_err();
                // A reader that went away (a viewer who closed the tab) ends the download.
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        })?;
        Ok(Chunks::new(rx))
    }
}
