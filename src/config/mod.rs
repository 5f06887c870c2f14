//! Instance configuration: embedded defaults, then a TOML file, then `MAIIMG_*` variables.
//!
//! Raw values are extracted with figment and then validated into [`Config`]; a bad value
//! stops start-up with a message that names the key.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};
use time::Duration;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "maiimg.toml";
/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "MAIIMG_";

/// Everything an instance can be told. `config.example.toml` documents each key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
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
    /// Rocket's log level: `critical`, `normal`, `debug` or `off`.
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
    /// [`Config::trusted_proxies`] parsed (a bare address is its /32 or /128 network).
    /// Filled by [`Config::validated`]; empty until then, so an unvalidated configuration
    /// trusts no proxy. Not a key of its own.
    #[serde(skip)]
    pub trusted_proxy_nets: Vec<IpNet>,
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
}

/// A configured secret (`admin_token`, `upload_password`): compared, never printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for comparing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether one is configured (empty means "off").
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Configs end up in debug output; the secret must not.
        f.write_str(if self.is_set() {
            "Secret(set)"
        } else {
            "Secret(empty)"
        })
    }
}

/// Keys taken verbatim from the environment: figment would read
/// `MAIIMG_UPLOAD_PASSWORD=0123` as the number 123, or `"pw"` without its quotes.
const VERBATIM_KEYS: [&str; 2] = ["admin_token", "upload_password"];

/// What the access log keeps of a visitor's address (`store_ip`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreIp {
    /// No address at all.
    Off,
    /// The address's /24 (IPv4) or /48 (IPv6) network, never the full address.
    #[default]
    Truncated,
}

