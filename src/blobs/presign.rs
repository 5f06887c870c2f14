//! Presigned GETs of a bucket's blobs, for `delivery = "redirect"`: signed by rusty-s3,
//! which signs for a chosen time (`object_store` signs only for "now"). Signing times are
//! rounded down to buckets of half the URL's life, so one viewer asking again within a
//! bucket gets the very same URL and the browser's cache works, while no URL lives longer
//! than `ttl`: issued at most `ttl / 2` after its signing time, it is good for at least
//! `ttl / 2` more.

use std::io;
use std::time::Duration;

use rusty_s3::{Bucket as SignedBucket, Credentials, S3Action, UrlStyle};
use time::OffsetDateTime;

use super::bucket::S3Target;
use crate::model::Digest;

/// Signs GETs of one bucket's blobs.
pub(super) struct Presigner {
    bucket: SignedBucket,
    credentials: Credentials,
    prefix: String,
}

impl std::fmt::Debug for Presigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presigner")
            .field("base", &self.bucket.base_url().as_str())
            .finish_non_exhaustive()
    }
}

/// What a presigned GET makes the store answer with.
#[derive(Clone, Copy, Debug)]
pub struct Answer<'a> {
    /// `Content-Type` (objects are stored without one).
    pub content_type: &'a str,
    /// `Content-Disposition` (`inline`, or an attachment with the download's name).
    pub disposition: &'a str,
    /// `Cache-Control`.
    pub cache_control: &'a str,
}

impl Presigner {
    /// A signer for `target`, with its credentials or those of the `AWS_*` variables.
    pub(super) fn new(target: &S3Target) -> io::Result<Presigner> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let endpoint = target
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", target.region));
        let url = endpoint
            .parse()
            .map_err(|e| invalid(format!("s3_endpoint {endpoint}: {e}")))?;
        let style = if target.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = SignedBucket::new(url, style, target.bucket.clone(), target.region.clone())
            .map_err(|e| invalid(format!("bucket {}: {e}", target.bucket)))?;
        let credentials = match &target.credentials {
            Some((key, secret)) => Credentials::new(key.clone(), secret.clone()),
            None => Credentials::from_env().ok_or_else(|| {
                invalid(
                    "presigned URLs need an access key: s3_access_key and s3_secret_key, or \
                     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                        .into(),
                )
            })?,
        };
        Ok(Presigner {
            bucket,
            credentials,
            prefix: target.prefix.clone(),
        })
    }

    /// The origin presigned URLs point to (for the pages' CSP), e.g. `https://b.s3.…`.
    pub(super) fn origin(&self) -> String {
        self.bucket.base_url().origin().ascii_serialization()
    }

    /// A GET of `digest`'s object answered with `answer`, good for at most `ttl` from the
    /// start of the half-`ttl` bucket `now` falls in.
    pub(super) fn get(
        &self,
        digest: &Digest,
        answer: Answer<'_>,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> String {
        let key = if self.prefix.is_empty() {
            format!("blobs/{}", digest.to_hex())
        } else {
            format!("{}/blobs/{}", self.prefix, digest.to_hex())
        };
        let mut action = self.bucket.get_object(Some(&self.credentials), &key);
        let query = action.query_mut();
        query.insert("response-content-type", answer.content_type.to_owned());
        query.insert(
            "response-content-disposition",
            answer.disposition.to_owned(),
        );
        query.insert("response-cache-control", answer.cache_control.to_owned());
        let step = (ttl.as_secs() / 2).max(1) as i64;
        let unix = now.unix_timestamp();
        let signed_at = unix - unix.rem_euclid(step);
        let time =
            jiff02::Timestamp::from_second(signed_at).unwrap_or(jiff02::Timestamp::UNIX_EPOCH);
        action.sign_with_time(ttl, &time).to_string()
    }
}
