//! The one validation: every raw value checked, in the order of `config.example.toml`, and
//! parsed into its type. The first bad value stops it with an error naming its key.

use std::net::IpAddr;

use ipnet::IpNet;
use time::Duration;

use crate::config::checked::Config;
use crate::config::error::ConfigError;
use crate::config::raw::RawConfig;
use crate::config::storage::check_storage;
use crate::config::values::LogLevel;

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

impl RawConfig {
    /// Check every value and parse it into its type: the only way to a [`Config`].
    pub fn validated(self) -> Result<Config, ConfigError> {
        Config::try_from(self)
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Config, ConfigError> {
        let public_url = if raw.public_url.trim().is_empty() {
            derived_public_url(raw.address, raw.port)
        } else {
            normalise_public_url(&raw.public_url).map_err(|m| invalid("public_url", m))?
        };
        check_sizes(&raw)?;
        let default_expiry =
            parse_expiry(&raw.default_expiry).map_err(|m| invalid("default_expiry", m))?;
        let max_expiry = parse_expiry(&raw.max_expiry).map_err(|m| invalid("max_expiry", m))?;
        if let Some(max) = max_expiry
            && default_expiry.is_none_or(|d| d > max)
        {
            return Err(invalid(
                "default_expiry",
                format!("must not be longer than max_expiry ({})", raw.max_expiry),
            ));
        }
        check_connections(&raw)?;
        let log_level = LogLevel::from_key(&raw.log_level)
            .ok_or_else(|| invalid("log_level", "must be one of critical, normal, debug, off"))?;
        let trusted_proxies = raw
            .trusted_proxies
            .iter()
            .map(|entry| parse_proxy(entry))
            .collect::<Result<_, _>>()
            .map_err(|m| invalid("trusted_proxies", m))?;
        if !(1..=36_500).contains(&raw.log_retention_days) {
            return Err(invalid("log_retention_days", "must be between 1 and 36500"));
        }
        check_instance_controls(&raw)?;
        let storage = check_storage(&raw)?;

        // Taken apart whole, so that a new key cannot be forgotten here.
        let RawConfig {
            address,
            port,
            data_dir,
            public_url: _,
            max_file_bytes,
            max_pixels,
            max_dimension,
            max_images,
            default_expiry: _,
            max_expiry: _,
            log_level: _,
            group_commit,
            front_door,
            header_timeout_secs,
            idle_timeout_secs,
            max_waiting_connections,
            store_ip,
            trusted_proxies: _,
            log_retention_days,
            tracking,
            admin_token,
            upload_password,
            rate_limit_uploads_per_hour,
            rate_limit_galleries_per_hour,
            max_storage_bytes,
            min_free_disk_bytes,
            purge_after_days,
            decode_memory_bytes,
            upload_buffer_bytes,
            // Checked together by `check_storage` above.
            storage: _,
            s3_endpoint: _,
            s3_region: _,
            s3_bucket: _,
            s3_prefix: _,
            s3_access_key: _,
            s3_secret_key: _,
            s3_path_style: _,
            delivery: _,
            delivery_protected: _,
            presign_ttl: _,
        } = raw;
        Ok(Config {
            address,
            port,
            data_dir,
            public_url,
            max_file_bytes,
            max_pixels,
            max_dimension,
            max_images,
            default_expiry,
            max_expiry,
            log_level,
            group_commit,
            front_door,
            header_timeout: std::time::Duration::from_secs(header_timeout_secs),
            idle_timeout: std::time::Duration::from_secs(idle_timeout_secs),
            max_waiting_connections,
            store_ip,
            trusted_proxies,
            log_retention_days,
            tracking,
            admin_token,
            upload_password,
            rate_limit_uploads_per_hour,
            rate_limit_galleries_per_hour,
            max_storage_bytes,
            min_free_disk_bytes,
            purge_after_days,
            decode_memory_bytes,
            upload_buffer_bytes,
            storage,
        })
    }
}

/// The data directory and the upload limits.
fn check_sizes(raw: &RawConfig) -> Result<(), ConfigError> {
    if raw.data_dir.as_os_str().is_empty() {
        return Err(invalid("data_dir", "must not be empty"));
    }
    if raw.max_file_bytes < 1024 {
        return Err(invalid("max_file_bytes", "must be at least 1024"));
    }
    if raw.max_pixels < 1024 {
        return Err(invalid("max_pixels", "must be at least 1024"));
    }
    if !(16..=65_535).contains(&raw.max_dimension) {
        return Err(invalid("max_dimension", "must be between 16 and 65535"));
    }
    if !(1..=1000).contains(&raw.max_images) {
        return Err(invalid("max_images", "must be between 1 and 1000"));
    }
    Ok(())
}

/// The front door's timeouts and cap.
fn check_connections(raw: &RawConfig) -> Result<(), ConfigError> {
    if !(1..=300).contains(&raw.header_timeout_secs) {
        return Err(invalid("header_timeout_secs", "must be between 1 and 300"));
    }
    if !(30..=3600).contains(&raw.idle_timeout_secs) {
        return Err(invalid("idle_timeout_secs", "must be between 30 and 3600"));
    }
    if raw.max_waiting_connections < 8 {
        return Err(invalid("max_waiting_connections", "must be at least 8"));
    }
    Ok(())
}

/// The admin, abuse and capacity keys (see `config.example.toml`).
fn check_instance_controls(raw: &RawConfig) -> Result<(), ConfigError> {
    let token = raw.admin_token.expose();
    if raw.admin_token.is_set() && (token.chars().count() < 16 || token.trim() != token) {
        return Err(invalid(
            "admin_token",
            "must be empty (no admin page) or at least 16 characters without surrounding \
             spaces, e.g. the output of `openssl rand -hex 32`",
        ));
    }
    let password = raw.upload_password.expose();
    // It travels in an HTTP header, where only visible ASCII is reliable.
    if raw.upload_password.is_set()
        && (!(4..=256).contains(&password.len())
            || !password.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
            || password.trim() != password)
    {
        return Err(invalid(
            "upload_password",
            "must be empty (public instance) or 4 to 256 printable ASCII characters \
             without surrounding spaces (it is sent in the X-Upload-Password header)",
        ));
    }
    for (key, value) in [
        (
            "rate_limit_uploads_per_hour",
            raw.rate_limit_uploads_per_hour,
        ),
        (
            "rate_limit_galleries_per_hour",
            raw.rate_limit_galleries_per_hour,
        ),
    ] {
        if value > 1_000_000 {
            return Err(invalid(key, "must be between 0 (unlimited) and 1000000"));
        }
    }
    if raw.max_storage_bytes != 0 && raw.max_storage_bytes < 1024 * 1024 {
        return Err(invalid(
            "max_storage_bytes",
            "must be 0 (unlimited) or at least 1048576 (1 MiB)",
        ));
    }
    if let Some(bytes) = raw.min_free_disk_bytes
        && bytes != 0
        && bytes < 1024 * 1024
    {
        return Err(invalid(
            "min_free_disk_bytes",
            "must be 0 (off) or at least 1048576 (1 MiB); leave it out for the default \
             (1 GiB or 5 % of the filesystem, whichever is smaller)",
        ));
    }
    if raw.purge_after_days > 36_500 {
        return Err(invalid(
            "purge_after_days",
            "must be between 0 (never) and 36500",
        ));
    }
    if raw.decode_memory_bytes < 16 * 1024 * 1024 {
        return Err(invalid(
            "decode_memory_bytes",
            "must be at least 16777216 (16 MiB)",
        ));
    }
    if raw.upload_buffer_bytes < 1024 * 1024 {
        return Err(invalid(
            "upload_buffer_bytes",
            "must be at least 1048576 (1 MiB)",
        ));
    }
    Ok(())
}

/// "never" → `None`; "30d", "12h", "90 minutes" → that duration.
fn parse_expiry(raw: &str) -> Result<Option<Duration>, String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let d = humantime::parse_duration(raw)
        .map_err(|_| format!("{raw:?} is not a duration such as 30d, 12h or never"))?;
    if d.as_secs() < 60 {
        return Err(format!("{raw:?} is shorter than a minute"));
    }
    Duration::try_from(d)
        .map(Some)
        .map_err(|_| format!("{raw:?} is too long"))
}

/// One `trusted_proxies` entry: "10.0.0.0/8", "2001:db8::/32", or a bare address
/// ("127.0.0.1" is 127.0.0.1/32). Host bits after the prefix are cleared.
fn parse_proxy(raw: &str) -> Result<IpNet, String> {
    let entry = raw.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    entry
        .parse::<IpNet>()
        .map(|net| net.trunc())
        .map_err(|_| format!("{raw:?} is not an IP address or a CIDR network such as 10.0.0.0/8"))
}

/// The address the server listens on, as a browser would reach it (an unspecified
/// address means "this machine").
fn derived_public_url(address: IpAddr, port: u16) -> String {
    let host = match address {
        addr if addr.is_unspecified() => "localhost".to_owned(),
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    format!("http://{host}:{port}")
}

fn normalise_public_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{raw:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{raw:?} has no host"));
    }
    if rest.contains(['?', '#', ' ', '"', '<', '>', '\\']) {
        return Err(format!(
            "{raw:?} must be a plain base URL (no query, fragment or spaces)"
        ));
    }
    Ok(url.to_owned())
}
