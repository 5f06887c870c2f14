//! The small value types of the configuration: secrets, the address policy of the access
//! log and the log level.

use serde::{Deserialize, Serialize};

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

/// How much the server logs (`log_level`), ours and Rocket's together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Errors and warnings only.
    Critical,
    /// Errors, warnings and one line per request (our request log; Rocket's own stays at
    /// errors and warnings, as it would print every URI).
    Normal,
    /// Everything Rocket says, and our request log.
    Debug,
}

impl LogLevel {
    /// The level a `log_level` value names (exactly as written: `critical`, `normal`,
    /// `debug` or `off`).
    pub(super) fn from_key(value: &str) -> Option<LogLevel> {
        match value {
            "off" => Some(LogLevel::Off),
            "critical" => Some(LogLevel::Critical),
            "normal" => Some(LogLevel::Normal),
            "debug" => Some(LogLevel::Debug),
            _ => None,
        }
    }
}
