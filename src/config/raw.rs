//! The configuration as written: every key with its default, read from the layered sources
//! and not yet checked. Only [`RawConfig::validated`] turns it into a [`Config`].

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::error::ConfigError;
use crate::config::values::{Secret, StoreIp};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "maiimg.toml";
/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "MAIIMG_";

/// Keys taken verbatim from the environment: figment would read
/// `MAIIMG_UPLOAD_PASSWORD=0123` as the number 123, or `"pw"` without its quotes.
const VERBATIM_KEYS: [&str; 4] = [
    "admin_token",
    "upload_password",
    "s3_access_key",
    "s3_secret_key",
];

/// Every key an instance can be given, as given. `config.example.toml` documents each
/// one; a key not listed here is refused (a typo must not be silently ignored).
///
/// Values that need parsing (durations, the log level, proxy networks, the public URL)
/// stay strings here, so that validation, not serde, words their errors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// IP address to listen on.
    pub address: IpAddr,
    /// TCP port to listen on.
    pub port: u16,
    /// Where the database and the image files live.
    pub data_dir: PathBuf,
    /// Base of every link and QR code, e.g. `https://photos.example.org`. Derived from
    /// address and port when empty. The request's Host header is never used.
    pub public_url: String,
    /// Largest accepted file, in bytes.
    pub max_file_bytes: u64,
    /// Largest accepted image, in pixels (width × height; for an animation, the canvas once per frame).
    pub max_pixels: u64,
    /// Longest accepted side, in pixels.
    pub max_dimension: u32,
    /// Most images in one gallery.
    pub max_images: usize,
    /// Expiry of a gallery created without one: a duration such as `30d` or `12h`, or `never`.
    pub default_expiry: String,
    /// Longest expiry an uploader may choose (`never`: no limit, galleries may live forever).
    pub max_expiry: String,
    /// Log level: `critical`, `normal`, `debug` or `off`.
    pub log_level: String,
    /// Many opens share one durable commit (default). `false` commits each open alone:
    /// only useful to measure the difference (see `bench/`).
    pub group_commit: bool,
    /// Listen through the front door (`front/`), which enforces the three limits below.
    /// `false` lets Rocket take the public port itself: only behind a reverse proxy that
    /// times out slow heads and idle connections itself (nginx, Caddy, Traefik, HAProxy),
    /// where it saves the relay's cost.
    pub front_door: bool,
    /// Seconds a connection has to send its first request head before it is closed
    /// (1 to 300; like nginx's `client_header_timeout`).
    pub header_timeout_secs: u64,
    /// Seconds a connection may stay silent both ways (an idle keep-alive, a stalled
    /// body) before it is closed (30 to 3600: above the live statistics' 25 s long poll).
    pub idle_timeout_secs: u64,
    /// Connections one client network (IPv4 address, IPv6 /64) may hold that are still
    /// sending their first head or idle (active ones are not capped); at least 8.
    pub max_waiting_connections: usize,
    /// Whether the access log keeps the visitor's address, truncated to its /24 (IPv4) or
    /// /48 (IPv6) network, or no address at all.
    pub store_ip: StoreIp,
    /// Reverse proxies whose `X-Forwarded-For` header is believed: IP addresses or CIDR
    /// networks, as given (a TOML array, or a comma-separated string in
    /// `MAIIMG_TRUSTED_PROXIES`). Empty (default): the socket's address is the client's.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub trusted_proxies: Vec<String>,
    /// Access-log records older than this many days are pruned (1 to 36500).
    pub log_retention_days: u32,
    /// Record each gallery open in the access log and keep statistics (default). `false`:
    /// galleries keep only their open counts.
    pub tracking: bool,
    /// The token that opens `/admin` (instance administration). Empty (default): there is
    /// no admin page and `/admin` answers 404.
    pub admin_token: Secret,
    /// Makes the instance private: uploads and gallery creation need this password (the
    /// `X-Upload-Password` header; the upload page asks for it). Empty (default): anyone may
    /// upload. Viewing is never affected.
    pub upload_password: Secret,
    /// Files one client may upload per hour (`POST /api/uploads`, and each file of
    /// `POST /api/galleries`); 0: unlimited.
    pub rate_limit_uploads_per_hour: u32,
    /// Galleries one client may create per hour; 0: unlimited.
    pub rate_limit_galleries_per_hour: u32,
    /// Total size of the image files above which uploads are refused (507); 0: unlimited.
    pub max_storage_bytes: u64,
    /// Free space the data directory's filesystem keeps: below it uploads are refused (507)
    /// and the access log stops writing, while opens are still counted and galleries
    /// served. Absent: 1 GiB or 5 % of the filesystem, whichever is smaller; 0: off.
    #[serde(default)]
    pub min_free_disk_bytes: Option<u64>,
    /// Galleries expired or used up (view limit reached) for longer than this many days are
    /// deleted with the images no other gallery uses; 0: never.
    pub purge_after_days: u32,
    /// Memory the decodes running at once may need, as estimated from each image's header
    /// before decoding (one larger than this runs alone). At least 16 MiB.
    pub decode_memory_bytes: u64,
    /// Memory for upload bodies being received, over all clients: each upload holds at
    /// most 2 MiB of it (the rest of its file waits in `tmp/`); when it is taken, uploads
    /// are answered 503 with `Retry-After`. At least 1 MiB.
    pub upload_buffer_bytes: u64,
    /// Where the image files live: `fs` (the data directory's `blobs/`) or `s3` (the
    /// bucket of the `s3_*` keys). The database stays in the data directory either way.
    pub storage: String,
    /// Base URL of the S3 API; empty: AWS's endpoint for `s3_region`.
    pub s3_endpoint: String,
    /// Region requests are signed for (`auto` for Cloudflare R2).
    pub s3_region: String,
    /// Bucket name.
    pub s3_bucket: String,
    /// Key prefix inside the bucket (e.g. `maiimg`); empty: the bucket's root.
    pub s3_prefix: String,
    /// Access key id; with `s3_secret_key` empty too, the `AWS_*` environment variables.
    pub s3_access_key: String,
    /// Secret access key, read verbatim and never logged.
    pub s3_secret_key: Secret,
    /// Path-style URLs (`endpoint/bucket/key`): MinIO, Garage, SeaweedFS, Ceph.
    pub s3_path_style: bool,
    /// How admitted viewers get image bytes: `proxy` (through this server) or `redirect`
    /// (a 302 to a presigned URL of the bucket; `storage = "s3"` only).
    pub delivery: String,
    /// The same for galleries with a password or a view limit (`proxy` unless opted in: a
    /// presigned URL can be passed on until it expires).
    pub delivery_protected: String,
    /// Seconds a presigned URL lives at most (10 to 900).
    pub presign_ttl: u64,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            address: IpAddr::from([127, 0, 0, 1]),
            port: 8000,
            data_dir: PathBuf::from("./data"),
            public_url: String::new(),
            max_file_bytes: 50_000_000,
            max_pixels: 50_000_000,
            max_dimension: 20_000,
            max_images: 25,
            default_expiry: "never".into(),
            max_expiry: "never".into(),
            log_level: "normal".into(),
            group_commit: true,
            front_door: true,
            header_timeout_secs: 30,
            idle_timeout_secs: 60,
            max_waiting_connections: 64,
            store_ip: StoreIp::Truncated,
            trusted_proxies: Vec::new(),
            log_retention_days: 90,
            tracking: true,
            admin_token: Secret::default(),
            upload_password: Secret::default(),
            rate_limit_uploads_per_hour: 600,
            rate_limit_galleries_per_hour: 60,
            max_storage_bytes: 0,
            min_free_disk_bytes: None,
            purge_after_days: 0,
            decode_memory_bytes: 256 * 1024 * 1024,
            upload_buffer_bytes: 32 * 1024 * 1024,
            storage: "fs".into(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_bucket: String::new(),
            s3_prefix: String::new(),
            s3_access_key: String::new(),
            s3_secret_key: Secret::default(),
            s3_path_style: false,
            delivery: "proxy".into(),
            delivery_protected: "proxy".into(),
            presign_ttl: 60,
        }
    }
}

