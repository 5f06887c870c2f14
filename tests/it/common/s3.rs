//! The S3-compatible server of the object-storage tests: a real one (SeaweedFS, started by
//! `.ci/run` or `eval "$(tests/s3/seaweedfs.sh start)"`), named by the `TEST_S3_*`
//! variables. Each test works under a prefix of its own, so tests run in parallel on one
//! bucket. Without the variables a test skips with a visible note, except under
//! `CI_REQUIRE_S3=1` (set by `.ci/run`), where that is a failure.

use std::sync::Arc;

use maiimg::blobs::S3Target;
use maiimg::config::RawConfig;
use object_store::ObjectStore;
use object_store::aws::{AmazonS3, AmazonS3Builder};

/// The test's own corner of the test bucket.
pub struct TestBucket {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// Unique to this test run.
    pub prefix: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The bucket for test `name`, or `None` (with a note) when no S3 server is configured.
pub fn test_bucket(name: &str) -> Option<TestBucket> {
    let Some(endpoint) = var("TEST_S3_ENDPOINT") else {
        assert!(
            std::env::var("CI_REQUIRE_S3").as_deref() != Ok("1"),
            "CI_REQUIRE_S3=1 but TEST_S3_ENDPOINT is not set (is SeaweedFS running?)"
        );
        eprintln!(
            "SKIPPED {name}: no S3 server (TEST_S3_ENDPOINT); start one with \
             `eval \"$(tests/s3/seaweedfs.sh start)\"`"
        );
        return None;
    };
    let unique: u64 = rand::random();
    Some(TestBucket {
        endpoint,
        region: var("TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        bucket: var("TEST_S3_BUCKET").unwrap_or_else(|| "maiimg".into()),
        access_key: var("TEST_S3_ACCESS_KEY").expect("TEST_S3_ACCESS_KEY"),
        secret_key: var("TEST_S3_SECRET_KEY").expect("TEST_S3_SECRET_KEY"),
        prefix: format!("test/{name}-{unique:016x}"),
    })
}

impl TestBucket {
    /// The bucket as the blob store takes it, reached at `endpoint` (the server's own, or a
    /// proxy's in front of it).
    pub fn target_at(&self, endpoint: &str) -> S3Target {
        S3Target {
            endpoint: Some(endpoint.to_owned()),
            region: self.region.clone(),
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone(),
            credentials: Some((self.access_key.clone(), self.secret_key.clone())),
            path_style: true,
        }
    }

    /// [`TestBucket::target_at`] the server itself.
    pub fn target(&self) -> S3Target {
        self.target_at(&self.endpoint)
    }

    /// Point an instance's configuration at this bucket (`storage = "s3"`).
    pub fn configure(&self, config: &mut RawConfig) {
        self.configure_at(config, &self.endpoint);
    }

    /// [`TestBucket::configure`] through `endpoint`.
    pub fn configure_at(&self, config: &mut RawConfig, endpoint: &str) {
        config.storage = "s3".into();
        config.s3_endpoint = endpoint.into();
        config.s3_region = self.region.clone();
        config.s3_bucket = self.bucket.clone();
        config.s3_prefix = self.prefix.clone();
        config.s3_access_key = self.access_key.clone();
        config.s3_secret_key = self.secret_key.as_str().into();
        config.s3_path_style = true;
    }

    /// The `MAIIMG_*` settings that point the real binary at this bucket.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MAIIMG_STORAGE", "s3".into()),
            ("MAIIMG_S3_ENDPOINT", self.endpoint.clone()),
            ("MAIIMG_S3_REGION", self.region.clone()),
            ("MAIIMG_S3_BUCKET", self.bucket.clone()),
            ("MAIIMG_S3_PREFIX", self.prefix.clone()),
            ("MAIIMG_S3_ACCESS_KEY", self.access_key.clone()),
            ("MAIIMG_S3_SECRET_KEY", self.secret_key.clone()),
            ("MAIIMG_S3_PATH_STYLE", "true".into()),
        ]
    }

    fn client(&self) -> Arc<AmazonS3> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_region(&self.region)
            .with_bucket_name(&self.bucket)
            .with_access_key_id(&self.access_key)
            .with_secret_access_key(&self.secret_key)
            .with_allow_http(true)
            .build()
            .expect("test S3 client");
        Arc::new(store)
    }

    /// Every object key under this test's prefix, relative to it, sorted (read directly
    /// from the store, not through maiimg).
    pub fn objects(&self) -> Vec<String> {
        let (store, prefix) = (self.client(), self.prefix.clone());
        let runtime = rocket::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut keys: Vec<String> = runtime.block_on(async move {
            use futures_util::TryStreamExt;
            let under = object_store::path::Path::from(prefix.as_str());
            let listed: Vec<_> = store
                .list(Some(&under))
                .try_collect()
                .await
                .expect("list the test prefix");
            listed
                .into_iter()
                .map(|meta| {
                    let key = meta.location.to_string();
                    key.strip_prefix(&format!("{prefix}/"))
                        .unwrap_or(&key)
                        .to_owned()
                })
                .collect()
        });
        keys.sort();
        keys
    }

    /// The object under this test's prefix at `key` (relative to it), read directly from
    /// the store.
    pub fn object(&self, key: &str) -> Vec<u8> {
        let store = self.client();
        let path = object_store::path::Path::from(format!("{}/{key}", self.prefix));
        let runtime = rocket::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let got = store.get(&path).await.expect("get the object");
            got.bytes().await.expect("the object's bytes").to_vec()
        })
    }

    /// Whether the bucket answers a signed listing (a fresh server may not know its bucket
    /// for a moment after it answers at all).
    pub fn answers(&self) -> bool {
        let (store, prefix) = (self.client(), self.prefix.clone());
        let runtime = rocket::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            use futures_util::StreamExt;
            let under = object_store::path::Path::from(prefix.as_str());
            let first = store.list(Some(&under)).next().await;
            first.is_none_or(|listed| listed.is_ok())
        })
    }

    /// The keys under `blobs/`, as hex digests.
    pub fn blob_objects(&self) -> Vec<String> {
        self.objects()
            .into_iter()
            .filter_map(|k| k.strip_prefix("blobs/").map(str::to_owned))
            .collect()
    }
}
