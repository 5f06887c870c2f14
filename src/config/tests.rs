//! Tests of `config`.

use std::path::Path;

use figment::Figment;
use ipnet::IpNet;
use time::Duration;

use super::*;
use figment::Jail;
use figment::providers::{Format, Toml};

#[test]
fn defaults_need_no_file() {
    let c = RawConfig::default()
        .validated()
        .expect("defaults are valid");
    assert_eq!(c.public_url(), "http://127.0.0.1:8000");
    assert_eq!(c.max_images(), 25);
}

#[test]
fn file_then_environment() {
    Jail::expect_with(|jail| {
        jail.create_file("maiimg.toml", "port = 9000\nmax_images = 10\n")?;
        jail.set_env("MAIIMG_PORT", "9100");
        jail.set_env("MAIIMG_PUBLIC_URL", "https://photos.example.org/");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.port(), 9100);
        assert_eq!(c.max_images(), 10);
        assert_eq!(c.public_url(), "https://photos.example.org");
        Ok(())
    });
}

#[test]
fn bad_values_name_their_key() {
    Jail::expect_with(|jail| {
        jail.set_env("MAIIMG_PORT", "eighty");
        let err = Config::load(None).expect_err("bad port").to_string();
        assert!(err.to_lowercase().contains("port"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MAIIMG_MAX_IMAGES", "0");
        let err = Config::load(None).expect_err("bad max").to_string();
        assert!(err.contains("max_images"), "{err}");
        jail.set_env("MAIIMG_MAX_IMAGES", "5");
        jail.set_env("MAIIMG_PUBLIC_URL", "ftp://x");
        let err = Config::load(None).expect_err("bad url").to_string();
        assert!(err.contains("public_url"), "{err}");
        Ok(())
    });
}

#[test]
fn expiry_policy_is_checked() {
    let c = RawConfig {
        default_expiry: "7d".into(),
        max_expiry: "30d".into(),
        ..RawConfig::default()
    }
    .validated()
    .expect("valid");
    assert_eq!(
        c.expiry_policy(),
        (Some(Duration::days(7)), Some(Duration::days(30)))
    );
    for (default, max, key) in [
        ("never", "30d", "default_expiry"),
        ("60d", "30d", "default_expiry"),
        ("soon", "never", "default_expiry"),
        ("1d", "forever", "max_expiry"),
    ] {
        let err = RawConfig {
            default_expiry: default.into(),
            max_expiry: max.into(),
            ..RawConfig::default()
        }
        .validated()
        .expect_err("invalid")
        .to_string();
        assert!(err.contains(key), "{err}");
    }
}

#[test]
fn unknown_keys_are_refused() {
    Jail::expect_with(|jail| {
        jail.create_file("maiimg.toml", "prot = 9000\n")?;
        let err = Config::load(None).expect_err("typo").to_string();
        assert!(err.contains("prot"), "{err}");
        Ok(())
    });
}

#[test]
fn the_example_file_documents_every_key_with_its_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    // Every field is required when reading the file alone: a missing key fails here.
    let documented: RawConfig = Figment::from(Toml::file(path))
        .extract()
        .expect("config.example.toml is complete and valid");
    assert_eq!(documented, RawConfig::default());
}

#[test]
fn access_log_defaults() {
    assert!(RawConfig::default().trusted_proxies.is_empty());
    let c = RawConfig::default()
        .validated()
        .expect("defaults are valid");
    assert_eq!(c.store_ip(), StoreIp::Truncated);
    assert!(c.trusted_proxies().is_empty());
    assert_eq!(c.log_retention_days(), 90);
    assert!(c.tracking());
}

#[test]
fn trusted_proxies_from_toml_array_or_comma_separated_env() {
    let expected: Vec<IpNet> = ["10.0.0.0/8", "127.0.0.1/32", "2001:db8::/32", "::1/128"]
        .iter()
        .map(|n| n.parse().expect("a network"))
        .collect();
    Jail::expect_with(|jail| {
        jail.create_file(
            "maiimg.toml",
            r#"trusted_proxies = ["10.1.2.3/8", "127.0.0.1", "2001:db8::/32", "::1"]"#,
        )?;
        // The raw keys keep the entries as written; validation parses them.
        let raw = RawConfig::figment(None).and_then(|f| RawConfig::from_figment(&f));
        let raw = raw.map_err(|e| e.to_string())?;
        assert_eq!(raw.trusted_proxies[1], "127.0.0.1");
        let c = raw.validated().map_err(|e| e.to_string())?;
        assert_eq!(c.trusted_proxies(), expected);
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env(
            "MAIIMG_TRUSTED_PROXIES",
            "10.0.0.0/8, 127.0.0.1,2001:db8::/32 , ::1,",
        );
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.trusted_proxies(), expected);
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MAIIMG_TRUSTED_PROXIES", "127.0.0.1");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.trusted_proxies(), [expected[1]]);
        jail.set_env("MAIIMG_TRUSTED_PROXIES", "");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert!(c.trusted_proxies().is_empty());
        Ok(())
    });
}