impl Default for Config {
    fn default() -> Self {
        Config {
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
            trusted_proxy_nets: Vec::new(),
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
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named config file does not exist.
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    /// figment could not read or convert a value (its message names the key and source).
    #[error("{0}")]
    Extract(#[from] Box<figment::Error>),
    /// A value has the right type but makes no sense.
    #[error("invalid value for `{key}`: {message}")]
    Invalid {
        /// Config key (the environment variable is `MAIIMG_` + key in upper case).
        key: &'static str,
        /// What is wrong and what is expected.
        message: String,
    },
}

impl Config {
    /// The layered sources: defaults → TOML file → environment.
    pub fn figment(file: Option<&Path>) -> Result<Figment, ConfigError> {
        let file = match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => path.to_path_buf(),
            None => PathBuf::from(DEFAULT_FILE),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed(ENV_PREFIX).ignore(&VERBATIM_KEYS));
        for key in VERBATIM_KEYS {
            if let Ok(value) = std::env::var(format!("{ENV_PREFIX}{}", key.to_uppercase())) {
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        Ok(figment)
    }

    /// Read and validate the configuration from the usual sources.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::from_figment(&Config::figment(file)?)
    }

    /// Extract from any figment (tests build their own) and validate.
    pub fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validated()
    }

    /// Check every value, normalise `public_url` and parse `trusted_proxies` into
    /// [`Config::trusted_proxy_nets`].
    pub fn validated(mut self) -> Result<Config, ConfigError> {
        fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
            ConfigError::Invalid {
                key,
                message: message.into(),
            }
        }
        if self.public_url.trim().is_empty() {
            self.public_url = self.derived_public_url();
        } else {
            self.public_url = normalise_public_url(&self.public_url)
                .map_err(|message| invalid("public_url", message))?;
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }
        if self.max_file_bytes < 1024 {
            return Err(invalid("max_file_bytes", "must be at least 1024"));
        }
        if self.max_pixels < 1024 {
            return Err(invalid("max_pixels", "must be at least 1024"));
        }
        if !(16..=65_535).contains(&self.max_dimension) {
            return Err(invalid("max_dimension", "must be between 16 and 65535"));
        }
        if !(1..=1000).contains(&self.max_images) {
            return Err(invalid("max_images", "must be between 1 and 1000"));
        }
        let default_expiry =
            parse_expiry(&self.default_expiry).map_err(|m| invalid("default_expiry", m))?;
        let max_expiry = parse_expiry(&self.max_expiry).map_err(|m| invalid("max_expiry", m))?;
        if let Some(max) = max_expiry
            && default_expiry.is_none_or(|d| d > max)
        {
            return Err(invalid(
                "default_expiry",
                format!("must not be longer than max_expiry ({})", self.max_expiry),
            ));
        }
        if !(1..=300).contains(&self.header_timeout_secs) {
            return Err(invalid("header_timeout_secs", "must be between 1 and 300"));
        }
        if !(30..=3600).contains(&self.idle_timeout_secs) {
            return Err(invalid("idle_timeout_secs", "must be between 30 and 3600"));
        }
        if self.max_waiting_connections < 8 {
            return Err(invalid("max_waiting_connections", "must be at least 8"));
        }
        if !["critical", "normal", "debug", "off"].contains(&self.log_level.as_str()) {
            return Err(invalid(
                "log_level",
                "must be one of critical, normal, debug, off",
            ));
        }
        self.trusted_proxy_nets = self
            .trusted_proxies
            .iter()
            .map(|entry| parse_proxy(entry))
            .collect::<Result<_, _>>()
            .map_err(|m| invalid("trusted_proxies", m))?;
        if !(1..=36_500).contains(&self.log_retention_days) {
            return Err(invalid("log_retention_days", "must be between 1 and 36500"));
        }
        self.validate_instance_controls()?;
        Ok(self)
    }

    /// Default and maximum expiry (`None`: never). Valid after [`Config::validated`].
    pub fn expiry_policy(&self) -> (Option<Duration>, Option<Duration>) {
        (
            parse_expiry(&self.default_expiry).unwrap_or(None),
            parse_expiry(&self.max_expiry).unwrap_or(None),
        )
    }

    fn derived_public_url(&self) -> String {
        let host = match self.address {
            addr if addr.is_unspecified() => "localhost".to_owned(),
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        format!("http://{host}:{}", self.port)
    }

    /// Most bytes one multipart request may carry: every file at its limit, plus room for
    /// part headers and text fields.
    pub fn max_request_bytes(&self) -> u64 {
        self.max_file_bytes
            .saturating_mul(self.max_images as u64)
            .saturating_add(1024 * 1024)
    }
}

/// "never" → `None`; "30d", "12h", "90 minutes" → that duration.
pub fn parse_expiry(raw: &str) -> Result<Option<Duration>, String> {
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

impl Config {
    /// The admin, abuse and capacity keys (see `config.example.toml`).
    fn validate_instance_controls(&self) -> Result<(), ConfigError> {
        fn invalid(key: &'static str, message: &str) -> ConfigError {
            ConfigError::Invalid {
                key,
                message: message.to_owned(),
            }
        }
        let token = self.admin_token.expose();
        if self.admin_token.is_set() && (token.chars().count() < 16 || token.trim() != token) {
            return Err(invalid(
                "admin_token",
                "must be empty (no admin page) or at least 16 characters without surrounding \
                 spaces, e.g. the output of `openssl rand -hex 32`",
            ));
        }
        let password = self.upload_password.expose();
        // It travels in an HTTP header, where only visible ASCII is reliable.
        if self.upload_password.is_set()
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
                self.rate_limit_uploads_per_hour,
            ),
            (
                "rate_limit_galleries_per_hour",
                self.rate_limit_galleries_per_hour,
            ),
        ] {
            if value > 1_000_000 {
                return Err(invalid(key, "must be between 0 (unlimited) and 1000000"));
            }
        }
        if self.max_storage_bytes != 0 && self.max_storage_bytes < 1024 * 1024 {
            return Err(invalid(
                "max_storage_bytes",
                "must be 0 (unlimited) or at least 1048576 (1 MiB)",
            ));
        }
        if let Some(bytes) = self.min_free_disk_bytes
            && bytes != 0
            && bytes < 1024 * 1024
        {
            return Err(invalid(
                "min_free_disk_bytes",
                "must be 0 (off) or at least 1048576 (1 MiB); leave it out for the default \
                 (1 GiB or 5 % of the filesystem, whichever is smaller)",
            ));
        }
        if self.purge_after_days > 36_500 {
            return Err(invalid(
                "purge_after_days",
                "must be between 0 (never) and 36500",
            ));
        }
        if self.decode_memory_bytes < 16 * 1024 * 1024 {
            return Err(invalid(
                "decode_memory_bytes",
                "must be at least 16777216 (16 MiB)",
            ));
        }
        if self.upload_buffer_bytes < 1024 * 1024 {
            return Err(invalid(
                "upload_buffer_bytes",
                "must be at least 1048576 (1 MiB)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error
mod tests;
