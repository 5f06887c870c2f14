//! Instance configuration: embedded defaults, then a TOML file, then `MAIIMG_*` variables.
//!
//! The sources are read into a [`RawConfig`], the keys as written, and validated once into
//! a [`Config`], the values parsed into their types; a bad value stops start-up with a
//! message that names the key. A `Config` is made nowhere else, so whoever holds one holds
//! checked values and never parses a string again.

mod checked;
mod error;
mod raw;
mod storage;
mod validate;
mod values;

pub use checked::Config;
pub use error::ConfigError;
pub use raw::{DEFAULT_FILE, ENV_PREFIX, RawConfig};
pub use storage::{Delivery, S3Config, Storage, StorageKind};
pub use values::{LogLevel, Secret, StoreIp};

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error
mod tests;