#[test]
fn an_invalid_proxy_is_refused_naming_the_key() {
    for bad in ["10.0.0.0/33", "proxy.example.org", "", "10.0.0"] {
        let err = RawConfig {
            trusted_proxies: vec!["127.0.0.1".into(), bad.into()],
            ..RawConfig::default()
        }
        .validated()
        .expect_err(bad)
        .to_string();
        assert!(err.contains("trusted_proxies"), "{err}");
    }
    Jail::expect_with(|jail| {
        jail.set_env("MAIIMG_TRUSTED_PROXIES", "10.0.0.0/8, 300.0.0.1");
        let err = Config::load(None).expect_err("bad proxy").to_string();
        assert!(err.contains("trusted_proxies"), "{err}");
        assert!(err.contains("300.0.0.1"), "{err}");
        Ok(())
    });
}

#[test]
fn store_ip_retention_and_tracking_are_read_and_checked() {
    Jail::expect_with(|jail| {
        jail.create_file("maiimg.toml", "store_ip = \"off\"\ntracking = false\n")?;
        jail.set_env("MAIIMG_LOG_RETENTION_DAYS", "7");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.store_ip(), StoreIp::Off);
        assert!(!c.tracking());
        assert_eq!(c.log_retention_days(), 7);
        jail.set_env("MAIIMG_STORE_IP", "truncated");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.store_ip(), StoreIp::Truncated);
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MAIIMG_STORE_IP", "full");
        let err = Config::load(None).expect_err("bad store_ip").to_string();
        // figment names an environment key as given: STORE_IP.
        assert!(err.to_lowercase().contains("store_ip"), "{err}");
        Ok(())
    });
    for days in [0, 36_501] {
        let err = RawConfig {
            log_retention_days: days,
            ..RawConfig::default()
        }
        .validated()
        .expect_err("out of range")
        .to_string();
        assert!(err.contains("log_retention_days"), "{err}");
    }
}

#[test]
fn the_parsed_proxies_are_not_a_key() {
    Jail::expect_with(|jail| {
        jail.set_env("MAIIMG_TRUSTED_PROXY_NETS", "10.0.0.0/8");
        let err = Config::load(None).expect_err("not a key").to_string();
        assert!(err.contains("trusted_proxy_nets"), "{err}");
        Ok(())
    });
}

