//! The checked configuration: every value parsed into its type, read through accessors.
//! Only `validate.rs` makes one.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use ipnet::IpNet;
use time::Duration;

use crate::config::error::ConfigError;
use crate::config::raw::RawConfig;
use crate::config::storage::Storage;
use crate::config::values::{LogLevel, Secret, StoreIp};

/// A validated configuration. `config.example.toml` documents each key; only
/// [`RawConfig::validated`] (or [`Config::load`]) makes one, and it cannot be changed after.
#[derive(Clone, Debug)]
pub struct Config {
    pub(super) address: IpAddr,
    pub(super) port: u16,
    pub(super) data_dir: PathBuf,
    /// Normalised (no trailing slash), or derived from address and port.
    pub(super) public_url: String,
    pub(super) max_file_bytes: u64,
    pub(super) max_pixels: u64,
    pub(super) max_dimension: u32,
    pub(super) max_images: usize,
    /// `None`: never.
    pub(super) default_expiry: Option<Duration>,
    /// `None`: no limit.
    pub(super) max_expiry: Option<Duration>,
    pub(super) log_level: LogLevel,
    pub(super) group_commit: bool,
    pub(super) front_door: bool,
    pub(super) header_timeout: std::time::Duration,
    pub(super) idle_timeout: std::time::Duration,
    pub(super) max_waiting_connections: usize,
    pub(super) store_ip: StoreIp,
    /// A bare address is its /32 or /128 network.
    pub(super) trusted_proxies: Vec<IpNet>,
    pub(super) log_retention_days: u32,
    pub(super) tracking: bool,
    pub(super) admin_token: Secret,
    pub(super) upload_password: Secret,
    pub(super) rate_limit_uploads_per_hour: u32,
    pub(super) rate_limit_galleries_per_hour: u32,
    pub(super) max_storage_bytes: u64,
    pub(super) min_free_disk_bytes: Option<u64>,
    pub(super) purge_after_days: u32,
    pub(super) decode_memory_bytes: u64,
    pub(super) upload_buffer_bytes: u64,
    pub(super) storage: Storage,
}

impl Config {
    /// Read and validate the configuration from the usual sources.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::from_figment(&RawConfig::figment(file)?)
    }

    /// Extract from any figment (tests build their own) and validate.
    pub fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        RawConfig::from_figment(figment)?.validated()
    }

    /// IP address to listen on (`address`).
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// TCP port to listen on (`port`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the database and the image files live (`data_dir`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Base of every link and QR code, without a trailing slash (`public_url`, or
    /// `http://` + address and port when that is empty).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Largest accepted file, in bytes (`max_file_bytes`).
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes
    }

    /// Largest accepted image, in pixels (`max_pixels`).
    pub fn max_pixels(&self) -> u64 {
        self.max_pixels
    }

    /// Longest accepted side, in pixels (`max_dimension`).
    pub fn max_dimension(&self) -> u32 {
        self.max_dimension
    }

    /// Most images in one gallery (`max_images`).
    pub fn max_images(&self) -> usize {
        self.max_images
    }

    /// Default and maximum expiry (`default_expiry`, `max_expiry`; `None`: never). The
    /// default is never longer than the maximum.
    pub fn expiry_policy(&self) -> (Option<Duration>, Option<Duration>) {
        (self.default_expiry, self.max_expiry)
    }

    /// How much is logged (`log_level`).
    pub fn log_level(&self) -> LogLevel {
        self.log_level
    }

    /// Whether opens share durable commits (`group_commit`).
    pub fn group_commit(&self) -> bool {
        self.group_commit
    }

    /// Whether the public port is the front door's (`front_door`).
    pub fn front_door(&self) -> bool {
        self.front_door
    }

    /// Time a connection has to send its first request head (`header_timeout_secs`).
    pub fn header_timeout(&self) -> std::time::Duration {
        self.header_timeout
    }

    /// Time a connection may stay silent both ways (`idle_timeout_secs`).
    pub fn idle_timeout(&self) -> std::time::Duration {
        self.idle_timeout
    }

    /// Incomplete or idle connections one client network may hold
    /// (`max_waiting_connections`).
    pub fn max_waiting_connections(&self) -> usize {
        self.max_waiting_connections
    }

    /// What the access log keeps of an address (`store_ip`).
    pub fn store_ip(&self) -> StoreIp {
        self.store_ip
    }

    /// Networks whose `X-Forwarded-For` is believed (`trusted_proxies`, host bits cleared).
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted_proxies
    }

    /// Days access-log records are kept (`log_retention_days`).
    pub fn log_retention_days(&self) -> u32 {
        self.log_retention_days
    }

    /// Whether opens are logged and statistics kept (`tracking`).
    pub fn tracking(&self) -> bool {
        self.tracking
    }

    /// The token that opens `/admin`; unset: no admin page (`admin_token`).
    pub fn admin_token(&self) -> &Secret {
        &self.admin_token
    }

    /// The password uploads need; unset: a public instance (`upload_password`).
    pub fn upload_password(&self) -> &Secret {
        &self.upload_password
    }

    /// Files one client may upload per hour; 0: unlimited (`rate_limit_uploads_per_hour`).
    pub fn rate_limit_uploads_per_hour(&self) -> u32 {
        self.rate_limit_uploads_per_hour
    }

    /// Galleries one client may create per hour; 0: unlimited
    /// (`rate_limit_galleries_per_hour`).
    pub fn rate_limit_galleries_per_hour(&self) -> u32 {
        self.rate_limit_galleries_per_hour
    }

    /// Total size of the image files allowed; 0: unlimited (`max_storage_bytes`).
    pub fn max_storage_bytes(&self) -> u64 {
        self.max_storage_bytes
    }

    /// Free space to keep; `None`: the computed default, 0: off (`min_free_disk_bytes`).
    pub fn min_free_disk_bytes(&self) -> Option<u64> {
        self.min_free_disk_bytes
    }

    /// Days a closed gallery is kept; 0: forever (`purge_after_days`).
    pub fn purge_after_days(&self) -> u32 {
        self.purge_after_days
    }

    /// Memory the decodes running at once may need (`decode_memory_bytes`).
    pub fn decode_memory_bytes(&self) -> u64 {
        self.decode_memory_bytes
    }

    /// Memory for upload bodies being received, over all clients (`upload_buffer_bytes`).
    pub fn upload_buffer_bytes(&self) -> u64 {
        self.upload_buffer_bytes
    }

    /// Where the files live, how viewers get them, and the bucket (`storage`, `s3_*`,
    /// `delivery`, `delivery_protected`, `presign_ttl`).
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Most bytes one multipart request may carry: every file at its limit, plus room for
    /// part headers and text fields.
    pub fn max_request_bytes(&self) -> u64 {
        self.max_file_bytes
            .saturating_mul(self.max_images as u64)
            .saturating_add(1024 * 1024)
    }
}
