//! The storage keys: where the image files live (`storage`, `s3_*`) and how viewers get
//! their bytes (`delivery`, `delivery_protected`, `presign_ttl`). The `s3_*` keys are
//! checked whenever one is set, so `maiimg migrate-store --to s3` can rely on them from an
//! instance that still keeps its files on disk.

use crate::config::error::ConfigError;
use crate::config::raw::RawConfig;
use crate::config::values::Secret;

/// Where image files are kept (`storage`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StorageKind {
    /// `blobs/` in the data directory.
    #[default]
    Fs,
    /// The bucket of the `s3_*` keys.
    S3,
}

/// How viewers get image bytes once admitted (`delivery`, `delivery_protected`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Delivery {
    /// Through this server.
    #[default]
    Proxy,
    /// A `302` to a short-lived presigned URL of the bucket.
    Redirect,
}

/// The checked `s3_*` keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Config {
    /// Base URL without a trailing slash; `None`: AWS's endpoint for the region.
    pub endpoint: Option<String>,
    /// Region the requests are signed for.
    pub region: String,
    /// Bucket name.
    pub bucket: String,
    /// Key prefix without slashes at either end (may be empty).
    pub prefix: String,
    /// Access key and secret; `None`: the standard `AWS_*` environment variables.
    pub credentials: Option<(String, Secret)>,
    /// Path-style addressing (`endpoint/bucket/key`), as MinIO, Garage and SeaweedFS need.
    pub path_style: bool,
}

/// Everything the storage keys decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    /// Where the files are.
    pub kind: StorageKind,
    /// The bucket, when its keys are set (always when `kind` is `S3`).
    pub s3: Option<S3Config>,
    /// Delivery for galleries without a password or a view limit.
    pub delivery: Delivery,
    /// Delivery for galleries with a password or a view limit.
    pub delivery_protected: Delivery,
    /// Longest life of a presigned URL.
    pub presign_ttl: std::time::Duration,
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

fn delivery(key: &'static str, value: &str) -> Result<Delivery, ConfigError> {
    match value {
        "proxy" => Ok(Delivery::Proxy),
        "redirect" => Ok(Delivery::Redirect),
        _ => Err(invalid(key, "must be proxy or redirect")),
    }
}

/// Check the storage keys.
pub(super) fn check_storage(raw: &RawConfig) -> Result<Storage, ConfigError> {
    let kind = match raw.storage.as_str() {
        "fs" => StorageKind::Fs,
        "s3" => StorageKind::S3,
        _ => return Err(invalid("storage", "must be fs or s3")),
    };
    let s3 = check_s3(raw)?;
    if kind == StorageKind::S3 && s3.is_none() {
        return Err(invalid(
            "s3_bucket",
            "must be set when storage = \"s3\" (with s3_endpoint for any store but AWS)",
        ));
    }
    let delivery_open = delivery("delivery", &raw.delivery)?;
    let delivery_protected = delivery("delivery_protected", &raw.delivery_protected)?;
    if delivery_open == Delivery::Redirect && kind != StorageKind::S3 {
        return Err(invalid(
            "delivery",
            "can only be redirect when storage = \"s3\" (files on disk go through the server)",
        ));
    }
    let signs = s3.as_ref().is_some_and(|s3| s3.credentials.is_some())
        || std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    if delivery_open == Delivery::Redirect && !signs {
        return Err(invalid(
            "delivery",
            "redirect needs an access key to presign URLs with: s3_access_key and \
             s3_secret_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ));
    }
    if delivery_protected == Delivery::Redirect && delivery_open != Delivery::Redirect {
        return Err(invalid(
            "delivery_protected",
            "can only be redirect when delivery is redirect too",
        ));
    }
    if !(10..=900).contains(&raw.presign_ttl) {
        return Err(invalid(
            "presign_ttl",
            "must be between 10 and 900 seconds (about a minute is right: it is how long \
             a presigned URL can be passed on)",
        ));
    }
    Ok(Storage {
        kind,
        s3,
        delivery: delivery_open,
        delivery_protected,
        presign_ttl: std::time::Duration::from_secs(raw.presign_ttl),
    })
}

/// The `s3_*` keys, or `None` when none that names a bucket or its access is set.
fn check_s3(raw: &RawConfig) -> Result<Option<S3Config>, ConfigError> {
    let any_set = !raw.s3_bucket.is_empty()
        || !raw.s3_endpoint.is_empty()
        || !raw.s3_prefix.is_empty()
        || !raw.s3_access_key.is_empty()
        || raw.s3_secret_key.is_set();
    if !any_set {
        return Ok(None);
    }
    if !valid_bucket(&raw.s3_bucket) {
        return Err(invalid(
            "s3_bucket",
            "must be a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, \
             starting and ending with a letter or digit",
        ));
    }
    let endpoint = if raw.s3_endpoint.trim().is_empty() {
        None
    } else {
        Some(normalise_endpoint(&raw.s3_endpoint).map_err(|m| invalid("s3_endpoint", m))?)
    };
    let region = raw.s3_region.trim();
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(invalid(
            "s3_region",
            "must be a region name such as us-east-1, eu-central-1 or auto (R2)",
        ));
    }
    let prefix = raw.s3_prefix.trim_matches('/');
    let bad_part = !prefix.is_empty()
        && prefix
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..");
    if prefix.len() > 512 || bad_part || prefix.chars().any(|c| c.is_control() || c == '\\') {
        return Err(invalid(
            "s3_prefix",
            "must be a key prefix such as maiimg or photos/maiimg (no empty, . or .. \
             parts, no control characters, at most 512 bytes)",
        ));
    }
    let key = raw.s3_access_key.trim();
    let credentials = match (key.is_empty(), raw.s3_secret_key.is_set()) {
        (true, false) => None,
        (false, true) => Some((key.to_owned(), raw.s3_secret_key.clone())),
        _ => {
            return Err(invalid(
                "s3_access_key",
                "s3_access_key and s3_secret_key go together: set both, or neither to use \
                 the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables",
            ));
        }
    };
    Ok(Some(S3Config {
        endpoint,
        region: region.to_owned(),
        bucket: raw.s3_bucket.clone(),
        prefix: prefix.to_owned(),
        credentials,
        path_style: raw.s3_path_style,
    }))
}

/// A bucket name S3 accepts in both addressing styles.
fn valid_bucket(name: &str) -> bool {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge_ok(name.chars().next())
        && edge_ok(name.chars().last())
        && !name.contains("..")
}

/// `http(s)://host[:port]`, without a trailing slash, path, query or credentials.
fn normalise_endpoint(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("{raw:?} must start with https:// (or http:// for a local store)")
        })?;
    if rest.is_empty() {
        return Err(format!("{raw:?} has no host"));
    }
    if rest.contains(['/', '?', '#', '@', ' ', '"', '<', '>', '\\']) {
        return Err(format!(
            "{raw:?} must be the store's base URL (scheme, host and port only: the bucket \
             goes in s3_bucket, a folder in s3_prefix)"
        ));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error
mod tests;