#[test]
fn instance_controls_are_read_verbatim_and_checked() {
    let c = RawConfig::default()
        .validated()
        .expect("defaults are valid");
    assert!(!c.admin_token().is_set() && !c.upload_password().is_set());
    assert_eq!(
        (
            c.rate_limit_uploads_per_hour(),
            c.rate_limit_galleries_per_hour()
        ),
        (600, 60)
    );
    assert_eq!((c.max_storage_bytes(), c.purge_after_days()), (0, 0));
    assert_eq!(
        c.min_free_disk_bytes(),
        None,
        "absent: the computed default"
    );
    Jail::expect_with(|jail| {
        // Secrets come through as written, even when they look like numbers or quotes.
        jail.set_env("MAIIMG_UPLOAD_PASSWORD", "0123");
        jail.set_env("MAIIMG_ADMIN_TOKEN", "\"0000111122223333\"");
        jail.set_env("MAIIMG_MAX_STORAGE_BYTES", "2000000");
        jail.set_env("MAIIMG_PURGE_AFTER_DAYS", "30");
        jail.create_file("maiimg.toml", "min_free_disk_bytes = 5000000\n")?;
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.min_free_disk_bytes(), Some(5_000_000));
        jail.set_env("MAIIMG_MIN_FREE_DISK_BYTES", "0");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.min_free_disk_bytes(), Some(0), "0 turns the reserve off");
        assert_eq!(c.upload_password().expose(), "0123");
        assert_eq!(c.admin_token().expose(), "\"0000111122223333\"");
        assert_eq!(
            (c.max_storage_bytes(), c.purge_after_days()),
            (2_000_000, 30)
        );
        assert!(!format!("{c:?}").contains("0123"), "a secret was printed");
        Ok(())
    });
    for (config, key) in [
        (
            RawConfig {
                admin_token: "short".into(),
                ..RawConfig::default()
            },
            "admin_token",
        ),
        (
            RawConfig {
                upload_password: "abc".into(),
                ..RawConfig::default()
            },
            "upload_password",
        ),
        (
            RawConfig {
                rate_limit_uploads_per_hour: 2_000_000,
                ..RawConfig::default()
            },
            "rate_limit_uploads_per_hour",
        ),
        (
            RawConfig {
                rate_limit_galleries_per_hour: 2_000_000,
                ..RawConfig::default()
            },
            "rate_limit_galleries_per_hour",
        ),
        (
            RawConfig {
                max_storage_bytes: 1000,
                ..RawConfig::default()
            },
            "max_storage_bytes",
        ),
        (
            RawConfig {
                min_free_disk_bytes: Some(4096),
                ..RawConfig::default()
            },
            "min_free_disk_bytes",
        ),
        (
            RawConfig {
                purge_after_days: 40_000,
                ..RawConfig::default()
            },
            "purge_after_days",
        ),
    ] {
        let err = config.validated().expect_err(key).to_string();
        assert!(err.contains(key), "{err}");
    }
}

#[test]
fn explicit_file_must_exist() {
    let err = Config::load(Some(Path::new("/nonexistent/maiimg.toml")));
    assert!(matches!(err, Err(ConfigError::MissingFile(_))));
}

#[test]
fn values_are_parsed_once_into_their_types() {
    let err = RawConfig {
        default_expiry: "12h".into(),
        max_expiry: "90 minutes".into(),
        ..RawConfig::default()
    }
    .validated()
    .expect_err("12h is longer than 90 minutes")
    .to_string();
    assert!(err.contains("max_expiry (90 minutes)"), "{err}");
    let c = RawConfig {
        default_expiry: "90 minutes".into(),
        header_timeout_secs: 5,
        idle_timeout_secs: 120,
        trusted_proxies: vec![" 192.0.2.77/24 ".into()],
        ..RawConfig::default()
    }
    .validated()
    .expect("valid");
    assert_eq!(c.expiry_policy(), (Some(Duration::minutes(90)), None));
    assert_eq!(c.header_timeout(), std::time::Duration::from_secs(5));
    assert_eq!(c.idle_timeout(), std::time::Duration::from_secs(120));
    let net: IpNet = "192.0.2.0/24".parse().expect("a network");
    assert_eq!(c.trusted_proxies(), [net]);
    for (value, level) in [
        ("off", LogLevel::Off),
        ("critical", LogLevel::Critical),
        ("normal", LogLevel::Normal),
        ("debug", LogLevel::Debug),
    ] {
        let raw = RawConfig {
            log_level: value.into(),
            ..RawConfig::default()
        };
        assert_eq!(raw.validated().expect(value).log_level(), level);
    }
    for bad in ["chatty", "Normal", " debug"] {
        let err = RawConfig {
            log_level: bad.into(),
            ..RawConfig::default()
        }
        .validated()
        .expect_err(bad)
        .to_string();
        assert_eq!(
            err,
            "invalid value for `log_level`: must be one of critical, normal, debug, off"
        );
    }
}

#[test]
fn the_public_url_is_derived_from_the_address_when_empty() {
    for (address, expected) in [
        ("0.0.0.0", "http://localhost:8080"),
        ("::", "http://localhost:8080"),
        ("::1", "http://[::1]:8080"),
        ("192.0.2.1", "http://192.0.2.1:8080"),
    ] {
        let c = RawConfig {
            address: address.parse().expect("an address"),
            port: 8080,
            public_url: "  ".into(),
            ..RawConfig::default()
        }
        .validated()
        .expect("valid");
        assert_eq!(c.public_url(), expected);
    }
}
