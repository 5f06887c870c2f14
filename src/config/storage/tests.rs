//! Tests of the storage keys.

use figment::Jail;

use super::*;
use crate::config::Config;

fn s3(raw: RawConfig) -> RawConfig {
    RawConfig {
        storage: "s3".into(),
        s3_endpoint: "http://127.0.0.1:8333/".into(),
        s3_bucket: "maiimg".into(),
        s3_prefix: "/photos/maiimg/".into(),
        s3_access_key: "key".into(),
        s3_secret_key: "0123 secret".into(),
        s3_path_style: true,
        ..raw
    }
}

fn error_of(raw: RawConfig) -> String {
    raw.validated().expect_err("refused").to_string()
}

#[test]
fn the_default_is_the_disk_and_proxy_delivery() {
    let c = RawConfig::default().validated().expect("valid");
    let storage = c.storage();
    assert_eq!(storage.kind, StorageKind::Fs);
    assert_eq!(storage.s3, None);
    assert_eq!(
        (storage.delivery, storage.delivery_protected),
        (Delivery::Proxy, Delivery::Proxy)
    );
    assert_eq!(storage.presign_ttl.as_secs(), 60);
}

#[test]
fn s3_keys_are_normalised() {
    let c = s3(RawConfig::default()).validated().expect("valid");
    let bucket = c.storage().s3.as_ref().expect("s3 keys");
    assert_eq!(bucket.endpoint.as_deref(), Some("http://127.0.0.1:8333"));
    assert_eq!(bucket.prefix, "photos/maiimg");
    assert_eq!(bucket.region, "us-east-1");
    let (key, secret) = bucket.credentials.as_ref().expect("credentials");
    assert_eq!((key.as_str(), secret.expose()), ("key", "0123 secret"));
    assert!(
        !format!("{c:?}").contains("0123 secret"),
        "the secret was printed"
    );
}

#[test]
fn s3_keys_are_checked_even_on_disk() {
    // migrate-store --to s3 reads them from an instance that still uses the disk.
    let on_disk = RawConfig {
        storage: "fs".into(),
        ..s3(RawConfig::default())
    };
    let c = on_disk.clone().validated().expect("valid");
    assert_eq!(c.storage().kind, StorageKind::Fs);
    assert!(c.storage().s3.is_some());
    let bad = RawConfig {
        s3_bucket: "Not_A_Bucket".into(),
        ..on_disk
    };
    assert!(error_of(bad).contains("s3_bucket"));
}

#[test]
fn bad_storage_values_name_their_key() {
    let base = s3(RawConfig::default());
    let cases = [
        (
            RawConfig {
                storage: "disk".into(),
                ..base.clone()
            },
            "storage",
        ),
        (
            RawConfig {
                s3_bucket: String::new(),
                ..base.clone()
            },
            "s3_bucket",
        ),
        (
            RawConfig {
                s3_bucket: "ab".into(),
                ..base.clone()
            },
            "s3_bucket",
        ),
        (
            RawConfig {
                s3_bucket: "-maiimg".into(),
                ..base.clone()
            },
            "s3_bucket",
        ),
        (
            RawConfig {
                s3_endpoint: "s3.example.org".into(),
                ..base.clone()
            },
            "s3_endpoint",
        ),
        (
            RawConfig {
                s3_endpoint: "https://s3.example.org/bucket".into(),
                ..base.clone()
            },
            "s3_endpoint",
        ),
        (
            RawConfig {
                s3_endpoint: "https://user:pw@s3.example.org".into(),
                ..base.clone()
            },
            "s3_endpoint",
        ),
        (
            RawConfig {
                s3_region: String::new(),
                ..base.clone()
            },
            "s3_region",
        ),
        (
            RawConfig {
                s3_prefix: "a//b".into(),
                ..base.clone()
            },
            "s3_prefix",
        ),
        (
            RawConfig {
                s3_prefix: "a/../b".into(),
                ..base.clone()
            },
            "s3_prefix",
        ),
        (
            RawConfig {
                s3_secret_key: Secret::default(),
                ..base.clone()
            },
            "s3_access_key",
        ),
        (
            RawConfig {
                delivery: "cdn".into(),
                ..base.clone()
            },
            "delivery",
        ),
        (
            RawConfig {
                delivery_protected: "redirect".into(),
                ..base.clone()
            },
            "delivery_protected",
        ),
        (
            RawConfig {
                presign_ttl: 3600,
                ..base.clone()
            },
            "presign_ttl",
        ),
        (
            RawConfig {
                presign_ttl: 5,
                ..base.clone()
            },
            "presign_ttl",
        ),
        (
            RawConfig {
                delivery: "redirect".into(),
                ..RawConfig::default()
            },
            "delivery",
        ),
        (
            RawConfig {
                storage: "s3".into(),
                ..RawConfig::default()
            },
            "s3_bucket",
        ),
    ];
    for (raw, key) in cases {
        let err = error_of(raw);
        assert!(err.contains(key), "{key}: {err}");
    }
}

#[test]
fn credentials_may_come_from_the_aws_variables() {
    let raw = RawConfig {
        s3_access_key: String::new(),
        s3_secret_key: Secret::default(),
        ..s3(RawConfig::default())
    };
    let c = raw.clone().validated().expect("valid");
    assert_eq!(c.storage().s3.as_ref().expect("s3").credentials, None);
    Jail::expect_with(|jail| {
        let redirect = RawConfig {
            delivery: "redirect".into(),
            ..raw.clone()
        };
        jail.clear_env();
        let err = redirect
            .clone()
            .validated()
            .expect_err("nothing to sign with");
        assert!(err.to_string().contains("delivery"), "{err}");
        jail.set_env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
        jail.set_env("AWS_SECRET_ACCESS_KEY", "secret");
        redirect.validated().map_err(|e| e.to_string())?;
        Ok(())
    });
}

#[test]
fn protected_galleries_may_opt_in_to_redirects() {
    let raw = RawConfig {
        delivery: "redirect".into(),
        delivery_protected: "redirect".into(),
        ..s3(RawConfig::default())
    };
    let c = raw.validated().expect("valid");
    let storage = c.storage();
    assert_eq!(
        (storage.delivery, storage.delivery_protected),
        (Delivery::Redirect, Delivery::Redirect)
    );
}

#[test]
fn the_keys_come_verbatim_from_the_environment() {
    Jail::expect_with(|jail| {
        jail.set_env("MAIIMG_STORAGE", "s3");
        jail.set_env("MAIIMG_S3_BUCKET", "photos");
        jail.set_env("MAIIMG_S3_ENDPOINT", "https://abc.r2.cloudflarestorage.com");
        jail.set_env("MAIIMG_S3_REGION", "auto");
        // Key ids and secrets that look like numbers or carry quotes stay as written.
        jail.set_env("MAIIMG_S3_ACCESS_KEY", "0012");
        jail.set_env("MAIIMG_S3_SECRET_KEY", "\"0099\"");
        jail.set_env("MAIIMG_PRESIGN_TTL", "120");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        let bucket = c.storage().s3.clone().expect("s3");
        assert_eq!(bucket.region, "auto");
        let (key, secret) = bucket.credentials.expect("credentials");
        assert_eq!((key.as_str(), secret.expose()), ("0012", "\"0099\""));
        assert!(!bucket.path_style);
        assert_eq!(c.storage().presign_ttl.as_secs(), 120);
        Ok(())
    });
}