impl RawConfig {
    /// The layered sources: defaults → TOML file → environment.
    pub fn figment(file: Option<&Path>) -> Result<Figment, ConfigError> {
        let file = match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => path.to_path_buf(),
            None => PathBuf::from(DEFAULT_FILE),
        };
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed(ENV_PREFIX).ignore(&VERBATIM_KEYS));
        for key in VERBATIM_KEYS {
            if let Ok(value) = std::env::var(format!("{ENV_PREFIX}{}", key.to_uppercase())) {
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        Ok(figment)
    }

    /// The keys of any figment (tests build their own), unchecked.
    pub fn from_figment(figment: &Figment) -> Result<RawConfig, ConfigError> {
        Ok(figment.extract().map_err(Box::new)?)
    }
}

/// A list of strings from a sequence (TOML array) or from one comma-separated string
/// (an environment variable, which figment hands over as a string). Empty pieces of a
/// string are ignored, so "" is the empty list.
fn list_or_comma_separated<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct ListVisitor;

    impl<'de> serde::de::Visitor<'de> for ListVisitor {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of strings or a comma-separated string")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.split(',')
                .map(str::trim)
                .filter(|piece| !piece.is_empty())
                .map(str::to_owned)
                .collect())
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(item) = seq.next_element::<String>()? {
                list.push(item);
            }
            Ok(list)
        }
    }

    d.deserialize_any(ListVisitor)
}
